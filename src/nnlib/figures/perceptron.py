"""Chapter 1's figures: a perceptron over logic gates, an MLP playground, approximation.

The ``plot_*`` functions draw on a given Axes; the ``interactive_*`` functions
connect controls (:mod:`nnlib.widgets`) to them. The playground is in the spirit of the
TensorFlow Playground: pick a data set, a width and a depth, and see the decision
boundary a small ReLU MLP learns. Trained models are memoized, so moving a control
back to a setting already seen redraws at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from nnlib.data import DATASETS, logic_gate
from nnlib.losses import accuracy
from nnlib.mlp import MLP, MLPConfig, predict_classes
from nnlib.plots import (
    SERIES_COLORS,
    plot_decision_boundary,
    plot_points,
    series_style,
    shade_regions,
)
from nnlib.train import fit
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "plot_perceptron",
    "plot_approximation",
    "plot_error_vs_width",
    "draw_perceptron",
    "interactive_perceptron",
    "train_playground",
    "draw_playground",
    "interactive_playground",
]


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
    shade_regions(ax, predict, lo, hi, len(g))
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
    ax.plot(x, target, color="black", ls=":", lw=2.5, label="target")
    for i, (label, f) in enumerate(fits.items()):
        ax.plot(x, np.asarray(f).ravel(), lw=1.5, label=label, **series_style(i))
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
    ax.loglog(widths, errors, "o-", color=SERIES_COLORS[0])
    # Label the measured widths themselves; log-axis minor labels would overlap.
    ax.set_xticks(list(widths), [str(w) for w in widths])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("hidden units (width)")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def draw_perceptron(fig: Figure, *, w1: float, w2: float, b: float, task: str) -> None:
    """Draw the perceptron ``step(w1 x1 + w2 x2 + b)`` over the gate ``task``.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_perceptron(fig, w1=1.0, w2=1.0, b=-0.5, task="OR")
    >>> fig.axes[0].get_title()
    'OR: accuracy 4/4'
    """
    X, y = logic_gate(task)
    plot_perceptron(fig.add_subplot(), [w1, w2], b, X, y, title=task)


def interactive_perceptron() -> InteractiveFigure:
    """Sliders for ``w1``, ``w2``, ``b`` and a choice of gate (AND, OR, XOR).

    On the website every control moves over a small grid (3 x 3 x 3 x 3 = 81
    frames) that contains a solution of AND (1, 1, -1.5) and of OR (1, 1, -0.5).

    Examples
    --------
    >>> interactive_perceptron().frame_count
    81
    """
    weights = (-1.0, 0.0, 1.0)
    return InteractiveFigure(
        draw_perceptron,
        [
            Slider("w1", -2.0, 2.0, 0.1, default=1.0, static_values=weights),
            Slider("w2", -2.0, 2.0, 0.1, default=1.0, static_values=weights),
            Slider("b", -2.0, 2.0, 0.1, default=-1.5, static_values=(-1.5, -0.5, 0.5)),
            Choice("task", ["AND", "OR", "XOR"]),
        ],
        figsize=(3.6, 3.6),
        dpi=80,
        alt="A perceptron's decision line over the four inputs of a logic gate",
    )


@lru_cache(maxsize=256)
def train_playground(
    dataset: str, width: int, depth: int, *, steps: int = 400, lr: float = 0.03, seed: int = 0
) -> tuple[MLP, float]:
    """Train a ReLU MLP (``depth`` hidden layers of ``width`` units) on a toy data set.

    The model is seeded with ``seed`` and trained by full-batch Adam (Kingma & Ba
    2015). Returns the model and its training accuracy; results are cached per
    argument set.

    Examples
    --------
    >>> model, acc = train_playground("xor", 8, 1)
    >>> acc
    1.0
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    X, y = DATASETS[dataset](seed=seed)
    config = MLPConfig(in_features=2, hidden=[int(width)] * int(depth), out_features=1)
    model = MLP(config, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    hist = fit(
        model, X, y, optimizer=optimizer, steps=steps, metrics={"accuracy": accuracy},
        eval_every=None, show_progress=False,
    )  # fmt: skip
    return model, hist.final("train", "accuracy")


def draw_playground(fig: Figure, *, dataset: str, width: int, depth: int) -> None:
    """Draw the decision regions of the trained playground model over its data.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_playground(fig, dataset="xor", width=8, depth=1)
    >>> fig.axes[0].get_title()
    'xor, 1 x 8: train acc. 100%'
    """
    model, acc = train_playground(dataset, int(width), int(depth))
    X, y = DATASETS[dataset](seed=0)
    ax = plot_decision_boundary(
        fig.add_subplot(),
        lambda P: predict_classes(model, P),
        X,
        y,
        title=f"{dataset}, {depth} x {width}: train acc. {acc:.0%}",
        resolution=70,
    )
    ax.title.set_fontsize("medium")


def interactive_playground() -> InteractiveFigure:
    """Data set, hidden width and depth against the learned decision boundary.

    Live: any width from 1 to 32 and depth from 1 to 4. Website: widths 2, 8, 32
    and depths 1, 2, 3 for each of the four data sets (36 frames).

    Examples
    --------
    >>> interactive_playground().frame_count
    36
    """
    return InteractiveFigure(
        draw_playground,
        [
            Choice("dataset", list(DATASETS)),
            Slider("width", 1, 32, 1, default=8, static_values=(2, 8, 32), integer=True),
            Slider("depth", 1, 4, 1, default=1, static_values=(1, 2, 3), integer=True),
        ],
        figsize=(3.8, 3.8),
        dpi=80,
        alt="Decision regions of a small MLP on a two-dimensional toy data set",
    )
