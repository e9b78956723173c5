"""The Transformer (Vaswani et al. 2017), from its parts: attention, feed-forward, blocks.

Read from the small parts to the whole: positional encodings (sinusoidal or
learned) tell the otherwise order-blind attention where each token sits;
:class:`FeedForward` transforms every token alone; :class:`EncoderBlock` and
:class:`DecoderBlock` wrap attention and feed-forward in residual connections with
layer normalization, either after each sublayer (``norm_first=False``, the original
"post-norm") or before it (``norm_first=True``, "pre-norm", which trains deep stacks
more easily; Xiong et al. 2020); :class:`Encoder` stacks blocks. Two small models
use it: :class:`TokenTransformer` maps a token sequence to per-token logits, and
:class:`ViT1D` (in :mod:`nnlib.vit`) is a Vision Transformer for 1-D signals.

The blocks equal ``torch.nn.TransformerEncoderLayer`` and
``torch.nn.TransformerDecoderLayer`` (``batch_first=True``) given the same weights
(:meth:`EncoderBlock.load_torch_weights`); masks follow :mod:`nnlib.attention`
(boolean ``True`` = may attend, ``key_valid`` ``True`` on real tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nnlib.attention import MultiHeadAttention
from nnlib.normalization import LayerNorm

__all__ = [
    "sinusoidal_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "FeedForward",
    "EncoderBlock",
    "DecoderBlock",
    "TransformerConfig",
    "Encoder",
    "TokenTransformer",
]

_ACTIVATIONS = {"relu": nn.functional.relu, "gelu": nn.functional.gelu}


def sinusoidal_encoding(T: int, d_model: int) -> torch.Tensor:
    """``PE[t, 2i] = sin(t / 10000^(2i/d_model))``, ``PE[t, 2i+1] = cos(...)``.

    Each pair of dimensions turns at its own frequency, so ``PE[t + k]`` is a fixed
    rotation of ``PE[t]``: relative offsets are linear maps of the encoding.

    Shapes
    ------
    returns (T, d_model) float32.

    Examples
    --------
    >>> pe = sinusoidal_encoding(50, 8)
    >>> tuple(pe.shape), pe[0].tolist()
    ((50, 8), [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    """
    if T < 1 or d_model < 2 or d_model % 2:
        raise ValueError(f"need T >= 1 and an even d_model >= 2, got T={T}, d_model={d_model}")
    t = torch.arange(T, dtype=torch.float64)[:, None]  # (T, 1)
    freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    pe = torch.empty(T, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * freq)  # (T, d/2)
    pe[:, 1::2] = torch.cos(t * freq)  # (T, d/2)
    return pe.float()


def _check_tokens(x: torch.Tensor, max_len: int, d_model: int) -> None:
    if x.dim() != 3 or x.shape[-1] != d_model or x.shape[1] > max_len:
        raise ValueError(
            f"expected token vectors (B, T <= {max_len}, {d_model}), got {tuple(x.shape)}"
        )


class SinusoidalPositionalEncoding(nn.Module):
    """Add the fixed :func:`sinusoidal_encoding` to token vectors (nothing to learn).

    Shapes
    ------
    x : (B, T, d_model), T <= max_len;  returns (B, T, d_model).

    Examples
    --------
    >>> pos = SinusoidalPositionalEncoding(d_model=4, max_len=10)
    >>> pos(torch.zeros(1, 2, 4)).tolist()[0][0]
    [0.0, 1.0, 0.0, 1.0]
    """

    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tokens(x, self.max_len, self.d_model)
        return x + self.pe[: x.shape[1]].to(x.dtype)  # (T, d) broadcasts over B


class LearnedPositionalEncoding(nn.Module):
    """Add a learned vector per position.

    The vectors start as ``init_std * N(0, 1)``; the default 1 is the scale of
    ``nn.Embedding``'s token vectors they are added to, so positions are heard from
    the first step. (On sequence reversal, a 2-layer model with BERT's 0.02 next to
    unit-scale tokens got no test sequence right after 20 s of CPU training; with 1,
    all of them.)

    Shapes
    ------
    x : (B, T, d_model), T <= max_len;  returns (B, T, d_model).

    Examples
    --------
    >>> pos = LearnedPositionalEncoding(d_model=4, max_len=10)
    >>> tuple(pos(torch.zeros(3, 7, 4)).shape), tuple(pos.pe.shape)
    ((3, 7, 4), (10, 4))
    """

    def __init__(self, d_model: int, max_len: int, *, init_std: float = 1.0) -> None:
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.pe = nn.Parameter(init_std * torch.randn(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tokens(x, self.max_len, self.d_model)
        return x + self.pe[: x.shape[1]]  # (T, d) broadcasts over B


class FeedForward(nn.Module):
    """Two linear maps with a nonlinearity between, applied to every token alone.

    Shapes
    ------
    x : (..., d_model);  returns (..., d_model).

    Examples
    --------
    >>> ff = FeedForward(d_model=4, d_ff=16, activation="gelu")
    >>> tuple(ff(torch.zeros(2, 3, 4)).shape)
    (2, 3, 4)
    """

    def __init__(
        self, d_model: int, d_ff: int, *, activation: str = "relu", dropout: float = 0.0
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.activation, self.dropout = _ACTIVATIONS[activation], nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))  # (..., d_model)


class _TokenLayerNorm(LayerNorm):
    """Chapter 5's layer norm, applied to every token of a (B, T, C) tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).view(x.shape)  # (B*T, C) -> (B, T, C)


class EncoderBlock(nn.Module):
    """Self-attention, then feed-forward, each in a residual connection with layer norm.

    Shapes
    ------
    x : (B, T, d_model);  mask : broadcastable to (B, num_heads, T, T);
    key_valid : (B, T) bool;  returns (B, T, d_model)
    [and the attention weights (B, num_heads, T, T)].

    Examples
    --------
    >>> block = EncoderBlock(d_model=8, num_heads=2, d_ff=16, norm_first=True)
    >>> y, w = block(torch.zeros(3, 5, 8), is_causal=True, need_weights=True)
    >>> tuple(y.shape), tuple(w.shape)
    ((3, 5, 8), (3, 2, 5, 5))
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        *,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ff = FeedForward(d_model, d_ff, activation=activation, dropout=dropout)
        self.norm1, self.norm2 = _TokenLayerNorm(d_model), _TokenLayerNorm(d_model)
        self.dropout, self.norm_first = nn.Dropout(dropout), norm_first

    def forward(
        self,
        x: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        key_valid: torch.Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        kw = dict(mask=mask, key_valid=key_valid, is_causal=is_causal, need_weights=True)
        if self.norm_first:  # pre-norm: x + f(norm(x)); the residual path stays untouched
            a, w = self.attn(self.norm1(x), **kw)  # (B, T, d_model), (B, h, T, T)
            x = x + self.dropout(a)
            x = x + self.dropout(self.ff(self.norm2(x)))
        else:  # post-norm (the original): norm(x + f(x))
            a, w = self.attn(x, **kw)
            x = self.norm1(x + self.dropout(a))
            x = self.norm2(x + self.dropout(self.ff(x)))
        return (x, w) if need_weights else x

    @torch.no_grad()
    def load_torch_weights(self, layer: nn.TransformerEncoderLayer) -> EncoderBlock:
        """Copy the weights of a ``torch.nn.TransformerEncoderLayer``; return self."""
        self.attn.load_torch_weights(layer.self_attn)
        _copy_ff_norms(self, layer, 2)
        return self


class DecoderBlock(nn.Module):
    """Causal self-attention, cross-attention to the encoder's ``memory``, feed-forward.

    Shapes
    ------
    x : (B, T, d_model);  memory : (B, S, d_model);  memory_valid : (B, S) bool;
    returns (B, T, d_model).

    Examples
    --------
    >>> block = DecoderBlock(d_model=8, num_heads=2, d_ff=16)
    >>> tuple(block(torch.zeros(3, 4, 8), torch.zeros(3, 6, 8)).shape)
    (3, 4, 8)
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        *,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ff = FeedForward(d_model, d_ff, activation=activation, dropout=dropout)
        self.norm1, self.norm2, self.norm3 = (_TokenLayerNorm(d_model) for _ in range(3))
        self.dropout, self.norm_first = nn.Dropout(dropout), norm_first

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        *,
        key_valid: torch.Tensor | None = None,
        memory_valid: torch.Tensor | None = None,
        is_causal: bool = True,
    ) -> torch.Tensor:
        # Queries see earlier target tokens only; then every target token reads the source.
        def self_attend(h):
            return self.self_attn(h, key_valid=key_valid, is_causal=is_causal)

        def cross_attend(h):
            return self.cross_attn(h, memory, memory, key_valid=memory_valid)

        if self.norm_first:
            x = x + self.dropout(self_attend(self.norm1(x)))  # (B, T, d_model)
            x = x + self.dropout(cross_attend(self.norm2(x)))
            return x + self.dropout(self.ff(self.norm3(x)))
        x = self.norm1(x + self.dropout(self_attend(x)))
        x = self.norm2(x + self.dropout(cross_attend(x)))
        return self.norm3(x + self.dropout(self.ff(x)))

    @torch.no_grad()
    def load_torch_weights(self, layer: nn.TransformerDecoderLayer) -> DecoderBlock:
        """Copy the weights of a ``torch.nn.TransformerDecoderLayer``; return self."""
        self.self_attn.load_torch_weights(layer.self_attn)
        self.cross_attn.load_torch_weights(layer.multihead_attn)
        _copy_ff_norms(self, layer, 3)
        return self


def _copy_ff_norms(block: nn.Module, layer: nn.Module, n: int) -> None:
    block.ff.linear1.load_state_dict(layer.linear1.state_dict())
    block.ff.linear2.load_state_dict(layer.linear2.state_dict())
    for i in range(1, n + 1):
        getattr(block, f"norm{i}").load_state_dict(getattr(layer, f"norm{i}").state_dict())


@dataclass
class TransformerConfig:
    """Hyperparameters of an encoder stack (``d_ff`` defaults to ``4 d_model``)."""

    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int | None = None
    dropout: float = 0.0
    activation: str = "relu"
    norm_first: bool = True
    max_len: int = 64
    positional: str = "sinusoidal"  # or "learned"
    pos_init_std: float = 1.0  # initial scale of learned positions


class Encoder(nn.Module):
    """Positional encoding, ``num_layers`` encoder blocks, and a final norm if pre-norm.

    A pre-norm stack leaves the residual stream unnormalized, so it ends with one
    more layer norm; a post-norm stack already ends in one.

    Shapes
    ------
    x : (B, T, d_model);  key_valid : (B, T) bool;  returns (B, T, d_model)
    [and a list of num_layers attention weights (B, num_heads, T, T)].

    Examples
    --------
    >>> enc = Encoder(TransformerConfig(d_model=8, num_heads=2, num_layers=3))
    >>> y, ws = enc(torch.zeros(2, 5, 8), need_weights=True)
    >>> tuple(y.shape), len(ws), tuple(ws[0].shape)
    ((2, 5, 8), 3, (2, 2, 5, 5))
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        c = config
        if c.positional not in ("sinusoidal", "learned"):
            raise ValueError(f"positional must be 'sinusoidal' or 'learned', got {c.positional!r}")
        if c.positional == "sinusoidal":
            self.pos = SinusoidalPositionalEncoding(c.d_model, c.max_len)
        else:
            self.pos = LearnedPositionalEncoding(c.d_model, c.max_len, init_std=c.pos_init_std)
        self.config = c
        d_ff = 4 * c.d_model if c.d_ff is None else c.d_ff
        kw = dict(dropout=c.dropout, activation=c.activation, norm_first=c.norm_first)
        self.blocks = nn.ModuleList(
            EncoderBlock(c.d_model, c.num_heads, d_ff, **kw) for _ in range(c.num_layers)
        )
        self.norm = _TokenLayerNorm(c.d_model) if c.norm_first else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,
        *,
        key_valid: torch.Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.pos(x)  # (B, T, d_model)
        weights = []
        for block in self.blocks:
            x, w = block(x, key_valid=key_valid, is_causal=is_causal, need_weights=True)
            weights.append(w)  # (B, h, T, T)
        x = self.norm(x)
        return (x, weights) if need_weights else x


class TokenTransformer(nn.Module):
    """Token ids in, one vector of logits per position out: embedding -> Encoder -> linear.

    Enough for tasks where output position ``t`` is a function of the whole input,
    such as reversing or sorting a sequence.

    Shapes
    ------
    tokens : (B, T) int64;  returns (B, T, num_outputs).

    Examples
    --------
    >>> model = TokenTransformer(vocab_size=10, num_outputs=10,
    ...                          config=TransformerConfig(d_model=16, num_heads=2))
    >>> tuple(model(torch.randint(0, 10, (4, 7))).shape)
    (4, 7, 10)
    """

    def __init__(self, *, vocab_size: int, num_outputs: int, config: TransformerConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, config.d_model)
        self.encoder = Encoder(config)
        self.head = nn.Linear(config.d_model, num_outputs)

    def forward(
        self,
        tokens: torch.Tensor,
        *,
        key_valid: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        if tokens.dim() != 2 or tokens.is_floating_point():
            raise ValueError(
                f"tokens must be int64 of shape (B, T), got {tokens.dtype} {tuple(tokens.shape)}"
            )
        x = self.embed(tokens)  # (B, T, d_model), entries of variance 1 like the encoding's
        x, weights = self.encoder(x, key_valid=key_valid, need_weights=True)
        logits = self.head(x)  # (B, T, num_outputs)
        return (logits, weights) if need_weights else logits
