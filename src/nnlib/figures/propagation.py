"""Chapter 5's experiments and figures: signal propagation, PCA on digits, deep stacks trained.

``plot_*`` functions draw on a given Axes; ``interactive_*`` functions only connect
controls (:mod:`nnlib.widgets`) to them. Both interactive figures show statistics
of forward and backward passes at initialization or a fixed PCA, never training,
so every frame is cheap; results are memoized all the same. :func:`gd_least_squares`
measures how whitening speeds up gradient descent on a linear layer,
:func:`train_stack` trains the chapter's 30-layer stacks with :func:`nnlib.train.fit`,
and :func:`sweep_learning_rates` trains each of several stacks at every rate of one
grid, so that each is compared at its own best rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnlib.activations import ACTIVATIONS
from nnlib.data import check_2d, digits
from nnlib.deep_mlp import DeepMLP, DeepMLPConfig
from nnlib.initialization import INIT_SCHEMES, propagate
from nnlib.pca import PCA
from nnlib.plots import OKABE_ITO, series_style
from nnlib.train import History, fit
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "gd_least_squares",
    "least_squares_optimum",
    "train_stack",
    "SWEEP_LRS",
    "final_loss",
    "sweep_learning_rates",
    "best_rates",
    "plot_lr_sweep",
    "plot_layer_statistics",
    "plot_std_curves",
    "plot_digit_reconstructions",
    "layer_statistics",
    "draw_propagation",
    "interactive_propagation",
    "digits_pca",
    "draw_pca_reconstruction",
    "interactive_pca",
]

#: Width of the random stacks in the propagation figure.
FIGURE_WIDTH = 128
#: The digits shown in the PCA figure (indices into ``digits()``), one of each class.
SHOWN_DIGITS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def plot_layer_statistics(
    ax: Axes,
    activation_std: Sequence[float],
    grad_norm: Sequence[float],
    *,
    title: str = "Signal through the layers",
) -> Axes:
    """Activation std (layers 0..D) and weight-gradient norm (layers 1..D), log scale.

    The shaded band is [0.5, 2] times the input's standard deviation.

    Shapes
    ------
    activation_std : (D + 1,);  grad_norm : (D,).

    Examples
    --------
    >>> ax = plot_layer_statistics(Figure().add_subplot(), [1.0, 0.5, 0.25], [1e-3, 1e-2])
    >>> ax.get_yscale(), len(ax.lines)
    ('log', 2)
    """
    a, gnorm = np.asarray(activation_std, dtype=float), np.asarray(grad_norm, dtype=float)
    if a.ndim != 1 or gnorm.shape != (len(a) - 1,):
        raise ValueError(f"expected shapes (D+1,) and (D,), got {a.shape} and {gnorm.shape}")
    ax.axhspan(0.5 * a[0], 2.0 * a[0], color=OKABE_ITO["sky_blue"], alpha=0.2, lw=0)
    tiny = np.finfo(float).tiny  # an exact zero cannot be drawn on a log axis
    ax.plot(
        np.arange(len(a)), np.maximum(a, tiny), "o-", ms=3, color=OKABE_ITO["blue"],
        label="activation std",
    )  # fmt: skip
    ax.plot(
        np.arange(1, len(a)), np.maximum(gnorm, tiny), "^--", ms=3,
        color=OKABE_ITO["vermillion"], label="weight-gradient norm",
    )  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("layer $n$")
    ax.set_ylabel("value (log scale)")
    ax.set_title(title, fontsize="medium")
    # Below the axes: the curves can run anywhere, so a legend inside could hide them.
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_std_curves(
    ax: Axes,
    curves: dict[str, Sequence[float]],
    *,
    title: str = "Activation std through the layers",
    ylabel: str = "std of the output of layer $n$ (log scale)",
) -> Axes:
    """Several per-layer curves (one per label) on a log axis.

    Shapes
    ------
    each curve : (D + 1,), its layers 0..D.

    Examples
    --------
    >>> ax = plot_std_curves(Figure().add_subplot(), {"a": [1, 2, 4], "b": [1, 1, 1]})
    >>> len(ax.lines)
    2
    """
    for i, (label, values) in enumerate(curves.items()):
        v = np.maximum(np.asarray(values, dtype=float), np.finfo(float).tiny)
        ax.plot(
            np.arange(len(v)), v, ms=3, markevery=max(1, len(v) // 10), label=label,
            **series_style(i, marker=True),
        )  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("layer $n$")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    # Below the axes: the curves span the whole height, so a legend inside would cover them.
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_digit_reconstructions(
    ax: Axes, originals: np.ndarray, reconstructions: np.ndarray, *, title: str = ""
) -> Axes:
    """Originals (top row) above their reconstructions (bottom row), as one image.

    Shapes
    ------
    originals, reconstructions : (m, 64), flattened 8 x 8 images with values 0..16.

    Examples
    --------
    >>> ax = plot_digit_reconstructions(Figure().add_subplot(), np.zeros((3, 64)), np.ones((3, 64)))
    >>> ax.images[0].get_array().shape  # 2 rows of 8 px + a 1 px gap, 3 columns of 9 px
    (17, 27)
    """
    orig, R = np.asarray(originals, dtype=float), np.asarray(reconstructions, dtype=float)
    if orig.ndim != 2 or orig.shape[1] != 64 or R.shape != orig.shape:
        raise ValueError(f"expected two (m, 64) arrays, got {orig.shape} and {R.shape}")
    m = len(orig)
    canvas = np.full((17, 9 * m), np.nan)  # NaN gaps show as background between digits
    for i in range(m):
        canvas[:8, 9 * i : 9 * i + 8] = orig[i].reshape(8, 8)  # (8, 8) image
        canvas[9:, 9 * i : 9 * i + 8] = R[i].reshape(8, 8)  # (8, 8) image
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=16, interpolation="nearest")
    ax.set_yticks([3.5, 12.5], ["original", "recon."])
    ax.set_xticks([])
    ax.set_title(title, fontsize="medium")
    return ax


@lru_cache(maxsize=256)
def layer_statistics(depth: int, init: str, activation: str) -> dict[str, np.ndarray]:
    """Memoized :func:`nnlib.initialization.propagate` on the figure's stack (width 128).

    Examples
    --------
    >>> layer_statistics(5, "he", "relu")["activation_std"].shape
    (6,)
    """
    return propagate(depth=int(depth), width=FIGURE_WIDTH, init=init, activation=activation)


def draw_propagation(fig: Figure, *, depth: int, init: str, activation: str) -> None:
    """Per-layer statistics of a random ``depth``-layer stack, drawn on ``fig``.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_propagation(fig, depth=10, init="he", activation="relu")
    >>> fig.axes[0].get_title()
    'he init, relu, 10 layers'
    """
    s = layer_statistics(int(depth), init, activation)
    plot_layer_statistics(
        fig.add_subplot(),
        s["activation_std"],
        s["grad_norm"],
        title=f"{init} init, {activation}, {int(depth)} layers",
    )


def interactive_propagation() -> InteractiveFigure:
    """Depth, initialization and activation against per-layer statistics.

    Live: any depth from 2 to 50. Website: depths 10 and 50 for every
    initialization and activation (2 x 4 x 5 = 40 frames).

    Examples
    --------
    >>> interactive_propagation().frame_count
    40
    """
    return InteractiveFigure(
        draw_propagation,
        [
            Slider("depth", 2, 50, 1, default=30, static_values=(10, 50), integer=True),
            Choice("init", list(INIT_SCHEMES), default="he"),
            Choice("activation", list(ACTIVATIONS), default="relu"),
        ],
        figsize=(4.2, 3.6),
        dpi=80,
        alt=(
            "Log-scale plot of the activation standard deviation (blue circles) and the "
            "weight-gradient norm (vermillion triangles) at every layer of a random deep "
            "network at initialization, for the chosen depth, initialization and activation; "
            "a shaded band marks half to twice the input's standard deviation."
        ),
    )


@lru_cache(maxsize=1)
def digits_pca() -> tuple[PCA, np.ndarray]:
    """A PCA with all 64 components fitted to the digits, and the digits themselves.

    Examples
    --------
    >>> pca, X = digits_pca()
    >>> pca.components_.shape, X.shape
    ((64, 64), (1797, 64))
    """
    X, _ = digits()
    return PCA().fit(X), X


def draw_pca_reconstruction(fig: Figure, *, n_components: int) -> None:
    """Ten digits and their reconstructions from the first ``n_components`` components.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_pca_reconstruction(fig, n_components=64)
    >>> fig.axes[0].get_title()
    '64 components: 100% of the variance'
    """
    pca, X = digits_pca()
    k = int(n_components)
    shown = X[list(SHOWN_DIGITS)]  # (10, 64)
    recon = pca.reconstruct(shown, k)  # (10, 64); checks 1 <= k <= 64
    kept = pca.explained_variance_ratio_[:k].sum()
    plot_digit_reconstructions(
        fig.add_subplot(),
        shown,
        recon,
        title=f"{k} component{'s' if k > 1 else ''}: {kept:.0%} of the variance",
    )


def interactive_pca() -> InteractiveFigure:
    """Number of principal components against reconstructed digits.

    Live: any number from 1 to 64. Website: 11 values from 1 to 64.

    Examples
    --------
    >>> interactive_pca().frame_count
    11
    """
    return InteractiveFigure(
        draw_pca_reconstruction,
        [
            Slider(
                "n_components",
                1,
                64,
                1,
                default=8,
                integer=True,
                static_values=(1, 2, 3, 5, 8, 12, 16, 24, 32, 48, 64),
            ),
        ],  # fmt: skip
        figsize=(5.0, 1.6),
        dpi=80,
        alt=(
            "Ten handwritten digits, one of each class, in the top row, and below each its "
            "reconstruction from the first k principal components; the title gives k and "
            "the fraction of the variance kept."
        ),
    )


def _least_squares_problem(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inputs with a column of ones, ``(n, d+1)``, and the one-hot targets, ``(n, c)``."""
    X = np.asarray(X, dtype=np.float64)
    check_2d(X)
    y = np.asarray(y)
    if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer classes of shape ({len(X)},), got {y.dtype} {y.shape}")
    X1 = np.hstack([X, np.ones((len(X), 1))])  # the bias is the weight of a constant 1
    return X1, np.eye(int(y.max()) + 1)[y]


