"""Sequence to sequence with attention (Bahdanau, Cho and Bengio 2015; Luong et al. 2015).

Chapter 7's :class:`nnlib.seq2seq.Seq2Seq` hands the decoder one state of the encoder;
here the decoder reads, at every step, a weighted average over all source positions.
Two parts change:

- :class:`BiEncoder` reads the source in both directions (PyTorch's fused
  bidirectional ``torch.nn.GRU``: chapter 7 wrote the GRU out, and the fused one trains
  several times faster on a CPU), so the state at position ``j`` knows the characters on both
  sides of ``j``. It returns, per position, a *key* (the two states) and a *value*: the
  character's own embedding (``values="embeddings"``) or the two states
  (``values="states"``). The memory it hands on is the two side by side,
  ``(B, S, key_size + value_size)``.
- :class:`AttentionSeq2Seq` reuses chapter 7's decoder (embedding, GRU cell, read-out)
  and attends after each step, as Luong, Pham and Manning (2015) do: the decoder's new
  state, projected by ``W_q``, is the query of a scaled dot-product
  attention (:func:`nnlib.attention.scaled_dot_product_attention`, Luong's "general"
  score) over the keys, masked to the real source characters; the context is the
  weighted average of the values.

:func:`generate_with_attention` decodes greedily and also returns the attention
weights of every output step: the attention map a reader can look into.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nnlib.attention import scaled_dot_product_attention
from nnlib.data import BOS_TOKEN, PAD_TOKEN
from nnlib.seq2seq import Decoder, Seq2Seq, _check_tokens, _embedding

__all__ = ["BiEncoder", "AttentionSeq2Seq", "attention_seq2seq", "generate_with_attention"]

VALUES = ("embeddings", "states")


class BiEncoder(nn.Module):
    """Embedding and a bidirectional GRU; each position gets a key and a value.

    Parameters
    ----------
    values : {"embeddings", "states"}
        What the attention averages: the characters' embeddings or the GRU states.

    Shapes
    ------
    src : (B, S) int64;  returns the memory (B, S, key_size + value_size) with
    key_size = 2 * hidden_size, the decoder's initial state [(B, hidden_size)], and
    src_mask (B, S) bool (True at real tokens).

    Examples
    --------
    >>> enc = BiEncoder(8, embed_dim=4, hidden_size=6, seed=0)
    >>> memory, state, mask = enc(torch.tensor([[3, 4, 0], [5, 6, 7]]))
    >>> tuple(memory.shape), enc.key_size, enc.value_size, tuple(state[0].shape)
    ((2, 3, 16), 12, 4, (2, 6))
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_dim: int,
        hidden_size: int,
        values: str = "embeddings",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if values not in VALUES:
            raise ValueError(f"values must be one of {VALUES}, got {values!r}")
        self.vocab_size, self.values = vocab_size, values
        self.embed = _embedding(vocab_size, embed_dim, seed)
        self.rnn = nn.GRU(embed_dim, hidden_size, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size)  # both final states -> decoder's
        self.key_size = 2 * hidden_size
        self.value_size = embed_dim if values == "embeddings" else 2 * hidden_size

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, list, torch.Tensor]:
        _check_tokens(src, self.vocab_size, "src")
        src_mask = src != PAD_TOKEN  # (B, S)
        lengths = src_mask.sum(dim=1)  # (B,)
        if not bool((lengths > 0).all()) or not bool((src_mask.cumsum(1) == torch.arange(
                1, src.shape[1] + 1).clamp(max=lengths[:, None])).all()):  # fmt: skip
            raise ValueError("every source row must be non-empty with its padding at the end")
        E = self.embed(src)  # (B, S, embed_dim)
        # Packing makes the backward direction start at each row's last real token.
        packed = pack_padded_sequence(E, lengths, batch_first=True, enforce_sorted=False)
        out, last = self.rnn(packed)  # last: (2, B, H), forward then backward
        S = src.shape[1]
        keys, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, 2H)
        values = E if self.values == "embeddings" else keys  # (B, S, value_size)
        state = [torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=-1)))]  # [(B, H)]
        return torch.cat([keys, values], dim=-1), state, src_mask  # (B, S, key + value)


