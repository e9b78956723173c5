"""Sphinx extension: serve MathJax from the built site, not from a CDN.

Sphinx links MathJax from a CDN by default, so a book opened offline (a laptop on a
train, a locked-down lab) shows raw LaTeX. The package ``django-static-mathjax``
(in requirements-lock.txt) ships MathJax 3 as plain files; this extension copies the
parts a page uses into ``_static/mathjax/`` and points ``mathjax_path`` at them.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

ENTRY = "tex-mml-chtml.js"
#: The combined TeX/MathML-to-HTML bundle and what it loads on demand: its fonts,
#: TeX extensions, the right-click menu and the accessibility components.
PARTS = [ENTRY, "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y"]


def mathjax_source() -> Path:
    source = Path(str(files("mathjax"))) / "static" / "mathjax" / "es5"
    if not (source / ENTRY).is_file():
        raise FileNotFoundError(
            f"MathJax files not found under {source}: install django-static-mathjax "
            "(make setup installs it from requirements-lock.txt)"
        )
    return source


def _use_local_mathjax(app, config) -> None:
    mathjax_source()  # fail at the start of the build, not after it
    config.mathjax_path = f"mathjax/{ENTRY}"


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