def gd_least_squares(
    X: np.ndarray, y: np.ndarray, *, steps: int, lr: float | None = None
) -> tuple[np.ndarray, float]:
    """Full-batch gradient descent for a linear layer fitted to one-hot targets.

    The loss ``loss(W) = mean_i ||[x_i, 1] W - onehot(y_i)||^2`` is a quadratic with
    Hessian ``2 A``, ``A = X1^T X1 / n`` (``X1`` = inputs with a column of ones), so
    gradient descent converges fastest in the directions of large eigenvalues of
    ``A`` and slowest in those of small ones. By default ``lr = 1 / (2 lambda_max(A))``,
    the step that exactly minimizes along the steepest direction of the bowl.

    Returns the loss before each step and after the last, and the learning rate used.

    Shapes
    ------
    X : (n, d);  y : (n,) integer classes;  returns ((steps + 1,), float).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> losses, lr = gd_least_squares(X, y, steps=200)
    >>> bool(losses[0] > losses[-1]), round(float(losses[-1]), 4)
    (True, 0.1)
    """
    X1, Y = _least_squares_problem(X, y)  # (n, d+1), (n, c)
    n = len(X1)
    # The loss only needs A, X1^T Y / n and mean ||y||^2: every step costs O(d^2 c), not O(n d c).
    A, B, c = X1.T @ X1 / n, X1.T @ Y / n, float((Y**2).sum() / n)  # (d+1, d+1), (d+1, c), float
    if lr is None:
        lr = 1.0 / (2.0 * np.linalg.eigvalsh(A)[-1])
    W = np.zeros_like(B)  # (d+1, c)
    losses = np.empty(steps + 1)
    for t in range(steps + 1):
        AW = A @ W
        losses[t] = float(np.sum(W * AW) - 2 * np.sum(W * B) + c)
        W = W - lr * 2 * (AW - B)  # gradient of the loss: 2 (A W - X1^T Y / n)
    return losses, float(lr)


