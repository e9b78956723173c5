"""Experiments and figures of chapter 8: attention.

- Softmax saturation without the ``1/sqrt(d)`` scale: :func:`mean_max_weight`,
  drawn by :func:`interactive_saturation`.
- Date-format translation with and without attention: :func:`train_dates`
  (either model, with :func:`nnlib.train.fit`), :func:`exact_match_by_source_length`.
- Where the trained model looks: :func:`field_alignment` (does output digit ``t`` attend
  to the source field it comes from?), :func:`interactive_attention_map`, a heat map of
  the attention weights with a query picker over test examples.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnlib.data import DATE_TARGET_SPANS, DATE_VOCAB, DateSet
from nnlib.plots import OKABE_ITO, series_style
from nnlib.seq2seq import Decoder, Encoder, Seq2Seq, exact_match, sequence_loss
from nnlib.seq2seq_attention import AttentionSeq2Seq, attention_seq2seq, generate_with_attention
from nnlib.train import History, fit
from nnlib.widgets import Choice, InteractiveFigure, Slider

__all__ = [
    "SCALES",
    "mean_max_weight",
    "plot_saturation",
    "interactive_saturation",
    "train_dates",
    "exact_match_by_source_length",
    "plot_match_by_length",
    "field_alignment",
    "plot_attention_map",
    "interactive_attention_map",
]

#: The two settings of the saturation figure: the scale factor on the scores.
SCALES = ("1/sqrt(d)", "none")


def _random_scores(d: int, num_keys: int, num_queries: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    Q = torch.randn(num_queries, d, generator=g)  # (N, d), unit variance
    K = torch.randn(num_keys, d, generator=g)  # (num_keys, d)
    return Q @ K.T  # (N, num_keys): each score has variance d


@functools.lru_cache(maxsize=256)  # the interactive figure redraws the same curves per frame
def mean_max_weight(
    d: int, *, scaled: bool, num_keys: int = 10, num_queries: int = 2000, seed: int = 0
) -> float:
    """Mean over random queries of the largest softmax weight, for unit-variance Q and K.

    Examples
    --------
    >>> mean_max_weight(512, scaled=False) > mean_max_weight(512, scaled=True)
    True
    """
    if d < 1 or num_keys < 1:
        raise ValueError(f"d and num_keys must be >= 1, got d={d}, num_keys={num_keys}")
    scores = _random_scores(d, num_keys, num_queries, seed)
    if scaled:
        scores = scores / d**0.5
    return torch.softmax(scores, dim=-1).max(dim=-1).values.mean().item()


def plot_saturation(
    fig: Figure, *, d: int, scale: str, dims: Sequence[int] = tuple(2**k for k in range(10))
) -> None:
    """Left: mean max weight against d, both scales, the chosen point marked.
    Right: the softmax weights of one random query over 10 keys at the chosen setting."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=(1.3, 1))
    for i, s in enumerate(SCALES):
        curve = [mean_max_weight(k, scaled=s == SCALES[0], num_queries=500) for k in dims]
        ax1.plot(dims, curve, label=f"scale {s}", **series_style(i, marker=True))
    ax1.plot([d], [mean_max_weight(d, scaled=scale == SCALES[0], num_queries=500)], "o", ms=12,
             mfc="none", mec=OKABE_ITO["black"], mew=1.5)  # fmt: skip
    ax1.axhline(0.1, color="0.5", lw=0.8, ls=":")
    ax1.text(dims[0], 0.12, "uniform: 1/10", fontsize=8, color="0.3")
    ax1.set(xscale="log", xlabel="dimension d", ylabel="mean max weight", ylim=(0, 1.05),
            title="Saturation at initialization")  # fmt: skip
    ax1.set_xticks(list(dims)[::3], [str(k) for k in list(dims)[::3]])
    ax1.legend(loc="upper left", fontsize=8, frameon=False)
    scores = _random_scores(d, 10, 1, seed=1)[0]  # (10,)
    if scale == SCALES[0]:
        scores = scores / d**0.5
    w = torch.softmax(scores, dim=-1).numpy()
    ax2.bar(np.arange(10), w, color=OKABE_ITO["blue"])
    ax2.set(xlabel="key", ylabel="weight", ylim=(0, 1.05), xticks=range(10),
            title=f"One query, d = {d}")  # fmt: skip


def interactive_saturation() -> InteractiveFigure:
    """The saturation figure with controls for d and the scale."""
    return InteractiveFigure(
        lambda fig, d, scale: plot_saturation(fig, d=int(d), scale=scale),
        [
            Slider(
                "d",
                1,
                512,
                1,
                default=512,
                integer=True,
                label="dimension d",
                static_values=[2**k for k in range(10)],
            ),  # fmt: skip
            Choice("scale", list(SCALES), label="scale"),
        ],
        figsize=(7.0, 3.2),
        dpi=90,
        alt=(
            "Left: mean largest softmax weight over ten random keys against the dimension d, "
            "on a log axis; without scaling it climbs from about 0.3 to above 0.9, with the "
            "1/sqrt(d) scale it stays near 0.3. Right: the ten weights of one random query at "
            "the chosen d and scale, nearly one-hot without scaling at large d."
        ),
    )


