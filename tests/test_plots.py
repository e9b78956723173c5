import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import make_moons  # noqa: E402
from nnlib.plots import (  # noqa: E402
    CLASS_COLORS,
    OKABE_ITO,
    SERIES_COLORS,
    SERIES_LINESTYLES,
    plot_decision_boundary,
    plot_points,
    series_style,
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


def test_series_styles_differ_in_colour_line_style_and_marker():
    styles = [series_style(i, marker=True) for i in range(len(SERIES_LINESTYLES))]
    for key in ("color", "linestyle", "marker"):
        assert len({str(s[key]) for s in styles}) == len(styles), key
    assert "marker" not in series_style(0)
    # orange beside vermillion is the pair readers confused in a training-curve legend
    assert OKABE_ITO["orange"] not in {s["color"] for s in styles}
    assert set(SERIES_COLORS) <= set(OKABE_ITO.values())
    assert OKABE_ITO["yellow"] not in SERIES_COLORS  # too pale for a line on white
