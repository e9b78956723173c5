"""A small multilayer perceptron in PyTorch and full-batch trainers for toy problems.

An MLP stacks fully connected layers ``z = W x + b`` with a nonlinearity between
them (ReLU by default, Nair & Hinton 2010). Without the nonlinearity the stack
would collapse into one linear map; with it, one hidden layer of enough width is
a universal approximator (Cybenko 1989; Hornik, Stinchcombe & White 1989).
The trainers use Adam (Kingma & Ba 2015) on the whole (tiny) data set at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnlib.train import progress

__all__ = [
    "ACTIVATIONS",
    "MLPConfig",
    "MLP",
    "accuracy",
    "predict_classes",
    "train_classifier",
    "fit_regression",
    "sawtooth_mlp",
    "relu_least_squares",
]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


@dataclass(kw_only=True)
class MLPConfig:
    """Hyperparameters of an :class:`MLP`.

    Parameters
    ----------
    in_features : int
        Input dimension ``d``.
    hidden : sequence of int
        Widths of the hidden layers; its length is the depth (number of hidden layers).
    out_features : int
        Output dimension (1 for a binary classifier's logit or a scalar regression).
    activation : str
        One of ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``.

    Examples
    --------
    >>> MLPConfig(in_features=2, hidden=[8, 8], out_features=1).depth
    2
    """

    in_features: int
    hidden: Sequence[int]
    out_features: int
    activation: str = "relu"

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        sizes = (self.in_features, *self.hidden, self.out_features)
        if any(s < 1 for s in sizes):
            raise ValueError(f"every layer width must be >= 1, got {sizes}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )

    @property
    def depth(self) -> int:
        return len(self.hidden)


class MLP(nn.Module):
    """Fully connected layers with an activation after every hidden layer.

    Shapes
    ------
    x : (N, in_features);  returns (N, out_features).

    Examples
    --------
    >>> model = MLP(MLPConfig(in_features=2, hidden=[4], out_features=1), seed=0)
    >>> model(torch.zeros(5, 2)).shape
    torch.Size([5, 1])
    >>> model.num_parameters()  # (2*4 + 4) + (4*1 + 1)
    17
    """

    def __init__(self, config: MLPConfig, *, seed: int | None = None) -> None:
        super().__init__()
        self.config = config
        sizes = (config.in_features, *config.hidden, config.out_features)
        layers: list[nn.Module] = []
        # With a seed, the default initialization inside nn.Linear must not consume
        # the global generator either; reset_parameters then draws the real weights.
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                layers.append(nn.Linear(n_in, n_out))
                if i < len(sizes) - 2:  # no activation after the output layer
                    layers.append(ACTIVATIONS[config.activation]())
        self.net = nn.Sequential(*layers)
        if seed is not None:
            self.reset_parameters(seed)

    def reset_parameters(self, seed: int) -> None:
        """Re-draw every weight with PyTorch's default initialization, from ``seed``."""
        # fork_rng keeps the global generator untouched, so a seeded model does not
        # change what later, unrelated random calls return.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.config.in_features:
            raise ValueError(
                f"expected input of shape (N, {self.config.in_features}), got {tuple(x.shape)}"
            )
        return self.net(x)


def _as_tensor(a, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a).to(device, dtype)


def _classes(logits: torch.Tensor) -> torch.Tensor:
    # One logit column is a binary classifier (class 1 where the logit is positive).
    return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)


