"""Grading a hostile class in the sandbox, and grading in parallel (issue 9).

One class, graded once with ``--jobs 2`` and shared by every test: the students of
``test_grading.py`` (each must keep its exact scores) and students whose code attacks
the grader while it is graded. Each attack must fail, cost nothing to the others, and
the cheater must score 0. The same class graded with ``--jobs 1`` must give every cell
the same score.

The attacks record what they saw in their cell's output (``PROBE <json>``); the tests
read it back from the autograded notebooks, on the trusted side.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from test_grading import (  # tests/ is on sys.path under pytest's default import mode
    AUTO_MAX,
    NOTEBOOK,
    STUDENTS,
    TEST_CELLS,
    WRITTEN,
    _grade_id,
    _submission,
)

from grading.course import cell_scores
from grading.isolation import read_only_paths, sandbox_problem

REPO = Path(__file__).resolve().parents[1]
TAG = uuid.uuid4().hex[:8]
# Seconds per cell: longer than test_grading.py's 4 s, which two graders running side
# by side on a loaded 2-core machine can exceed on a correct cell.
CELL_TIMEOUT = 10  # names of the files the attackers try to leave behind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"),
]

# Each attack is a template: {course}, {repo}, {home}, {port}, {tag} are filled in.
CHEAT = """
import glob
import json

# The instructor's notebook, by relative and absolute paths: execute its solutions.
patterns = [
    "../../../source/ch01/*.ipynb", "../../../release/ch01/*.ipynb",
    "notebooks/01_*_exercises.ipynb", "../../../../notebooks/01_*_exercises.ipynb",
    "{course}/source/ch01/*.ipynb", "{course}/release/ch01/*.ipynb",
    "{repo}/notebooks/01_*_exercises.ipynb",
]
found = sorted({{p for pattern in patterns for p in glob.glob(pattern)}})


def steal():
    for path in found:
        for cell in json.load(open(path))["cells"]:
            answer = cell["metadata"].get("nbgrader", {{}}).get("solution")
            if cell["cell_type"] == "code" and answer:
                try:
                    exec("".join(cell["source"]), globals())
                except Exception:
                    pass


# A classmate's answers would do as well.
classmates = glob.glob("../../*/ch01/*.ipynb") + glob.glob("{course}/submitted/*/ch01/*.ipynb")
print("PROBE", json.dumps({{"found": found, "classmates": sorted(classmates)}}))
"""
SNOOP = """
import json
import os


def probe(f, *args):
    try:
        found = f(*args)
    except Exception as exc:
        return type(exc).__name__
    return sorted(found) if isinstance(found, list) else "read"


seen = {{
    "submitted": probe(os.listdir, "{course}/submitted"),
    "autograded": probe(os.listdir, "{course}/autograded"),
    "up1": probe(os.listdir, ".."),
    "up2": probe(os.listdir, "../.."),
    "gradebook": probe(lambda: open("{course}/gradebook.db", "rb").read(16)),
    "repo_gradebook": probe(lambda: open("{repo}/grading/gradebook.db", "rb").read(16)),
    "repo": probe(os.listdir, "{repo}"),
    "home": probe(os.listdir, "{home}"),
    "secret": probe(lambda: open("{home}/secret.txt").read()),
    "environ": sorted(k for k in os.environ if "SECRET" in k),
}}
print("PROBE", json.dumps(seen))
"""
WRITE = """
import json
import os

targets = [
    "{course}/source/ch01/pwned-{tag}.txt", "{course}/pwned-{tag}.txt",
    "{repo}/pwned-{tag}.txt", "{repo}/grading/pwned-{tag}.txt", "{repo}/src/pwned-{tag}.txt",
    "{home}/pwned-{tag}.txt", "/pwned-{tag}.txt", "/tmp/pwned-{tag}.txt", "pwned-{tag}.txt",
]
wrote = {{}}
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("PWNED")
        wrote[path] = "written"
    except OSError as exc:
        wrote[path] = type(exc).__name__
try:
    with open("{course}/gradebook.db", "ab") as f:
        f.write(b"PWNED")
    wrote["gradebook"] = "written"
except OSError as exc:
    wrote["gradebook"] = type(exc).__name__
try:  # the scratch space is limited too
    with open("fill-{tag}", "wb") as f:
        for _ in range(40):
            f.write(bytes(2**24))  # 16 MB at a time, 640 MB in all
    wrote["fill"] = "written"
except OSError as exc:
    wrote["fill"] = exc.strerror
print("PROBE", json.dumps(wrote))
"""
NETWORK = """
import json
import socket

tried = {{}}
for host, port in [("127.0.0.1", {port}), ("localhost", {port}), ("1.1.1.1", 53)]:
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"hello from a student")
        tried[f"{{host}}:{{port}}"] = "connected"
    except OSError as exc:
        tried[f"{{host}}:{{port}}"] = type(exc).__name__
