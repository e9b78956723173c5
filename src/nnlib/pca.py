"""Principal component analysis, whitening, and why whitened inputs train faster.

PCA goes back to Pearson (1901), who fitted lines and planes "of closest fit" to
points, and to Hotelling (1933), who named the principal components. For centred
data ``Xc = X - mean`` with singular value decomposition ``Xc = U S V^T``, the rows
of ``V^T`` are the principal directions, ordered by the variance
``S**2 / (n - 1)`` of the data along them. Projecting on them *decorrelates* the
features; dividing each projection by its standard deviation *whitens* them
(covariance = identity). LeCun, Bottou, Orr and Mueller ("Efficient BackProp",
1998) recommend exactly this for the inputs of a network: it makes the loss
surface of a linear layer round, so gradient descent can take large steps in
every direction; the chapter on information propagation measures that on a linear layer
(:func:`nnlib.figures.propagation.gd_least_squares`).
"""

from __future__ import annotations

import numpy as np

from nnlib.data import check_2d

__all__ = ["PCA"]


def _as_2d(X: np.ndarray, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    check_2d(X, name=name)
    return X


class PCA:
    """Principal component analysis by the SVD of the centred data.

    Parameters
    ----------
    n_components : int, optional
        Number of components kept (all ``min(n, d)`` if omitted).
    whiten : bool
        Divide every projection by its standard deviation, so the outputs have unit
        variance (and, being decorrelated, identity covariance).
    eps : float
        Added to the variances before the square root when whitening; keeps
        near-zero-variance directions from being blown up (0 reproduces scikit-learn).

    Attributes (after :meth:`fit`)
    ------------------------------
    mean_ : (d,);  components_ : (k, d), orthonormal rows;
    explained_variance_ : (k,), decreasing;  explained_variance_ratio_ : (k,).

    Shapes
    ------
    fit(X): X (n, d);  transform(X) -> (n, k);  inverse_transform(Z): Z (n, k) -> (n, d).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)) @ np.array([[3.0, 0.0], [1.0, 0.5]])
    >>> pca = PCA(whiten=True).fit(X)
    >>> bool(np.allclose(np.cov(pca.transform(X).T), np.eye(2)))
    True
    """

    def __init__(self, n_components: int | None = None, *, whiten: bool = False, eps: float = 0.0):
        if n_components is not None and (
            isinstance(n_components, bool) or not isinstance(n_components, int | np.integer)
        ):
            raise TypeError(f"n_components must be an int or None, got {n_components!r}")
        if n_components is not None and n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.n_components = None if n_components is None else int(n_components)
        self.whiten = whiten
        self.eps = float(eps)

    def fit(self, X: np.ndarray) -> PCA:
        """Learn the mean and the principal directions of the rows of ``X``."""
        X = _as_2d(X)
        n, d = X.shape
        k = min(n, d) if self.n_components is None else self.n_components
        if n < 2 or k > min(n, d):
            raise ValueError(f"cannot keep {k} components of {n} samples with {d} features")
        self.mean_ = X.mean(axis=0)  # (d,)
        # SVD of the centred data rather than eigh of the covariance: it never forms
        # X^T X, whose condition number is the square of that of X.
        _, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)  # S (min(n,d),), Vt (., d)
        # A component is only defined up to its sign; fix it (largest entry positive)
        # so that two fits of the same data agree.
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(axis=1)])  # (min(n,d),)
        Vt = Vt * signs[:, None]
        variance = S**2 / (n - 1)  # (min(n,d),) the unbiased variance along each direction
        self.components_ = Vt[:k]  # (k, d)
        self.explained_variance_ = variance[:k]
        self.explained_variance_ratio_ = variance[:k] / variance.sum()
        self.singular_values_ = S[:k]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise RuntimeError("this PCA is not fitted yet: call fit(X) first")

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Coordinates of the rows of ``X`` along the components (whitened if asked)."""
        self._check_fitted()
        X = _as_2d(X)
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"expected {self.mean_.shape[0]} features, got {X.shape[1]}")
        Z = (X - self.mean_) @ self.components_.T  # (n, k)
        if self.whiten:
            Z = Z / np.sqrt(self.explained_variance_ + self.eps)
        return Z

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Map coordinates back to feature space: the best rank-k reconstruction."""
        self._check_fitted()
        Z = _as_2d(Z, "Z")
        if Z.shape[1] != len(self.components_):
            raise ValueError(f"expected {len(self.components_)} coordinates, got {Z.shape[1]}")
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_ + self.eps)
        return Z @ self.components_ + self.mean_  # (n, d)

    def reconstruct(self, X: np.ndarray, n_components: int) -> np.ndarray:
        """Project the rows of ``X`` on the first ``n_components`` components and back.

        Shapes
        ------
        X : (n, d);  returns (n, d).

        Examples
        --------
        >>> X = np.array([[0.0, 0.0], [2.0, 2.1], [4.0, 3.9]])
        >>> np.round(PCA().fit(X).reconstruct(X, 1), 2).tolist()
        [[-0.02, 0.02], [2.05, 2.05], [3.97, 3.93]]
        """
        self._check_fitted()
        if not 1 <= n_components <= len(self.components_):
            raise ValueError(
                f"n_components must be in [1, {len(self.components_)}], got {n_components}"
            )
        C = self.components_[:n_components]  # (k, d)
        return (_as_2d(X) - self.mean_) @ C.T @ C + self.mean_  # (n, d)
