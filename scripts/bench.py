"""Time every course notebook and measure its kernel's peak memory, against the budgets.

The syllabus gives each notebook a budget on a 2-core CPU with no GPU: a lecture
notebook executes in at most 60 s, an ``*_exercises.ipynb`` notebook in at most
20 s, and neither may use 1.5 GB of memory or more (a Binder pod has 2 GB).

Each notebook runs top to bottom in a fresh kernel, one after the other so that
they do not compete for the cores, and twice:

* as a student runs it (``NNLIB_WEBSITE`` and ``NNLIB_PROGRESS`` unset, whatever
  this shell says): this run is judged against the budgets;
* as the website build runs it (``NNLIB_WEBSITE=1 NNLIB_PROGRESS=0``, as
  ``make site`` does): interactive figures then draw their website frames too,
  and the table reports the extra seconds that costs, with no budget.

The execution happens in a child Python process of this script
(``bench.py --child``) that starts the kernel with ``nbclient``. Two measurements
of the kernel's memory are taken there:

* the kernel's own high-water mark, read with ``getrusage(RUSAGE_CHILDREN)`` once
  the kernel has exited and been reaped (the kernel is the child process's only
  child, so this is exactly its peak resident set size, as counted by the OS);
* the largest sum of resident set sizes over the kernel and its descendants,
  sampled every 50 ms with ``psutil`` (this catches memory held by worker
  processes that the kernel starts, which ``getrusage`` reports one by one).

The reported peak is the larger of the two. The wall time runs from the start of
the kernel to its shutdown, so it is what a reader waits for.

Usage::

    python scripts/bench.py                      # every notebooks/*.ipynb
    python scripts/bench.py notebooks/01_perceptron.ipynb /tmp/other.ipynb
    python scripts/bench.py --cpus 0             # use every core of this machine
    python scripts/bench.py --no-website         # the student runs only

The Markdown table goes to standard output and to ``bench/results.md``. The exit
status is 1 if any notebook fails (in either run) or is over its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "bench" / "results.md"

#: The syllabus's budgets (chapter contract, item 6). Never raise them to make a run pass.
LECTURE_SECONDS = 60.0
EXERCISES_SECONDS = 20.0
MEMORY_BYTES = 1.5e9
#: The syllabus measures on a 2-core CPU; by default the kernel is pinned to 2 cores.
DEFAULT_CPUS = 2
#: A notebook still running after this many seconds is stopped and reported as failed.
DEFAULT_TIMEOUT = 600.0
POLL_SECONDS = 0.05

MB = 1e6
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: The two ways a notebook is executed (see the module docstring).
STUDENT, WEBSITE = "student", "website"
#: Variables by which the course's code tells a website build from a student's kernel.
_SWITCHES = ("NNLIB_WEBSITE", "NNLIB_PROGRESS")


def kernel_environment(run: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a notebook's kernel gets for a ``STUDENT`` or ``WEBSITE`` run.

    ``base`` (this process's environment by default) minus the course's switches,
    so that a variable left set in the shell cannot make the student run draw the
    website's frames; the website run sets them as ``make site`` does.

    Examples
    --------
    >>> shell = {"PATH": "/bin", "NNLIB_WEBSITE": "1", "NNLIB_PROGRESS": "0"}
    >>> kernel_environment(STUDENT, shell)
    {'PATH': '/bin'}
    >>> kernel_environment(WEBSITE, {"PATH": "/bin"})
    {'PATH': '/bin', 'NNLIB_WEBSITE': '1', 'NNLIB_PROGRESS': '0'}
    """
    if run not in (STUDENT, WEBSITE):
        raise ValueError(f"expected run {STUDENT!r} or {WEBSITE!r}, got {run!r}")
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _SWITCHES}
    if run == WEBSITE:
        env.update(NNLIB_WEBSITE="1", NNLIB_PROGRESS="0")
    return env


@dataclass(frozen=True)
class Budget:
    """The limits one notebook must stay within."""

    seconds: float
    memory_bytes: float = MEMORY_BYTES


def budget_for(path: Path) -> Budget:
    """The syllabus's budget for a notebook, chosen by its name.

    Examples
    --------
    >>> budget_for(Path("notebooks/01_perceptron.ipynb")).seconds
    60.0
    >>> budget_for(Path("notebooks/01_perceptron_exercises.ipynb")).seconds
    20.0
    """
    if path.stem.endswith("_exercises"):
        return Budget(EXERCISES_SECONDS)
    return Budget(LECTURE_SECONDS)