print("PROBE", json.dumps(tried))
"""
MEMORY = """
_count = count_perceptron_functions


def count_perceptron_functions(X, values):
    big = np.ones(2**30)  # 8 GB
    return _count(X, values)
"""
FLOOD = """
_receptive_field = receptive_field


def receptive_field(k, depth):
    if depth == 2:  # once, in the first test cell's visible checks
        print("x" * 200_000_000)  # 200 MB
    return _receptive_field(k, depth)
"""

# student -> (cell to put the attack in: after the model answer, or "new" for a cell of
# its own in the student version with no answers), attack, test cells it must fail).
HOSTILE = {
    "cheat": ("new", CHEAT, set(TEST_CELLS)),
    "snoop": ("ex1_predict", SNOOP, set()),
    "write": ("ex2_epoch", WRITE, set()),
    "network": ("ex3_parity_weights", NETWORK, set()),
    "memory": ("ex4_search", MEMORY, {"ex4_test_search"}),
    "flood": ("ex5_patches", FLOOD, {"ex5_test_field"}),
}
EXPECTED_FAILING = {s: failing for s, (_, failing) in STUDENTS.items()} | {
    s: failing for s, (_, _, failing) in HOSTILE.items()
}


class Listener:
    """A TCP port on the grading machine's loopback that records every connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.arrived: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except TimeoutError:
                continue
            self.arrived.append(f"{addr}: {conn.recv(100)!r}")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _write_class(course: Path, fill: dict) -> None:
    release_nb = nbformat.read(course / "release" / "ch01" / NOTEBOOK, as_version=4)
    source_nb = nbformat.read(course / "source" / "ch01" / NOTEBOOK, as_version=4)
    answers = {_grade_id(c): c.source for c in source_nb.cells if _grade_id(c)}
    classes = {s: _submission(release_nb, source_nb, o) for s, (o, _) in STUDENTS.items()}
    for student, (where, attack, _) in HOSTILE.items():
        code = attack.format(**fill).strip()
        if where == "new":  # the student version; every answer cell calls steal()
            nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
            for cell in nb.cells:
                if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                    cell.source = "steal()"
            nb.cells.insert(3, nbformat.v4.new_code_cell(code))
        else:
            nb = _submission(release_nb, source_nb, {where: f"{answers[where]}\n\n{code}"})
        classes[student] = nb
    for student, nb in classes.items():
        folder = course / "submitted" / student / "ch01"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)


