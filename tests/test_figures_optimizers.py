import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nnlib.figures.optimizers import (  # noqa: E402
    COLORS,
    SURFACES,
    interactive_optimizers,
    noisy_descent,
    run_trajectory,
    steps_to_tolerance,
    train_digits,
)
from nnlib.optim import OPTIMIZERS, make_optimizer  # noqa: E402


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_gradients_match_autograd(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    for x, y in rng.uniform(-1.5, 1.5, size=(5, 2)):
        p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        s.f(p[0], p[1]).backward()
        np.testing.assert_allclose(s.grad(x, y), p.grad.numpy(), rtol=1e-12, atol=1e-12)
    for m in s.minima:  # the listed minima are stationary and have the stated value
        np.testing.assert_allclose(s.grad(*m), (0.0, 0.0), atol=1e-12)
        assert s.f(*m) == pytest.approx(s.f_min)


def test_interactive_figure_draws_at_every_extreme():
    fig = interactive_optimizers()
    assert fig.frame_count <= 120
    assert {c.name for c in fig.controls} == {"optimizer", "surface", "lr", "momentum"}
    for params in fig.extreme_settings():
        title = fig.render(**params).axes[0].get_title()
        assert title.startswith(f"{params['optimizer']}, lr=")
    # GD on the quadratic in closed form: each coordinate shrinks by (1 - lr * curvature).
    for lr in (0.001, 1.0):
        title = fig.render(optimizer="GD", surface="quadratic", lr=lr, momentum=0.9)
        title = title.axes[0].get_title()
        if lr * 10.0 > 2:  # |1 - lr L| > 1: the y coordinate grows
            assert "diverged" in title
        else:
            x, y = -2.0 * (1 - lr) ** 150, 1.0 * (1 - 10 * lr) ** 150
            assert title.endswith(f"= {0.5 * (x**2 + 10 * y**2):.1e} after 150 steps"), title
    # A value between the extremes works as well.
    title = fig.render(optimizer="Adam", surface="saddle", lr=0.123, momentum=0.5).axes[0]
    assert "lr=0.123" in title.get_title()


def test_static_grid_straddles_the_stability_limit_of_gd():
    lrs = next(c for c in interactive_optimizers().controls if c.name == "lr").grid()
    two_over_L = 2 / 10.0
    assert any(lr < two_over_L for lr in lrs) and any(lr > two_over_L for lr in lrs)
    assert not run_trajectory("quadratic", "GD", lr=max(lr for lr in lrs if lr < 0.2)).diverged
    assert run_trajectory("quadratic", "GD", lr=max(lrs)).diverged


def test_gd_stability_limit_is_two_over_L():
    assert run_trajectory("quadratic", "GD", lr=0.199, steps=3000).losses[-1] < 1e-6
    assert run_trajectory("quadratic", "GD", lr=0.201, steps=3000).diverged


def test_tuned_momentum_beats_gd_on_the_quadratic():
    mu, L = 1.0, 10.0
    gd = steps_to_tolerance("quadratic", "GD", lr=2 / (L + mu))
    beta = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
    lr = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    hb = steps_to_tolerance("quadratic", "Momentum", lr=lr, momentum=beta)
    assert gd is not None and hb is not None and hb < gd / 2


def test_make_optimizer_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("LBFGS", [torch.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="unknown surface"):
        run_trajectory("himmelblau", "GD", lr=0.1)
    assert len(OPTIMIZERS) == 7 and set(COLORS) == set(OPTIMIZERS)


def test_noisy_descent_needs_a_decaying_rate():
    const = noisy_descent("quadratic", lr=0.1, noise=2.0, schedule=None)
    cosine = noisy_descent("quadratic", lr=0.1, noise=2.0, schedule="cosine")
    assert cosine[-50:].mean() < const[-50:].mean() / 5
    with pytest.raises(ValueError, match="schedule"):
        noisy_descent("quadratic", lr=0.1, noise=1.0, schedule="linear")


def test_train_digits_is_deterministic_and_learns():
    a = train_digits("Momentum", lr=0.01, epochs=2, schedule="cosine")
    b = train_digits("Momentum", lr=0.01, epochs=2, schedule="cosine")
    assert a == b
    assert a.train["loss"][-1] < 0.5 * a.train["loss"][0]
    per_epoch = a.eval_steps[1]  # 1438 digits in batches of 32: 45 steps an epoch
    assert per_epoch == 45 and a.eval_steps == [0, 45, 90]
    assert a.lr == [0.01] * per_epoch + [0.005] * per_epoch  # cosine over 2 epochs
    with pytest.raises(ValueError, match="batch_size"):
        train_digits("GD", lr=0.1, batch_size=0)


def test_each_optimizer_has_its_own_line_style_and_marker():
    from matplotlib.figure import Figure

    from nnlib.figures.optimizers import LINESTYLES, MARKERS, plot_curves

    assert set(LINESTYLES) == set(MARKERS) == set(OPTIMIZERS)
    assert len(set(MARKERS.values())) == len(OPTIMIZERS)  # shape alone tells them apart
    ax = plot_curves(Figure().add_subplot(), {n: [1.0, 0.5, 0.2] for n in OPTIMIZERS})
    drawn = {(line.get_label(), line.get_linestyle(), line.get_marker()) for line in ax.lines}
    assert len({(ls, m) for _, ls, m in drawn}) == len(OPTIMIZERS)
    assert {(n, m) for n, _, m in drawn} == set(MARKERS.items())
    # A long curve gets about ten markers, not one per point.
    ax = plot_curves(Figure().add_subplot(), {"GD": np.ones(300)})
    assert ax.lines[0].get_markevery() == (0, 30)


def test_dodge_shifts_coinciding_paths_apart_on_the_page():
    from matplotlib.figure import Figure

    from nnlib.figures.optimizers import plot_trajectories

    t = run_trajectory("saddle", "Adagrad", lr=0.3, steps=10)
    fig = Figure(dpi=100)
    ax = plot_trajectories(fig.add_subplot(), "saddle", {"Adagrad": t, "RMSprop": t},
                           dodge={"Adagrad": -2.0})  # fmt: skip
    fig.canvas.draw()
    adagrad, rmsprop = (line for line in ax.lines if line.get_label() in ("Adagrad", "RMSprop"))
    shift = adagrad.get_transform().transform(t.points) - rmsprop.get_transform().transform(
        t.points
    )
    np.testing.assert_allclose(shift, -2.0 / 72 * 100, atol=1e-9)  # 2 points at 100 dpi
    with pytest.raises(ValueError, match="dodge names paths"):
        plot_trajectories(Figure().add_subplot(), "saddle", {"Adam": t}, dodge={"GD": 1.0})
