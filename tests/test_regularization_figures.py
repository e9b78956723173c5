import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.regularization_figures import (  # noqa: E402
    SETTING,
    interactive_regularization,
    moons_splits,
    near_zero_fraction,
    plot_learning_curves,
    plot_weight_histogram,
    train_setting,
    weight_vector,
)
from nnlib.widgets import Slider  # noqa: E402


def test_figure_draws_at_every_extreme_and_between():
    fig = interactive_regularization()
    assert fig.frame_count <= 120
    assert [c.name for c in fig.controls] == ["penalty", "strength", "dropout"]
    for params in fig.extreme_settings():
        drawn = fig.render(**params)
        assert len(drawn.axes) == 3
        title = drawn.axes[0].get_title()
        assert title.startswith(params["penalty"]) and "val." in title
    # A value between the website's grid points, as the live slider can give.
    drawn = fig.render(penalty="L1", strength=0.007, dropout=0.35)
    assert "λ=0.007" in drawn.axes[0].get_title()
    for c in fig.controls:
        if isinstance(c, Slider):
            assert c.min in c.grid() and max(c.grid()) <= c.max


def test_splits_are_independent_and_settings_are_cached():
    s = moons_splits()
    assert s["train"][0].shape == (SETTING["n_train"], 2)
    assert not np.allclose(s["val"][0][:40], s["train"][0])
    a = train_setting("L1", 0.0)
    assert a is train_setting("L2", 0.0) is train_setting("none")  # no penalty: one run
    with pytest.raises(ValueError, match="penalty"):
        train_setting("L3", 0.1)
    with pytest.raises(ValueError, match="strength"):
        train_setting("L2", -1.0)


def test_l1_leaves_more_near_zero_weights_than_l2_at_matched_strength():
    for lam in (0.003, 0.03):
        l1 = near_zero_fraction(weight_vector(train_setting("L1", lam)[0]))
        l2 = near_zero_fraction(weight_vector(train_setting("L2", lam)[0]))
        assert l1 > l2, (lam, l1, l2)


def test_plot_helpers_label_their_axes():
    ax = plot_weight_histogram(Figure().add_subplot(), {"a": np.array([0.0, 0.5]), "b": [1.0]})
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_legend().get_texts()) == 2
    hist = {"train_loss": [1.0, 0.4, 0.1], "val_loss": [1.0, 0.5, 0.8]}
    ax = plot_learning_curves(Figure().add_subplot(), hist)
    assert "epoch 1" in ax.get_legend().get_texts()[2].get_text()
