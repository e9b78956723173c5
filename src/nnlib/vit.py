"""A Vision Transformer for 1-D signals such as MNIST-1D.

The Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words")
treats an image as a sequence of patches: each patch becomes one token, and a
standard Transformer encoder (:class:`nnlib.transformer.Encoder`) reads them. This
is the simple form of Beyer, Zhai and Kolesnikov (2022), "Better plain ViT
baselines": fixed sinusoidal positions and a readout by mean pooling; the original
ViT's learned positions and class token are the alternatives (``positional="learned"``,
``pool="cls"``).
For MNIST-1D a signal of 40 samples cut into patches of 4 gives 10 tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nnlib.transformer import Encoder, TransformerConfig

__all__ = ["ViTConfig", "ViT1D"]


@dataclass
class ViTConfig:
    """Hyperparameters of :class:`ViT1D` (the encoder's ``max_len`` is set from them)."""

    signal_length: int = 40
    patch_size: int = 4
    num_classes: int = 10
    pool: str = "mean"  # or "cls"
    transformer: TransformerConfig | None = None


class ViT1D(nn.Module):
    """A Vision Transformer for 1-D signals: patches as tokens, then a class readout.

    The signal is cut into ``signal_length / patch_size`` non-overlapping patches,
    each mapped linearly to a token; with ``pool="cls"`` a learned class token is put
    in front and its final vector classifies, with ``pool="mean"`` the tokens'
    average does. Positions follow ``transformer.positional``.

    Shapes
    ------
    x : (B, signal_length) float;  returns (B, num_classes)
    [and a list of attention weights (B, num_heads, N, N), N = patches (+1 with cls)].

    Examples
    --------
    >>> cfg = ViTConfig(transformer=TransformerConfig(d_model=16, num_heads=2, num_layers=1))
    >>> vit = ViT1D(cfg)
    >>> logits, ws = vit(torch.randn(5, 40), need_weights=True)
    >>> tuple(logits.shape), tuple(ws[0].shape)
    ((5, 10), (5, 2, 10, 10))
    """

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        c = config
        if c.signal_length % c.patch_size:
            raise ValueError(
                f"patch_size must divide signal_length, got {c.patch_size} and {c.signal_length}"
            )
        if c.pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {c.pool!r}")
        t = c.transformer or TransformerConfig()
        self.num_patches = c.signal_length // c.patch_size
        n_tokens = self.num_patches + (c.pool == "cls")
        self.config = c
        self.t_config = TransformerConfig(**{**vars(t), "max_len": n_tokens})
        self.patch_embed = nn.Linear(c.patch_size, t.d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, t.d_model)) if c.pool == "cls" else None
        self.encoder = Encoder(self.t_config)
        self.head = nn.Linear(t.d_model, c.num_classes)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """Cut ``(B, signal_length)`` signals into ``(B, num_patches, patch_size)``."""
        if x.dim() != 2 or x.shape[1] != self.config.signal_length:
            raise ValueError(
                f"expected signals (B, {self.config.signal_length}), got {tuple(x.shape)}"
            )
        return x.view(x.shape[0], self.num_patches, self.config.patch_size)  # (B, N, P)

    def forward(
        self, x: torch.Tensor, *, need_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        tokens = self.patch_embed(self.patches(x))  # (B, N, d_model)
        if self.cls is not None:
            cls = self.cls.expand(x.shape[0], -1, -1)  # (B, 1, d_model)
            tokens = torch.cat([cls, tokens], dim=1)  # (B, N + 1, d_model)
        h, weights = self.encoder(tokens, need_weights=True)  # (B, N[+1], d_model)
        pooled = h[:, 0] if self.cls is not None else h.mean(dim=1)  # (B, d_model)
        logits = self.head(pooled)  # (B, num_classes)
        return (logits, weights) if need_weights else logits
