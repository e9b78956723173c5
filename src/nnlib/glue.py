"""Numbers in a page's prose, taken from the cell that computed them (myst-nb's glue).

A lecture notebook never types a result into its text. The cell that computes a
number hands it to :func:`glue` under a name, and the prose refers to that name with
the MyST role ``{glue:text}`name```; the website build then writes the value the
cell really printed, on whatever machine built it. Values are glued as formatted
text (``fmt`` is a format spec such as ``".1%"`` or ``",d"``), so the prose shows
exactly the digits the notebook meant to show.

Outside a Jupyter Book build (Colab, where myst-nb is not installed) gluing does
nothing: the prose is not rendered by MyST there, and the cell's own output shows
the numbers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["glue"]


def glue(name: str, value: Any, fmt: str = "") -> str:
    """Glue ``format(value, fmt)`` as ``name`` for the page's prose; return that text.

    Examples
    --------
    >>> glue("example_accuracy", 0.8734, ".1%")
    '87.3%'
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier-like string, got {name!r}")
    text = format(value, fmt)
    try:
        from IPython import get_ipython
        from myst_nb import glue as myst_glue
    except ImportError:  # no myst-nb (e.g. Colab): nothing reads glued values there
        return text
    if get_ipython() is not None:  # only a kernel records display data for the page
        # Glued as a str: myst-nb reads the value back with ast.literal_eval, which
        # turns the quoted repr into exactly this text (unquoted "2,436,193" would
        # come back as a tuple).
        myst_glue(name, text, display=False)
    return text
