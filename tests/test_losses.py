import numpy as np
import pytest
import torch
from torch import nn

from nnlib.losses import LOSSES, accuracy, classes, classification_loss, first_step_below


def test_accuracy_binary_and_multiclass():
    assert accuracy(torch.tensor([[1.0], [-1.0], [0.0]]), torch.tensor([1, 0, 1])) == 2 / 3
    logits = torch.tensor([[0.1, 0.9, 0.0], [2.0, 0.0, 0.0]])
    assert accuracy(logits, torch.tensor([1, 0])) == 1.0
    with pytest.raises(ValueError):
        accuracy(torch.zeros(3), torch.zeros(3))


def test_classification_loss_is_torch_bce_or_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logit, y2 = torch.randn(9, 1, generator=g), torch.randint(0, 2, (9,), generator=g)
    ref = nn.functional.binary_cross_entropy_with_logits(logit[:, 0], y2.float())
    assert classification_loss(logit, y2).item() == pytest.approx(ref.item(), abs=1e-7)
    # With one logit, BCE is the cross-entropy of the two logits (0, z).
    two = torch.cat([torch.zeros(9, 1), logit], dim=1)
    assert classification_loss(logit, y2).item() == pytest.approx(
        nn.functional.cross_entropy(two, y2).item(), abs=1e-6
    )
    logits, y5 = torch.randn(9, 5, generator=g), torch.randint(0, 5, (9,), generator=g)
    assert torch.equal(classification_loss(logits, y5), nn.functional.cross_entropy(logits, y5))
    assert classes(two).tolist() == classes(logit).tolist()
    assert set(LOSSES) == {"classification", "cross_entropy", "mse"}
    with pytest.raises(ValueError, match=r"logits \(N, C\)"):
        classification_loss(torch.zeros(3), torch.zeros(3))


def test_first_step_below():
    assert first_step_below([3.0, 1.0, 1.0, 0.1], 1.0) == 3  # strictly below
    assert first_step_below(np.array([2.0, 0.5]), 1.0) == 1
    assert first_step_below([2.0], 1.0) is None
