import numpy as np
import pytest
import torch

from nnlib.autograd import (
    Tensor,
    binary_cross_entropy_with_logits,
    cross_entropy,
    topological_order,
)
from nnlib.autograd_mlp import EngineMLP, Linear, train_gd
from nnlib.data import make_moons
from nnlib.gradcheck import (
    engine_gradients,
    finite_difference_gradients,
    numerical_gradient,
    random_expression,
    torch_gradients,
)
from nnlib.mlp import MLP, MLPConfig
from nnlib.train import fit

RNG = np.random.default_rng(0)

# Each case: a function that works on both engine and torch tensors, and input shapes
# (several broadcast against each other, so that the unbroadcasting is tested too).
CASES = {
    "add": (lambda a, b: a + b, [(3, 4), (4,)]),
    "sub": (lambda a, b: a - b, [(3, 1), (3, 4)]),
    "mul": (lambda a, b: a * b, [(3, 4), (1, 4)]),
    "div": (lambda a, b: a / (b * b + 1.0), [(2, 3), (3,)]),
    "rsub_rdiv": (lambda a: 2.0 - 3.0 / (a * a + 1.0), [(5,)]),
    "neg_pow": (lambda a: -(a**3), [(4,)]),
    "matmul": (lambda A, B: A @ B, [(3, 4), (4, 2)]),
    "transpose": (lambda A, B: A.T @ B, [(4, 3), (4, 2)]),
    "sum_dim": (lambda a: a.sum(0) * a.sum(1, keepdim=True), [(3, 3)]),
    "mean": (lambda a: a.mean(-1, keepdim=True) * a.mean(), [(2, 5)]),
    "reshape": (lambda a: a.reshape(3, 2) @ a.reshape(2, 3), [(6,)]),
    "exp_log": (lambda a: (a.exp() + 1.0).log(), [(4,)]),
    "tanh": (lambda a: a.tanh(), [(3, 2)]),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 2)]),
    "relu": (lambda a: a.relu() * a, [(10,)]),
    "softplus": (
        lambda a: a.softplus() if isinstance(a, Tensor) else torch.nn.functional.softplus(a),
        [(6,)],
    ),  # fmt: skip
    "reuse": (lambda a: a * a.tanh() + a.exp() * a, [(3,)]),
    "log_softmax": (lambda a: a.log_softmax(dim=1) * a, [(3, 5)]),
    "log_softmax_dim0": (lambda a: a.log_softmax(dim=0), [(4, 2)]),
}


def _engine_and_torch(fn, shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    v = rng.standard_normal(out.shape)
    (out * v).sum().backward()
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = fn(*ts)
    (t_out * torch.from_numpy(v)).sum().backward()
    return arrays, xs, out, ts, t_out, v


@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_equal_torch(case):
    fn, shapes = CASES[case]
    _, xs, out, ts, t_out, _ = _engine_and_torch(fn, shapes)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, t in zip(xs, ts, strict=True):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "case", ["add", "mul", "div", "matmul", "sum_dim", "reuse", "relu", "log_softmax"]
)
def test_gradients_equal_finite_differences(case):
    fn, shapes = CASES[case]
    arrays, xs, _, _, _, v = _engine_and_torch(fn, shapes, seed=1)
    numeric = numerical_gradient(lambda a: float(((fn(*map(Tensor, a))).data * v).sum()), arrays)
    for x, g in zip(xs, numeric, strict=True):
        np.testing.assert_allclose(x.grad, g, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_torch_and_finite_differences(seed):
    expr = random_expression(seed, n_ops=8)
    value, grads = engine_gradients(expr)
    t_value, t_grads = torch_gradients(expr)
    assert abs(value - t_value) <= 1e-10 * (1 + abs(t_value))
    numeric = finite_difference_gradients(expr)
    for g, tg, ng in zip(grads, t_grads, numeric, strict=True):
        np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(g, ng, rtol=1e-4, atol=1e-4)


def test_random_expressions_cover_every_operation():
    ops = {op for s in range(25) for op, _, _ in random_expression(s, n_ops=8).program}
    assert ops >= {"+", "-", "*", "/", "exp", "log", "tanh", "sigmoid", "relu", "matmul"}


def test_two_paths_are_summed():
    # f = a*b + a: df/da = b + 1 from the two paths through a.
    a = Tensor(2.0, requires_grad=True)
    b = Tensor(3.0, requires_grad=True)
    (a * b + a).backward()
    assert float(a.grad) == 4.0 and float(b.grad) == 2.0


def test_leaves_accumulate_and_zero_grad_resets():
    a = Tensor([1.0, -2.0], requires_grad=True)
    (a * 3.0).sum().backward()
    (a * 3.0).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]
    a.zero_grad()
    assert a.grad is None


def test_backward_steps_is_a_prefix_of_the_full_pass():
    x = Tensor(0.5, requires_grad=True)
    y = ((x * 2.0).tanh() * 3.0).exp()
    y.backward(steps=0)
    assert float(y.grad) == 1.0 and float(x.grad) == 0.0
    x.zero_grad()
    y.backward(steps=2)  # exp and the product by 3 have passed their gradient on
    assert float(x.grad) == 0.0 and y.parents[0].grad != 0
    x.zero_grad()
    y.backward()
    t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    ((t * 2.0).tanh() * 3.0).exp().backward()
    assert abs(float(x.grad) - t.grad.item()) < 1e-12


def test_data_without_requires_grad_gets_no_gradient():
    x = Tensor([1.0, 2.0])
    w = Tensor([0.5, 0.5], requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]


