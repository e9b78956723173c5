import math

import numpy as np
import pytest
import torch
from torch import nn

from nnlib.normalization import BatchNorm1d, LayerNorm
from nnlib.propagation import (
    ACTIVATIONS,
    INIT_SCHEMES,
    DeepMLP,
    DeepMLPConfig,
    digits_tensors,
    init_std,
    init_weight,
    propagate,
    train_deep,
)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_init_weight_has_the_stated_variance(scheme):
    W = init_weight(400, 300, scheme, generator=torch.Generator().manual_seed(0))
    assert W.shape == (400, 300)
    assert W.std().item() == pytest.approx(init_std(scheme, 300, 400), rel=0.02)
    assert abs(W.mean().item()) < 0.01 * init_std(scheme, 300, 400) * 10


def test_pytorch_scheme_matches_nn_linear_bounds_and_variance():
    lin = nn.Linear(300, 200)
    W = init_weight(200, 300, "pytorch", generator=torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(300)
    assert W.abs().max() <= bound and lin.weight.abs().max() <= bound
    assert W.var().item() == pytest.approx(lin.weight.var().item(), rel=0.05)


def test_init_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="initialization"):
        init_std("lecun", 3, 3)


def test_propagate_gradients_match_an_independent_computation():
    s = propagate(depth=3, width=5, init="xavier", activation="tanh", n_samples=4, seed=3)
    # Redo the same random draws by hand and compare with finite differences on W_1.
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64)
    Ws = [init_weight(5, 5, "xavier", generator=g, dtype=torch.float64) for _ in range(3)]
    r = torch.randn(5, generator=g, dtype=torch.float64) / math.sqrt(5)

    def loss(W1):
        h = torch.tanh(x @ W1.T)
        for W in Ws[1:]:
            h = torch.tanh(h @ W.T)
        return (h @ r).mean()

    eps, num = 1e-6, torch.zeros(5, 5, dtype=torch.float64)
    for i in range(5):
        for j in range(5):
            E = torch.zeros(5, 5, dtype=torch.float64)
            E[i, j] = eps
            num[i, j] = (loss(Ws[0] + E) - loss(Ws[0] - E)) / (2 * eps)
    assert s["grad_norm"][0] == pytest.approx(num.norm().item(), rel=1e-6)
    h = x
    for W in Ws:
        h = torch.tanh(h @ W.T)
    assert s["activation_std"][-1] == pytest.approx(h.std().item())


def test_he_keeps_relu_signal_and_small_init_kills_it():
    he = propagate(depth=50, width=512, init="he", activation="relu", n_samples=64)
    ratio = he["activation_std"][1:] / he["activation_std"][0]
    assert 0.5 <= ratio.min() and ratio.max() <= 2.0
    small = propagate(depth=50, width=128, init="normal(0.01)", activation="relu")
    assert small["activation_std"][-1] < 1e-6
    # sigmoid saturates: the gradient of the first layer vanishes
    sig = propagate(depth=30, width=64, init="he", activation="sigmoid")
    assert sig["grad_norm"][0] < 1e-6 * sig["grad_norm"][-1]


def test_residual_sum_blows_up_without_layer_scale():
    plain = propagate(depth=30, width=128, init="he", residual=True, layer_scale=1.0)
    scaled = propagate(depth=30, width=128, init="he", residual=True, layer_scale=0.1)
    assert plain["activation_std"][-1] > 1e3
    assert scaled["activation_std"][-1] < 3


@pytest.mark.parametrize(
    "config",
    [
        DeepMLPConfig(depth=3, width=8),
        DeepMLPConfig(depth=3, width=8, residual=True, layer_scale=0.1),
        DeepMLPConfig(depth=3, width=8, residual=True, norm="layer", init="he"),
        DeepMLPConfig(depth=3, width=8, norm="batch", activation="tanh", init="xavier"),
    ],
)
def test_deep_mlp_shapes_and_parts(config):
    model = DeepMLP(config, seed=0)
    x = torch.randn(6, 64)
    assert model(x).shape == (6, 10)
    hs = model.hidden(x)
    assert len(hs) == config.depth + 1 and all(h.shape == (6, 8) for h in hs)
    norm_type = {"layer": LayerNorm, "batch": BatchNorm1d, None: nn.Identity}[config.norm]
    assert all(isinstance(n, norm_type) for n in model.norms)
    assert (model.scales is not None) == (config.layer_scale is not None)


def test_deep_mlp_forward_equals_manual_residual_computation():
    model = DeepMLP(DeepMLPConfig(depth=2, width=4, residual=True, layer_scale=0.5), seed=1)
    x = torch.randn(3, 64)
    h = model.embed(x)
    for i, layer in enumerate(model.layers):
        h = h + 0.5 * torch.relu(layer(h))
        assert torch.allclose(model.scales[i], torch.full((4,), 0.5))
    torch.testing.assert_close(model(x), model.head(h))


def test_deep_mlp_seed_is_reproducible_and_leaves_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    a = DeepMLP(DeepMLPConfig(depth=2, width=4, init="he"), seed=3)
    b = DeepMLP(DeepMLPConfig(depth=2, width=4, init="he"), seed=3)
    assert torch.equal(torch.rand(1), expected)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_config_validation():
    with pytest.raises(ValueError, match="layer_scale"):
        DeepMLPConfig(layer_scale=0.1)
    with pytest.raises(ValueError, match="norm"):
        DeepMLPConfig(norm="group")
    with pytest.raises(ValueError, match="activation"):
        DeepMLPConfig(activation="swish")
    with pytest.raises(TypeError):
        DeepMLPConfig(64, 64)
    assert set(ACTIVATIONS) >= {"relu", "leaky_relu", "tanh", "sigmoid", "identity"}


def test_digits_tensors_are_standardized():
    X, y = digits_tensors()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.mean(dim=0).abs().max() < 1e-5
    stds = X.std(dim=0)
    constant = stds < 1e-6  # pixels that are blank in every image stay 0
    assert 0 < int(constant.sum()) < 64
    torch.testing.assert_close(
        stds[~constant], torch.ones(int((~constant).sum())), atol=1e-3, rtol=0
    )


def test_train_deep_learns_a_shallow_net_and_stops_on_divergence():
    torch.set_num_threads(1)
    X, y = digits_tensors()
    hist = train_deep(
        DeepMLP(DeepMLPConfig(depth=1, width=32), seed=0), X, y, steps=60, eval_every=30
    )
    assert hist["step"] == [0, 30, 60]
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    diverging = DeepMLP(DeepMLPConfig(depth=12, width=32, residual=True, init="he"), seed=0)
    hist = train_deep(diverging, X, y, steps=200, lr=0.5, eval_every=5)
    assert not np.isfinite(hist["loss"][-1]) and hist["step"][-1] < 200
