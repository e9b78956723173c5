"""Chapter 6's MNIST-1D experiments: the benchmark table and the CNN's learned filters.

* :func:`benchmark` trains the models of :mod:`nnlib.cnn` on MNIST-1D as generated
  and shuffled; :func:`plot_benchmark` sets our accuracies beside those of
  Greydanus & Kobak (2020), :data:`PAPER_ACCURACY`.
* :func:`interactive_filters` shows one first-layer kernel of a trained
  :class:`nnlib.cnn.CNN1D` and where it responds on one signal of each class.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnlib.cnn import CNN1D, MODELS, RECIPES, make_model, num_parameters, train_mnist1d
from nnlib.data import mnist1d
from nnlib.plots import series_style
from nnlib.widgets import InteractiveFigure, Slider

__all__ = [
    "PAPER_ACCURACY",
    "benchmark",
    "plot_benchmark",
    "plot_signals",
    "first_layer_responses",
    "draw_filter",
    "interactive_filters",
]

#: Test accuracy (%) in Greydanus & Kobak (2020), Table 1: (as generated, shuffled).
PAPER_ACCURACY: dict[str, tuple[float, float]] = {
    "logistic": (32.0, 32.0),
    "mlp": (68.0, 68.0),
    "cnn": (94.0, 56.0),
}


def benchmark(
    models=MODELS, *, recipe=None, num_samples: int = 5000
) -> list[dict[str, float | str | int]]:
    """Train each model on MNIST-1D as generated and shuffled; one row per model.

    Each model trains with ``recipe``, by default its own in :data:`nnlib.cnn.RECIPES`.

    Shapes
    ------
    returns rows with keys model, parameters, accuracy, shuffled (test accuracy in %),
    seconds, shuffled_seconds, and net (the model trained on the data as generated).

    Examples
    --------
    >>> from nnlib.cnn import Recipe
    >>> rows = benchmark(["logistic"], recipe=Recipe(epochs=1), num_samples=200)
    >>> rows[0]["model"], rows[0]["parameters"]
    ('logistic', 410)
    """
    rows = []
    for name in models:
        row: dict[str, float | str | int] = {"model": name}
        for shuffled, key in ((False, "accuracy"), (True, "shuffled")):
            model = make_model(name)
            history, seconds = train_mnist1d(
                model,
                mnist1d(shuffled=shuffled, num_samples=num_samples),
                recipe or RECIPES.get(name),
            )
            row[key] = 100 * history.final("val", "accuracy")
            row["seconds" if not shuffled else "shuffled_seconds"] = seconds
            row["parameters"] = num_parameters(model)
            if not shuffled:
                row["net"] = model  # the trained model, for later figures
        rows.append(row)
    return rows


def plot_benchmark(ax: Axes, rows: list[dict]) -> Axes:
    """Bars of test accuracy: ours and the paper's, as generated and shuffled.

    Examples
    --------
    >>> fig = Figure()
    >>> rows = [{"model": "cnn", "accuracy": 95.0, "shuffled": 60.0}]
    >>> plot_benchmark(fig.add_subplot(), rows).get_ylabel()
    'test accuracy (%)'
    """
    names = [r["model"] for r in rows]
    x = np.arange(len(names))
    bars = [
        ("ours, as generated", [r["accuracy"] for r in rows], None),
        ("paper, as generated", [PAPER_ACCURACY[n][0] for n in names], "//"),
        ("ours, shuffled", [r["shuffled"] for r in rows], None),
        ("paper, shuffled", [PAPER_ACCURACY[n][1] for n in names], "//"),
    ]
    width = 0.2
    for i, (label, values, hatch) in enumerate(bars):
        style = series_style(i // 2)  # one colour per condition; the paper's hatched
        ax.bar(
            x + (i - 1.5) * width,
            values,
            width,
            label=label,
            color=style["color"],
            hatch=hatch,
            edgecolor="white" if hatch else None,
        )
    ax.set_xticks(x, names)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 119)
    ax.axhline(10, color="0.5", lw=0.8, ls=":")
    ax.legend(loc="upper left", ncol=2, fontsize="small", frameon=False)
    ax.set_title("MNIST-1D: our models beside the paper's")
    return ax


def plot_signals(ax: Axes, X: np.ndarray, y: np.ndarray, *, title: str, per_class: int = 1) -> Axes:
    """A few signals, one row per class, offset vertically.

    Shapes
    ------
    X : (N, L);  y : (N,).

    Examples
    --------
    >>> fig = Figure()
    >>> X = np.random.default_rng(0).normal(size=(20, 40)); y = np.arange(20) % 10
    >>> plot_signals(fig.add_subplot(), X, y, title="t").get_ylabel()
    'class'
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"expected X (N, L) and y (N,), got {X.shape} and {y.shape}")
    for c in range(10):
        for j in np.flatnonzero(y == c)[:per_class]:
            ax.plot(X[j] / 4 + c, color=series_style(c % 2)["color"], lw=1.2)
    ax.set_yticks(range(10))
    ax.set_ylabel("class")
    ax.set_xlabel("position")
    ax.set_title(title, fontsize="medium")
    return ax


