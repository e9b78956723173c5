"""Chapter 3's experiments and figures: optimizers on 2-D surfaces and on digits.

Three test surfaces show the typical difficulties of optimization: an
ill-conditioned quadratic (a long narrow valley), Rosenbrock's banana-shaped valley
(Rosenbrock 1960) and a saddle point. :func:`run_trajectory` runs any optimizer of
:mod:`nnlib.optim` on them; :func:`train_digits` trains a small MLP on scikit-learn's
8x8 digits with the same optimizers. The ``plot_*`` functions draw on a given Axes;
:func:`interactive_optimizers` connects them to the controls of
:class:`nnlib.widgets.InteractiveFigure`. Trajectories are memoized, so the live
figure redraws at once when a control returns to a setting already seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from nnlib.data import digits_split
from nnlib.losses import accuracy, first_step_below
from nnlib.mlp import MLP, MLPConfig
from nnlib.optim import OPTIMIZERS, SGD, make_optimizer, make_schedule
from nnlib.plots import OKABE_ITO, series_style
from nnlib.train import History, fit
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "COLORS",
    "LINESTYLES",
    "MARKERS",
    "Surface",
    "SURFACES",
    "MOMENTUM_OPTIMIZERS",
    "Trajectory",
    "run_trajectory",
    "steps_to_tolerance",
    "plot_surface",
    "plot_trajectories",
    "plot_curves",
    "draw_optimizer_surface",
    "interactive_optimizers",
    "train_digits",
    "noisy_descent",
]

#: One colour per optimizer, the same in every figure of the chapter.
COLORS: dict[str, str] = {
    "GD": OKABE_ITO["black"],
    "Momentum": OKABE_ITO["blue"],
    "Nesterov": OKABE_ITO["sky_blue"],
    "Adagrad": OKABE_ITO["bluish_green"],
    "Adadelta": OKABE_ITO["orange"],
    "RMSprop": OKABE_ITO["reddish_purple"],
    "Adam": OKABE_ITO["vermillion"],
}
#: One line style and marker per optimizer, so that no two of the seven share both
#: (a reader who cannot tell the colours apart still can tell the lines apart).
LINESTYLES: dict[str, str] = {
    "GD": "-",
    "Momentum": "--",
    "Nesterov": "-.",
    "Adagrad": ":",
    "Adadelta": "-",
    "RMSprop": "--",
    "Adam": "-.",
}
MARKERS: dict[str, str] = {
    "GD": "o",
    "Momentum": "s",
    "Nesterov": "D",
    "Adagrad": "^",
    "Adadelta": "v",
    "RMSprop": "P",
    "Adam": "X",
}
if not set(COLORS) == set(LINESTYLES) == set(MARKERS) == set(OPTIMIZERS):
    raise RuntimeError(f"COLORS, LINESTYLES, MARKERS must name every optimizer: {OPTIMIZERS}")
#: The optimizers that use the momentum control (Adam uses it as beta1).
MOMENTUM_OPTIMIZERS: tuple[str, ...] = ("Momentum", "Nesterov", "Adam")
#: A trajectory that leaves this box (or overflows) counts as diverged and stops.
DIVERGED = 1e3


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface ``f(x, y)`` with its gradient, a start point and a view box.

    Shapes
    ------
    ``f(x, y)`` and ``grad(x, y)`` take equal-shaped arrays; ``grad`` returns a pair.
    ``start`` and each minimum: (2,).

    Examples
    --------
    >>> s = SURFACES["quadratic"]
    >>> float(s.f(np.array(1.0), np.array(1.0)))
    5.5
    """

    name: str
    title: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    f_min: float


#: Curvatures of the quadratic ``(lambda_min x^2 + lambda_max y^2) / 2``: condition number
#: kappa = lambda_max / lambda_min = 10.
QUADRATIC_LAMBDA_MIN, QUADRATIC_LAMBDA_MAX = 1.0, 10.0
#: Rosenbrock's ``(1 - x)^2 + b (y - x^2)^2`` with a gentler valley than the classic b = 100.
ROSENBROCK_B = 10.0