@dataclass(frozen=True)
class Measurement:
    """What one execution of a notebook cost.

    ``peak_rss_bytes`` is the larger of ``rusage_bytes`` (the kernel's high-water
    mark from the OS) and ``sampled_bytes`` (the largest sampled sum over the
    kernel's process tree). ``error`` is ``None`` when every cell ran.
    """

    notebook: str
    wall_seconds: float
    rusage_bytes: int
    sampled_bytes: int
    error: str | None = None

    @property
    def peak_rss_bytes(self) -> int:
        return max(self.rusage_bytes, self.sampled_bytes)


@dataclass(frozen=True)
class Result:
    """A student run judged against its budget, beside the website run of the notebook.

    ``measurement`` is the student run; ``website`` the website run (``None`` when it
    was skipped), which has no budget but must not fail.
    """

    measurement: Measurement
    budget: Budget
    website: Measurement | None = None

    @property
    def status(self) -> str:
        """``PASS``, ``OVER`` (time or memory) or ``FAIL`` (a cell raised, or it timed out)."""
        if self.measurement.error is not None:
            return "FAIL"
        if self.website is not None and self.website.error is not None:
            return "FAIL"
        if self.problems():
            return "OVER"
        return "PASS"

    @property
    def website_extra_seconds(self) -> float | None:
        """What the website run costs beyond the student run (``None`` if either failed)."""
        w, m = self.website, self.measurement
        if w is None or w.error is not None or m.error is not None:
            return None
        return w.wall_seconds - m.wall_seconds

    def problems(self) -> list[str]:
        """Why the notebook is not PASS, in words; empty when it is."""
        m, b, w = self.measurement, self.budget, self.website
        out = []
        if m.error is not None:
            out.append(f"{m.notebook} failed: {m.error}")
        else:
            if m.wall_seconds > b.seconds:
                out.append(f"{m.notebook} took {m.wall_seconds:.1f} s (budget {b.seconds:.0f} s)")
            if m.peak_rss_bytes >= b.memory_bytes:
                out.append(
                    f"{m.notebook} peaked at {m.peak_rss_bytes / MB:.0f} MB "
                    f"(budget < {b.memory_bytes / MB:.0f} MB)"
                )
        if w is not None and w.error is not None:
            out.append(f"{w.notebook} failed in the website run: {w.error}")
        return out


# -- the child process: execute one notebook and measure its kernel ----------------------


def _ru_maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # a worker that exited between the listing and the read
            pass
    return total


def _child(notebook: Path, out: Path, timeout: float, cpus: int) -> None:
    """Execute ``notebook`` in a fresh kernel and write a Measurement as JSON to ``out``."""
    import resource

    import nbformat
    from nbclient import NotebookClient

    if cpus > 0 and hasattr(os, "sched_setaffinity"):
        # The kernel inherits this affinity, and OpenMP/torch size their thread
        # pools from it, so the notebook sees a machine with `cpus` cores.
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, available[:cpus])

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        # Relative paths in the notebook resolve as they do in JupyterLab.
        resources={"metadata": {"path": str(notebook.parent)}},
    )

    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            km = client.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None) if km else None
            if pid is not None:
                peak = max(peak, _tree_rss(pid))
            stop.wait(POLL_SECONDS)

    error = None
    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    try:
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down
    except Exception as exc:  # any failure is reported, not raised
        if hasattr(exc, "ename"):  # nbclient's CellExecutionError: the notebook's own error
            error = f"{exc.ename}: {exc.evalue}"
        else:
            lines = _ANSI.sub("", str(exc)).strip().splitlines()
            error = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()

    # The kernel has been reaped by now, so its high-water mark is in RUSAGE_CHILDREN.
    rusage = _ru_maxrss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    m = Measurement(str(notebook), wall, rusage, peak, error)
    out.write_text(json.dumps(asdict(m)))


# -- the parent: one child per notebook ----------------------------------------------------


