"""``RobustExecute``: nbgrader's Execute preprocessor made safe for hostile submissions.

nbgrader (Hamrick 2016) executes a submission with one kernel and grades each test
cell by its outputs (``nbgrader.utils.determine_grade``). Three behaviours of the
stock preprocessor cost students points they should not lose, or stop the grading:

* a cell that kills its kernel (``os._exit``, a segfault, running out of memory)
  raises ``DeadKernelError`` out of ``preprocess``: the whole submission fails and
  every exercise, correct or not, is lost;
* a cell that ignores the interrupt sent after a timeout (a loop that catches
  ``KeyboardInterrupt``, a C extension stuck without releasing the GIL) raises
  ``CellTimeoutError`` ("Timeout waiting for IOPub output"), with the same result;
* any ``stderr`` stream output in a test cell gives it 0 points, so a warning
  printed by NumPy or PyTorch, or a tqdm bar, zeroes a correct answer.

``RobustExecute`` handles the first two per cell: it records an error output in the
cell that did it (so that cell, and only the test cells that depend on it, lose
their points), restarts the kernel, silently re-runs the earlier cells that had
finished, and goes on with the next cell. It turns ``stderr`` stream outputs into
``stdout`` ones, so only errors (exceptions, failed asserts, timeouts) cost points.

It also enforces the limits of one submission (``grading.config.Limits``), each
costing only the cells that hit it, with a line saying which limit it was:

* **output**: a cell's outputs are cut after ``output_limit`` bytes, with an error
  output, so a cell printing 200 MB neither fills the grader's memory nor scores;
* **memory**: the kernel's private data (``RLIMIT_DATA``: heap and private mappings,
  what arrays and tensors use) is capped at ``memory_limit`` bytes; an allocation
  beyond it raises ``MemoryError`` in its cell. The address space (``RLIMIT_AS``) is
  capped too, at twice that plus 2 GB, for shared mappings, which ``RLIMIT_DATA``
  does not count (it is not the limit itself: importing NumPy alone reserves 0.8 GB);
* **CPU time per cell**: before each cell the kernel's ``RLIMIT_CPU`` soft limit is
  set to the CPU time it has used plus ``cell_cpu_limit`` seconds; a cell that spins
  on several threads past it is killed by ``SIGXCPU`` like a crash (above).

This class runs inside the grading sandbox (``python -m grading.sandbox``): it must
not import the gradebook or anything of the trusted side.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import resource
import signal

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, List, Unicode

# The nbclient coroutines that poll a cell's messages. When a cell ends by an
# exception they can be left pending, and the output poller reads ``self.kc``
# afresh on every message: after a restart it would steal the new kernel's messages.
_POLLERS = ("_async_poll_output_msg", "_async_poll_kernel_alive", "_async_poll_for_reply")


class RobustExecute(Execute):
    """Execute every cell; survive dead or unresponsive kernels; stderr is not an error."""

    max_restarts = Integer(
        20,
        help="Kernel restarts allowed for one notebook; the cells after the last are not run.",
    ).tag(config=True)
    output_limit = Integer(1_000_000, help="Bytes of output one cell may produce.").tag(config=True)
    memory_limit = Integer(0, help="Bytes of private data of the kernel; 0: no limit.").tag(
        config=True
    )
    cell_cpu_limit = Integer(0, help="CPU seconds one cell may use; 0: no limit.").tag(config=True)
    total_cpu_limit = Integer(0, help="CPU seconds one kernel may use; 0: no limit.").tag(
        config=True
    )
    preload = List(
        Unicode(),
        help="Modules each kernel imports before the first cell, outside the time limits.",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._finished: list[int] = []  # cells that ran to an execute reply, safe to re-run
        self._restarts = 0
        self._output_bytes: dict[int, int] = {}
        # Only what the notebook itself imports somewhere: a library it never uses
        # would cost every submission its import time for nothing.
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        self._preload = [
            m for m in self.preload if re.search(rf"^\s*(import|from)\s+{m}\b", code, re.M)
        ]
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel_client(self):
        # Called after every kernel start and restart, before any cell runs in it.
        self._limit_kernel()
        kc = await super().async_start_new_kernel_client()
        if self._preload:
            # Importing the course's libraries (PyTorch: seconds, more when every core
            # is grading) must not count against the time limit of the cell that
            # happens to import them first. Nothing is bound in the student's namespace.
            code = "\n".join(f"__import__({name!r})" for name in self._preload)
            await ensure_async(
                kc.execute_interactive(
                    code,
                    silent=True,
                    store_history=False,
                    timeout=self.startup_timeout,
                    output_hook=lambda msg: None,
                )
            )
        return kc

    # nbclient binds the synchronous name to its own coroutine: bind it to ours.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _kernel_pid(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(process, "pid", None)

    def _limit_kernel(self) -> None:
        """Put the memory and CPU limits on the kernel (and so on every process it starts)."""
        pid = self._kernel_pid()
        if pid is None:
            return
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))  # no core files in the scratch
        if self.memory_limit:
            data, space = self.memory_limit, 2 * self.memory_limit + 2 * 2**30
            resource.prlimit(pid, resource.RLIMIT_DATA, (data, data))
            resource.prlimit(pid, resource.RLIMIT_AS, (space, space))
        if self.total_cpu_limit:
            # The hard limit cannot be raised again, by the kernel or by us: only the
            # soft one moves, cell by cell (_limit_cell_cpu).
            hard = self.total_cpu_limit
            resource.prlimit(pid, resource.RLIMIT_CPU, (hard, hard))

    def _limit_cell_cpu(self) -> None:
        pid = self._kernel_pid()
        if pid is None or not self.cell_cpu_limit:
            return
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            _, hard = resource.prlimit(pid, resource.RLIMIT_CPU)
            soft = int(used) + 1 + self.cell_cpu_limit
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.prlimit(pid, resource.RLIMIT_CPU, (soft, hard))
        except (OSError, ValueError, IndexError):
            self.log.warning("Could not set the CPU limit of kernel %s", pid)

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's outputs up to ``output_limit`` bytes; note the cut once."""
        used = self._output_bytes.get(cell_index, 0)
        if used > self.output_limit:
            return None
        content = msg.get("content", {})
        text = content.get("text") if msg.get("msg_type") == "stream" else None
        size = len(text) if isinstance(text, str) else len(json.dumps(content))
        self._output_bytes[cell_index] = used + size
        if used + size > self.output_limit:
            if isinstance(text, str) and used < self.output_limit:  # keep the first part
                head = {**msg, "content": {**content, "text": text[: self.output_limit - used]}}
                super().output(outs, head, display_id, cell_index)
            outs.append(
                _error(
                    "OutputLimitExceeded",
                    f"this cell printed more than {self.output_limit:,} bytes, the limit of "
                    "one cell; the rest of its output was dropped",
                )
            )
            return None
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._restarts > self.max_restarts:
            cell.outputs = [_error("KernelRestartLimit", "not run: too many kernel restarts")]
            return cell, resources
        self._limit_cell_cpu()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            self.log.warning("Cell %d: %s; restarting the kernel", index, type(exc).__name__)
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            status = process.poll() if process is not None else None
            cell.setdefault("outputs", []).append(
                _error(type(exc).__name__, _explain(exc, status, self.cell_cpu_limit))
            )
            self._restart_and_replay()
        else:
            # A cell stopped at its time limit would only hit it again when replayed.
            if not any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self._finished.append(index)
        _stderr_to_stdout(cell)
        if self.memory_limit and any(o.get("ename") == "MemoryError" for o in cell.outputs):
            cell.outputs.append(
                _note(
                    f"This cell hit the memory limit of a submission "
                    f"({self.memory_limit // 2**20} MB)."
                )
            )
        return cell, resources

    def _restart_and_replay(self) -> None:
        """Give the notebook a fresh kernel in the state the finished cells leave it in."""
        while self._restarts <= self.max_restarts:
            self._restarts += 1
            run_sync(self._async_restart)()
            for i in list(self._finished):
                cell = self.nb.cells[i]
                scratch = copy.deepcopy(cell)  # replay outputs are thrown away
                try:
                    self.execute_cell(scratch, i, store_history=False)
                except (DeadKernelError, CellTimeoutError):
                    # It ran before but not now (random, or time-dependent): drop it, retry.
                    self.log.warning("Cell %d failed when re-run; dropping it from the replay", i)
                    self._finished.remove(i)
                    break
                finally:
                    # nbclient stores the cell it executed into the notebook: put back
                    # the one graded, with its own outputs (stderr made stdout).
                    self.nb.cells[i] = cell
            else:
                return

    async def _async_restart(self) -> None:
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current and task.get_coro().__name__ in _POLLERS:
                task.cancel()
        if self.kc is not None:
            self.kc.stop_channels()
        # New ports: nothing the dead kernel queued can reach the new client.
        await ensure_async(self.km.restart_kernel(now=True, newports=True))
        await self.async_start_new_kernel_client()


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=evalue,
        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"],
    )


def _note(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=f"{text}\n")


def _explain(exc: Exception, status: int | None = None, cell_cpu_limit: int = 0) -> str:
    if isinstance(exc, DeadKernelError):
        what = "the kernel died while running this cell"
        if status == -signal.SIGXCPU:
            what += f" at the CPU time limit of a cell ({cell_cpu_limit} s)"
        elif status is not None and status < 0:
            what += f" (killed by signal {-status})"
    else:
        what = "this cell did not finish in time and did not stop when interrupted"
    return f"{what}; the kernel was restarted and the earlier cells were run again"


def _stderr_to_stdout(cell: NotebookNode) -> None:
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            output.name = "stdout"
