"""Experiments and figures of chapter 9: the Transformer and the Vision Transformer.

- Sequence reversal with an encoder-only Transformer (:class:`nnlib.transformer.TokenTransformer`):
  :func:`reversal_data`, :func:`train_reversal_transformer`, :func:`reversal_exact_match`.
- A causal encoder does not look ahead: :func:`causal_leak`.
- The Vision Transformer against the CNN on MNIST-1D (Greydanus & Kobak 2020) at a
  similar parameter count: :func:`make_vit`, and chapter 6's recipe
  (:func:`nnlib.cnn.train_mnist1d`).
- How far each layer looks: the mean attention distance of a ViT (Dosovitskiy et al.
  2021) per layer and head, :func:`mean_attention_distance`, against the CNN's
  receptive field measured from its gradient, :func:`cnn_layer_fields`.
- Drawings: :func:`plot_positional_encoding`, :func:`interactive_positional_encoding`,
  :func:`draw_attention_maps`, :func:`interactive_attention_maps`,
  :func:`plot_attention_distance`, :func:`plot_token_counts`.
- A corpus for byte-pair encoding: the course's own pages, :func:`course_pages`.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F

from nnlib.cnn import CNN1D, measured_receptive_field
from nnlib.data import FIRST_SYMBOL, sequence_reversal
from nnlib.plots import OKABE_ITO, series_style
from nnlib.train import History, fit
from nnlib.transformer import TokenTransformer, TransformerConfig, sinusoidal_encoding
from nnlib.vit import ViT1D, ViTConfig
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "reversal_data",
    "token_loss",
    "train_reversal_transformer",
    "reversal_exact_match",
    "causal_leak",
    "make_vit",
    "mean_attention_distance",
    "cnn_layer_fields",
    "plot_positional_encoding",
    "draw_positional_encoding",
    "interactive_positional_encoding",
    "draw_attention_maps",
    "interactive_attention_maps",
    "plot_attention_distance",
    "plot_token_counts",
    "course_pages",
]


# --- Sequence reversal -------------------------------------------------------------------


def reversal_data(
    n: int, *, length: int = 12, num_symbols: int = 10, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` strings of ``length`` symbols and their reversal, position by position.

    Every string has the full length, so output position ``t`` must read input
    position ``length - 1 - t``: the model has to know where each token sits.

    Shapes
    ------
    returns src (n, length) int64 and tgt (n, length) int64.

    Examples
    --------
    >>> src, tgt = reversal_data(3, length=5)
    >>> bool(torch.equal(tgt, src.flip(1)))
    True
    """
    src, tgt = sequence_reversal(
        n, min_length=length, max_length=length, num_symbols=num_symbols, seed=seed
    )
    return src, tgt[:, :length]  # drop the end token: every row has the same length


