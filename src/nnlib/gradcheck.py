"""Gradient checking: central finite differences and random expressions.

Two independent references check the gradients of :mod:`nnlib.autograd`: the
central difference ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, whose error is
of order ``eps**2`` (plus rounding of order ``1e-16 / eps``), and ``torch.autograd``
itself (Paszke et al. 2017). A *random expression* is a small random program of
operations that both the engine's :class:`~nnlib.autograd.Tensor` and
``torch.Tensor`` understand, so the same program runs on either and their
gradients can be compared (the idea of Baydin et al. 2018's survey made concrete).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nnlib.autograd import Tensor

__all__ = [
    "numerical_gradient",
    "RandomExpression",
    "random_expression",
    "engine_gradients",
    "torch_gradients",
    "finite_difference_gradients",
]

#: Shapes of the inputs of a random expression; the first three broadcast to (3, 4).
INPUT_SHAPES: tuple[tuple[int, ...], ...] = ((3, 4), (4,), (3, 1), (4, 4))
_UNARY = ("exp", "tanh", "sigmoid", "relu", "log", "square", "sum0", "mean1", "matmul")
# Division is by 1 + b^2, so that no denominator comes near zero.
_BINARY_FNS: dict[str, Callable] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / (b * b + 1.0),
}
_BINARY = tuple(_BINARY_FNS)


def numerical_gradient(
    f: Callable[[Sequence[np.ndarray]], float], arrays: Sequence[np.ndarray], eps: float = 1e-6
) -> list[np.ndarray]:
    """Central finite-difference gradient of ``f`` with respect to every entry of ``arrays``.

    ``f`` takes the list of arrays and returns a number; it is called
    ``2 * total size`` times. Use float64 arrays: in float32 the rounding error
    ``1e-7 / eps`` swamps the result.

    Shapes
    ------
    Returns one array per input, of the input's shape.

    Examples
    --------
    >>> g = numerical_gradient(lambda a: float((a[0] ** 2).sum()), [np.array([1.0, -2.0])])
    >>> np.round(g[0], 6).tolist()
    [2.0, -4.0]
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            f_plus = f(arrays)
            a[i] = old - eps
            f_minus = f(arrays)
            a[i] = old
            g[i] = (f_plus - f_minus) / (2 * eps)
        grads.append(g)
    return grads


@dataclass(frozen=True)
class RandomExpression:
    """A random program over the inputs; runs on engine tensors or torch tensors alike.

    Each instruction ``(op, i, j)`` applies ``op`` to the values number ``i`` (and
    ``j`` for binary operations) and appends the result. Values 0 to 3 are the
    inputs; value 3, a (4, 4) matrix, only enters as the right factor of ``@``.
    The output is ``(v * last value).sum()`` with a fixed random ``v``, a scalar
    whose gradient exercises the full vector-Jacobian product.

    Shapes
    ------
    inputs : shapes :data:`INPUT_SHAPES`;  every other value broadcasts to (3, 4).

    Examples
    --------
    >>> expr = random_expression(0, n_ops=3)
    >>> len(expr.program)
    3
    >>> x = [Tensor(a) for a in expr.inputs]
    >>> expr(x).shape
    ()
    """

    program: tuple[tuple[str, int, int], ...]
    inputs: tuple[np.ndarray, ...]
    v: np.ndarray

    def __call__(self, inputs: Sequence):
        values = list(inputs)
        for op, i, j in self.program:
            a, b = values[i], values[j]
            if op in _BINARY:
                out = _BINARY_FNS[op](a, b)
            elif op == "log":
                out = (a * a + 1.0).log()  # a positive argument
            elif op == "square":
                out = a**2
            elif op == "sum0":
                out = a.sum(0, keepdim=True)  # (1, 4), (1,) or (1, 1)
            elif op == "mean1":
                out = a.mean(-1, keepdim=True)  # (3, 1), (1,) or ...
            elif op == "matmul":
                out = a @ values[3]  # (3, 4) @ (4, 4) -> (3, 4)
            else:
                out = getattr(a, op)()
            values.append(out)
        v = self.v if isinstance(values[-1], Tensor) else torch.from_numpy(self.v)
        return (v * values[-1]).sum()


