import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.figures.epilogue import (  # noqa: E402
    ARCHITECTURES,
    GRUClassifier,
    compare,
    make_architecture,
    plot_comparison,
    properties,
)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_maps_signals_to_ten_logits(name):
    model = make_architecture(name, seed=0)
    assert model(torch.randn(3, 40)).shape == (3, 10)
    again = make_architecture(name, seed=0)
    x = torch.randn(2, 40)
    assert torch.equal(model(x), again(x))  # seeded
    assert set(properties(name)) == {"symmetry", "context", "parallel"}


def test_gru_reads_tokens_in_order_and_refuses_bad_lengths():
    gru = GRUClassifier(hidden=6, seed=0)
    x = torch.randn(2, 40)
    flipped = x.view(2, 10, 4).flip(1).reshape(2, 40)  # same tokens, reversed order
    assert not torch.allclose(gru(x), gru(flipped))
    with pytest.raises(ValueError, match="multiple of 4"):
        gru(torch.randn(2, 42))


def test_unknown_names_fail_loudly():
    with pytest.raises(ValueError, match="unknown architecture"):
        make_architecture("resnet")
    with pytest.raises(ValueError, match="unknown architecture"):
        properties("resnet")


def test_compare_rows_and_plot():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(60, 40, generator=g), torch.randint(0, 10, (60,), generator=g)
    rows = compare((X, y, X, y), epochs=dict.fromkeys(ARCHITECTURES, 1))
    assert [r["architecture"] for r in rows] == list(ARCHITECTURES)
    assert all(0 <= r["accuracy"] <= 1 and r["seconds"] > 0 for r in rows)
    ax = plot_comparison(Figure().add_subplot(), rows)
    assert len(ax.lines) == len(rows) + 1 and ax.get_xlabel() == "training time (s)"