def measure(
    notebook: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cpus: int = DEFAULT_CPUS,
    run: str = STUDENT,
) -> Measurement:
    """Execute one notebook in a fresh kernel (in a child process) and measure it.

    Parameters
    ----------
    notebook : Path
        The ``.ipynb`` file to run top to bottom.
    run : {"student", "website"}
        Execute it as a student's kernel does, or as the website build does
        (see :func:`kernel_environment`).
    timeout : float
        Seconds a cell may run; the whole run is stopped (kernel included) and reported
        as failed after ``timeout + 60`` seconds.
    cpus : int
        Pin the kernel to this many cores (0: every core of the machine).
    """
    env = kernel_environment(run)
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"no notebook at {notebook}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "measurement.json"
        cmd = [sys.executable, __file__, "--child", str(out), "--timeout", str(timeout)]
        cmd += ["--cpus", str(cpus), str(notebook)]
        # Its own session, so that on a time-out the measuring child *and* the kernel it
        # started are stopped together, rather than leaving a kernel running.
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env=env,  # the kernel inherits it from the measuring child
        )
        try:
            _, stderr = proc.communicate(timeout=timeout + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Measurement(str(notebook), timeout, 0, 0, f"still running after {timeout:.0f} s")
        if proc.returncode != 0 or not out.exists():
            tail = (stderr.strip().splitlines() or ["no output"])[-1]
            return Measurement(str(notebook), 0.0, 0, 0, f"the measuring process failed: {tail}")
        return Measurement(**json.loads(out.read_text()))


def machine(cpus: int = DEFAULT_CPUS) -> dict[str, str]:
    """The facts about this machine that a timing depends on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 1e9:.1f} GB"
    except ImportError:
        memory = "unknown"
    cores = os.cpu_count() or 0
    used = min(cpus, cores) if cpus > 0 else cores
    return {
        "CPU": model,
        "cores": f"{cores} on the machine, {used} given to each kernel",
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "torch": torch_version,
    }


def report(results: Sequence[Result], facts: dict[str, str]) -> str:
    """The Markdown report: machine facts, then one table row per notebook."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Notebook benchmark ({when})", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines += [
        "",
        "Wall time and peak RSS: the notebook run as a student runs it, judged against the "
        "budgets. Website run: the same notebook executed as `make site` does "
        "(`NNLIB_WEBSITE=1`, website frames drawn), and its extra seconds; no budget.",
        "",
        "| Notebook | Wall time (s) | Budget (s) | Peak RSS (MB) | Budget (MB) | Status "
        "| Website run (s) | Website extra (s) |",
        "|---|--:|--:|--:|--:|---|--:|--:|",
    ]
    for r in results:
        m, b, w = r.measurement, r.budget, r.website
        extra = r.website_extra_seconds
        website = "–" if w is None else "failed" if w.error is not None else f"{w.wall_seconds:.1f}"
        lines.append(
            f"| {Path(m.notebook).name} | {m.wall_seconds:.1f} | {b.seconds:.0f} "
            f"| {m.peak_rss_bytes / MB:.0f} | < {b.memory_bytes / MB:.0f} | {r.status} "
            f"| {website} | {'–' if extra is None else f'{extra:+.1f}'} |"
        )
    problems = [p for r in results for p in r.problems()]
    if problems:
        lines += ["", "Over budget or failed:", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def exit_code(results: Sequence[Result]) -> int:
    """0 when every notebook passed, 1 otherwise."""
    return 0 if all(r.status == "PASS" for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Execute notebooks one by one in fresh kernels and check each against "
        f"the syllabus budgets ({LECTURE_SECONDS:.0f} s a lecture notebook, "
        f"{EXERCISES_SECONDS:.0f} s an exercises notebook, < {MEMORY_BYTES / 1e9} GB peak "
        "memory), as a student runs them; then times each as the website build runs it. "
        "Writes a Markdown table to stdout and bench/results.md; exits 1 if any notebook "
        "fails or is over budget.",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)"
    )
    parser.add_argument(
        "--cpus",
        type=int,
        default=DEFAULT_CPUS,
        help=f"cores given to each kernel, as on the budget's machine (default {DEFAULT_CPUS}; "
        "0 = all)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before a notebook is stopped and failed (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--no-website",
        action="store_true",
        help="skip the website runs (NNLIB_WEBSITE=1); only the student runs are timed",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the Markdown report"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:  # internal: this process is the measuring child
        _child(args.notebooks[0].resolve(), args.child, args.timeout, args.cpus)
        return 0

    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        parser.error(f"no notebooks given and none found in {NOTEBOOKS}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    results = []
    for path in paths:
        print(f"running {path} as a student ...", file=sys.stderr, flush=True)
        m = measure(path, timeout=args.timeout, cpus=args.cpus, run=STUDENT)
        w = None
        if not args.no_website:
            print(f"running {path} as the website build ...", file=sys.stderr, flush=True)
            w = measure(path, timeout=args.timeout, cpus=args.cpus, run=WEBSITE)
        results.append(Result(m, budget_for(path), w))

    text = report(results, machine(args.cpus))
    print(text, end="")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    code = exit_code(results)
    if code:
        bad = sum(r.status != "PASS" for r in results)
        print(
            f"bench: {bad} of {len(results)} notebook(s) failed or went over budget "
            f"(see above and {args.output})",
            file=sys.stderr,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
