"""Chapter 1's figures: a perceptron over logic gates, an MLP playground, approximation,
and how often training a one-hidden-layer MLP on XOR succeeds as its width grows.

The ``plot_*`` functions draw on a given Axes; the ``interactive_*`` functions
connect controls (:mod:`nnlib.widgets`) to them. The playground is in the spirit of the
TensorFlow Playground: pick a data set, a width and a depth, and see the decision
boundary a small ReLU MLP learns (Smilkov et al. 2017). Trained models are memoized,
so moving a control back to a setting already seen redraws at once. The width sweep
trains many small MLPs side by side as one :class:`MLPBundle`, and the playground's
grid of settings as one :class:`SideBySide`: as many separate runs of Adam (Kingma &
Ba 2015), up to rounding, but one call of :func:`nnlib.train.fit`; over-specified
(wider than needed) networks being easier to train is discussed by Livni,
Shalev-Shwartz & Shamir (2014) and Frankle & Carbin (2019).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, PercentFormatter
from torch import nn

from nnlib.data import DATASETS, logic_gate
from nnlib.mlp import MLP, MLPConfig, predict_classes
from nnlib.plots import (
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
    "MLPBundle",
    "SideBySide",
    "summed_bce",
    "summed_mse",
    "XorWidthSweep",
    "xor_width_sweep",
    "plot_success_vs_width",
    "draw_perceptron",
    "interactive_perceptron",
    "PLAYGROUND_WIDTHS",
    "PLAYGROUND_DEPTHS",
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
    legend: bool = True,
) -> Axes:
    """The target curve (black, dotted) and one curve per fitted model.

    With ``legend=False`` the caller places the legend (e.g. outside the Axes, where it
    cannot cover a curve that fills the whole plot).

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
    if legend:
        ax.legend(fontsize="small")
    return ax


