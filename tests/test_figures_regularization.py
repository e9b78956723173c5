import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

from nnlib.data import make_moons  # noqa: E402
from nnlib.figures.regularization import (  # noqa: E402
    IRRELEVANT_SETTING,
    SETTING,
    interactive_regularization,
    irrelevant_inputs_splits,
    moons_splits,
    near_zero_fraction,
    plot_learning_curves,
    plot_weight_histogram,
    train_irrelevant_inputs,
    train_regularized,
    train_setting,
    weight_vector,
)
from nnlib.mlp import predict_classes  # noqa: E402
from nnlib.regularization import (  # noqa: E402
    DropoutMLP,
    EarlyStopping,
    best_epoch,
    penalized_weights,
)
from nnlib.train import History  # noqa: E402
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
    hist = History(train={"loss": [1.0, 0.4, 0.1]}, val={"loss": [1.0, 0.5, 0.8]})
    ax = plot_learning_curves(Figure().add_subplot(), hist)
    assert "epoch 1" in ax.get_legend().get_texts()[2].get_text()


def test_l2_training_equals_torch_weight_decay_on_weights_only():
    X, y = make_moons(30, seed=0)
    lam, lr = 0.01, 0.05
    ours = DropoutMLP(in_features=2, hidden=[8], out_features=1, seed=2)
    train_regularized(ours, X, y, X, y, epochs=25, lr=lr, momentum=0.9, l2=lam)
    ref = DropoutMLP(in_features=2, hidden=[8], out_features=1, seed=2)
    weights = [p for p in ref.parameters() if p.ndim >= 2]
    biases = [p for p in ref.parameters() if p.ndim < 2]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": 2 * lam}, {"params": biases}], lr=lr, momentum=0.9
    )
    Xt, yt = torch.tensor(X), torch.tensor(y).float()
    for _ in range(25):
        loss = nn.functional.binary_cross_entropy_with_logits(ref(Xt)[:, 0], yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_l1_proximal_training_gives_exact_zeros_and_early_stopping_restores_best():
    X, y = make_moons(40, noise=0.3, seed=1)
    Xv, yv = make_moons(200, noise=0.3, seed=2)
    net = DropoutMLP(in_features=2, hidden=[16, 16], out_features=1, seed=0)
    train_regularized(net, X, y, Xv, yv, epochs=200, lr=0.05, l1=0.01)
    W = torch.cat([w.detach().flatten() for w in penalized_weights(net)])
    assert (W == 0).double().mean() > 0.2  # exact zeros, from the soft-thresholding
    net = DropoutMLP(in_features=2, hidden=[16, 16], out_features=1, seed=0)
    train_regularized(net, X, y, Xv, yv, epochs=200, lr=0.05, l2=0.01)
    assert all((w != 0).all() for w in penalized_weights(net))  # L2 alone never lands on 0
    net = DropoutMLP(in_features=2, hidden=[16, 16], out_features=1, seed=0)
    stopper = EarlyStopping(patience=30)
    hist = train_regularized(net, X, y, Xv, yv, epochs=400, lr=0.05, early_stopping=stopper)
    assert stopper.best_epoch == best_epoch(hist.val["loss"]) == hist.best_index
    assert len(hist.val["loss"]) == stopper.stopped_epoch + 1 < 400
    assert hist.stop_reason == "early stopping"
    with torch.no_grad():
        restored = nn.functional.binary_cross_entropy_with_logits(
            net.eval()(torch.tensor(Xv))[:, 0], torch.tensor(yv).float()
        )
    assert abs(restored.item() - min(hist.val["loss"])) < 1e-6
    with pytest.raises(ValueError):
        train_regularized(net, X, y, Xv, yv, epochs=0)


def test_irrelevant_inputs_splits_append_label_free_noise_to_the_moons():
    cfg = IRRELEVANT_SETTING
    s = irrelevant_inputs_splits(seed=1)
    X, y = s["train"]
    assert X.shape == (cfg["n_train"], 2 + cfg["n_irrelevant"])
    X_moons, y_moons = make_moons(cfg["n_train"], noise=cfg["noise"], seed=100)
    np.testing.assert_array_equal(X[:, :2], X_moons)
    np.testing.assert_array_equal(y, y_moons)
    # The noise columns carry no label information: the class means agree (the standard
    # error of a difference of means over 250 points per class is about 0.09).
    Xv, yv = s["val"]
    assert np.abs(Xv[yv == 1, 2:].mean(0) - Xv[yv == 0, 2:].mean(0)).max() < 0.4
    assert not np.allclose(irrelevant_inputs_splits(seed=2)["train"][0], X)


def test_l1_cuts_off_the_noise_inputs_and_eval_every_none_evaluates_once():
    _, none = train_irrelevant_inputs("none", seed=0)
    _, l1 = train_irrelevant_inputs("L1", 0.03, seed=0)
    assert none["train"] == 1.0 and none["zero_irrelevant"] == 0.0
    assert l1["zero_irrelevant"] > 0.5 and l1["input_ratio"] > 2 * none["input_ratio"]
    assert l1["val"] > none["val"]
    with pytest.raises(ValueError, match="penalty"):
        train_irrelevant_inputs("L3", 0.1)
    X, y = make_moons(30, seed=0)
    net = DropoutMLP(in_features=2, hidden=[8], out_features=1, seed=0)
    hist = train_regularized(net, X, y, X, y, epochs=20, eval_every=None)
    assert len(hist) == 20 and len(hist.val["loss"]) == len(hist.train["loss"]) == 1


def test_trained_models_are_returned_in_evaluation_mode():
    # With dropout, a model left in training mode would draw new masks at every
    # prediction: decision regions would be speckled and accuracies random.
    model, hist, _ = train_setting("none", 0.0, 0.5)
    assert not model.training
    X, y = moons_splits()["val"]
    first, second = predict_classes(model, X), predict_classes(model, X)
    np.testing.assert_array_equal(first, second)
    assert np.mean(first == y) == pytest.approx(hist.final("val", "accuracy"))
    assert not train_irrelevant_inputs("none", seed=0)[0].training