def train_dates(
    train: DateSet,
    *,
    attention: bool,
    steps: int,
    embed_dim: int = 32,
    hidden_size: int = 64,
    batch_size: int = 128,
    lr: float = 5e-3,
    seed: int = 0,
) -> tuple[Seq2Seq, History]:
    """Train an encoder-decoder on date pairs, with or without attention.

    With attention: :func:`nnlib.seq2seq_attention.attention_seq2seq` (bidirectional
    encoder, values = the characters' embeddings). Without: chapter 7's
    :class:`~nnlib.seq2seq.Seq2Seq` with a GRU encoder of the same ``hidden_size``.

    Examples
    --------
    >>> from nnlib.data import date_data
    >>> model, h = train_dates(date_data(16), attention=True, steps=2, hidden_size=8)
    >>> len(h)
    2
    """
    V = len(DATE_VOCAB)
    if attention:
        model: Seq2Seq = attention_seq2seq(V, embed_dim=embed_dim, hidden_size=hidden_size,
                                           seed=seed)  # fmt: skip
    else:
        kw = {"embed_dim": embed_dim, "hidden_size": hidden_size, "seed": seed}
        model = Seq2Seq(Encoder(V, **kw), Decoder(V, **kw))
    Y_in, Y_out = train.Y[:, :-1], train.Y[:, 1:]  # (N, 11): <s> + ISO, ISO + </s>
    history = fit(
        model, (train.X, Y_in), Y_out, optimizer=torch.optim.Adam(model.parameters(), lr=lr),
        loss=sequence_loss, steps=steps, batch_size=batch_size, eval_every=None,
        eval_train=False, clip_grad_norm=1.0, seed=seed,
        desc="dates with attention" if attention else "dates without attention",
    )  # fmt: skip
    return model, history


def _hits(model: Seq2Seq, test: DateSet) -> torch.Tensor:
    tgt = test.Y[:, 1:]  # (N, 11)
    return exact_match(model.generate(test.X, tgt.shape[1]), tgt)  # (N,)


def exact_match_by_source_length(
    model: Seq2Seq, test: DateSet, bins: Sequence[int] = (6, 12, 18, 24, 30)
) -> dict[str, float]:
    """Exact match overall and per bin of source length (characters), as ``{"all": ..,
    "6-11": .., ...}``; bins are ``[bins[i], bins[i + 1])``.

    Examples
    --------
    >>> from nnlib.data import date_data
    >>> model, _ = train_dates(date_data(8), attention=False, steps=1, hidden_size=4)
    >>> list(exact_match_by_source_length(model, date_data(20, seed=1), bins=(0, 20, 40)))
    ['all', '0-19', '20-39']
    """
    hits = _hits(model, test).float()
    lengths = torch.tensor([len(s) for s in test.sources])  # (N,)
    out = {"all": hits.mean().item()}
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        sel = (lengths >= lo) & (lengths < hi)
        out[f"{lo}-{hi - 1}"] = hits[sel].mean().item() if sel.any() else float("nan")
    return out


def plot_match_by_length(
    ax: Axes, results: dict[str, dict[str, float]], *, title: str = ""
) -> Axes:
    """Grouped bars: exact match per source-length bin, one colour and hatch per model."""
    bins = [k for k in next(iter(results.values())) if k != "all"]
    width = 0.8 / len(results)
    for i, (name, res) in enumerate(results.items()):
        x = np.arange(len(bins)) + (i - (len(results) - 1) / 2) * width
        ax.bar(x, [res[b] for b in bins], width, label=name, color=series_style(i)["color"],
               hatch=("", "//", "..")[i % 3], edgecolor="white")  # fmt: skip
    ax.set_xticks(np.arange(len(bins)), bins)
    ax.set(xlabel="source length (characters)", ylabel="exact match", ylim=(0, 1.15), title=title)
    ax.legend(loc="upper center", ncols=len(results), fontsize=8, frameon=False)
    return ax


