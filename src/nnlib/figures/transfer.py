"""Chapter 10's experiments and drawings: reusing a CNN pretrained on other digits.

The source task is MNIST-1D digits 0-4 (the checkpoint of ``scripts/pretrain.py``,
:func:`nnlib.checkpoint.pretrained_path`); the target task is digits 5-9 of the
course's standard set (:func:`nnlib.data.mnist1d`, seed 42), relabelled 0-4.

* :func:`target_data` and :func:`per_class_subset` make the target task and its
  small labelled sets (``k`` examples of every class).
* :func:`make_variant` builds one of :data:`VARIANTS`: ``"scratch"`` (random
  weights), ``"probe"`` (pretrained body frozen, a new linear head: a linear
  probe), ``"partial"`` (the first two convolutions frozen, the last one and a new
  head trained) and ``"finetune"`` (pretrained weights, everything trained).
* :func:`transfer_table` trains every variant at every labelled-set size, over a
  few seeds; :func:`plot_transfer` and :func:`interactive_transfer` draw it.
* :func:`unrelated_source` pretrains on the same signals with their positions
  shuffled, the source that does not help.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from nnlib.checkpoint import load_checkpoint, pretrained_path
from nnlib.cnn import CNN1D, CNNConfig
from nnlib.data import mnist1d
from nnlib.losses import accuracy
from nnlib.plots import series_style
from nnlib.train import fit
from nnlib.widgets import Choice, InteractiveFigure

__all__ = [
    "VARIANTS",
    "LABELS",
    "TARGET_CLASSES",
    "target_data",
    "per_class_subset",
    "pretrained_cnn",
    "make_variant",
    "train_variant",
    "transfer_table",
    "evaluate",
    "plot_transfer",
    "plot_at_size",
    "interactive_transfer",
]

#: The ways to start and what to train, from "train nothing old" to "train everything".
VARIANTS = ("scratch", "probe", "partial", "finetune")
#: Their names in figures and tables.
LABELS = {
    "scratch": "from scratch",
    "probe": "linear probe (body frozen)",
    "partial": "partial (last conv + head)",
    "finetune": "fine-tune everything",
}
#: The digits of the target task (the checkpoint saw 0-4 only).
TARGET_CLASSES = (5, 6, 7, 8, 9)


def target_data(
    *, shuffled: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Digits 5-9 of the course's MNIST-1D, relabelled 0-4: train and test splits.

    Shapes
    ------
    X_train : (n, 40) float32;  y_train : (n,) int64 in 0..4;  likewise for test.

    Examples
    --------
    >>> X, y, X_te, y_te = target_data()
    >>> sorted(set(y.tolist())), X.shape[1]
    ([0, 1, 2, 3, 4], 40)
    """
    X, y, X_te, y_te = mnist1d(shuffled=shuffled)
    lo = TARGET_CLASSES[0]
    keep, keep_te = y >= lo, y_te >= lo
    return X[keep], y[keep] - lo, X_te[keep_te], y_te[keep_te] - lo


