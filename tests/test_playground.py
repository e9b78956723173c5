import matplotlib

matplotlib.use("Agg")


import pytest  # noqa: E402

from nnlib.playground import (  # noqa: E402
    interactive_perceptron,
    interactive_playground,
    train_playground,
)


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
