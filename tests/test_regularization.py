import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold
from torch import nn

from nnlib.regularization import (
    Dropout,
    DropoutMLP,
    EarlyStopping,
    best_epoch,
    cross_validate,
    dropout,
    kfold_indices,
    l1_penalty,
    l2_penalty,
    penalized_weights,
    soft_threshold,
)


def _positive(shape, seed=0):
    # Strictly positive inputs: a zero output then always means "dropped".
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) + 0.5


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_eval_mode_is_identity_and_equals_torch(p):
    x = torch.randn(64, 16)
    ours, ref = Dropout(p).eval(), nn.Dropout(p).eval()
    assert torch.equal(ours(x), x)
    assert torch.equal(ours(x), ref(x))
    assert torch.equal(dropout(x, p, training=False), x)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_given_torchs_mask_we_reproduce_torchs_output_and_gradient(p):
    x = _positive((200, 50))
    x_t = x.clone().requires_grad_(True)
    torch.manual_seed(3)
    out_t = nn.functional.dropout(x_t, p, training=True)
    mask = out_t.detach() != 0  # recovered: x has no zeros
    x_o = x.clone().requires_grad_(True)
    out_o = dropout(x_o, p, mask=mask)
    torch.testing.assert_close(out_o, out_t, rtol=1e-6, atol=0)
    upstream = torch.randn_like(x)
    out_t.backward(upstream)
    out_o.backward(upstream)
    torch.testing.assert_close(x_o.grad, x_t.grad, rtol=1e-6, atol=0)
    # Gradients flow only through the kept units, scaled by 1 / (1 - p).
    assert torch.all(x_o.grad[~mask] == 0)
    torch.testing.assert_close(x_o.grad[mask], upstream[mask] / (1 - p))


def test_finite_differences_with_a_fixed_mask():
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(4, 5, generator=torch.Generator().manual_seed(0)) > 0.4
    assert torch.autograd.gradcheck(lambda t: dropout(t, 0.4, mask=mask), (x,))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_training_outputs_are_zero_or_scaled_and_statistics_match(p):
    n = 200_000
    x = torch.full((n,), 2.0)
    out = Dropout(p, generator=torch.Generator().manual_seed(1))(x)
    scaled = 2.0 / (1 - p)
    assert torch.all((out == 0) | torch.isclose(out, torch.tensor(scaled)))
    kept = (out != 0).double().mean().item()
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(kept - (1 - p)) < 5 * sigma  # the kept fraction is 1 - p
    # The mean is preserved: E[out] = x; its standard error is 2 * sqrt(p / (1 - p) / n).
    assert abs(out.double().mean().item() - 2.0) < 5 * 2.0 * (p / (1 - p) / n) ** 0.5
    # torch's own dropout has the same statistics.
    out_t = nn.functional.dropout(x, p, training=True)
    assert abs((out_t != 0).double().mean().item() - (1 - p)) < 5 * sigma


@settings(max_examples=40, deadline=None)
@given(
    p=st.floats(0.0, 0.95),
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    seed=st.integers(0, 10_000),
)
def test_property_each_output_is_dropped_or_scaled(p, shape, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    out = dropout(x, p, generator=torch.Generator().manual_seed(seed + 1))
    dropped = out == 0
    torch.testing.assert_close(out[~dropped], x[~dropped] / (1 - p))


def test_edge_probabilities_and_errors():
    x = torch.randn(10)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.equal(dropout(x, 1.0), nn.functional.dropout(x, 1.0, training=True))
    assert torch.all(dropout(x, 1.0) == 0)
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="p must"):
            Dropout(bad)
    with pytest.raises(ValueError, match="mask"):
        dropout(x, 0.5, mask=torch.ones(3, dtype=torch.bool))


def test_dropout_is_reproducible_with_a_generator_and_mlp_switches_modes():
    a = Dropout(0.5, generator=torch.Generator().manual_seed(4))(torch.ones(100))
    b = Dropout(0.5, generator=torch.Generator().manual_seed(4))(torch.ones(100))
    assert torch.equal(a, b)
    net = DropoutMLP(in_features=2, hidden=[64, 64], out_features=1, p=0.5, seed=0)
    x = torch.randn(32, 2)
    net.train()
    assert not torch.equal(net(x), net(x))  # two different masks
    net.eval()
    assert torch.equal(net(x), net(x))
    with pytest.raises(ValueError, match="width"):
        DropoutMLP(in_features=2, hidden=[0], out_features=1)


