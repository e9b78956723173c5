"""Regularization: weight penalties, dropout, early stopping and cross-validation.

* L2 (ridge, Tikhonov) and L1 (lasso) penalties add ``lam * R(W)`` to the loss
  (Hoerl & Kennard 1970; Tibshirani 1996). L1 is minimized here by *proximal*
  gradient descent: a gradient step on the data loss, then the soft-thresholding
  operator, which is what sets weights exactly to zero.
* Dropout (Hinton et al. 2012; Srivastava et al. 2014) zeroes each activation with
  probability ``p`` in training and scales the survivors by ``1 / (1 - p)``
  ("inverted" dropout), so that evaluation is the identity.
* Early stopping keeps the weights of the epoch with the lowest validation loss
  (Prechelt 1998).
* :class:`L1Proximal` and :class:`EarlyStopping` are callbacks of :func:`nnlib.train.fit`.
* k-fold cross-validation estimates how well a hyperparameter generalizes
  (Stone 1974; Kohavi 1995).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from nnlib.activations import Activation
from nnlib.mlp import MLP, MLPConfig
from nnlib.train import Callback, History

__all__ = [
    "dropout",
    "Dropout",
    "DropoutMLP",
    "l1_penalty",
    "l2_penalty",
    "soft_threshold",
    "penalized_weights",
    "best_epoch",
    "L1Proximal",
    "EarlyStopping",
    "kfold_indices",
    "cross_validate",
]


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
    return float(p)


def dropout(
    x: torch.Tensor,
    p: float = 0.5,
    *,
    training: bool = True,
    mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Inverted dropout: keep each entry with probability ``1 - p`` and divide by ``1 - p``.

    Parameters
    ----------
    x : Tensor
        Activations of any shape.
    p : float
        Probability of *dropping* an entry (as in ``torch.nn.functional.dropout``).
    training : bool
        In evaluation mode the input is returned unchanged.
    mask : bool Tensor, optional
        Which entries to keep (``True``); drawn from ``generator`` when omitted.

    Shapes
    ------
    x : any shape;  mask : same shape as x;  returns the shape of x.

    Examples
    --------
    >>> x = torch.ones(2, 4)
    >>> keep = torch.tensor([[True, False, True, True], [False, True, True, False]])
    >>> dropout(x, 0.5, mask=keep)
    tensor([[2., 0., 2., 2.],
            [0., 2., 2., 0.]])
    >>> torch.equal(dropout(x, 0.5, training=False), x)
    True
    """
    p = _check_p(p)
    if not training or p == 0.0:
        return x
    if mask is None:
        # Keep where a uniform draw lands at or above p: probability 1 - p.
        mask = torch.rand(x.shape, generator=generator, device=x.device) >= p
    elif mask.shape != x.shape:
        raise ValueError(f"mask must have the shape of x {tuple(x.shape)}, got {tuple(mask.shape)}")
    # Scaling the survivors in training keeps E[output] = x, so evaluation needs no
    # rescaling at all (p = 1 drops everything; its scale is irrelevant, use 0).
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * mask.to(x.dtype) * scale


