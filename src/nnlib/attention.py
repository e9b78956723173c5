"""Scaled dot-product attention and multi-head attention, written out.

Attention (Bahdanau, Cho and Bengio 2015; in this form Vaswani et al. 2017,
"Attention Is All You Need") lets every query read a weighted average of values,
weighted by how well the query matches each value's key:
``Attention(Q, K, V) = softmax(Q K^T / sqrt(d_head)) V``.

**One mask convention throughout nnlib.** A boolean mask is ``True`` where a query
*may attend* to a key (the convention of
``torch.nn.functional.scaled_dot_product_attention``); a float mask is *added* to
the scores (``0`` keeps a key, ``-inf`` removes it). Padding is given as
``key_valid`` (``True`` on real tokens). Beware: ``torch.nn.MultiheadAttention``
and ``torch.nn.Transformer*Layer`` read boolean masks the other way round
(``True`` = blocked, ``key_padding_mask`` ``True`` = padding); the tests convert
with ``~mask``. Mixing the two readings is the classic masking bug.

**A fully masked query row** (a query allowed to see no key at all, such as a
padding query under a causal and a padding mask) gets attention weights of all
zeros, hence an output of zeros and a zero gradient. The plain softmax of a row
of ``-inf`` is ``0/0 = NaN``, and one NaN poisons the loss and every gradient of
the batch; a uniform row would leak the padding's values into the output. Zeros
say "this query read nothing". PyTorch's reference implementation does the same
(since version 2.5), and ``tests/test_attention.py`` checks both.

Both functions match PyTorch in values and gradients (``tests/test_attention.py``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
]


def causal_mask(T_q: int, T_k: int | None = None, *, device=None) -> torch.Tensor:
    """Boolean mask that lets query ``i`` attend to keys ``0..i`` only.

    Aligned at the top left, as PyTorch's ``is_causal`` is: ``mask[i, j] = j <= i``.

    Shapes
    ------
    returns (T_q, T_k) bool, ``True`` = may attend.

    Examples
    --------
    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    T_k = T_q if T_k is None else T_k
    return torch.ones(T_q, T_k, dtype=torch.bool, device=device).tril()


def padding_mask(lengths, T: int) -> torch.Tensor:
    """``key_valid`` mask from sequence lengths: ``True`` on the first ``lengths[b]`` tokens.

    Shapes
    ------
    lengths : (B,) ints;  returns (B, T) bool.

    Examples
    --------
    >>> padding_mask(torch.tensor([1, 3]), 4).int().tolist()
    [[1, 0, 0, 0], [1, 1, 1, 0]]
    """
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.is_floating_point():
        raise ValueError(f"lengths must be a 1-D integer tensor, got shape {tuple(lengths.shape)}")
    if (lengths < 0).any() or (lengths > T).any():
        raise ValueError(f"every length must lie in 0..{T}, got {lengths.tolist()}")
    return torch.arange(T, device=lengths.device) < lengths[:, None]  # (B, T)


def _check_qkv(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> None:
    for name, t in (("Q", Q), ("K", K), ("V", V)):
        if not torch.is_tensor(t) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {type(t).__name__}")
        if t.dim() < 2:
            raise ValueError(f"{name} must have shape (..., T, d), got {tuple(t.shape)}")
    if not Q.dtype == K.dtype == V.dtype:
        raise TypeError(f"Q, K, V must share one dtype, got {Q.dtype}, {K.dtype}, {V.dtype}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"queries and keys must have the same size d_head, got Q {tuple(Q.shape)}, "
            f"K {tuple(K.shape)}"
        )
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"K and V need one value per key (same T_k), got K {tuple(K.shape)}, V {tuple(V.shape)}"
        )
    if not Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]:
        raise ValueError(
            f"Q, K, V must have the same leading (batch, head) dimensions, got "
            f"{tuple(Q.shape)}, {tuple(K.shape)}, {tuple(V.shape)}"
        )


