import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnlib.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

SHAPES = [  # (leading dims, T_q, T_k, d_head, d_v)
    ((), 3, 3, 4, 4),
    ((2,), 4, 6, 5, 3),
    ((2, 3), 5, 5, 8, 8),
    ((3, 2), 7, 4, 4, 6),
]


def _randn(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _qkv(lead, T_q, T_k, d_head, d_v, seed=0):
    return (
        _randn(*lead, T_q, d_head, seed=seed).requires_grad_(),
        _randn(*lead, T_k, d_head, seed=seed + 1).requires_grad_(),
        _randn(*lead, T_k, d_v, seed=seed + 2).requires_grad_(),
    )


def _copies(tensors):
    return [t.detach().clone().requires_grad_() for t in tensors]


def _assert_same_values_and_grads(ours, ref, inputs_ours, inputs_ref, seed=99):
    torch.testing.assert_close(ours, ref)
    g = _randn(*ref.shape, seed=seed)
    (ours * g).sum().backward()
    (ref * g).sum().backward()
    for a, b in zip(inputs_ours, inputs_ref, strict=True):
        torch.testing.assert_close(a.grad, b.grad)


def _random_bool_mask(shape, seed, keep_one=True):
    m = torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) < 0.6
    if keep_one:  # every query sees at least one key
        m[..., 0] = True
    return m


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_sdpa_matches_torch(shape, kind):
    lead, T_q, T_k, d_head, d_v = shape
    ours_in = _qkv(*shape)
    ref_in = _copies(ours_in)
    kw_ours, kw_ref = {}, {}
    if kind == "bool":
        m = _random_bool_mask((*lead, T_q, T_k), seed=3)
        kw_ours, kw_ref = {"mask": m}, {"attn_mask": m}
    elif kind == "float":
        m = _randn(T_q, T_k, seed=4)  # broadcast over the leading dimensions
        m[0, -1] = float("-inf")
        kw_ours, kw_ref = {"mask": m}, {"attn_mask": m}
    elif kind == "causal":
        kw_ours = kw_ref = {"is_causal": True}
    ours = scaled_dot_product_attention(*ours_in, **kw_ours)
    ref = F.scaled_dot_product_attention(*ref_in, **kw_ref)
    _assert_same_values_and_grads(ours, ref, ours_in, ref_in)


def test_sdpa_custom_scale_and_weights_match_softmax():
    Q, K, V = _qkv((2,), 3, 5, 4, 2)
    out, w = scaled_dot_product_attention(Q, K, V, scale=0.3, return_weights=True)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(Q, K, V, scale=0.3))
    torch.testing.assert_close(w, torch.softmax(Q @ K.transpose(-2, -1) * 0.3, dim=-1))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, dtype=w.dtype))


def test_sdpa_passes_finite_differences_with_a_mask():
    Q, K, V = _qkv((2,), 3, 4, 3, 2)
    m = _random_bool_mask((3, 4), seed=1)
    assert torch.autograd.gradcheck(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=m), (Q, K, V)
    )


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_row_gives_zeros_and_finite_gradients(kind):
    Q, K, V = _qkv((2,), 4, 5, 3, 2)
    keep = torch.ones(2, 4, 5, dtype=torch.bool)
    keep[0, 1] = False  # query 1 of batch 0 may see no key
    keep[1, 3, :4] = False  # a partly masked row for contrast
    mask = (
        keep
        if kind == "bool"
        else torch.zeros(keep.shape, dtype=Q.dtype).masked_fill(~keep, float("-inf"))
    )
    out, w = scaled_dot_product_attention(Q, K, V, mask=mask, return_weights=True)
    assert torch.equal(out[0, 1], torch.zeros(2, dtype=Q.dtype))
    assert torch.equal(w[0, 1], torch.zeros(5, dtype=Q.dtype))
    torch.testing.assert_close(w[1, 3], torch.eye(5, dtype=Q.dtype)[4])  # only key 4 left
    assert torch.isfinite(out).all()
    out.sum().backward()
    for t in (Q, K, V):
        assert torch.isfinite(t.grad).all()
    assert torch.equal(Q.grad[0, 1], torch.zeros(3, dtype=Q.dtype))  # it read nothing
    # PyTorch agrees (its math path returns zeros for such rows too).
    ref_in = _copies((Q, K, V))
    ref = F.scaled_dot_product_attention(*ref_in, attn_mask=mask)
    torch.testing.assert_close(out, ref)


def test_causal_mask_blocks_the_future():
    Q, K, V = _qkv((), 4, 4, 3, 3)
    out = scaled_dot_product_attention(Q, K, V, is_causal=True)
    V2 = V.detach().clone()
    V2[2:] += 100.0  # change only the values of future keys of queries 0 and 1
    out2 = scaled_dot_product_attention(Q, K, V2, is_causal=True)
    torch.testing.assert_close(out[:2], out2[:2])
    assert not torch.allclose(out[2:], out2[2:])
    assert causal_mask(2, 3).tolist() == [[True, False, False], [True, True, False]]


