"""The course's datasets: 2-D toy sets, and scikit-learn's 8x8 digits.

Every sampler takes a ``seed`` and returns ``(X, y)`` with ``X`` of shape ``(n, 2)``
(float32, roughly centred and inside ``[-1.5, 1.5]``) and ``y`` of shape ``(n,)``
(int64 class labels 0 and 1, balanced). Nothing is downloaded: the points are
generated from a fixed recipe, so two calls with the same seed agree exactly.
The logic gates are the four Boolean inputs of Minsky and Papert's XOR argument.

:func:`digits` loads the 1,797 handwritten digits that ship with scikit-learn;
:func:`standardize` is the one standardization of the course, and
:func:`digits_split` a shuffled train/test split standardized with the training
statistics. :func:`check_2d` is the one check of an ``(N, d)`` input.

:func:`mnist1d` generates MNIST-1D (Greydanus & Kobak 2020) with the ``mnist1d``
package's procedural generator, never its download path, and keeps each set it
made in memory, so a second call costs nothing.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "logic_gate",
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spirals",
    "DATASETS",
    "GATES",
    "check_2d",
    "standardize",
    "digits",
    "digits_split",
    "MNIST1D_LENGTH",
    "mnist1d",
    # sequence tasks (chapter 7)
    "PAD_TOKEN",
    "BOS_TOKEN",
    "EOS_TOKEN",
    "FIRST_SYMBOL",
    "adding_problem",
    "sequence_reversal",
]

#: Truth tables of the gates, in the row order (0,0), (0,1), (1,0), (1,1).
GATES: dict[str, tuple[int, int, int, int]] = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "XOR": (0, 1, 1, 0),
    "NAND": (1, 1, 1, 0),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four inputs of a two-input logic gate and its outputs.

    Parameters
    ----------
    name : str
        One of ``"AND"``, ``"OR"``, ``"XOR"``, ``"NAND"`` (any case).

    Shapes
    ------
    X : (4, 2) float64, rows (0,0), (0,1), (1,0), (1,1);  y : (4,) int64.

    Examples
    --------
    >>> X, y = logic_gate("xor")
    >>> X.tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    >>> y.tolist()
    [0, 1, 1, 0]
    """
    if not isinstance(name, str) or name.upper() not in GATES:
        raise ValueError(f"unknown logic gate {name!r}; expected one of {sorted(GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array(GATES[name.upper()], dtype=np.int64)
    return X, y


def _check(n: int, noise: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an int >= 2 (one point per class at least), got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def _labels(n: int) -> np.ndarray:
    # Half the points in each class (class 1 gets the extra point when n is odd).
    return (np.arange(n) >= n // 2).astype(np.int64)


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple:
    order = rng.permutation(len(y))  # shuffle so that no class comes first
    return X[order].astype(np.float32), y[order]


def make_xor(n: int = 200, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian clouds at (±1, ±1); the label is 1 where the signs differ.

    Shapes
    ------
    X : (n, 2) float32;  y : (n,) int64.

    Examples
    --------
    >>> X, y = make_xor(8, seed=1)
    >>> X.shape, X.dtype.name, int(y.sum())
    ((8, 2), 'float32', 4)
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    # Class 0 sits at (1,1) or (-1,-1), class 1 at (1,-1) or (-1,1).
    s = rng.choice([-1.0, 1.0], size=n)
    centres = np.stack([s, np.where(y == 1, -s, s)], axis=1)  # (n, 2)
    X = centres + noise * rng.standard_normal((n, 2))
    return _finish(X, y, rng)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (as scikit-learn's ``make_moons``), centred.

    Shapes
    ------
    X : (n, 2) float32;  y : (n,) int64.

    Examples
    --------
    >>> X, y = make_moons(100, seed=0)
    >>> X.shape, int(y.sum()), bool(abs(X).max() < 1.6)
    ((100, 2), 50, True)
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)  # (n, 2)
    X = np.where(y[:, None] == 0, upper, lower)
    X = (X - np.array([0.5, 0.25])) * np.array([0.8, 1.2])  # centre on the origin
    X = X + noise * rng.standard_normal((n, 2))
    return _finish(X, y, rng)


def make_circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around a circle of radius ``factor`` (class 1).

    Shapes
    ------
    X : (n, 2) float32;  y : (n,) int64.

    Examples
    --------
    >>> X, y = make_circles(50, noise=0.0, seed=0)
    >>> r = (X**2).sum(1) ** 0.5
    >>> bool(abs(r[y == 0] - 1).max() < 1e-6), bool(abs(r[y == 1] - 0.5).max() < 1e-6)
    (True, True)
    """
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie strictly between 0 and 1, got {factor!r}")
    rng = np.random.default_rng(seed)
    y = _labels(n)
    t = rng.uniform(0.0, 2 * np.pi, size=n)
    radius = np.where(y == 0, 1.0, factor)
    X = radius[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2)
    X = X + noise * rng.standard_normal((n, 2))
    return _finish(X, y, rng)


def make_spirals(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, each turning about 1.5 times around the origin.

    Shapes
    ------
    X : (n, 2) float32;  y : (n,) int64.

    Examples
    --------
    >>> X, y = make_spirals(60, seed=0)
    >>> X.shape, int(y.sum()), bool(abs(X).max() < 1.6)
    ((60, 2), 30, True)
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    y = _labels(n)
    # sqrt spreads the points evenly along the arm instead of crowding the centre.
    r = np.sqrt(rng.uniform(0.02, 1.0, size=n))
    theta = 3 * np.pi * r + np.pi * y  # the second arm is the first turned by 180 degrees
    X = 1.2 * r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (n, 2)
    X = X + noise * rng.standard_normal((n, 2))
    return _finish(X, y, rng)


#: The playground's datasets by name.
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "xor": make_xor,
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
}


def check_2d(X, *, features: int | None = None, name: str = "X") -> None:
    """Raise a ``ValueError`` unless ``X`` (array or tensor) has shape ``(N, features)``.

    Examples
    --------
    >>> check_2d(np.zeros((3, 2)), features=2)
    >>> check_2d(np.zeros(3))
    Traceback (most recent call last):
    ...
    ValueError: X must have shape (N, d), got shape (3,)
    """
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must have shape (N, d), got shape {shape}")
    if features is not None and shape[1] != features:
        raise ValueError(f"{name} must have {features} features per row, got shape {shape}")


def standardize(X: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Shift and scale every column to mean 0 and standard deviation 1.

    The statistics come from ``reference`` (default: ``X`` itself), so that a test
    set is standardized with the training set's numbers. A constant column (in
    digits, a pixel that is always blank) is only shifted, so it becomes 0.

    Shapes
    ------
    X : (N, d);  reference : (M, d);  returns (N, d) float64.

    Examples
    --------
    >>> standardize(np.array([[1.0, 5.0], [3.0, 5.0]])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    ref = X if reference is None else np.asarray(reference, dtype=np.float64)
    check_2d(X)
    check_2d(ref, features=X.shape[1], name="reference")
    std = ref.std(axis=0)  # (d,)
    return (X - ref.mean(axis=0)) / np.where(std > 0, std, 1.0)


def digits(*, standardized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits (8 x 8 pixels, values 0 to 16).

    With ``standardized=True`` every pixel is standardized over the whole set
    (:func:`standardize`).

    Shapes
    ------
    X : (1797, 64) float64, one flattened image per row;  y : (1797,) int64 in 0..9.

    Examples
    --------
    >>> X, y = digits()
    >>> X.shape, y.shape, float(X.max())
    ((1797, 64), (1797,), 16.0)
    >>> round(float(digits(standardized=True)[0].std(axis=0).max()), 2)
    1.0
    """
    from sklearn.datasets import load_digits  # the 1,797 images ship with scikit-learn

    data = load_digits()
    X, y = data.data.astype(np.float64), data.target.astype(np.int64)
    return (standardize(X) if standardized else X), y


def digits_split(
    test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits shuffled, split, and standardized with the training statistics.

    Shapes
    ------
    X_train : (n_train, 64) float32;  y_train : (n_train,) int64;  likewise for test.

    Examples
    --------
    >>> X_tr, y_tr, X_te, y_te = digits_split()
    >>> tuple(X_tr.shape), tuple(X_te.shape)
    ((1438, 64), (359, 64))
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    X, y = digits()  # (1797, 64), (1797,)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    X = standardize(X, reference=X[train]).astype(np.float32)
    return (
        torch.from_numpy(X[train]),
        torch.from_numpy(y[train]),
        torch.from_numpy(X[test]),
        torch.from_numpy(y[test]),
    )


#: Length of one MNIST-1D signal (the generator's ``final_seq_length``).
MNIST1D_LENGTH = 40


@functools.lru_cache(maxsize=8)
def _mnist1d_arrays(num_samples: int, seed: int) -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    # The generator reseeds numpy's and Python's global generators: put them back,
    # so loading the data (or finding it cached) never changes what a notebook draws.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    arrays = (d["x"], d["y"], d["x_test"], d["y_test"])
    for a in arrays:
        a.setflags(write=False)
    return arrays


def mnist1d(
    *, shuffled: bool = False, num_samples: int = 5000, seed: int = 42, permutation_seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST-1D: ten digit templates as 1-D signals, padded, translated, sheared, noisy.

    The defaults are the paper's standard set: 5,000 signals (seed 42), the first
    80% for training, the rest for testing; the generator standardizes the whole
    set. With ``shuffled=True`` the 40 positions of every signal are reordered by
    one fixed permutation (drawn with ``permutation_seed``), the paper's test of a
    spatial prior: a model that ignores order cannot tell the difference.
    Larger sets (``num_samples``) take about 0.4 ms per signal to generate.

    Shapes
    ------
    X_train : (0.8 num_samples, 40) float32;  y_train : (0.8 num_samples,) int64;
    likewise for the test split.

    Examples
    --------
    >>> X_tr, y_tr, X_te, y_te = mnist1d()
    >>> tuple(X_tr.shape), tuple(X_te.shape), sorted(set(y_tr.tolist())) == list(range(10))
    ((4000, 40), (1000, 40), True)
    >>> Xs = mnist1d(shuffled=True)[0]
    >>> bool(torch.equal(Xs.sort(dim=1).values, X_tr.sort(dim=1).values))
    True
    """
    if int(num_samples) != num_samples or num_samples < 20:
        raise ValueError(f"num_samples must be an integer of at least 20, got {num_samples!r}")
    X, y, X_test, y_test = _mnist1d_arrays(int(num_samples), int(seed))
    if shuffled:
        order = np.random.default_rng(permutation_seed).permutation(MNIST1D_LENGTH)
        X, X_test = X[:, order], X_test[:, order]
    return (
        torch.tensor(X, dtype=torch.float32),
        torch.tensor(y, dtype=torch.int64),
        torch.tensor(X_test, dtype=torch.float32),
        torch.tensor(y_test, dtype=torch.int64),
    )


# --- Sequence tasks (chapter 7): the adding problem and sequence reversal -------------------
#
# Generated from a seed, never downloaded. Token sequences share one convention, so that a
# sequence-to-sequence model can read any of them: 0 pads, 1 begins and 2 ends a sequence,
# and the task's own symbols are 3, 4, ...

#: Padding, begin-of-sequence and end-of-sequence tokens of the token tasks.
PAD_TOKEN, BOS_TOKEN, EOS_TOKEN = 0, 1, 2
#: The first token id that stands for a symbol of a task.
FIRST_SYMBOL = 3


def adding_problem(n: int, length: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers.

    Each sequence has ``length`` steps of two features: a number drawn uniformly from
    [0, 1], and a marker that is 1 at exactly two steps (one in the first half, one in
    the second) and 0 elsewhere. The target is the sum of the two marked numbers. A
    model that ignores the input and always answers 1 has a mean squared error of
    Var(U1 + U2) = 1/6, about 0.167.

    Shapes
    ------
    X : (n, length, 2) float32;  y : (n,) float32.

    Examples
    --------
    >>> X, y = adding_problem(4, 10, seed=0)
    >>> tuple(X.shape), X[..., 1].sum(dim=1).tolist()
    ((4, 10, 2), [2.0, 2.0, 2.0, 2.0])
    >>> bool(torch.allclose((X[..., 0] * X[..., 1]).sum(dim=1), y))
    True
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if int(length) != length or length < 2:
        raise ValueError(f"length must be an integer of at least 2, got {length!r}")
    n, length = int(n), int(length)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)  # one marker in the first half ...
    second = rng.integers(half, length, size=n)  # ... and one in the second
    markers = np.zeros((n, length))
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    X = np.stack([values, markers], axis=-1)  # (n, length, 2)
    y = (values * markers).sum(axis=1)  # (n,)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def sequence_reversal(
    n: int, *, min_length: int, max_length: int, num_symbols: int = 10, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random symbol strings and their reversal, a sequence-to-sequence task.

    Each source holds a length drawn uniformly from ``min_length..max_length`` and then
    that many symbols drawn uniformly from ``num_symbols``, as tokens
    ``FIRST_SYMBOL, FIRST_SYMBOL + 1, ...``; it is padded on the right with
    ``PAD_TOKEN``. The target is the reversed string followed by ``EOS_TOKEN``, padded
    likewise.

    Shapes
    ------
    src : (n, max_length) int64;  tgt : (n, max_length + 1) int64.

    Examples
    --------
    >>> src, tgt = sequence_reversal(2, min_length=3, max_length=3, seed=0)
    >>> bool(torch.equal(tgt[:, :3], src.flip(1))), tgt[:, 3].tolist()
    (True, [2, 2])
    """
    for name, value in [("n", n), ("min_length", min_length), ("num_symbols", num_symbols)]:
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if int(max_length) != max_length or max_length < min_length:
        raise ValueError(f"max_length must be an integer >= min_length, got {max_length!r}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=n)
    symbols = rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + num_symbols, size=(n, max_length))
    src = np.full((n, max_length), PAD_TOKEN)
    tgt = np.full((n, max_length + 1), PAD_TOKEN)
    for k, L in enumerate(lengths):
        src[k, :L] = symbols[k, :L]
        tgt[k, :L] = symbols[k, :L][::-1]
        tgt[k, L] = EOS_TOKEN
    return torch.tensor(src), torch.tensor(tgt)
# --- Date-format translation (chapter 8) ------------------------------------------
# Dates written in many surface forms ("22 Nov 2026", "Sun 22 November 26", ...) to be
# translated to ISO 8601 ("2026-11-22"): a tiny translation task in which every
# output field comes from one input field, so attention's alignment can be checked.

import dataclasses  # noqa: E402 (this block is self-contained)
import datetime  # noqa: E402
import re  # noqa: E402

__all__ += [
    "DATE_FORMATS",
    "DATE_FIELDS",
    "DATE_TARGET_SPANS",
    "DATE_SOURCE_LENGTH",
    "DATE_TARGET_LENGTH",
    "CharVocab",
    "DATE_VOCAB",
    "DateSet",
    "format_date",
    "date_data",
    "date_test_set",
]

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()  # date.weekday()

#: The surface formats, as templates over the fields: ``Y`` 2026, ``yy`` 26, ``m`` 11,
#: ``mm`` 11 (zero-padded), ``Mon`` Nov, ``MON`` NOV, ``Month`` November, ``d`` 22,
#: ``dd`` 22 (zero-padded), ``Dy`` Sun, ``Weekday`` Sunday. A digit-only format with
#: the year last puts the day first (22/11, never 11/22), so no date reads two ways.
DATE_FORMATS: tuple[str, ...] = (
    "{d} {Mon} {Y}",
    "{Month} {d}, {Y}",
    "{dd}/{mm}/{Y}",
    "{Dy} {d} {Month} {yy}",
    "{Y}.{mm}.{dd}",
    "{Weekday}, {Month} {d}, {Y}",
    "{d}.{m}.{Y}",
    "{Mon} {d} {Y}",
    "{Dy}, {d} {Mon} {Y}",
    "{dd}-{Mon}-{yy}",
    "{Y}/{mm}/{dd}",
    "{Weekday} {d} {Month} {Y}",
    "{d} {Month} {Y}",
    "{MON} {d}, {Y}",
    "{dd}.{mm}.{yy}",
    "{Dy} {Mon} {dd} {Y}",
    "{Y}-{mm}-{dd}",
)

#: The fields an output digit can come from, in the order of ``DateSet.spans``.
DATE_FIELDS: tuple[str, ...] = ("year", "month", "day")
#: Where each field sits in the ISO target "YYYY-MM-DD" (start, end), end exclusive.
DATE_TARGET_SPANS: tuple[tuple[int, int], ...] = ((0, 4), (5, 7), (8, 10))
_FIELD_OF = {"Y": "year", "yy": "year", "m": "month", "mm": "month", "Mon": "month"}
_FIELD_OF |= {"MON": "month", "Month": "month", "d": "day", "dd": "day"}
_FIELD_OF |= {"Dy": "weekday", "Weekday": "weekday"}
# Two-digit years: 50-99 are 1950-1999, 00-49 are 2000-2049 (the POSIX pivot), so
# every date of the range has one reading.
_FIRST_DATE, _LAST_DATE = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)


def _fields(date: datetime.date) -> dict[str, str]:
    month, weekday = _MONTHS[date.month - 1], _WEEKDAYS[date.weekday()]
    return {
        "Y": f"{date.year:04d}",
        "yy": f"{date.year % 100:02d}",
        "m": str(date.month),
        "mm": f"{date.month:02d}",
        "Mon": month[:3],
        "MON": month[:3].upper(),
        "Month": month,
        "d": str(date.day),
        "dd": f"{date.day:02d}",
        "Dy": weekday[:3],
        "Weekday": weekday,
    }


@functools.lru_cache(maxsize=64)
def _parse(template: str) -> tuple[tuple[str, str], ...]:
    """A template as (literal text, field) pairs; the last field is empty."""
    parts = re.split(r"\{(\w+)\}", template)  # literal, field, literal, ..., literal
    return tuple(zip(parts[0::2], parts[1::2] + [""], strict=True))


def _render(template: str, fields: dict[str, str]) -> tuple[str, dict[str, tuple[int, int]]]:
    out, spans = "", {}
    for literal, key in _parse(template):
        out += literal
        if key:
            spans[_FIELD_OF[key]] = (len(out), len(out) + len(fields[key]))
            out += fields[key]
    return out, spans


def format_date(date: datetime.date, template: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """Write ``date`` in a surface format and say where each field landed.

    Parameters
    ----------
    date : datetime.date
        Between 1950-01-01 and 2049-12-31.
    template : str
        One of :data:`DATE_FORMATS` (or any template over the same fields).

    Shapes
    ------
    returns the string and ``{field: (start, end)}`` character spans, end exclusive,
    for ``"year"``, ``"month"``, ``"day"`` (and ``"weekday"`` where written).

    Examples
    --------
    >>> s, spans = format_date(datetime.date(2026, 11, 22), "{Dy} {d} {Month} {yy}")
    >>> s, spans["year"], s[slice(*spans["month"])]
    ('Sun 22 November 26', (16, 18), 'November')
    """
    if not isinstance(date, datetime.date) or not _FIRST_DATE <= date <= _LAST_DATE:
        raise ValueError(
            f"date must be a datetime.date in {_FIRST_DATE}..{_LAST_DATE}, got {date!r}"
        )
    unknown = {key for _, key in _parse(template) if key} - _FIELD_OF.keys()
    if unknown:
        raise ValueError(
            f"unknown fields {sorted(unknown)} in {template!r}; known: {sorted(_FIELD_OF)}"
        )
    return _render(template, _fields(date))


class CharVocab:
    """Characters to integer ids and back, with padding, start and end tokens.

    Ids 0, 1, 2 are ``<pad>``, ``<s>`` (start) and ``</s>`` (end); the characters
    follow in sorted order.

    Shapes
    ------
    encode: N strings -> (N, L) int64;  decode: (N, L) or (L,) ints -> N strings or one.

    Examples
    --------
    >>> v = CharVocab("abc")
    >>> ids = v.encode(["cab", "a"], start=True)
    >>> ids.tolist()
    [[1, 5, 3, 4, 2], [1, 3, 2, 0, 0]]
    >>> v.decode(ids)
    ['cab', 'a']
    """

    PAD, START, END = 0, 1, 2
    SPECIALS = ("<pad>", "<s>", "</s>")

    def __init__(self, characters) -> None:
        chars = sorted(set(characters))
        if not chars or any(len(c) != 1 for c in chars):
            raise ValueError(f"expected a non-empty set of single characters, got {characters!r}")
        self.itos = list(self.SPECIALS) + chars
        self.stoi = {c: i for i, c in enumerate(self.itos) if i >= len(self.SPECIALS)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(
        self, strings, *, start: bool = False, end: bool = True, length: int | None = None
    ) -> torch.Tensor:
        """Ids of each string (after ``<s>`` if ``start``, then ``</s>`` if ``end``), padded."""
        if isinstance(strings, str):
            raise TypeError("encode takes a list of strings; wrap a single string in a list")
        rows = []
        for s in strings:
            try:
                ids = [self.stoi[c] for c in s]
            except KeyError:
                missing = sorted(set(s) - self.stoi.keys())
                raise ValueError(
                    f"characters {missing} of {s!r} are not in the vocabulary"
                ) from None
            rows.append([self.START] * start + ids + [self.END] * end)
        longest = max((len(r) for r in rows), default=0)
        length = longest if length is None else length
        if longest > length:
            raise ValueError(f"a string needs {longest} ids, more than length={length}")
        out = np.full((len(rows), length), self.PAD, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return torch.from_numpy(out)

    def decode(self, ids) -> list[str] | str:
        """Strings from ids: skips ``<s>`` and ``<pad>`` before the text, stops at ``</s>``."""
        ids = torch.as_tensor(ids)
        if ids.dim() == 1:
            return self.decode(ids[None])[0]
        if ids.dim() != 2:
            raise ValueError(f"ids must have shape (N, L) or (L,), got {tuple(ids.shape)}")
        out = []
        for row in ids.tolist():
            chars = []
            for i in row:
                if i == self.END or (i == self.PAD and chars):
                    break
                if not 0 <= i < len(self.itos):
                    raise ValueError(f"id {i} is outside the vocabulary of size {len(self)}")
                if i >= len(self.SPECIALS):
                    chars.append(self.itos[i])
            out.append("".join(chars))
        return out


def _longest(template: str) -> int:
    widths = {k: len(v) for k, v in _fields(_FIRST_DATE).items()}
    widths |= {"d": 2, "m": 2, "Month": max(map(len, _MONTHS)), "Weekday": max(map(len, _WEEKDAYS))}
    return sum(len(literal) + widths.get(key, 0) for literal, key in _parse(template))


#: One vocabulary for sources and targets: digits, punctuation, the names' letters.
DATE_VOCAB = CharVocab(
    "".join(literal for t in DATE_FORMATS for literal, _ in _parse(t))
    + "0123456789"
    + "".join(_MONTHS + _WEEKDAYS)
    + "".join(m[:3].upper() for m in _MONTHS)
)
#: Columns of ``DateSet.X``: the longest source plus its ``</s>``.
DATE_SOURCE_LENGTH = max(_longest(t) for t in DATE_FORMATS) + 1
#: Columns of ``DateSet.Y``: ``<s>``, "YYYY-MM-DD", ``</s>``.
DATE_TARGET_LENGTH = 12


@dataclasses.dataclass(frozen=True)
class DateSet:
    """Date pairs, as strings and as padded id tensors (:data:`DATE_VOCAB`).

    ``X[i]`` is the source's characters then ``</s>`` (no ``<s>``, so character
    ``j`` of the source is column ``j``); ``Y[i]`` is ``<s>``, the ISO date, ``</s>``,
    so ISO character ``j`` is column ``j + 1`` (teacher forcing feeds ``Y[:, :-1]``
    and predicts ``Y[:, 1:]``). ``spans[i, f]`` is the (start, end) of field
    :data:`DATE_FIELDS` ``[f]`` in the source; ``formats[i]`` indexes
    :data:`DATE_FORMATS`.

    Shapes
    ------
    X : (N, DATE_SOURCE_LENGTH) int64;  Y : (N, DATE_TARGET_LENGTH) int64;
    spans : (N, 3, 2) int64;  formats : (N,) int64.
    """

    sources: list[str]
    targets: list[str]
    dates: list[datetime.date]
    formats: torch.Tensor
    spans: torch.Tensor
    X: torch.Tensor
    Y: torch.Tensor

    def __len__(self) -> int:
        return len(self.sources)


def _date_set(dates: list[datetime.date], formats: np.ndarray) -> DateSet:
    sources, spans = [], []
    for date, f in zip(dates, formats, strict=True):
        s, sp = format_date(date, DATE_FORMATS[f])
        sources.append(s)
        spans.append([sp[name] for name in DATE_FIELDS])
    targets = [d.isoformat() for d in dates]
    return DateSet(
        sources=sources,
        targets=targets,
        dates=list(dates),
        formats=torch.as_tensor(formats, dtype=torch.int64),
        spans=torch.tensor(spans, dtype=torch.int64).view(len(dates), 3, 2),  # (N, 3, 2)
        X=DATE_VOCAB.encode(sources, length=DATE_SOURCE_LENGTH),  # (N, DATE_SOURCE_LENGTH)
        Y=DATE_VOCAB.encode(targets, start=True, length=DATE_TARGET_LENGTH),  # (N, 12)
    )


_NUM_DATES = (_LAST_DATE - _FIRST_DATE).days + 1
_NUM_TEST_DATES = 1000


@functools.lru_cache(maxsize=1)
def _test_day_numbers() -> np.ndarray:
    # A fixed draw (its own seed, never the caller's): the same test dates for everyone.
    days = np.random.default_rng(20261122).permutation(_NUM_DATES)[:_NUM_TEST_DATES]
    days.setflags(write=False)
    return days


def date_test_set() -> DateSet:
    """The fixed test set: 1,000 distinct dates that :func:`date_data` never draws.

    Every format appears equally often (up to one), in a fixed shuffled order.

    Shapes
    ------
    as :class:`DateSet`, N = 1000.

    Examples
    --------
    >>> test = date_test_set()
    >>> len(test), len(set(test.targets)), tuple(test.X.shape) == (1000, DATE_SOURCE_LENGTH)
    (1000, 1000, True)
    """
    days = _test_day_numbers()
    formats = np.random.default_rng(1).permutation(np.arange(len(days)) % len(DATE_FORMATS))
    dates = [_FIRST_DATE + datetime.timedelta(days=int(k)) for k in days]
    return _date_set(dates, formats)


def date_data(n: int, *, seed: int = 0) -> DateSet:
    """``n`` training pairs: dates drawn uniformly from 1950-2049 outside the test dates,
    each in a format drawn uniformly from :data:`DATE_FORMATS`.

    Shapes
    ------
    as :class:`DateSet`, N = n.

    Examples
    --------
    >>> train = date_data(3, seed=0)
    >>> train.sources[1], train.targets[1]
    ('Saturday, September 14, 2013', '2013-09-14')
    >>> DATE_VOCAB.decode(train.Y[:1]) == train.targets[:1] and len(train) == 3
    True
    >>> train.X.dtype, tuple(train.spans.shape)
    (torch.int64, (3, 3, 2))
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    allowed = np.setdiff1d(np.arange(_NUM_DATES), _test_day_numbers())  # sorted
    days = allowed[rng.integers(0, len(allowed), size=n)]
    formats = rng.integers(0, len(DATE_FORMATS), size=n)
    dates = [_FIRST_DATE + datetime.timedelta(days=int(k)) for k in days]
    return _date_set(dates, formats)
