"""Housekeeping for the course notebooks.

``python scripts/notebook_tools.py sync``  writes the Colab set-up cell into every
notebook, from the repository URL in ``_config.yml`` (the one place it is named).
``python scripts/notebook_tools.py strip`` removes outputs and execution counts.
``python scripts/notebook_tools.py check`` fails if either is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COLAB_TAG = "colab-setup"


def repository_url() -> str:
    """The course repository URL, read from ``_config.yml``'s ``repository.url``."""
    in_repository = False
    for line in (ROOT / "_config.yml").read_text().splitlines():
        if line.startswith("repository:"):
            in_repository = True
        elif in_repository and line.strip().startswith("url:"):
            return line.split("url:", 1)[1].strip()
        elif line and not line.startswith((" ", "#")):
            in_repository = False
    raise ValueError("_config.yml has no repository.url")


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


def _first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def colab_cell_problems(path: Path, url: str) -> list[str]:
    nb = json.loads(path.read_text())
    cell = _first_code_cell(nb)
    if cell is None or COLAB_TAG not in cell.get("metadata", {}).get("tags", []):
        return [f"{path.name}: the first code cell is not the tagged Colab set-up cell"]
    if "".join(cell["source"]) != colab_cell_source(url):
        return [f"{path.name}: the Colab set-up cell differs from _config.yml's repository"]
    return []


def output_problems(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    bad = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    return [f"{path.name}: cells {bad} carry outputs or execution counts"] if bad else []


def _write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def sync(path: Path, url: str) -> None:
    nb = json.loads(path.read_text())
    source = colab_cell_source(url).splitlines(keepends=True)
    cell = _first_code_cell(nb)
    if cell is not None and COLAB_TAG in cell.get("metadata", {}).get("tags", []):
        cell["source"] = source
    else:
        new = {
            "id": "colab-setup",
            "cell_type": "code",
            "execution_count": None,
            "metadata": {"tags": [COLAB_TAG, "remove-cell"]},
            "outputs": [],
            "source": source,
        }
        first_code = next(
            (i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"), len(nb["cells"])
        )
        nb["cells"].insert(first_code, new)
    _write(path, nb)


def strip(path: Path) -> None:
    nb = json.loads(path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    nb.get("metadata", {}).pop("widgets", None)
    _write(path, nb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "strip", "check"])
    args = parser.parse_args(argv)
    url, paths = repository_url(), notebooks()
    if args.command == "sync":
        for p in paths:
            sync(p, url)
    elif args.command == "strip":
        for p in paths:
            strip(p)
    else:
        problems = [m for p in paths for m in colab_cell_problems(p, url) + output_problems(p)]
        print("\n".join(problems) or f"{len(paths)} notebooks are clean")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
