"""One training loop for every model of the course: :func:`fit` returns a :class:`History`.

Every chapter trains the same way: take a batch, compute the loss (forward),
differentiate it (backward), move the parameters (update). Chapter 2 writes these
three steps by hand; from then on :func:`fit` runs them, with the parts that vary
between chapters as arguments: full batch or mini-batches, a validation set,
metrics, gradient clipping (Pascanu, Mikolov & Bengio 2013), a learning-rate
schedule, and *callbacks* for early stopping or the L1 proximal step (both in
:mod:`nnlib.regularization`). The model's inputs may have any shape (vectors,
images, sequences, token batches), or be a tuple of tensors; only the first
dimension is the batch. The loop is a thin layer over PyTorch: on the digits MLP
it runs within a few percent of the bare hand-written loop (``make bench``).

Long runs show a ``tqdm`` progress bar in a live kernel. It is off while the
notebooks are executed for the website (:func:`nnlib.building_website`) and when
the environment variable ``NNLIB_PROGRESS=0`` is set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from nnlib import building_website
from nnlib.losses import LOSSES, as_tensor

__all__ = [
    "progress_enabled",
    "progress",
    "Callback",
    "History",
    "fit",
]


def progress_enabled() -> bool:
    """False while building the website or when ``NNLIB_PROGRESS`` is ``"0"``.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"NNLIB_PROGRESS": "0"}):
    ...     progress_enabled()
    False
    """
    return os.environ.get("NNLIB_PROGRESS", "1").strip() != "0" and not building_website()


def progress(iterable: Iterable[Any], **kw: Any) -> tqdm:
    """Wrap ``iterable`` in a ``tqdm.auto`` bar, disabled where :func:`progress_enabled` is False.

    Keyword arguments go to ``tqdm`` (``desc``, ``total``, ``leave``, ...); an
    explicit ``disable=True`` also silences the bar.

    Shapes
    ------
    Yields the items of ``iterable`` unchanged.

    Examples
    --------
    >>> list(progress(range(3), disable=True))
    [0, 1, 2]
    """
    disable = bool(kw.pop("disable", False)) or not progress_enabled()
    return tqdm(iterable, disable=disable, **kw)


class Callback:
    """Base class of what :func:`fit` calls around its steps; every hook is optional.

    A callback need not subclass this: :func:`fit` calls whichever of these methods
    an object has. :class:`nnlib.regularization.EarlyStopping` and
    :class:`nnlib.regularization.L1Proximal` are examples.
    """

    def after_step(self, model: nn.Module, history: History) -> None:
        """Runs after each parameter update."""

    def after_eval(self, model: nn.Module, history: History) -> bool:
        """Runs after each evaluation; return True to stop training."""
        return False

    def on_end(self, model: nn.Module, history: History) -> None:
        """Runs once when training ends, for whatever reason."""


@dataclass
class History:
    """What happened during :func:`fit`.

    Its length is the number of **steps**, that is parameter updates:
    ``len(history) == len(history.loss)``. Evaluations (the model in evaluation
    mode on whole sets, without gradients) happen every ``eval_every`` steps;
    ``eval_steps[i]`` is the number of updates made before evaluation ``i``.

    Attributes
    ----------
    loss : list of float
        The loss of each step's batch, computed before that step's update.
    lr : list of float
        The learning rate used by each step.
    eval_steps : list of int
        Steps done before each evaluation (0 is before training).
    train, val : dict of str to list of float
        ``"loss"`` and every metric, per evaluation, on the training and the
        validation set (``val`` is empty without a validation set).
    epochs : int
        Full passes over the training set completed.
    stop_reason : str
        ``"completed"``, ``"early stopping"`` or ``"non-finite loss"``.

    Examples
    --------
    >>> h = History(loss=[0.9, 0.5], lr=[0.1, 0.1], eval_steps=[0, 2],
    ...             val={"loss": [1.0, 0.6]})
    >>> len(h), h.best_step, h.final("val", "loss")
    (2, 2, 0.6)
    """

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)
    epochs: int = 0
    stop_reason: str = "completed"

    def __len__(self) -> int:
        return len(self.loss)

    @property
    def best_index(self) -> int | None:
        """The evaluation with the lowest validation loss (or training loss, without one)."""
        curve = self.val.get("loss") or self.train.get("loss")
        if not curve:
            return None
        finite = [v if math.isfinite(v) else math.inf for v in curve]
        return int(np.argmin(finite))

    @property
    def best_step(self) -> int | None:
        """The step count at the best evaluation (see :attr:`best_index`)."""
        i = self.best_index
        return None if i is None else self.eval_steps[i]

    def final(self, split: str, metric: str = "loss") -> float:
        """The last evaluated ``metric`` on ``split`` (``"train"`` or ``"val"``)."""
        records = {"train": self.train, "val": self.val}.get(split)
        if records is None or not records.get(metric):
            raise KeyError(f"no {metric!r} recorded on {split!r}")
        return records[metric][-1]


def _batch_indices(
    n: int, batch_size: int, sampler: str, generator: torch.Generator
) -> Iterator[torch.Tensor | None]:
    """An endless stream of index batches; ``None`` means "the whole set, in order"."""
    while True:
        if batch_size >= n and sampler == "epoch":
            yield None
        elif sampler == "epoch":  # reshuffle at every epoch, then split
            yield from torch.randperm(n, generator=generator).split(batch_size)  # (B,) each
        else:  # "random": independent draws with replacement, batch by batch
            yield torch.randint(0, n, (batch_size,), generator=generator)  # (B,)


def _take(X: torch.Tensor | tuple[torch.Tensor, ...], idx: torch.Tensor | None):
    if isinstance(X, tuple):
        return tuple(_take(x, idx) for x in X)
    return X if idx is None else X[idx]


def _length(X: torch.Tensor | tuple[torch.Tensor, ...]) -> int:
    return len(X[0]) if isinstance(X, tuple) else len(X)


def _current_lr(optimizer: Any) -> float:
    groups = getattr(optimizer, "param_groups", None)  # torch.optim
    return float(groups[0]["lr"] if groups else optimizer.lr)  # nnlib.optim


def _prepare(
    data: Any, name: str, dtype: torch.dtype, device: torch.device
) -> tuple[Any, torch.Tensor]:
    """Tensors on the model's device from a pair (inputs, targets), floats in its ``dtype``."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (inputs, targets), got {type(data).__name__}")
    X, y = data
    X = (
        tuple(_cast(x, dtype, device) for x in X)
        if isinstance(X, tuple)
        else _cast(X, dtype, device)
    )
    y = _cast(y, dtype, device)
    sizes = {_length(X), len(y)}
    if len(sizes) != 1:
        raise ValueError(f"{name}: inputs and targets differ in length: {sorted(sizes)}")
    return X, y