def _start(model: nn.Module, steps: int, lr: float, seed: int | None) -> torch.device:
    """Check a trainer's arguments, re-seed the model, and return its device."""
    if steps < 1 or lr <= 0:
        raise ValueError(f"expected steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    if seed is not None:
        if not hasattr(model, "reset_parameters"):
            raise TypeError("seed needs a model with reset_parameters(seed); pass seed=None")
        model.reset_parameters(seed)
    return next(model.parameters()).device


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct predictions; one logit column means a binary classifier.

    Shapes
    ------
    logits : (N, 1) or (N, C);  y : (N,) integer labels.

    Examples
    --------
    >>> accuracy(torch.tensor([[2.0], [-1.0], [0.5]]), torch.tensor([1, 0, 0]))
    0.6666666666666666
    """
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected logits (N, C) and y (N,), got {tuple(logits.shape)}, {tuple(y.shape)}"
        )
    return (_classes(logits) == y.long()).double().mean().item()


@torch.no_grad()
def predict_classes(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """Class labels for a NumPy batch (handy as the ``predict`` of a decision-boundary plot).

    Shapes
    ------
    X : (N, d);  returns (N,) int64.

    Examples
    --------
    >>> model = MLP(MLPConfig(in_features=2, hidden=[3], out_features=1), seed=0)
    >>> predict_classes(model, np.zeros((4, 2))).shape
    (4,)
    """
    dev = next(model.parameters()).device
    logits = model(_as_tensor(X, torch.float32, dev))  # (N, C)
    return _classes(logits).cpu().numpy()


def train_classifier(
    model: nn.Module,
    X,
    y,
    *,
    steps: int = 500,
    lr: float = 0.01,
    seed: int | None = 0,
    weight_decay: float = 0.0,
    show_progress: bool = False,
) -> dict[str, list[float]]:
    """Full-batch Adam on a classifier; returns the history per step.

    The loss is binary cross-entropy on the logit when the model has one output,
    cross-entropy otherwise. With full batches nothing in training is random, so
    ``seed`` re-initializes the model's parameters first: the result then depends
    only on the architecture, the data and the seed (``None`` keeps the weights).

    Shapes
    ------
    X : (N, d) array or tensor;  y : (N,) integer labels.

    Returns
    -------
    dict with lists ``"loss"`` and ``"accuracy"`` (one entry per step, measured
    before that step's update) and ``"final_accuracy"`` (after training).

    Examples
    --------
    >>> from nnlib.data import logic_gate
    >>> X, y = logic_gate("AND")
    >>> model = MLP(MLPConfig(in_features=2, hidden=[4], out_features=1))
    >>> hist = train_classifier(model, X, y, steps=300, lr=0.05, seed=0)
    >>> hist["final_accuracy"][0]
    1.0
    """
    dev = _start(model, steps, lr, seed)
    Xt = _as_tensor(X, torch.float32, dev)  # (N, d)
    yt = _as_tensor(y, torch.int64, dev)  # (N,)
    if Xt.ndim != 2 or yt.shape != (Xt.shape[0],):
        raise ValueError(f"expected X (N, d) and y (N,), got {tuple(Xt.shape)}, {tuple(yt.shape)}")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for _ in progress(range(steps), desc="training", disable=not show_progress):
        logits = model(Xt)  # (N, C)
        if logits.shape[1] == 1:
            loss = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], yt.float())
        else:
            loss = nn.functional.cross_entropy(logits, yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history["loss"].append(loss.item())
        history["accuracy"].append(accuracy(logits.detach(), yt))
    with torch.no_grad():
        history["final_accuracy"] = [accuracy(model(Xt), yt)]
    return history


def fit_regression(
    model: nn.Module,
    x,
    y,
    *,
    steps: int = 2000,
    lr: float = 0.01,
    seed: int | None = 0,
    show_progress: bool = False,
) -> dict[str, list[float]]:
    """Full-batch Adam on the mean squared error; returns ``{"loss": [...]}`` per step.

    ``seed`` re-initializes the parameters first, as in :func:`train_classifier`.

    Shapes
    ------
    x : (N, d);  y : (N, out_features).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 50)[:, None]
    >>> model = MLP(MLPConfig(in_features=1, hidden=[16], out_features=1))
    >>> hist = fit_regression(model, x, 2 * x, steps=300, lr=0.02, seed=0)
    >>> hist["loss"][-1] < 1e-3
    True
    """
    dev = _start(model, steps, lr, seed)
    xt = _as_tensor(x, torch.float32, dev)  # (N, d)
    yt = _as_tensor(y, torch.float32, dev)  # (N, out)
    if xt.ndim != 2 or yt.ndim != 2 or xt.shape[0] != yt.shape[0]:
        raise ValueError(
            f"expected x (N, d) and y (N, k), got {tuple(xt.shape)}, {tuple(yt.shape)}"
        )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"loss": []}
    for _ in progress(range(steps), desc="fitting", disable=not show_progress):
        loss = nn.functional.mse_loss(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history["loss"].append(loss.item())
    return history


@torch.no_grad()
def sawtooth_mlp(depth: int) -> MLP:
    """A deep ReLU net with 2 units per layer whose output is a sawtooth with ``2**depth`` pieces.

    Each hidden layer computes the tent map ``t(x) = 2 relu(x) - 4 relu(x - 1/2)``
    on ``[0, 1]``; composing it ``depth`` times doubles the number of linear pieces
    every time (Telgarsky 2016). A one-hidden-layer ReLU net needs about one unit
    per kink, ``2**depth - 1`` units, for the same function.

    Shapes
    ------
    input (N, 1) in [0, 1];  output (N, 1).

    Examples
    --------
    >>> f = sawtooth_mlp(2)
    >>> f(torch.tensor([[0.0], [0.25], [0.5], [0.75], [1.0]]))[:, 0].tolist()
    [0.0, 1.0, 0.0, 1.0, 0.0]
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    model = MLP(MLPConfig(in_features=1, hidden=[2] * depth, out_features=1))
    tent_out = torch.tensor([[2.0, -4.0]])  # recombines the two units into t(x)
    for i, layer in enumerate(model.linears[:-1]):
        # Units: relu(s) and relu(s - 1/2), where s is the previous layer's tent value.
        w_in = torch.ones(2, 1) if i == 0 else torch.ones(2, 1) @ tent_out  # (2, 1) or (2, 2)
        layer.weight.copy_(w_in)
        layer.bias.copy_(torch.tensor([0.0, -0.5]))
    model.linears[-1].weight.copy_(tent_out)
    model.linears[-1].bias.zero_()
    return model


@torch.no_grad()
def relu_least_squares(x, y, width: int, *, lo: float = -1.0, hi: float = 1.0) -> MLP:
    """The best one-hidden-layer ReLU net whose ``width`` kinks sit evenly on ``[lo, hi)``.

    Hidden unit ``j`` computes ``relu(x - k_j)`` with knots ``k_j`` evenly spaced
    from ``lo``; such units span every continuous piecewise-linear function with
    those kinks, which is the construction behind the universal approximation
    theorem for ReLU (Leshno et al. 1993). The output layer is then solved exactly
    by least squares, so the error measured is the approximation error of this
    architecture, free of any optimizer's luck. For widths that double, the knot
    sets are nested, so the error cannot grow with the width.

    Shapes
    ------
    x : (N, 1);  y : (N, 1);  the returned model maps (M, 1) to (M, 1).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 101)[:, None]
    >>> model = relu_least_squares(x, np.abs(x), width=2)  # |x| has one kink, at 0
    >>> f = model(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    >>> float(abs(f - np.abs(x)).max()) < 1e-5
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 1 or y.shape != x.shape:
        raise ValueError(f"expected x and y of shape (N, 1), got {x.shape} and {y.shape}")
    if width < 1 or not hi > lo:
        raise ValueError(f"expected width >= 1 and hi > lo, got width={width}, [{lo}, {hi}]")
    knots = np.linspace(lo, hi, width + 1)[:-1]  # (width,)
    H = np.maximum(x - knots[None, :], 0.0)  # (N, width) hidden activations
    A = np.concatenate([H, np.ones((len(x), 1))], axis=1)  # (N, width + 1), last column: bias
    coef = np.linalg.lstsq(A, y, rcond=None)[0]  # (width + 1, 1)
    model = MLP(MLPConfig(in_features=1, hidden=[width], out_features=1))
    hidden, out = model.linears
    hidden.weight.fill_(1.0)
    hidden.bias.copy_(torch.as_tensor(-knots, dtype=torch.float32))
    out.weight.copy_(torch.as_tensor(coef[:-1].T, dtype=torch.float32))  # (1, width)
    out.bias.copy_(torch.as_tensor(coef[-1], dtype=torch.float32))
    return model