def test_vjp_of_a_matmul_is_the_transpose_product():
    A, B = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    g = RNG.standard_normal((2, 4))
    gA, gB = (Tensor(A) @ Tensor(B)).vjp(g)
    np.testing.assert_allclose(gA, g @ B.T)
    np.testing.assert_allclose(gB, A.T @ g)


def test_topological_order_puts_parents_first_and_visits_shared_nodes_once():
    x = Tensor(1.0, name="x")
    h = x.tanh()
    f = h * h + h
    order = topological_order(f)
    assert order[-1] is f and order[0] is x
    assert sum(t is h for t in order) == 1
    position = {id(t): i for i, t in enumerate(order)}
    assert all(position[id(p)] < position[id(t)] for t in order for p in t.parents)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    y.backward()
    assert float(x.grad) == 1.0


def test_bce_equals_torch_and_is_stable():
    z = np.array([-50.0, -1.0, 0.0, 2.0, 800.0])
    y = np.array([1, 0, 1, 1, 0])
    zt = Tensor(z, requires_grad=True)
    loss = binary_cross_entropy_with_logits(zt, y)
    loss.backward()
    t = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(t, torch.tensor(y).double())
    ref.backward()
    assert np.isfinite(loss.item())
    assert abs(loss.item() - ref.item()) < 1e-12
    np.testing.assert_allclose(zt.grad, t.grad.numpy(), atol=1e-15)
    with pytest.raises(ValueError, match="expected logits"):
        binary_cross_entropy_with_logits(Tensor(np.zeros((3, 2))), [0, 1, 0])


def test_errors_are_loud_and_helpful():
    with pytest.raises(TypeError, match="numeric"):
        Tensor("abc")
    with pytest.raises(TypeError, match="detach"):
        Tensor(Tensor(1.0))
    with pytest.raises(ValueError, match=r"\(n, k\) @ \(k, m\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="exponent"):
        Tensor(2.0) ** Tensor(2.0)
    with pytest.raises(ValueError, match="single-element"):
        Tensor([1.0, 2.0], requires_grad=True).exp().backward()
    with pytest.raises(RuntimeError, match="does not require"):
        Tensor(1.0).exp().backward()
    with pytest.raises(ValueError, match="leaf"):
        Tensor(1.0).vjp(1.0)


def test_engine_mlp_forward_and_gradients_equal_torch():
    torch_model = MLP(MLPConfig(in_features=2, hidden=[5, 4], out_features=1), seed=3).double()
    model = EngineMLP.from_torch(torch_model)
    X, y = make_moons(30, seed=1)
    loss = binary_cross_entropy_with_logits(model(Tensor(X)), y)
    loss.backward()
    logits = torch_model(torch.from_numpy(X).double())[:, 0]
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).double())
    ref.backward()
    assert abs(loss.item() - ref.item()) < 1e-12
    torch_params = list(torch_model.parameters())
    assert len(torch_params) == len(model.parameters())
    for p, tp in zip(model.parameters(), torch_params, strict=True):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_engine_training_matches_pytorch_step_for_step(activation):
    cfg = MLPConfig(in_features=2, hidden=[8, 8], out_features=1, activation=activation)
    X, y = make_moons(100, seed=0)
    engine = EngineMLP.from_torch(MLP(cfg, seed=0))
    ours = train_gd(engine, X, y, steps=100, lr=0.5, show_progress=False)
    torch_model = MLP(cfg, seed=0).double()  # float64, like the engine
    optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.5)
    ref = fit(torch_model, X, y, optimizer=optimizer, steps=100, show_progress=False).loss
    assert ours[-1] < 0.7 * ours[0]  # it learns
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


def test_linear_and_mlp_validate_their_arguments():
    with pytest.raises(ValueError, match="W \\(out, in\\)"):
        Linear(np.ones((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="activation"):
        EngineMLP([Linear(np.ones((1, 2)), np.zeros(1))], activation="gelu")
    with pytest.raises(ValueError, match="steps"):
        train_gd(EngineMLP([Linear(np.ones((1, 2)), np.zeros(1))]), np.ones((2, 2)), [0, 1],
                 steps=0, lr=0.1)  # fmt: skip


def test_numerical_gradient_is_second_order_accurate():
    x = np.array([0.3, -1.2])
    exact = np.cos(x)
    errors = [
        np.abs(numerical_gradient(lambda a: float(np.sin(a[0]).sum()), [x], eps=e)[0] - exact).max()
        for e in (1e-2, 1e-3)
    ]
    assert errors[1] < errors[0] / 50  # error ~ eps^2: 10x smaller eps, ~100x smaller error


def test_cross_entropy_equals_torch_and_its_gradient_is_p_minus_y():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((7, 4)) * 3.0
    z[0] = [900.0, 0.0, -900.0, 1.0]  # large logits must not overflow
    y = rng.integers(0, 4, size=7)
    zt = Tensor(z, requires_grad=True)
    loss = cross_entropy(zt, y)
    loss.backward()
    t = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.from_numpy(y))
    ref.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - ref.item()) < 1e-12
    np.testing.assert_allclose(zt.grad, t.grad.numpy(), rtol=0, atol=1e-15)
    P = torch.softmax(torch.from_numpy(z), dim=1).numpy()
    np.testing.assert_allclose(zt.grad, (P - np.eye(4)[y]) / 7, rtol=0, atol=1e-15)
    assert abs(cross_entropy(Tensor(np.zeros((3, 10))), [0, 5, 9]).item() - np.log(10)) < 1e-15
    with pytest.raises(ValueError, match="integers"):
        cross_entropy(Tensor(z), y + 4)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        cross_entropy(Tensor(z[:, 0]), y)
