"""Initialization, and how a signal propagates through a deep stack at initialization.

A layer ``h_n = phi(W_n h_{n-1})`` multiplies the variance of its input by roughly
``fan_in * Var(W) * g(phi)``, where ``g`` is 1/2 for ReLU and close to 1 for tanh
near 0. Through ``D`` layers that factor is raised to the power ``D``: unless it is
1, activations and gradients vanish or explode exponentially (Hochreiter 1991;
Bengio, Simard and Frasconi 1994). Glorot and Bengio (2010) chose
``Var(W) = 2 / (fan_in + fan_out)`` to keep both directions balanced; He, Zhang,
Ren and Sun (2015) ``Var(W) = 2 / fan_in`` for ReLU.

:func:`init_weight` draws weights from a scheme; :func:`propagate` measures the
per-layer activation and gradient statistics of a random stack at initialization.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nnlib.activations import ACTIVATIONS, check_activation

__all__ = ["INIT_SCHEMES", "init_std", "init_weight", "propagate"]

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

    The input is ``x ~ N(0, 1)``; layer ``n`` computes ``h_n = phi(W_n h_{n-1})``
    (plain) or ``h_n = h_{n-1} + layer_scale * phi(W_n h_{n-1})`` (residual). A
    random linear read-out of ``h_D`` (``D = depth``) plays the loss, and backpropagation gives the
    gradient of every weight matrix. Float64 keeps values down to 1e-300 visible.

    Returns
    -------
    dict with ``activation_std`` (depth + 1,): std of ``h_0 = x, h_1, ..., h_D``
    over samples and units, and ``grad_norm`` (depth,): Frobenius norm of
    ``dLoss/dW_n`` for ``n = 1..D``.

    Examples
    --------
    >>> s = propagate(depth=50, init="he", activation="relu")
    >>> s["activation_std"].shape, s["grad_norm"].shape
    ((51,), (50,))
    >>> bool(propagate(depth=50, init="normal(0.01)")["activation_std"][-1] < 1e-6)
    True
    """
    check_activation(activation)
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
