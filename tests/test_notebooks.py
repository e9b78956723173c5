"""Committed notebooks are clean sources: no outputs, and the shared Colab cell."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "scripts/notebook_tools.py")
tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tools)

NOTEBOOKS = tools.notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_committed(path):
    assert tools.output_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_from_the_configured_repository(path):
    assert tools.colab_cell_problems(path, tools.repository_url()) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_declares_a_python_kernel(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("language") == "python"


def test_repository_url_is_read_from_config():
    assert tools.repository_url().startswith("https://")


def test_colab_cell_does_nothing_outside_colab():
    namespace: dict = {}
    source = tools.colab_cell_source("https://example.invalid/repo")
    # Outside Colab the install line is never reached, so IPython syntax is not needed.
    exec(source.replace("%pip", "raise SystemExit  #"), namespace)
    assert namespace["sys"].modules.get("google.colab") is None