def test_sdpa_errors_name_what_was_expected():
    Q, K, V = _qkv((2,), 3, 4, 5, 6)
    with pytest.raises(ValueError, match="same size d_head"):
        scaled_dot_product_attention(Q, K[..., :4], V)
    with pytest.raises(ValueError, match="same T_k"):
        scaled_dot_product_attention(Q, K, V[:, :3])
    with pytest.raises(ValueError, match="leading"):
        scaled_dot_product_attention(Q, K[:1], V[:1])
    with pytest.raises(TypeError, match="one dtype"):
        scaled_dot_product_attention(Q, K.float(), V)
    with pytest.raises(TypeError, match="floating-point"):
        scaled_dot_product_attention(Q, K.long(), V)
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(Q, K, V, mask=torch.ones(4, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool tensor"):
        scaled_dot_product_attention(Q, K, V, mask=torch.ones(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(
            Q, K, V, mask=torch.ones(3, 4, dtype=torch.bool), is_causal=True
        )
    with pytest.raises(ValueError, match="T, d"):
        scaled_dot_product_attention(Q[0, 0], K, V)


def _pair(d_model, num_heads, seed=0):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(d_model, num_heads, batch_first=True).double()
    with torch.no_grad():  # non-zero biases, so a mix-up of q/k/v biases would show
        ref.in_proj_bias.copy_(_randn(3 * d_model, seed=seed + 7))
        ref.out_proj.bias.copy_(_randn(d_model, seed=seed + 8))
    ours = MultiHeadAttention(d_model, num_heads).double().load_torch_weights(ref)
    return ours, ref


def _check_grads(ours, ref):
    pairs = [
        (ours.W_o.weight.grad, ref.out_proj.weight.grad),
        (ours.W_o.bias.grad, ref.out_proj.bias.grad),
        (
            torch.cat([ours.W_q.weight.grad, ours.W_k.weight.grad, ours.W_v.weight.grad]),
            ref.in_proj_weight.grad,
        ),
        (
            torch.cat([ours.W_q.bias.grad, ours.W_k.bias.grad, ours.W_v.bias.grad]),
            ref.in_proj_bias.grad,
        ),
    ]
    for a, b in pairs:
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "B,T_q,T_k,d_model,num_heads", [(2, 5, 5, 8, 2), (3, 4, 7, 12, 3), (1, 6, 6, 8, 8)]
)
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "both", "float"])
def test_multi_head_attention_matches_torch(B, T_q, T_k, d_model, num_heads, masks):
    ours, ref = _pair(d_model, num_heads)
    q = _randn(B, T_q, d_model, seed=1).requires_grad_()
    kv = q if T_q == T_k else _randn(B, T_k, d_model, seed=2).requires_grad_()
    q2 = q.detach().clone().requires_grad_()
    kv2 = q2 if T_q == T_k else kv.detach().clone().requires_grad_()
    kw, kw_ref = {}, {}
    if masks in ("padding", "both"):
        lengths = torch.randint(1, T_k + 1, (B,), generator=torch.Generator().manual_seed(5))
        valid = padding_mask(lengths, T_k)
        kw["key_valid"], kw_ref["key_padding_mask"] = valid, ~valid  # opposite conventions
    if masks in ("causal", "both"):
        kw["is_causal"] = True
        kw_ref["attn_mask"] = ~causal_mask(T_q, T_k)  # torch: True = blocked
    if masks == "float":
        m = _randn(T_q, T_k, seed=3)
        kw["mask"], kw_ref["attn_mask"] = m, m
    out, w = ours(q, kv, kv, need_weights=True, **kw)
    ref_out, ref_w = ref(q2, kv2, kv2, need_weights=True, average_attn_weights=False, **kw_ref)
    torch.testing.assert_close(w, ref_w)
    _assert_same_values_and_grads(
        out, ref_out, [q] + ([] if kv is q else [kv]), [q2] + ([] if kv2 is q2 else [kv2])
    )
    _check_grads(ours, ref)


def test_multi_head_attention_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        mha(torch.randn(2, 5, 6))
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        mha(torch.randn(5, 8))
    with pytest.raises(ValueError, match="key_valid"):
        mha(x, key_valid=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="key_valid"):
        mha(x, key_valid=torch.ones(2, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        mha(x, mask=torch.ones(5, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="lengths"):
        padding_mask(torch.tensor([[1]]), 3)
    with pytest.raises(ValueError, match="0..3"):
        padding_mask(torch.tensor([4]), 3)
    with pytest.raises(ValueError, match="embed_dim"):
        mha.load_torch_weights(nn.MultiheadAttention(8, 4, batch_first=True))


def test_multi_head_attention_ignores_padding_values():
    mha = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 6, 8, generator=torch.Generator().manual_seed(0))
    valid = padding_mask([4], 6)
    x2 = x.clone()
    x2[:, 4:] = 1e3  # garbage in the padding must not reach the real tokens
    torch.testing.assert_close(mha(x, key_valid=valid)[:, :4], mha(x2, key_valid=valid)[:, :4])


def test_multi_head_attention_with_an_empty_sequence_stays_finite():
    # A sequence of length 0 (every key padding) reads nothing: its output is W_o's bias.
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out, w = mha(x, key_valid=padding_mask([4, 0], 4), need_weights=True)
    assert torch.equal(w[1], torch.zeros(2, 4, 4))
    torch.testing.assert_close(out[1], mha.W_o.bias.expand(4, 8))
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in (x, *mha.parameters()))
    assert x.grad[1].abs().max() == 0
