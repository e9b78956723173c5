"""scripts/bench.py measures a real kernel: its wall time and its peak memory."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

ALLOCATED = 200_000_000  # bytes the notebook holds while it sleeps
SLEEP = 1.0


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


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
    """One measurement of a notebook that holds 200 MB for one second."""
    path = tmp_path_factory.mktemp("bench") / "heavy.ipynb"
    # np.ones writes every page, so the 200 MB are resident, not just reserved.
    source = (
        "import time\nimport numpy as np\n"
        f"A = np.ones({ALLOCATED // 8})\ntime.sleep({SLEEP})\nprint(A.sum())"
    )
    return bench.measure(_write_notebook(path, source), timeout=60)


def test_measures_wall_time_of_the_kernel(heavy):
    assert heavy.error is None
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


def test_failing_notebook_makes_main_exit_1(tmp_path, capsys):
    path = _write_notebook(tmp_path / "broken_exercises.ipynb", "raise ValueError('boom')")
    out = tmp_path / "results.md"
    code = bench.main([str(path), "--output", str(out), "--timeout", "60"])
    assert code == 1
    table = out.read_text()
    assert "| broken_exercises.ipynb |" in table and "| FAIL |" in table
    assert "ValueError: boom" in capsys.readouterr().out


def test_budgets_follow_the_syllabus():
    assert bench.budget_for(Path("01_perceptron.ipynb")) == bench.Budget(60.0, 1.5e9)
    assert bench.budget_for(Path("01_perceptron_exercises.ipynb")).seconds == 20.0