class AttentionSeq2Seq(Seq2Seq):
    """Encoder-decoder whose decoder attends over the source at every step (Luong-style).

    One decoder step reads the previous token and the previous context ("input
    feeding"), updates its state, and only then attends: the query is ``W_q`` times the
    *new* state, so it knows which token it has just read. The context, the weighted
    average of the values, joins the new state at the read-out. The keys and values are
    the two parts of the encoder's memory (:class:`BiEncoder`).

    The context hook of :class:`~nnlib.seq2seq.Seq2Seq` attends with the state *before*
    the step (Bahdanau's order); that query does not know the token just read, and on
    the dates it learned much more slowly (24% exact match after 200 steps, where this
    order reached 99%), so this class replaces the step.

    Shapes
    ------
    src : (B, S);  tgt_in : (B, T);  returns logits (B, T, vocab_size).

    Examples
    --------
    >>> model = attention_seq2seq(8, embed_dim=4, hidden_size=6, seed=0)
    >>> src = torch.tensor([[3, 4, 5]])
    >>> model(src, torch.tensor([[1, 5, 4]])).shape
    torch.Size([1, 3, 8])
    >>> tokens, weights = generate_with_attention(model, src, 4)
    >>> tuple(weights.shape), round(weights.sum(-1)[0, 0].item(), 4)
    ((1, 4, 3), 1.0)
    """

    def __init__(self, encoder: BiEncoder, decoder: Decoder) -> None:
        if decoder.context_size != encoder.value_size:
            raise ValueError(
                f"the decoder's context_size must equal the encoder's value_size "
                f"{encoder.value_size}, got {decoder.context_size}"
            )
        super().__init__(encoder, decoder)  # type: ignore[arg-type]
        hidden = decoder.rnn.cells[-1].hidden_size
        self.W_q = nn.Linear(hidden, encoder.key_size, bias=False)

    def keys_values(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Split the encoder's memory, once per sequence (a slice per step costs a full
        zero tensor in the backward pass).

        Shapes
        ------
        memory : (B, S, key_size + value_size);  returns K (B, S, key_size), V (B, S, value_size).
        """
        K, V = memory.split([self.encoder.key_size, self.encoder.value_size], dim=-1)
        return K, V

    def attend(
        self, K: torch.Tensor, V: torch.Tensor, src_mask: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The context and the attention weights for the query state ``h``.

        Shapes
        ------
        K : (B, S, key_size);  V : (B, S, value_size);  src_mask : (B, S);  h : (B, hidden);
        returns context (B, value_size) and weights (B, S).
        """
        Q = self.W_q(h)[:, None, :]  # (B, 1, d_k)
        mask = src_mask[:, None, :]  # (B, 1, S): padding is never read
        ctx, w = scaled_dot_product_attention(Q, K, V, mask=mask, return_weights=True)
        return ctx[:, 0], w[:, 0]  # (B, d_v), (B, S)

    def step(
        self, token: torch.Tensor, state: list, ctx: torch.Tensor, K, V, src_mask
    ) -> tuple[torch.Tensor, list, torch.Tensor, torch.Tensor]:
        """One decoder step: returns logits (B, V), the new state, context and weights."""
        dec = self.decoder
        x = torch.cat([dec.embed(token), ctx], dim=-1)  # (B, E + d_v): input feeding
        new_state = []
        for cell, s in zip(dec.rnn.cells, state, strict=True):
            s = cell(x, s)
            x = cell.output(s)  # (B, H)
            new_state.append(s)
        ctx, w = self.attend(K, V, src_mask, x)  # query: the state after the step
        return dec.readout(torch.cat([x, ctx], dim=-1)), new_state, ctx, w

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        memory, state, src_mask = self.encoder(src)
        K, V = self.keys_values(memory)
        ctx = memory.new_zeros(src.shape[0], self.encoder.value_size)  # (B, d_v)
        logits = []
        for t in range(tgt_in.shape[1]):  # teacher forcing
            step_logits, state, ctx, _ = self.step(tgt_in[:, t], state, ctx, K, V, src_mask)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B, T, V)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, max_length: int) -> torch.Tensor:
        """Greedy decoding, ``max_length`` steps (:func:`generate_with_attention` keeps
        the weights too)."""
        return generate_with_attention(self, src, max_length)[0]


def attention_seq2seq(
    vocab_size: int,
    *,
    embed_dim: int = 32,
    hidden_size: int = 64,
    values: str = "embeddings",
    seed: int | None = None,
) -> AttentionSeq2Seq:
    """A :class:`BiEncoder` and a GRU :class:`~nnlib.seq2seq.Decoder` joined by attention.

    Examples
    --------
    >>> sum(p.numel() for p in attention_seq2seq(10, embed_dim=2, hidden_size=3).parameters())
    346
    """
    with torch.random.fork_rng():  # the layers nn draws itself (GRU, bridge, W_q), from the seed
        if seed is not None:
            torch.manual_seed(seed)
        enc = BiEncoder(vocab_size, embed_dim=embed_dim, hidden_size=hidden_size, values=values,
                        seed=seed)  # fmt: skip
        dec = Decoder(vocab_size, embed_dim=embed_dim, hidden_size=hidden_size,
                      context_size=enc.value_size, seed=seed)  # fmt: skip
        return AttentionSeq2Seq(enc, dec)


@torch.no_grad()
def generate_with_attention(
    model: AttentionSeq2Seq, src: torch.Tensor, max_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding, as :meth:`~nnlib.seq2seq.Seq2Seq.generate`, keeping the weights.

    Shapes
    ------
    src : (B, S);  returns tokens (B, max_length) and weights (B, max_length, S): row
    ``t`` is where output ``t`` looked.
    """
    memory, state, src_mask = model.encoder(src)
    K, V = model.keys_values(memory)
    ctx = memory.new_zeros(src.shape[0], model.encoder.value_size)  # (B, d_v)
    token = torch.full((src.shape[0],), BOS_TOKEN, dtype=torch.int64)
    tokens, weights = [], []
    for _ in range(max_length):
        logits, state, ctx, w = model.step(token, state, ctx, K, V, src_mask)
        token = logits.argmax(dim=-1)  # (B,)
        tokens.append(token)
        weights.append(w)
    return torch.stack(tokens, dim=1), torch.stack(weights, dim=1)  # (B, T), (B, T, S)
