"""The notebook test executes each notebook once for the test and for the website.

``make notebooks`` runs nbval (``pytest --nbval-lax notebooks/``) with
``NNLIB_WEBSITE=1``. Once every code cell of a notebook has passed, the outputs that
nbval recorded go into Jupyter Book's execution cache, where ``jupyter-book build``
(``execute_notebooks: cache``) finds them and executes nothing. A notebook with a
failed, skipped or deselected cell is removed from the cache instead, so the website
never shows partial results: the book build then executes it itself, and fails on
the error. So is a notebook that displays a live ipywidget: nbval ignores the widget
messages that tell a front end which outputs belong inside the widget, so it records
them as outputs of the cell. (On the website ``nnlib`` shows static figures instead.)
Runs without ``NNLIB_WEBSITE=1`` leave the cache alone; their outputs are not the
website's.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import notebook_tools  # scripts/, on pytest's pythonpath
import pytest
from nbval.plugin import IPyNbCell

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Per notebook: cell number -> (outputs, seconds) of each cell that passed; the
# notebooks with a cell that failed or was skipped; what became of each notebook.
_passed: dict[Path, dict[int, tuple[list, float]]] = {}
_spoilt: set[Path] = set()
_summary: dict[str, str] = {}


def _website_run() -> bool:
    return os.environ.get("NNLIB_WEBSITE", "0").strip() == "1"


def pytest_configure(config):
    # Under pytest-xdist (``-n 2 --dist loadfile``: each notebook whole on one worker)
    # the workers store their notebooks side by side; the cache is created first.
    if _website_run() and not hasattr(config, "workerinput"):
        notebook_tools.prepare_cache()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if isinstance(item, IPyNbCell) and _website_run():
        path = Path(item.parent.path)
        _passed.setdefault(path, {})
        if report.when == "call" and report.passed and not hasattr(report, "wasxfail"):
            _passed[path][item.cell_num] = (item.test_outputs, report.duration)
        elif not report.passed:  # failed, skipped or xfailed, in any phase
            _spoilt.add(path)
    return report


def _problem(path: Path, cells: dict[int, tuple[list, float]]) -> str | None:
    """Why nbval's outputs of this notebook are not the website's, or None."""
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
    if path in _spoilt or sorted(cells) != list(range(code_cells)):
        return "not every cell ran and passed"
    if any(WIDGET_VIEW in out.get("data", {}) for outs, _ in cells.values() for out in outs):
        return "it displays a live widget, whose outputs nbval cannot tell apart"
    return None


def pytest_sessionfinish(session):
    for path, cells in _passed.items():
        problem = _problem(path, cells)
        if problem is None:
            outputs = [outs for _, (outs, _) in sorted(cells.items())]
            notebook_tools.cache_executed(path, outputs, sum(s for _, s in cells.values()))
            _summary[path.name] = "stored"
        elif notebook_tools.uncache(path):
            _summary[path.name] = f"removed, {problem}"
        else:
            _summary[path.name] = f"not stored, {problem}"
    if hasattr(session.config, "workerinput"):  # an xdist worker: report to the controller
        session.config.workeroutput["website_cache"] = _summary


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _summary.update(getattr(node, "workeroutput", {}).get("website_cache", {}))


def pytest_terminal_summary(terminalreporter):
    if _summary:
        terminalreporter.section("executed notebooks for the website (Jupyter Book's cache)")
        for name, fate in sorted(_summary.items()):
            terminalreporter.write_line(f"{name}: {fate}")