def _check_mask(mask: torch.Tensor, scores_shape: torch.Size, dtype: torch.dtype) -> None:
    if not torch.is_tensor(mask) or not (mask.dtype == torch.bool or mask.dtype == dtype):
        got = mask.dtype if torch.is_tensor(mask) else type(mask).__name__
        raise TypeError(f"mask must be a bool tensor or a {dtype} tensor, got {got}")
    try:
        ok = torch.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
            f"{tuple(scores_shape)} (..., T_q, T_k)"
        )


def scaled_dot_product_attention(
    Q: torch.Tensor,
    K: torch.Tensor,
    V: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    return_weights: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``softmax(Q K^T * scale + mask) V``, with ``scale = 1/sqrt(d_head)`` by default.

    Parameters
    ----------
    mask : bool or float tensor, optional
        Boolean: ``True`` where the query may attend to the key. Float: added to the
        scores. Broadcast over the leading dimensions.
    is_causal : bool
        Apply :func:`causal_mask` (cannot be combined with ``mask``, as in PyTorch).
    scale : float, optional
        The factor on the scores; ``1/sqrt(d_head)`` keeps their variance near 1 when the
        entries of ``Q`` and ``K`` have variance 1, so the softmax does not saturate.
    return_weights : bool
        Also return the attention weights.

    A query row with every key masked gets weights and output zero (module docstring).

    Shapes
    ------
    Q : (..., T_q, d_head);  K : (..., T_k, d_head);  V : (..., T_k, d_v);
    mask : broadcastable to (..., T_q, T_k);  returns (..., T_q, d_v)
    [and weights (..., T_q, T_k)].

    Examples
    --------
    >>> Q = torch.tensor([[1.0, 0.0]]); K = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> V = torch.tensor([[10.0], [20.0]])
    >>> out, w = scaled_dot_product_attention(Q, K, V, scale=100.0, return_weights=True)
    >>> w.round(decimals=3).tolist(), out.round(decimals=2).tolist()
    ([[1.0, 0.0]], [[10.0]])
    >>> scaled_dot_product_attention(Q, K, V, mask=torch.tensor([[False, True]])).tolist()
    [[20.0]]
    """
    _check_qkv(Q, K, V)
    if mask is not None and is_causal:
        raise ValueError("give either mask or is_causal=True, not both (merge them into mask)")
    scale = 1.0 / math.sqrt(Q.shape[-1]) if scale is None else scale
    scores = Q @ K.transpose(-2, -1) * scale  # (..., T_q, T_k)
    if is_causal:
        mask = causal_mask(Q.shape[-2], K.shape[-2], device=Q.device)  # (T_q, T_k)
    if mask is not None:
        _check_mask(mask, scores.shape, Q.dtype)
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    # A row of -inf alone would give softmax 0/0 = NaN: compute it on zeros, then zero it.
    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)  # (..., T_q, 1)
    weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1)  # (..., T_q, T_k)
    weights = weights.masked_fill(dead, 0.0)
    out = weights @ V  # (..., T_q, d_v)
    return (out, weights) if return_weights else out


class MultiHeadAttention(nn.Module):
    """Multi-head attention: ``num_heads`` attentions on learned projections, side by side.

    Each head ``h`` attends with ``Q W_q^h``, ``K W_k^h``, ``V W_v^h`` of size
    ``d_head = d_model / num_heads``; the heads' outputs are concatenated and mixed by
    ``W_o``. Equal to ``torch.nn.MultiheadAttention(batch_first=True)`` given the same
    weights (:meth:`load_torch_weights`), except that boolean masks mean "may attend".

    Parameters
    ----------
    d_model : int
        Size of every token's vector.
    num_heads : int
        Number of heads; must divide ``d_model``.
    dropout : float
        Dropout on the attention weights in training mode (as PyTorch does).

    Shapes
    ------
    query : (B, T_q, d_model);  key, value : (B, T_k, d_model) (default: ``query``);
    mask : broadcastable to (B, num_heads, T_q, T_k);  key_valid : (B, T_k) bool;
    returns (B, T_q, d_model) [and weights (B, num_heads, T_q, T_k)].

    Examples
    --------
    >>> mha = MultiHeadAttention(d_model=8, num_heads=2)
    >>> x = torch.randn(3, 5, 8)
    >>> out, w = mha(x, key_valid=padding_mask([5, 2, 4], 5), need_weights=True)
    >>> tuple(out.shape), tuple(w.shape), w[1, :, :, 2:].abs().max().item()
    ((3, 5, 8), (3, 2, 5, 5), 0.0)
    """

    def __init__(self, d_model: int, num_heads: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model < 1 or num_heads < 1 or d_model % num_heads != 0:
            raise ValueError(
                f"d_model must be a positive multiple of num_heads, got d_model={d_model}, "
                f"num_heads={num_heads}"
            )
        self.d_model, self.num_heads, self.d_head = d_model, num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_head).transpose(1, 2)  # (B, h, T, d_head)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        *,
        mask: torch.Tensor | None = None,
        key_valid: torch.Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not torch.is_tensor(t) or t.dim() != 3 or t.shape[-1] != self.d_model:
                got = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
                raise ValueError(f"{name} must have shape (B, T, {self.d_model}), got {got}")
        B, T_q, T_k = query.shape[0], query.shape[1], key.shape[1]
        if mask is not None:
            _check_mask(mask, torch.Size((B, self.num_heads, T_q, T_k)), query.dtype)
        if is_causal:
            causal = causal_mask(T_q, T_k, device=query.device)  # (T_q, T_k)
            mask = causal if mask is None else _merge(mask, causal)
        if key_valid is not None:
            if key_valid.dtype != torch.bool or tuple(key_valid.shape) != (B, T_k):
                raise ValueError(
                    f"key_valid must be a bool tensor of shape (B, T_k) = {(B, T_k)}, "
                    f"got {key_valid.dtype} {tuple(key_valid.shape)}"
                )
            valid = key_valid[:, None, None, :]  # (B, 1, 1, T_k)
            mask = valid if mask is None else _merge(mask, valid)
        Q = self._split(self.W_q(query))  # (B, h, T_q, d_head)
        K = self._split(self.W_k(key))  # (B, h, T_k, d_head)
        V = self._split(self.W_v(value))  # (B, h, T_k, d_head)
        _, weights = scaled_dot_product_attention(Q, K, V, mask=mask, return_weights=True)
        if self.training and self.dropout > 0:
            weights = nn.functional.dropout(weights, self.dropout)
        heads = weights @ V  # (B, h, T_q, d_head)
        out = heads.transpose(1, 2).reshape(B, T_q, self.d_model)  # (B, T_q, h * d_head)
        out = self.W_o(out)  # (B, T_q, d_model)
        return (out, weights) if need_weights else out

    @torch.no_grad()
    def load_torch_weights(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` of the same size; return self.

        PyTorch stores ``W_q, W_k, W_v`` stacked in one ``(3 d_model, d_model)`` matrix.
        """
        if mha.embed_dim != self.d_model or mha.num_heads != self.num_heads:
            raise ValueError(
                f"expected embed_dim={self.d_model}, num_heads={self.num_heads}, got "
                f"{mha.embed_dim}, {mha.num_heads}"
            )
        if mha.in_proj_weight is None or mha.in_proj_bias is None:
            raise ValueError("expected a MultiheadAttention with packed, biased projections")
        w, b = mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)  # 3 x (d, d), 3 x (d,)
        for lin, wi, bi in zip((self.W_q, self.W_k, self.W_v), w, b, strict=True):
            lin.weight.copy_(wi)
            lin.bias.copy_(bi)
        self.W_o.weight.copy_(mha.out_proj.weight)
        self.W_o.bias.copy_(mha.out_proj.bias)
        return self


def _merge(mask: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Combine a bool or additive mask with a bool ``allowed`` mask (both must hold)."""
    if mask.dtype == torch.bool:
        return mask & allowed
    return mask.masked_fill(~allowed, float("-inf"))
