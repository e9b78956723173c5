import numpy as np
import pytest
import torch

from nnlib.data import logic_gate
from nnlib.perceptron import Perceptron, step


def test_step_is_zero_at_zero():
    assert step(np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])).tolist() == [0, 0, 0, 1, 1]
    assert step(np.array([-2.0, 0.0, 1.0])).dtype == np.int64


def test_predict_matches_torch_linear_and_heaviside():
    # Integer weights and inputs put some points exactly on the boundary (z == 0),
    # where the perceptron must answer 0, as torch.heaviside(z, 0) does.
    rng = np.random.default_rng(0)
    X = rng.integers(-2, 3, (200, 3)).astype(np.float64)
    w, b = np.array([1.0, -2.0, 1.0]), 1.0
    linear = torch.nn.Linear(3, 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(w)[None])  # (1, 3)
        linear.bias.fill_(b)
        z = linear(torch.tensor(X)).squeeze(1)  # (n,)
    ref = torch.heaviside(z, torch.tensor(0.0, dtype=torch.float64)).long().numpy()
    p = Perceptron(w, b)
    assert (z == 0).sum() > 10, "the test needs points on the boundary"
    np.testing.assert_array_equal(p.predict(X), ref)
    np.testing.assert_allclose(p.decision_function(X), z.numpy())


def test_rule_matches_sklearn_perceptron():
    # scikit-learn's Perceptron applies the same rule (w += lr * y * x on a mistake,
    # y in {-1, 1}) when it visits the examples in order, with a constant rate and no
    # penalty. From a non-zero start no point lands exactly on the boundary, where
    # the two conventions differ.
    from sklearn.linear_model import Perceptron as SkPerceptron

    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    y = (X @ np.array([1.0, -1.0, 0.5]) + 0.4 * rng.standard_normal(60) > 0.2).astype(int)
    w0, b0 = rng.standard_normal(3), 0.1
    ours = Perceptron(w0.copy(), b0).fit(X, y, lr=0.3, epochs=7)
    theirs = SkPerceptron(eta0=0.3, max_iter=7, tol=None, shuffle=False, penalty=None)
    theirs.fit(X, y, coef_init=w0[None].copy(), intercept_init=np.array([b0]))
    assert len(ours.history["errors"]) == 7 and ours.history["errors"][-1] > 0  # never stopped
    np.testing.assert_allclose(ours.w, theirs.coef_[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.b, theirs.intercept_[0], rtol=1e-12, atol=1e-12)
    X_new = rng.standard_normal((100, 3))
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
@pytest.mark.parametrize("seed", [None, 0, 1])
def test_rule_reaches_100_percent_on_separable_gates(gate, seed):
    X, y = logic_gate(gate)
    p = Perceptron.zeros(2).fit(X, y, lr=1.0, epochs=50, seed=seed)
    assert p.history["accuracy"][-1] == 1.0
    assert p.history["errors"][-1] == 0
    np.testing.assert_array_equal(p.predict(X), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rule_never_exceeds_75_percent_on_xor(seed):
    X, y = logic_gate("XOR")
    p = Perceptron.zeros(2).fit(X, y, lr=0.5, epochs=40, seed=seed)
    assert max(p.history["accuracy"]) <= 0.75
    assert len(p.history["errors"]) == 40 and min(p.history["errors"]) > 0


def test_single_update_follows_rosenblatt_rule():
    # One example of class 1 that the zero perceptron misclassifies: w += lr * x, b += lr.
    p = Perceptron.zeros(2).fit(np.array([[2.0, -1.0]]), np.array([1]), lr=0.5, epochs=1)
    np.testing.assert_allclose(p.w, [1.0, -0.5])
    assert p.b == 0.5
    assert p.history["errors"] == [1]


def test_mistake_bound_of_novikoff():
    # Separable data with a margin: total mistakes <= (R / gamma)^2.
    rng = np.random.default_rng(1)
    w_star = np.array([0.6, 0.8])
    X = rng.uniform(-1, 1, (200, 2))
    margin = X @ w_star
    X, margin = X[np.abs(margin) > 0.2], margin[np.abs(margin) > 0.2]
    y = (margin > 0).astype(int)
    p = Perceptron.zeros(2).fit(X, y, lr=1.0, epochs=100, seed=0)
    R = np.sqrt((X**2).sum(1).max() + 1.0)  # the constant bias input counts too
    gamma = np.abs(margin).min()  # w_star has unit norm and zero bias
    assert p.history["accuracy"][-1] == 1.0
    assert sum(p.history["errors"]) <= (R / gamma) ** 2


def test_bad_inputs_raise():
    X, y = logic_gate("AND")
    with pytest.raises(ValueError, match="features"):
        Perceptron.zeros(3).predict(X)
    with pytest.raises(ValueError, match="shape"):
        Perceptron.zeros(2).fit(X, y[:3])
    with pytest.raises(ValueError, match="0 and 1"):
        Perceptron.zeros(2).fit(X, 2 * y - 1)
    with pytest.raises(ValueError, match="lr"):
        Perceptron.zeros(2).fit(X, y, lr=0.0)
    with pytest.raises(ValueError, match=r"\(d,\)"):
        Perceptron(np.zeros((2, 2)))
