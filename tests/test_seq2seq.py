"""nnlib.seq2seq: shapes, teacher forcing against step-by-step decoding, padding, context hook."""

import pytest
import torch

from nnlib.data import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, sequence_reversal
from nnlib.seq2seq import Decoder, Encoder, Seq2Seq, exact_match, sequence_loss, shift_right


def _model(cell="gru", layers=1, context_size=0):
    kw = {"embed_dim": 5, "hidden_size": 7, "cell": cell, "num_layers": layers, "seed": 0}
    return Seq2Seq(Encoder(13, **kw), Decoder(13, context_size=context_size, **kw))


@pytest.mark.parametrize(("cell", "layers"), [("gru", 1), ("lstm", 2), ("rnn", 1)])
def test_teacher_forcing_equals_feeding_the_same_tokens_step_by_step(cell, layers):
    model = _model(cell, layers)
    src, tgt = sequence_reversal(4, min_length=2, max_length=6, seed=0)
    logits = model(src, shift_right(tgt))
    assert logits.shape == (4, 7, 13)
    _, state, _ = model.encoder(src)
    for t, token in enumerate(shift_right(tgt).T):
        step_logits, state = model.decoder.step(token, state)
        assert torch.allclose(step_logits, logits[:, t], atol=1e-6)


def test_padding_does_not_change_the_encoding():
    enc = Encoder(13, embed_dim=5, hidden_size=7, seed=0)
    short = torch.tensor([[3, 4, 5]])
    padded = torch.tensor([[3, 4, 5, PAD_TOKEN, PAD_TOKEN]])
    assert torch.allclose(enc(short)[1][0], enc(padded)[1][0])


def test_generate_feeds_back_its_own_argmax():
    model = _model()
    src = torch.tensor([[3, 4, 5, 6]])
    out = model.generate(src, 3)
    logits = model(src, torch.cat([torch.tensor([[BOS_TOKEN]]), out[:, :2]], dim=1))
    assert torch.equal(logits.argmax(-1), out)


def test_context_hook_reaches_the_decoder():
    class Constant(Seq2Seq):
        def context(self, enc_states, src_mask, state):
            return enc_states.mean(dim=1)  # (B, H): a stand-in for attention

    kw = {"embed_dim": 5, "hidden_size": 7, "seed": 0}
    model = Constant(Encoder(13, **kw), Decoder(13, context_size=7, **kw))
    src, tgt = sequence_reversal(3, min_length=2, max_length=4, seed=0)
    assert model(src, shift_right(tgt)).shape == (3, 5, 13)
    with pytest.raises(ValueError, match="context"):  # a context-free step on this decoder
        model.decoder.step(tgt[:, 0], [torch.zeros(3, 7)])
    with pytest.raises(ValueError, match="context"):  # a context for a decoder without one
        _model().decoder.step(tgt[:, 0], [torch.zeros(3, 7)], torch.zeros(3, 7))


def test_loss_ignores_padding_and_exact_match_stops_at_eos():
    logits = torch.zeros(1, 3, 13)
    logits[0, 0, 5] = 100.0
    assert sequence_loss(logits, torch.tensor([[5, PAD_TOKEN, PAD_TOKEN]])).item() < 1e-6
    tgt = torch.tensor([[5, 4, EOS_TOKEN], [6, EOS_TOKEN, PAD_TOKEN]])
    pred = torch.tensor([[5, 4, EOS_TOKEN, 9], [6, EOS_TOKEN, 7, 7]])
    assert exact_match(pred, tgt).tolist() == [True, True]
    pred[0, 2] = 4  # EOS missed
    assert exact_match(pred, tgt).tolist() == [False, True]


def test_bad_input_is_refused():
    model = _model()
    with pytest.raises(ValueError, match="int64 tokens"):
        model.encoder(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="outside"):
        model.encoder(torch.tensor([[3, 99]]))
    with pytest.raises(ValueError, match="cell must be one of"):
        Encoder(13, embed_dim=5, hidden_size=7, cell="transformer")
    with pytest.raises(ValueError, match="EOS"):
        exact_match(torch.zeros(1, 3, dtype=torch.int64), torch.tensor([[3, 4, 5]]))
    with pytest.raises(ValueError, match="cover"):
        exact_match(torch.zeros(1, 1, dtype=torch.int64), torch.tensor([[3, EOS_TOKEN]]))