SURFACES: dict[str, Surface] = {
    "quadratic": Surface(
        "quadratic",
        r"$\frac{1}{2}(x^2 + 10 y^2)$",
        lambda x, y: 0.5 * (QUADRATIC_LAMBDA_MIN * x**2 + QUADRATIC_LAMBDA_MAX * y**2),
        lambda x, y: (QUADRATIC_LAMBDA_MIN * x, QUADRATIC_LAMBDA_MAX * y),
        (-2.0, 1.0),
        (-2.5, 2.5),
        (-1.5, 1.5),
        ((0.0, 0.0),),
        0.0,
    ),
    "rosenbrock": Surface(
        "rosenbrock",
        r"$(1-x)^2 + 10(y - x^2)^2$",
        lambda x, y: (1 - x) ** 2 + ROSENBROCK_B * (y - x**2) ** 2,
        lambda x, y: (
            -2 * (1 - x) - 4 * ROSENBROCK_B * x * (y - x**2),
            2 * ROSENBROCK_B * (y - x**2),
        ),
        (-1.2, 1.0),
        (-2.0, 2.0),
        (-1.0, 3.0),
        ((1.0, 1.0),),
        0.0,
    ),
    "saddle": Surface(
        "saddle",
        r"$\frac{1}{2}x^2 + \frac{1}{4}y^4 - \frac{1}{2}y^2$",
        lambda x, y: 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2,
        lambda x, y: (x, y**3 - y),
        (1.8, 0.01),
        (-2.0, 2.0),
        (-2.0, 2.0),
        ((0.0, 1.0), (0.0, -1.0)),
        -0.25,
    ),
}