def field_alignment(
    weights: torch.Tensor, spans: torch.Tensor, *, written_only: bool = False
) -> dict[str, float]:
    """Share of output digits whose attention argmax lies in the matching source field.

    Output character ``t`` of "YYYY-MM-DD" belongs to a field (:data:`DATE_TARGET_SPANS`);
    it counts as aligned when the source position it attends to most lies inside that
    field's span in the source. The shares are over all (example, digit) pairs: the 4
    year digits, the 2 month digits, the 2 day digits, and all 8. With
    ``written_only``, output digits that no source character spells are left out: the
    century of a two-digit year, and the leading zero of a one-digit month or day.

    Shapes
    ------
    weights : (N, >= 10, S) attention weights of output steps;  spans : (N, 3, 2).

    Examples
    --------
    >>> w = torch.zeros(1, 10, 6); w[0, :, 0] = 1.0  # every output looks at position 0
    >>> field_alignment(w, torch.tensor([[[0, 2], [2, 4], [4, 6]]]))["year"]
    1.0
    """
    if weights.dim() != 3 or weights.shape[1] < 10 or spans.shape != (weights.shape[0], 3, 2):
        raise ValueError(f"expected weights (N, >= 10, S) and spans (N, 3, 2), got "
                         f"{tuple(weights.shape)} and {tuple(spans.shape)}")  # fmt: skip
    look = weights.argmax(dim=-1)  # (N, T): the source position each output attends to most
    out, total = {}, []
    fields = zip(("year", "month", "day"), DATE_TARGET_SPANS, strict=True)
    for f, (name, (a, b)) in enumerate(fields):
        pos = look[:, a:b]  # (N, digits of the field)
        inside = (pos >= spans[:, f, :1]) & (pos < spans[:, f, 1:])  # (N, digits)
        keep = torch.ones_like(inside)
        if written_only:
            width = spans[:, f, 1] - spans[:, f, 0]  # (N,) characters of the field
            # a field written with fewer digits than the output has spells only the last ones
            keep = torch.arange(b - a) >= (b - a) - width[:, None].clamp(max=b - a)
            if name == "month":  # a month written as a name spells both digits
                keep |= (width > 2)[:, None]
        out[name] = inside[keep].float().mean().item()
        total.append(inside[keep])
    out["all"] = torch.cat(total).float().mean().item()
    return out


def plot_attention_map(
    fig: Figure, *, source: str, output: str, weights: np.ndarray, query: int
) -> None:
    """Top: the weights of every output step (rows) over the source (columns), the
    chosen query outlined. Bottom: the chosen row as bars over the source characters."""
    S, T = len(source), len(output)
    if weights.shape[0] < T or weights.shape[1] < S:
        raise ValueError(f"weights {weights.shape} must cover {T} outputs x {S} sources")
    if not 0 <= query < T:
        raise ValueError(f"query must lie in 0..{T - 1}, got {query}")
    w = weights[:T, :S]
    ax1, ax2 = fig.subplots(2, 1, height_ratios=(1.6, 1))
    im = ax1.imshow(w, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax1.add_patch(__import__("matplotlib.patches").patches.Rectangle(
        (-0.5, query - 0.5), S, 1, fill=False, ec=OKABE_ITO["vermillion"], lw=2))  # fmt: skip
    src_ticks = [c.replace("$", r"\$") for c in source]  # a bare "$" starts mathtext
    ax1.set_xticks(range(S), src_ticks, fontsize=8)
    ax1.set_yticks(range(T), [c.replace("$", r"\$") for c in output], fontsize=8)
    shown = output.split("$")[0]
    src_ticks_out = [repr(c) if c != "$" else "end" for c in output]
    ax1.set(xlabel="source character", ylabel="output character",
            title=f"Attention weights: {source.rstrip('$')} to {shown}")  # fmt: skip
    fig.colorbar(im, ax=ax1, label="weight", shrink=0.9)
    ax2.bar(np.arange(S), w[query], color=OKABE_ITO["blue"])
    ax2.set_xticks(range(S), src_ticks, fontsize=8)
    ax2.set_xlim(-0.5, S - 0.5)
    ax2.set(ylim=(0, 1.05), ylabel="weight", xlabel="source character",
            title=f"Output step {query} ({src_ticks_out[query]}) reads from")  # fmt: skip


def interactive_attention_map(model: AttentionSeq2Seq, test: DateSet, examples: Sequence[int]):
    """The attention map of the trained model on a few test examples, with a query picker."""
    idx = list(examples)
    tokens, weights = generate_with_attention(model, test.X[idx], test.Y.shape[1] - 1)
    # every output step, as the model emitted it; "$" marks the end token
    outputs = ["".join("$" if t == DATE_VOCAB.END else DATE_VOCAB.itos[t] for t in row)
               for row in tokens.tolist()]  # fmt: skip
    data = {test.sources[i]: (outputs[k], weights[k].numpy()) for k, i in enumerate(idx)}
    names = list(data)
    T = tokens.shape[1]

    def draw(fig: Figure, example: str, query: int) -> None:
        output, w = data[example]
        plot_attention_map(fig, source=example + "$", output=output, weights=w, query=int(query))

    return InteractiveFigure(
        draw,
        [
            Choice("example", names, label="test example"),
            Slider(
                "query",
                0,
                T - 1,
                1,
                default=0,
                integer=True,
                label="output step",
                static_values=list(range(T)),
            ),
        ],  # fmt: skip
        figsize=(7.0, 5.6),
        dpi=90,
        alt=(
            "Top: heat map of the trained model's attention weights, one row per output "
            "character of the ISO date and one column per source character, with the chosen "
            "output step outlined; the bright cells pair each output digit with the "
            "matching digits of the source. Bottom: the chosen row's weights as bars over "
            "the source characters."
        ),
    )