def test_penalties_match_torch_norms_and_gradients():
    ws = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    flat = torch.cat([w.flatten() for w in ws])
    torch.testing.assert_close(l2_penalty(ws), torch.linalg.vector_norm(flat) ** 2)
    torch.testing.assert_close(l1_penalty(ws), torch.linalg.vector_norm(flat, ord=1))
    l2_penalty(ws).backward()
    torch.testing.assert_close(ws[0].grad, 2 * ws[0].detach())
    for w in ws:
        w.grad = None
    l1_penalty(ws).backward()
    torch.testing.assert_close(ws[1].grad, torch.sign(ws[1].detach()))
    with pytest.raises(ValueError):
        l1_penalty([])


def test_soft_threshold_is_softshrink_and_the_proximal_operator():
    w = torch.linspace(-3, 3, 601, dtype=torch.float64)
    for t in (0.0, 0.5, 1.3):
        v = soft_threshold(w, t)
        torch.testing.assert_close(v, nn.functional.softshrink(w, t))
        # v minimizes 0.5 (u - w)^2 + t |u|: no point of a fine grid does better.
        u = torch.linspace(-4, 4, 8001, dtype=torch.float64)[None, :]  # (1, M)
        obj = 0.5 * (u - w[:, None]) ** 2 + t * u.abs()  # (601, M)
        best = obj.min(1).values
        at_v = 0.5 * (v - w) ** 2 + t * v.abs()
        assert torch.all(at_v <= best + 1e-9)
    with pytest.raises(ValueError):
        soft_threshold(w, -1.0)


def test_penalized_weights_skip_biases():
    net = DropoutMLP(in_features=2, hidden=[4], out_features=1)
    assert [tuple(w.shape) for w in penalized_weights(net)] == [(4, 2), (1, 4)]


def _reference_early_stop(losses, patience):
    best, best_i = float("inf"), -1
    for i, v in enumerate(losses):
        if v < best:
            best, best_i = v, i
        if i - best_i >= patience:
            return best_i, i
    return best_i, None


@settings(max_examples=60, deadline=None)
@given(
    losses=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60),
    patience=st.integers(1, 8),
)
def test_early_stopping_matches_a_reference_and_argmin(losses, patience):
    stopper = EarlyStopping(patience=patience)
    for v in losses:
        if stopper.step(v):
            break
    best_i, stop_i = _reference_early_stop(losses, patience)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (best_i, stop_i)
    seen = losses[: (stop_i if stop_i is not None else len(losses) - 1) + 1]
    assert stopper.best_epoch == int(np.argmin(seen)) == best_epoch(seen)


def test_best_epoch_and_early_stopping_errors():
    assert best_epoch([3.0, 1.0, 2.0, 1.0]) == 1
    with pytest.raises(ValueError):
        best_epoch([])
    with pytest.raises(ValueError):
        best_epoch([1.0, float("nan")])
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(RuntimeError):
        EarlyStopping().restore(nn.Linear(1, 1))


@pytest.mark.parametrize("n, k", [(10, 2), (23, 5), (40, 4), (7, 7)])
def test_kfold_matches_sklearn_and_partitions(n, k):
    ours = kfold_indices(n, k)
    ref = list(KFold(n_splits=k).split(np.zeros(n)))
    for (tr, va), (tr_r, va_r) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(np.sort(tr), tr_r)
        np.testing.assert_array_equal(va, va_r)
    shuffled = kfold_indices(n, k, seed=1)
    vals = np.concatenate([va for _, va in shuffled])
    assert sorted(vals.tolist()) == list(range(n))  # every point validated exactly once
    for tr, va in shuffled:
        assert not set(tr) & set(va) and len(tr) + len(va) == n
    with pytest.raises(ValueError):
        kfold_indices(5, 1)


def test_cross_validate_scores_each_fold():
    X, y = np.arange(12.0)[:, None], np.arange(12) % 2
    sizes = cross_validate(lambda a, b, c, d: float(len(c)), X, y, k=5)
    assert sizes.tolist() == [3.0, 3.0, 2.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        cross_validate(lambda *a: 0.0, X, y[:-1])
