"""nnlib.conv against torch.nn.functional: values and gradients, plus clear errors."""

import pytest
import torch
import torch.nn.functional as F

from nnlib.conv import avg_pool2d, conv1d, conv2d, max_pool2d, output_size, windows2d

CASES_2D = [
    # (N, C_in, H, W, C_out, k, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, 3, 1, 0, 1, 1),
    (1, 4, 9, 8, 6, (3, 2), 2, 1, 1, 2),
    (3, 2, 10, 11, 5, 3, (2, 1), (1, 2), 2, 1),
    (2, 6, 8, 8, 6, 3, 1, 1, 1, 6),  # depthwise
    (1, 4, 12, 12, 8, 5, 3, 2, (2, 1), 4),
    (2, 1, 5, 5, 1, 5, 1, 0, 1, 1),  # the kernel covers the whole input
]


def _leaves(*shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("case", CASES_2D)
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_matches_torch(case, with_bias):
    N, C_in, H, W, C_out, k, s, p, d, g = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x, w, b = _leaves((N, C_in, H, W), (C_out, C_in // g, kh, kw), (C_out,))
    b = b if with_bias else None
    ours = conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    ref = F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref)
    upstream = torch.randn_like(ref)
    inputs = [x, w] + ([b] if with_bias else [])
    ga = torch.autograd.grad(ours, inputs, upstream)
    gb = torch.autograd.grad(ref, inputs, upstream)
    for a, r in zip(ga, gb, strict=True):
        torch.testing.assert_close(a, r)


@pytest.mark.parametrize(
    "N,C_in,L,C_out,k,s,p,d,g",
    [(2, 1, 40, 8, 5, 2, 2, 1, 1), (3, 4, 17, 6, 3, 1, 3, 3, 2), (1, 5, 9, 5, 2, 3, 0, 1, 5)],
)
def test_conv1d_matches_torch(N, C_in, L, C_out, k, s, p, d, g):
    x, w, b = _leaves((N, C_in, L), (C_out, C_in // g, k), (C_out,), seed=1)
    ours = conv1d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    ref = F.conv1d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    torch.testing.assert_close(ours, ref)
    up = torch.randn_like(ref)
    for a, r in zip(
        torch.autograd.grad(ours, (x, w, b), up),
        torch.autograd.grad(ref, (x, w, b), up),
        strict=True,
    ):
        torch.testing.assert_close(a, r)


@pytest.mark.parametrize(
    "k,s,p,d",
    [(2, None, 0, 1), (3, 2, 1, 1), ((3, 2), (1, 2), (1, 0), 1), (3, 1, 1, 2), (2, 1, 0, 1)],
)
def test_max_pool2d_matches_torch(k, s, p, d):
    (x,) = _leaves((2, 3, 9, 8), seed=2)  # continuous values: no ties, one argmax per window
    ours = max_pool2d(x, k, stride=s, padding=p, dilation=d)
    ref = F.max_pool2d(x, k, stride=s, padding=p, dilation=d)
    torch.testing.assert_close(ours, ref)
    up = torch.randn_like(ref)
    torch.testing.assert_close(
        torch.autograd.grad(ours, x, up)[0], torch.autograd.grad(ref, x, up)[0]
    )


@pytest.mark.parametrize("k,s,p", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0)), (3, 1, 0)])
def test_avg_pool2d_matches_torch(k, s, p):
    (x,) = _leaves((2, 3, 9, 8), seed=3)
    ours = avg_pool2d(x, k, stride=s, padding=p)
    ref = F.avg_pool2d(x, k, stride=s, padding=p)
    torch.testing.assert_close(ours, ref)
    up = torch.randn_like(ref)
    torch.testing.assert_close(
        torch.autograd.grad(ours, x, up)[0], torch.autograd.grad(ref, x, up)[0]
    )


def test_hand_example_and_output_size():
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = conv2d(x, torch.ones(1, 1, 2, 2))
    assert out.flatten().tolist() == [12.0, 16.0, 24.0, 28.0]  # sums of the four 2x2 squares
    for size, k, s, p, d in [(40, 5, 2, 2, 1), (7, 3, 1, 0, 2), (10, 4, 3, 1, 1)]:
        x = torch.zeros(1, 1, size)
        assert (
            output_size(size, k, s, p, d)
            == F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
        )
    assert windows2d(torch.zeros(2, 3, 6, 5), 3, dilation=2).shape == (2, 3, 2, 1, 3, 3)


def test_clear_errors():
    x = torch.zeros(1, 3, 5, 5)
    with pytest.raises(ValueError, match=r"expected weight of shape \(4, 3, 3, 3\)"):
        conv2d(x, torch.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="padded input has only 5"):
        conv2d(x, torch.zeros(4, 3, 6, 6))
    with pytest.raises(ValueError, match="padded input has only 5"):
        conv2d(x, torch.zeros(4, 3, 3, 3), dilation=3)
    with pytest.raises(ValueError, match="groups=2 must divide"):
        conv2d(x, torch.zeros(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"\(N, C_in, H, W\)"):
        conv2d(torch.zeros(3, 5, 5), torch.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(N, C_in, L\)"):
        conv1d(x, torch.zeros(4, 3, 3))
    with pytest.raises(ValueError, match=r"bias of shape \(4,\)"):
        conv2d(x, torch.zeros(4, 3, 3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="stride and dilation must be >= 1"):
        max_pool2d(x, 2, stride=0)
