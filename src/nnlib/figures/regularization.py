"""The chapter 4 experiments and figures: a small MLP overfitting noisy moons, and what
weight penalties (Hoerl & Kennard 1970; Tibshirani 1996), dropout (Srivastava et al.
2014) and early stopping (Prechelt 1998) change.

One setting, used by the notebook, the exercises and the tests: 40 training points of
noisy moons, a 2-32-32-1 ReLU MLP, 500 epochs of full-batch gradient descent with
momentum (:func:`train_regularized`, on :func:`nnlib.train.fit`). Trained models are
memoized, so the interactive figure and the notebook's experiments share their runs.

A second setting, :data:`IRRELEVANT_SETTING`, adds 48 input features of pure noise
to the two moons coordinates: there the L1 penalty's selection of inputs raises the
validation accuracy by several points (:func:`train_irrelevant_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnlib.data import make_moons
from nnlib.losses import accuracy
from nnlib.mlp import predict_classes
from nnlib.plots import OKABE_ITO, plot_decision_boundary, series_style
from nnlib.regularization import (
    DropoutMLP,
    EarlyStopping,
    L1Proximal,
    best_epoch,
    l2_penalty,
    penalized_weights,
)
from nnlib.train import History, fit
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "SETTING",
    "IRRELEVANT_SETTING",
    "irrelevant_inputs_splits",
    "train_irrelevant_inputs",
    "NEAR_ZERO",
    "moons_splits",
    "make_model",
    "train_regularized",
    "train_setting",
    "weight_vector",
    "near_zero_fraction",
    "plot_weight_histogram",
    "plot_learning_curves",
    "draw_regularization",
    "interactive_regularization",
]

#: The chapter's experiment: data sizes, noise, network and optimizer.
SETTING: dict = {
    "n_train": 40,
    "n_val": 500,
    "n_test": 500,
    "noise": 0.3,
    "hidden": (32, 32),
    "epochs": 500,
    "lr": 0.05,
    "momentum": 0.9,
}
#: A weight with ``|w|`` below this counts as (numerically) zero.
NEAR_ZERO = 1e-3

#: The second experiment: the two moons coordinates plus ``n_irrelevant`` features of
#: standard normal noise, unrelated to the label; each seed draws new data and a new
#: initialization. Evaluated only after the last epoch, to keep it cheap.
IRRELEVANT_SETTING: dict = {
    "n_train": 40,
    "n_val": 500,
    "n_test": 500,
    "noise": 0.2,
    "n_irrelevant": 48,
    "hidden": (32, 32),
    "epochs": 300,
    "lr": 0.05,
    "momentum": 0.9,
    "seeds": (0, 1, 2),
}


def moons_splits(seed: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Independent train, validation and test samples of noisy moons.

    Shapes
    ------
    "train": X (40, 2), y (40,);  "val" and "test": X (500, 2), y (500,).

    Examples
    --------
    >>> s = moons_splits()
    >>> {k: len(v[1]) for k, v in s.items()}
    {'train': 40, 'val': 500, 'test': 500}
    """
    noise = SETTING["noise"]
    return {
        name: make_moons(SETTING[f"n_{name}"], noise=noise, seed=seed + i)
        for i, name in enumerate(["train", "val", "test"])
    }


