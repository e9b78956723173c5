"""Housekeeping for the course notebooks.

``python scripts/notebook_tools.py sync``  writes the Colab set-up cell into every
notebook, from the repository URL in ``_config.yml`` (the one place it is named).
``python scripts/notebook_tools.py strip`` removes outputs and execution counts
(with nbstripout, keeping cell ids).
``python scripts/notebook_tools.py check`` fails if either is out of date.

The notebook test (``notebooks/conftest.py``) also uses :func:`cache_executed` and
:func:`uncache` to hand the notebooks it executed to the website build.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# Jupyter Book's build folder; _config.yml leaves the execution cache in it (tested).
BUILD = ROOT / "_build"
COLAB_TAG = "colab-setup"
# --keep-id: the committed cell ids stay (nbstripout would renumber them 0, 1, 2, ...).
NBSTRIPOUT = [sys.executable, "-m", "nbstripout", "--keep-id"]


def book_config() -> dict:
    """Jupyter Book's ``_config.yml``."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def repository_url() -> str:
    """The course repository URL, read from ``_config.yml``'s ``repository.url``."""
    url = (book_config().get("repository") or {}).get("url")
    if not url:
        raise ValueError("_config.yml has no repository.url")
    return url


def _cache(build: Path):
    """Jupyter Book's execution cache (jupyter-cache), in its default place under ``build``."""
    from jupyter_cache import get_cache

    return get_cache(str(build / ".jupyter_cache"))


def prepare_cache(build: Path = BUILD) -> None:
    """Create the cache's folder and database now, before parallel test workers use it."""
    from jupyter_cache.cache.db import create_db

    path = build / ".jupyter_cache"
    path.mkdir(parents=True, exist_ok=True)
    create_db(path)


def _page_outdated(path: Path, build: Path) -> None:
    """Make the next book build read ``path``'s page again, with its new outputs.

    Sphinx re-reads a page when its source changed or its doctree is missing; a new
    executed version in the cache is neither, so the doctree goes.
    """
    page = path.resolve().relative_to(ROOT).with_suffix(".doctree")
    (build / ".doctrees" / page).unlink(missing_ok=True)


def colab_cell_source(url: str) -> str:
    return (
        "# Set-up for Google Colab: install the course library `nnlib` from the course\n"
        "# repository. Anywhere else (JupyterLab, Binder, the website) it is installed\n"
        "# already and this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "nnlib @ git+{url}"'
    )


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def colab_cell_problems(path: Path, url: str) -> list[str]:
    cell = _first_code_cell(_read(path))
    if cell is None or COLAB_TAG not in cell.metadata.get("tags", []):
        return [f"{path.name}: the first code cell is not the tagged Colab set-up cell"]
    if cell.source != colab_cell_source(url):
        return [f"{path.name}: the Colab set-up cell differs from _config.yml's repository"]
    return []


def output_problems(paths: list[Path]) -> list[str]:
    """The notebooks that nbstripout would change (outputs, counts, widget state)."""
    run = subprocess.run(
        [*NBSTRIPOUT, "--dry-run", *map(str, paths)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise RuntimeError(f"nbstripout failed:\n{run.stdout}{run.stderr}")
    # One line per notebook that would change: "Dry run: would have stripped <path>".
    return [f"{line.rsplit(' ', 1)[-1]}: carries outputs" for line in run.stdout.splitlines()]


def strip(paths: list[Path]) -> None:
    subprocess.run([*NBSTRIPOUT, *map(str, paths)], check=True)


def sync(path: Path, url: str) -> None:
    nb = _read(path)
    cell = _first_code_cell(nb)
    if cell is not None and COLAB_TAG in cell.metadata.get("tags", []):
        cell.source = colab_cell_source(url)
    else:
        new = nbformat.v4.new_code_cell(
            colab_cell_source(url), id=COLAB_TAG, metadata={"tags": [COLAB_TAG, "remove-cell"]}
        )
        first_code = next(
            (i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells)
        )
        nb.cells.insert(first_code, new)
    nbformat.write(nb, path)


def cache_executed(
    path: Path, outputs: list[list[dict]], seconds: float | None = None, *, build: Path = BUILD
) -> int:
    """Store ``path`` with these outputs, one list per code cell, as executed; return its id.

    Jupyter Book (``execute_notebooks: cache``) finds a notebook in its cache by a
    hash of its code cells and kernelspec, so the website then shows these outputs
    and does not execute the notebook again.
    """
    from jupyter_cache.base import CacheBundleIn

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if len(code) != len(outputs):
        raise ValueError(f"{path.name} has {len(code)} code cells, got {len(outputs)} outputs")
    for count, (cell, outs) in enumerate(zip(code, outputs, strict=True), start=1):
        cell.outputs = [nbformat.from_dict(dict(o)) for o in outs]
        cell.execution_count = count
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
    nbformat.validate(nb)
    record = _cache(build).cache_notebook_bundle(
        CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
        check_validity=False,
        overwrite=True,
    )
    _page_outdated(path, build)
    return record.pk


def uncache(path: Path, *, build: Path = BUILD) -> bool:
    """Remove ``path``'s executed version from the cache; True if there was one.

    The book build then executes the notebook itself, and re-reads its page either way.
    """
    _page_outdated(path, build)
    cache = _cache(build)
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return False
    cache.remove_cache(record.pk)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "strip", "check"])
    args = parser.parse_args(argv)
    url, paths = repository_url(), notebooks()
    if args.command == "sync":
        for p in paths:
            sync(p, url)
    elif args.command == "strip":
        strip(paths)
    else:
        problems = [m for p in paths for m in colab_cell_problems(p, url)]
        problems += output_problems(paths)
        print("\n".join(problems) or f"{len(paths)} notebooks are clean")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
