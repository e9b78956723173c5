"""nnlib.train.fit against hand-written PyTorch loops, and the History it returns."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnlib.data import digits_split, make_moons
from nnlib.losses import accuracy, classification_loss
from nnlib.mlp import MLP, MLPConfig
from nnlib.regularization import EarlyStopping, L1Proximal, l2_penalty, penalized_weights
from nnlib.train import History, fit, progress, progress_enabled


def _moons():
    X, y = make_moons(64, seed=0)
    return torch.tensor(X), torch.tensor(y)


def _model(out=1, seed=0):
    return MLP(MLPConfig(in_features=2, hidden=[8], out_features=out), seed=seed)


def test_full_batch_equals_the_hand_written_loop():
    X, y = _moons()
    ref, ours = _model(), _model()
    opt = torch.optim.Adam(ref.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        loss = nn.functional.binary_cross_entropy_with_logits(ref(X)[:, 0], y.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    h = fit(ours, X, y, optimizer=torch.optim.Adam(ours.parameters(), lr=0.05), steps=30)
    assert h.loss == losses  # bit for bit
    for p, q in zip(ref.parameters(), ours.parameters(), strict=True):
        assert torch.equal(p, q)
    assert len(h) == 30 and h.epochs == 30 and h.eval_steps == list(range(1, 31))
    assert h.lr == [0.05] * 30 and h.stop_reason == "completed"


def test_mini_batches_schedule_and_evaluation_equal_the_hand_written_loop():
    X, y, X_te, y_te = digits_split()
    cfg = MLPConfig(in_features=64, hidden=[16], out_features=10)
    ref, ours = MLP(cfg, seed=1), MLP(cfg, seed=1)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    g = torch.Generator().manual_seed(3)
    val_acc, steps = [], 0
    for _ in range(2):
        for idx in torch.randperm(len(y), generator=g).split(100):
            opt.zero_grad()
            nn.functional.cross_entropy(ref(X[idx]), y[idx]).backward()
            opt.step()
            steps += 1
        sched.step()
        with torch.no_grad():
            val_acc.append(accuracy(ref(X_te), y_te))
    opt2 = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    h = fit(
        ours, X, y, optimizer=opt2, loss="cross_entropy", epochs=2, batch_size=100,
        val=(X_te, y_te), metrics={"accuracy": accuracy},
        schedule=torch.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5), seed=3,
    )  # fmt: skip
    assert len(h) == steps == 2 * math.ceil(len(y) / 100) and h.epochs == 2
    assert h.eval_steps == [steps // 2, steps]
    assert h.val["accuracy"] == val_acc
    assert h.lr[0] == 0.1 and h.lr[-1] == 0.05  # the schedule stepped after epoch 1
    assert set(h.train) == {"loss", "accuracy"} and len(h.train["loss"]) == 2


def test_random_sampler_draws_with_replacement_like_randint():
    X, y = _moons()
    ref, ours = _model(), _model()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(0)
    for _ in range(7):
        idx = torch.randint(0, len(y), (16,), generator=g)
        opt.zero_grad()
        classification_loss(ref(X[idx]), y[idx]).backward()
        opt.step()
    h = fit(ours, X, y, optimizer=torch.optim.SGD(ours.parameters(), lr=0.1), steps=7,
            batch_size=16, sampler="random", eval_every=3, eval_at_start=True)  # fmt: skip
    assert h.eval_steps == [0, 3, 6, 7]
    for p, q in zip(ref.parameters(), ours.parameters(), strict=True):
        assert torch.equal(p, q)


def test_the_model_is_never_reinitialized():
    X, y = _moons()
    model = _model(seed=5)
    fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=1e-12), steps=1)
    for p, q in zip(model.parameters(), _model(seed=5).parameters(), strict=True):
        assert torch.allclose(p, q)


def test_early_stopping_stops_at_patience_and_restores_the_best_weights():
    X, y = make_moons(30, noise=0.4, seed=0)
    Xv, yv = make_moons(200, noise=0.4, seed=1)
    model = MLP(MLPConfig(in_features=2, hidden=[64, 64], out_features=1), seed=0)
    stopper = EarlyStopping(patience=20)
    h = fit(model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=0.02), epochs=2000,
            val=(Xv, yv), eval_every=1, callbacks=[stopper])  # fmt: skip
    assert h.stop_reason == "early stopping" and len(h) < 2000
    assert stopper.best_epoch == h.best_index == int(np.argmin(h.val["loss"]))
    assert len(h.val["loss"]) == stopper.stopped_epoch + 1
    with torch.no_grad():  # the model holds the best weights again
        best = classification_loss(model.eval()(torch.tensor(Xv)), torch.tensor(yv)).item()
    assert best == pytest.approx(min(h.val["loss"]), abs=1e-7)
    with pytest.raises(ValueError, match="validation set"):
        fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), steps=1,
            callbacks=[EarlyStopping(patience=1)])  # fmt: skip


def test_penalty_and_l1_proximal_step():
    X, y = _moons()
    ref, ours = _model(), _model()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(5):
        loss = classification_loss(ref(X), y) + 0.01 * l2_penalty(penalized_weights(ref))
        opt.zero_grad()
        loss.backward()
        opt.step()
    weights = penalized_weights(ours)
    fit(ours, X, y, optimizer=torch.optim.SGD(ours.parameters(), lr=0.1), steps=5,
        penalty=lambda: 0.01 * l2_penalty(weights))  # fmt: skip
    for p, q in zip(ref.parameters(), ours.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-7)
    model = _model()
    weights = penalized_weights(model)
    fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), steps=50,
        callbacks=[L1Proximal(weights, 0.05)])  # fmt: skip
    assert float((weights[0] == 0).float().mean()) > 0.2  # exact zeros, not just small


def test_stops_on_a_non_finite_loss():
    X, y = _moons()
    model = _model()
    h = fit(model, X * 1e30, y, optimizer=torch.optim.SGD(model.parameters(), lr=1e30),
            steps=50)  # fmt: skip
    assert h.stop_reason == "non-finite loss" and len(h) < 50
    assert not math.isfinite(h.train["loss"][-1])


def test_gradient_clipping_bounds_the_update():
    X, y = _moons()
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=1.0), steps=1,
        clip_grad_norm=1e-3)  # fmt: skip
    moved = torch.cat([(p - q).flatten() for p, q in zip(model.parameters(), before, strict=True)])
    assert moved.norm().item() == pytest.approx(1e-3, rel=1e-4)  # lr 1: the step is the gradient


class _TinyRNNTagger(nn.Module):
    """Token batches in, one class per token out: the shape of chapters 7 to 9."""

    def __init__(self):
        super().__init__()
        self.embed, self.rnn, self.head = nn.Embedding(5, 8), nn.GRU(8, 8, batch_first=True), None
        self.head = nn.Linear(8, 5)

    def forward(self, tokens, shift):  # (B, T) int64, (B,) float32
        h, _ = self.rnn(self.embed(tokens))  # (B, T, 8)
        return self.head(h + shift[:, None, None])  # (B, T, 5)


def test_sequences_with_tuple_inputs_and_a_custom_loss():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 5, (64, 6), generator=g)  # (N, T)
    targets = tokens.roll(1, dims=1)  # predict the previous token: needs memory
    torch.manual_seed(0)
    model = _TinyRNNTagger()

    def token_loss(logits, y):  # (B, T, 5), (B, T)
        return nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())

    def token_accuracy(logits, y):
        return (logits.argmax(-1) == y).float().mean().item()

    h = fit(model, (tokens, torch.zeros(64)), targets, loss=token_loss,
            optimizer=torch.optim.Adam(model.parameters(), lr=0.05), epochs=40, batch_size=16,
            metrics={"accuracy": token_accuracy}, eval_every=None, clip_grad_norm=1.0)  # fmt: skip
    assert len(h) == 40 * 4
    assert h.final("train", "accuracy") > 0.8


def test_bad_arguments_are_named():
    X, y = _moons()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        fit(model, X, y, optimizer=opt)
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        fit(model, X, y, optimizer=opt, steps=1, epochs=1)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, X, y, optimizer=opt, steps=1, batch_size=0)
    with pytest.raises(ValueError, match="differ in length"):
        fit(model, X, y[:-1], optimizer=opt, steps=1)
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, X, y, optimizer=opt, steps=1, loss="hinge")
    with pytest.raises(ValueError, match="sampler"):
        fit(model, X, y, optimizer=opt, steps=1, sampler="bootstrap")
    with pytest.raises(TypeError, match="pair"):
        fit(model, X, y, optimizer=opt, steps=1, val=X)
    with pytest.raises(KeyError, match="accuracy"):
        History().final("train", "accuracy")


def test_progress_is_off_on_the_website_and_with_the_switch(monkeypatch):
    monkeypatch.delenv("NNLIB_WEBSITE", raising=False)
    monkeypatch.setenv("NNLIB_PROGRESS", "0")
    assert not progress_enabled()
    bar = progress(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.setenv("NNLIB_PROGRESS", "1")
    assert progress_enabled() and not progress(range(3)).disable
    assert progress(range(3), disable=True).disable
    monkeypatch.setenv("NNLIB_WEBSITE", "1")
    assert not progress_enabled()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_runs_on_cuda():
    X, y = _moons()
    model = _model().cuda()
    h = fit(model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=0.05), steps=50,
            metrics={"accuracy": accuracy})  # fmt: skip
    assert h.final("train", "accuracy") > 0.8
