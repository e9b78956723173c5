"""Tests of nnlib.widgets: the frames, the static HTML and the live widget agree."""

from __future__ import annotations

import base64
import io
import json
import re
import sys

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from nnlib.widgets import (
    DENSITY,
    MAX_FRAMES,
    MIN_FONT_PX,
    PAGE_COLUMN_PX,
    Choice,
    InteractiveFigure,
    Slider,
    on_axes,
)

ALT = "A line from the origin whose slope is k, straight or a parabola."


def _interactive(*args, **kw) -> InteractiveFigure:
    """An InteractiveFigure with a test alt text unless one is given."""
    return InteractiveFigure(*args, **{"alt": ALT, **kw})


def _plot(ax, k=1.0, kind="lin"):
    x = np.linspace(0, 1, 20)
    ax.plot(x, k * x if kind == "lin" else k * x**2)
    ax.set_title(f"k={k} {kind}")
    return ax


def _figure(**kw):
    controls = [Slider("k", 0.0, 2.0, 1.0), Choice("kind", ["lin", "quad"])]
    return _interactive(on_axes(_plot), controls, **{"figsize": (2, 1.5), "dpi": 72, **kw})


class _Counting:
    """A drawing function that counts how often it is called."""

    def __init__(self):
        self.calls = 0

    def __call__(self, fig, k=1.0, kind="lin"):
        self.calls += 1
        _plot(fig.add_subplot(), k=k, kind=kind)


def _repr(fig: InteractiveFigure) -> dict:
    """The display data of ``fig``, without the metadata a fallback may add."""
    bundle = fig._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


def _payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" class="nnlib-frames">(.*?)</script>', page)
    assert match, "the static HTML carries no frame data"
    return json.loads(match.group(1))


def test_frames_cover_every_combination_in_row_major_order():
    fig = _figure()
    data = _payload(fig.static_html())
    assert data["shape"] == [3, 2]
    assert data["labels"] == [["0", "1", "2"], ["lin", "quad"]]
    # Frame k*2 + j must be the picture drawn with the k-th slope and the j-th kind.
    for i, k in enumerate([0.0, 1.0, 2.0]):
        for j, kind in enumerate(["lin", "quad"]):
            expected = fig.frame(k=k, kind=kind)
            assert data["frames"][i * 2 + j] == expected


def test_distinct_parameters_give_distinct_frames():
    frames = _figure().frames()
    assert len(set(frames)) == len(frames)


def test_initial_frame_matches_the_defaults():
    fig = _interactive(
        on_axes(_plot), [Slider("k", 0.0, 2.0, 1.0, default=2.0)], figsize=(2, 1.5), dpi=72
    )
    page = fig.static_html()
    start = re.search(r'data-frame="(\d+)"[^>]* src="data:image/png;base64,([^"]+)"', page)
    assert start.group(1) == "2"
    assert start.group(2) == fig.frame(k=2.0)
    assert 'value="2"' in page


def test_non_static_controls_stay_at_their_default_on_the_website():
    fig = _figure(static=["kind"])
    assert fig.frame_count == 2
    assert _payload(fig.static_html())["shape"] == [2]


def test_page_is_self_contained():
    page = _figure().static_html()
    assert "http://" not in page and "https://" not in page
    assert "<script src" not in page


def test_two_figures_on_one_page_do_not_share_ids():
    assert _figure()._uid != _figure()._uid


def test_every_control_draws_at_its_extremes():
    fig = _figure()
    x = np.linspace(0, 1, 20)
    for params in fig.extreme_settings():
        # The drawing received the parameters: its curve is the one they describe.
        line = fig.render(**params).axes[0].lines[0]
        expected = params["k"] * (x if params["kind"] == "lin" else x**2)
        np.testing.assert_allclose(line.get_ydata(), expected, err_msg=str(params))


def test_live_kernel_draws_no_website_frames(monkeypatch):
    monkeypatch.delenv("NNLIB_WEBSITE", raising=False)
    draw = _Counting()
    fig = _interactive(draw, [Slider("k", 0.0, 2.0, 1.0), Choice("kind", ["lin", "quad"])])
    bundle = _repr(fig)
    assert "text/html" not in bundle
    assert bundle["text/plain"].startswith("<InteractiveFigure")
    # One picture for the reader (the widget's, or the fallback's), none of the six frames.
    assert draw.calls == 1


def test_website_build_carries_every_frame_and_no_widget(monkeypatch):
    monkeypatch.setenv("NNLIB_WEBSITE", "1")
    draw = _Counting()
    fig = _interactive(draw, [Slider("k", 0.0, 2.0, 1.0), Choice("kind", ["lin", "quad"])])
    bundle = _repr(fig)
    assert "nnlib-figure" in bundle["text/html"]
    assert len(_payload(bundle["text/html"])["frames"]) == fig.frame_count == 6
    assert draw.calls == fig.frame_count
    assert "application/vnd.jupyter.widget-view+json" not in bundle


