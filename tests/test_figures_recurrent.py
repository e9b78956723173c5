"""nnlib.figures.recurrent: tiny configurations, Agg backend."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import adding_problem, sequence_reversal  # noqa: E402
from nnlib.figures import recurrent as fr  # noqa: E402


def test_adding_regressor_forget_bias_and_bad_kind():
    plain = fr.AddingRegressor("lstm", 4, seed=0)
    biased = fr.AddingRegressor("lstm", 4, forget_bias=1.0, seed=0)
    diff = biased.rnn.cells[0].bias_hh - plain.rnn.cells[0].bias_hh
    assert torch.allclose(diff[4:8], torch.ones(4)) and diff[:4].abs().max() == 0
    with pytest.raises(ValueError, match="kind"):
        fr.AddingRegressor("transformer", 4)


def test_train_adding_reduces_the_loss_and_gradient_norms_have_one_value_per_step():
    model, h = fr.train_adding("lstm", length=5, hidden_size=8, steps=60, n_train=256, n_val=64,
                               eval_every=60, lr=2e-2)  # fmt: skip
    assert h.val["loss"][-1] < h.val["loss"][0]
    X, _ = adding_problem(8, 9, seed=0)
    g = fr.input_gradient_norms(model, X)
    assert g.shape == (9,) and np.all(g > 0)


def test_rnn_gradient_decays_with_distance_for_small_recurrent_weights():
    model = fr.AddingRegressor("rnn", 8, seed=0)
    with torch.no_grad():
        model.rnn.cells[0].weight_hh.mul_(0.1)
    g = fr.input_gradient_norms(model, adding_problem(4, 20, seed=0)[0])
    assert g[0] < 1e-6 * g[-1]


def test_lstm_trace_matches_the_layer():
    model = fr.AddingRegressor("lstm", 4, seed=0)
    x = adding_problem(1, 7, seed=0)[0][0]
    trace = fr.lstm_trace(model, x)
    Y, _ = model.rnn(x[None])
    assert np.allclose(trace["y"], Y[0].detach().numpy(), atol=1e-6)
    assert set(trace) == set("zifocy") and ((trace["f"] > 0) & (trace["f"] < 1)).all()


def test_interactive_figures_draw_at_every_control_extreme():
    models = {"RNN": fr.AddingRegressor("rnn", 4), "LSTM": fr.AddingRegressor("lstm", 4)}
    decay = fr.interactive_gradient_decay(models)
    x = adding_problem(1, 10, seed=0)[0][0]
    gates = fr.interactive_lstm_gates(models["LSTM"], x)
    assert decay.frame_count == 6 and gates.frame_count == 2
    for length in (10, 150, 33):
        fig = Figure()
        fr.draw_gradient_decay(fig, length=length, models=models)
        assert len(fig.axes[0].lines) == 2
    trace = fr.lstm_trace(models["LSTM"], x)
    for t in (1, 10, 4):
        fig = Figure()
        fr.draw_lstm_gates(fig, t=t, x=x.numpy(), trace=trace)
        assert len(fig.axes) == 5


def test_reversal_training_and_exact_match_by_length():
    model, h = fr.train_reversal(max_length=4, hidden_size=8, steps=5, n_train=64)
    assert len(h) == 5
    src, tgt = sequence_reversal(40, min_length=2, max_length=4, seed=1)
    acc = fr.exact_match_by_length(model, src, tgt)
    assert sorted(acc) == [2, 3, 4] and all(0 <= a <= 1 for a in acc.values())
    ax = fr.plot_exact_match(Figure().add_subplot(), acc)
    assert ax.get_xlabel()


def test_ppmi_embeddings_solve_the_royal_analogy():
    sentences = fr.royal_corpus(1500, seed=1)
    E, vocab = fr.ppmi_embeddings(sentences, dim=8)
    assert E.shape == (len(vocab), 8)
    assert fr.analogy(E, vocab, "king", "man", "woman")[0] == "queen"
    assert fr.analogy(E, vocab, "princess", "girl", "boy")[0] == "prince"
    ax = fr.plot_embedding_plane(Figure().add_subplot(), E, vocab)
    assert len(ax.texts) >= len(fr.PEOPLE)


def test_corpus_without_structure_gives_no_analogy():
    # with pure noise the person words share no context structure: the analogy is chance
    sentences = fr.royal_corpus(1500, noise=1.0, seed=0)
    E, vocab = fr.ppmi_embeddings(sentences, dim=8)
    word, cos = fr.analogy(E, vocab, "king", "man", "woman")
    assert cos < 0.9


def test_timing_and_plots():
    lengths = [4, 16]
    t = fr.time_recurrence_vs_conv(lengths, batch=2, channels=3, repeats=2)
    assert set(t) == {"rnn", "conv"} and all((v > 0).all() for v in t.values())
    ax = fr.plot_timing(Figure().add_subplot(), lengths, t)
    assert len(ax.lines) == 2
    _, h = fr.train_adding("rnn", length=4, hidden_size=2, steps=2, n_train=16, n_val=8,
                           eval_every=1)  # fmt: skip
    ax = fr.plot_adding_curves(Figure().add_subplot(), {"RNN": h})
    assert ax.get_yscale() == "log"
