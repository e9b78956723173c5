"""nnlib.recurrent against torch.nn.RNN, LSTM and GRU, and against seed 003's peephole LSTM."""

import pytest
import torch

from nnlib.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

PAIRS = [(RNN, torch.nn.RNN), (LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)]


def _twins(ours_cls, torch_cls, C, H, layers, seed=0):
    torch.manual_seed(seed)
    ref = torch_cls(C, H, num_layers=layers, batch_first=True).double()
    ours = ours_cls(C, H, num_layers=layers).double().load_torch(ref)
    return ours, ref


@pytest.mark.parametrize(("ours_cls", "torch_cls"), PAIRS)
@pytest.mark.parametrize(
    ("B", "T", "C", "H", "layers"), [(1, 1, 2, 3, 1), (4, 7, 3, 5, 2), (3, 12, 6, 4, 3)]
)
def test_values_and_gradients_match_pytorch(ours_cls, torch_cls, B, T, C, H, layers):
    ours, ref = _twins(ours_cls, torch_cls, C, H, layers)
    X = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
    X_ref = X.detach().clone().requires_grad_()
    Y, finals = ours(X)
    Y_ref, final_ref = ref(X_ref)
    assert torch.allclose(Y, Y_ref, atol=1e-10)
    if torch_cls is torch.nn.LSTM:
        h_ref, c_ref = final_ref
        assert torch.allclose(torch.stack([s[0] for s in finals]), h_ref, atol=1e-10)
        assert torch.allclose(torch.stack([s[1] for s in finals]), c_ref, atol=1e-10)
    else:
        assert torch.allclose(torch.stack(finals), final_ref, atol=1e-10)
    upstream = torch.randn_like(Y)
    (Y * upstream).sum().backward()
    (Y_ref * upstream).sum().backward()
    assert torch.allclose(X.grad, X_ref.grad, atol=1e-10)
    for n, cell in enumerate(ours.cells):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            ref_grad = getattr(ref, f"{name}_l{n}").grad
            assert torch.allclose(getattr(cell, name).grad, ref_grad, atol=1e-10), (n, name)


@pytest.mark.parametrize(
    ("cell_cls", "torch_cls"),
    [(RNNCell, torch.nn.RNNCell), (LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell)],
)
def test_cells_match_pytorch_cells_from_a_given_state(cell_cls, torch_cls):
    torch.manual_seed(1)
    ref = torch_cls(3, 4).double()
    cell = cell_cls(3, 4).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(ref, name))
    x = torch.randn(5, 3, dtype=torch.float64)
    if cell_cls is LSTMCell:
        state = (torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64))
        (y, c), (y_ref, c_ref) = cell(x, state), ref(x, state)
        assert torch.allclose(y, y_ref) and torch.allclose(c, c_ref)
    else:
        h = torch.randn(5, 4, dtype=torch.float64)
        assert torch.allclose(cell(x, h), ref(x, h))


def _seed003_step(x, y_prev, c_prev, W, R, p, b):
    """Seed 003's equations transcribed letter by letter (one matrix per gate)."""
    z = torch.tanh(W["z"] @ x + R["z"] @ y_prev + b["z"])
    i = torch.sigmoid(W["i"] @ x + R["i"] @ y_prev + p["i"] * c_prev + b["i"])
    f = torch.sigmoid(W["f"] @ x + R["f"] @ y_prev + p["f"] * c_prev + b["f"])
    c = z * i + c_prev * f
    o = torch.sigmoid(W["o"] @ x + R["o"] @ y_prev + p["o"] * c + b["o"])
    return torch.tanh(c) * o, c


def test_peephole_lstm_follows_seed_003_equations():
    torch.manual_seed(2)
    C, H, T = 3, 4, 6
    layer = LSTM(C, H, peepholes=True, seed=0).double()
    cell = layer.cells[0]
    order = "ifzo"  # PyTorch's stacking order of the blocks
    W = dict(zip(order, cell.weight_ih.detach().chunk(4), strict=True))
    R = dict(zip(order, cell.weight_hh.detach().chunk(4), strict=True))
    bias = (cell.bias_ih + cell.bias_hh).detach().chunk(4)
    b = dict(zip(order, bias, strict=True))
    p = {
        "i": cell.peephole_i.detach(),
        "f": cell.peephole_f.detach(),
        "o": cell.peephole_o.detach(),
    }
    X = torch.randn(2, T, C, dtype=torch.float64)
    Y, _ = layer(X)
    for k in range(2):
        y, c = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64)
        for t in range(T):
            y, c = _seed003_step(X[k, t], y, c, W, R, p, b)
            assert torch.allclose(Y[k, t], y, atol=1e-12)
    assert not torch.allclose(Y, LSTM(C, H, seed=0).double()(X)[0])  # the peepholes matter


def test_peephole_lstm_passes_gradcheck():
    layer = LSTM(2, 3, num_layers=2, peepholes=True, seed=0).double()
    X = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    params = [q for q in layer.parameters()]
    assert torch.autograd.gradcheck(lambda X, *ps: layer(X)[0], (X, *params))
    peep = layer.cells[0].peephole_o
    (layer(X)[0] ** 2).sum().backward()
    assert peep.grad is not None and peep.grad.abs().sum() > 0


def test_mask_keeps_the_state_over_padding():
    layer = GRU(2, 3, seed=0)
    X = torch.randn(2, 5, 2)
    mask = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    _, [h] = layer(X, mask=mask)
    _, [h_short] = layer(X[:1, :3])
    assert torch.allclose(h[0], h_short[0])


def test_initial_state_is_used():
    layer = RNN(2, 3, seed=0)
    X = torch.randn(1, 4, 2)
    assert not torch.allclose(layer(X)[0], layer(X, [torch.ones(1, 3)])[0])


def test_seeded_layers_are_reproducible():
    a, b = LSTM(2, 3, seed=5), LSTM(2, 3, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_bad_input_is_refused_with_a_clear_error(cls):
    layer = cls(3, 4)
    with pytest.raises(ValueError, match="expected 3 input features"):
        layer(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="length T = 0"):
        layer(torch.zeros(2, 0, 3))
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        layer(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="one state per layer"):
        layer(torch.zeros(2, 5, 3), [])
    with pytest.raises(ValueError, match="mask"):
        layer(torch.zeros(2, 5, 3), mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="positive int"):
        cls(0, 4)
    with pytest.raises(ValueError, match="one time step"):
        layer.cells[0](torch.zeros(2, 5, 3))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="layers of size"):
        LSTM(2, 3, num_layers=2).load_torch(torch.nn.LSTM(2, 3, num_layers=1))