def test_live_widget_is_offered_when_ipywidgets_is_there(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("NNLIB_WEBSITE", raising=False)
    assert "application/vnd.jupyter.widget-view+json" in _repr(_figure())


def test_without_ipywidgets_a_live_kernel_shows_the_default_picture(monkeypatch):
    monkeypatch.delenv("NNLIB_WEBSITE", raising=False)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    fig = _figure()
    bundle, metadata = fig._repr_mimebundle_()
    assert "ipywidgets" in bundle["text/plain"]
    image = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert metadata["image/png"] == {"width": 144, "height": 108}
    assert image.size == (DENSITY * 144, DENSITY * 108)


def test_frames_are_twice_as_dense_as_their_css_size():
    fig = _figure()
    page = fig.static_html()
    img = re.search(r'<img [^>]*width="(\d+)" height="(\d+)"', page)
    width, height = int(img.group(1)), int(img.group(2))
    assert (width, height) == fig.css_size == (144, 108)  # figsize (2, 1.5) at 72 CSS px/in
    for frame in _payload(page)["frames"]:
        pixels = Image.open(io.BytesIO(base64.b64decode(frame))).size
        assert pixels[0] >= 2 * width and pixels[1] >= 2 * height


def _small_print(ax, k=1.0):
    ax.plot([0, 1], [0, k], label="line")
    ax.tick_params(labelsize=4)
    ax.legend(fontsize="xx-small")
    ax.set_title("tiny title", fontsize=3)
    ax.text(0.5, 0.5, "note", fontsize=5, transform=ax.transAxes)
    return ax


@pytest.mark.parametrize("dpi", [72, 100])
def test_no_text_shows_smaller_than_the_minimum(dpi):
    fig = _interactive(on_axes(_small_print), [Slider("k", 0.0, 1.0, 1.0)], dpi=dpi)
    drawn = fig.render()
    drawn.draw_without_rendering()  # tick labels as they appear in the saved frame
    texts = [t for t in drawn.findobj(Text) if t.get_visible() and t.get_text()]
    assert {"tiny title", "note", "line"} <= {t.get_text() for t in texts}
    assert len(texts) > 5  # the tick labels are among them
    for t in texts:
        assert t.get_fontsize() * dpi / 72 >= MIN_FONT_PX - 1e-9, t.get_text()


def test_text_already_large_enough_keeps_its_size():
    fig = _interactive(on_axes(_plot), [Slider("k", 0.0, 1.0, 1.0)], dpi=100)
    title = fig.render().axes[0].title
    assert title.get_fontsize() == pytest.approx(12.0)  # matplotlib's "large"


def test_live_widget_has_one_control_per_parameter():
    pytest.importorskip("ipywidgets")
    w = _figure().widget()
    descriptions = [c.description for c in w.children[:-1]]
    assert descriptions == ["k", "kind"]


def test_integer_slider_grid_is_integer_and_deduplicated():
    s = Slider("n", 1, 4, 1, integer=True, static_values=[1, 1.2, 2, 4])
    assert s.grid() == [1, 2, 4]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Slider("k", 1.0, 1.0, 0.1), "max > min"),
        (lambda: Slider("k", 0.0, 1.0, 0.0), "step > 0"),
        (lambda: Slider("k", 0.0, 1.0, 0.1, default=3.0), "outside"),
        (lambda: Choice("c", []), "at least one"),
        (lambda: Choice("c", ["a"], default="b"), "not one of"),
        (lambda: _figure(static=["nope"]), "not among the controls"),
        (
            lambda: _interactive(on_axes(_plot), [Slider("k", 0, 1, 0.1)] * 2),
            "unique",
        ),
        (
            lambda: _interactive(
                on_axes(_plot),
                [Slider("k", 0, 1, 1, static_values=range(MAX_FRAMES + 1))],
            ),
            "at most",
        ),
        (
            lambda: _interactive(
                on_axes(_plot), [Slider("k", 0, 1, 1)], figsize=(PAGE_COLUMN_PX / 72 + 1, 3)
            ),
            "wider than the page",
        ),
        (lambda: _figure(dpi=0), "dpi > 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="unknown parameters"):
        _figure().render(slope=3)


def test_controls_must_be_slider_or_choice():
    with pytest.raises(TypeError, match="Slider or Choice"):
        _interactive(on_axes(_plot), ["k"])


@pytest.mark.parametrize("alt", [None, "", "   ", "interactive figure", "fig.png"])
def test_alt_text_is_required_and_must_describe(alt):
    kw = {} if alt is None else {"alt": alt}
    with pytest.raises((TypeError, ValueError), match="alt"):
        InteractiveFigure(on_axes(_plot), [Slider("k", 0.0, 1.0, 0.5)], **kw)


def test_alt_text_reaches_the_website_picture():
    page = _interactive(on_axes(_plot), [Slider("k", 0.0, 1.0, 0.5)], dpi=72).static_html()
    assert f'alt="{ALT}"' in page
