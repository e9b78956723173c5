"""A small multilayer perceptron in PyTorch, and two hand-built ones.

An MLP stacks fully connected layers ``z = W x + b`` with a nonlinearity between
them (ReLU by default, Nair & Hinton 2010). Without the nonlinearity the stack
would collapse into one linear map; with it, one hidden layer of enough width is
a universal approximator (Cybenko 1989; Hornik, Stinchcombe & White 1989).
:func:`sawtooth_mlp` and :func:`relu_least_squares` set weights by hand to show
what depth and width can represent; :func:`nnlib.train.fit` trains the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnlib.activations import Activation, check_activation
from nnlib.losses import as_tensor, classes

__all__ = ["MLPConfig", "MLP", "predict_classes", "sawtooth_mlp", "relu_least_squares"]


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
        A key of :data:`nnlib.activations.ACTIVATIONS`.

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
        check_activation(self.activation)

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
            for i, (d_prev, d_n) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                layers.append(nn.Linear(d_prev, d_n))  # weight (d_n, d_prev)
                if i < len(sizes) - 2:  # no activation after the output layer
                    layers.append(Activation(config.activation))
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
    p = next(model.parameters())
    logits = model(as_tensor(X, p.dtype).to(p.device))  # (N, C)
    return classes(logits).cpu().numpy()


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

    Hidden unit ``j`` computes ``relu(x - a_j)`` with knots ``a_j`` evenly spaced
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
