"""nnlib.data's sequence tasks: the adding problem and sequence reversal."""

import pytest
import torch

from nnlib.data import EOS_TOKEN, FIRST_SYMBOL, PAD_TOKEN, adding_problem, sequence_reversal


def test_adding_problem_markers_targets_and_baseline():
    X, y = adding_problem(20_000, 50, seed=3)
    assert X.shape == (20_000, 50, 2) and X.dtype == torch.float32
    markers = X[..., 1]
    assert torch.equal(markers.sum(dim=1), torch.full((20_000,), 2.0))
    assert torch.equal(markers[:, :25].sum(dim=1), torch.ones(20_000))  # one in each half
    assert torch.allclose((X[..., 0] * markers).sum(dim=1), y)
    baseline = ((y - 1.0) ** 2).mean().item()
    assert abs(baseline - 1 / 6) < 0.01  # always answering 1: Var(U1 + U2)


def test_adding_problem_is_seeded():
    assert torch.equal(adding_problem(5, 8, seed=1)[0], adding_problem(5, 8, seed=1)[0])
    assert not torch.equal(adding_problem(5, 8, seed=1)[0], adding_problem(5, 8, seed=2)[0])


def test_reversal_targets_lengths_and_padding():
    src, tgt = sequence_reversal(500, min_length=2, max_length=9, num_symbols=4, seed=0)
    assert src.shape == (500, 9) and tgt.shape == (500, 10) and src.dtype == torch.int64
    lengths = (src != PAD_TOKEN).sum(dim=1)
    assert lengths.min() == 2 and lengths.max() == 9
    for s, t, n in zip(src, tgt, lengths, strict=True):
        assert torch.equal(t[:n], s[:n].flip(0))
        assert t[n] == EOS_TOKEN and (t[n + 1 :] == PAD_TOKEN).all() and (s[n:] == PAD_TOKEN).all()
    real = src[src != PAD_TOKEN]
    assert real.min() == FIRST_SYMBOL and real.max() == FIRST_SYMBOL + 3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="length"):
        adding_problem(4, 1)
    with pytest.raises(ValueError, match="n must"):
        adding_problem(0, 5)
    with pytest.raises(ValueError, match="max_length"):
        sequence_reversal(4, min_length=5, max_length=3)
    with pytest.raises(ValueError, match="num_symbols"):
        sequence_reversal(4, min_length=1, max_length=3, num_symbols=0)
