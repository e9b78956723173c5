"""Recurrent cells (Elman RNN, LSTM with optional peepholes, GRU) and stacked sequence layers.

A recurrent cell applies the same function, with the same weights, at every position
of a sequence: ``state_t = cell(x_t, state_{t-1})``. Unrolled over ``T`` steps it is a
``T``-layer network with shared weights, and backpropagation through that unrolled
graph is backpropagation through time.

- :class:`RNNCell`, the Elman network (Elman 1990): ``h_t = tanh(W x_t + R h_{t-1} + b)``.
- :class:`LSTMCell`, the long short-term memory (Hochreiter & Schmidhuber 1997) with a
  forget gate (Gers, Schmidhuber & Cummins 2000) and optional peephole connections
  (Gers & Schmidhuber 2000), written with the letters of Greff et al. (2017), "LSTM: a
  search space odyssey": block input ``z``, gates ``i, f, o``, cell ``c``, output ``y``.
- :class:`GRUCell`, the gated recurrent unit (Cho et al. 2014).
- :class:`RNN`, :class:`LSTM`, :class:`GRU`: ``num_layers`` cells stacked, each layer
  reading the whole output sequence of the layer below (a deep RNN).

The weights are stored the way ``torch.nn.RNN``/``LSTM``/``GRU`` store them (gates
stacked in PyTorch's order ``i, f, z, o`` for the LSTM and ``r, u, n`` for the GRU),
so :meth:`SequenceLayer.load_torch` can copy a PyTorch layer's weights and the tests
can compare values and gradients. Inputs are batch-first: ``(B, T, C)``.

The input projection ``W x_t + b`` does not depend on the previous state, so it is
computed for all ``T`` steps in one matrix product; only the recurrence ``R y_{t-1}``
must run step after step, in a Python loop over time.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "SequenceLayer", "RNN", "LSTM", "GRU"]


def _uniform(
    shape: tuple[int, ...], bound: float, generator: torch.Generator | None
) -> nn.Parameter:
    # PyTorch's default for recurrent layers: U(-1/sqrt(H), 1/sqrt(H)) for every weight
    return nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


class _Cell(nn.Module):
    """Shared parts of the cells: ``num_blocks`` blocks of weights, ``(H, C)`` and ``(H, H)``."""

    num_blocks = 1

    def __init__(self, input_size: int, hidden_size: int, *, seed: int | None = None) -> None:
        super().__init__()
        _check_positive(input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        g = None if seed is None else torch.Generator().manual_seed(seed)
        G, H, bound = self.num_blocks, hidden_size, 1 / math.sqrt(hidden_size)
        self.weight_ih = _uniform((G * H, input_size), bound, g)  # W: input to gates
        self.weight_hh = _uniform((G * H, H), bound, g)  # R: recurrent, state to gates
        self.bias_ih = _uniform((G * H,), bound, g)
        self.bias_hh = _uniform((G * H,), bound, g)

    def input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """``W x + b_ih`` for one step ``(B, C)`` or a whole sequence ``(B, T, C)`` at once."""
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected {self.input_size} input features (last dimension), "
                f"got shape {tuple(x.shape)}"
            )
        return x @ self.weight_ih.T + self.bias_ih  # (..., G*H)

    def zero_state(self, batch: int, like: torch.Tensor) -> Any:
        return like.new_zeros(batch, self.hidden_size)

    def output(self, state: Any) -> torch.Tensor:
        """The part of the state that the next layer and the read-out see: ``(B, H)``."""
        return state

    def forward(self, x: torch.Tensor, state: Any = None) -> Any:
        """One time step: input ``x`` of shape ``(B, C)``, previous state, new state."""
        if x.dim() != 2:
            raise ValueError(f"a cell takes one time step of shape (B, C), got {tuple(x.shape)}")
        if state is None:
            state = self.zero_state(x.shape[0], x)
        return self.step(self.input_projection(x), state)


class RNNCell(_Cell):
    """Elman cell: ``h_t = tanh(W x_t + b_ih + R h_{t-1} + b_hh)``.

    Shapes
    ------
    x : (B, C);  state h : (B, H);  returns h : (B, H).

    Examples
    --------
    >>> cell = RNNCell(3, 4, seed=0)
    >>> cell(torch.zeros(2, 3)).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        nonlinearity: str = "tanh",
        seed: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, seed=seed)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def step(self, wx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        a = wx + h @ self.weight_hh.T + self.bias_hh  # (B, H)
        return torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)


