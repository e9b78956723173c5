import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import logic_gate, make_moons  # noqa: E402
from nnlib.plots import (  # noqa: E402
    CLASS_COLORS,
    OKABE_ITO,
    plot_approximation,
    plot_decision_boundary,
    plot_error_vs_width,
    plot_perceptron,
    plot_points,
)


def _ax():
    return Figure().add_subplot()


def test_palette_is_okabe_ito():
    assert len(OKABE_ITO) == 8
    assert OKABE_ITO["orange"] == "#E69F00" and OKABE_ITO["blue"] == "#0072B2"
    assert set(CLASS_COLORS) <= set(OKABE_ITO.values())


def test_points_use_one_colour_per_class():
    X, y = make_moons(40, seed=0)
    ax = plot_points(_ax(), X, y)
    colours = [to_hex(c.get_facecolor()[0]).upper() for c in ax.collections]
    assert colours == [c.upper() for c in CLASS_COLORS]
    assert [len(c.get_offsets()) for c in ax.collections] == [20, 20]
    with pytest.raises(ValueError):
        plot_points(_ax(), X[:, :1], y)


def test_decision_boundary_calls_predict_on_grid_and_labels_axes():
    X, y = make_moons(40, seed=0)
    seen = []

    def predict(P):
        seen.append(P.shape)
        return (P[:, 0] > 0).astype(int)

    ax = plot_decision_boundary(_ax(), predict, X, y, title="T", resolution=30, lim=2.0)
    assert seen == [(900, 2)]
    assert ax.get_title() == "T" and ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_xlim() == (-2.0, 2.0)


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
