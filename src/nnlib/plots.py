"""Plotting functions shared by the chapters: each draws on a given Axes.

No function here touches pyplot's global state, so they run under the Agg backend
in tests and inside :class:`nnlib.widgets.InteractiveFigure` frames. Colours come
from the Okabe-Ito palette, which stays distinguishable for the common forms of
colour blindness (Okabe & Ito 2008).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.ticker import NullFormatter

__all__ = [
    "OKABE_ITO",
    "CLASS_COLORS",
    "CLASS_MARKERS",
    "plot_points",
    "plot_decision_boundary",
    "plot_perceptron",
    "plot_approximation",
    "plot_error_vs_width",
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
#: Colours of class 0 and class 1 (blue and orange stay apart for every colour vision).
CLASS_COLORS: tuple[str, str] = (OKABE_ITO["blue"], OKABE_ITO["orange"])
#: Markers repeat the class in shape, for readers who cannot use colour at all.
CLASS_MARKERS: tuple[str, str] = ("o", "^")
_REGION_CMAP = ListedColormap(["#B9D7EA", "#F5DDA8"])  # light blue / light orange


def _shade_regions(
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
    _shade_regions(ax, predict, -lim, lim, resolution)
    plot_points(ax, X, y)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
    return ax


def plot_perceptron(
    ax: Axes, w: Sequence[float], b: float, X: np.ndarray, y: np.ndarray, *, title: str = ""
) -> Axes:
    """A perceptron over a logic gate: its line ``w1 x1 + w2 x2 + b = 0``, the region
    it maps to 1 (shaded orange) and the four points; the accuracy goes in the title.

    Shapes
    ------
    w : (2,);  X : (4, 2);  y : (4,).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from nnlib.data import logic_gate
    >>> X, y = logic_gate("AND")
    >>> plot_perceptron(Figure().add_subplot(), [1, 1], -1.5, X, y, title="AND").get_title()
    'AND: accuracy 4/4'
    """
    w = np.asarray(w, dtype=float)
    if w.shape != (2,):
        raise ValueError(f"w must have shape (2,), got {w.shape}")
    lo, hi = -0.5, 1.5

    def predict(P: np.ndarray) -> np.ndarray:
        return (np.asarray(P) @ w + b > 0).astype(int)  # (m,)

    g = np.linspace(lo, hi, 121)
    _shade_regions(ax, predict, lo, hi, len(g))
    if w[1] != 0:
        ax.plot(g, -(w[0] * g + b) / w[1], color="black", lw=1.5)
    elif w[0] != 0:
        ax.axvline(-b / w[0], color="black", lw=1.5)
    plot_points(ax, X, y, size=90)
    correct = int((predict(X) == np.asarray(y)).sum())
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_title(f"{title + ': ' if title else ''}accuracy {correct}/{len(y)}")
    return ax


def plot_approximation(
    ax: Axes,
    x: np.ndarray,
    target: np.ndarray,
    fits: Mapping[str, np.ndarray],
    *,
    title: str = "Approximating a function",
) -> Axes:
    """The target curve (black, dashed) and one curve per fitted model.

    Shapes
    ------
    x, target and each fit : (n,).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> x = np.linspace(0, 1, 5)
    >>> ax = plot_approximation(Figure().add_subplot(), x, x**2, {"width 2": x})
    >>> len(ax.lines)
    2
    """
    colors = [OKABE_ITO[k] for k in ("vermillion", "bluish_green", "blue", "reddish_purple")]
    ax.plot(x, target, color="black", ls="--", lw=2, label="target")
    for i, (label, f) in enumerate(fits.items()):
        ax.plot(x, np.asarray(f).ravel(), color=colors[i % len(colors)], lw=1.5, label=label)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_error_vs_width(
    ax: Axes, widths: Sequence[int], errors: Sequence[float], *, title: str = "Error vs width"
) -> Axes:
    """Approximation error against hidden width, both axes logarithmic.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> plot_error_vs_width(Figure().add_subplot(), [1, 2, 4], [1.0, 0.5, 0.1]).get_xscale()
    'log'
    """
    if len(widths) != len(errors):
        raise ValueError(f"got {len(widths)} widths but {len(errors)} errors")
    ax.loglog(widths, errors, "o-", color=OKABE_ITO["blue"])
    # Label the measured widths themselves; log-axis minor labels would overlap.
    ax.set_xticks(list(widths), [str(w) for w in widths])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("hidden units (width)")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return ax
