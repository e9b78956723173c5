"""Chapter 6's experiments and drawings: kernels on an image, receptive fields, MNIST-1D.

* :func:`interactive_kernel` applies a 3x3 kernel (:data:`KERNELS` presets, with
  an editable centre weight live) to a test image with :func:`nnlib.conv.conv2d`.
* :func:`interactive_receptive_field` draws which units of a stack of
  convolutions one output unit depends on, down to the input.

The MNIST-1D benchmark's experiments and figures are in :mod:`nnlib.figures.mnist1d`.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from nnlib.cnn import receptive_field
from nnlib.conv import conv2d
from nnlib.plots import series_style
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "KERNELS",
    "demo_image",
    "apply_kernel",
    "draw_kernel",
    "interactive_kernel",
    "field_layers",
    "draw_receptive_field",
    "interactive_receptive_field",
]

#: 3x3 kernels of the editor: identity, a Laplacian edge detector, a box blur, sharpening.
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "edge": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
}


def demo_image(size: int = 32) -> np.ndarray:
    """A grey test picture: a bright square, a disc, a diagonal bar and a soft gradient.

    Shapes
    ------
    returns (size, size) floats in [0, 1].

    Examples
    --------
    >>> demo_image().shape
    (32, 32)
    """
    if size < 8:
        raise ValueError(f"size must be at least 8, got {size}")
    r, c = np.mgrid[0:size, 0:size] / size  # (size, size) each, in [0, 1)
    img = 0.25 * c  # a left-to-right gradient as the background
    img[(r > 0.12) & (r < 0.45) & (c > 0.1) & (c < 0.42)] = 1.0  # square
    img[(r - 0.7) ** 2 + (c - 0.7) ** 2 < 0.04] = 0.8  # disc
    img[np.abs(r - c) < 0.04] = 0.55  # diagonal bar
    return img


def apply_kernel(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlate ``image`` with ``kernel`` (zero padding keeps the size).

    Shapes
    ------
    image : (H, W);  kernel : (k, k) with k odd;  returns (H, W).

    Examples
    --------
    >>> float(apply_kernel(np.ones((4, 4)), KERNELS["identity"]).sum())
    16.0
    """
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
        raise ValueError(f"expected an odd square kernel (k, k), got shape {k.shape}")
    x = torch.as_tensor(np.asarray(image, dtype=float))[None, None]  # (1, 1, H, W)
    w = torch.as_tensor(k)[None, None]  # (1, 1, k, k)
    return conv2d(x, w, padding=k.shape[0] // 2)[0, 0].numpy()  # (H, W)


def draw_kernel(fig: Figure, *, preset: str, center: float = 0.0) -> None:
    """Image, kernel (``center`` added to its middle weight) and feature map, side by side.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_kernel(fig, preset="edge")
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['input image', 'edge kernel', 'feature map']
    """
    kernel = KERNELS[preset].copy()
    kernel[1, 1] += center
    image = demo_image()
    out = apply_kernel(image, kernel)
    ax_in, ax_k, ax_out = fig.subplots(1, 3, gridspec_kw={"width_ratios": [3, 2, 3]})
    ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title("input image")
    bound = max(1.0, float(np.abs(kernel).max()))
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
    for (i, j), v in np.ndenumerate(kernel):
        dark = abs(v) > 0.6 * bound  # white text on the saturated cells
        ax_k.text(
            j,
            i,
            f"{v:.2g}",
            ha="center",
            va="center",
            fontsize=9,
            color="white" if dark else "black",
        )
    ax_k.set_title(f"{preset} kernel" + (f" {center:+.2g}" if center else ""))
    lim = max(float(np.abs(out).max()), 1e-9)
    ax_out.imshow(out, cmap="gray", vmin=-lim if out.min() < 0 else 0, vmax=lim)
    ax_out.set_title("feature map")
    for ax in (ax_in, ax_k, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])


def interactive_kernel() -> InteractiveFigure:
    """A kernel editor: presets as the website's frames, the centre weight live.

    Examples
    --------
    >>> interactive_kernel().frame_count
    4
    """
    return InteractiveFigure(
        draw_kernel,
        [
            Choice("preset", list(KERNELS), default="edge"),
            Slider("center", -4.0, 4.0, 0.5, default=0.0),
        ],
        static=["preset"],
        figsize=(7.5, 2.8),
        dpi=90,
        alt=(
            "Three panels: a grey test picture with a square, a disc and a diagonal bar; the "
            "chosen 3 by 3 kernel with its nine weights written in its cells; and the feature "
            "map that the kernel produces, where edges, blur or sharpening show."
        ),
    )


