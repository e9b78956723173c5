"""Sequence to sequence: encoder-decoder without attention (Sutskever et al. 2014, Cho et al. 2014).

The :class:`Encoder` reads the source tokens with a recurrent layer of
:mod:`nnlib.recurrent`; its final state is the only thing the :class:`Decoder` gets
to see of the source. The decoder starts from that state and emits the target one
token at a time, each step reading the previous token (the true one while training,
"teacher forcing"; its own guess when generating). However long the source, it must
fit into one state of ``hidden_size`` numbers: the bottleneck that attention removes.

The design leaves room for attention. :meth:`Seq2Seq.context` is the one place that
decides what extra vector the decoder reads at each step; here it returns ``None``.
A model with attention overrides it to return a weighted average of the encoder's
states (``enc_states``, with ``src_mask`` marking the real tokens), and builds its
decoder with ``context_size`` set: :meth:`Decoder.step` concatenates the context to the
token embedding at the input and to the state at the read-out.

Tokens follow :mod:`nnlib.data`: ``PAD_TOKEN`` (0) pads, ``BOS_TOKEN`` starts the
decoder, ``EOS_TOKEN`` ends a target.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nnlib.data import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN
from nnlib.recurrent import GRU, LSTM, RNN, SequenceLayer

__all__ = ["CELLS", "Encoder", "Decoder", "Seq2Seq", "shift_right", "sequence_loss", "exact_match"]

#: The recurrent layers an encoder or decoder can be built from.
CELLS: dict[str, type[SequenceLayer]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _layer(cell: str, input_size: int, hidden_size: int, num_layers: int, seed: int | None):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell](input_size, hidden_size, num_layers=num_layers, seed=seed)


def _embedding(vocab_size: int, embed_dim: int, seed: int | None) -> nn.Embedding:
    embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_TOKEN)
    if seed is not None:  # N(0, 1) as PyTorch draws it, but from the seed
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            embed.weight.copy_(torch.randn(vocab_size, embed_dim, generator=g))
            embed.weight[PAD_TOKEN] = 0.0
    return embed


def _check_tokens(tokens: torch.Tensor, vocab_size: int, name: str) -> None:
    if tokens.dtype != torch.int64 or tokens.dim() != 2:
        raise ValueError(f"{name} must be int64 tokens of shape (B, T), got {tokens.dtype} "
                         f"{tuple(tokens.shape)}")  # fmt: skip
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"{name} holds a token outside 0..{vocab_size - 1}")


class Encoder(nn.Module):
    """Token embedding and a recurrent layer; padding (``PAD_TOKEN``) is skipped.

    Shapes
    ------
    src : (B, S) int64;  returns enc_states (B, S, H), the final state of every layer,
    and src_mask (B, S) bool (True at real tokens).

    Examples
    --------
    >>> enc = Encoder(8, embed_dim=4, hidden_size=6, seed=0)
    >>> states, final, mask = enc(torch.tensor([[3, 4, 0], [5, 6, 7]]))
    >>> states.shape, final[0].shape, mask.sum().item()
    (torch.Size([2, 3, 6]), torch.Size([2, 6]), 5)
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_dim: int,
        hidden_size: int,
        cell: str = "gru",
        num_layers: int = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = _embedding(vocab_size, embed_dim, seed)
        self.rnn = _layer(cell, embed_dim, hidden_size, num_layers, seed)

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, list, torch.Tensor]:
        _check_tokens(src, self.vocab_size, "src")
        src_mask = src != PAD_TOKEN  # (B, S)
        enc_states, final = self.rnn(self.embed(src), mask=src_mask)  # (B, S, H)
        return enc_states, final, src_mask


