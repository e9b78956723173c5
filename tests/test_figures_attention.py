"""nnlib.figures.attention: tiny configurations, Agg backend."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import date_data  # noqa: E402
from nnlib.figures import attention as fa  # noqa: E402


def test_mean_max_weight_saturates_without_scale_only():
    assert fa.mean_max_weight(512, scaled=False, num_queries=300) > 0.9
    assert fa.mean_max_weight(512, scaled=True, num_queries=300) < 0.5
    assert fa.mean_max_weight(1, scaled=True) == fa.mean_max_weight(1, scaled=False)
    with pytest.raises(ValueError, match="d and num_keys"):
        fa.mean_max_weight(0, scaled=True)


def test_saturation_figure_at_every_extreme():
    widget = fa.interactive_saturation()
    assert widget.frame_count == 20
    for params in widget.extreme_settings():
        widget.render(**params)
    with pytest.raises(ValueError, match="scale"):
        fa.plot_saturation(Figure(), d=4, scale="sqrt")


def test_field_alignment_counts_digits_in_their_field():
    spans = torch.tensor([[[0, 4], [5, 7], [8, 10]]])  # a source written like the target
    w = torch.zeros(1, 11, 11)
    w[0, torch.arange(11), torch.arange(11)] = 1.0  # each output reads its own position
    assert fa.field_alignment(w, spans) == {"year": 1.0, "month": 1.0, "day": 1.0, "all": 1.0}
    w_shift = torch.roll(w, 1, dims=2)  # each output reads the position after its own
    res = fa.field_alignment(w_shift, spans)
    assert res["year"] == 0.75 and res["month"] == 0.5 and res["all"] == 0.625
    with pytest.raises(ValueError, match="expected weights"):
        fa.field_alignment(w[:, :5], spans)


def test_train_dates_both_models_and_match_by_length():
    train, test = date_data(64, seed=0), date_data(30, seed=1)
    for attention in (True, False):
        model, h = fa.train_dates(train, attention=attention, steps=3, hidden_size=8, embed_dim=4,
                                  batch_size=16)  # fmt: skip
        assert len(h) == 3 and np.isfinite(h.loss).all()
        res = fa.exact_match_by_source_length(model, test, bins=(0, 15, 40))
        assert set(res) == {"all", "0-14", "15-39"} and 0 <= res["all"] <= 1
    fig = Figure()
    fa.plot_match_by_length(fig.add_subplot(), {"a": res, "b": res}, title="t")
    assert len(fig.axes[0].patches) == 4


def test_attention_map_figure_at_every_extreme():
    train = date_data(32, seed=0)
    model, _ = fa.train_dates(train, attention=True, steps=1, hidden_size=8, embed_dim=4)
    widget = fa.interactive_attention_map(model, train, [0, 3])
    assert widget.frame_count == 2 * 11
    for params in widget.extreme_settings():
        widget.render(**params)
    with pytest.raises(ValueError, match="query"):
        fa.plot_attention_map(Figure(), source="ab", output="xy", weights=np.ones((2, 2)), query=5)


def test_field_alignment_written_only_skips_unwritten_digits():
    # "5.3.26": day 0-1, month 2-3, year 4-6 (one-digit day and month, two-digit year)
    spans = torch.tensor([[[4, 6], [2, 3], [0, 1]]])
    w = torch.zeros(1, 11, 8)
    look = [4, 4, 4, 5, 0, 0, 2, 0, 0, 0, 7]  # the century digits and leading zeros miss
    w[0, torch.arange(11), torch.tensor(look)] = 1.0
    assert fa.field_alignment(w, spans)["all"] < 1.0
    assert fa.field_alignment(w, spans, written_only=True)["all"] == 1.0
