import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SkPCA

from nnlib.data import digits
from nnlib.pca import PCA


def _align_signs(A, B):
    """Flip the rows of A to the signs of B (components are defined up to sign)."""
    return A * np.sign(np.sum(A * B, axis=1, keepdims=True))


@pytest.mark.parametrize("whiten", [False, True])
def test_matches_sklearn_on_digits(whiten):
    X, _ = digits()
    ours = PCA(10, whiten=whiten).fit(X)
    ref = SkPCA(10, whiten=whiten, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.mean_, ref.mean_, atol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-8
    )
    np.testing.assert_allclose(
        _align_signs(ours.components_, ref.components_), ref.components_, atol=1e-8
    )
    signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))  # (10,)
    np.testing.assert_allclose(ours.transform(X) * signs, ref.transform(X), atol=1e-6)
    np.testing.assert_allclose(
        ours.inverse_transform(ours.transform(X)),
        ref.inverse_transform(ref.transform(X)),
        atol=1e-6,
    )


def test_decorrelates_and_whitens():
    X, _ = digits()
    Z = PCA(20).fit_transform(X)
    C = np.cov(Z.T)
    assert np.abs(C - np.diag(np.diag(C))).max() < 1e-8  # decorrelated
    assert np.all(np.diff(np.diag(C)) <= 1e-9)  # variances in decreasing order
    W = PCA(20, whiten=True).fit_transform(X)
    np.testing.assert_allclose(np.cov(W.T), np.eye(20), atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 30), st.integers(1, 6), st.integers(0, 10_000))
def test_components_orthonormal_and_full_reconstruction(n, d, seed):
    X = np.random.default_rng(seed).normal(size=(n, d)) * np.arange(1, d + 1)
    pca = PCA().fit(X)
    k = len(pca.components_)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(k), atol=1e-9)
    if k == d:
        np.testing.assert_allclose(pca.reconstruct(X, k), X, atol=1e-8)
        np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-8)


def test_reconstruction_error_is_the_discarded_variance():
    X, _ = digits()
    pca = PCA().fit(X)
    errors = []
    for k in (1, 5, 20, 64):
        err = np.sum((pca.reconstruct(X, k) - X) ** 2) / (len(X) - 1)
        np.testing.assert_allclose(err, pca.explained_variance_[k:].sum(), rtol=1e-6, atol=1e-8)
        errors.append(err)
    assert errors == sorted(errors, reverse=True)


def test_errors_are_loud():
    with pytest.raises(TypeError, match="n_components"):
        PCA(2.5)
    with pytest.raises(ValueError, match="n_components"):
        PCA(0)
    with pytest.raises(RuntimeError, match="fit"):
        PCA().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        PCA().fit(np.zeros(5))
    with pytest.raises(ValueError, match="components"):
        PCA(5).fit(np.zeros((10, 3)))
    pca = PCA(2).fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="3 features"):
        pca.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="n_components"):
        pca.reconstruct(np.zeros((2, 3)), 3)
