import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.propagation_figures import (  # noqa: E402
    draw_pca_reconstruction,
    interactive_pca,
    interactive_propagation,
    layer_statistics,
    plot_digit_reconstructions,
    plot_layer_statistics,
    plot_std_curves,
)


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
    with pytest.raises(ValueError, match="L\\+1"):
        plot_layer_statistics(ax, [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="64"):
        plot_digit_reconstructions(ax, np.zeros((2, 63)), np.zeros((2, 63)))
    ax = plot_layer_statistics(Figure().add_subplot(), [1.0, 0.0], [0.0])  # zeros survive log axes
    assert np.all(ax.lines[0].get_ydata() > 0)
    assert len(plot_std_curves(Figure().add_subplot(), {"a": [1, 2]}).lines) == 1
