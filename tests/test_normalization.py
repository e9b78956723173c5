import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from nnlib.normalization import BatchNorm1d, LayerNorm, batch_norm, layer_norm


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _set_affine(ours, ref, seed):
    with torch.no_grad():
        for p in (ours.weight, ours.bias):
            p.copy_(_randn(*p.shape, seed=seed))
            seed += 1
        ref.weight.copy_(ours.weight)
        ref.bias.copy_(ours.bias)


def test_layer_norm_matches_torch_values_and_gradients():
    ours, ref = LayerNorm(7).double(), nn.LayerNorm(7).double()
    _set_affine(ours, ref, seed=1)
    x1 = (_randn(5, 7) * 3 + 2).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    g = _randn(5, 7, seed=9)
    y1, y2 = ours(x1), ref(x2)
    torch.testing.assert_close(y1, y2)
    (y1 * g).sum().backward()
    (y2 * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad)


def test_layer_norm_passes_finite_differences():
    x = _randn(3, 4).requires_grad_()
    gamma, beta = _randn(4, seed=2).requires_grad_(), _randn(4, seed=3).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b, c: layer_norm(a, b, c), (x, gamma, beta))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(2, 16), st.integers(0, 10_000))
def test_layer_norm_gives_mean_zero_variance_one(n, c, seed):
    x = _randn(n, c, seed=seed) * 5 + 3
    y = layer_norm(x, eps=0.0)
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(n, dtype=x.dtype), atol=1e-10, rtol=0)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), torch.ones(n, dtype=x.dtype))


def test_batch_norm_training_matches_torch_including_running_stats():
    ours = BatchNorm1d(6, momentum=0.2).double()
    ref = nn.BatchNorm1d(6, momentum=0.2).double()
    _set_affine(ours, ref, seed=5)
    for step in range(4):  # several batches of different sizes: momentum and 1/(N-1)
        x1 = (_randn(3 + step, 6, seed=step) * 2 - 1).requires_grad_()
        x2 = x1.detach().clone().requires_grad_()
        g = _randn(3 + step, 6, seed=50 + step)
        y1, y2 = ours(x1), ref(x2)
        torch.testing.assert_close(y1, y2)
        (y1 * g).sum().backward()
        (y2 * g).sum().backward()
        torch.testing.assert_close(x1.grad, x2.grad)
        torch.testing.assert_close(ours.running_mean, ref.running_mean)
        torch.testing.assert_close(ours.running_var, ref.running_var)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 4


def test_batch_norm_eval_uses_frozen_running_stats():
    ours, ref = BatchNorm1d(4).double(), nn.BatchNorm1d(4).double()
    _set_affine(ours, ref, seed=7)
    for seed in range(3):
        x = _randn(8, 4, seed=seed) * 3 + 1
        ours(x), ref(x)
    ours.eval(), ref.eval()
    x1 = _randn(5, 4, seed=11).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    before = ours.running_mean.clone()
    y1, y2 = ours(x1), ref(x2)
    torch.testing.assert_close(y1, y2)
    y1.sum().backward()
    y2.sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    assert torch.equal(ours.running_mean, before)  # evaluation does not update the stats
    # In eval mode a sample's output does not depend on the rest of the batch.
    torch.testing.assert_close(ours(x1[:1]), y1[:1])
    ours.train()
    assert not torch.allclose(ours(x1.detach()), y1)  # training mode uses the batch's own stats


def test_batch_norm_function_passes_finite_differences():
    x = _randn(4, 3).requires_grad_()
    gamma = _randn(3, seed=1).requires_grad_()

    def f(x, gamma):
        return batch_norm(x, x.mean(0), x.var(0, unbiased=False), gamma)

    assert torch.autograd.gradcheck(f, (x, gamma))


def test_errors_are_loud():
    with pytest.raises(ValueError, match="at least 2"):
        BatchNorm1d(3)(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="3 features"):
        BatchNorm1d(3)(torch.zeros(4, 5))
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        LayerNorm(3)(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="floating"):
        LayerNorm(3)(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=1.5)