def token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over every position of every sequence.

    Shapes
    ------
    logits : (B, T, V);  targets : (B, T);  returns a scalar.

    Examples
    --------
    >>> round(token_loss(torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long)).item(), 4)
    1.3863
    """
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())  # (B*T, V) against (B*T,)


def train_reversal_transformer(
    *,
    length: int = 12,
    num_symbols: int = 10,
    positional: str = "sinusoidal",
    d_model: int = 64,
    num_heads: int = 4,
    num_layers: int = 2,
    d_ff: int = 128,
    steps: int = 200,
    batch_size: int = 128,
    lr: float = 1e-3,
    n_train: int = 20_000,
    seed: int = 0,
) -> tuple[TokenTransformer, History, float]:
    """Train a pre-norm encoder to reverse strings; return the model, history and seconds.

    AdamW (Loshchilov & Hutter 2019) at a constant rate, batches drawn at random.

    Examples
    --------
    >>> model, h, s = train_reversal_transformer(length=4, d_model=8, num_heads=2, d_ff=8,
    ...                                          steps=2, n_train=16)
    >>> len(h)
    2
    """
    src, tgt = reversal_data(n_train, length=length, num_symbols=num_symbols, seed=seed)
    config = TransformerConfig(
        d_model=d_model, num_heads=num_heads, num_layers=num_layers, d_ff=d_ff,
        norm_first=True, max_len=length, positional=positional,
    )  # fmt: skip
    torch.manual_seed(seed)
    vocab = FIRST_SYMBOL + num_symbols
    model = TokenTransformer(vocab_size=vocab, num_outputs=vocab, config=config)
    start = time.perf_counter()
    history = fit(
        model, src, tgt, optimizer=torch.optim.AdamW(model.parameters(), lr=lr),
        loss=token_loss, steps=steps, batch_size=batch_size, sampler="random",
        eval_every=None, eval_train=False, seed=seed, desc=f"reversal ({positional})",
    )  # fmt: skip
    return model, history, time.perf_counter() - start


@torch.no_grad()
def reversal_exact_match(model: nn.Module, src: torch.Tensor, tgt: torch.Tensor) -> float:
    """Fraction of sequences whose every output token is right.

    Examples
    --------
    >>> class Echo(nn.Module):
    ...     def forward(self, x):
    ...         return F.one_hot(x, 13).float()
    >>> src, tgt = reversal_data(4, length=3)
    >>> reversal_exact_match(Echo(), src, src), reversal_exact_match(Echo(), src, tgt) < 1
    (1.0, True)
    """
    model.eval()
    pred = model(src).argmax(dim=-1)  # (B, T)
    return (pred == tgt).all(dim=1).float().mean().item()


@torch.no_grad()
def causal_leak(block: nn.Module, x: torch.Tensor, t: int, *, is_causal: bool) -> float:
    """Largest change of the outputs at positions ``0..t`` when the tokens after ``t`` change.

    Zero for a causal block: an output never depends on later tokens.

    Shapes
    ------
    x : (B, T, d_model);  returns a float.

    Examples
    --------
    >>> from nnlib.transformer import EncoderBlock
    >>> block = EncoderBlock(d_model=8, num_heads=2, d_ff=16)
    >>> x = torch.randn(2, 6, 8)
    >>> causal_leak(block, x, 2, is_causal=True), causal_leak(block, x, 2, is_causal=False) > 0
    (0.0, True)
    """
    block.eval()
    y = block(x, is_causal=is_causal)  # (B, T, d_model)
    changed = x.clone()
    changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :])
    y2 = block(changed, is_causal=is_causal)
    return (y[:, : t + 1] - y2[:, : t + 1]).abs().max().item()


# --- The Vision Transformer against the CNN ----------------------------------------------


def make_vit(
    *,
    d_model: int = 24,
    num_heads: int = 4,
    num_layers: int = 2,
    d_ff: int = 48,
    patch_size: int = 4,
    pool: str = "mean",
    positional: str = "sinusoidal",
    seed: int = 0,
) -> ViT1D:
    """A seeded :class:`nnlib.vit.ViT1D` for MNIST-1D (40 samples, 10 classes).

    The defaults give about as many parameters as chapter 6's CNN (10,826).

    Examples
    --------
    >>> from nnlib.cnn import num_parameters
    >>> num_parameters(make_vit())
    10162
    """
    t = TransformerConfig(
        d_model=d_model, num_heads=num_heads, num_layers=num_layers, d_ff=d_ff,
        norm_first=True, positional=positional, pos_init_std=0.02,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ViT1D(ViTConfig(patch_size=patch_size, pool=pool, transformer=t))


@torch.no_grad()
def mean_attention_distance(model: ViT1D, X: torch.Tensor) -> np.ndarray:
    """Per layer and head: the attention-weighted distance between query and key patches.

    ``sum_j a_ij |i - j| * patch_size``, averaged over queries ``i`` and signals, in
    input samples (Dosovitskiy et al. 2021, figure 7). A class token, which has no
    place in the signal, is left out as query and as key.

    Shapes
    ------
    X : (B, signal_length);  returns (num_layers, num_heads).

    Examples
    --------
    >>> vit = make_vit(num_layers=1)
    >>> mean_attention_distance(vit, torch.randn(8, 40)).shape
    (1, 4)
    """
    model.eval()
    _, weights = model(X, need_weights=True)
    n = model.num_patches
    pos = torch.arange(n, dtype=torch.float32)
    dist = (pos[:, None] - pos[None, :]).abs() * model.config.patch_size  # (N, N) in samples
    rows = []
    for w in weights:  # (B, h, N[+1], N[+1])
        w = w[..., -n:, -n:]  # patches only
        w = w / w.sum(dim=-1, keepdim=True)  # renormalize after dropping the class token
        rows.append((w * dist).sum(dim=-1).mean(dim=(0, 2)))  # (h,)
    return torch.stack(rows).numpy()


def cnn_layer_fields(model: CNN1D, *, length: int = 200) -> list[int]:
    """Receptive field of each convolutional layer of a (trained) CNN, from its gradient.

    The input positions on which the middle unit after convolution ``l`` (and its ReLU)
    depends, measured by :func:`nnlib.cnn.measured_receptive_field`.

    Examples
    --------
    >>> from nnlib.cnn import CNNConfig
    >>> cnn_layer_fields(CNN1D(CNNConfig(), seed=0))
    [5, 14, 32]
    """
    fields, layers = [], list(model.body)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.ReLU):
            fields.append(measured_receptive_field(nn.Sequential(*layers[: i + 1]), length=length))
    return fields


# --- Drawings ----------------------------------------------------------------------------


def plot_positional_encoding(ax: Axes, pe: np.ndarray, *, dimension: int, title: str = "") -> Axes:
    """The encoding as an image (positions down, dimensions across), one column marked.

    Examples
    --------
    >>> ax = Figure().add_subplot()
    >>> plot_positional_encoding(ax, sinusoidal_encoding(20, 8).numpy(), dimension=3) is ax
    True
    """
    T, d = pe.shape
    ax.imshow(pe, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.axvline(dimension, color="black", lw=1.5, ls="--")
    ax.set(xlabel="dimension $i$", ylabel="position $t$", title=title or f"PE (T={T}, d={d})")
    return ax


def draw_positional_encoding(
    fig: Figure, *, dimension: int, position: int, T: int = 64, d_model: int = 32
) -> None:
    """Three panels: the encoding, one dimension over positions, and the similarity
    ``PE[t] . PE[s]`` of one position ``t`` with every ``s``.

    Examples
    --------
    >>> draw_positional_encoding(Figure(figsize=(9, 3)), dimension=0, position=63)
    """
    pe = sinusoidal_encoding(T, d_model).numpy()  # (T, d)
    ax1, ax2, ax3 = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
    plot_positional_encoding(ax1, pe, dimension=dimension, title="sinusoidal encoding")
    ax1.axhline(position, color="black", lw=1.0, ls=":")
    period = 2 * math.pi * 10000 ** ((dimension - dimension % 2) / d_model)
    ax2.plot(np.arange(T), pe[:, dimension], **series_style(0, marker=True), markersize=3)
    ax2.set(xlabel="position $t$", ylabel=f"PE[t, {dimension}]", ylim=(-1.1, 1.1),
            title=f"dimension {dimension}: period {period:.3g}")  # fmt: skip
    sim = pe @ pe[position]  # (T,)
    ax3.plot(np.arange(T), sim, **series_style(1, marker=True), markersize=3)
    ax3.axvline(position, color="black", lw=1.0, ls=":")
    ax3.set(xlabel="position $s$", ylabel=f"PE[{position}] . PE[s]",
            title=f"similarity to position {position}")  # fmt: skip
    ax3.set_ylim(min(sim.min(), 0) - 1, d_model / 2 + 1)


def interactive_positional_encoding(*, T: int = 64, d_model: int = 32) -> InteractiveFigure:
    """Pick a dimension (its wave) and a position (its similarity to all others)."""

    def draw(fig: Figure, *, dimension: int, position: int) -> None:
        draw_positional_encoding(fig, dimension=dimension, position=position, T=T, d_model=d_model)

    dims = [0, 2, 7, 12, 20, d_model - 1]
    positions = [0, 10, 20, 40, T - 1]
    controls = [
        Slider("dimension", 0, d_model - 1, 1, default=2, integer=True, static_values=dims),
        Slider("position", 0, T - 1, 1, default=20, integer=True, static_values=positions),
    ]
    return InteractiveFigure(
        draw,
        controls,
        figsize=(9.6, 3.2),
        dpi=72,
        alt=(
            "Left: the sinusoidal positional encoding as an image, positions down and "
            "dimensions across, fast stripes on the left and slow ones on the right. "
            "Middle: the chosen dimension as a wave over positions. Right: the dot product "
            "of the chosen position's encoding with every other, highest at the position "
            "itself and falling off smoothly with distance."
        ),
    )


def draw_attention_maps(
    fig: Figure,
    *,
    weights: Sequence[np.ndarray],
    layer: int,
    labels: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """One heatmap per head of layer ``layer`` (1-based): queries down, keys across.

    Shapes
    ------
    weights : a list (one per layer) of (num_heads, T, T) arrays for one input.

    Examples
    --------
    >>> w = [np.full((2, 3, 3), 1 / 3)]
    >>> draw_attention_maps(Figure(), weights=w, layer=1)
    """
    w = weights[layer - 1]
    heads, T, _ = w.shape
    axes = fig.subplots(1, heads, squeeze=False)[0]
    for h, ax in enumerate(axes):
        ax.imshow(w[h], cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"layer {layer}, head {h + 1}")
        ax.set_xlabel("key")
        if labels is not None:
            ticks = np.arange(T)
            ax.set_xticks(ticks, labels, fontsize=7)
            ax.set_yticks(ticks, labels, fontsize=7)
        if h == 0:
            ax.set_ylabel("query")
    if title:
        fig.suptitle(title)


def interactive_attention_maps(
    models: dict[str, tuple[Sequence[Sequence[np.ndarray]], Sequence[Sequence[str]]]],
    *,
    examples: int = 4,
) -> InteractiveFigure:
    """Attention of every head, for a chosen model, layer and test example.

    ``models`` maps a name to ``(weights, labels)``: ``weights[e][l]`` is the
    (num_heads, T, T) attention of layer ``l`` on example ``e`` and ``labels[e]`` the
    tick labels of its tokens.
    """
    names = list(models)
    num_layers = min(len(models[n][0][0]) for n in names)

    def draw(fig: Figure, *, model: str, layer: int, example: int) -> None:
        weights, labels = models[model]
        draw_attention_maps(fig, weights=weights[example], layer=layer, labels=labels[example],
                            title=f"{model}: example {example}")  # fmt: skip

    controls = [
        Slider("layer", 1, num_layers, 1, default=num_layers, integer=True),
        Slider("example", 0, examples - 1, 1, integer=True),
    ]
    if len(names) > 1:  # a menu with one entry would be a control that changes nothing
        controls.insert(0, Choice("model", names))
    else:
        draw = functools.partial(draw, model=names[0])
    return InteractiveFigure(
        draw,
        controls,
        figsize=(9.6, 3.0),
        dpi=72,
        alt=(
            "Attention weights of every head of one layer of a trained model, one heatmap "
            "per head with queries down and keys across; for the reversal model one head "
            "of the second layer puts its weight on the anti-diagonal, each output position "
            "reading the mirrored input position."
        ),
    )


def plot_attention_distance(
    ax: Axes, vit_distance: np.ndarray, cnn_fields: Sequence[int], *, title: str = ""
) -> Axes:
    """Per layer: every ViT head's mean attention distance (markers) and the CNN's field.

    Examples
    --------
    >>> ax = plot_attention_distance(Figure().add_subplot(), np.ones((2, 4)), [5, 14, 32])
    >>> ax.get_xlabel()
    'layer'
    """
    L, H = vit_distance.shape
    for h in range(H):
        label = "ViT: mean attention distance (one dot per head)" if h == 0 else None
        ax.plot(np.arange(1, L + 1) + 0.04 * (h - H / 2), vit_distance[:, h], ls="none",
                marker="o", color=OKABE_ITO["blue"], alpha=0.8, label=label)  # fmt: skip
    layers = np.arange(1, len(cnn_fields) + 1)
    ax.plot(layers, cnn_fields, **series_style(1, marker=True), label="CNN: receptive field")
    ax.set(xlabel="layer", ylabel="input samples", title=title or "How far each layer looks",
           xticks=np.arange(1, max(L, len(cnn_fields)) + 1))  # fmt: skip
    return ax


def plot_token_counts(ax: Axes, counts: dict[str, int], *, title: str = "") -> Axes:
    """Horizontal bars: how many tokens each tokenizer makes of the same text.

    Examples
    --------
    >>> plot_token_counts(Figure().add_subplot(), {"a": 3, "b": 5}).get_xlabel()
    'tokens'
    """
    names = list(counts)
    y = np.arange(len(names))
    ax.barh(y, [counts[n] for n in names], color=[series_style(int(i))["color"] for i in y])
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xlabel="tokens", title=title or "Tokens in the same text")
    return ax


def course_pages(root: str | Path | None = None) -> dict[str, str]:
    """The course's own Markdown pages, ``book/*.md``, by file name: a corpus in the repo.

    Looked for under ``root``, else next to the working directory (a notebook runs in
    ``notebooks/``) and in the repository that holds this package. Where the pages
    are not at hand (``nnlib`` installed alone, as on Colab) the docstrings of
    ``nnlib``'s own modules stand in.

    Examples
    --------
    >>> pages = course_pages()
    >>> len(pages) > 0 and all(isinstance(t, str) for t in pages.values())
    True
    """
    bases = [Path(root)] if root is not None else [
        Path.cwd().parent, Path.cwd(), Path(__file__).resolve().parents[3],
    ]  # fmt: skip
    for base in bases:
        pages = sorted((base / "book").glob("*.md"))
        if pages:
            return {p.name: p.read_text(encoding="utf-8") for p in pages}
    if root is not None:
        raise FileNotFoundError(f"no book/*.md under {root}")
    import importlib
    import pkgutil

    import nnlib

    docs = {}
    for info in pkgutil.iter_modules(nnlib.__path__):
        doc = importlib.import_module(f"nnlib.{info.name}").__doc__
        if doc:
            docs[f"{info.name}.py"] = doc
    return docs
