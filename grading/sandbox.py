"""``python -m grading.sandbox``: execute one notebook, inside the grading sandbox.

The trusted grader (``grading.isolation``) starts this module inside bubblewrap and
writes one JSON request to its standard input::

    {"notebook": <the submission, with the instructor's test cells put back>,
     "limits": {"cell_timeout": 30, "cell_cpu": 60, "memory_mb": 2048, ...},
     "preload": ["numpy", "nnlib"]}

It starts a kernel *and* its client here, inside the sandbox (so the kernel's ZMQ
sockets live on the sandbox's own loopback and need no network), executes every
cell with ``RobustExecute`` and writes the executed notebook as JSON to its standard
output. Nothing is read from or written to a file: the hidden tests reach the kernel
only as the source of the cells it executes.

The result channel is protected from the student's code, which runs in the kernel,
a child of this process: the kernel's standard output is this process's standard
error, not the result pipe, and this process is made non-dumpable, so the kernel can
open neither ``/proc/<this>/fd/1`` nor read this process's memory.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

# jsonschema, which nbformat imports, builds the grammar of an optional format checker
# (rfc3987_syntax) whenever it can import it: 2 s of CPU for every submission, for a
# check that notebooks never use. None in sys.modules makes that import fail.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402

from grading.execute import RobustExecute  # noqa: E402

_PR_SET_DUMPABLE = 4


def _protect_this_process(processes: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing to protect against
        pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if processes:
        # Set here, inside the sandbox's user namespace, the limit counts the processes
        # and threads of this sandbox only (Linux 5.14 or later), not all of the user's.
        # (Linux does not apply it to root: grade as an ordinary user.)
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def execute(request: dict) -> nbformat.NotebookNode:
    """Execute ``request["notebook"]`` under ``request["limits"]``; return it with outputs."""
    limits = request.get("limits", {})
    nb = nbformat.from_dict(request["notebook"])
    client = RobustExecute(
        timeout=limits.get("cell_timeout", 30),
        interrupt_on_timeout=True,
        # Outputs may trail a cell's reply by more than nbclient's 4 s when every core
        # is grading: waiting longer costs nothing to a cell that behaves.
        iopub_timeout=10,
        output_limit=limits.get("output_kb", 1024) * 1024,
        memory_limit=limits.get("memory_mb", 0) * 2**20,
        cell_cpu_limit=limits.get("cell_cpu", 0),
        total_cpu_limit=limits.get("submission_timeout", 0),
        preload=request.get("preload", []),
    )
    nb, _ = client.preprocess(nb, {"metadata": {"path": os.getcwd()}})
    return nb


def main() -> int:
    request = json.load(sys.stdin.buffer)
    if not isinstance(request, dict) or "notebook" not in request:
        print("expected a JSON object with a 'notebook' on standard input", file=sys.stderr)
        return 2
    result = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the kernel writes to its stdout goes to the log, not the result
    _protect_this_process(request.get("limits", {}).get("processes", 0))
    nb = execute(request)
    json.dump(nb, result)
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
