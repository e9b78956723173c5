"""Convolution and pooling from scratch: ``conv2d``, ``conv1d``, ``max_pool2d``, ``avg_pool2d``.

A convolutional layer slides one small kernel over every position of its input
and takes a dot product there (LeCun et al. 1989). What deep-learning libraries
call a convolution is a *cross-correlation*: the kernel is not flipped. Each
function here is written in three steps that a student can follow:

1. **pad** the input with zeros (``-inf`` for max pooling) on every spatial side;
2. **gather windows** with :meth:`torch.Tensor.unfold`: a view that puts every
   ``kH x kW`` patch of the input at its own output position ("im2col" without the
   copy). Dilation takes a window of span ``d (k - 1) + 1`` and keeps every
   ``d``-th entry; stride is the step between windows;
3. **reduce** each window: a dot product with the kernel (convolution), its
   maximum or its mean (pooling). With ``groups`` the channels split into
   independent groups, each with its own kernels; ``groups = C_in`` is the
   depthwise convolution of MobileNet and ConvNeXt.

PyTorch's autograd differentiates these views and sums, so the gradients come
for free; ``tests/test_conv.py`` checks values and gradients against
``torch.nn.functional``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["output_size", "windows2d", "conv2d", "conv1d", "max_pool2d", "avg_pool2d"]


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair


def output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Number of kernel positions along one axis: ``(size + 2p - d(k-1) - 1) // s + 1``.

    Shapes
    ------
    Scalars in, a scalar out.

    Examples
    --------
    >>> output_size(40, 5, stride=2, padding=2)
    20
    """
    span = dilation * (kernel - 1) + 1  # the input length that one dilated kernel covers
    if size + 2 * padding < span:
        raise ValueError(
            f"the kernel spans {span} positions (kernel {kernel}, dilation {dilation}) but "
            f"the padded input has only {size + 2 * padding} (size {size}, padding {padding})"
        )
    return (size + 2 * padding - span) // stride + 1


