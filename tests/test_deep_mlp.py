import pytest
import torch
from torch import nn

from nnlib.activations import ACTIVATIONS
from nnlib.deep_mlp import DeepMLP, DeepMLPConfig


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
    norm_type = {"layer": nn.LayerNorm, "batch": nn.BatchNorm1d, None: nn.Identity}[config.norm]
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
