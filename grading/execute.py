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
"""

from __future__ import annotations

import asyncio
import copy

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

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

    def preprocess(self, nb, resources=None, km=None):
        self._finished: list[int] = []  # cells that ran to an execute reply, safe to re-run
        self._restarts = 0
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._restarts > self.max_restarts:
            cell.outputs = [_error("KernelRestartLimit", "not run: too many kernel restarts")]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            self.log.warning("Cell %d: %s; restarting the kernel", index, type(exc).__name__)
            cell.setdefault("outputs", []).append(_error(type(exc).__name__, _explain(exc)))
            self._restart_and_replay()
        else:
            # A cell stopped at its time limit would only hit it again when replayed.
            if not any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self._finished.append(index)
        _stderr_to_stdout(cell)
        return cell, resources

    def _restart_and_replay(self) -> None:
        """Give the notebook a fresh kernel in the state the finished cells leave it in."""
        while self._restarts <= self.max_restarts:
            self._restarts += 1
            run_sync(self._async_restart)()
            for i in list(self._finished):
                scratch = copy.deepcopy(self.nb.cells[i])  # replay outputs are thrown away
                try:
                    self.execute_cell(scratch, i, store_history=False)
                except (DeadKernelError, CellTimeoutError):
                    # It ran before but not now (random, or time-dependent): drop it, retry.
                    self.log.warning("Cell %d failed when re-run; dropping it from the replay", i)
                    self._finished.remove(i)
                    break
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


def _explain(exc: Exception) -> str:
    if isinstance(exc, DeadKernelError):
        what = "the kernel died while running this cell"
    else:
        what = "this cell did not finish in time and did not stop when interrupted"
    return f"{what}; the kernel was restarted and the earlier cells were run again"


def _stderr_to_stdout(cell: NotebookNode) -> None:
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            output.name = "stdout"
