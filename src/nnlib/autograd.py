"""A small reverse-mode automatic differentiation engine on NumPy arrays.

Every operation on a :class:`Tensor` records a node of a *computational graph*:
its value, its parents and a *vector-Jacobian product* (VJP) that maps the
gradient of a scalar loss with respect to the node's output, ``g = dl/dy``, to the
gradients with respect to its inputs, ``J^T g``. :meth:`Tensor.backward` visits the
nodes in reverse topological order and applies each VJP once, so every partial
derivative is computed once and reused by all paths through the node. This is
reverse-mode automatic differentiation (Linnainmaa 1970; Griewank & Walther
2008); applied to neural networks it is backpropagation (Rumelhart, Hinton &
Williams 1986), and it is the design of ``torch.autograd`` (Paszke et al. 2017).

Values are float64 NumPy arrays rather than Python scalars: one node then holds a
whole layer, an MLP trains on hundreds of points in a fraction of a second, and
VJPs are written with the same matrix algebra as the maths. float64 keeps the
gradient checks against ``torch.autograd`` and finite differences sharp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Tensor", "topological_order", "binary_cross_entropy_with_logits", "cross_entropy"]

VJP = Callable[[np.ndarray], Sequence[np.ndarray]]


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    while grad.ndim > len(shape):  # leading axes that broadcasting prepended
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:  # an axis of length 1 that was stretched
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A float64 array that remembers how it was computed, for reverse-mode autodiff.

    Parameters
    ----------
    data : array_like
        The value; stored as a float64 copy.
    requires_grad : bool
        Whether :meth:`backward` should compute ``dl/d(this tensor)`` (as in PyTorch,
        results of operations require a gradient when any input does).
    name : str
        A label for drawings of the graph.

    Attributes
    ----------
    data : np.ndarray
        The value.
    grad : np.ndarray or None
        The gradient of the output that :meth:`backward` was called on, same shape
        as ``data``; ``None`` until a backward pass reaches this tensor.
    op : str
        The operation that produced the tensor (``""`` for a leaf).
    parents : tuple of Tensor
        The inputs of that operation.

    Shapes
    ------
    Any shape; operations broadcast like NumPy and gradients have the shape of ``data``.

    Examples
    --------
    >>> w = Tensor(3.0, requires_grad=True)
    >>> x = Tensor(2.0)
    >>> y = (w * x).tanh()
    >>> y.backward()
    >>> round(float(w.grad), 6)  # dy/dw = (1 - tanh(6)^2) * 2
    4.9e-05
    """

    __array_ufunc__ = None  # `ndarray * Tensor` then calls Tensor.__rmul__, not NumPy

    def __init__(self, data, *, requires_grad: bool = False, name: str = "") -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) got a Tensor; use t.detach() for a copy of its value")
        array = np.asarray(data)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise TypeError(f"Tensor data must be numeric, got dtype {array.dtype}")
        self.data: np.ndarray = array.astype(np.float64)  # always a copy
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self.name = name
        self.op = ""
        self.parents: tuple[Tensor, ...] = ()
        self._vjp: VJP | None = None

    # -- bookkeeping ---------------------------------------------------------------
    @staticmethod
    def _node(data: np.ndarray, parents: tuple[Tensor, ...], op: str, vjp: VJP) -> Tensor:
        """The result of an operation: its value, its inputs and its VJP."""
        out = Tensor(data)
        out.parents, out.op, out._vjp = parents, op, vjp
        out.requires_grad = any(p.requires_grad for p in parents)
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def item(self) -> float:
        return float(self.data.item())

    def numpy(self) -> np.ndarray:
        return self.data.copy()

    def detach(self) -> Tensor:
        """A new leaf with the same value and no history."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        label = f", name={self.name!r}" if self.name else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Tensor({np.array2string(self.data, precision=4)}{op}{label})"

    # -- elementwise arithmetic (broadcasting; _unbroadcast undoes it in backward) -------
    def __add__(self, other) -> Tensor:
        other = _as_tensor(other)
        return Tensor._node(self.data + other.data, (self, other), "+", lambda g: (g, g))

    def __sub__(self, other) -> Tensor:
        other = _as_tensor(other)
        return Tensor._node(self.data - other.data, (self, other), "-", lambda g: (g, -g))

    def __mul__(self, other) -> Tensor:
        other = _as_tensor(other)
        a, b = self.data, other.data
        return Tensor._node(a * b, (self, other), "*", lambda g: (g * b, g * a))

    def __truediv__(self, other) -> Tensor:
        other = _as_tensor(other)
        a, b = self.data, other.data
        return Tensor._node(a / b, (self, other), "/", lambda g: (g / b, -g * a / b**2))

    def __pow__(self, k: float) -> Tensor:
        if isinstance(k, Tensor) or not np.isscalar(k):
            raise TypeError(f"only a constant number is supported as exponent, got {type(k)}")
        a = self.data
        return Tensor._node(a**k, (self,), f"**{k:g}", lambda g: (g * k * a ** (k - 1),))

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __radd__(self, other) -> Tensor:
        return _as_tensor(other) + self

    def __rsub__(self, other) -> Tensor:
        return _as_tensor(other) - self

    def __rmul__(self, other) -> Tensor:
        return _as_tensor(other) * self

    def __rtruediv__(self, other) -> Tensor:
        return _as_tensor(other) / self

    # -- matrix product and reductions ----------------------------------------------
    def __matmul__(self, other) -> Tensor:
        other = _as_tensor(other)
        A, B = self.data, other.data
        if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
            raise ValueError(f"matmul needs (n, k) @ (k, m) matrices, got {A.shape} @ {B.shape}")
        # y = A B: dl/dA = g B^T (n, m)(m, k) and dl/dB = A^T g (k, n)(n, m).
        return Tensor._node(A @ B, (self, other), "@", lambda g: (g @ B.T, A.T @ g))

    def __rmatmul__(self, other) -> Tensor:
        return _as_tensor(other) @ self

    def sum(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Sum over one axis ``dim`` or over all (``None``); names as in ``torch.sum``."""
        shape = self.shape

        def vjp(g: np.ndarray) -> tuple[np.ndarray]:
            if dim is not None and not keepdim:
                g = np.expand_dims(g, dim)  # put the summed axis back, with length 1
            return (np.broadcast_to(g, shape),)  # every input entry gets the same gradient

        out = self.data.sum(axis=dim, keepdims=keepdim)
        return Tensor._node(np.asarray(out), (self,), "sum", vjp)

    def mean(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        n = self.data.size if dim is None else self.shape[dim]
        return self.sum(dim, keepdim) / n

    @property
    def T(self) -> Tensor:
        if self.ndim != 2:
            raise ValueError(f".T needs a matrix, got shape {self.shape}")
        return Tensor._node(self.data.T, (self,), "T", lambda g: (g.T,))

    def reshape(self, *shape: int) -> Tensor:
        old = self.shape
        return Tensor._node(
            self.data.reshape(*shape), (self,), "reshape", lambda g: (g.reshape(old),)
        )

    # -- elementwise functions: each VJP multiplies g by the derivative f'(a) ------------
    def exp(self) -> Tensor:
        y = np.exp(self.data)
        return Tensor._node(y, (self,), "exp", lambda g: (g * y,))

    def log(self) -> Tensor:
        a = self.data
        return Tensor._node(np.log(a), (self,), "log", lambda g: (g / a,))

    def tanh(self) -> Tensor:
        y = np.tanh(self.data)
        return Tensor._node(y, (self,), "tanh", lambda g: (g * (1.0 - y**2),))

    def sigmoid(self) -> Tensor:
        y = 0.5 * (1.0 + np.tanh(0.5 * self.data))  # = 1 / (1 + e^-a), without overflow
        return Tensor._node(y, (self,), "sigmoid", lambda g: (g * y * (1.0 - y),))

    def relu(self) -> Tensor:
        a = self.data
        # The derivative at exactly 0 is taken as 0, the same convention as PyTorch.
        return Tensor._node(np.maximum(a, 0.0), (self,), "relu", lambda g: (g * (a > 0),))

    def softplus(self) -> Tensor:
        """``log(1 + e^a)``, computed without overflow; its derivative is ``sigmoid(a)``."""
        a = self.data
        s = 0.5 * (1.0 + np.tanh(0.5 * a))
        return Tensor._node(np.logaddexp(0.0, a), (self,), "softplus", lambda g: (g * s,))

    def log_softmax(self, dim: int = -1) -> Tensor:
        """The log-probabilities ``z - log(sum_k e^{z_k})`` of a softmax along ``dim``.

        One node rather than ``exp``, ``sum`` and ``log``: subtracting the maximum
        first keeps every exponential below 1, so large logits cannot overflow.

        Shapes
        ------
        Any shape; the softmax runs along ``dim`` and the output has the input's shape.

        Examples
        --------
        >>> z = Tensor([[0.0, 0.0], [1000.0, 0.0]])
        >>> np.round(np.exp(z.log_softmax(dim=1).data), 4).tolist()
        [[0.5, 0.5], [1.0, 0.0]]
        """
        z = self.data
        shifted = z - z.max(axis=dim, keepdims=True)  # softmax ignores a common shift
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        p = np.exp(y)  # the softmax itself
        # d y_j / d z_k = [j = k] - p_k, so (J^T g)_k = g_k - p_k * sum_j g_j.
        return Tensor._node(
            y, (self,), "log_softmax", lambda g: (g - p * g.sum(axis=dim, keepdims=True),)
        )

    # -- the backward pass ----------------------------------------------------------
    def vjp(self, grad) -> tuple[np.ndarray, ...]:
        """What this operation passes back: ``J^T grad`` for each parent, unbroadcast.

        Shapes
        ------
        grad : same shape as ``self.data``;  returns one array per parent, of its shape.

        Examples
        --------
        >>> A, B = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))
        >>> [g.shape for g in (A @ B).vjp(np.ones((2, 4)))]
        [(2, 3), (3, 4)]
        """
        if self._vjp is None:
            raise ValueError("a leaf tensor has no vector-Jacobian product")
        grads = self._vjp(np.asarray(grad, dtype=np.float64))
        return tuple(
            _unbroadcast(np.asarray(g), p.shape) for p, g in zip(self.parents, grads, strict=True)
        )

    def backward(self, grad=None, *, steps: int | None = None) -> None:
        """Fill ``.grad`` of every tensor this one depends on and that requires a gradient.

        Parameters
        ----------
        grad : array_like, optional
            The vector ``v`` of the vector-Jacobian product, ``dl/d(self)``; may be
            omitted for a scalar (then ``v = 1``, as in PyTorch).
        steps : int, optional
            Apply only the first ``steps`` VJPs (a look inside the pass, used by the
            step-through figure); all of them by default.

        Leaves *accumulate* their gradient across calls, as in PyTorch: call
        :meth:`zero_grad` on the parameters before each training step.

        Shapes
        ------
        grad : same shape as ``self.data``.

        Examples
        --------
        >>> a = Tensor([1.0, 2.0], requires_grad=True)
        >>> (a * a).sum().backward()
        >>> a.grad.tolist()
        [2.0, 4.0]
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require a gradient")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without grad needs a single-element output, got {self.shape}"
                )
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.shape:
            raise ValueError(f"grad has shape {grad.shape}, expected {self.shape}")
        order = topological_order(self)
        for node in order:
            if node.parents:  # intermediate results start from zero in every pass
                node.grad = np.zeros_like(node.data)
            elif node.requires_grad and node.grad is None:
                node.grad = np.zeros_like(node.data)
        self.grad = self.grad + grad
        ops = [n for n in reversed(order) if n.parents and n.requires_grad]
        # Reverse topological order: a node's gradient is complete (all paths through
        # it summed) before its VJP passes it on to its parents.
        for node in ops[:steps]:
            for parent, g in zip(node.parents, node.vjp(node.grad), strict=True):
                if parent.requires_grad:
                    parent.grad = parent.grad + g


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on, each after all of its parents (``root`` last).

    Examples
    --------
    >>> x = Tensor(1.0, name="x")
    >>> y = (x * 2.0).exp()
    >>> [t.op or t.name for t in topological_order(y)]
    ['x', '', '*', 'exp']
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    # An explicit stack instead of recursion: deep graphs would hit Python's limit.
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents))
    return order


def binary_cross_entropy_with_logits(logits: Tensor, y) -> Tensor:
    """Mean binary cross-entropy of labels ``y`` in {0, 1} given logits ``z``.

    ``-[y log s(z) + (1 - y) log(1 - s(z))] = softplus(z) - y z`` with ``s`` the
    sigmoid; the right-hand side never takes the log of 0. Same value as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Shapes
    ------
    logits : (N,) or (N, 1);  y : (N,);  returns a scalar.

    Examples
    --------
    >>> round(binary_cross_entropy_with_logits(Tensor([0.0, 0.0]), [0, 1]).item(), 4)
    0.6931
    """
    y = np.asarray(y, dtype=np.float64)
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits.reshape(-1)  # (N,)
    if logits.shape != y.shape:
        raise ValueError(
            f"expected logits (N,) or (N, 1) and y (N,), got {logits.shape}, {y.shape}"
        )
    return (logits.softplus() - logits * y).mean()


def cross_entropy(logits: Tensor, y) -> Tensor:
    """Mean cross-entropy ``-log softmax(z_i)[y_i]`` of integer labels given logits.

    The negative log-likelihood of the labels under the softmax's class
    probabilities; its gradient with respect to the logits is ``(P - Y) / N``
    (softmax minus one-hot labels). Same value as ``torch.nn.functional.cross_entropy``.

    Shapes
    ------
    logits : (N, K);  y : (N,) integers in ``0 .. K-1``;  returns a scalar.

    Examples
    --------
    >>> round(cross_entropy(Tensor(np.zeros((2, 10))), [3, 7]).item(), 4)  # ln 10
    2.3026
    """
    y = np.asarray(y)
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, K) and y (N,), got {logits.shape}, {y.shape}")
    N, K = logits.shape
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= K:
        raise ValueError(f"labels must be integers in 0..{K - 1}")
    Y = np.eye(K)[y]  # (N, K) one-hot: picks the log-probability of each true class
    return -(logits.log_softmax(dim=1) * Y).sum() / N