def least_squares_optimum(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest loss :func:`gd_least_squares` can reach (exact least squares).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> round(least_squares_optimum(X, y), 4)
    0.1
    """
    X1, Y = _least_squares_problem(X, y)  # (n, d+1), (n, c)
    W = np.linalg.lstsq(X1, Y, rcond=None)[0]  # (d+1, c)
    return float(np.mean(np.sum((X1 @ W - Y) ** 2, axis=1)))


def train_stack(
    config: DeepMLPConfig,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 300,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 128,
    eval_every: int = 10,
    seed: int = 0,
    desc: str = "training",
) -> History:
    """Train ``DeepMLP(config, seed=seed)`` with mini-batch SGD and momentum on the cross-entropy.

    Each batch is drawn at random, with replacement; the loss on the whole set (in
    evaluation mode) is recorded before training and every ``eval_every`` steps.
    Training stops at the first non-finite loss.

    Shapes
    ------
    X : (N, in_features);  y : (N,) integer classes.

    Examples
    --------
    >>> from nnlib.data import digits
    >>> X, y = (torch.tensor(a) for a in digits(standardized=True))
    >>> h = train_stack(DeepMLPConfig(depth=2, width=16), X.float(), y, steps=40, eval_every=20)
    >>> h.eval_steps, bool(h.train["loss"][-1] < h.train["loss"][0])
    ([0, 20, 40], True)
    """
    model = DeepMLP(config, seed=seed)
    return fit(
        model,
        X,
        y,
        optimizer=torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum),
        loss="cross_entropy",
        steps=steps,
        batch_size=batch_size,
        sampler="random",
        eval_every=eval_every,
        eval_at_start=True,
        seed=seed,
        desc=desc,
    )


#: The learning rates of the chapter's sweep: steps of about 3 from 0.001 to 0.3.
SWEEP_LRS: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def final_loss(history: History) -> float:
    """The last evaluated training loss, or ``inf`` if training stopped on a non-finite loss.

    Examples
    --------
    >>> h = History(); h.train["loss"] = [2.3, float("nan")]; h.stop_reason = "non-finite loss"
    >>> final_loss(h)
    inf
    """
    last = float(history.train["loss"][-1])
    diverged = history.stop_reason == "non-finite loss" or not np.isfinite(last)
    return float("inf") if diverged else last


def sweep_learning_rates(
    configs: dict[str, DeepMLPConfig],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    lrs: Sequence[float] = SWEEP_LRS,
    steps: int = 100,
    eval_every: int = 25,
    seed: int = 0,
) -> dict[str, dict[float, History]]:
    """:func:`train_stack` for every config at every learning rate of ``lrs``.

    Every run starts from the same seeded weights and sees the same batches, so
    the configs differ only in their architecture and the rates only in the step.

    Shapes
    ------
    X : (N, in_features);  y : (N,);  returns ``{name: {lr: History}}``.

    Examples
    --------
    >>> from nnlib.data import digits
    >>> X, y = (torch.tensor(a) for a in digits(standardized=True))
    >>> s = sweep_learning_rates({"tiny": DeepMLPConfig(depth=1, width=8)}, X.float(), y,
    ...                          lrs=(0.01, 0.1), steps=20, eval_every=10)
    >>> sorted(s["tiny"]), s["tiny"][0.1].eval_steps
    ([0.01, 0.1], [0, 10, 20])
    """
    if not lrs or any(not lr > 0 for lr in lrs):
        raise ValueError(f"lrs must be a non-empty sequence of positive rates, got {lrs!r}")
    return {
        name: {
            float(lr): train_stack(
                cfg,
                X,
                y,
                steps=steps,
                lr=float(lr),
                eval_every=eval_every,
                seed=seed,
                desc=f"{name}, lr {lr:g}",
            )
            for lr in lrs
        }
        for name, cfg in configs.items()
    }


def best_rates(sweep: dict[str, dict[float, History]]) -> dict[str, tuple[float, float]]:
    """For every config of a sweep, its best rate and the final loss there (``(lr, loss)``).

    The best rate is the one with the smallest :func:`final_loss`; a config that
    diverged at every rate gets ``(nan, inf)``.

    Examples
    --------
    >>> def run(loss):
    ...     h = History(); h.train["loss"] = [2.3, loss]; h.stop_reason = "completed"; return h
    >>> best_rates({"a": {0.01: run(1.0), 0.1: run(0.5), 1.0: run(float("nan"))}})
    {'a': (0.1, 0.5)}
    """
    best = {}
    for name, runs in sweep.items():
        finals = {lr: final_loss(h) for lr, h in runs.items()}
        lr = min(finals, key=finals.get)
        best[name] = (lr, finals[lr]) if np.isfinite(finals[lr]) else (float("nan"), np.inf)
    return best


def plot_lr_sweep(
    ax: Axes,
    sweep: dict[str, dict[float, History]],
    *,
    title: str = "Final loss against the learning rate",
) -> Axes:
    """Final training loss against the learning rate (log-log), one line per config.

    Rates at which a config diverged are left out of its line.

    Examples
    --------
    >>> def run(loss):
    ...     h = History(); h.train["loss"] = [2.3, loss]; h.stop_reason = "completed"; return h
    >>> ax = plot_lr_sweep(Figure().add_subplot(), {"a": {0.01: run(1.0), 0.1: run(0.5)}})
    >>> ax.lines[0].get_xdata().tolist(), ax.get_xscale()
    ([0.01, 0.1], 'log')
    """
    for i, (name, runs) in enumerate(sweep.items()):
        finals = {lr: final_loss(h) for lr, h in sorted(runs.items())}
        lrs = [lr for lr, v in finals.items() if np.isfinite(v)]
        ax.plot(
            lrs,
            [finals[lr] for lr in lrs],
            ms=4,
            label=name,
            **series_style(i, marker=True),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("final training loss (log scale)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    return ax
