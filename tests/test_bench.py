"""scripts/bench.py measures a real kernel: its wall time and its peak memory.

Two tiny notebooks run in real kernels; the course's notebooks never do here.
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import bench  # scripts/ is on pytest's pythonpath
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

ALLOCATED = 200_000_000  # bytes the notebook holds while it sleeps
SLEEP = 1.0


def _write_notebook(path: Path, source: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(source)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def heavy(tmp_path_factory) -> bench.Measurement:
    """A student run of a notebook that holds 200 MB for one second.

    The shell that starts it asks for a website build; the notebook fails unless
    its kernel sees neither switch, as in a student's kernel.
    """
    path = tmp_path_factory.mktemp("bench") / "heavy.ipynb"
    # np.ones writes every page, so the 200 MB are resident, not just reserved.
    source = (
        "import os, time\nimport numpy as np\n"
        "assert 'NNLIB_WEBSITE' not in os.environ, os.environ['NNLIB_WEBSITE']\n"
        "assert 'NNLIB_PROGRESS' not in os.environ, os.environ['NNLIB_PROGRESS']\n"
        f"A = np.ones({ALLOCATED // 8})\ntime.sleep({SLEEP})\nprint(A.sum())"
    )
    with mock.patch.dict(os.environ, {"NNLIB_WEBSITE": "1", "NNLIB_PROGRESS": "0"}):
        return bench.measure(_write_notebook(path, source), timeout=60, run=bench.STUDENT)


def test_student_run_measures_wall_time_of_a_student_kernel(heavy):
    assert heavy.error is None  # the kernel saw no website switch
    assert SLEEP <= heavy.wall_seconds < 30


def test_measures_peak_memory_of_the_kernel(heavy):
    # Both measurements see the array; the bound catches a unit mistake (KiB vs bytes).
    assert heavy.rusage_bytes >= ALLOCATED
    assert heavy.sampled_bytes >= ALLOCATED
    assert ALLOCATED <= heavy.peak_rss_bytes < ALLOCATED + 800_000_000


def test_within_budget_passes(heavy):
    result = bench.Result(heavy, bench.Budget(seconds=60.0))
    assert result.status == "PASS"
    assert bench.exit_code([result]) == 0


def test_over_time_budget_is_over(heavy):
    result = bench.Result(heavy, bench.Budget(seconds=0.5))
    assert result.status == "OVER"
    assert bench.exit_code([result]) == 1
    assert "| OVER |" in bench.report([result], {"CPU": "test"})


def test_over_memory_budget_is_over(heavy):
    result = bench.Result(heavy, bench.Budget(seconds=60.0, memory_bytes=ALLOCATED / 2))
    assert result.status == "OVER"
    assert any("MB" in p for p in result.problems())
    assert bench.exit_code([result]) == 1


def test_website_run_sets_the_switches_of_make_site():
    env = bench.kernel_environment(bench.WEBSITE, {"HOME": "/h", "NNLIB_PROGRESS": "1"})
    assert env == {"HOME": "/h", "NNLIB_WEBSITE": "1", "NNLIB_PROGRESS": "0"}
    with pytest.raises(ValueError, match="student"):
        bench.kernel_environment("teacher", {})


def test_notebook_error_is_reported(tmp_path):
    path = _write_notebook(tmp_path / "broken_exercises.ipynb", "raise ValueError('boom')")
    m = bench.measure(path, timeout=60)
    assert m.error == "ValueError: boom"
    assert bench.Result(m, bench.budget_for(path)).status == "FAIL"


def _fake_measure(times: dict[str, float], errors: dict[str, str] | None = None):
    """A stand-in for bench.measure: each run takes times[run] seconds, 100 MB."""
    calls = []

    def measure(path, *, timeout, cpus, run):
        calls.append((Path(path).name, run))
        error = (errors or {}).get(run)
        return bench.Measurement(str(path), times[run], 100_000_000, 0, error)

    return measure, calls


def _main(tmp_path, monkeypatch, fake, *extra):
    path = _write_notebook(tmp_path / "01_x_exercises.ipynb", "pass")
    monkeypatch.setattr(bench, "measure", fake)
    monkeypatch.setattr(bench, "machine", lambda cpus: {"CPU": "test"})
    out = tmp_path / "results.md"
    code = bench.main([str(path), "--output", str(out), *extra])
    return code, out.read_text()


def test_main_judges_the_student_run_and_reports_the_website_run(tmp_path, monkeypatch):
    # 12 s as a student is within the 20 s budget; the website's 31 s is not judged.
    fake, calls = _fake_measure({bench.STUDENT: 12.0, bench.WEBSITE: 31.0})
    code, table = _main(tmp_path, monkeypatch, fake)
    assert calls == [("01_x_exercises.ipynb", bench.STUDENT), ("01_x_exercises.ipynb", "website")]
    assert code == 0
    assert "| 01_x_exercises.ipynb | 12.0 | 20 | 100 | < 1500 | PASS | 31.0 | +19.0 |" in table


def test_main_fails_on_a_slow_student_run(tmp_path, monkeypatch):
    fake, _ = _fake_measure({bench.STUDENT: 21.0, bench.WEBSITE: 22.0})
    code, table = _main(tmp_path, monkeypatch, fake)
    assert code == 1 and "| OVER |" in table and "took 21.0 s (budget 20 s)" in table


def test_main_fails_when_the_website_run_fails(tmp_path, monkeypatch):
    fake, _ = _fake_measure({bench.STUDENT: 1.0, bench.WEBSITE: 1.0}, {"website": "E: boom"})
    code, table = _main(tmp_path, monkeypatch, fake)
    assert code == 1 and "| FAIL | failed | – |" in table
    assert "failed in the website run: E: boom" in table


def test_main_can_skip_the_website_runs(tmp_path, monkeypatch):
    fake, calls = _fake_measure({bench.STUDENT: 1.0})
    code, table = _main(tmp_path, monkeypatch, fake, "--no-website")
    assert code == 0 and [run for _, run in calls] == [bench.STUDENT]
    assert "| PASS | – | – |" in table


def test_budgets_follow_the_syllabus():
    assert bench.budget_for(Path("01_perceptron.ipynb")) == bench.Budget(60.0, 1.5e9)
    assert bench.budget_for(Path("01_perceptron_exercises.ipynb")).seconds == 20.0