def field_layers(
    layers: int, kernel_size: int, stride: int, dilation: int, *, outputs: int = 3
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Unit centres (in input positions) and which of them the middle output unit sees.

    The stack has ``layers`` identical unpadded convolutions; the input is just long
    enough for ``outputs`` output units. Entry 0 is the input, the last the output.

    Shapes
    ------
    returns one pair per level: centres (n_l,) float, seen (n_l,) bool.

    Examples
    --------
    >>> [int(seen.sum()) for _, seen in field_layers(2, 3, 1, 1)]
    [5, 3, 1]
    """
    specs = [(kernel_size, stride, dilation)] * layers
    span = dilation * (kernel_size - 1)
    length = receptive_field(specs) + (outputs - 1) * stride**layers
    sizes = [length]
    for _ in range(layers):
        sizes.append((sizes[-1] - span - 1) // stride + 1)
    seen = [np.zeros(n, dtype=bool) for n in sizes]
    seen[-1][sizes[-1] // 2] = True
    for level in range(layers, 0, -1):  # walk down: unit i reads s i + d u, u < k
        for i in np.flatnonzero(seen[level]):
            seen[level - 1][stride * i + dilation * np.arange(kernel_size)] = True
    # Unit i of level l reads units s i + d u of level l - 1, so its centre (in input
    # positions) is that of the middle of those: start + jump (s i + d (k - 1) / 2).
    result, start, jump = [], 0.0, 1
    for level in range(layers + 1):
        result.append((start + jump * np.arange(sizes[level]), seen[level]))
        start += jump * span / 2
        jump *= stride
    return result


def draw_receptive_field(
    fig: Figure, *, layers: int, kernel_size: int, stride: int, dilation: int
) -> None:
    """Units of every level as dots; those the middle output unit depends on filled.

    Examples
    --------
    >>> fig = Figure()
    >>> draw_receptive_field(fig, layers=2, kernel_size=3, stride=1, dilation=1)
    >>> fig.axes[0].get_title()
    'receptive field 5 inputs (2 layers, k=3, s=1, d=1)'
    """
    levels = field_layers(int(layers), int(kernel_size), int(stride), int(dilation))
    ax = fig.add_subplot()
    seen_style, other_style = series_style(0), series_style(1)
    for level, (centres, seen) in enumerate(levels):
        ax.scatter(centres[~seen], np.full((~seen).sum(), level), s=8, color="0.75", marker="o")
        ax.scatter(
            centres[seen], np.full(seen.sum(), level), s=18, color=seen_style["color"], marker="o"
        )
    inp, seen0 = levels[0]
    lo, hi = inp[seen0].min(), inp[seen0].max()
    ax.add_patch(
        Rectangle((lo - 0.5, -0.4), hi - lo + 1, 0.8, color=other_style["color"], alpha=0.25)
    )
    rf = receptive_field([(int(kernel_size), int(stride), int(dilation))] * int(layers))
    ax.set_yticks(range(len(levels)), ["input"] + [f"layer {i}" for i in range(1, len(levels))])
    ax.set_xlabel("input position")
    ax.set_ylim(-0.7, len(levels) - 0.3)
    ax.set_title(
        f"receptive field {rf} inputs ({int(layers)} layers, k={int(kernel_size)}, "
        f"s={int(stride)}, d={int(dilation)})",
        fontsize="medium",
    )


def interactive_receptive_field() -> InteractiveFigure:
    """Layers, kernel size, stride and dilation against the input region one output sees.

    Examples
    --------
    >>> interactive_receptive_field().frame_count
    72
    """
    return InteractiveFigure(
        draw_receptive_field,
        [
            Slider("layers", 1, 4, 1, default=3, static_values=(1, 2, 3, 4), integer=True),
            Slider("kernel_size", 2, 5, 1, default=3, static_values=(2, 3, 5), integer=True),
            Slider("stride", 1, 3, 1, default=1, static_values=(1, 2, 3), integer=True),
            Slider("dilation", 1, 2, 1, default=1, static_values=(1, 2), integer=True),
        ],
        figsize=(7.0, 3.0),
        dpi=90,
        alt=(
            "Rows of dots, one row per level from the input at the bottom to the last layer at "
            "the top; the dots that the middle output unit depends on are filled in blue and the "
            "input positions it sees are shaded, a region that widens with more layers, larger "
            "kernels, strides and dilation."
        ),
    )
