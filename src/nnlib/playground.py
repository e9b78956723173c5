"""The chapter 1 interactive figures: a perceptron over logic gates and an MLP playground.

These are thin functions that connect controls (:mod:`nnlib.widgets`) to the
drawing functions of :mod:`nnlib.plots`. The playground is in the spirit of the
TensorFlow Playground: pick a data set, a width and a depth, and see the decision
boundary a small ReLU MLP learns. Trained models are memoized, so moving a control
back to a setting already seen redraws at once.
"""

from __future__ import annotations

from functools import lru_cache

from matplotlib.figure import Figure

from nnlib.data import DATASETS, logic_gate
from nnlib.mlp import MLP, MLPConfig, predict_classes, train_classifier
from nnlib.plots import plot_decision_boundary, plot_perceptron
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "draw_perceptron",
    "interactive_perceptron",
    "train_playground",
    "draw_playground",
    "interactive_playground",
]


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

    Returns the model and its training accuracy; results are cached per argument set.

    Examples
    --------
    >>> model, acc = train_playground("xor", 8, 1)
    >>> acc
    1.0
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    X, y = DATASETS[dataset](seed=seed)
    model = MLP(MLPConfig(in_features=2, hidden=[int(width)] * int(depth), out_features=1))
    hist = train_classifier(model, X, y, steps=steps, lr=lr, seed=seed)
    return model, hist["final_accuracy"][0]


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