class Dropout(nn.Module):
    """Inverted dropout as a module; ``model.train()`` / ``model.eval()`` switch it.

    Parameters
    ----------
    p : float
        Drop probability, in [0, 1].
    generator : torch.Generator, optional
        Source of the masks, for reproducible training.

    Shapes
    ------
    x : any shape;  returns the shape of x.

    Examples
    --------
    >>> layer = Dropout(0.25, generator=torch.Generator().manual_seed(0))
    >>> y = layer(torch.ones(1000))
    >>> sorted({round(v, 4) for v in y.tolist()})  # every output is 0 or 1 / (1 - p)
    [0.0, 1.3333]
    >>> torch.equal(layer.eval()(torch.ones(3)), torch.ones(3))
    True
    """

    def __init__(self, p: float = 0.5, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return dropout(x, self.p, training=self.training, mask=mask, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class DropoutMLP(MLP):
    """A ReLU :class:`~nnlib.mlp.MLP` with :class:`Dropout` after every hidden layer.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    hidden : sequence of int
        Hidden widths.
    p : float
        Dropout probability of every hidden layer (0 gives a plain MLP).
    seed : int
        Seeds the initial weights and the dropout masks.

    Shapes
    ------
    x : (N, in_features);  returns (N, out_features).

    Examples
    --------
    >>> net = DropoutMLP(in_features=2, hidden=[8, 8], out_features=1, p=0.5, seed=0)
    >>> net(torch.zeros(4, 2)).shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        *,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        p: float = 0.0,
        seed: int = 0,
    ) -> None:
        config = MLPConfig(in_features=in_features, hidden=hidden, out_features=out_features)
        super().__init__(config, seed=seed)
        self.p = _check_p(p)
        # The same seeded layers, with a dropout after each hidden ReLU; every dropout
        # draws its masks from its own generator.
        layers: list[nn.Module] = []
        for i, linear in enumerate(self.linears[:-1]):
            gen = torch.Generator().manual_seed(seed * 1000 + i)
            layers += [linear, Activation("relu"), Dropout(self.p, generator=gen)]
        self.net = nn.Sequential(*layers, self.linears[-1])


def penalized_weights(model: nn.Module) -> list[nn.Parameter]:
    """The weight matrices of ``model`` (parameters with 2 or more dims); biases are not penalized.

    Examples
    --------
    >>> [tuple(w.shape) for w in penalized_weights(nn.Linear(3, 2))]
    [(2, 3)]
    """
    return [p for p in model.parameters() if p.ndim >= 2]


def _as_list(weights: torch.Tensor | Iterable[torch.Tensor]) -> list[torch.Tensor]:
    ws = [weights] if torch.is_tensor(weights) else list(weights)
    if not ws:
        raise ValueError("expected at least one weight tensor")
    return ws


def l2_penalty(weights: torch.Tensor | Iterable[torch.Tensor]) -> torch.Tensor:
    """Ridge penalty ``R(W) = sum_i w_i**2`` over one tensor or several.

    Shapes
    ------
    each weight : any shape;  returns a scalar.

    Examples
    --------
    >>> l2_penalty([torch.tensor([3.0, -4.0]), torch.tensor([[1.0]])])
    tensor(26.)
    """
    return sum(w.pow(2).sum() for w in _as_list(weights))


def l1_penalty(weights: torch.Tensor | Iterable[torch.Tensor]) -> torch.Tensor:
    """Lasso penalty ``R(W) = sum_i |w_i|`` over one tensor or several.

    Shapes
    ------
    each weight : any shape;  returns a scalar.

    Examples
    --------
    >>> l1_penalty(torch.tensor([3.0, -4.0, 0.5]))
    tensor(7.5000)
    """
    return sum(w.abs().sum() for w in _as_list(weights))


def soft_threshold(w: torch.Tensor, threshold: float) -> torch.Tensor:
    """The proximal operator of ``threshold * |w|``: ``sign(w) * max(|w| - threshold, 0)``.

    It solves ``argmin_v 0.5 (v - w)**2 + threshold |v|`` entry by entry: entries
    with ``|w| <= threshold`` become exactly 0, the others move ``threshold``
    towards 0 (the same function as ``torch.nn.functional.softshrink``).

    Shapes
    ------
    w : any shape;  returns the shape of w.

    Examples
    --------
    >>> soft_threshold(torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5]), 1.0)
    tensor([-1.0000, -0.0000,  0.0000,  0.0000,  0.5000])
    """
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    return torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0)


class L1Proximal(Callback):
    """The proximal step of the L1 penalty, as a :func:`nnlib.train.fit` callback.

    After every gradient step on the data loss it sets ``W <- soft_threshold(W,
    lr * strength)`` for each weight tensor, with the learning rate of that step:
    weights that the data gradient cannot hold away from 0 land exactly on 0.

    Parameters
    ----------
    weights : iterable of tensors
        The tensors to shrink (usually :func:`penalized_weights` of the model).
    strength : float
        The penalty's ``lambda`` in ``lambda * sum |w|``.

    Examples
    --------
    >>> w = torch.tensor([0.05, -1.0])
    >>> L1Proximal([w], strength=1.0).after_step(None, History(lr=[0.1]))
    >>> w.tolist()
    [0.0, -0.8999999761581421]
    """

    def __init__(self, weights: Iterable[torch.Tensor], strength: float) -> None:
        if not strength >= 0:
            raise ValueError(f"strength must be >= 0, got {strength!r}")
        self.weights, self.strength = _as_list(weights), float(strength)

    @torch.no_grad()
    def after_step(self, model: nn.Module | None, history: History) -> None:
        for W in self.weights:
            W.copy_(soft_threshold(W, history.lr[-1] * self.strength))


def best_epoch(val_losses: Sequence[float]) -> int:
    """Index of the lowest validation loss (the first one on ties).

    Examples
    --------
    >>> best_epoch([0.9, 0.5, 0.4, 0.4, 0.6])
    2
    """
    losses = np.asarray(val_losses, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or np.isnan(losses).any():
        raise ValueError(f"expected a non-empty 1-D sequence of losses without NaN, got {losses}")
    return int(np.argmin(losses))


class EarlyStopping(Callback):
    """Stop once the validation loss has not improved for ``patience`` epochs.

    Call :meth:`step` once per epoch with the validation loss (and the model, to
    keep a copy of its best weights); it returns ``True`` when training should stop.
    ``best_epoch`` is then the epoch of minimum validation loss seen so far.
    As a callback of :func:`nnlib.train.fit` it does this at every evaluation
    (an "epoch" here is one evaluation) and, when training ends, puts the best
    weights back into the model.

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        An epoch counts as an improvement only if it beats the best loss by more than this.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.step(v) for v in [1.0, 0.7, 0.8, 0.75]]
    [False, False, False, True]
    >>> stopper.best_epoch, stopper.stopped_epoch
    (1, 3)
    """

    def __init__(self, patience: int = 20, min_delta: float = 0.0) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.patience, self.min_delta = patience, float(min_delta)
        self.best_loss = float("inf")
        self.best_epoch = -1
        self.best_state: dict | None = None
        self.stopped_epoch: int | None = None
        self.epoch = -1

    def step(self, val_loss: float, model: nn.Module | None = None) -> bool:
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = float(val_loss), self.epoch
            if model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
        if self.stopped_epoch is None and self.epoch - self.best_epoch >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the best weights seen into ``model`` (which must have been passed to step)."""
        if self.best_state is None:
            raise RuntimeError("no weights stored: pass the model to step()")
        model.load_state_dict(self.best_state)
        return model

    def after_eval(self, model: nn.Module, history: History) -> bool:
        """Callback: one :meth:`step` with the latest validation loss."""
        if not history.val.get("loss"):
            raise ValueError("EarlyStopping needs a validation set: pass val=(X_val, y_val) to fit")
        return self.step(history.val["loss"][-1], model)

    def on_end(self, model: nn.Module, history: History) -> None:
        """Callback: restore the best weights seen, if any were stored."""
        if self.best_state is not None:
            self.restore(model)