def per_class_subset(
    X: torch.Tensor, y: torch.Tensor, k: int, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` examples of every class, drawn without replacement with ``seed``.

    Shapes
    ------
    X : (N, ...);  y : (N,);  returns (k * classes, ...) and (k * classes,).

    Examples
    --------
    >>> Xs, ys = per_class_subset(torch.randn(30, 4), torch.arange(30) % 3, 2)
    >>> tuple(Xs.shape), torch.bincount(ys).tolist()
    ((6, 4), [2, 2, 2])
    """
    rng = np.random.default_rng(seed)
    picks = []
    for c in torch.unique(y).tolist():
        idx = (y == c).nonzero().flatten().numpy()
        if len(idx) < k:
            raise ValueError(f"class {c} has {len(idx)} examples, fewer than k={k}")
        picks.append(rng.choice(idx, size=k, replace=False))
    order = torch.from_numpy(np.sort(np.concatenate(picks)))
    return X[order], y[order]


def pretrained_cnn() -> CNN1D:
    """The course's CNN with the checkpoint's weights (digits 0-4), checked and loaded.

    Examples
    --------
    >>> pretrained_cnn().head.out_features
    5
    """
    model = CNN1D(CNNConfig(num_classes=5))
    load_checkpoint(model, pretrained_path())
    return model


def make_variant(name: str, *, seed: int = 0, source: CNN1D | None = None) -> CNN1D:
    """A CNN for the 5 target classes, started and frozen as variant ``name`` says.

    ``source`` is the pretrained network (:func:`pretrained_cnn` if omitted); its
    weights are copied, never changed. Every variant but ``"scratch"`` gets a new
    head drawn with ``seed``; frozen parameters have ``requires_grad=False``.

    Examples
    --------
    >>> from nnlib.cnn import num_parameters
    >>> [num_parameters(make_variant(v)) for v in VARIANTS]
    [10661, 165, 5317, 10661]
    """
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; expected one of {VARIANTS}")
    model = CNN1D(CNNConfig(num_classes=len(TARGET_CLASSES)), seed=seed)
    if name == "scratch":
        return model
    source = source if source is not None else pretrained_cnn()
    body = {k: v for k, v in source.state_dict().items() if k.startswith("body.")}
    model.load_state_dict(body, strict=False)  # the head keeps its fresh weights
    convs = [m for m in model.body if isinstance(m, nn.Conv1d)]
    frozen = {"probe": convs, "partial": convs[:-1], "finetune": []}[name]
    for layer in frozen:
        layer.requires_grad_(False)
    return model


def train_variant(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 100,
    lr: float = 0.01,
    seed: int = 0,
) -> float:
    """Train the trainable parameters of ``model`` (AdamW, batches of at most 50); seconds.

    Shapes
    ------
    X : (n, 40);  y : (n,).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    start = time.perf_counter()
    fit(
        model,
        X,
        y,
        optimizer=opt,
        steps=steps,
        batch_size=min(50, len(y)),
        eval_every=None,
        eval_train=False,
        seed=seed,
        show_progress=False,
    )
    return time.perf_counter() - start


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of ``model`` on ``(X, y)`` in evaluation mode, without gradients."""
    model.eval()
    with torch.no_grad():
        return float(accuracy(model(X), y))


def transfer_table(
    sizes: Sequence[int],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    variants: Sequence[str] = VARIANTS,
    steps: int = 100,
    data: tuple[torch.Tensor, ...] | None = None,
    source: CNN1D | None = None,
) -> dict[str, np.ndarray]:
    """Test accuracy of every variant at every size ``k`` (per class), one row per seed.

    Seed ``s`` draws the labelled subset and the new head. Returns ``variant ->
    array (len(seeds), len(sizes))`` and ``"seconds"``, the longest single fit.

    Examples
    --------
    >>> t = transfer_table([2], seeds=[0], variants=["probe"], steps=2)
    >>> t["probe"].shape
    (1, 1)
    """
    X, y, X_te, y_te = data if data is not None else target_data()
    source = source if source is not None else pretrained_cnn()
    table = {v: np.zeros((len(seeds), len(sizes))) for v in variants}
    longest = 0.0
    for i, seed in enumerate(seeds):
        for j, k in enumerate(sizes):
            Xs, ys = per_class_subset(X, y, k, seed=seed)
            for v in variants:
                model = make_variant(v, seed=seed, source=source)
                longest = max(longest, train_variant(model, Xs, ys, steps=steps, seed=seed))
                table[v][i, j] = evaluate(model, X_te, y_te)
    table["seconds"] = np.array(longest)
    return table


def plot_transfer(
    ax: Axes,
    sizes: Sequence[int],
    table: dict[str, np.ndarray],
    *,
    upto: int | None = None,
    variants: Sequence[str] = VARIANTS,
) -> Axes:
    """Mean test accuracy (%) against labelled examples per class, one line per variant.

    ``upto`` shows only the sizes up to that one (the interactive figure's slider).
    """
    sizes = np.asarray(sizes)
    shown = sizes <= (upto if upto is not None else sizes.max())
    for i, v in enumerate(variants):
        mean = 100 * table[v].mean(axis=0)
        ax.plot(sizes[shown], mean[shown], label=LABELS[v], **series_style(i, marker=True))
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlim(sizes.min() / 1.2, sizes.max() * 1.2)
    ax.set_ylim(20, 100)
    ax.set_xlabel("labelled examples per class (log scale)")
    ax.set_ylabel("test accuracy on digits 5-9 (%)")
    ax.set_title("Transfer from digits 0-4 to digits 5-9")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    return ax


def plot_at_size(ax: Axes, sizes: Sequence[int], table: dict[str, np.ndarray], k: int) -> Axes:
    """Bars: each variant's mean test accuracy (%) at ``k`` examples per class; dots: seeds."""
    j = list(sizes).index(k)
    for i, v in enumerate(VARIANTS):
        runs = 100 * table[v][:, j]
        style = series_style(i, marker=True)
        ax.bar(i, runs.mean(), color=style["color"], alpha=0.35, edgecolor=style["color"])
        ax.plot(
            np.full(len(runs), i),
            runs,
            linestyle="none",
            marker=style["marker"],
            color=style["color"],
        )
        ax.text(i, runs.max() + 2, f"{runs.mean():.0f}%", ha="center", fontsize=9)
    ax.set_xticks(range(len(VARIANTS)), ["scratch", "probe", "partial", "fine-tune"])
    ax.set_ylim(0, 105)
    ax.set_xlabel("variant")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{k} labelled examples per class")
    return ax


def interactive_transfer(sizes: Sequence[int], table: dict[str, np.ndarray]) -> InteractiveFigure:
    """The curves of :func:`plot_transfer` beside the four variants at one chosen size.

    Examples
    --------
    >>> t = {v: np.full((1, 2), 0.5) for v in VARIANTS}
    >>> interactive_transfer([10, 20], t).frame_count
    2
    """
    sizes = [int(s) for s in sizes]
    names = {f"{k} per class": k for k in sizes}  # the dropdown's options

    def draw(fig: Figure, size: str) -> None:
        k = names[size]
        left, right = fig.subplots(1, 2, width_ratios=(1.4, 1))
        plot_transfer(left, sizes, table)
        left.axvline(k, color="0.4", linewidth=1, linestyle=":")
        plot_at_size(right, sizes, table, k)

    return InteractiveFigure(
        draw,
        [Choice("size", list(names), label="labelled examples")],
        figsize=(8.0, 3.8),
        dpi=90,
        alt=(
            "Left: test accuracy on digits 5 to 9 against the number of labelled examples "
            "per class, on a log axis, for four ways to train: from scratch, a linear probe "
            "on the frozen pretrained body, partial freezing and full fine-tuning. Right: "
            "the four variants' accuracies as bars at the size the control picks, with one "
            "dot per seed."
        ),
    )