@torch.no_grad()
def first_layer_responses(model: CNN1D, X: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The first layer's kernels and its ReLU feature maps on the signals ``X``.

    Shapes
    ------
    X : (N, L);  returns kernels (C, k) and responses (N, C, L).

    Examples
    --------
    >>> w, r = first_layer_responses(CNN1D(seed=0), torch.zeros(3, 40))
    >>> w.shape, r.shape
    ((32, 5), (3, 32, 40))
    """
    conv = model.body[0]
    responses = torch.relu(conv(X.unsqueeze(1)))  # (N, C, L)
    return conv.weight[:, 0].numpy().copy(), responses.numpy()


def draw_filter(
    fig: Figure, *, index: int, kernels: np.ndarray, responses: np.ndarray, labels: np.ndarray
) -> None:
    """Kernel ``index`` (its taps as bars) and its response to one signal per class.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_filter(fig, index=0, kernels=np.ones((2, 5)), responses=np.ones((10, 2, 40)),
    ...             labels=np.arange(10))
    >>> fig.axes[0].get_title()
    'kernel 0'
    """
    index = int(index)
    ax_k, ax_r = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 3]})
    taps = kernels[index]
    ax_k.bar(np.arange(len(taps)), taps, color=series_style(0)["color"])
    ax_k.axhline(0, color="0.4", lw=0.8)
    bound = float(np.abs(kernels).max())
    ax_k.set(ylim=(-bound, bound), xlabel="tap", ylabel="weight", title=f"kernel {index}")
    rows = [np.flatnonzero(labels == c)[0] for c in range(10) if (labels == c).any()]
    image = responses[rows, index]  # (classes, L)
    ax_r.imshow(image, aspect="auto", cmap="viridis", vmin=0, vmax=max(responses.max(), 1e-9))
    ax_r.set_yticks(range(len(rows)), [str(int(labels[r])) for r in rows])
    ax_r.set(xlabel="position", ylabel="class of the signal", title="its ReLU response")


def interactive_filters(model: CNN1D, X: torch.Tensor, y: torch.Tensor) -> InteractiveFigure:
    """The trained CNN's first-layer kernels, one at a time, with their responses.

    Live: every kernel; website: every other one.

    Examples
    --------
    >>> X = torch.randn(10, 40); y = torch.arange(10)
    >>> interactive_filters(CNN1D(seed=0), X, y).frame_count
    16
    """
    kernels, responses = first_layer_responses(model, X)
    channels = len(kernels)
    return InteractiveFigure(
        partial(draw_filter, kernels=kernels, responses=responses, labels=np.asarray(y)),
        [
            Slider(
                "index",
                0,
                channels - 1,
                1,
                default=0,
                static_values=range(0, channels, 2),
                integer=True,
            )
        ],
        figsize=(7.0, 2.8),
        dpi=90,
        alt=(
            "Left, the five weights of one first-layer kernel of the trained CNN as bars; "
            "right, a heat map of that kernel's ReLU response along the 40 positions of one "
            "test signal of each class, bright where the signal matches the kernel's pattern."
        ),
    )
