import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import logic_gate  # noqa: E402
from nnlib.figures.perceptron import (  # noqa: E402
    interactive_perceptron,
    interactive_playground,
    plot_approximation,
    plot_error_vs_width,
    plot_perceptron,
    train_playground,
)


def _ax():
    return Figure().add_subplot()


def test_perceptron_figure_draws_at_every_extreme():
    fig = interactive_perceptron()
    assert fig.frame_count <= 150
    assert {c.name for c in fig.controls} == {"w1", "w2", "b", "task"}
    for params in fig.extreme_settings():
        figure = fig.render(**params)
        assert figure.axes[0].get_title().startswith(params["task"])


def test_perceptron_figure_grid_contains_and_or_solutions():
    fig = interactive_perceptron()
    assert fig.render(w1=1.0, w2=1.0, b=-1.5, task="AND").axes[0].get_title().endswith("4/4")
    assert fig.render(w1=1.0, w2=1.0, b=-0.5, task="OR").axes[0].get_title().endswith("4/4")
    grids = {c.name: c.grid() for c in fig.controls}
    assert 1.0 in grids["w1"] and -1.5 in grids["b"] and -0.5 in grids["b"]


@pytest.mark.parametrize("dataset", ["xor", "spirals"])
def test_playground_draws_at_min_and_max(dataset):
    fig = interactive_playground()
    assert {c.name for c in fig.controls} == {"dataset", "width", "depth"}
    assert fig.frame_count <= 150
    for params in (p for p in fig.extreme_settings() if p["dataset"] == dataset):
        title = fig.render(**params).axes[0].get_title()
        assert f"{dataset}, {params['depth']} x {params['width']}:" in title and "%" in title


def test_playground_memoizes_and_learns():
    model_a, acc_a = train_playground("circles", 8, 1)
    model_b, _ = train_playground("circles", 8, 1)
    assert model_a is model_b
    assert acc_a == 1.0
    with pytest.raises(ValueError, match="dataset"):
        train_playground("mnist", 8, 1)


@pytest.mark.parametrize(
    ("gate", "w", "b", "title"),
    [
        ("AND", [1, 1], -1.5, "AND: accuracy 4/4"),
        ("OR", [1, 1], -1.5, "OR: accuracy 2/4"),
        ("XOR", [0, 0], 0.0, "XOR: accuracy 2/4"),  # degenerate: no line, all class 0
        ("XOR", [1, 0], -0.5, "XOR: accuracy 2/4"),  # vertical line
    ],
)
def test_perceptron_plot_counts_correct_points(gate, w, b, title):
    X, y = logic_gate(gate)
    ax = plot_perceptron(_ax(), w, b, X, y, title=gate)
    assert ax.get_title() == title


def test_approximation_and_width_plots():
    x = np.linspace(0, 1, 11)
    ax = plot_approximation(_ax(), x, x, {"a": x**2, "b": x**3})
    assert [ln.get_label() for ln in ax.lines] == ["target", "a", "b"]
    ax = plot_error_vs_width(_ax(), [1, 2, 4], [0.3, 0.1, 0.01])
    assert ax.get_yscale() == "log" and ax.get_xlabel().startswith("hidden")
    with pytest.raises(ValueError):
        plot_error_vs_width(_ax(), [1, 2], [0.1])
