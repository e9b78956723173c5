"""Losses and metrics for classifiers and regressors, shared by every chapter.

A classifier with one output column is *binary*: its output is the logit ``z`` of
class 1, turned into a probability by the logistic sigmoid and scored with the
binary cross-entropy. With ``C`` columns the outputs are the logits of ``C``
classes, turned into probabilities by the softmax and scored with the
cross-entropy. Both losses are computed from the logits directly, which is
numerically safer than taking the logarithm of a probability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "as_tensor",
    "classes",
    "accuracy",
    "classification_loss",
    "LOSSES",
    "first_step_below",
]


def as_tensor(a: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A NumPy array, a list or a tensor as a tensor (``dtype`` converts; no copy if none needed).

    Examples
    --------
    >>> as_tensor(np.zeros(3), torch.float32).dtype
    torch.float32
    """
    t = a if torch.is_tensor(a) else torch.as_tensor(np.asarray(a))
    return t if dtype is None else t.to(dtype)


def classes(logits: torch.Tensor) -> torch.Tensor:
    """Predicted classes: one logit column is a binary classifier (class 1 where positive).

    Shapes
    ------
    logits : (N, 1) or (N, C);  returns (N,) int64.

    Examples
    --------
    >>> classes(torch.tensor([[0.3], [-2.0]])).tolist(), classes(torch.eye(2)).tolist()
    ([1, 0], [0, 1])
    """
    return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct predictions; one logit column means a binary classifier.

    Shapes
    ------
    logits : (N, 1) or (N, C);  y : (N,) integer labels.

    Examples
    --------
    >>> accuracy(torch.tensor([[2.0], [-1.0], [0.5]]), torch.tensor([1, 0, 0]))
    0.6666666666666666
    """
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected logits (N, C) and y (N,), got {tuple(logits.shape)}, {tuple(y.shape)}"
        )
    return (classes(logits) == y.long()).double().mean().item()


def classification_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on the logit if there is one output column, cross-entropy otherwise.

    Shapes
    ------
    logits : (N, 1) or (N, C);  y : (N,) integer labels.

    Examples
    --------
    >>> round(classification_loss(torch.zeros(4, 1), torch.tensor([0, 1, 1, 0])).item(), 4)
    0.6931
    """
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected logits (N, C) and y (N,), got {tuple(logits.shape)}, {tuple(y.shape)}"
        )
    if logits.shape[1] == 1:
        return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y.to(logits.dtype))
    return nn.functional.cross_entropy(logits, y.long())


#: Losses by name, for ``fit(loss=...)``: each maps (outputs, targets) to a scalar.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "classification": classification_loss,
    "cross_entropy": nn.functional.cross_entropy,
    "mse": nn.functional.mse_loss,
}


def first_step_below(values: Sequence[float] | np.ndarray, target: float) -> int | None:
    """Index of the first value strictly below ``target`` (``None`` if there is none).

    With a loss curve, that is the number of steps needed to get below ``target``.

    Examples
    --------
    >>> first_step_below([3.0, 2.0, 1.0, 0.5], 1.5)
    2
    >>> first_step_below([3.0, 2.0], 1.0) is None
    True
    """
    hits = np.flatnonzero(np.asarray(values, dtype=float) < target)
    return int(hits[0]) if len(hits) else None
