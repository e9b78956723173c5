import datetime
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.data import (
    DATE_FIELDS,
    DATE_FORMATS,
    DATE_SOURCE_LENGTH,
    DATE_TARGET_LENGTH,
    DATE_TARGET_SPANS,
    DATE_VOCAB,
    CharVocab,
    date_data,
    date_test_set,
    format_date,
)

MONTHS = [datetime.date(2000, m, 1).strftime("%B") for m in range(1, 13)]  # C locale names


def _parse_back(source: str, fmt: int) -> datetime.date:
    """An independent reader of every format (strptime), with the 1950-2049 pivot."""
    py = {
        "{d}": "%d", "{dd}": "%d", "{m}": "%m", "{mm}": "%m", "{Y}": "%Y", "{yy}": "%y",
        "{Mon}": "%b", "{MON}": "%b", "{Month}": "%B", "{Dy}": "%a", "{Weekday}": "%A",
    }  # fmt: skip
    pattern = re.sub(r"\{\w+\}", lambda m: py[m.group(0)], DATE_FORMATS[fmt])
    date = datetime.datetime.strptime(
        source.title() if "{MON}" in DATE_FORMATS[fmt] else source, pattern
    ).date()
    if "{yy}" in DATE_FORMATS[fmt]:  # strptime pivots at 69; ours at 50
        date = date.replace(year=(1900 if date.year % 100 >= 50 else 2000) + date.year % 100)
    return date


def test_every_format_reads_back_to_its_target_with_the_true_weekday():
    data = date_data(3000, seed=3)
    assert set(data.formats.tolist()) == set(range(len(DATE_FORMATS)))
    for source, target, fmt, date in zip(
        data.sources, data.targets, data.formats.tolist(), data.dates, strict=True
    ):
        assert target == date.isoformat()
        assert _parse_back(source, fmt) == date, (source, DATE_FORMATS[fmt])
        if "Dy" in DATE_FORMATS[fmt] or "Weekday" in DATE_FORMATS[fmt]:
            assert date.strftime("%a") in source  # %a checks the weekday against the date


def test_examples_from_the_issue():
    d = datetime.date(2026, 11, 22)  # a Sunday
    written = {format_date(d, f)[0] for f in DATE_FORMATS}
    assert {
        "22 Nov 2026",
        "November 22, 2026",
        "22/11/2026",
        "Sun 22 November 26",
        "2026.11.22",
    } <= written
    assert "Sunday, November 22, 2026" in written
    assert format_date(datetime.date(1999, 1, 5), "{dd}.{mm}.{yy}")[0] == "05.01.99"


def test_field_spans_point_at_the_fields():
    data = date_data(500, seed=1)
    for source, date, spans in zip(data.sources, data.dates, data.spans.tolist(), strict=True):
        year, month, day = (source[a:b] for a, b in spans)
        assert year in (f"{date.year}", f"{date.year % 100:02d}")
        assert month.lower() in (
            str(date.month),
            f"{date.month:02d}",
            MONTHS[date.month - 1][:3].lower(),
            MONTHS[date.month - 1].lower(),
        )
        assert int(day) == date.day
    assert DATE_FIELDS == ("year", "month", "day")
    iso = "2026-11-22"
    assert [iso[a:b] for a, b in DATE_TARGET_SPANS] == ["2026", "11", "22"]


def test_tensors_encode_and_decode_back():
    data = date_data(200, seed=2)
    assert data.X.shape == (200, DATE_SOURCE_LENGTH) and data.X.dtype == torch.int64
    assert data.Y.shape == (200, DATE_TARGET_LENGTH) and data.Y.dtype == torch.int64
    assert DATE_VOCAB.decode(data.X) == data.sources
    assert DATE_VOCAB.decode(data.Y) == data.targets
    assert (data.Y[:, 0] == CharVocab.START).all() and (data.Y[:, -1] == CharVocab.END).all()
    lengths = torch.tensor([len(s) for s in data.sources])
    assert torch.equal((data.X != CharVocab.PAD).sum(1), lengths + 1)  # characters + </s>
    assert torch.equal(data.X[torch.arange(200), lengths], torch.full((200,), CharVocab.END))
    # Source character j is column j: the spans index X directly.
    a, b = data.spans[0, 2].tolist()
    assert DATE_VOCAB.decode(data.X[0, a:b]) == data.sources[0][a:b]


def test_generation_is_seeded():
    a, b, c = date_data(50, seed=7), date_data(50, seed=7), date_data(50, seed=8)
    assert a.sources == b.sources and torch.equal(a.X, b.X)
    assert a.sources != c.sources


def test_test_set_is_fixed_balanced_and_disjoint_from_training():
    test = date_test_set()
    assert test.sources == date_test_set().sources and len(test) == 1000
    assert len(set(test.dates)) == 1000
    counts = torch.bincount(test.formats, minlength=len(DATE_FORMATS))
    assert counts.max() - counts.min() <= 1
    train = date_data(20000, seed=0)
    assert not set(train.dates) & set(test.dates)
    assert min(train.dates) >= datetime.date(1950, 1, 1) and max(train.dates) <= datetime.date(
        2049, 12, 31
    )
    lengths = [len(s) for s in test.sources]
    assert min(lengths) <= 9 and max(lengths) >= 25  # short and long inputs both tested


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 ,./-JanFebSunday", max_size=12), max_size=5))
def test_char_vocab_round_trips(strings):
    ids = DATE_VOCAB.encode(strings, start=True)
    assert DATE_VOCAB.decode(ids) == strings if strings else ids.shape == (0, 0)


def test_char_vocab_errors():
    v = CharVocab("ab")
    assert len(v) == 5 and v.decode([1, 3, 4, 2, 3]) == "ab"
    with pytest.raises(ValueError, match=r"\['z'\]"):
        v.encode(["az"])
    with pytest.raises(ValueError, match="length=2"):
        v.encode(["aba"], length=2)
    with pytest.raises(TypeError, match="list of strings"):
        v.encode("ab")
    with pytest.raises(ValueError, match="outside"):
        v.decode([9])
    with pytest.raises(ValueError, match="single characters"):
        CharVocab(["ab"])


def test_date_errors():
    with pytest.raises(ValueError, match="1950-01-01"):
        format_date(datetime.date(1949, 12, 31), DATE_FORMATS[0])
    with pytest.raises(ValueError, match="unknown fields"):
        format_date(datetime.date(2000, 1, 1), "{H}:{M}")
    with pytest.raises(ValueError, match="positive int"):
        date_data(0)
