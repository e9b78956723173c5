"""Committed notebooks are clean sources: no outputs, and the shared Colab cell.

Also the hand-over from the notebook test to the website build: an executed notebook
stored by ``notebook_tools.cache_executed`` is found the way Jupyter Book looks it up.
"""

from __future__ import annotations

import shutil
import sys
import types

import nbformat
import notebook_tools as tools
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_cache import get_cache
from packaging.requirements import Requirement

ROOT = tools.ROOT
NOTEBOOKS = tools.notebooks()


def _is_colab_cell(cell) -> bool:
    return tools.COLAB_TAG in cell.metadata.get("tags", [])


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


def test_no_outputs_committed():
    assert tools.output_problems(NOTEBOOKS) == []


def test_output_check_catches_an_output(tmp_path):
    path = tmp_path / "executed.ipynb"
    shutil.copy(NOTEBOOKS[0], path)
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and not _is_colab_cell(c))
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    code.execution_count = 1
    nbformat.write(nb, path)
    assert tools.output_problems([path]) == [f"{path}: carries outputs"]
    tools.strip([path])
    stripped = nbformat.read(path, as_version=4)
    assert all(c.outputs == [] for c in stripped.cells if c.cell_type == "code")
    assert all(c.execution_count is None for c in stripped.cells if c.cell_type == "code")
    assert [(c.id, c.source) for c in stripped.cells] == [(c.id, c.source) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_from_the_configured_repository(path):
    assert tools.colab_cell_problems(path, tools.repository_url()) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_declares_a_python_kernel(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("language") == "python"


def test_repository_url_is_read_from_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert tools.repository_url() == config["repository"]["url"]
    assert tools.repository_url().startswith("https://")


class _FakeIPython:
    """Records the line magics a cell runs instead of running them."""

    def __init__(self):
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        self.magics.append((name, line))


def _run_colab_cell(path, monkeypatch, in_colab: bool) -> list[tuple[str, str]]:
    """Run a notebook's Colab cell as IPython would, with or without Colab present."""
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = _FakeIPython()
    python = TransformerManager().transform_cell(cell.source)  # %pip -> run_line_magic
    exec(python, {"get_ipython": lambda: shell})
    return shell.magics


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_pip_installs_nnlib_from_the_repository_in_colab_only(path, monkeypatch):
    assert _run_colab_cell(path, monkeypatch, in_colab=False) == []
    [(magic, line)] = _run_colab_cell(path, monkeypatch, in_colab=True)
    assert magic == "pip"
    command, option, requirement = line.split(" ", 2)
    assert (command, option) == ("install", "--quiet")
    requirement = Requirement(requirement.strip('"'))
    assert requirement.name == "nnlib"
    assert requirement.url == f"git+{tools.repository_url()}"


def test_sync_writes_the_colab_cell_and_leaves_the_rest(tmp_path):
    url = "https://example.invalid/fork"
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS[0], path)
    before = nbformat.read(path, as_version=4)
    tools.sync(path, url)
    after = nbformat.read(path, as_version=4)
    assert tools.colab_cell_problems(path, url) == []
    others = [(c.id, c.source) for c in before.cells if not _is_colab_cell(c)]
    assert [(c.id, c.source) for c in after.cells if not _is_colab_cell(c)] == others

    # A notebook without the cell gets one, before its first code cell.
    without = nbformat.read(path, as_version=4)
    without.cells = [c for c in without.cells if not _is_colab_cell(c)]
    nbformat.write(without, path)
    tools.sync(path, url)
    assert tools.colab_cell_problems(path, url) == []
    synced = nbformat.read(path, as_version=4)
    assert [(c.id, c.source) for c in synced.cells if not _is_colab_cell(c)] == others
    assert len(synced.cells) == len(after.cells)


def test_the_book_keeps_its_execution_cache_where_the_notebook_test_writes():
    execute = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert not execute.get("cache"), "notebook_tools writes to _build/.jupyter_cache"


def test_executed_notebook_is_found_as_jupyter_book_looks_it_up(tmp_path):
    path = NOTEBOOKS[0]
    source = nbformat.reads(path.read_text(), as_version=4)  # as myst-nb reads it
    n_code = sum(c.cell_type == "code" for c in source.cells)
    outputs = [
        [nbformat.v4.new_output("stream", name="stdout", text=f"cell {i}\n")] for i in range(n_code)
    ]
    doctree = tmp_path / ".doctrees" / "notebooks" / f"{path.stem}.doctree"
    doctree.parent.mkdir(parents=True)
    doctree.touch()

    pk = tools.cache_executed(path, outputs, 1.5, build=tmp_path)

    cache = get_cache(str(tmp_path / ".jupyter_cache"))
    assert cache.match_cache_notebook(source).pk == pk
    _, merged = cache.merge_match_into_notebook(source)
    code = [c for c in merged.cells if c.cell_type == "code"]
    assert [c.outputs[0].text for c in code] == [f"cell {i}\n" for i in range(n_code)]
    assert [c.execution_count for c in code] == list(range(1, n_code + 1))
    assert not doctree.exists(), "the page must be read again, with the new outputs"

    with pytest.raises(ValueError, match="code cells"):
        tools.cache_executed(path, outputs[:-1], build=tmp_path)
    assert tools.uncache(path, build=tmp_path) is True
    with pytest.raises(KeyError):
        cache.match_cache_notebook(source)
    assert tools.uncache(path, build=tmp_path) is False