def _grade(course: Path, jobs: int, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grading", "grade", "01", "--course-dir", str(course)]
        + ["--cell-timeout", str(CELL_TIMEOUT), "--jobs", str(jobs), "--no-progress"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The class graded with --jobs 2, while a port listens and a secret sits at home."""
    course = tmp_path_factory.mktemp("course")
    home = tmp_path_factory.mktemp("home")
    (home / "secret.txt").write_text("the instructor's secret")
    released = subprocess.run(
        [sys.executable, "-m", "grading", "release", "01", "--course-dir", str(course)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert released.returncode == 0, released.stderr
    listener = Listener()
    fill = {"course": course, "repo": REPO, "home": home, "port": listener.port, "tag": TAG}
    _write_class(course, fill)
    pristine = tmp_path_factory.mktemp("pristine")
    shutil.copytree(course, pristine, dirs_exist_ok=True)  # for the --jobs 1 run
    env = dict(os.environ, HOME=str(home), GRADER_SECRET="do-not-leak")
    try:
        result = _grade(course, 2, env)
    finally:
        listener.close()
    return {"course": course, "result": result, "listener": listener, "home": home,
            "pristine": pristine, "env": env}  # fmt: skip


def _probe(course: Path, student: str) -> dict:
    nb = nbformat.read(course / "autograded" / student / "ch01" / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in out.get("text", "").splitlines():
                if line.startswith("PROBE "):
                    return json.loads(line[len("PROBE ") :])
    raise AssertionError(f"{student}'s notebook printed no PROBE line")


@pytest.mark.parametrize("student", list(EXPECTED_FAILING))
def test_every_student_loses_exactly_the_cells_it_breaks(hostile, student: str) -> None:
    scores = cell_scores("01", student, hostile["course"])
    assert scores.ok, hostile["result"].stdout + hostile["result"].stderr
    failing = EXPECTED_FAILING[student]
    expected = {gid: 0.0 if gid in failing else float(p) for gid, p in TEST_CELLS.items()}
    assert {gid: scores.cells.get(gid) for gid in TEST_CELLS} == expected
    assert scores.auto_max == AUTO_MAX
    # The written answer waits for a person; nbgrader gives an unanswered one 0.
    assert scores.cells[WRITTEN] == (0.0 if student == "cheat" else None)


def test_the_cheater_finds_no_notebook_to_copy(hostile) -> None:
    assert _probe(hostile["course"], "cheat") == {"found": [], "classmates": []}
    assert cell_scores("01", "cheat", hostile["course"]).auto_score == 0


def test_a_submission_sees_no_other_submission_gradebook_repo_or_home(hostile) -> None:
    seen = _probe(hostile["course"], "snoop")
    for key in ("submitted", "autograded", "gradebook", "repo_gradebook", "home", "secret"):
        assert seen[key] == "FileNotFoundError", (key, seen[key])
    assert seen["environ"] == []
    # Of the repository, only the read-only library (src/, for nnlib) is there.
    assert set(seen["repo"]) <= {"src", ".venv"}, seen["repo"]
    # The scratch directory's parent: the private /tmp, with the kernel's connection file
    # and the way to the read-only libraries where they live in /tmp (a checkout there).
    libraries = {Path(p).parts[2] for p in read_only_paths() if p.startswith("/tmp/")}
    for name in seen["up1"]:
        assert name == "student" or name.endswith(".json") or name in libraries, name
    assert "grading" not in seen["up2"] and "home" not in seen["up2"], seen["up2"]


def test_writes_outside_the_scratch_fail_and_leave_nothing(hostile) -> None:
    course, home = hostile["course"], hostile["home"]
    wrote = _probe(course, "write")
    scratch = {f"/tmp/pwned-{TAG}.txt", f"pwned-{TAG}.txt"}
    for path, outcome in wrote.items():
        if path in scratch:
            assert outcome == "written"  # the private scratch space, discarded
        elif path != "fill" and not path.startswith("/tmp/"):  # /tmp/...: scratch inside
            assert outcome != "written", path
    assert wrote["fill"] == "No space left on device"  # 640 MB > the 512 MB scratch
    if not str(REPO).startswith("/tmp/"):
        assert wrote[f"{REPO}/pwned-{TAG}.txt"] == "OSError"  # read-only file system
    places = [Path(p) for p in wrote if p.startswith("/")] + [Path("/tmp") / f"pwned-{TAG}.txt"]
    leftovers = [p for p in places if p.exists()]
    leftovers += list(course.rglob(f"*pwned-{TAG}*")) + list(home.rglob(f"*pwned-{TAG}*"))
    assert leftovers == []
    assert b"PWNED" not in (course / "gradebook.db").read_bytes()


def test_no_connection_reaches_the_grading_machine(hostile) -> None:
    tried = _probe(hostile["course"], "network")
    assert all(outcome != "connected" for outcome in tried.values()), tried
    assert hostile["listener"].arrived == []


def test_memory_and_output_limits_are_explained_in_the_feedback(hostile) -> None:
    feedback = hostile["course"] / "feedback"
    memory = (feedback / "memory" / "ch01" / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "MemoryError" in memory and "memory limit of a submission (2048 MB)" in memory
    flood = (feedback / "flood" / "ch01" / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "OutputLimitExceeded" in flood and "the rest of its output was dropped" in flood
    autograded = hostile["course"] / "autograded" / "flood" / "ch01" / NOTEBOOK
    assert autograded.stat().st_size < 5 * 2**20  # 200 MB printed, about 1 MB kept


def test_grading_with_one_job_gives_every_cell_the_same_score(hostile) -> None:
    one = hostile["pristine"]
    result = _grade(one, 1, hostile["env"])
    assert result.returncode == 0, result.stdout + result.stderr
    for student in EXPECTED_FAILING:
        assert cell_scores("01", student, one).cells == (
            cell_scores("01", student, hostile["course"]).cells
        ), student
    assert (one / "grades.csv").read_text() == (hostile["course"] / "grades.csv").read_text()


def test_grading_refuses_without_a_sandbox_unless_unsafe(hostile, tmp_path: Path) -> None:
    # A PATH without bwrap: as on a machine where bubblewrap is not installed.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = dict(hostile["env"], PATH=str(bin_dir))
    result = _grade(hostile["pristine"], 1, env)
    assert result.returncode == 2
    assert "bubblewrap is not installed" in result.stderr and "UNSAFE=1" in result.stderr


def test_unsafe_grades_without_a_sandbox_and_says_what_is_exposed(hostile, tmp_path) -> None:
    course = tmp_path / "course"
    shutil.copytree(hostile["pristine"], course)
    for student in os.listdir(course / "submitted"):
        if student != "correct":  # never run the attacks without a sandbox
            shutil.rmtree(course / "submitted" / student)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "grading", "grade", "01", "--course-dir", str(course)]
        + ["--unsafe", "--no-progress"],
        cwd=REPO,
        env=dict(hostile["env"], PATH=str(bin_dir)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: grading WITHOUT a sandbox" in result.stdout
    assert "the gradebook" in result.stdout and "the network" in result.stdout
    assert cell_scores("01", "correct", course).auto_score == AUTO_MAX