@dataclass(frozen=True)
class Trajectory:
    """The points visited by an optimizer and the loss at each.

    Shapes
    ------
    points : (k + 1, 2), start included;  losses : (k + 1,).
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool

    @property
    def steps(self) -> int:
        return len(self.points) - 1


def _surface(surface: str | Surface) -> Surface:
    if isinstance(surface, Surface):
        return surface
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; expected one of {sorted(SURFACES)}")
    return SURFACES[surface]


@lru_cache(maxsize=1024)
def _cached_trajectory(
    surface: str, optimizer: str, lr: float, momentum: float, steps: int, start: tuple
) -> Trajectory:
    s = SURFACES[surface]
    p = torch.tensor(start, dtype=torch.float64)  # (2,)
    opt = make_optimizer(optimizer, [p], lr=lr, momentum=momentum)
    points, diverged = [p.numpy().copy()], False
    for _ in range(steps):
        gx, gy = s.grad(p[0].item(), p[1].item())  # the surface's own analytic gradient
        p.grad = torch.tensor([gx, gy], dtype=torch.float64)  # (2,)
        opt.step()
        points.append(p.numpy().copy())
        if not np.all(np.isfinite(points[-1])) or np.abs(points[-1]).max() > DIVERGED:
            diverged = True
            break
    P = np.array(points)  # (k + 1, 2)
    with np.errstate(over="ignore", invalid="ignore"):
        losses = s.f(P[:, 0], P[:, 1])  # (k + 1,)
    return Trajectory(P, losses, diverged)


def run_trajectory(
    surface: str,
    optimizer: str,
    *,
    lr: float,
    momentum: float = 0.9,
    steps: int = 150,
    start: tuple[float, float] | None = None,
) -> Trajectory:
    """Run ``steps`` steps of an optimizer on a surface from its start point.

    The run stops early, with ``diverged=True``, when a coordinate exceeds
    :data:`DIVERGED` in absolute value. Results are cached.

    Shapes
    ------
    Returns a :class:`Trajectory` with points (k + 1, 2), k <= steps.

    Examples
    --------
    >>> t = run_trajectory("quadratic", "GD", lr=0.1, steps=50)
    >>> t.steps, t.diverged, bool(t.losses[-1] < 1e-3)
    (50, False, True)
    >>> run_trajectory("quadratic", "GD", lr=0.3, steps=50).diverged  # lr > 2 / lambda_max = 0.2
    True
    """
    if not lr > 0 or steps < 1:
        raise ValueError(f"expected lr > 0 and steps >= 1, got lr={lr!r}, steps={steps!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {list(OPTIMIZERS)}")
    s = _surface(surface)
    start = s.start if start is None else (float(start[0]), float(start[1]))
    return _cached_trajectory(s.name, optimizer, float(lr), float(momentum), int(steps), start)


def steps_to_tolerance(
    surface: str,
    optimizer: str,
    *,
    lr: float,
    momentum: float = 0.9,
    tol: float = 1e-6,
    max_steps: int = 2000,
) -> int | None:
    """Number of steps until ``f - f_min < tol`` (``None`` if never within ``max_steps``).

    Examples
    --------
    >>> steps_to_tolerance("quadratic", "GD", lr=0.1, tol=1e-6)  # f = 2 * 0.9**(2k) < 1e-6
    69
    """
    t = run_trajectory(surface, optimizer, lr=lr, momentum=momentum, steps=max_steps)
    return first_step_below(t.losses - _surface(surface).f_min, tol)


@lru_cache(maxsize=8)
def _contour_lines(name: str, resolution: int) -> list[np.ndarray]:
    # Tracing the contours once per surface, instead of once per frame, saves a
    # fifth of the drawing time of the website's frames.
    import contourpy

    s = SURFACES[name]
    X, Y = np.meshgrid(np.linspace(*s.xlim, resolution), np.linspace(*s.ylim, resolution))
    Z = s.f(X, Y)  # (r, r)
    gen = contourpy.contour_generator(X, Y, Z)
    levels = s.f_min + np.geomspace(1e-2, float(Z.max() - s.f_min), 14)
    return [line for level in levels for line in gen.lines(level)]  # each (n, 2)


def plot_surface(ax: Axes, surface: str, *, resolution: int = 120) -> Axes:
    """Contour lines of a surface (spaced geometrically above its minimum) and its minima.

    Examples
    --------
    >>> ax = plot_surface(Figure().add_subplot(), "rosenbrock")
    >>> ax.get_xlabel(), [float(v) for v in ax.get_xlim()]
    ('$x$', [-2.0, 2.0])
    """
    s = _surface(surface)
    ax.add_collection(LineCollection(_contour_lines(s.name, resolution), colors="0.65", lw=0.6))
    for m in s.minima:
        ax.plot(*m, marker="*", ms=11, color=OKABE_ITO["yellow"], mec="black", mew=0.5, zorder=4)
    ax.plot(*s.start, marker="o", ms=5, color="black", zorder=4)
    ax.set_xlim(*s.xlim)
    ax.set_ylim(*s.ylim)
    # Integer ticks only: fewer labels to lay out, and no "-1.5" crowding.
    ax.set_xticks(np.arange(np.ceil(s.xlim[0]), s.xlim[1] + 0.5, 1.0))
    ax.set_yticks(np.arange(np.ceil(s.ylim[0]), s.ylim[1] + 0.5, 1.0))
    ax.set_aspect("equal")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    return ax


def _style(label: str, i: int) -> dict[str, str]:
    # An optimizer's own colour, line style and marker; any other label the i-th series'.
    if label in COLORS:
        return {"color": COLORS[label], "linestyle": LINESTYLES[label], "marker": MARKERS[label]}
    return series_style(i, marker=True)


def plot_trajectories(
    ax: Axes,
    surface: str,
    trajectories: Mapping[str, Trajectory],
    *,
    title: str = "",
    dodge: Mapping[str, float] | None = None,
) -> Axes:
    """A surface's contours with one optimizer path per entry of ``trajectories``.

    Keys that name an optimizer get its colour, line style and marker (:data:`COLORS`,
    :data:`LINESTYLES`, :data:`MARKERS`). Paths of different optimizers can coincide
    (the adaptive methods all start along the diagonal): ``dodge`` maps labels to
    shifts in points, by which those paths are moved on the page along the diagonal
    ``(1, 1)``, so that coinciding paths lie side by side.

    Examples
    --------
    >>> t = {"GD": run_trajectory("saddle", "GD", lr=0.1, steps=20)}
    >>> ax = plot_trajectories(Figure().add_subplot(), "saddle", t, title="saddle")
    >>> len(ax.get_legend().get_texts())
    1
    >>> t["Adam"] = run_trajectory("saddle", "Adam", lr=0.1, steps=20)
    >>> ax = plot_trajectories(Figure().add_subplot(), "saddle", t, dodge={"Adam": 2.0})
    >>> [line.get_transform() == ax.transData for line in ax.lines[-4:]]
    [True, True, False, False]
    """
    plot_surface(ax, surface)
    n, dodge = len(trajectories), dict(dodge or {})
    if not set(dodge) <= set(trajectories):
        raise ValueError(f"dodge names paths {sorted(set(dodge) - set(trajectories))} not drawn")
    for i, (label, t) in enumerate(trajectories.items()):
        style = _style(label, i)
        shift = float(dodge.get(label, 0.0))
        transform = ax.transData
        if shift:
            transform = offset_copy(ax.transData, fig=ax.figure, x=shift, y=shift, units="points")
        # Hollow markers spaced along each path at staggered distances (fractions of
        # the axes diagonal) name the paths without hiding one another.
        every = (0.02 + 0.2 * i / n, 0.2)
        x, y = t.points[:, 0], t.points[:, 1]
        ax.plot(x, y, lw=1.2, ms=5, mfc="white", mew=1.0, markevery=every, label=label,
                zorder=3, transform=transform, **style)  # fmt: skip
        ax.plot(x, y, ".", color=style["color"], ms=2.0, zorder=3, transform=transform)
    if trajectories:
        ax.legend(fontsize="x-small", loc="best")
    # An explicit y skips matplotlib's search for a title position at every draw.
    ax.set_title(title or _surface(surface).title, fontsize="medium", y=1.01)
    return ax


def plot_curves(
    ax: Axes,
    curves: Mapping[str, Sequence[float]],
    *,
    x: Sequence[float] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str = "",
    logy: bool = True,
) -> Axes:
    """One line per entry of ``curves`` (loss curves, learning-rate schedules, ...).

    Shapes
    ------
    each curve : (n,);  x : (n,) or None for 0, 1, ..., n - 1.

    Examples
    --------
    >>> ax = plot_curves(Figure().add_subplot(), {"Adam": [1.0, 0.5, 0.2]}, title="t")
    >>> ax.get_yscale(), len(ax.lines)
    ('log', 1)
    """
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=float)
        xs = np.arange(len(y)) if x is None else np.asarray(x)[: len(y)]
        # Short curves (per epoch) get a marker at every point; long ones about ten,
        # staggered between the curves so that markers of equal x do not pile up.
        every = max(1, len(y) // 10)
        markevery = (i * every // max(len(curves), 1), every)
        ax.plot(xs, y, lw=1.5, ms=4.5, markevery=markevery, label=label, **_style(label, i))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small")
    return ax


def draw_optimizer_surface(
    fig: Figure, *, optimizer: str, surface: str, lr: float, momentum: float, steps: int = 150
) -> None:
    """One optimizer's path on one surface; the title reports where it ended.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_optimizer_surface(fig, optimizer="GD", surface="quadratic", lr=0.3, momentum=0.9)
    >>> fig.axes[0].get_title().endswith("diverged at step 10")  # |y| grows 2x a step
    True
    """
    t = run_trajectory(surface, optimizer, lr=lr, momentum=momentum, steps=steps)
    beta = f", $\\beta$={momentum:.2g}" if optimizer in MOMENTUM_OPTIMIZERS else ""
    head = f"{optimizer}, lr={lr:.3g}{beta}"
    if t.diverged:
        tail = f"diverged at step {t.steps}"
    else:
        tail = f"$f - f^*$ = {t.losses[-1] - SURFACES[surface].f_min:.1e} after {t.steps} steps"
    # A fixed layout: the constrained layout engine would double the drawing time of
    # each of the website's hundred frames.
    fig.set_layout_engine("none")
    ax = fig.add_axes((0.15, 0.12, 0.8, 0.72))
    plot_trajectories(ax, surface, {optimizer: t}, title=f"{head}\n{tail}")
    ax.get_legend().remove()


#: Learning rates drawn in advance for the website; 2 / lambda_max = 0.2 on the quadratic.
STATIC_LRS: tuple[float, ...] = (0.003, 0.01, 0.03, 0.15, 0.3)


def interactive_optimizers() -> InteractiveFigure:
    """Optimizer, surface, learning rate and momentum against the optimizer's path.

    Live: any learning rate from 0.001 to 1 and momentum from 0 to 0.99. Website:
    7 optimizers x 3 surfaces x 5 learning rates (105 frames), momentum 0.9.

    Examples
    --------
    >>> interactive_optimizers().frame_count
    105
    """
    return InteractiveFigure(
        draw_optimizer_surface,
        [
            Choice("optimizer", list(OPTIMIZERS), default="GD"),
            Choice("surface", list(SURFACES), default="quadratic"),
            Slider("lr", 0.001, 1.0, 0.001, default=0.15, static_values=STATIC_LRS),
            Slider("momentum", 0.0, 0.99, 0.01, default=0.9, label="momentum / beta1"),
        ],
        static=["optimizer", "surface", "lr"],
        figsize=(3.8, 3.6),
        dpi=80,
        alt=(
            "The path of the chosen optimizer over the contour lines of the chosen loss surface"
            " (an ill-conditioned quadratic, Rosenbrock's valley or a saddle), from the start"
            " (black dot) towards the minima (stars); the title gives the optimizer, learning"
            " rate and momentum and the final gap to the minimum or the step of divergence"
        ),
    )


def train_digits(
    optimizer: str,
    *,
    lr: float,
    momentum: float = 0.9,
    epochs: int = 10,
    batch_size: int = 32,
    hidden: Sequence[int] = (32,),
    schedule: str | None = None,
    seed: int = 0,
    show_progress: bool | None = None,
) -> History:
    """Train a ReLU MLP on digits with an :mod:`nnlib.optim` optimizer, mini-batch by mini-batch.

    Use the training-set size as ``batch_size`` for full-batch GD and 1 for pure
    SGD. ``schedule`` is ``None``, ``"step"`` (halve the rate every ``epochs // 3``
    epochs) or ``"cosine"`` (anneal to 0 over ``epochs``). The model and the order
    of the mini-batches depend only on ``seed``. The held-out digits are the
    validation set of :func:`nnlib.train.fit`.

    Shapes
    ------
    The model maps (B, 64) to (B, 10).

    Returns
    -------
    The :class:`~nnlib.train.History`, evaluated before training and after every
    epoch: ``train["loss"]`` (epochs + 1 values), ``val["accuracy"]`` on the
    held-out digits, ``eval_steps`` (updates made by each evaluation), ``lr`` per step.

    Examples
    --------
    >>> h = train_digits("Adam", lr=0.003, epochs=2)
    >>> len(h.train["loss"]), h.train["loss"][-1] < h.train["loss"][0]
    (3, True)
    """
    X, y, X_test, y_test = digits_split()
    if isinstance(batch_size, bool) or not 1 <= int(batch_size) <= len(y):
        raise ValueError(f"batch_size must be in [1, {len(y)}], got {batch_size!r}")
    model = MLP(MLPConfig(in_features=64, hidden=list(hidden), out_features=10), seed=seed)
    opt = make_optimizer(optimizer, model.parameters(), lr=lr, momentum=momentum)
    return fit(
        model,
        X,
        y,
        optimizer=opt,
        loss="cross_entropy",
        epochs=epochs,
        batch_size=int(batch_size),
        val=(X_test, y_test),
        metrics={"accuracy": accuracy},
        eval_at_start=True,
        schedule=make_schedule(schedule, opt, length=epochs, halvings=3),
        seed=seed,
        show_progress=show_progress,
        desc=f"{optimizer} on digits",
    )


def noisy_descent(
    surface: str,
    *,
    lr: float,
    noise: float,
    steps: int = 300,
    schedule: str | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Gradient descent with Gaussian noise added to every gradient: a model of SGD.

    The gradient of a mini-batch is the true gradient plus noise. With a constant
    learning rate the iterates never settle; they jitter around the minimum with a
    spread that grows with ``lr``. ``schedule`` (``None``, ``"step"``: halve every
    ``steps // 5`` steps, or ``"cosine"``: anneal to 0 over ``steps``) lowers the
    rate once per step.

    Shapes
    ------
    Returns the loss ``f - f_min`` at every iterate: (steps + 1,).

    Examples
    --------
    >>> losses = noisy_descent("quadratic", lr=0.05, noise=1.0, steps=100)
    >>> losses.shape, bool(losses[-1] < losses[0])
    ((101,), True)
    """
    s = _surface(surface)
    if not lr > 0 or not noise >= 0 or steps < 1:
        raise ValueError(f"expected lr > 0, noise >= 0, steps >= 1; got {lr}, {noise}, {steps}")
    p = torch.tensor(s.start, dtype=torch.float64)  # (2,)
    opt = SGD([p], lr=lr)
    sched = make_schedule(schedule, opt, length=steps, halvings=5)
    g = torch.Generator().manual_seed(seed)
    losses = [float(s.f(*p.tolist())) - s.f_min]
    for _ in range(steps):
        p.grad = torch.tensor(s.grad(*p.tolist()), dtype=torch.float64)  # (2,)
        p.grad += noise * torch.randn(2, generator=g, dtype=torch.float64)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(float(s.f(*p.tolist())) - s.f_min)
    return np.array(losses)
