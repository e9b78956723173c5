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
every direction. :func:`gd_least_squares` measures that on a linear layer.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PCA",
    "gd_least_squares",
    "least_squares_optimum",
    "steps_to_loss",
]


def _as_2d(X: np.ndarray, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}")
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


def _least_squares_problem(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inputs with a column of ones, ``(n, d+1)``, and the one-hot targets, ``(n, c)``."""
    X = _as_2d(X)
    y = np.asarray(y)
    if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer classes of shape ({len(X)},), got {y.dtype} {y.shape}")
    A = np.hstack([X, np.ones((len(X), 1))])  # the bias is the weight of a constant 1
    return A, np.eye(int(y.max()) + 1)[y]


def gd_least_squares(
    X: np.ndarray, y: np.ndarray, *, steps: int, lr: float | None = None
) -> tuple[np.ndarray, float]:
    """Full-batch gradient descent for a linear layer fitted to one-hot targets.

    The loss ``L(W) = mean_i ||[x_i, 1] W - onehot(y_i)||^2`` is a quadratic with
    Hessian ``2 H``, ``H = A^T A / n`` (``A`` = inputs with a column of ones), so
    gradient descent converges fastest in the directions of large eigenvalues of
    ``H`` and slowest in those of small ones. By default ``lr = 1 / (2 lambda_max(H))``,
    the step that exactly minimizes along the steepest direction of the bowl.

    Returns the loss before each step and after the last, and the learning rate used.

    Shapes
    ------
    X : (n, d);  y : (n,) integer classes;  returns ((steps + 1,), float).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> losses, lr = gd_least_squares(X, y, steps=200)
    >>> bool(losses[0] > losses[-1]), round(float(losses[-1]), 4)
    (True, 0.1)
    """
    A, Y = _least_squares_problem(X, y)  # (n, d+1), (n, c)
    n = len(A)
    # The loss only needs H, A^T Y / n and mean ||y||^2: every step costs O(d^2 c), not O(n d c).
    H, B, c = A.T @ A / n, A.T @ Y / n, float((Y**2).sum() / n)  # (d+1, d+1), (d+1, c), float
    if lr is None:
        lr = 1.0 / (2.0 * np.linalg.eigvalsh(H)[-1])
    W = np.zeros_like(B)  # (d+1, c)
    losses = np.empty(steps + 1)
    for t in range(steps + 1):
        HW = H @ W
        losses[t] = float(np.sum(W * HW) - 2 * np.sum(W * B) + c)
        W = W - lr * 2 * (HW - B)  # gradient of the loss: 2 (H W - A^T Y / n)
    return losses, float(lr)


def least_squares_optimum(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest loss :func:`gd_least_squares` can reach (exact least squares).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> round(least_squares_optimum(X, y), 4)
    0.1
    """
    A, Y = _least_squares_problem(X, y)  # (n, d+1), (n, c)
    W = np.linalg.lstsq(A, Y, rcond=None)[0]  # (d+1, c)
    return float(np.mean(np.sum((A @ W - Y) ** 2, axis=1)))


def steps_to_loss(losses: np.ndarray, target: float) -> int | None:
    """The first step at which ``losses`` is at most ``target`` (None if never).

    Examples
    --------
    >>> steps_to_loss(np.array([3.0, 2.0, 1.0, 0.5]), 1.0)
    2
    >>> steps_to_loss(np.array([3.0, 2.0]), 1.0) is None
    True
    """
    hits = np.flatnonzero(np.asarray(losses) <= target)
    return int(hits[0]) if len(hits) else None
