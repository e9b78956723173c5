"""How signals propagate through deep stacks: activations, initialization, residuals.

A layer ``h_l = phi(W_l h_{l-1})`` multiplies the variance of its input by roughly
``fan_in * Var(W) * g(phi)``, where ``g`` is 1/2 for ReLU and close to 1 for tanh
near 0. Through ``L`` layers that factor is raised to the power ``L``: unless it is
1, activations and gradients vanish or explode exponentially (Hochreiter 1991;
Bengio, Simard and Frasconi 1994). Glorot and Bengio (2010) chose
``Var(W) = 2 / (fan_in + fan_out)`` to keep both directions balanced; He, Zhang,
Ren and Sun (2015) ``Var(W) = 2 / fan_in`` for ReLU. Residual connections
``h_l = h_{l-1} + a_l * F(h_{l-1})`` (He et al. 2016) give the gradient a path that
skips the layers; a small learned *layer scale* ``a_l`` (Touvron et al. 2021,
CaiT) or a normalization keeps their sum from growing with depth.

:func:`propagate` measures per-layer activation and gradient statistics at
initialization; :class:`DeepMLP` and :func:`train_deep` train plain and residual
stacks on the digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlib.data import digits
from nnlib.normalization import BatchNorm1d, LayerNorm
from nnlib.train import progress

__all__ = [
    "ACTIVATIONS",
    "INIT_SCHEMES",
    "init_std",
    "init_weight",
    "propagate",
    "DeepMLPConfig",
    "DeepMLP",
    "digits_tensors",
    "train_deep",
]

#: Slope of the leaky ReLU for negative inputs (Maas, Hannun and Ng 2013 used 0.01).
LEAKY_SLOPE = 0.01

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
}

#: Initialization schemes by name; "normal(0.01)" is N(0, 0.01^2) whatever the width.
INIT_SCHEMES: tuple[str, ...] = ("he", "xavier", "normal(0.01)", "pytorch")


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the weights of a ``fan_in -> fan_out`` layer.

    ``he``: sqrt(2 / fan_in);  ``xavier``: sqrt(2 / (fan_in + fan_out));
    ``normal(0.01)``: 0.01;  ``pytorch``: that of ``nn.Linear``'s default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), i.e. sqrt(1 / (3 fan_in)).

    Examples
    --------
    >>> init_std("he", 50, 10), init_std("xavier", 30, 20), init_std("normal(0.01)", 7, 7)
    (0.2, 0.2, 0.01)
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown initialization {scheme!r}; expected one of {INIT_SCHEMES}")
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out must be >= 1, got {fan_in}, {fan_out}")
    return {
        "he": math.sqrt(2.0 / fan_in),
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "normal(0.01)": 0.01,
        "pytorch": math.sqrt(1.0 / (3.0 * fan_in)),
    }[scheme]


def init_weight(
    fan_out: int,
    fan_in: int,
    scheme: str,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A weight matrix drawn from ``scheme`` (normal, except ``pytorch``: uniform).

    Shapes
    ------
    returns (fan_out, fan_in), the layout of ``nn.Linear.weight``.

    Examples
    --------
    >>> W = init_weight(1000, 500, "he", generator=torch.Generator().manual_seed(0))
    >>> W.shape, round(W.var().item() * 500, 1)  # Var(W) * fan_in = 2
    (torch.Size([1000, 500]), 2.0)
    """
    std = init_std(scheme, fan_in, fan_out)
    if scheme == "pytorch":
        bound = std * math.sqrt(3.0)  # U(-a, a) has variance a^2 / 3
        u = torch.rand(fan_out, fan_in, generator=generator, dtype=dtype)
        return (2 * u - 1) * bound
    return torch.randn(fan_out, fan_in, generator=generator, dtype=dtype) * std


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {list(ACTIVATIONS)}")


