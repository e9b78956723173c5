"""Execute a submission's code in a bubblewrap sandbox: the trusted side.

Grading splits in three (``book/instructors.md``, "What the sandbox isolates"):

1. the trusted grader (nbgrader) puts the instructor's test cells back;
2. the notebook is piped into ``python -m grading.sandbox``, started here inside
   bubblewrap (``bwrap``), which executes it and pipes it back with its outputs;
3. the trusted grader scores the outputs (nbgrader's ``SaveAutoGrades``).

Inside the sandbox the submission sees, read-only, only what Python needs to run:
``/usr`` and its ``/lib*`` links, ``/etc/ld.so.cache``, the virtual environment and
Python's standard library, the course library ``nnlib`` and three files of
``grading/``. It writes only to a private, size-limited ``/tmp`` (its home and working
directory), discarded when it ends. It has its own network namespace with nothing but
its own loopback (the kernel's ZMQ sockets), its own process IDs, no capabilities, no
way to make user namespaces, no environment variables of the grader, and it dies with
the grader. The repository, the course directory (source and release notebooks,
other submissions, the gradebook) and the home directory do not exist in it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Dict, List, Unicode

from grading.errors import GradingError

PACKAGE = Path(__file__).resolve().parent
#: The only files of ``grading/`` that the sandbox sees, under ``/opt/grader/grading``.
INSIDE_FILES = ("__init__.py", "execute.py", "sandbox.py")
INSIDE_ROOT = "/opt/grader"
HOME = "/tmp/student"
#: What UNSAFE=1 exposes, for the warning and the instructors' page.
EXPOSED = (
    "student code runs with your permissions: it can read the instructor's notebooks "
    "with their solutions and hidden tests (grading/source, notebooks/), the other "
    "submissions, the gradebook and your home directory, write to any of your files, "
    "and use the network"
)
_MAX_RESULT = 512 * 2**20  # bytes of executed notebook accepted from the sandbox
_LOG_TAIL = 20_000  # characters of the sandbox's log kept for the report


def _nnlib_root() -> str | None:
    spec = importlib.util.find_spec("nnlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).resolve().parent)


def read_only_paths() -> list[str]:
    """Directories bound read-only at their own path: Python, its packages and ``nnlib``."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(site.getsitepackages())
    paths.add(_nnlib_root() or sys.prefix)
    paths = {str(Path(p).resolve()) for p in paths if Path(p).is_dir()} | {sys.prefix}
    return sorted(p for p in paths if not p.startswith("/usr/") and p != "/usr")