def _cast(a: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # The whole set moves to the device once, so that no batch is copied there.
    t = as_tensor(a).to(device)
    return t.to(dtype) if t.is_floating_point() else t


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    X: Any,
    y: torch.Tensor,
    loss_fn: Callable,
    metrics: dict[str, Callable],
    device: torch.device,
    chunk: int,
) -> dict[str, float]:
    was_training = model.training
    model.eval()
    n = len(y)
    outs = []
    for start in range(0, n, chunk):
        idx = None if chunk >= n else torch.arange(start, min(start + chunk, n), device=device)
        xb = _take(X, idx)
        outs.append(model(*xb) if isinstance(xb, tuple) else model(xb))
    out = outs[0] if len(outs) == 1 else torch.cat(outs)
    result = {"loss": loss_fn(out, y).item()}
    result |= {name: float(fn(out, y)) for name, fn in metrics.items()}
    model.train(was_training)
    return result


def fit(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    optimizer: Any,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "classification",
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    sampler: str = "epoch",
    val: tuple[Any, Any] | None = None,
    metrics: dict[str, Callable[[torch.Tensor, torch.Tensor], float]] | None = None,
    eval_every: int | str | None = "epoch",
    eval_train: bool = True,
    eval_at_start: bool = False,
    penalty: Callable[[], torch.Tensor] | None = None,
    clip_grad_norm: float | None = None,
    schedule: Any = None,
    schedule_every: str = "epoch",
    callbacks: Sequence[Any] = (),
    stop_on_nonfinite: bool = True,
    seed: int = 0,
    show_progress: bool | None = None,
    desc: str = "training",
) -> History:
    """Train ``model`` on ``(X, y)`` with ``optimizer``; return the :class:`History`.

    Each step: put the model in training mode, compute ``loss(model(X_batch),
    y_batch)`` (plus ``penalty()`` if given), zero the gradients, back-propagate,
    clip, update, then call the callbacks' ``after_step``. The model's weights are
    never re-initialized here: seed the model when you build it.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(X_batch)``, or ``model(*X_batch)`` when ``X`` is a tuple.
    X, y : array or tensor, or a tuple of them for ``X``
        Inputs and targets; the first dimension indexes the examples.
    optimizer
        A ``torch.optim`` or :mod:`nnlib.optim` optimizer over ``model``'s parameters.
        Floating-point inputs and targets are converted to the parameters' dtype.
    loss : str or callable
        A name in :data:`nnlib.losses.LOSSES` or a function ``(outputs, targets) -> scalar tensor``.
    steps, epochs : int
        How long to train: give exactly one. A step is one update; an epoch is one
        pass over the training set (``ceil(N / batch_size)`` steps with ``"epoch"``
        sampling).
    batch_size : int, optional
        Examples per step; ``None`` is the full batch (plain gradient descent).
    sampler : {"epoch", "random"}
        ``"epoch"`` reshuffles the set every epoch and walks through it;
        ``"random"`` draws each batch independently, with replacement.
    val : (X_val, y_val), optional
        A validation set, evaluated at every evaluation.
    metrics : dict, optional
        ``name -> fn(outputs, targets) -> float`` (e.g. ``{"accuracy":
        nnlib.losses.accuracy}``),
        recorded with the loss at every evaluation.
    eval_every : int, "epoch" or None
        Evaluate every this many steps, after every epoch, or only at the end.
        There is always an evaluation after the last step.
    eval_train : bool
        Also evaluate the whole training set (in evaluation mode).
    eval_at_start : bool
        Evaluate once before the first step (``eval_steps[0] == 0``).
    penalty : callable, optional
        ``() -> scalar tensor`` added to the loss before differentiating (e.g. an L2
        term); the history records the data loss without it.
    clip_grad_norm : float, optional
        Rescale the gradients so that their joint norm is at most this.
    schedule : optional
        A learning-rate schedule whose ``step()`` is called every step or every
        epoch (``schedule_every``).
    callbacks : sequence
        Objects with any of the hooks of :class:`Callback`.
    stop_on_nonfinite : bool
        Stop as soon as a batch loss or an evaluated loss is NaN or infinite.
    seed : int
        Seeds the order of the mini-batches (not the model).
    show_progress : bool, optional
        Default: on in a live kernel, off on the website (:func:`progress_enabled`).

    Shapes
    ------
    X : (N, ...) or a tuple of (N, ...);  y : (N, ...), matching what ``loss`` expects.

    Examples
    --------
    >>> from nnlib.data import logic_gate
    >>> from nnlib.losses import accuracy
    >>> from nnlib.mlp import MLP, MLPConfig
    >>> X, y = logic_gate("AND")
    >>> model = MLP(MLPConfig(in_features=2, hidden=[4], out_features=1), seed=0)
    >>> h = fit(model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
    ...         steps=300, metrics={"accuracy": accuracy}, eval_every=None)
    >>> len(h), h.final("train", "accuracy"), h.stop_reason
    (300, 1.0, 'completed')
    """
    if (steps is None) == (epochs is None):
        raise ValueError(
            f"give exactly one of steps and epochs, got steps={steps}, epochs={epochs}"
        )
    length = steps if steps is not None else epochs
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"steps or epochs must be an int >= 1, got {length!r}")
    if sampler not in ("epoch", "random"):
        raise ValueError(f"sampler must be 'epoch' or 'random', got {sampler!r}")
    if schedule_every not in ("epoch", "step"):
        raise ValueError(f"schedule_every must be 'epoch' or 'step', got {schedule_every!r}")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSSES)}")
        loss = LOSSES[loss]
    metrics = dict(metrics or {})

    params = list(model.parameters())
    if not params:
        raise ValueError("the model has no parameters to train")
    device, dtype = params[0].device, params[0].dtype
    X, y = _prepare((X, y), "training data", dtype, device)
    if val is not None:
        X_val, y_val = _prepare(val, "val", dtype, device)
    n = len(y)
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1 or None, got {batch_size!r}")
    batch_size = min(batch_size, n)
    per_epoch = math.ceil(n / batch_size) if sampler == "epoch" else max(1, n // batch_size)
    total = steps if steps is not None else epochs * per_epoch
    if eval_every == "epoch":
        eval_every = per_epoch
    elif eval_every is None:
        eval_every = total
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ValueError(f"eval_every must be an int >= 1, 'epoch' or None, got {eval_every!r}")

    generator = torch.Generator().manual_seed(seed)  # on the CPU, so any device draws alike
    chunk = max(batch_size, 4096)
    history = History()

    def evaluate(step: int) -> bool:
        """Record an evaluation; True if training may go on."""
        history.eval_steps.append(step)
        splits = ([("train", X, y)] if eval_train else []) + (
            [("val", X_val, y_val)] if val is not None else []
        )
        for name, A, b in splits:
            record = getattr(history, name)
            for key, value in _evaluate(model, A, b, loss, metrics, device, chunk).items():
                record.setdefault(key, []).append(value)
        if stop_on_nonfinite and any(
            not math.isfinite(getattr(history, name)["loss"][-1]) for name, _, _ in splits
        ):
            history.stop_reason = "non-finite loss"
            return False
        for cb in callbacks:
            if hasattr(cb, "after_eval") and cb.after_eval(model, history):
                history.stop_reason = "early stopping"
                return False
        return True

    go_on = evaluate(0) if eval_at_start else True
    batches = _batch_indices(n, batch_size, sampler, generator)
    show = progress_enabled() if show_progress is None else show_progress
    after_step = [cb.after_step for cb in callbacks if hasattr(cb, "after_step")]
    model.train()
    for step in tqdm(range(1, total + 1), desc=desc, disable=not show or not go_on, leave=False):
        if not go_on:
            break
        idx = next(batches)
        xb, yb = _take(X, idx), (y if idx is None else y[idx])
        out = model(*xb) if isinstance(xb, tuple) else model(xb)
        data_loss = loss(out, yb)
        objective = data_loss + penalty() if penalty is not None else data_loss
        optimizer.zero_grad()
        objective.backward()
        if clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(params, clip_grad_norm)
        history.lr.append(_current_lr(optimizer))
        optimizer.step()
        history.loss.append(data_loss.item())
        for callback in after_step:
            callback(model, history)
        epoch_done = step % per_epoch == 0
        history.epochs += epoch_done
        if schedule is not None and (schedule_every == "step" or epoch_done):
            schedule.step()
        if stop_on_nonfinite and not math.isfinite(history.loss[-1]):
            evaluate(step)
            history.stop_reason = "non-finite loss"
            break
        if step % eval_every == 0 or step == total:
            go_on = evaluate(step)
    for cb in callbacks:
        if hasattr(cb, "on_end"):
            cb.on_end(model, history)
    return history