def random_expression(seed: int, n_ops: int = 6) -> RandomExpression:
    """Draw a random expression of ``n_ops`` operations and inputs from N(0, 1).

    Examples
    --------
    >>> random_expression(1).program == random_expression(1).program
    True
    """
    if n_ops < 1:
        raise ValueError(f"n_ops must be >= 1, got {n_ops}")
    rng = np.random.default_rng(seed)
    inputs = tuple(rng.standard_normal(s) for s in INPUT_SHAPES)
    shapes = list(INPUT_SHAPES)
    program = []
    for _ in range(n_ops):
        op = str(rng.choice(_UNARY + _BINARY))
        i, j = _pick(rng, len(shapes)), _pick(rng, len(shapes))
        if op in _BINARY and j == i:  # a - a or a / (a^2 + 1) would be a dull special case
            j = _pick(rng, i) if i > 0 else 1
        if op == "matmul":
            candidates = [k for k, s in enumerate(shapes) if k != 3 and len(s) == 2 and s[1] == 4]
            i = candidates[-1]
        shape = _result_shape(op, shapes[i], shapes[j])
        shapes.append(shape)
        program.append((op, i, j))
    v = np.asarray(rng.standard_normal(shapes[-1]))
    return RandomExpression(tuple(program), inputs, v)


def _pick(rng: np.random.Generator, n: int) -> int:
    # Prefer recent values, so that the expression is deep rather than a flat sum.
    # Value 3, the (4, 4) matrix, is only ever the right factor of a matmul.
    usable = [k for k in range(n) if k != 3]
    return usable[max(0, len(usable) - int(rng.geometric(0.5)))]


def _result_shape(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if op in _BINARY:
        return np.broadcast_shapes(a, b)
    if op == "sum0":
        return (1, *a[1:]) if a else a
    if op == "mean1":
        return (*a[:-1], 1) if a else a
    if op == "matmul":
        return (a[0], 4)
    return a


def engine_gradients(expr: RandomExpression) -> tuple[float, list[np.ndarray]]:
    """Value and input gradients of ``expr`` with :mod:`nnlib.autograd`.

    Examples
    --------
    >>> value, grads = engine_gradients(random_expression(0))
    >>> [g.shape for g in grads]
    [(3, 4), (4,), (3, 1), (4, 4)]
    """
    x = [Tensor(a, requires_grad=True) for a in expr.inputs]
    out = expr(x)
    out.backward()
    return out.item(), [t.grad if t.grad is not None else np.zeros(t.shape) for t in x]


def torch_gradients(expr: RandomExpression) -> tuple[float, list[np.ndarray]]:
    """Value and input gradients of ``expr`` with ``torch.autograd`` in float64.

    Examples
    --------
    >>> v_torch, _ = torch_gradients(random_expression(0))
    >>> v_engine, _ = engine_gradients(random_expression(0))
    >>> abs(v_torch - v_engine) < 1e-12
    True
    """
    x = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in expr.inputs]
    out = expr(x)
    grads = torch.autograd.grad(out, x, allow_unused=True)
    return out.item(), [
        g.numpy() if g is not None else np.zeros(t.shape) for g, t in zip(grads, x, strict=True)
    ]


def finite_difference_gradients(expr: RandomExpression, eps: float = 1e-6) -> list[np.ndarray]:
    """Input gradients of ``expr`` by central finite differences (engine forward passes only).

    Examples
    --------
    >>> expr = random_expression(0)
    >>> g_fd = finite_difference_gradients(expr)
    >>> bool(np.allclose(g_fd[0], engine_gradients(expr)[1][0], atol=1e-6))
    True
    """
    return numerical_gradient(
        lambda arrays: expr([Tensor(a) for a in arrays]).item(), expr.inputs, eps
    )