class LSTMCell(_Cell):
    """LSTM cell with forget gate and, if ``peepholes``, peephole connections.

    With the weights ``W_*`` (input), ``R_*`` (recurrent), peepholes ``p_*`` and biases
    ``b_*`` of each of the block input ``z`` and the gates ``i, f, o``::

        z_t = tanh(W_z x_t + R_z y_{t-1} + b_z)
        i_t = sigmoid(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)
        f_t = sigmoid(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)
        c_t = z_t * i_t + c_{t-1} * f_t
        o_t = sigmoid(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)
        y_t = tanh(c_t) * o_t

    The output gate peeks at the *new* cell ``c_t``, the other two at ``c_{t-1}``.
    Without peepholes this is ``torch.nn.LSTM`` (whose ``g`` is ``z`` and ``h`` is ``y``).
    :meth:`gates` returns every intermediate, for plotting.

    Shapes
    ------
    x : (B, C);  state (y, c) : ((B, H), (B, H));  returns (y, c).

    Examples
    --------
    >>> cell = LSTMCell(3, 4, peepholes=True, seed=0)
    >>> y, c = cell(torch.zeros(2, 3))
    >>> y.shape, c.shape, cell.peephole_i.shape
    (torch.Size([2, 4]), torch.Size([2, 4]), torch.Size([4]))
    """

    num_blocks = 4

    def __init__(
        self, input_size: int, hidden_size: int, *, peepholes: bool = False, seed: int | None = None
    ) -> None:
        super().__init__(input_size, hidden_size, seed=seed)
        self.peepholes = bool(peepholes)
        if self.peepholes:
            g = None if seed is None else torch.Generator().manual_seed(seed + 1)
            bound = 1 / math.sqrt(hidden_size)
            self.peephole_i = _uniform((hidden_size,), bound, g)  # p_i, (H,)
            self.peephole_f = _uniform((hidden_size,), bound, g)  # p_f
            self.peephole_o = _uniform((hidden_size,), bound, g)  # p_o

    def zero_state(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = like.new_zeros(batch, self.hidden_size)
        return zeros, zeros

    def output(self, state: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return state[0]

    def gates(self, wx: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> dict:
        """Every intermediate of one step, from the input projection ``wx`` (B, 4H)."""
        y, c = state
        a = wx + y @ self.weight_hh.T + self.bias_hh  # (B, 4H), PyTorch's order i, f, z, o
        a_i, a_f, a_z, a_o = a.chunk(4, dim=-1)  # each (B, H)
        if self.peepholes:
            a_i = a_i + self.peephole_i * c
            a_f = a_f + self.peephole_f * c
        i, f, z = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_z)
        c_new = z * i + c * f  # the additive path: dc_t/dc_{t-1} = f_t (elementwise)
        if self.peepholes:
            a_o = a_o + self.peephole_o * c_new
        o = torch.sigmoid(a_o)
        return {"z": z, "i": i, "f": f, "o": o, "c": c_new, "y": torch.tanh(c_new) * o}

    def step(self, wx: torch.Tensor, state: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.gates(wx, state)
        return out["y"], out["c"]


class GRUCell(_Cell):
    """Gated recurrent unit, in PyTorch's convention (reset gate inside the candidate)::

        r_t = sigmoid(W_r x_t + b_ir + R_r h_{t-1} + b_hr)
        u_t = sigmoid(W_u x_t + b_iu + R_u h_{t-1} + b_hu)
        n_t = tanh(W_n x_t + b_in + r_t * (R_n h_{t-1} + b_hn))
        h_t = (1 - u_t) * n_t + u_t * h_{t-1}

    Shapes
    ------
    x : (B, C);  state h : (B, H);  returns h : (B, H).

    Examples
    --------
    >>> GRUCell(3, 4, seed=0)(torch.zeros(2, 3)).shape
    torch.Size([2, 4])
    """

    num_blocks = 3

    def step(self, wx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        rh = h @ self.weight_hh.T + self.bias_hh  # (B, 3H)
        x_r, x_u, x_n = wx.chunk(3, dim=-1)  # each (B, H)
        h_r, h_u, h_n = rh.chunk(3, dim=-1)
        r, u = torch.sigmoid(x_r + h_r), torch.sigmoid(x_u + h_u)
        n = torch.tanh(x_n + r * h_n)
        return (1 - u) * n + u * h


def _where(keep: torch.Tensor, new: Any, old: Any) -> Any:
    if isinstance(new, tuple):
        return tuple(torch.where(keep, a, b) for a, b in zip(new, old, strict=True))
    return torch.where(keep, new, old)


class SequenceLayer(nn.Module):
    """``num_layers`` cells stacked; each runs over the whole sequence, step by step.

    Subclasses set ``cell_class``. ``forward(X, state)`` returns the top layer's
    outputs at every step and the final state of every layer.

    Shapes
    ------
    X : (B, T, C);  returns (Y, states) with Y : (B, T, H) and ``states`` a list of
    ``num_layers`` final states (a ``(B, H)`` tensor, or ``(y, c)`` for the LSTM).
    """

    cell_class: type[_Cell] = RNNCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        seed: int | None = None,
        **cell_kw: Any,
    ) -> None:
        super().__init__()
        _check_positive(num_layers=num_layers)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.cells = nn.ModuleList(
            self.cell_class(
                input_size if n == 0 else hidden_size,
                hidden_size,
                seed=None if seed is None else seed + 10 * n,
                **cell_kw,
            )
            for n in range(num_layers)
        )

    def forward(
        self, X: torch.Tensor, state: list | None = None, *, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list]:
        """Run over ``X`` (B, T, C) from ``state`` (zeros if None).

        Where the boolean ``mask`` (B, T) is False (padding), the state is carried over
        unchanged, so the final state is the one after each sequence's last real step.
        """
        if X.dim() != 3:
            raise ValueError(f"expected a batch of sequences (B, T, C), got shape {tuple(X.shape)}")
        B, T, C = X.shape
        if T == 0:
            raise ValueError("expected a sequence of at least one step, got length T = 0")
        if C != self.input_size:
            raise ValueError(f"expected {self.input_size} input features, got {C}")
        if state is not None and len(state) != self.num_layers:
            raise ValueError(f"expected one state per layer ({self.num_layers}), got {len(state)}")
        if mask is not None and tuple(mask.shape) != (B, T):
            raise ValueError(f"expected a mask of shape {(B, T)}, got {tuple(mask.shape)}")
        finals = []
        for n, cell in enumerate(self.cells):
            s = cell.zero_state(B, X) if state is None else state[n]
            wx = cell.input_projection(X)  # (B, T, G*H): every step at once
            outputs = []
            for t in range(T):  # the recurrence itself cannot be parallelized over t
                new = cell.step(wx[:, t], s)
                if mask is not None:  # padded steps keep the old state
                    keep = mask[:, t, None]  # (B, 1)
                    new = _where(keep, new, s)
                s = new
                outputs.append(cell.output(s))
            X = torch.stack(outputs, dim=1)  # (B, T, H): the next layer's input sequence
            finals.append(s)
        return X, finals

    @torch.no_grad()
    def load_torch(self, module: nn.Module) -> SequenceLayer:
        """Copy the weights of a ``torch.nn.RNN``/``LSTM``/``GRU`` of the same sizes."""
        if module.num_layers != self.num_layers or module.hidden_size != self.hidden_size:
            raise ValueError(
                f"expected {self.num_layers} layers of size {self.hidden_size}, got "
                f"{module.num_layers} of size {module.hidden_size}"
            )
        for n, cell in enumerate(self.cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(module, f"{name}_l{n}"))
        return self


class RNN(SequenceLayer):
    """Stacked Elman layers (``torch.nn.RNN`` with ``batch_first=True``).

    Examples
    --------
    >>> Y, states = RNN(3, 5, num_layers=2, seed=0)(torch.zeros(4, 7, 3))
    >>> Y.shape, len(states), states[-1].shape
    (torch.Size([4, 7, 5]), 2, torch.Size([4, 5]))
    """

    cell_class = RNNCell


class LSTM(SequenceLayer):
    """Stacked LSTM layers (``torch.nn.LSTM`` with ``batch_first=True``, or with peepholes).

    Examples
    --------
    >>> Y, [(y, c)] = LSTM(3, 5, peepholes=True, seed=0)(torch.zeros(4, 7, 3))
    >>> Y.shape, bool(torch.equal(Y[:, -1], y))
    (torch.Size([4, 7, 5]), True)
    """

    cell_class = LSTMCell


class GRU(SequenceLayer):
    """Stacked GRU layers (``torch.nn.GRU`` with ``batch_first=True``).

    Examples
    --------
    >>> GRU(3, 5, num_layers=3, seed=0)(torch.zeros(4, 7, 3))[0].shape
    torch.Size([4, 7, 5])
    """

    cell_class = GRUCell
