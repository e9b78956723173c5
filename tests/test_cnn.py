"""nnlib.cnn: model shapes, the receptive-field formula against gradients, the recipe."""

import pytest
import torch
from torch import nn

from nnlib.cnn import (
    CNN1D,
    MODELS,
    CNNConfig,
    Recipe,
    make_model,
    measured_receptive_field,
    num_parameters,
    receptive_field,
    train_mnist1d,
)


@pytest.mark.parametrize("name", MODELS)
def test_models_map_signals_to_logits(name):
    model = make_model(name, seed=1, length=24, num_classes=7)
    assert model(torch.zeros(3, 24)).shape == (3, 7)
    again = make_model(name, seed=1, length=24, num_classes=7)
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters(), strict=True)
    )


def test_cnn_parameter_count_from_shapes():
    c, k = 8, 3
    model = CNN1D(CNNConfig(channels=c, kernel_size=k, layers=2, num_classes=4))
    expected = (1 * k * c + c) + (c * k * c + c) + (c * 4 + 4)
    assert num_parameters(model) == expected
    assert model.features(torch.zeros(2, 1, 16)).shape == (2, c, 8)


@pytest.mark.parametrize(
    "specs",
    [
        [(3, 1, 1)] * 3,
        [(5, 1, 1), (2, 2, 1), (5, 1, 1)],
        [(3, 2, 1), (3, 2, 1), (3, 1, 2)],
        [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
        [(4, 3, 1), (3, 1, 3)],
    ],
)
def test_receptive_field_formula_equals_gradient(specs):
    layers = [nn.Conv1d(1, 1, k, stride=s, dilation=d) for k, s, d in specs]
    with torch.no_grad():
        for layer in layers:  # positive weights: no cancellation can hide a position
            layer.weight.fill_(1.0)
    assert measured_receptive_field(nn.Sequential(*layers), length=120) == receptive_field(specs)


def test_cnn_receptive_field_matches_its_config():
    for config in (CNNConfig(), CNNConfig(kernel_size=3, layers=4)):
        model = CNN1D(config, seed=0)
        assert measured_receptive_field(model.body) == receptive_field(config.layer_specs())


def test_errors():
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        make_model("rnn")
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        CNNConfig(kernel_size=4)
    with pytest.raises(ValueError, match=r"\(N, L\) or \(N, 1, L\)"):
        CNN1D()(torch.zeros(2, 3, 40))
    with pytest.raises(ValueError, match="reaches the input's ends"):
        measured_receptive_field(nn.Conv1d(1, 1, 9), length=9)
    with pytest.raises(ValueError, match="must be >= 1"):
        receptive_field([(3, 0, 1)])


def test_recipe_learns_an_easy_task_and_restores_threads():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 40, generator=g)
    y = torch.randint(0, 2, (200,), generator=g)
    where = torch.randint(0, 35, (200,), generator=g)
    for i in range(200):  # class 1 hides a bump somewhere: a local, translated pattern
        X[i, where[i] : where[i] + 5] += 3.0 * y[i]
    threads = torch.get_num_threads()
    history, seconds = train_mnist1d(
        make_model("cnn", num_classes=2), (X, y, X, y), Recipe(epochs=5), show_progress=False
    )
    assert history.final("val", "accuracy") > 0.8
    assert seconds > 0 and torch.get_num_threads() == threads


def test_basic_block_shortcut_and_parameters():
    from nnlib.cnn import BasicBlock

    same = BasicBlock(16, 16)
    assert isinstance(same.shortcut, nn.Identity)
    assert num_parameters(same) == 2 * (16 * 16 * 9) + 2 * (2 * 16)  # convs + batch norms
    down = BasicBlock(16, 32, stride=2)
    assert down(torch.randn(2, 16, 9, 9)).shape == (2, 32, 5, 5)
    assert num_parameters(down) == 16 * 32 * 9 + 32 * 32 * 9 + 16 * 32 + 3 * 2 * 32
    with torch.no_grad():  # zero residual branch: the block is relu(shortcut(x))
        same.bn2.weight.zero_()
    same.eval()
    x = torch.randn(1, 16, 5, 5)
    torch.testing.assert_close(same(x), torch.relu(x))
