"""The attention encoder-decoder of chapter 8: shapes, masks, padding, and the attention
step against PyTorch's scaled_dot_product_attention."""

import pytest
import torch
from torch.nn import functional as F

from nnlib.seq2seq import sequence_loss
from nnlib.seq2seq_attention import BiEncoder, attention_seq2seq, generate_with_attention

SRC = torch.tensor([[3, 4, 5, 6, 2], [7, 3, 2, 0, 0], [5, 2, 0, 0, 0]])  # right-padded


@pytest.mark.parametrize("values", ["embeddings", "states"])
def test_shapes_and_weights(values):
    model = attention_seq2seq(9, embed_dim=4, hidden_size=5, values=values, seed=0)
    logits = model(SRC, torch.tensor([[1, 4, 5], [1, 3, 3], [1, 6, 6]]))
    assert logits.shape == (3, 3, 9)
    tokens, w = generate_with_attention(model, SRC, 6)
    assert tokens.shape == (3, 6) and w.shape == (3, 6, 5)
    assert torch.allclose(w.sum(-1), torch.ones(3, 6), atol=1e-6)
    assert w[1, :, 3:].abs().max() == 0 and w[2, :, 2:].abs().max() == 0  # padding unread
    assert torch.equal(tokens, model.generate(SRC, 6))


def test_padding_does_not_change_a_sequence():
    """A source padded to any length gives the same memory and state as unpadded."""
    enc = BiEncoder(9, embed_dim=4, hidden_size=5, values="states", seed=1)
    memory, state, mask = enc(SRC)
    alone, state_alone, _ = enc(SRC[1:2, :3])
    assert torch.allclose(memory[1, :3], alone[0], atol=1e-6)
    assert torch.allclose(state[0][1], state_alone[0][0], atol=1e-6)
    assert mask.sum().item() == 10


def test_attention_step_equals_pytorch():
    torch.manual_seed(0)
    model = attention_seq2seq(9, embed_dim=4, hidden_size=5, seed=0)
    memory, _, mask = model.encoder(SRC)
    K, V = model.keys_values(memory)
    h = torch.randn(3, 5, requires_grad=True)
    ctx, w = model.attend(K, V, mask, h)
    Q = model.W_q(h)[:, None, :]
    ref = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask[:, None, :])[:, 0]
    assert torch.allclose(ctx, ref, atol=1e-6)
    (g,) = torch.autograd.grad(ctx.square().sum(), h, retain_graph=True)
    (g_ref,) = torch.autograd.grad(ref.square().sum(), h)
    assert torch.allclose(g, g_ref, atol=1e-6)


def test_gradients_reach_every_parameter():
    model = attention_seq2seq(9, embed_dim=4, hidden_size=5, seed=0)
    tgt = torch.tensor([[4, 5, 2], [3, 2, 0], [6, 6, 2]])
    sequence_loss(model(SRC, torch.tensor([[1, 4, 5], [1, 3, 2], [1, 6, 6]])), tgt).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == ["decoder.embed.weight"] or missing == [], missing


def test_seeded_models_are_equal():
    a, b = attention_seq2seq(9, seed=3), attention_seq2seq(9, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_errors():
    with pytest.raises(ValueError, match="values must be one of"):
        BiEncoder(9, embed_dim=4, hidden_size=5, values="keys")
    enc = BiEncoder(9, embed_dim=4, hidden_size=5)
    with pytest.raises(ValueError, match="padding at the end"):
        enc(torch.tensor([[0, 3, 4]]))
    with pytest.raises(ValueError, match="non-empty"):
        enc(torch.tensor([[0, 0, 0]]))
    with pytest.raises(ValueError, match="int64 tokens"):
        enc(torch.tensor([3.0, 4.0]))
    from nnlib.seq2seq import Decoder
    from nnlib.seq2seq_attention import AttentionSeq2Seq

    with pytest.raises(ValueError, match="context_size"):
        AttentionSeq2Seq(enc, Decoder(9, embed_dim=4, hidden_size=5, context_size=3))