def bwrap_command(scratch_mb: int) -> list[str]:
    """The ``bwrap`` command line that starts ``python -m grading.sandbox`` isolated."""
    size = str(scratch_mb * 2**20)
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]
    cmd += ["--new-session", "--cap-drop", "ALL", "--clearenv", "--ro-bind", "/usr", "/usr"]
    # The scratch first: a library bound below /tmp (a checkout in /tmp) stays visible.
    cmd += ["--size", size, "--tmpfs", "/tmp"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    for path in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
        if Path(path).exists():
            cmd += ["--ro-bind", path, path]
    for path in read_only_paths():
        cmd += ["--ro-bind", path, path]
    for name in INSIDE_FILES:
        cmd += ["--ro-bind", str(PACKAGE / name), f"{INSIDE_ROOT}/grading/{name}"]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", size, "--tmpfs", "/dev/shm", "--dir", HOME, "--chdir", HOME]
    # bwrap builds the tree above on a tmpfs of its own, unlimited in size: read-only.
    cmd += ["--remount-ro", "/"]
    for key, value in _environment(HOME, INSIDE_ROOT).items():
        cmd += ["--setenv", key, value]
    return [*cmd, sys.executable, "-m", "grading.sandbox"]


def _environment(home: str, grading_root: str) -> dict[str, str]:
    """The whole environment of the graded code: none of the grader's variables."""
    python_path = [grading_root] + ([_nnlib_root()] if _nnlib_root() else [])
    return {
        "HOME": home,
        "TMPDIR": "/tmp" if home == HOME else home,
        "USER": "student",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(python_path),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "NNLIB_PROGRESS": "0",
        # One thread per kernel: parallel grading already uses every core.
        "OMP_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }


@cache
def sandbox_problem() -> str | None:
    """Why no sandbox can be made on this machine, or None when bubblewrap works."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux, and this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian and Ubuntu: apt-get install bubblewrap)"
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--unshare-user"]
    probe += ["--disable-userns", "--die-with-parent", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if result.returncode != 0:
        return f"bubblewrap cannot make a sandbox here (user namespaces?): {result.stderr.strip()}"
    return None


def run_sandboxed(
    nb: dict, limits: dict[str, int], *, unsafe: bool = False, preload: list[str] = ()
) -> tuple[nbformat.NotebookNode, str]:
    """Execute ``nb`` in a fresh sandbox; return it with its outputs, and the sandbox's log.

    Raises ``GradingError`` when it did not finish (time limit, crash of the grader
    inside); a crashing or hostile *cell* only costs that cell (``RobustExecute``).
    """
    problem = sandbox_problem()
    if problem and not unsafe:
        raise GradingError(
            f"no sandbox for the student code: {problem}. To grade without one, pass "
            f"UNSAFE=1 (--unsafe), knowing that {EXPOSED}"
        )
    request = json.dumps({"notebook": nb, "limits": limits, "preload": list(preload)}).encode()
    with tempfile.TemporaryDirectory(prefix="grading-scratch-") as scratch:
        if problem:  # unsafe: the same process, with no walls around it
            cmd = [sys.executable, "-m", "grading.sandbox"]
            env, cwd = _environment(scratch, str(PACKAGE.parent)), scratch
        else:
            cmd, env, cwd = bwrap_command(limits.get("scratch_mb", 512)), {}, "/"
        child = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # killed as a group; bwrap takes its namespace along
        )
        result, log = _exchange(child, request, limits.get("submission_timeout", 900))
    if child.returncode != 0 or result is None:
        raise GradingError(f"the sandbox ended with status {child.returncode}\n{log[-3000:]}")
    try:
        return nbformat.from_dict(json.loads(result)), log
    except ValueError as exc:
        raise GradingError(f"the sandbox returned no notebook ({exc})\n{log[-3000:]}") from exc


def _exchange(child: subprocess.Popen, request: bytes, timeout: int) -> tuple[bytes | None, str]:
    """Write the request, read the result and the log's tail, all bounded in size and time."""
    out: list[bytes] = []
    err = bytearray()

    def read_result() -> None:
        size = 0
        while chunk := child.stdout.read(1 << 20):
            size += len(chunk)
            if size > _MAX_RESULT:
                child.kill()
                return
            out.append(chunk)

    def read_log() -> None:
        while chunk := child.stderr.read(1 << 16):
            err.extend(chunk)
            del err[:-_LOG_TAIL]

    def write_request() -> None:
        try:
            child.stdin.write(request)
            child.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    threads = [threading.Thread(target=f, daemon=True) for f in (read_result, read_log)]
    threads.append(threading.Thread(target=write_request, daemon=True))
    for t in threads:
        t.start()
    timed_out = False
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(child.pid, 9)
        child.wait()
    for t in threads:
        t.join(timeout=10)
    log = err.decode(errors="replace")
    if timed_out:
        return None, f"{log}\nstopped after {timeout} s, the limit of one submission"
    return b"".join(out), log


class SandboxExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, run in the sandbox; or taken from an earlier sandboxed run.

    When ``results_dir`` holds ``<student>/<notebook>.ipynb``, executed in the sandbox
    by ``grading.parallel`` from the very same cells, its outputs are used; otherwise
    the notebook is executed now.
    """

    limits = Dict(help="grading.config.Limits as a dict").tag(config=True)
    results_dir = Unicode("", help="Notebooks already executed in the sandbox").tag(config=True)
    unsafe = Bool(False, help="Execute without a sandbox where there is none").tag(config=True)
    preload = List(Unicode(), help="Modules imported before the first cell").tag(config=True)

    def preprocess(self, nb, resources):
        ids = resources.get("nbgrader", {})
        executed = None
        if self.results_dir:
            path = result_path(self.results_dir, ids.get("student", ""), ids.get("notebook", ""))
            if path.exists():
                executed = nbformat.read(path, as_version=4)
            if executed is not None and not same_cells(nb, executed):
                self.log.warning("%s was executed from other cells; executing it again", path)
                executed = None
        if executed is None:
            executed, log = run_sandboxed(
                nb, dict(self.limits), unsafe=self.unsafe, preload=list(self.preload)
            )
            self.log.debug("sandbox log:\n%s", log)
        for cell, done in zip(nb.cells, executed.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = done.get("outputs", [])
                cell.execution_count = done.get("execution_count")
        return nb, resources


def result_path(results_dir: Path | str, student: str, notebook: str) -> Path:
    return Path(results_dir) / student / f"{notebook}.ipynb"


def same_cells(a: nbformat.NotebookNode, b: nbformat.NotebookNode) -> bool:
    """Whether two notebooks have the same cells (type and source), outputs aside."""
    return [(c.cell_type, c.source) for c in a.cells] == [(c.cell_type, c.source) for c in b.cells]
