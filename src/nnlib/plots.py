"""The course's palette, and the plotting functions shared by the chapters.

No function here touches pyplot's global state, so they run under the Agg backend
in tests and inside :class:`nnlib.widgets.InteractiveFigure` frames. Colours come
from the Okabe-Ito palette, which stays distinguishable for the common forms of
colour blindness (Okabe & Ito 2008). A figure with several lines also tells them
apart by line style (:func:`series_style`), for readers who cannot use colour at all.
Drawings that belong to one chapter live in :mod:`nnlib.figures`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

__all__ = [
    "OKABE_ITO",
    "SERIES_COLORS",
    "SERIES_LINESTYLES",
    "SERIES_MARKERS",
    "series_style",
    "CLASS_COLORS",
    "CLASS_MARKERS",
    "shade_regions",
    "plot_points",
    "plot_decision_boundary",
]

#: The Okabe-Ito colour-blind-safe palette, by name.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
#: The order in which a plot with several lines takes its colours. Orange comes last:
#: beside vermillion it is the pair readers confuse most, so plots of up to six lines
#: never hold both.
SERIES_COLORS: tuple[str, ...] = tuple(
    OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple", "black",
                           "sky_blue", "orange")
)  # fmt: skip
#: Dash patterns cycled with the colours, so that lines differ in more than colour.
SERIES_LINESTYLES: tuple[str | tuple, ...] = (
    "-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)), (0, (3, 1, 1, 1)),
)  # fmt: skip
#: Markers cycled with the colours, for plots whose lines cross or lie close together.
SERIES_MARKERS: tuple[str, ...] = ("o", "^", "s", "D", "v", "P", "X")


def series_style(i: int, *, marker: bool = False) -> dict[str, Any]:
    """Colour, dash pattern and (optionally) marker of the ``i``-th line of a plot.

    The result holds keyword arguments of ``ax.plot``. The first six lines differ in
    colour and in dash pattern, and with ``marker=True`` in marker too, so they can be
    told apart in grey print and by readers who cannot tell colours apart. With
    markers on a long line, pass ``markevery`` as well.

    Examples
    --------
    >>> series_style(0)
    {'color': '#0072B2', 'linestyle': '-'}
    >>> series_style(1, marker=True)["marker"], series_style(7) == series_style(0)
    ('^', False)
    """
    style = {
        "color": SERIES_COLORS[i % len(SERIES_COLORS)],
        "linestyle": SERIES_LINESTYLES[i % len(SERIES_LINESTYLES)],
    }
    if marker:
        style["marker"] = SERIES_MARKERS[i % len(SERIES_MARKERS)]
    return style


#: Colours of class 0 and class 1 (blue and orange stay apart for every colour vision).
CLASS_COLORS: tuple[str, str] = (OKABE_ITO["blue"], OKABE_ITO["orange"])
#: Markers repeat the class in shape, for readers who cannot use colour at all.
CLASS_MARKERS: tuple[str, str] = ("o", "^")
_REGION_CMAP = ListedColormap(["#B9D7EA", "#F5DDA8"])  # light blue / light orange


def shade_regions(
    ax: Axes, predict: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, resolution: int
) -> None:
    """Colour the square ``[lo, hi]`` squared by the class (0 or 1) ``predict`` assigns."""
    g = np.linspace(lo, hi, resolution)
    G1, G2 = np.meshgrid(g, g)  # (r, r) each
    grid = np.stack([G1.ravel(), G2.ravel()], axis=1)  # (r*r, 2)
    Z = np.asarray(predict(grid)).astype(float).reshape(G1.shape)  # (r, r)
    ax.contourf(G1, G2, Z, levels=[-0.5, 0.5, 1.5], cmap=_REGION_CMAP)


def plot_points(ax: Axes, X: np.ndarray, y: np.ndarray, *, size: float = 18) -> Axes:
    """Scatter 2-D points, one colour and marker per class (0 and 1).

    Shapes
    ------
    X : (n, 2);  y : (n,).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_points(Figure().add_subplot(), np.zeros((3, 2)), np.array([0, 1, 1]))
    >>> len(ax.collections)
    2
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),):
        raise ValueError(f"expected X (n, 2) and y (n,), got {X.shape} and {y.shape}")
    for c in (0, 1):
        m = y == c
        ax.scatter(
            X[m, 0], X[m, 1], s=size, c=CLASS_COLORS[c], marker=CLASS_MARKERS[c],
            edgecolors="black", linewidths=0.5, label=f"class {c}", zorder=3,
        )  # fmt: skip
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_decision_boundary(
    ax: Axes,
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    title: str = "Decision regions",
    lim: float = 1.6,
    resolution: int = 80,
) -> Axes:
    """Colour the plane by the class ``predict`` assigns, then draw the data on top.

    Parameters
    ----------
    predict : callable
        Maps an ``(m, 2)`` array of points to ``(m,)`` labels in {0, 1}.
    lim : float
        The plane is drawn over ``[-lim, lim]`` squared.

    Shapes
    ------
    X : (n, 2);  y : (n,).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> X, y = np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([0, 1])
    >>> ax = plot_decision_boundary(Figure().add_subplot(), lambda P: P[:, 0] > 0, X, y)
    >>> ax.get_title()
    'Decision regions'
    """
    shade_regions(ax, predict, -lim, lim, resolution)
    plot_points(ax, X, y)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
    return ax
