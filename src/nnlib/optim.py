"""Gradient-based optimizers from scratch, with the interface and conventions of ``torch.optim``.

Every optimizer updates a list of PyTorch tensors in place from their ``.grad``,
exactly as ``torch.optim`` does (``zero_grad()``, then ``loss.backward()``, then
``step()``), so the same training loop runs with either library and the tests can
compare the two step by step. Tensors rather than NumPy arrays: autograd fills
``.grad`` for any ``nn.Module``'s parameters, and the comparison with
``torch.optim`` needs no conversion.

The methods, with the papers that introduced them:

- plain (stochastic) gradient descent, Robbins & Monro (1951);
- momentum, the "heavy ball" of Polyak (1964), and Nesterov's accelerated gradient
  (Nesterov 1983) in the form of Sutskever, Martens, Dahl & Hinton (2013);
- Adagrad, Duchi, Hazan & Singer (2011);
- Adadelta, Zeiler (2012);
- RMSprop, Tieleman & Hinton (2012, lecture 6.5 of their Coursera course);
- Adam, Kingma & Ba (2015);
- the learning-rate schedules step decay and cosine annealing (Loshchilov & Hutter 2017).

Where PyTorch's update differs from the paper (the momentum buffer of SGD, where
``eps`` sits in RMSprop and Adam, Adadelta's extra ``lr``), the code follows
PyTorch and the docstring says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adam",
    "StepLR",
    "CosineAnnealingLR",
    "OPTIMIZERS",
    "make_optimizer",
    "make_schedule",
]

#: The optimizers of the course by name: "GD" is SGD without momentum,
#: "Momentum" the heavy ball, "Nesterov" SGD with Nesterov momentum.
OPTIMIZERS: tuple[str, ...] = (
    "GD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adam",
)


def _check_nonneg(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0:  # also rejects NaN
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def _check_unit(**values: float) -> None:
    for name, value in values.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")


class Optimizer:
    """Base class: holds the parameters and the per-parameter state.

    A subclass implements :meth:`update`, the rule for one tensor. :meth:`step`
    adds the L2 term ``weight_decay * p`` to every gradient (as ``torch.optim``
    does) and skips tensors whose ``.grad`` is ``None``.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The tensors to optimize (e.g. ``model.parameters()``); updated in place.
    lr : float
        The learning rate; a schedule may change the attribute ``lr`` between steps.
    weight_decay : float
        L2 penalty coefficient, added to the gradient.

    Shapes
    ------
    Each parameter keeps its own shape; its state tensors have the same shape.

    Examples
    --------
    >>> p = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([p], lr=0.5)
    >>> (p**2).sum().backward()  # gradient 2p
    >>> opt.step()
    >>> p.tolist()
    [0.0, 0.0]
    """

    def __init__(self, params: Iterable[torch.Tensor], *, lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"parameter {i} must be a torch.Tensor, got {type(p).__name__}")
            if not p.is_floating_point():
                raise TypeError(f"parameter {i} must be floating point, got {p.dtype}")
        _check_nonneg(lr=lr, weight_decay=weight_decay)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients (set them to ``None``, as ``torch.optim`` does by default)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            if g.shape != p.shape:
                raise ValueError(f"gradient shape {tuple(g.shape)} != parameter {tuple(p.shape)}")
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            state["step"] = state.get("step", 0) + 1
            self.update(p, g, state)

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        """Change ``p`` in place, given its gradient ``g`` and its ``state`` dict."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and Nesterov momentum.

    With momentum ``beta`` (the argument ``momentum``) and dampening ``tau`` PyTorch
    keeps a buffer ``b``:

    .. math::

        b_1 = g_1, \\qquad b_t = \\beta\\, b_{t-1} + (1 - \\tau)\\, g_t,

    then steps ``p -= lr * b_t``, or with ``nesterov=True``
    ``p -= lr * (g_t + beta * b_t)``. Note the first buffer is the raw gradient, not
    ``(1 - tau) g_1``, and the learning rate multiplies the buffer instead of
    entering it (Polyak's ``v = beta v + lr g`` is the same when ``lr`` is constant).

    Shapes
    ------
    Parameters of any shape.

    Examples
    --------
    >>> p = torch.tensor([1.0], requires_grad=True)
    >>> opt = SGD([p], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (p**2).sum().backward()
    ...     opt.step()
    >>> round(p.item(), 4)  # 1 - 0.1*2 = 0.8, then 0.8 - 0.1*(0.9*2 + 1.6) = 0.46
    0.46
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr=lr, weight_decay=weight_decay)
        _check_nonneg(momentum=momentum, dampening=dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()
            else:
                buf = state["momentum_buffer"]
                buf.mul_(self.momentum).add_(g, alpha=1 - self.dampening)
            buf = state["momentum_buffer"]
            # Nesterov: look ahead along the buffer instead of stepping by it.
            g = g + self.momentum * buf if self.nesterov else buf
        p.add_(g, alpha=-self.lr)


class Adagrad(Optimizer):
    """Adagrad: divide by the root of the sum of all squared gradients so far.

    .. math::

        G_t = G_{t-1} + g_t^2, \\qquad
        p \\leftarrow p - \\frac{\\eta_t}{\\sqrt{G_t} + \\epsilon}\\, g_t, \\qquad
        \\eta_t = \\frac{\\mathrm{lr}}{1 + (t - 1)\\,\\mathrm{lr\\_decay}},

    element by element, with ``G_0 = initial_accumulator_value``. PyTorch adds
    ``eps`` *outside* the square root.

    Shapes
    ------
    Parameters of any shape; the accumulator ``G`` has the parameter's shape.

    Examples
    --------
    >>> p = torch.tensor([3.0, -0.01], requires_grad=True)
    >>> opt = Adagrad([p], lr=0.1)
    >>> (p**2).sum().backward()
    >>> opt.step()  # the first step moves every coordinate by lr, whatever its gradient
    >>> [round(v, 4) for v in p.tolist()]
    [2.9, 0.09]
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr=lr, weight_decay=weight_decay)
        _check_nonneg(
            lr_decay=lr_decay, initial_accumulator_value=initial_accumulator_value, eps=eps
        )
        self.lr_decay, self.eps = float(lr_decay), float(eps)
        self.initial_accumulator_value = float(initial_accumulator_value)

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        if "sum" not in state:
            state["sum"] = torch.full_like(p, self.initial_accumulator_value)
        state["sum"].addcmul_(g, g)
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        p.addcdiv_(g, state["sum"].sqrt() + self.eps, value=-clr)


class Adadelta(Optimizer):
    """Adadelta: Adagrad's denominator made a moving average, and units fixed by a second one.

    With ``rho`` the decay of both averages:

    .. math::

        s_t = \\rho s_{t-1} + (1-\\rho) g_t^2, \\qquad
        \\Delta_t = \\frac{\\sqrt{u_{t-1} + \\epsilon}}{\\sqrt{s_t + \\epsilon}}\\, g_t, \\qquad
        u_t = \\rho u_{t-1} + (1-\\rho) \\Delta_t^2, \\qquad
        p \\leftarrow p - \\mathrm{lr}\\, \\Delta_t.

    Zeiler's paper has no learning rate (``lr = 1``, PyTorch's default); ``eps``
    sits *inside* both square roots.

    Shapes
    ------
    Parameters of any shape; ``s`` and ``u`` have the parameter's shape.

    Examples
    --------
    >>> p = torch.tensor([1.0], requires_grad=True)
    >>> opt = Adadelta([p])
    >>> (p**2).sum().backward()
    >>> opt.step()  # the first step is about sqrt(eps / (1 - rho)) = 0.0032: Adadelta starts slowly
    >>> round(1 - p.item(), 4)
    0.0032
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr=lr, weight_decay=weight_decay)
        _check_unit(rho=rho)
        _check_nonneg(eps=eps)
        self.rho, self.eps = float(rho), float(eps)

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
            state["acc_delta"] = torch.zeros_like(p)
        s, u, rho = state["square_avg"], state["acc_delta"], self.rho
        s.mul_(rho).addcmul_(g, g, value=1 - rho)
        delta = (u + self.eps).sqrt() / (s + self.eps).sqrt() * g
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-self.lr)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a moving root-mean-square of recent gradients.

    .. math::

        s_t = \\rho\\, s_{t-1} + (1-\\rho)\\, g_t^2, \\qquad
        p \\leftarrow p - \\mathrm{lr}\\, \\frac{g_t}{\\sqrt{s_t} + \\epsilon}.

    The decay rate ``rho`` is PyTorch's argument ``alpha``, kept under that name so
    that the two classes take the same arguments. PyTorch adds ``eps`` *outside* the
    root. With ``centered=True`` the mean gradient ``m_t`` is also tracked and
    ``s_t - m_t^2`` (a variance) replaces ``s_t``; with ``momentum > 0`` the ratio feeds a buffer
    ``b_t = momentum * b_{t-1} + g_t / (sqrt(s_t) + eps)`` and ``p -= lr * b_t``.

    Shapes
    ------
    Parameters of any shape; every state tensor has the parameter's shape.

    Examples
    --------
    >>> p = torch.tensor([5.0], requires_grad=True)
    >>> opt = RMSprop([p], lr=0.01, alpha=0.99)
    >>> (p**2).sum().backward()
    >>> opt.step()  # g / sqrt(0.01 g^2) = 10: the first step is lr / sqrt(1 - rho)
    >>> round(5.0 - p.item(), 6)
    0.1
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr=lr, weight_decay=weight_decay)
        _check_unit(alpha=alpha)
        _check_nonneg(eps=eps, momentum=momentum)
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)
        self.centered = centered

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
            if self.centered:
                state["grad_avg"] = torch.zeros_like(p)
            if self.momentum > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
        s, a = state["square_avg"], self.alpha
        s.mul_(a).addcmul_(g, g, value=1 - a)
        if self.centered:
            m = state["grad_avg"]
            m.mul_(a).add_(g, alpha=1 - a)
            denom = (s - m * m).sqrt() + self.eps
        else:
            denom = s.sqrt() + self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(self.momentum).addcdiv_(g, denom)
            p.add_(buf, alpha=-self.lr)
        else:
            p.addcdiv_(g, denom, value=-self.lr)