def irrelevant_inputs_splits(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train, validation and test samples of :data:`IRRELEVANT_SETTING`: columns 0 and 1
    are noisy moons, the other ``n_irrelevant`` columns are noise independent of the label.

    Shapes
    ------
    "train": X (40, 50), y (40,);  "val" and "test": X (500, 50), y (500,).

    Examples
    --------
    >>> s = irrelevant_inputs_splits()
    >>> s["train"][0].shape, s["val"][0].shape
    ((40, 50), (500, 50))
    """
    cfg = IRRELEVANT_SETTING
    splits = {}
    for i, name in enumerate(["train", "val", "test"]):
        n = cfg[f"n_{name}"]
        X, y = make_moons(n, noise=cfg["noise"], seed=100 * seed + i)
        rng = np.random.default_rng(10_000 + 100 * seed + i)
        Z = rng.standard_normal((n, cfg["n_irrelevant"])).astype(X.dtype)  # (n, n_irrelevant)
        splits[name] = (np.concatenate([X, Z], axis=1), y)  # X: (n, 2 + n_irrelevant)
    return splits


def train_irrelevant_inputs(
    penalty: str = "none", strength: float = 0.0, seed: int = 0
) -> tuple[DropoutMLP, dict[str, float]]:
    """Train a 50-32-32-1 MLP of :data:`IRRELEVANT_SETTING` with no penalty, L2 or L1.

    Returns the model (in evaluation mode) and its accuracies on the three splits
    (``"train"``, ``"val"``, ``"test"``), plus two measures of how much the first layer
    listens to each input:
    ``"zero_irrelevant"``, the fraction of first-layer weights from the noise inputs
    that are exactly zero, and ``"input_ratio"``, the total ``|w|`` leaving a moons
    input divided by that leaving a noise input (averaged over the inputs of each kind).

    Examples
    --------
    >>> _, scores = train_irrelevant_inputs("L1", 0.03, seed=0)
    >>> scores["zero_irrelevant"] > 0.5 and scores["input_ratio"] > 2
    True
    """
    cfg = IRRELEVANT_SETTING
    splits = irrelevant_inputs_splits(seed)
    n_inputs = splits["train"][0].shape[1]
    model = DropoutMLP(in_features=n_inputs, hidden=cfg["hidden"], out_features=1, seed=seed)
    _train_with(cfg, model, splits, penalty, strength, eval_every=None)
    scores = {
        name: float(np.mean(predict_classes(model, A) == b)) for name, (A, b) in splits.items()
    }
    W1 = model.linears[0].weight.detach().numpy()  # (hidden[0], 2 + n_irrelevant)
    out_weight = np.abs(W1).sum(axis=0)  # (2 + n_irrelevant,): total |w| leaving each input
    scores["zero_irrelevant"] = float(np.mean(W1[:, 2:] == 0))
    scores["input_ratio"] = float(out_weight[:2].mean() / out_weight[2:].mean())
    return model, scores


def _check_penalty(penalty: str) -> None:
    if penalty not in {"none", "L2", "L1"}:
        raise ValueError(f"penalty must be 'none', 'L2' or 'L1', got {penalty!r}")


def _train_with(
    cfg: Mapping, model: torch.nn.Module, splits: Mapping, penalty: str, strength: float, **options
) -> History:
    """:func:`train_regularized` on ``splits`` with the epochs and optimizer of ``cfg`` and
    one penalty (``"none"``, ``"L2"`` or ``"L1"``) of the given strength.

    The model is left in evaluation mode, so that predictions made with it afterwards
    (decision regions, accuracies) run without dropout.
    """
    _check_penalty(penalty)
    history = train_regularized(
        model,
        *splits["train"],
        *splits["val"],
        epochs=cfg["epochs"],
        lr=cfg["lr"],
        momentum=cfg["momentum"],
        l2=strength if penalty == "L2" else 0.0,
        l1=strength if penalty == "L1" else 0.0,
        **options,
    )
    model.eval()
    return history


def make_model(dropout: float = 0.0, seed: int = 0) -> DropoutMLP:
    """The chapter's 2-32-32-1 ReLU MLP, with dropout ``dropout`` after each hidden layer.

    Examples
    --------
    >>> sum(p.numel() for p in make_model().parameters())  # (2*32+32) + (32*32+32) + (32+1)
    1185
    """
    return DropoutMLP(in_features=2, hidden=SETTING["hidden"], out_features=1, p=dropout, seed=seed)


def train_regularized(
    model: torch.nn.Module,
    X,
    y,
    X_val,
    y_val,
    *,
    epochs: int = 1000,
    lr: float = 0.1,
    momentum: float = 0.9,
    l2: float = 0.0,
    l1: float = 0.0,
    early_stopping: EarlyStopping | None = None,
    eval_every: int | None = 1,
) -> History:
    """Full-batch gradient descent with momentum, with an L2 and/or an L1 penalty on the weights.

    With the whole (small) training set in every step, an epoch is one step. The
    L2 term ``l2 * sum w**2`` is added to the loss; the L1 term is handled by the
    proximal step (:class:`nnlib.regularization.L1Proximal`). Biases are never
    penalized. Both sets are evaluated after every step (``eval_every=1``; ``None``
    evaluates only after the last, which is cheaper), in evaluation mode (dropout
    off); the recorded losses are data losses, without the penalty.

    Shapes
    ------
    X, X_val : (N, d);  y, y_val : (N,) integer labels.

    Examples
    --------
    >>> X, y = make_moons(40, seed=0)
    >>> net = DropoutMLP(in_features=2, hidden=[16], out_features=1, seed=0)
    >>> h = train_regularized(net, X, y, X, y, epochs=100, lr=0.1)
    >>> len(h.val["loss"]), h.train["accuracy"][-1] > 0.8
    (100, True)
    """
    if not l1 >= 0 or not l2 >= 0:
        raise ValueError(f"expected l1, l2 >= 0; got {l1!r}, {l2!r}")
    weights = penalized_weights(model)
    callbacks = [cb for cb in (l1 > 0 and L1Proximal(weights, l1), early_stopping) if cb]
    return fit(
        model,
        X,
        y,
        optimizer=torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum),
        epochs=epochs,
        val=(X_val, y_val),
        metrics={"accuracy": accuracy},
        eval_every=eval_every,
        penalty=(lambda: l2 * l2_penalty(weights)) if l2 > 0 else None,
        callbacks=callbacks,
        show_progress=False,
    )


def train_setting(
    penalty: str = "none", strength: float = 0.0, dropout: float = 0.0, *, patience: int = 0
) -> tuple[DropoutMLP, dict, EarlyStopping | None]:
    """Train the chapter's model on the training split; memoized per argument set.

    Parameters
    ----------
    penalty : {"none", "L2", "L1"}
    strength : float
        The penalty's ``lambda`` (ignored for ``"none"``).
    dropout : float
        Dropout probability of the hidden layers.
    patience : int
        0 trains all epochs; otherwise early stopping with this patience.

    Returns
    -------
    (model, history, stopper): the model, in evaluation mode (dropout off); the
    :class:`~nnlib.train.History` of :func:`train_regularized`; the early stopper or None.

    Examples
    --------
    >>> model, hist, _ = train_setting("L2", 0.01)
    >>> len(hist) == len(hist.val["loss"]) == SETTING["epochs"]
    True
    """
    _check_penalty(penalty)
    if not strength >= 0:
        raise ValueError(f"strength must be >= 0, got {strength!r}")
    if strength == 0:  # no penalty at all: one cached run serves "L1", "L2" and "none"
        penalty = "none"
    return _train(penalty, float(strength) if penalty != "none" else 0.0, float(dropout), patience)


@lru_cache(maxsize=64)
def _train(penalty: str, strength: float, dropout: float, patience: int) -> tuple:
    model = make_model(dropout)
    stopper = EarlyStopping(patience=patience) if patience > 0 else None
    hist = _train_with(SETTING, model, moons_splits(), penalty, strength, early_stopping=stopper)
    return model, hist, stopper


def weight_vector(model: torch.nn.Module) -> np.ndarray:
    """All penalized weights of ``model`` (no biases) in one flat array.

    Shapes
    ------
    returns (number of weights,).

    Examples
    --------
    >>> weight_vector(make_model()).shape
    (1120,)
    """
    return torch.cat([w.detach().flatten() for w in penalized_weights(model)]).numpy()


def near_zero_fraction(weights: np.ndarray, tol: float = NEAR_ZERO) -> float:
    """Fraction of entries with ``|w| < tol``.

    Examples
    --------
    >>> near_zero_fraction(np.array([0.0, 1e-4, 0.5, -2.0]))
    0.5
    """
    return float(np.mean(np.abs(np.asarray(weights)) < tol))


def plot_weight_histogram(
    ax: Axes, weights: Mapping[str, np.ndarray], *, lim: float = 1.5, title: str = "Weights"
) -> Axes:
    """Step histograms of weights (log counts); the legend gives each fraction with |w| < 1e-3.

    Shapes
    ------
    each weights value : (n,) for any n.

    Examples
    --------
    >>> ax = plot_weight_histogram(Figure().add_subplot(), {"a": np.zeros(5)})
    >>> ax.get_legend().get_texts()[0].get_text()
    'a: 100% near 0'
    """
    bins = np.linspace(-lim, lim, 61)
    for i, (label, w) in enumerate(weights.items()):
        w = np.clip(np.asarray(w, dtype=float).ravel(), -lim, lim)
        ax.hist(
            w, bins=bins, histtype="step", lw=1.6, **series_style(i),
            label=f"{label}: {near_zero_fraction(w):.0%} near 0",
        )  # fmt: skip
    ax.set_yscale("log")
    # Bottom below one count, so that every non-empty bin shows (even when all weights
    # share one bin); headroom above the bars, for the legend.
    ax.set_ylim(0.5, 30 * ax.get_ylim()[1])
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("weight value $w$")
    ax.set_ylabel("count (log scale)")
    ax.set_title(title)
    ax.legend(fontsize="x-small", loc="upper right")
    return ax


def plot_learning_curves(ax: Axes, history: History, *, title: str = "Learning curves") -> Axes:
    """Training and validation loss against the epoch; a dashed line marks the minimum
    of the validation loss (where early stopping would keep the weights).

    Examples
    --------
    >>> h = History(train={"loss": [1.0, 0.5, 0.2]}, val={"loss": [1.0, 0.6, 0.7]})
    >>> ax = plot_learning_curves(Figure().add_subplot(), h)
    >>> len(ax.lines)
    3
    """
    train, val = np.asarray(history.train["loss"]), np.asarray(history.val["loss"])
    epochs = np.arange(len(val))  # 0-based, as best_epoch and EarlyStopping count
    best = best_epoch(val)
    ax.plot(epochs, train, color=OKABE_ITO["blue"], lw=1.5, label="training")
    ax.plot(epochs, val, color=OKABE_ITO["vermillion"], lw=1.5, ls="--", label="validation")
    ax.axvline(best, color="black", lw=1, ls=":", label=f"min. val. (epoch {best})")
    # Headroom above the curves keeps the legend off them.
    ax.set_ylim(0, 1.7 * min(1.5, max(train.max(), val.max())))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.legend(fontsize="x-small", loc="upper right")
    return ax


def draw_regularization(fig: Figure, *, penalty: str, strength: float, dropout: float) -> None:
    """Decision regions, weight histogram and learning curves of one trained setting.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_regularization(fig, penalty="L1", strength=0.01, dropout=0.0)
    >>> [len(fig.axes), fig.axes[0].get_title().startswith("L1")]
    [3, True]
    """
    strength, dropout = float(strength), float(dropout)
    model, hist, _ = train_setting(penalty, strength, dropout)
    X, y = moons_splits()["train"]
    # Fixed margins: constrained layout would cost more than the drawing itself on
    # every one of the website's frames.
    fig.set_layout_engine("none")
    margins = {"left": 0.06, "right": 0.98, "bottom": 0.16, "top": 0.82, "wspace": 0.42}
    ax_b, ax_w, ax_c = fig.subplots(1, 3, gridspec_kw=margins)
    train_acc, val_acc = hist.final("train", "accuracy"), hist.final("val", "accuracy")
    gap = train_acc - val_acc
    name = f"{penalty} λ={strength:g}" if strength > 0 else f"{penalty} off"
    plot_decision_boundary(
        ax_b,
        lambda P: predict_classes(model, P),
        X,
        y,
        title=f"{name}, dropout {dropout:g}\n"
        f"train {train_acc:.0%}, val. {val_acc:.0%} (gap {gap:+.0%})",
        resolution=60,
    )
    ax_b.title.set_fontsize("small")
    plot_weight_histogram(ax_w, {"weights": weight_vector(model)}, title="Weights")
    plot_learning_curves(ax_c, hist, title="Loss per epoch")
    for ax in (ax_w, ax_c):
        ax.title.set_fontsize("small")


def interactive_regularization() -> InteractiveFigure:
    """Penalty, its strength and the dropout rate against boundary, weights and loss curves.

    Live: any strength in [0, 0.1] and dropout in [0, 0.6]. Website: strengths
    0, 0.003, 0.01, 0.03, 0.1 and dropout 0 and 0.5 for each penalty (20 frames).

    Examples
    --------
    >>> interactive_regularization().frame_count
    20
    """
    return InteractiveFigure(
        draw_regularization,
        [
            Choice("penalty", ["L2", "L1"]),
            Slider(
                "strength",
                0.0,
                0.1,
                0.001,
                default=0.0,
                static_values=(0.0, 0.003, 0.01, 0.03, 0.1),
                label="strength λ",
            ),
            Slider("dropout", 0.0, 0.6, 0.05, default=0.0, static_values=(0.0, 0.5)),
        ],  # fmt: skip
        figsize=(9.0, 3.0),
        dpi=80,
        alt=(
            "Three panels for the chosen penalty (L2 or L1), strength and dropout rate: the "
            "decision regions of the trained MLP over the 40 training points of the two moons, "
            "with training and validation accuracy in the title; a log-scale histogram of its "
            "weights with the fraction near zero; and its training and validation loss per epoch."
        ),
    )
