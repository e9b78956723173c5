"""Tests of nnlib.widgets: the frames, the static HTML and the live widget agree."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nnlib.widgets import MAX_FRAMES, Choice, InteractiveFigure, Slider, on_axes


def _plot(ax, k=1.0, kind="lin"):
    x = np.linspace(0, 1, 20)
    ax.plot(x, k * x if kind == "lin" else k * x**2)
    ax.set_title(f"k={k} {kind}")
    return ax


def _figure(**kw):
    controls = [Slider("k", 0.0, 2.0, 1.0), Choice("kind", ["lin", "quad"])]
    return InteractiveFigure(on_axes(_plot), controls, figsize=(2, 1.5), dpi=40, **kw)


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
    fig = InteractiveFigure(
        on_axes(_plot), [Slider("k", 0.0, 2.0, 1.0, default=2.0)], figsize=(2, 1.5), dpi=40
    )
    page = fig.static_html()
    start = re.search(r'data-frame="(\d+)" style="[^"]*" src="data:image/png;base64,([^"]+)"', page)
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
    for params in ({"k": 0.0}, {"k": 2.0}, {"kind": "lin"}, {"kind": "quad"}):
        assert fig.render(**params).axes, params


def test_mimebundle_offers_the_html_fallback():
    bundle = _figure()._repr_mimebundle_()
    assert "text/html" in bundle and "nnlib-figure" in bundle["text/html"]
    assert "text/plain" in bundle


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
            lambda: InteractiveFigure(on_axes(_plot), [Slider("k", 0, 1, 0.1)] * 2),
            "unique",
        ),
        (
            lambda: InteractiveFigure(
                on_axes(_plot),
                [Slider("k", 0, 1, 1, static_values=range(MAX_FRAMES + 1))],
            ),
            "at most",
        ),
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
        InteractiveFigure(on_axes(_plot), ["k"])
