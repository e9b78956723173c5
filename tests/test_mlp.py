import numpy as np
import pytest
import torch

from nnlib.data import logic_gate, make_moons
from nnlib.losses import accuracy
from nnlib.mlp import MLP, MLPConfig, predict_classes, relu_least_squares, sawtooth_mlp
from nnlib.train import fit


def test_config_is_keyword_only_and_validated():
    with pytest.raises(TypeError):
        MLPConfig(2, [4], 1)
    with pytest.raises(ValueError, match="activation"):
        MLPConfig(in_features=2, hidden=[4], out_features=1, activation="gelu!")
    with pytest.raises(ValueError, match="width"):
        MLPConfig(in_features=2, hidden=[0], out_features=1)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_forward_equals_manual_numpy(activation):
    cfg = MLPConfig(in_features=3, hidden=[5, 4], out_features=2, activation=activation)
    model = MLP(cfg, seed=0)
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
    h = x.astype(np.float64)
    linears = model.linears
    for i, lin in enumerate(linears):
        W, b = lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()
        h = h @ W.T + b
        if i < len(linears) - 1:
            h = act(h)
    out = model(torch.from_numpy(x)).detach().numpy()
    assert out.shape == (7, 2)
    np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-6)
    assert model.num_parameters() == 5 * 4 + 4 * 6 + 2 * 5


def test_forward_rejects_wrong_width():
    model = MLP(MLPConfig(in_features=2, hidden=[3], out_features=1))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        model(torch.zeros(4, 3))


def test_seed_gives_same_weights_without_touching_global_rng():
    cfg = MLPConfig(in_features=2, hidden=[4], out_features=1)
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a, b = MLP(cfg, seed=7), MLP(cfg, seed=7)
    assert torch.equal(torch.rand(1), expected)  # seeded models leave the global RNG alone
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(a.linears[0].weight, MLP(cfg, seed=8).linears[0].weight)
    # Re-seeding an existing model gives the same weights as building it with that seed.
    c = MLP(cfg)
    c.reset_parameters(7)
    assert torch.equal(c.linears[1].weight, a.linears[1].weight)


def test_two_hidden_units_solve_xor_for_the_notebook_seed():
    X, y = logic_gate("XOR")
    model = MLP(MLPConfig(in_features=2, hidden=[2], out_features=1), seed=2)
    hist = fit(model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=0.05), steps=500,
               metrics={"accuracy": accuracy}, eval_every=None)  # fmt: skip
    assert hist.final("train", "accuracy") == 1.0
    np.testing.assert_array_equal(predict_classes(model, X), y)
    assert hist.loss[-1] < hist.loss[0]


def test_multiclass_training_is_reproducible():
    X, y = make_moons(100, seed=0)
    cfg = MLPConfig(in_features=2, hidden=[16], out_features=2)
    runs = []
    for _ in range(2):
        model = MLP(cfg, seed=4)
        runs.append(fit(model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=0.02),
                        steps=200, metrics={"accuracy": accuracy}, eval_every=None))  # fmt: skip
    assert runs[0].loss == runs[1].loss
    assert runs[0].final("train", "accuracy") > 0.95


def test_regression_with_mse_decreases_loss():
    x = np.linspace(-1, 1, 64)[:, None]
    model = MLP(MLPConfig(in_features=1, hidden=[16], out_features=1), seed=0)
    hist = fit(model, x, np.sin(3 * x), loss="mse", steps=400,
               optimizer=torch.optim.Adam(model.parameters(), lr=0.02))  # fmt: skip
    assert hist.loss[-1] < 0.1 * hist.loss[0]


def test_relu_least_squares_matches_numpy_lstsq_and_improves_with_width():
    x = np.linspace(-1, 1, 300)[:, None]
    y = np.cos(4 * x) + x**3
    errors = []
    for width in (2, 4, 8, 16, 32):
        model = relu_least_squares(x, y, width)
        with torch.no_grad():
            f = model(torch.tensor(x, dtype=torch.float32)).numpy()
        errors.append(float(np.mean((f - y) ** 2)))
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    # Piecewise-linear interpolation error is O(h^2): the MSE falls ~16x per doubling.
    assert errors[-2] / errors[-1] > 8
    with pytest.raises(ValueError):
        relu_least_squares(x, y[:-1], 4)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_sawtooth_has_two_to_the_depth_pieces(depth):
    x = np.linspace(0, 1, 2**depth * 8 + 1)
    with torch.no_grad():
        f = sawtooth_mlp(depth)(torch.tensor(x[:, None], dtype=torch.float32)).numpy()[:, 0]
    # Reference: the tent map composed depth times, in plain numpy.
    ref = x.copy()
    for _ in range(depth):
        ref = np.where(ref < 0.5, 2 * ref, 2 - 2 * ref)
    np.testing.assert_allclose(f, ref, atol=1e-5)
    assert sawtooth_mlp(depth).num_parameters() == 4 + 6 * (depth - 1) + 3
