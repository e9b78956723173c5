import math

import pytest
import torch

from nnlib import optim
from nnlib.mlp import MLP, MLPConfig

# (our class, torch's class, keyword arguments shared by both)
CONFIGS = [
    ("gd", optim.SGD, torch.optim.SGD, {"lr": 0.05}),
    ("momentum", optim.SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.9}),
    ("dampening", optim.SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.8, "dampening": 0.3}),
    ("nesterov", optim.SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    ("sgd_wd", optim.SGD, torch.optim.SGD, {"lr": 0.03, "momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1}),
    (
        "adagrad_decay",
        optim.Adagrad,
        torch.optim.Adagrad,
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5, "eps": 1e-3},
    ),
    ("adadelta", optim.Adadelta, torch.optim.Adadelta, {}),
    ("adadelta_lr", optim.Adadelta, torch.optim.Adadelta, {"lr": 0.5, "rho": 0.7, "eps": 1e-4}),
    ("rmsprop", optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}),
    ("rmsprop_eps", optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 0.1}),
    (
        "rmsprop_centered_momentum",
        optim.RMSprop,
        torch.optim.RMSprop,
        {"lr": 0.003, "momentum": 0.7, "centered": True, "weight_decay": 0.01},
    ),
    ("adam", optim.Adam, torch.optim.Adam, {"lr": 0.01}),
    ("adam_eps", optim.Adam, torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.9), "eps": 0.1}),
    ("amsgrad", optim.Adam, torch.optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
]


def _problem(seed=0):
    """Three float64 tensors of different shapes and a non-quadratic loss of them."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    init = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    A = torch.randn(3, 4, generator=g, dtype=torch.float64)

    def loss(ps):
        W, b, T = ps
        h = torch.tanh(A @ W + b)  # (3, 3)
        return (h**2).sum() + 0.1 * (W**4).sum() + torch.sin(T).sum() + 0.5 * (T**2).sum()

    return init, loss


@pytest.mark.parametrize(
    ("name", "ours_cls", "torch_cls", "kw"), CONFIGS, ids=[c[0] for c in CONFIGS]
)
def test_matches_torch_optim_every_step_for_100_steps(name, ours_cls, torch_cls, kw):
    init, loss = _problem()
    ours = [p.clone().requires_grad_() for p in init]
    theirs = [p.clone().requires_grad_() for p in init]
    opt_a, opt_b = ours_cls(ours, **kw), torch_cls(theirs, **kw)
    worst = 0.0
    for _ in range(100):
        for opt, ps in ((opt_a, ours), (opt_b, theirs)):
            opt.zero_grad()
            loss(ps).backward()
            opt.step()
        worst = max(
            worst, max((a - b).abs().max().item() for a, b in zip(ours, theirs, strict=True))
        )
        assert worst < 1e-6, f"{name}: differs from torch.optim by {worst}"
    moved = max((a - p0).abs().max().item() for a, p0 in zip(ours, init, strict=True))
    assert moved > 1e-3, f"{name}: parameters barely moved, the test would be vacuous"
    assert worst < 1e-10  # in float64 the two agree to rounding


def test_sgd_on_a_quadratic_follows_the_closed_form():
    # GD on f = lam/2 x^2 gives x_k = (1 - lr lam)^k x_0, with no reference library.
    lam, lr = 3.0, 0.1
    x = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([x], lr=lr)
    for _ in range(20):
        opt.zero_grad()
        (0.5 * lam * x**2).sum().backward()
        opt.step()
    assert math.isclose(x.item(), 2.0 * (1 - lr * lam) ** 20, rel_tol=1e-12)


def test_float32_mlp_training_matches_torch():
    X = torch.randn(32, 5, generator=torch.Generator().manual_seed(1))
    y = (X[:, 0] > 0).long()
    models = [MLP(MLPConfig(in_features=5, hidden=[8], out_features=2), seed=0) for _ in range(2)]
    opts = [
        optim.Adam(models[0].parameters(), lr=0.01),
        torch.optim.Adam(models[1].parameters(), lr=0.01),
    ]
    for _ in range(30):
        for model, opt in zip(models, opts, strict=True):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
    for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-5)


def test_parameters_without_gradient_are_left_alone():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(3)) and "step" not in opt.state[1]
    assert torch.all(a < 1)
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "lr"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "beta2"),
        (lambda p: optim.Adam(p, betas=(0.9,)), "betas"),
        (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: optim.Adadelta(p, rho=-0.1), "rho"),
        (lambda p: optim.Adagrad(p, eps=float("nan")), "eps"),
        (lambda p: optim.SGD([], lr=0.1), "empty"),
    ],
)
def test_bad_arguments_fail_loudly(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([torch.zeros(2, requires_grad=True)])


def test_non_tensor_parameters_are_rejected():
    with pytest.raises(TypeError, match="torch.Tensor"):
        optim.SGD([[1.0, 2.0]], lr=0.1)
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([torch.zeros(2, dtype=torch.int64)], lr=0.1)


@pytest.mark.parametrize(
    ("ours", "theirs", "kw"),
    [
        (optim.StepLR, torch.optim.lr_scheduler.StepLR, {"step_size": 3, "gamma": 0.5}),
        (optim.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 10}),
        (
            optim.CosineAnnealingLR,
            torch.optim.lr_scheduler.CosineAnnealingLR,
            {"T_max": 7, "eta_min": 0.01},
        ),
    ],
)
def test_schedules_match_torch(ours, theirs, kw):
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt_a = optim.SGD([p], lr=0.3)
    opt_b = torch.optim.SGD([q], lr=0.3)
    sched_a, sched_b = ours(opt_a, **kw), theirs(opt_b, **kw)
    for epoch in range(12):
        assert math.isclose(sched_a.get_last_lr()[0], sched_b.get_last_lr()[0], abs_tol=1e-12), (
            epoch
        )
        assert opt_a.lr == sched_a.get_last_lr()[0]
        opt_a.step()
        opt_b.step()
        sched_a.step()
        sched_b.step()
    assert opt_a.lr < 0.3  # the schedule really lowered the rate


def test_schedule_rejects_foreign_optimizer():
    with pytest.raises(TypeError, match="nnlib.optim.Optimizer"):
        optim.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), step_size=1)