class Adam(Optimizer):
    """Adam: momentum on the gradient and RMSprop's scaling, both bias-corrected.

    .. math::

        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\quad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2, \\quad
        p \\leftarrow p - \\frac{\\mathrm{lr}}{1-\\beta_1^t}\\,
        \\frac{m_t}{\\sqrt{v_t}/\\sqrt{1-\\beta_2^t} + \\epsilon}.

    This is PyTorch's placement of ``eps``: added after the bias correction of
    ``v``, as in the paper. ``weight_decay`` adds ``weight_decay * p`` to the
    gradient (L2, not AdamW's decoupled decay). ``amsgrad=True`` divides by the
    running maximum of ``v_t`` instead (Reddi, Kale & Kumar 2018).

    Shapes
    ------
    Parameters of any shape; ``m`` and ``v`` have the parameter's shape.

    Examples
    --------
    >>> p = torch.tensor([5.0, -0.001], requires_grad=True)
    >>> opt = Adam([p], lr=0.1)
    >>> (p**2).sum().backward()
    >>> opt.step()  # bias correction makes the first step lr * sign(g), whatever |g|
    >>> [round(v, 4) for v in p.tolist()]
    [4.9, 0.099]
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr=lr, weight_decay=weight_decay)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check_unit(beta1=betas[0], beta2=betas[1])
        _check_nonneg(eps=eps)
        self.betas, self.eps, self.amsgrad = (float(betas[0]), float(betas[1])), float(eps), amsgrad

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any]) -> None:
        if "exp_avg" not in state:
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        (b1, b2), t = self.betas, state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        if self.amsgrad:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        # Both averages start at 0, so early on they underestimate g and g^2 by the
        # factors 1 - beta^t; dividing by those factors removes the bias.
        denom = v.sqrt() / math.sqrt(1 - b2**t) + self.eps
        p.addcdiv_(m, denom, value=-self.lr / (1 - b1**t))


class _Schedule:
    """Base class of learning-rate schedules: ``step()`` once per epoch, after training."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected an nnlib.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement lr_at()")

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The learning rate now in use, as a one-element list (like PyTorch's)."""
        return [self.optimizer.lr]


class StepLR(_Schedule):
    """Step decay: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(e) = base_lr * gamma ** (e // step_size)``, as ``torch.optim.lr_scheduler.StepLR``.

    Shapes
    ------
    Scalars only.

    Examples
    --------
    >>> opt = SGD([torch.zeros(1)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, *, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if int(step_size) < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size!r}")
        _check_nonneg(gamma=gamma)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    .. math::

        \\eta_e = \\eta_{\\min} + \\tfrac12(\\eta_{\\max} - \\eta_{\\min})
        \\left(1 + \\cos\\frac{\\pi e}{T_{\\max}}\\right),

    the closed form of ``torch.optim.lr_scheduler.CosineAnnealingLR`` (Loshchilov &
    Hutter 2017, without their warm restarts). Past ``T_max`` the cosine rises again.

    Shapes
    ------
    Scalars only.

    Examples
    --------
    >>> opt = SGD([torch.zeros(1)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, *, T_max: int, eta_min: float = 0.0):  # noqa: N803 (PyTorch's name)
        super().__init__(optimizer)
        if int(T_max) < 1:
            raise ValueError(f"T_max must be >= 1, got {T_max!r}")
        _check_nonneg(eta_min=eta_min)
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def lr_at(self, epoch: int) -> float:
        cos = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cos / 2


def make_optimizer(
    name: str, params: Iterable[torch.Tensor], *, lr: float, momentum: float = 0.9
) -> Optimizer:
    """The optimizer called ``name`` (one of :data:`OPTIMIZERS`).

    ``momentum`` is the momentum of ``"Momentum"`` and ``"Nesterov"`` and Adam's
    ``beta1``; the other optimizers ignore it. ``"GD"`` is SGD without momentum.

    Shapes
    ------
    Parameters of any shape.

    Examples
    --------
    >>> type(make_optimizer("Nesterov", [torch.zeros(2)], lr=0.1)).__name__
    'SGD'
    """
    if name == "GD":
        return SGD(params, lr=lr)
    if name == "Momentum":
        return SGD(params, lr=lr, momentum=momentum)
    if name == "Nesterov":
        # With momentum 0 the look-ahead vanishes: Nesterov is plain GD (which
        # PyTorch, and nnlib.optim with it, refuse to call Nesterov).
        return SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if name == "Adagrad":
        return Adagrad(params, lr=lr)
    if name == "Adadelta":
        return Adadelta(params, lr=lr)
    if name == "RMSprop":
        return RMSprop(params, lr=lr)
    if name == "Adam":
        return Adam(params, lr=lr, betas=(momentum, 0.999))
    raise ValueError(f"unknown optimizer {name!r}; expected one of {list(OPTIMIZERS)}")


def make_schedule(
    schedule: str | None, opt: Optimizer, *, length: int, halvings: int
) -> StepLR | CosineAnnealingLR | None:
    """The schedule called ``schedule`` over ``length`` calls of ``step()``.

    ``"step"`` halves the rate every ``length // halvings`` steps (at least 1),
    ``"cosine"`` anneals it to 0 over ``length`` steps; ``None`` keeps it constant.

    Examples
    --------
    >>> opt = SGD([torch.zeros(1)], lr=1.0)
    >>> sched = make_schedule("step", opt, length=6, halvings=3)
    >>> for _ in range(4):
    ...     sched.step()
    >>> opt.lr
    0.25
    """
    if schedule == "step":
        return StepLR(opt, step_size=max(1, length // halvings), gamma=0.5)
    if schedule == "cosine":
        return CosineAnnealingLR(opt, T_max=length)
    if schedule is None:
        return None
    raise ValueError(f"schedule must be None, 'step' or 'cosine', got {schedule!r}")
