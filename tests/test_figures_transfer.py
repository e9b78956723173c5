import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.cnn import CNN1D, CNNConfig, num_parameters  # noqa: E402
from nnlib.figures.transfer import (  # noqa: E402
    VARIANTS,
    interactive_transfer,
    make_variant,
    per_class_subset,
    plot_transfer,
    pretrained_cnn,
    target_data,
    train_variant,
    transfer_table,
)


@pytest.fixture(scope="module")
def source() -> CNN1D:
    return pretrained_cnn()


def test_target_task_is_digits_5_to_9_relabelled():
    X, y, X_te, y_te = target_data()
    assert X.shape[1] == 40 and sorted(set(y.tolist())) == [0, 1, 2, 3, 4]
    assert 300 < int(torch.bincount(y).min()) and 450 < len(y_te) < 550
    Xs = target_data(shuffled=True)[0]
    assert torch.equal(Xs.sort(dim=1).values, X.sort(dim=1).values)


def test_per_class_subset_is_balanced_seeded_and_refuses_too_many():
    X, y = torch.arange(60.0).view(30, 2), torch.arange(30) % 3
    a, ya = per_class_subset(X, y, 4, seed=0)
    b, _ = per_class_subset(X, y, 4, seed=0)
    c, _ = per_class_subset(X, y, 4, seed=1)
    assert torch.bincount(ya).tolist() == [4, 4, 4] and torch.equal(a, b)
    assert not torch.equal(a, c)
    with pytest.raises(ValueError, match="fewer than k=11"):
        per_class_subset(X, y, 11)


def test_variants_freeze_what_their_names_say(source):
    counts = {v: num_parameters(make_variant(v, source=source)) for v in VARIANTS}
    total = num_parameters(CNN1D(CNNConfig(num_classes=5)))
    assert counts["scratch"] == counts["finetune"] == total
    assert counts["probe"] == 32 * 5 + 5  # only the new head
    assert counts["probe"] < counts["partial"] < total
    probe = make_variant("probe", source=source)
    assert torch.equal(probe.body[0].weight, source.body[0].weight)
    assert not torch.equal(probe.head.weight[:, :5], source.head.weight[:, :5])
    scratch = make_variant("scratch", source=source)
    assert not torch.equal(scratch.body[0].weight, source.body[0].weight)
    with pytest.raises(ValueError, match="unknown variant"):
        make_variant("distill", source=source)


def test_training_a_probe_leaves_the_body_and_the_source_unchanged(source):
    before = {k: v.clone() for k, v in source.state_dict().items()}
    probe = make_variant("probe", source=source)
    body = probe.body[0].weight.detach().clone()
    X, y, _, _ = target_data()
    Xs, ys = per_class_subset(X, y, 2)
    seconds = train_variant(probe, Xs, ys, steps=5)
    assert seconds >= 0 and torch.equal(probe.body[0].weight, body)
    assert all(torch.equal(before[k], v) for k, v in source.state_dict().items())


def test_table_shapes_and_the_interactive_figure_at_every_size(source):
    table = transfer_table([1, 2], seeds=[0, 1], steps=3, source=source)
    for v in VARIANTS:
        assert table[v].shape == (2, 2) and np.all((0 <= table[v]) & (table[v] <= 1))
    fig = interactive_transfer([1, 2], table)
    assert fig.frame_count == 2
    for params in fig.extreme_settings():
        left, right = fig.render(**params).axes
        assert len(left.lines) == len(VARIANTS) + 1  # four curves and the marker line
        k = params["size"].split()[0]
        assert right.get_title().startswith(f"{k} labelled")
    ax = Figure().add_subplot()
    plot_transfer(ax, [1, 2], table)
    assert ax.get_xlabel().startswith("labelled examples") and ax.get_title()
