import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.cnn import Recipe, receptive_field  # noqa: E402
from nnlib.figures.convolution import (  # noqa: E402
    KERNELS,
    apply_kernel,
    demo_image,
    field_layers,
    interactive_kernel,
    interactive_receptive_field,
)
from nnlib.figures.mnist1d import (  # noqa: E402
    PAPER_ACCURACY,
    benchmark,
    interactive_filters,
    plot_benchmark,
    plot_signals,
)


def test_kernel_editor_draws_every_preset_and_centre_extremes():
    fig = interactive_kernel()
    assert fig.frame_count == len(KERNELS)
    for params in fig.extreme_settings():
        axes = fig.render(**params).axes
        assert axes[1].get_title().startswith(params["preset"])
    assert fig.render(preset="blur", center=1.5).axes[1].get_title() == "blur kernel +1.5"


def test_presets_do_what_their_names_say():
    img = demo_image()
    np.testing.assert_allclose(apply_kernel(img, KERNELS["identity"]), img)
    inner = (slice(1, -1), slice(1, -1))
    flat = np.ones((8, 8))
    assert np.allclose(apply_kernel(flat, KERNELS["edge"])[inner], 0)  # no edge, no response
    assert np.allclose(apply_kernel(flat, KERNELS["blur"])[inner], 1)  # a mean keeps a constant
    assert np.allclose(apply_kernel(flat, KERNELS["sharpen"])[inner], 1)
    assert np.abs(np.diff(apply_kernel(img, KERNELS["blur"]))).mean() < np.abs(np.diff(img)).mean()
    with pytest.raises(ValueError, match="odd square kernel"):
        apply_kernel(img, np.ones((2, 2)))


def test_receptive_field_explorer_at_extremes_matches_the_formula():
    fig = interactive_receptive_field()
    assert fig.frame_count <= 120
    for params in [
        *fig.extreme_settings(),
        {"layers": 2, "kernel_size": 4, "stride": 2, "dilation": 2},
    ]:
        fig.render(**params)
        levels = field_layers(**params)
        centres, seen = levels[0]
        spec = [(params["kernel_size"], params["stride"], params["dilation"])] * params["layers"]
        assert centres[seen].max() - centres[seen].min() + 1 == receptive_field(spec)
        assert levels[-1][1].sum() == 1
        # the output unit sits in the middle of what it sees
        out_c, out_seen = levels[-1]
        assert out_c[out_seen][0] == pytest.approx((centres[seen].max() + centres[seen].min()) / 2)


def test_benchmark_rows_and_plot():
    rows = benchmark(["logistic", "cnn"], recipe=Recipe(epochs=1, batch_size=50), num_samples=100)
    assert [r["model"] for r in rows] == ["logistic", "cnn"]
    assert all(0 <= r["accuracy"] <= 100 and r["seconds"] > 0 for r in rows)
    ax = plot_benchmark(Figure().add_subplot(), rows)
    assert len(ax.patches) == 4 * len(rows)
    heights = [p.get_height() for p in ax.patches]
    assert PAPER_ACCURACY["cnn"][1] in heights
    ax = plot_signals(Figure().add_subplot(), np.zeros((10, 40)), np.arange(10), title="x")
    assert len(ax.lines) == 10
    with pytest.raises(ValueError, match=r"X \(N, L\)"):
        plot_signals(Figure().add_subplot(), np.zeros(40), np.arange(1), title="x")


def test_filter_figure_at_every_extreme_and_responses_match_the_layer():
    rows = benchmark(["cnn"], recipe=Recipe(epochs=1, batch_size=50), num_samples=100)
    net = rows[0]["net"]
    X = torch.randn(12, 40, generator=torch.Generator().manual_seed(0))
    y = torch.arange(12) % 10
    fig = interactive_filters(net, X, y)
    assert fig.frame_count <= 32
    for params in fig.extreme_settings():
        axes = fig.render(**params).axes
        assert axes[0].get_title() == f"kernel {params['index']}"
        assert len(axes[0].patches) == 5
    with torch.no_grad():
        expected = torch.relu(net.body[0](X[:1].unsqueeze(1)))[0, 3]
    image = fig.render(index=3).axes[1].images[0].get_array()
    np.testing.assert_allclose(image[0], expected.numpy(), rtol=1e-5)
