import random

import numpy as np
import pytest
import torch

from nnlib.data import (
    DATASETS,
    check_2d,
    digits,
    digits_split,
    logic_gate,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    mnist1d,
    standardize,
)

TRUTH = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
    "NAND": [1, 1, 1, 0],
}


@pytest.mark.parametrize("name", list(TRUTH))
def test_logic_gate_truth_tables(name):
    X, y = logic_gate(name.lower())
    assert X.dtype == np.float64 and X.shape == (4, 2)
    assert y.dtype == np.int64 and y.shape == (4,)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    # The table must agree with Python's own Boolean operators row by row.
    ops = {
        "AND": lambda a, b: a and b,
        "OR": lambda a, b: a or b,
        "XOR": lambda a, b: a != b,
        "NAND": lambda a, b: not (a and b),
    }
    expected = [int(ops[name](bool(a), bool(b))) for a, b in X]
    assert y.tolist() == expected == TRUTH[name]


def test_logic_gate_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="AND"):
        logic_gate("XNOR")


def test_datasets_registry():
    assert set(DATASETS) == {"xor", "moons", "circles", "spirals"}
    assert DATASETS["moons"] is make_moons


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("n", [2, 7, 200])
def test_samplers_shape_dtype_balance_range(name, n):
    X, y = DATASETS[name](n=n, seed=3)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert abs(int(y.sum()) - n / 2) <= 0.5
    assert np.abs(X).max() < 1.8


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_samplers_are_seeded_and_centred(name):
    X1, y1 = DATASETS[name](seed=5)
    X2, y2 = DATASETS[name](seed=5)
    X3, _ = DATASETS[name](seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X, _ = DATASETS[name](n=2000, seed=0)
    assert np.abs(X.mean(0)).max() < 0.15
    assert 0.8 < np.abs(X).max() < 1.6


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_samplers_reject_bad_arguments(name):
    with pytest.raises(ValueError, match="n must"):
        DATASETS[name](n=1)
    with pytest.raises(ValueError, match="noise"):
        DATASETS[name](noise=-0.1)


def test_xor_labels_follow_quadrants():
    X, y = make_xor(400, noise=0.1, seed=0)
    assert ((X[:, 0] * X[:, 1] < 0).astype(int) == y).mean() > 0.99


def test_circles_radii_and_factor_check():
    X, y = make_circles(300, noise=0.0, factor=0.3, seed=1)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.5)


def test_spirals_arms_are_rotated_copies():
    # Without noise, class 1 is class 0 turned by 180 degrees: the same radii set.
    X, y = make_spirals(400, noise=0.0, seed=2)
    r0 = np.sort(np.linalg.norm(X[y == 0], axis=1))
    r1 = np.sort(np.linalg.norm(X[y == 1], axis=1))
    assert r0.min() > 0.1 and r1.max() < 1.25
    assert abs(r0.mean() - r1.mean()) < 0.1


def test_moons_not_linearly_trivial():
    # No axis-aligned threshold classifies moons well: the classes interleave.
    X, y = make_moons(400, noise=0.05, seed=0)
    for d in range(2):
        best = max(((X[:, d] > t) == y).mean() for t in np.linspace(-1.5, 1.5, 61))
        best = max(best, 1 - best)
        assert best < 0.9


def test_standardized_digits():
    X, y = digits(standardized=True)
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert np.abs(X.mean(axis=0)).max() < 1e-12
    stds = X.std(axis=0)
    constant = stds < 1e-12  # pixels that are blank in every image stay 0
    assert 0 < int(constant.sum()) < 64
    np.testing.assert_allclose(stds[~constant], 1.0, atol=1e-12)
    np.testing.assert_array_equal(X[:, constant], 0.0)


def test_digits_split_uses_training_statistics_only():
    X_tr, y_tr, X_te, y_te = digits_split(0.25, seed=3)
    assert X_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert len(X_tr) + len(X_te) == 1797 and len(X_te) == round(0.25 * 1797)
    assert X_tr.mean(0).abs().max() < 1e-5  # the training set is centred ...
    assert X_te.mean(0).abs().max() > 1e-3  # ... the test set only roughly
    raw, labels = digits()
    order = np.random.default_rng(3).permutation(1797)
    train = order[len(X_te) :]
    np.testing.assert_array_equal(y_tr.numpy(), labels[train])
    expected = standardize(raw[train])
    np.testing.assert_allclose(X_tr.numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="test_fraction"):
        digits_split(0.0)


def test_standardize_with_a_reference_and_the_input_check():
    ref = np.array([[0.0, 1.0], [2.0, 1.0]])
    np.testing.assert_allclose(standardize(np.array([[4.0, 3.0]]), ref), [[3.0, 2.0]])
    with pytest.raises(ValueError, match=r"reference must have 2 features"):
        standardize(ref, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(N, d\), got shape \(2, 2, 1\)"):
        check_2d(np.zeros((2, 2, 1)))
    check_2d(torch.zeros(3, 4), features=4)
    with pytest.raises(ValueError, match="4 features"):
        check_2d(torch.zeros(3, 5), features=4)


def test_mnist1d_is_the_papers_set_made_offline_and_leaves_the_global_rng_alone():
    # The generator reseeds numpy's legacy global stream; the loader must restore it.
    np.random.seed(7)  # noqa: NPY002
    random.seed(7)
    X_tr, y_tr, X_te, y_te = mnist1d()
    assert np.random.rand() == np.random.RandomState(7).rand()  # noqa: NPY002
    assert random.random() == random.Random(7).random()
    assert X_tr.shape == (4000, 40) and X_te.shape == (1000, 40)
    assert X_tr.dtype == torch.float32 and y_te.dtype == torch.int64
    assert np.bincount(y_tr.numpy(), minlength=10).min() > 300  # all ten digits, near balanced
    X_all = torch.cat([X_tr, X_te])
    assert abs(float(X_all.mean())) < 1e-4 and abs(float(X_all.std()) - 1) < 1e-3
    again = mnist1d()
    assert all(torch.equal(a, b) for a, b in zip(again, (X_tr, y_tr, X_te, y_te), strict=True))
    again[0][0, 0] = 123.0  # a caller's edit does not reach the cache
    assert mnist1d()[0][0, 0] != 123.0


def test_mnist1d_shuffled_permutes_positions_once_for_both_splits():
    X_tr, y_tr, X_te, _ = mnist1d()
    S_tr, s_y, S_te, _ = mnist1d(shuffled=True)
    assert torch.equal(s_y, y_tr)
    order = np.random.default_rng(0).permutation(40)
    assert torch.equal(S_tr, X_tr[:, order]) and torch.equal(S_te, X_te[:, order])
    assert not torch.equal(S_tr, X_tr)
    with pytest.raises(ValueError, match="num_samples must be an integer"):
        mnist1d(num_samples=2.5)
    small = mnist1d(num_samples=200, seed=1)
    assert small[0].shape == (160, 40) and small[2].shape == (40, 40)