def kfold_indices(n: int, k: int = 5, *, seed: int | None = None) -> list[tuple]:
    """Split ``range(n)`` into ``k`` folds; return ``(train_idx, val_idx)`` for each.

    The first ``n % k`` folds get one extra point, as in scikit-learn's ``KFold``;
    with a ``seed`` the indices are shuffled first.

    Shapes
    ------
    each train_idx : (n - len(val_idx),);  each val_idx : (about n / k,).

    Examples
    --------
    >>> [v.tolist() for _, v in kfold_indices(7, 3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= n:
        raise ValueError(f"need an int k with 2 <= k <= n = {n}, got k={k!r}")
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    sizes = np.full(k, n // k) + (np.arange(k) < n % k)
    bounds = np.concatenate([[0], np.cumsum(sizes)])  # (k + 1,)
    folds = []
    for i in range(k):
        val = order[bounds[i] : bounds[i + 1]]
        train = np.concatenate([order[: bounds[i]], order[bounds[i + 1] :]])
        folds.append((train, val))
    return folds


def cross_validate(
    fit_and_score: Callable[..., float], X, y, *, k: int = 5, seed: int | None = 0
) -> np.ndarray:
    """Score of ``fit_and_score(X_train, y_train, X_val, y_val)`` on each of ``k`` folds.

    Shapes
    ------
    X : (n, ...);  y : (n,);  returns (k,).

    Examples
    --------
    >>> X, y = np.arange(10.0)[:, None], np.arange(10.0)
    >>> mean_predictor = lambda Xt, yt, Xv, yv: float(np.mean((yv - yt.mean()) ** 2))
    >>> cross_validate(mean_predictor, X, y, k=5, seed=None).round(2).tolist()
    [25.25, 6.5, 0.25, 6.5, 25.25]
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    scores = [
        fit_and_score(X[tr], y[tr], X[va], y[va]) for tr, va in kfold_indices(len(y), k, seed=seed)
    ]
    return np.asarray(scores, dtype=float)
