"""Committed notebooks are clean sources: no outputs, and the shared Colab cell."""

from __future__ import annotations

import shutil
import sys
import types

import nbformat
import notebook_tools as tools
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
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