def propagate(
    *,
    depth: int,
    width: int = 128,
    init: str = "he",
    activation: str = "relu",
    residual: bool = False,
    layer_scale: float = 1.0,
    n_samples: int = 256,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Per-layer statistics of a random deep stack at initialization (no biases).

    The input is ``x ~ N(0, 1)``; layer ``l`` computes ``h_l = phi(W_l h_{l-1})``
    (plain) or ``h_l = h_{l-1} + layer_scale * phi(W_l h_{l-1})`` (residual). A
    random linear read-out of ``h_L`` plays the loss, and backpropagation gives the
    gradient of every weight matrix. Float64 keeps values down to 1e-300 visible.

    Returns
    -------
    dict with ``activation_std`` (depth + 1,): std of ``h_0 = x, h_1, ..., h_L``
    over samples and units, and ``grad_norm`` (depth,): Frobenius norm of
    ``dLoss/dW_l`` for ``l = 1..L``.

    Examples
    --------
    >>> s = propagate(depth=50, init="he", activation="relu")
    >>> s["activation_std"].shape, s["grad_norm"].shape
    ((51,), (50,))
    >>> bool(propagate(depth=50, init="normal(0.01)")["activation_std"][-1] < 1e-6)
    True
    """
    _check_activation(activation)
    if depth < 1 or width < 1 or n_samples < 2:
        raise ValueError(
            f"need depth, width >= 1 and n_samples >= 2, got {depth}, {width}, {n_samples}"
        )
    phi = ACTIVATIONS[activation]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_samples, width, generator=g, dtype=torch.float64)  # (n, width)
    Ws = [
        init_weight(width, width, init, generator=g, dtype=torch.float64).requires_grad_()
        for _ in range(depth)
    ]
    readout = torch.randn(width, generator=g, dtype=torch.float64) / math.sqrt(width)  # (width,)
    h, stds = x, [x.std().item()]
    for W in Ws:
        f = phi(h @ W.T)  # (n, width)
        h = h + layer_scale * f if residual else f
        stds.append(h.std().item())
    loss = (h @ readout).mean()
    grads = torch.autograd.grad(loss, Ws)
    return {
        "activation_std": np.array(stds),
        "grad_norm": np.array([gr.norm().item() for gr in grads]),
    }


@dataclass(frozen=True, kw_only=True)
class DeepMLPConfig:
    """A deep stack of equal-width fully connected layers.

    ``norm`` is ``None``, ``"layer"`` or ``"batch"``. In a plain stack it goes
    after the linear map, ``h = phi(N(W h + b))``; in a residual stack before it
    (the "pre-norm" block), ``h = h + a * phi(W N(h) + b)``, so the skip path itself
    is never normalized. ``layer_scale`` (residual only) is the initial value of the
    per-unit learned scale ``a``; ``None`` means no scale (``a = 1``, fixed).
    ``init`` applies to the ``depth`` hidden layers (any scheme but ``"pytorch"`` also
    zeroes their biases); the input and output layers keep PyTorch's default.
    """

    in_features: int = 64
    width: int = 64
    depth: int = 30
    out_features: int = 10
    activation: str = "relu"
    init: str = "pytorch"
    residual: bool = False
    layer_scale: float | None = None
    norm: str | None = None

    def __post_init__(self) -> None:
        _check_activation(self.activation)
        if self.init not in INIT_SCHEMES:
            raise ValueError(f"unknown init {self.init!r}; expected one of {INIT_SCHEMES}")
        if self.norm not in (None, "layer", "batch"):
            raise ValueError(f"norm must be None, 'layer' or 'batch', got {self.norm!r}")
        if self.layer_scale is not None and not self.residual:
            raise ValueError("layer_scale only makes sense with residual=True")
        if min(self.in_features, self.width, self.depth, self.out_features) < 1:
            raise ValueError(f"sizes and depth must be >= 1, got {self}")


class DeepMLP(nn.Module):
    """``depth`` hidden layers of ``width`` units, plain or residual (see the config).

    Shapes
    ------
    x : (N, in_features);  returns (N, out_features) logits.

    Examples
    --------
    >>> cfg = DeepMLPConfig(depth=3, width=8, residual=True, layer_scale=0.1)
    >>> model = DeepMLP(cfg, seed=0)
    >>> model(torch.zeros(5, 64)).shape
    torch.Size([5, 10])
    """

    def __init__(self, config: DeepMLPConfig, *, seed: int = 0) -> None:
        super().__init__()
        c = self.config = config
        with torch.random.fork_rng(devices=[]):  # seeded without touching the global RNG
            torch.manual_seed(seed)
            self.embed = nn.Linear(c.in_features, c.width)
            self.layers = nn.ModuleList(nn.Linear(c.width, c.width) for _ in range(c.depth))
            self.head = nn.Linear(c.width, c.out_features)
        if c.init != "pytorch":
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for layer in self.layers:
                    layer.weight.copy_(init_weight(c.width, c.width, c.init, generator=g))
                    layer.bias.zero_()
        norm_cls = {"layer": LayerNorm, "batch": BatchNorm1d, None: None}[c.norm]
        self.norms = nn.ModuleList(
            norm_cls(c.width) if norm_cls else nn.Identity() for _ in range(c.depth)
        )
        self.scales = (
            nn.Parameter(torch.full((c.depth, c.width), float(c.layer_scale)))
            if c.layer_scale is not None
            else None
        )

    def hidden(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden representation ``h_0 .. h_depth``, each of shape (N, width)."""
        c = self.config
        if x.ndim != 2 or x.shape[1] != c.in_features:
            raise ValueError(f"expected input of shape (N, {c.in_features}), got {tuple(x.shape)}")
        phi = ACTIVATIONS[c.activation]
        h = self.embed(x)  # (N, width)
        hs = [h]
        for i, (layer, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            if c.residual:
                f = phi(layer(norm(h)))
                h = h + (self.scales[i] * f if self.scales is not None else f)
            else:
                h = phi(norm(layer(h)))
            hs.append(h)
        return hs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(x)[-1])


def digits_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The digits with every pixel standardized (constant pixels stay 0).

    Shapes
    ------
    X : (1797, 64) float32;  y : (1797,) int64.

    Examples
    --------
    >>> X, y = digits_tensors()
    >>> X.shape, round(X.std(dim=0).max().item(), 2)
    (torch.Size([1797, 64]), 1.0)
    """
    X, y = digits()
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def train_deep(
    model: nn.Module,
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
) -> dict[str, list[float]]:
    """Mini-batch SGD with momentum on the cross-entropy; full-batch loss logged.

    Training stops early if the loss becomes NaN or infinite; the history then ends
    with that value (the mini-batch's loss if it turned non-finite between two logged
    steps).

    Returns
    -------
    dict with ``step`` and ``loss``: the training loss of the whole set (model in
    evaluation mode) before training and every ``eval_every`` steps.

    Shapes
    ------
    X : (N, in_features);  y : (N,) integer classes.

    Examples
    --------
    >>> X, y = digits_tensors()
    >>> model = DeepMLP(DeepMLPConfig(depth=2, width=16), seed=0)
    >>> hist = train_deep(model, X, y, steps=40, eval_every=20)
    >>> hist["step"], bool(hist["loss"][-1] < hist["loss"][0])
    ([0, 20, 40], True)
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"expected X (N, d) and y (N,), got {tuple(X.shape)}, {tuple(y.shape)}")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    hist: dict[str, list[float]] = {"step": [], "loss": []}

    def log(step: int) -> bool:
        model.eval()
        with torch.no_grad():
            loss = F.cross_entropy(model(X), y).item()
        model.train()
        hist["step"].append(step)
        hist["loss"].append(loss)
        return math.isfinite(loss)

    if not log(0):
        return hist
    for step in progress(range(1, steps + 1), desc=desc, leave=False):
        idx = torch.randint(0, len(X), (batch_size,), generator=g)  # (batch_size,)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step % eval_every == 0 or step == steps) and not log(step):
            break
        if not math.isfinite(loss.item()):
            hist["step"].append(step)
            hist["loss"].append(loss.item())
            break
    return hist
