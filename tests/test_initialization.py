import math

import pytest
import torch
from torch import nn

from nnlib.initialization import INIT_SCHEMES, init_std, init_weight, propagate


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