class Decoder(nn.Module):
    """Emits one token per :meth:`step`, from the previous token, its state and a context.

    Shapes
    ------
    token : (B,) int64;  context : (B, context_size) or None;  returns logits
    (B, vocab_size) and the new state (one per layer).

    Examples
    --------
    >>> dec = Decoder(8, embed_dim=4, hidden_size=6, seed=0)
    >>> logits, state = dec.step(torch.tensor([1, 1]), [torch.zeros(2, 6)])
    >>> logits.shape
    torch.Size([2, 8])
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_dim: int,
        hidden_size: int,
        context_size: int = 0,
        cell: str = "gru",
        num_layers: int = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size, self.context_size = vocab_size, context_size
        self.embed = _embedding(vocab_size, embed_dim, None if seed is None else seed + 1)
        self.rnn = _layer(cell, embed_dim + context_size, hidden_size, num_layers, seed)
        self.readout = nn.Linear(hidden_size + context_size, vocab_size)
        if seed is not None:  # PyTorch's default init, from the seed
            g = torch.Generator().manual_seed(seed + 2)
            bound = (hidden_size + context_size) ** -0.5
            with torch.no_grad():
                for p in self.readout.parameters():
                    p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)

    def step(
        self, token: torch.Tensor, state: list, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list]:
        if (context is None) != (self.context_size == 0):
            raise ValueError(f"this decoder expects a context of size {self.context_size}, got "
                             f"{None if context is None else tuple(context.shape)}")  # fmt: skip
        x = self.embed(token)  # (B, E)
        if context is not None:
            x = torch.cat([x, context], dim=-1)  # (B, E + context_size)
        new_state = []
        for cell, s in zip(self.rnn.cells, state, strict=True):
            s = cell(x, s)
            x = cell.output(s)  # (B, H): the next layer's input
            new_state.append(s)
        if context is not None:
            x = torch.cat([x, context], dim=-1)  # (B, H + context_size)
        return self.readout(x), new_state


class Seq2Seq(nn.Module):
    """Encoder, then decoder from the encoder's final state; :meth:`context` is None here.

    Shapes
    ------
    src : (B, S);  tgt_in : (B, T) (the target shifted right, :func:`shift_right`);
    returns logits (B, T, vocab_size).

    Examples
    --------
    >>> model = Seq2Seq(Encoder(8, embed_dim=4, hidden_size=6, seed=0),
    ...                 Decoder(8, embed_dim=4, hidden_size=6, seed=0))
    >>> src = torch.tensor([[3, 4, 5]])
    >>> model(src, torch.tensor([[1, 5, 4]])).shape, model.generate(src, 4).shape
    (torch.Size([1, 3, 8]), torch.Size([1, 4]))
    """

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def context(self, enc_states: torch.Tensor, src_mask: torch.Tensor, state: list) -> Any:
        """What the decoder reads besides its token at each step: nothing, without attention."""
        return None

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        enc_states, state, src_mask = self.encoder(src)
        logits = []
        for t in range(tgt_in.shape[1]):  # teacher forcing: read the true previous token
            ctx = self.context(enc_states, src_mask, state)
            step_logits, state = self.decoder.step(tgt_in[:, t], state, ctx)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B, T, V)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, max_length: int) -> torch.Tensor:
        """Greedy decoding: feed back the most likely token, ``max_length`` steps."""
        enc_states, state, src_mask = self.encoder(src)
        token = torch.full((src.shape[0],), BOS_TOKEN, dtype=torch.int64)
        out = []
        for _ in range(max_length):
            ctx = self.context(enc_states, src_mask, state)
            step_logits, state = self.decoder.step(token, state, ctx)
            token = step_logits.argmax(dim=-1)  # (B,)
            out.append(token)
        return torch.stack(out, dim=1)  # (B, max_length)


def shift_right(tgt: torch.Tensor) -> torch.Tensor:
    """The decoder's input while training: ``BOS_TOKEN``, then the target without its last token.

    Examples
    --------
    >>> shift_right(torch.tensor([[5, 4, 2]])).tolist()
    [[1, 5, 4]]
    """
    bos = torch.full_like(tgt[:, :1], BOS_TOKEN)
    return torch.cat([bos, tgt[:, :-1]], dim=1)  # (B, T)


def sequence_loss(logits: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the non-padding target tokens.

    Shapes
    ------
    logits : (B, T, V);  tgt : (B, T).

    Examples
    --------
    >>> round(sequence_loss(torch.zeros(1, 2, 4), torch.tensor([[3, 0]])).item(), 4)
    1.3863
    """
    return F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD_TOKEN)


def exact_match(pred: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Per sequence: True if ``pred`` equals ``tgt`` up to and including its ``EOS_TOKEN``.

    Shapes
    ------
    pred : (B, >= T);  tgt : (B, T) with one ``EOS_TOKEN`` per row;  returns (B,) bool.

    Examples
    --------
    >>> exact_match(torch.tensor([[5, 2, 7], [5, 4, 2]]), torch.tensor([[5, 2, 0], [5, 3, 2]]))
    tensor([ True, False])
    """
    T = tgt.shape[1]
    if pred.shape[0] != tgt.shape[0] or pred.shape[1] < T:
        raise ValueError(f"pred {tuple(pred.shape)} must cover tgt {tuple(tgt.shape)}")
    relevant = tgt != PAD_TOKEN  # (B, T): the real tokens and EOS
    if not bool(((tgt == EOS_TOKEN).sum(dim=1) == 1).all()):
        raise ValueError("every target row must hold exactly one EOS_TOKEN")
    return ((pred[:, :T] == tgt) | ~relevant).all(dim=1)
