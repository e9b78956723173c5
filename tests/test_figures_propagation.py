import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import digits  # noqa: E402
from nnlib.deep_mlp import DeepMLPConfig  # noqa: E402
from nnlib.figures.propagation import (  # noqa: E402
    best_rates,
    draw_pca_reconstruction,
    final_loss,
    gd_least_squares,
    interactive_pca,
    interactive_propagation,
    layer_statistics,
    least_squares_optimum,
    plot_digit_reconstructions,
    plot_layer_statistics,
    plot_lr_sweep,
    plot_std_curves,
    sweep_learning_rates,
    train_stack,
)
from nnlib.losses import first_step_below  # noqa: E402
from nnlib.pca import PCA  # noqa: E402
from nnlib.train import History  # noqa: E402


def test_propagation_figure_draws_at_every_extreme():
    fig = interactive_propagation()
    assert fig.frame_count <= 120
    assert [c.name for c in fig.controls] == ["depth", "init", "activation"]
    for params in fig.extreme_settings():
        ax = fig.render(**params).axes[0]
        assert (
            ax.get_title()
            == f"{params['init']} init, {params['activation']}, {params['depth']} layers"
        )
        act_line = ax.lines[0]
        assert len(act_line.get_xdata()) == params["depth"] + 1
        assert np.all(np.isfinite(act_line.get_ydata())) and np.all(act_line.get_ydata() > 0)


def test_propagation_figure_middle_value_and_memo():
    fig = interactive_propagation()
    assert (
        fig.render(depth=17, init="xavier", activation="tanh").axes[0].lines[1].get_xdata()[-1]
        == 17
    )
    assert layer_statistics(7, "he", "relu") is layer_statistics(7, "he", "relu")


def test_pca_figure_draws_at_min_max_and_between():
    fig = interactive_pca()
    assert fig.frame_count <= 120
    (slider,) = fig.controls
    assert slider.grid()[0] == 1 and slider.grid()[-1] == 64
    titles = [fig.render(n_components=k).axes[0].get_title() for k in (1, 7, 64)]
    assert titles[0].startswith("1 component:") and titles[2].endswith("100% of the variance")
    with pytest.raises(ValueError, match="n_components"):
        draw_pca_reconstruction(Figure(), n_components=65)


def test_more_components_reconstruct_better():
    shown = []
    for k in (1, 8, 64):
        fig = Figure()
        draw_pca_reconstruction(fig, n_components=k)
        canvas = fig.axes[0].images[0].get_array()
        top, bottom = np.asarray(canvas[:8], dtype=float), np.asarray(canvas[9:], dtype=float)
        ok = ~np.isnan(top)
        shown.append(np.mean((top[ok] - bottom[ok]) ** 2))
    assert shown[0] > shown[1] > shown[2] and shown[2] < 1e-10


def test_plot_functions_validate_shapes():
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="D\\+1"):
        plot_layer_statistics(ax, [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="64"):
        plot_digit_reconstructions(ax, np.zeros((2, 63)), np.zeros((2, 63)))
    ax = plot_layer_statistics(Figure().add_subplot(), [1.0, 0.0], [0.0])  # zeros survive log axes
    assert np.all(ax.lines[0].get_ydata() > 0)
    assert len(plot_std_curves(Figure().add_subplot(), {"a": [1, 2]}).lines) == 1


def test_train_stack_learns_a_shallow_net_and_stops_on_divergence():
    torch.set_num_threads(1)
    X, y = (torch.tensor(a) for a in digits(standardized=True))
    X = X.float()
    hist = train_stack(DeepMLPConfig(depth=1, width=32), X, y, steps=60, eval_every=30)
    assert hist.eval_steps == [0, 30, 60]
    assert hist.train["loss"][-1] < 0.5 * hist.train["loss"][0]
    diverging = DeepMLPConfig(depth=12, width=32, residual=True, init="he")
    hist = train_stack(diverging, X, y, steps=200, lr=0.5, eval_every=5)
    assert hist.stop_reason == "non-finite loss"
    assert not np.isfinite(hist.train["loss"][-1]) and hist.eval_steps[-1] < 200


def test_gradient_descent_converges_to_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)) * [1.0, 2.0, 0.5]
    y = rng.integers(0, 3, size=100)
    losses, lr = gd_least_squares(X, y, steps=3000)
    assert losses[0] == pytest.approx(1.0)  # zero weights: mean ||onehot||^2
    assert np.all(np.diff(losses) <= 1e-12)  # lr = 1/(2 lambda_max) never overshoots
    assert losses[-1] == pytest.approx(least_squares_optimum(X, y), rel=1e-6)
    # the loss returned by the quadratic form equals the direct computation
    A = np.hstack([X, np.ones((100, 1))])
    Y = np.eye(3)[y]
    W = np.linalg.lstsq(A, Y, rcond=None)[0]
    assert least_squares_optimum(X, y) == pytest.approx(np.mean(np.sum((A @ W - Y) ** 2, 1)))