def windows2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    fill: float = 0.0,
) -> torch.Tensor:
    """Every (dilated) ``kH x kW`` window of a padded batch of images, as a view.

    Shapes
    ------
    x : (N, C, H, W);  returns (N, C, H_out, W_out, kH, kW).

    Examples
    --------
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> windows2d(x, 2, stride=2)[0, 0, 1, 0]
    tensor([[ 8.,  9.],
            [12., 13.]])
    """
    if x.dim() != 4:
        raise ValueError(f"expected an input of shape (N, C, H, W), got {tuple(x.shape)}")
    (kh, kw), (sh, sw) = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
    (ph, pw), (dh, dw) = _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError("kernel_size, stride and dilation must be >= 1 and padding >= 0")
    output_size(x.shape[2], kh, sh, ph, dh)  # raises if the kernel does not fit
    output_size(x.shape[3], kw, sw, pw, dw)
    x = F.pad(x, (pw, pw, ph, ph), value=fill)  # (N, C, H + 2ph, W + 2pw)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    patches = x.unfold(2, span_h, sh).unfold(3, span_w, sw)  # (N, C, H_out, W_out, span_h, span_w)
    return patches[..., ::dh, ::dw]  # (N, C, H_out, W_out, kH, kW)


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` computes it.

    ``out[n, o, i, j] = b[o] + sum_{c,u,v} W[o,c,u,v] x_pad[n, g C_g + c, s i + d u, s j + d v]``
    where ``g`` is output channel ``o``'s group and ``C_g = C_in / groups``.

    Shapes
    ------
    x : (N, C_in, H, W);  weight : (C_out, C_in / groups, kH, kW);  bias : (C_out,);
    returns (N, C_out, H_out, W_out) with ``H_out = output_size(H, kH, s, p, d)``.

    Examples
    --------
    >>> x = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]])
    >>> conv2d(x, torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]]))  # x[i, j] - x[i+1, j+1]
    tensor([[[[-4., -4.],
              [-4., -4.]]]])
    """
    if x.dim() != 4 or weight.dim() != 4:
        raise ValueError(
            f"expected x (N, C_in, H, W) and weight (C_out, C_in/groups, kH, kW), "
            f"got {tuple(x.shape)} and {tuple(weight.shape)}"
        )
    N, C_in = x.shape[:2]
    C_out, C_g, kh, kw = weight.shape
    if groups < 1 or C_in % groups or C_out % groups:
        raise ValueError(f"groups={groups} must divide both C_in={C_in} and C_out={C_out}")
    if C_g * groups != C_in:
        raise ValueError(
            f"weight expects {C_g * groups} input channels ({C_g} per group x {groups} groups), "
            f"got an input with C_in={C_in}: expected weight of shape "
            f"({C_out}, {C_in // groups}, {kh}, {kw})"
        )
    if bias is not None and tuple(bias.shape) != (C_out,):
        raise ValueError(f"expected bias of shape ({C_out},), got {tuple(bias.shape)}")
    cols = windows2d(x, (kh, kw), stride=stride, padding=padding, dilation=dilation)
    H_out, W_out = cols.shape[2:4]
    cols = cols.reshape(N, groups, C_g, H_out, W_out, kh, kw)  # (N, G, C_g, H_out, W_out, kH, kW)
    w = weight.reshape(groups, C_out // groups, C_g, kh, kw)  # (G, C_out/G, C_g, kH, kW)
    out = torch.einsum("ngchwuv,gocuv->ngohw", cols, w)  # (N, G, C_out/G, H_out, W_out)
    out = out.reshape(N, C_out, H_out, W_out)  # (N, C_out, H_out, W_out)
    return out if bias is None else out + bias.view(1, C_out, 1, 1)


def conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> torch.Tensor:
    """1-D cross-correlation: :func:`conv2d` on images one pixel high.

    Shapes
    ------
    x : (N, C_in, L);  weight : (C_out, C_in / groups, k);  returns (N, C_out, L_out).

    Examples
    --------
    >>> conv1d(torch.tensor([[[1.0, 2.0, 4.0, 8.0]]]), torch.tensor([[[-1.0, 1.0]]]))
    tensor([[[1., 2., 4.]]])
    """
    if x.dim() != 3 or weight.dim() != 3:
        raise ValueError(
            f"expected x (N, C_in, L) and weight (C_out, C_in/groups, k), "
            f"got {tuple(x.shape)} and {tuple(weight.shape)}"
        )
    out = conv2d(
        x.unsqueeze(2),  # (N, C_in, 1, L)
        weight.unsqueeze(2),  # (C_out, C_in/groups, 1, k)
        bias,
        stride=(1, stride),
        padding=(0, padding),
        dilation=(1, dilation),
        groups=groups,
    )
    return out.squeeze(2)  # (N, C_out, L_out)


def max_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """The largest value of each window (padding with ``-inf`` never wins).

    Shapes
    ------
    x : (N, C, H, W);  returns (N, C, H_out, W_out); ``stride`` defaults to the kernel size.

    Examples
    --------
    >>> max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    stride = kernel_size if stride is None else stride
    cols = windows2d(
        x, kernel_size, stride=stride, padding=padding, dilation=dilation, fill=float("-inf")
    )  # (N, C, H_out, W_out, kH, kW)
    return cols.amax(dim=(-2, -1))  # (N, C, H_out, W_out)


def avg_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """The mean of each window, zero padding included in the count (PyTorch's default).

    Shapes
    ------
    x : (N, C, H, W);  returns (N, C, H_out, W_out); ``stride`` defaults to the kernel size.

    Examples
    --------
    >>> avg_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    stride = kernel_size if stride is None else stride
    cols = windows2d(x, kernel_size, stride=stride, padding=padding)  # (N, C, H_out, W_out, kH, kW)
    return cols.mean(dim=(-2, -1))  # (N, C, H_out, W_out)
