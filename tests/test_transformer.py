import math

import pytest
import torch
from torch import nn

from nnlib.attention import causal_mask, padding_mask
from nnlib.transformer import (
    DecoderBlock,
    Encoder,
    EncoderBlock,
    FeedForward,
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    TokenTransformer,
    TransformerConfig,
    sinusoidal_encoding,
)

D, H, D_FF = 12, 3, 20


def _randn(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


@torch.no_grad()
def _perturb(module, seed):
    # Random weights everywhere (norm gains and biases included), so no part is a no-op.
    for i, p in enumerate(module.parameters()):
        p.copy_(0.3 * _randn(*p.shape, seed=seed + i) + (1.0 if p.dim() == 1 and i % 3 == 0 else 0))


def _assert_params_grads_match(ours, ref):
    ours_g = sorted(round(float(p.grad.abs().sum()), 8) for p in ours.parameters())
    ref_g = sorted(round(float(p.grad.abs().sum()), 8) for p in ref.parameters())
    # The packed in-projection of PyTorch holds our W_q, W_k, W_v: compare totals.
    torch.testing.assert_close(torch.tensor(sum(ours_g)), torch.tensor(sum(ref_g)))
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())


def _masks(kind, B, T):
    ours, ref = {}, {}
    if kind in ("padding", "both"):
        valid = padding_mask(torch.tensor([T, 2, T - 1][:B]), T)
        ours["key_valid"], ref["src_key_padding_mask"] = valid, ~valid  # opposite conventions
    if kind in ("causal", "both"):
        ours["is_causal"] = True
        ref["src_mask"], ref["is_causal"] = ~causal_mask(T), True
    return ours, ref


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "both"])
def test_encoder_block_matches_torch(norm_first, activation, masks):
    B, T = 3, 6
    ref = nn.TransformerEncoderLayer(
        D, H, D_FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    ).double()
    _perturb(ref, seed=10)
    ours = EncoderBlock(D, H, D_FF, activation=activation, norm_first=norm_first).double()
    ours.load_torch_weights(ref)
    x1 = _randn(B, T, D, seed=1).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    kw, kw_ref = _masks(masks, B, T)
    y1, y2 = ours(x1, **kw), ref(x2, **kw_ref)
    torch.testing.assert_close(y1, y2)
    g = _randn(B, T, D, seed=2)
    (y1 * g).sum().backward()
    (y2 * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.ff.linear1.weight.grad, ref.linear1.weight.grad)
    torch.testing.assert_close(ours.norm1.weight.grad, ref.norm1.weight.grad)
    torch.testing.assert_close(ours.attn.W_o.weight.grad, ref.self_attn.out_proj.weight.grad)
    q_grad = ref.self_attn.in_proj_weight.grad[:D]
    torch.testing.assert_close(ours.attn.W_q.weight.grad, q_grad)
    _assert_params_grads_match(ours, ref)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_matches_torch(norm_first):
    B, T, S = 3, 5, 7
    ref = nn.TransformerDecoderLayer(
        D, H, D_FF, dropout=0.0, activation="gelu", batch_first=True, norm_first=norm_first
    ).double()
    _perturb(ref, seed=20)
    ours = DecoderBlock(D, H, D_FF, activation="gelu", norm_first=norm_first).double()
    ours.load_torch_weights(ref)
    x1, m1 = _randn(B, T, D, seed=1).requires_grad_(), _randn(B, S, D, seed=2).requires_grad_()
    x2, m2 = (t.detach().clone().requires_grad_() for t in (x1, m1))
    mem_valid = padding_mask(torch.tensor([S, 3, 5]), S)
    y1 = ours(x1, m1, memory_valid=mem_valid)
    y2 = ref(
        x2, m2, tgt_mask=~causal_mask(T), tgt_is_causal=True, memory_key_padding_mask=~mem_valid
    )
    torch.testing.assert_close(y1, y2)
    g = _randn(B, T, D, seed=3)
    (y1 * g).sum().backward()
    (y2 * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(m1.grad, m2.grad)
    torch.testing.assert_close(
        ours.cross_attn.W_k.weight.grad, ref.multihead_attn.in_proj_weight.grad[D : 2 * D]
    )
    torch.testing.assert_close(ours.norm3.bias.grad, ref.norm3.bias.grad)
    _assert_params_grads_match(ours, ref)


def test_decoder_is_causal_over_the_target():
    torch.manual_seed(0)
    block = DecoderBlock(8, 2, 16).eval()
    x, memory = torch.randn(1, 5, 8), torch.randn(1, 4, 8)
    x2 = x.clone()
    x2[:, 3:] += 5.0
    torch.testing.assert_close(block(x, memory)[:, :3], block(x2, memory)[:, :3])


def test_sinusoidal_encoding_formula_and_relative_rotation():
    pe = sinusoidal_encoding(30, 6)
    t, i = 7, 1
    assert math.isclose(pe[t, 2 * i].item(), math.sin(t / 10000 ** (2 * i / 6)), rel_tol=1e-6)
    assert math.isclose(pe[t, 2 * i + 1].item(), math.cos(t / 10000 ** (2 * i / 6)), rel_tol=1e-6)
    torch.testing.assert_close(pe.norm(dim=1), torch.full((30,), math.sqrt(3)))
    # PE[t + k] . PE[t] depends on k only.
    dots = [(pe[t] @ pe[t + 4]).item() for t in (0, 5, 20)]
    assert max(dots) - min(dots) < 1e-5
    with pytest.raises(ValueError, match="even d_model"):
        sinusoidal_encoding(5, 7)


def test_positional_encodings_add_and_check_shapes():
    x = torch.zeros(2, 5, 8)
    sin = SinusoidalPositionalEncoding(8, 10)
    torch.testing.assert_close(sin(x)[1], sinusoidal_encoding(5, 8))
    learned = LearnedPositionalEncoding(8, 10)
    torch.testing.assert_close(learned(x)[0], learned.pe[:5])
    learned(x).sum().backward()
    assert learned.pe.grad[:5].eq(2).all() and learned.pe.grad[5:].eq(0).all()
    with pytest.raises(ValueError, match="T <= 10"):
        sin(torch.zeros(2, 11, 8))
    with pytest.raises(ValueError, match="8"):
        learned(torch.zeros(2, 5, 4))


def test_feed_forward_acts_per_token():
    ff = FeedForward(4, 8)
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(ff(x)[:, 1], ff(x[:, 1]))
    with pytest.raises(ValueError, match="activation"):
        FeedForward(4, 8, activation="tanh")


@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_token_transformer_shapes(positional, norm_first):
    torch.manual_seed(0)
    cfg = TransformerConfig(
        d_model=16,
        num_heads=4,
        num_layers=2,
        max_len=12,
        positional=positional,
        norm_first=norm_first,
    )
    model = TokenTransformer(vocab_size=7, num_outputs=5, config=cfg)
    tokens = torch.randint(0, 7, (3, 9))
    logits, ws = model(tokens, key_valid=padding_mask([9, 4, 6], 9), need_weights=True)
    assert logits.shape == (3, 9, 5) and len(ws) == 2 and ws[1].shape == (3, 4, 9, 9)
    assert ws[0][1, :, :, 4:].abs().max() == 0  # padding keys get no weight
    torch.testing.assert_close(ws[0].sum(-1), torch.ones(3, 4, 9))
    assert isinstance(model.encoder.norm, nn.Module)
    with pytest.raises(ValueError, match="int64"):
        model(torch.zeros(3, 9))
    with pytest.raises(ValueError, match="positional"):
        Encoder(TransformerConfig(positional="rotary"))


def test_encoder_without_positions_is_permutation_equivariant():
    # Attention alone ignores order; the positional encoding is what breaks the symmetry.
    torch.manual_seed(0)
    enc = Encoder(TransformerConfig(d_model=8, num_heads=2, num_layers=2)).eval()
    x, perm = torch.randn(2, 6, 8), torch.tensor([3, 0, 5, 1, 4, 2])
    y_blocks = x
    for block in enc.blocks:
        y_blocks = block(y_blocks)
    y_perm = x[:, perm]
    for block in enc.blocks:
        y_perm = block(y_perm)
    torch.testing.assert_close(y_perm, y_blocks[:, perm])
    assert not torch.allclose(enc(x[:, perm]), enc(x)[:, perm], atol=1e-3)
