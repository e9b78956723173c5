"""Deep stacks of equal-width layers, plain or residual, with optional normalization.

A plain stack ``h_n = phi(W_n h_{n-1} + b_n)`` must carry its signal through every
layer. Residual connections ``h_n = h_{n-1} + a_n * F(h_{n-1})`` (He et al. 2016)
give the signal and the gradient a path that skips the layers; a small learned
*layer scale* ``a_n`` (Touvron et al. 2021, CaiT) or a normalization (Ba, Kiros &
Hinton 2016; Ioffe & Szegedy 2015) keeps their sum from growing with depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nnlib.activations import ACTIVATIONS, check_activation
from nnlib.initialization import INIT_SCHEMES, init_weight

__all__ = ["DeepMLPConfig", "DeepMLP"]


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
        check_activation(self.activation)
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
        # PyTorch's fused modules compute what nnlib.normalization's do (the chapter and
        # tests/test_normalization.py check that) in one kernel instead of a chain of
        # small ones, which halves the time of the chapter's sweep of 30-layer stacks.
        norm_cls = {"layer": nn.LayerNorm, "batch": nn.BatchNorm1d, None: None}[c.norm]
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