def test_whitening_speeds_up_gradient_descent():
    X, y = digits()
    target = 1.05 * least_squares_optimum(X, y)
    raw = first_step_below(gd_least_squares(X, y, steps=1000)[0], target)
    white = first_step_below(
        gd_least_squares(PCA(61, whiten=True).fit_transform(X), y, steps=1000)[0], target
    )
    assert white is not None and raw is not None and white < raw


def _run(losses, stop_reason="completed"):
    h = History()
    h.train["loss"] = list(losses)
    h.eval_steps = list(range(len(losses)))
    h.stop_reason = stop_reason
    return h


def test_final_loss_and_best_rates_treat_divergence_as_infinite():
    assert final_loss(_run([2.3, 0.7])) == 0.7
    assert final_loss(_run([2.3, float("nan")], "non-finite loss")) == float("inf")
    assert final_loss(_run([2.3, 1e30], "non-finite loss")) == float("inf")  # stopped on a batch
    sweep = {
        "a": {0.01: _run([2.3, 1.0]), 0.1: _run([2.3, 0.2]), 1.0: _run([9.0, float("nan")])},
        "b": {0.01: _run([2.3, float("inf")]), 0.1: _run([2.3, float("nan")])},
    }
    best = best_rates(sweep)
    assert best["a"] == (0.1, 0.2)  # the smallest final loss, NaN never wins
    assert np.isnan(best["b"][0]) and best["b"][1] == float("inf")


def test_sweep_trains_every_config_at_every_rate_from_the_same_start():
    torch.set_num_threads(1)
    X, y = (torch.tensor(a) for a in digits(standardized=True))
    X = X.float()
    configs = {
        "shallow": DeepMLPConfig(depth=1, width=16),
        "deeper": DeepMLPConfig(depth=2, width=16),
    }
    sweep = sweep_learning_rates(configs, X, y, lrs=(0.001, 0.1, 50.0), steps=30, eval_every=15)
    assert list(sweep) == ["shallow", "deeper"] and list(sweep["shallow"]) == [0.001, 0.1, 50.0]
    runs = sweep["shallow"]
    assert runs[0.001].train["loss"][0] == runs[0.1].train["loss"][0]  # same initial weights
    assert final_loss(runs[0.1]) < final_loss(runs[0.001])  # a sane rate beats a tiny one
    assert final_loss(runs[50.0]) == float("inf")  # an absurd rate diverges
    assert best_rates(sweep)["shallow"][0] == 0.1
    with pytest.raises(ValueError, match="positive"):
        sweep_learning_rates(configs, X, y, lrs=(0.1, 0.0))


def test_lr_sweep_plot_skips_diverged_rates_and_styles_differ():
    sweep = {
        f"config {i}": {
            0.01: _run([2.3, 1.0 + i]),
            0.1: _run([2.3, float("nan")], "non-finite loss"),
        }
        for i in range(6)
    }
    ax = plot_lr_sweep(Figure().add_subplot(), sweep)
    assert [line.get_xdata().tolist() for line in ax.lines] == [[0.01]] * 6
    styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in ax.lines}
    assert len(styles) == 6
    ax = plot_std_curves(Figure().add_subplot(), {f"c{i}": [1.0, 2.0] for i in range(6)})
    assert len({(line.get_color(), line.get_linestyle()) for line in ax.lines}) == 6


def test_std_curves_differ_in_marker():
    ax = plot_std_curves(Figure().add_subplot(), {f"c{i}": [1.0, 2.0] for i in range(6)})
    assert len({line.get_marker() for line in ax.lines}) == 6