def plot_error_vs_width(
    ax: Axes,
    widths: Sequence[int],
    errors: Sequence[float],
    *,
    title: str = "Error vs width",
    label: str | None = None,
    style: int = 0,
) -> Axes:
    """Approximation error against hidden width, both axes logarithmic.

    Call it again on the same Axes to add a series (``style`` picks its colour, line
    style and marker); with a ``label`` the series goes into a legend.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_error_vs_width(Figure().add_subplot(), [1, 2, 4], [1.0, 0.5, 0.1], label="a")
    >>> ax = plot_error_vs_width(ax, [2, 8], [0.6, 0.2], label="b", style=1)
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_xticklabels()]
    ('log', ['1', '2', '4', '8'])
    """
    if len(widths) != len(errors):
        raise ValueError(f"got {len(widths)} widths but {len(errors)} errors")
    ax.loglog(widths, errors, marker="os^D"[style % 4], label=label, **series_style(style))
    # Label the measured widths of every series drawn so far; log-axis minor labels
    # would overlap.
    ticks = sorted({int(w) for line in ax.lines for w in line.get_xdata()})
    ax.set_xticks(ticks, [str(w) for w in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("hidden units (width)")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if label is not None:
        ax.legend(fontsize="small")
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
        alt=(
            "A perceptron over the four inputs of the AND, OR or XOR gate: its decision "
            "line, the region where it outputs 1 shaded orange, and the inputs as circles "
            "(class 0) and triangles (class 1); sliders set the two weights and the bias, "
            "and the title counts the correctly classified inputs."
        ),
    )


PLAYGROUND_WIDTHS = (2, 8, 32)  # the settings the website shows
PLAYGROUND_DEPTHS = (1, 2, 3)
_PLAYGROUND: dict[tuple, tuple[MLP, float]] = {}  # (dataset, width, depth, ...) -> result


def train_playground(
    dataset: str, width: int, depth: int, *, steps: int = 400, lr: float = 0.03, seed: int = 0
) -> tuple[MLP, float]:
    """Train a ReLU MLP (``depth`` hidden layers of ``width`` units) on a toy data set.

    The model is seeded with ``seed`` and trained by full-batch Adam (Kingma & Ba
    2015) on the binary cross-entropy. Returns the model and its training accuracy;
    results are memoized per argument set. A setting of the website's grid
    (:data:`PLAYGROUND_WIDTHS` x :data:`PLAYGROUND_DEPTHS`) trains the whole grid of its
    data set at once, side by side (:class:`SideBySide`): the same runs as separate
    calls, up to rounding, at about half the cost.

    Examples
    --------
    >>> model, acc = train_playground("xor", 8, 1)
    >>> acc
    1.0
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    width, depth = int(width), int(depth)
    if (dataset, width, depth, steps, lr, seed) not in _PLAYGROUND:
        if width in PLAYGROUND_WIDTHS and depth in PLAYGROUND_DEPTHS:
            settings = [(w, d) for w in PLAYGROUND_WIDTHS for d in PLAYGROUND_DEPTHS]
        else:
            settings = [(width, depth)]
        settings = [s for s in settings if (dataset, *s, steps, lr, seed) not in _PLAYGROUND]
        X, y = DATASETS[dataset](seed=seed)
        models = [
            MLP(MLPConfig(in_features=2, hidden=[w] * d, out_features=1), seed=seed)
            for w, d in settings
        ]
        together = SideBySide(models)
        optimizer = torch.optim.Adam(together.parameters(), lr=lr)
        fit(
            together, X, y, optimizer=optimizer, loss=summed_bce, steps=steps,
            eval_every=None, eval_train=False, show_progress=False,
        )  # fmt: skip
        for (w, d), model in zip(settings, models, strict=True):
            acc = float((predict_classes(model, X) == y).mean())
            _PLAYGROUND[dataset, w, d, steps, lr, seed] = (model, acc)
    return _PLAYGROUND[dataset, width, depth, steps, lr, seed]


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
        alt=(
            "Decision regions of a ReLU MLP trained on a two-dimensional toy data set (XOR, "
            "moons, circles or spirals), class 1 shaded orange, with the training points on "
            "top; controls set the data set, the width and the depth, and the title gives "
            "the training accuracy."
        ),
    )


class MLPBundle(nn.Module):
    """Independent one-hidden-layer ReLU MLPs with one output each, computed side by side.

    Member ``k`` starts as a copy of ``members[k]``; output column ``k`` depends on
    member ``k``'s weights only. With a loss that is a sum of the members' own losses
    (:func:`summed_bce`) every weight therefore gets the gradient of its own member's
    loss, and an optimizer that works weight by weight (SGD, Adam) trains each member
    exactly as it would train it alone, up to rounding. Training a hundred tiny
    networks then costs one run of :func:`nnlib.train.fit` instead of a hundred.

    Shapes
    ------
    x : (N, in_features);  returns (N, K) for K members.

    Examples
    --------
    >>> members = [MLP(MLPConfig(in_features=2, hidden=[w], out_features=1), seed=0)
    ...            for w in (2, 3)]
    >>> bundle = MLPBundle(members)
    >>> x = torch.randn(5, 2)
    >>> bool(torch.allclose(bundle(x)[:, 1:], members[1](x), atol=1e-6))
    True
    """

    def __init__(self, members: Sequence[MLP]) -> None:
        super().__init__()
        if not members:
            raise ValueError("MLPBundle needs at least one member")
        for m in members:
            c = m.config
            if len(c.hidden) != 1 or c.out_features != 1 or c.activation != "relu":
                raise ValueError(
                    "every member must be a ReLU MLP with one hidden layer and one output, "
                    f"got hidden={c.hidden}, out_features={c.out_features}, "
                    f"activation={c.activation!r}"
                )
        if len({m.config.in_features for m in members}) != 1:
            raise ValueError("every member must have the same in_features")
        hidden = [m.linears[0] for m in members]
        out = [m.linears[1] for m in members]
        with torch.no_grad():
            self.W1 = nn.Parameter(torch.cat([h.weight for h in hidden]).clone())  # (U, d)
            self.b1 = nn.Parameter(torch.cat([h.bias for h in hidden]).clone())  # (U,)
            self.w2 = nn.Parameter(torch.cat([o.weight[0] for o in out]).clone())  # (U,)
            self.b2 = nn.Parameter(torch.cat([o.bias for o in out]).clone())  # (K,)
        widths = torch.tensor([h.out_features for h in hidden])
        # member[u] is the member that hidden unit u belongs to
        self.register_buffer("member", torch.repeat_interleave(torch.arange(len(members)), widths))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden activations of all members' units.  Shapes: (N, d) -> (N, U)."""
        return torch.relu(x @ self.W1.T + self.b1)  # (N, U)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        contributions = self.hidden(x) * self.w2  # (N, U)
        out = contributions.new_zeros(x.shape[0], len(self.b2))  # (N, K)
        return out.index_add(1, self.member, contributions) + self.b2  # (N, K)

    @torch.no_grad()
    def dead_units(self, x: torch.Tensor) -> torch.Tensor:
        """Per member, how many hidden units output 0 on every row of ``x``.

        Such a unit gets no gradient from any of these inputs (ReLU's slope is 0).
        Shapes: x (N, d) -> (K,) int64.
        """
        dead = (self.hidden(x).amax(0) <= 0).long()  # (U,)
        return dead.new_zeros(len(self.b2)).index_add(0, self.member, dead)  # (K,)


def summed_bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over the K columns of each column's mean binary cross-entropy against ``y``.

    Summing (not averaging) keeps every member's gradient equal to that of its own
    loss, so a bundle of K networks trains like K separate runs.

    Shapes
    ------
    logits : (N, K);  y : (N,) labels in {0, 1}.

    Examples
    --------
    >>> round(summed_bce(torch.zeros(4, 3), torch.tensor([0, 1, 1, 0])).item(), 4)  # 3 ln 2
    2.0794
    """
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(
            f"expected logits (N, K) and y (N,), got {tuple(logits.shape)}, {tuple(y.shape)}"
        )
    targets = y.to(logits.dtype)[:, None].expand_as(logits)  # (N, K)
    return nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / len(y)


def summed_mse(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over the K columns of each column's mean squared error against ``y``.

    The regression counterpart of :func:`summed_bce`: a bundle of K networks trained on
    it trains like K separate runs on the mean squared error.

    Shapes
    ------
    outputs : (N, K);  y : (N,) or (N, 1).

    Examples
    --------
    >>> summed_mse(torch.zeros(4, 3), torch.ones(4, 1)).item()  # 3 columns of error 1
    3.0
    """
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    if outputs.ndim != 2 or y.shape != (outputs.shape[0], 1):
        raise ValueError(
            f"expected outputs (N, K) and y (N,) or (N, 1), got {tuple(outputs.shape)}, "
            f"{tuple(y.shape)}"
        )
    return ((outputs - y) ** 2).mean(0).sum()


class SideBySide(nn.Module):
    """Independent models on the same input, their outputs side by side in columns.

    Nothing is shared: output column ``k`` depends on ``members[k]``'s weights only, so
    with a summed loss (:func:`summed_bce`) every member is trained as it would be
    alone, like :class:`MLPBundle`, but the members may have any depth. It saves the
    per-step overhead of separate training loops, not arithmetic.

    Shapes
    ------
    x : (N, d);  returns (N, sum of the members' outputs).

    Examples
    --------
    >>> members = [MLP(MLPConfig(in_features=2, hidden=[4] * d, out_features=1), seed=0)
    ...            for d in (1, 2)]
    >>> x = torch.randn(5, 2)
    >>> out = SideBySide(members)(x)
    >>> out.shape, bool(torch.equal(out[:, 1:], members[1](x)))
    (torch.Size([5, 2]), True)
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("SideBySide needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self.members], dim=1)  # (N, K)


@dataclass(frozen=True)
class XorWidthSweep:
    """Result of :func:`xor_width_sweep`: one row per width, one column per seed."""

    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    accuracy: np.ndarray  # (W, S) final training accuracy on the four XOR points
    dead_units: np.ndarray  # (W, S) hidden units that output 0 on all four points

    @property
    def solved(self) -> np.ndarray:
        """(W, S) bool: the run classifies all four points correctly."""
        return self.accuracy == 1.0

    @property
    def successes(self) -> np.ndarray:
        """(W,) number of seeds that solved XOR, per width."""
        return self.solved.sum(axis=1)

    @property
    def success_rate(self) -> np.ndarray:
        """(W,) fraction of seeds that solved XOR, per width."""
        return self.solved.mean(axis=1)


def xor_width_sweep(
    widths: Sequence[int], seeds: Iterable[int], *, steps: int = 500, lr: float = 0.05
) -> XorWidthSweep:
    """Train a 2-``width``-1 ReLU MLP on XOR from every seed, for every width.

    Each run is ``MLP(MLPConfig(in_features=2, hidden=[width], out_features=1),
    seed=seed)`` trained by ``steps`` steps of full-batch Adam with learning rate
    ``lr`` on the binary cross-entropy: the same runs as separate calls of
    :func:`nnlib.train.fit`, computed together as one :class:`MLPBundle`.

    Examples
    --------
    >>> sweep = xor_width_sweep([2, 8], range(3), steps=200)
    >>> sweep.accuracy.shape, sweep.success_rate.shape
    ((2, 3), (2,))
    """
    widths, seeds = tuple(int(w) for w in widths), tuple(int(s) for s in seeds)
    if not widths or not seeds or min(widths) < 1:
        raise ValueError(f"need widths >= 1 and at least one seed, got {widths} and {seeds}")
    X, y = logic_gate("XOR")
    members = [
        MLP(MLPConfig(in_features=2, hidden=[w], out_features=1), seed=s)
        for w in widths
        for s in seeds
    ]
    bundle = MLPBundle(members)
    optimizer = torch.optim.Adam(bundle.parameters(), lr=lr)
    fit(
        bundle, X, y, optimizer=optimizer, loss=summed_bce, steps=steps, eval_every=None,
        eval_train=False, show_progress=False,
    )  # fmt: skip
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    with torch.no_grad():
        correct = ((bundle(Xt) > 0).long() == yt[:, None]).double().mean(0)  # (W * S,)
    shape = (len(widths), len(seeds))
    return XorWidthSweep(
        widths=widths,
        seeds=seeds,
        accuracy=correct.numpy().reshape(shape),
        dead_units=bundle.dead_units(Xt).numpy().reshape(shape),
    )


def plot_success_vs_width(ax: Axes, sweep: XorWidthSweep, *, title: str = "") -> Axes:
    """Fraction of seeds whose run solved XOR against the hidden width (log-2 axis).

    Each point is labelled with its count, e.g. ``5/20``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> sweep = XorWidthSweep((2, 4), (0, 1), np.array([[1.0, 0.5], [1.0, 1.0]]),
    ...                       np.zeros((2, 2), dtype=int))
    >>> ax = plot_success_vs_width(Figure().add_subplot(), sweep)
    >>> [t.get_text() for t in ax.texts]
    ['1/2', '2/2']
    """
    rate, n = sweep.success_rate, len(sweep.seeds)
    ax.plot(sweep.widths, rate, marker="o", **series_style(0))
    for w, r, k in zip(sweep.widths, rate, sweep.successes, strict=True):
        ax.annotate(
            f"{k}/{n}", (w, r), xytext=(0, 8), textcoords="offset points", ha="center",
            fontsize="small",
        )  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sweep.widths), [str(w) for w in sweep.widths])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-0.02, 1.12)  # headroom for the count above a point at 100%
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("hidden units (width)")
    ax.set_ylabel(f"runs that solve XOR (of {n} seeds)")
    ax.set_title(title or f"XOR solved after training, {n} seeds per width")
    ax.grid(True, alpha=0.3)
    return ax
