"""The perceptron of Rosenblatt (1958), from scratch in NumPy.

A perceptron computes a weighted sum of its inputs plus a bias and passes it through
a step function: ``y_hat = step(x @ w + b)``. Rosenblatt's learning rule changes the
weights only on mistakes, by ``lr * (y - y_hat) * x``. On linearly separable data it
stops after finitely many mistakes (Novikoff 1962); on XOR it never stops.

Reference: F. Rosenblatt, "The perceptron: a probabilistic model for information
storage and organization in the brain", Psychological Review 65(6), 1958.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnlib.data import check_2d

__all__ = ["step", "Perceptron"]


def step(z: np.ndarray | float) -> np.ndarray:
    """Heaviside step: 0 where ``z <= 0``, 1 where ``z > 0`` (int64).

    Shapes
    ------
    z : any shape;  returns the same shape.

    Examples
    --------
    >>> step(np.array([-1.0, 0.0, 0.5])).tolist()
    [0, 0, 1]
    """
    return (np.asarray(z) > 0).astype(np.int64)


@dataclass
class Perceptron:
    """A single threshold unit ``y_hat = step(X @ w + b)`` trained by Rosenblatt's rule.

    Parameters
    ----------
    w : array of shape (d,)
        Input weights.
    b : float
        Bias, the negative of the firing threshold (``b = -tau``).

    Attributes
    ----------
    history : dict
        After :meth:`fit`: ``"errors"`` (mistakes per epoch) and ``"accuracy"``
        (training accuracy at the end of each epoch).

    Shapes
    ------
    X : (n, d);  w : (d,);  predict(X) : (n,) int64 in {0, 1}.

    Examples
    --------
    >>> from nnlib.data import logic_gate
    >>> X, y = logic_gate("AND")
    >>> p = Perceptron.zeros(2).fit(X, y, lr=1.0, epochs=20)
    >>> p.predict(X).tolist()
    [0, 0, 0, 1]
    >>> p.history["accuracy"][-1]
    1.0
    """

    w: np.ndarray
    b: float = 0.0
    history: dict[str, list] = field(default_factory=lambda: {"errors": [], "accuracy": []})

    def __post_init__(self) -> None:
        self.w = np.asarray(self.w, dtype=np.float64)
        if self.w.ndim != 1:
            raise ValueError(f"w must have shape (d,), got shape {self.w.shape}")
        self.b = float(self.b)

    @classmethod
    def zeros(cls, d: int) -> Perceptron:
        """A perceptron with ``d`` inputs, all weights and the bias zero.

        Examples
        --------
        >>> Perceptron.zeros(3).w.tolist()
        [0.0, 0.0, 0.0]
        """
        return cls(np.zeros(d), 0.0)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The pre-activation ``z = X @ w + b``.

        Shapes
        ------
        X : (n, d);  returns (n,) float64.

        Examples
        --------
        >>> Perceptron(np.array([1.0, -1.0]), 0.5).decision_function([[1.0, 2.0]]).tolist()
        [-0.5]
        """
        X = np.asarray(X, dtype=np.float64)
        check_2d(X, features=len(self.w))
        return X @ self.w + self.b  # (n,)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class predictions ``step(X @ w + b)``.

        Shapes
        ------
        X : (n, d);  returns (n,) int64.

        Examples
        --------
        >>> Perceptron(np.array([1.0, 1.0]), -1.5).predict([[1, 1], [1, 0]]).tolist()
        [1, 0]
        """
        return step(self.decision_function(X))

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        lr: float = 1.0,
        epochs: int = 20,
        seed: int | None = None,
    ) -> Perceptron:
        """Train in place with Rosenblatt's rule; return ``self``.

        Each epoch visits every example once (in a shuffled order when ``seed`` is
        given) and, on a mistake, moves the weights towards the right answer. Training
        stops early after an epoch without mistakes.

        Shapes
        ------
        X : (n, d);  y : (n,) with values in {0, 1}.

        Examples
        --------
        >>> from nnlib.data import logic_gate
        >>> X, y = logic_gate("XOR")
        >>> p = Perceptron.zeros(2).fit(X, y, epochs=50, seed=0)
        >>> max(p.history["accuracy"]) <= 0.75
        True
        """
        X = np.asarray(X, dtype=np.float64)
        check_2d(X, features=len(self.w))
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},), got shape {y.shape}")
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must hold only 0 and 1, got values {np.unique(y).tolist()}")
        if lr <= 0 or epochs < 1:
            raise ValueError(f"expected lr > 0 and epochs >= 1, got lr={lr}, epochs={epochs}")
        rng = np.random.default_rng(seed) if seed is not None else None
        self.history = {"errors": [], "accuracy": []}
        for _ in range(epochs):
            order = rng.permutation(len(X)) if rng is not None else np.arange(len(X))
            errors = 0
            for i in order:
                y_hat = step(X[i] @ self.w + self.b)
                delta = lr * (y[i] - y_hat)  # 0 when right, +-lr when wrong
                self.w = self.w + delta * X[i]
                self.b = self.b + delta
                errors += int(delta != 0)
            self.history["errors"].append(errors)
            self.history["accuracy"].append(float((self.predict(X) == y).mean()))
            if errors == 0:
                break
        return self
