"""Experiments and figures of chapter 7: recurrent networks, the LSTM, sequence to sequence.

- The adding problem (Hochreiter & Schmidhuber 1997): :class:`AddingRegressor`,
  :func:`train_adding`, and the gradient that reaches each time step,
  :func:`input_gradient_norms`, drawn by :func:`interactive_gradient_decay`.
- The gates of a trained LSTM, step by step: :func:`lstm_trace`,
  :func:`interactive_lstm_gates`.
- Sequence reversal with the encoder-decoder of :mod:`nnlib.seq2seq`:
  :func:`train_reversal`, :func:`exact_match_by_length`.
- Word vectors factorized from co-occurrence counts (positive PMI, then a truncated
  SVD; Levy & Goldberg 2014) on a generated corpus: :func:`royal_corpus`,
  :func:`ppmi_embeddings`, :func:`analogy`.
- Wall time of a recurrence against a convolution: :func:`time_recurrence_vs_conv`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F

from nnlib.data import FIRST_SYMBOL, adding_problem, sequence_reversal
from nnlib.plots import OKABE_ITO, series_style
from nnlib.recurrent import GRU, LSTM, RNN
from nnlib.seq2seq import Decoder, Encoder, Seq2Seq, exact_match, sequence_loss, shift_right
from nnlib.train import History, fit
from nnlib.widgets import InteractiveFigure, Slider

__all__ = [
    "ADDING_BASELINE",
    "AddingRegressor",
    "train_adding",
    "input_gradient_norms",
    "plot_adding_curves",
    "plot_gradient_norms",
    "draw_gradient_decay",
    "interactive_gradient_decay",
    "lstm_trace",
    "draw_lstm_gates",
    "interactive_lstm_gates",
    "train_reversal",
    "exact_match_by_length",
    "plot_exact_match",
    "PEOPLE",
    "royal_corpus",
    "ppmi_embeddings",
    "analogy",
    "people_analogies",
    "plot_embedding_plane",
    "time_recurrence_vs_conv",
    "plot_timing",
]

#: Validation MSE of always answering 1 on the adding problem: Var(U1 + U2) = 1/6.
ADDING_BASELINE = 1 / 6
LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class AddingRegressor(nn.Module):
    """A recurrent layer and a linear read-out of its last output: one number per sequence.

    ``forget_bias`` is added to the LSTM's forget-gate bias, so that a fresh cell
    starts by keeping its memory (Gers et al. 2000; Jozefowicz et al. 2015).

    Shapes
    ------
    X : (B, T, 2);  returns (B,).

    Examples
    --------
    >>> AddingRegressor("lstm", 8, seed=0)(torch.zeros(3, 5, 2)).shape
    torch.Size([3])
    """

    def __init__(self, kind: str, hidden_size: int, *, forget_bias: float = 0.0, seed: int = 0):
        super().__init__()
        if kind not in LAYERS:
            raise ValueError(f"kind must be one of {sorted(LAYERS)}, got {kind!r}")
        self.kind = kind
        self.rnn = LAYERS[kind](2, hidden_size, seed=seed)
        if kind == "lstm":
            H = hidden_size
            with torch.no_grad():
                self.rnn.cells[0].bias_hh[H : 2 * H] += forget_bias  # the f block (order i f z o)
        g = torch.Generator().manual_seed(seed + 100)
        self.head = nn.Linear(hidden_size, 1)
        with torch.no_grad():
            for p in self.head.parameters():
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) / hidden_size**0.5)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y, _ = self.rnn(X)  # (B, T, H)
        return self.head(Y[:, -1]).squeeze(-1)  # (B,)


def train_adding(
    kind: str,
    *,
    length: int = 50,
    hidden_size: int = 32,
    steps: int = 600,
    batch_size: int = 64,
    lr: float = 1e-2,
    forget_bias: float = 1.0,
    n_train: int = 10_000,
    n_val: int = 1_000,
    eval_every: int = 50,
    seed: int = 0,
) -> tuple[AddingRegressor, History]:
    """Train an :class:`AddingRegressor` with Adam and gradient clipping (norm 1).

    Examples
    --------
    >>> model, h = train_adding("rnn", length=6, hidden_size=4, steps=2, n_train=32,
    ...                         n_val=16, eval_every=1)
    >>> len(h), len(h.val["loss"])
    (2, 3)
    """
    X, y = adding_problem(n_train, length, seed=seed)
    X_val, y_val = adding_problem(n_val, length, seed=seed + 1)
    model = AddingRegressor(kind, hidden_size, forget_bias=forget_bias, seed=seed)
    history = fit(
        model, X, y, optimizer=torch.optim.Adam(model.parameters(), lr=lr),
        loss=F.mse_loss, steps=steps, batch_size=batch_size, val=(X_val, y_val),
        eval_every=eval_every, eval_train=False, eval_at_start=True, clip_grad_norm=1.0,
        seed=seed, desc=f"{kind} on the adding problem",
    )  # fmt: skip
    return model, history


def input_gradient_norms(model: nn.Module, X: torch.Tensor) -> np.ndarray:
    """Mean over the batch of ``|d output / d x_t|``: the gradient that reaches step ``t``.

    Shapes
    ------
    X : (B, T, C);  returns (T,).

    Examples
    --------
    >>> input_gradient_norms(AddingRegressor("rnn", 4), torch.rand(2, 7, 2)).shape
    (7,)
    """
    X = X.detach().clone().requires_grad_()
    model.zero_grad()
    model(X).sum().backward()  # each example's output depends on its own sequence only
    return X.grad.norm(dim=-1).mean(dim=0).numpy()  # (T,)


def plot_adding_curves(ax: Axes, histories: dict[str, History], *, title: str = "") -> Axes:
    """Validation MSE against the step, one line per model, and the 1/6 baseline."""
    for i, (name, h) in enumerate(histories.items()):
        ax.plot(h.eval_steps, h.val["loss"], label=name, ms=4, **series_style(i, marker=True))
    ax.axhline(ADDING_BASELINE, color="gray", ls=":", lw=1)
    ax.text(0, ADDING_BASELINE * 1.15, "always answer 1 (MSE 1/6)", color="gray", fontsize="small")
    ax.set(xlabel="Adam step", ylabel="validation MSE (log scale)", yscale="log", title=title)
    return ax


def plot_gradient_norms(ax: Axes, norms: dict[str, np.ndarray], *, title: str = "") -> Axes:
    """Gradient norm reaching each time step (log scale), one line per model."""
    for i, (name, g) in enumerate(norms.items()):
        t = np.arange(1, len(g) + 1)
        ax.plot(t, g, label=name, markevery=max(1, len(g) // 10), ms=4,
                **series_style(i, marker=True))  # fmt: skip
    ax.set(xlabel="time step $t$", ylabel=r"$\|\partial \hat y / \partial \mathbf{x}_t\|$",
           yscale="log", title=title)  # fmt: skip
    ax.legend(loc="lower right", fontsize="small")
    return ax


def draw_gradient_decay(fig: Figure, *, length: int, models: dict[str, nn.Module]) -> None:
    """The gradient reaching each step of adding-problem sequences of ``length`` steps."""
    X, _ = adding_problem(64, int(length), seed=7)
    norms = {name: input_gradient_norms(m, X) for name, m in models.items()}
    ax = fig.add_subplot()
    plot_gradient_norms(ax, norms, title=f"Gradient reaching each step, T = {int(length)}")
    low = min(float(g.min()) for g in norms.values())
    ax.set_ylim(max(low, 1e-12) / 2, None)


def interactive_gradient_decay(models: dict[str, nn.Module]) -> InteractiveFigure:
    """Sequence length against the gradient norm reaching each step, for trained models.

    Live: any length from 10 to 150; website: 6 lengths.
    """
    return InteractiveFigure(
        lambda fig, length: draw_gradient_decay(fig, length=length, models=models),
        [
            Slider(
                "length",
                10,
                150,
                1,
                default=50,
                static_values=(10, 25, 50, 75, 100, 150),
                integer=True,
                label="length T",
            )
        ],  # fmt: skip
        figsize=(5.6, 3.6),
        dpi=90,
        alt=(
            "Log-scale plot of the gradient norm of the trained model's output with respect to "
            "each input step, for the vanilla RNN and the LSTM, on sequences of the chosen "
            "length: the RNN's curve falls steeply towards early steps, the LSTM's stays flat."
        ),
    )


def lstm_trace(model: AddingRegressor, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Gates, cell and output of an LSTM's first layer at every step of one sequence.

    Shapes
    ------
    x : (T, C);  returns arrays of shape (T, H) for ``"z", "i", "f", "o", "c", "y"``.

    Examples
    --------
    >>> trace = lstm_trace(AddingRegressor("lstm", 4), torch.rand(6, 2))
    >>> trace["f"].shape
    (6, 4)
    """
    cell = model.rnn.cells[0]
    state = cell.zero_state(1, x)
    out = {k: [] for k in "zifocy"}
    with torch.no_grad():
        wx = cell.input_projection(x[None])  # (1, T, 4H)
        for t in range(x.shape[0]):
            g = cell.gates(wx[:, t], state)
            state = (g["y"], g["c"])
            for k in out:
                out[k].append(g[k][0].numpy())
    return {k: np.stack(v) for k, v in out.items()}


def draw_lstm_gates(fig: Figure, *, t: int, x: np.ndarray, trace: dict[str, np.ndarray]) -> None:
    """The input up to step ``t`` and the gates and cell of every unit up to step ``t``."""
    T, t = x.shape[0], int(t)
    axes = fig.subplots(5, 1, sharex=True, height_ratios=[1.2, 1, 1, 1, 1])
    steps = np.arange(1, T + 1)
    marked = x[:, 1] > 0.5
    axes[0].bar(steps[:t], x[:t, 0], color=OKABE_ITO["sky_blue"])
    axes[0].bar(steps[:t][marked[:t]], x[:t, 0][marked[:t]], color=OKABE_ITO["vermillion"],
                hatch="//", label="marked")  # fmt: skip
    axes[0].set(ylim=(0, 1.05), ylabel="input")
    axes[0].set_title(f"Step {t} of {T}: marked numbers in vermillion", fontsize="medium")
    rows = [("i", "input gate $i$", (0, 1)), ("f", "forget gate $f$", (0, 1)),
            ("o", "output gate $o$", (0, 1)), ("c", "cell $c$", None)]  # fmt: skip
    cmax = float(np.abs(trace["c"]).max())
    for ax, (key, label, lim) in zip(axes[1:], rows, strict=True):
        values = np.full_like(trace[key].T, np.nan)  # (H, T): nothing after step t
        values[:, :t] = trace[key][:t].T
        vmin, vmax = lim if lim else (-cmax, cmax)
        extent = (0.5, T + 0.5, values.shape[0] + 0.5, 0.5)
        ax.imshow(values, aspect="auto", cmap="viridis" if lim else "PuOr", vmin=vmin, vmax=vmax,
                  extent=extent, interpolation="nearest")  # fmt: skip
        ax.set_ylabel(label, fontsize="small")
        ax.set_yticks([])
    axes[-1].set_xlabel("time step (rows: the hidden units)")


def interactive_lstm_gates(model: AddingRegressor, x: torch.Tensor) -> InteractiveFigure:
    """Step through one adding-problem sequence and watch the trained LSTM's gates.

    Live: every step; website: every fifth step.
    """
    trace = lstm_trace(model, x)
    x_np, T = x.numpy(), x.shape[0]
    return InteractiveFigure(
        lambda fig, t: draw_lstm_gates(fig, t=t, x=x_np, trace=trace),
        [
            Slider(
                "t",
                1,
                T,
                1,
                default=T,
                static_values=list(range(5, T + 1, 5)),
                integer=True,
                label="step t",
            )
        ],  # fmt: skip
        figsize=(6.0, 5.4),
        dpi=90,
        alt=(
            "Five stacked panels over the time steps of one adding-problem sequence, filled up "
            "to the chosen step: the input numbers with the two marked ones highlighted, then "
            "heat maps of the input, forget and output gates and of the cell state of every "
            "hidden unit of the trained LSTM."
        ),
    )


def train_reversal(
    *,
    min_length: int = 2,
    max_length: int = 16,
    num_symbols: int = 10,
    hidden_size: int = 64,
    embed_dim: int = 16,
    cell: str = "gru",
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 1e-2,
    n_train: int = 20_000,
    seed: int = 0,
) -> tuple[Seq2Seq, History]:
    """Train an encoder-decoder without attention to reverse symbol strings.

    Examples
    --------
    >>> model, h = train_reversal(max_length=4, hidden_size=8, steps=2, n_train=16)
    >>> len(h)
    2
    """
    src, tgt = sequence_reversal(n_train, min_length=min_length, max_length=max_length,
                                 num_symbols=num_symbols, seed=seed)  # fmt: skip
    vocab = FIRST_SYMBOL + num_symbols
    kw = {"embed_dim": embed_dim, "hidden_size": hidden_size, "cell": cell, "seed": seed}
    model = Seq2Seq(Encoder(vocab, **kw), Decoder(vocab, **kw))
    history = fit(
        model, (src, shift_right(tgt)), tgt, optimizer=torch.optim.Adam(model.parameters(), lr=lr),
        loss=sequence_loss, steps=steps, batch_size=batch_size, eval_every=None, eval_train=False,
        clip_grad_norm=1.0, seed=seed, desc="sequence reversal",
    )  # fmt: skip
    return model, history


def exact_match_by_length(model: Seq2Seq, src: torch.Tensor, tgt: torch.Tensor) -> dict[int, float]:
    """Fraction of sources of each length whose greedy output matches the target exactly.

    Examples
    --------
    >>> model, _ = train_reversal(max_length=3, hidden_size=4, steps=1, n_train=8)
    >>> src, tgt = sequence_reversal(20, min_length=2, max_length=3, seed=1)
    >>> sorted(exact_match_by_length(model, src, tgt))
    [2, 3]
    """
    hits = exact_match(model.generate(src, tgt.shape[1]), tgt)  # (N,)
    lengths = (src != 0).sum(dim=1)  # (N,)
    return {int(n): hits[lengths == n].float().mean().item() for n in lengths.unique()}


def plot_exact_match(ax: Axes, accuracy: dict[int, float], *, title: str = "") -> Axes:
    """Exact-match accuracy against the source length."""
    lengths = sorted(accuracy)
    ax.plot(lengths, [accuracy[n] for n in lengths], **series_style(0, marker=True))
    ax.set(xlabel="source length (symbols)", ylabel="exact match", ylim=(-0.03, 1.03), title=title)
    return ax


#: The people of the generated corpus, with (gender, status, age).
PEOPLE: dict[str, tuple[str, str, str]] = {
    "king": ("male", "royal", "adult"), "queen": ("female", "royal", "adult"),
    "man": ("male", "common", "adult"), "woman": ("female", "common", "adult"),
    "prince": ("male", "royal", "child"), "princess": ("female", "royal", "child"),
    "boy": ("male", "common", "child"), "girl": ("female", "common", "child"),
}  # fmt: skip
_CONTEXT = {
    "male": ["he", "him", "his", "beard"], "female": ["she", "her", "hers", "gown"],
    "royal": ["crown", "throne", "palace", "reign"],
    "common": ["field", "market", "village", "wage"],
    "adult": ["works", "marries", "votes", "taxes"], "child": ["plays", "toys", "school", "grows"],
    "any": ["the", "a", "today", "walks", "eats", "sleeps"],
}  # fmt: skip


def royal_corpus(n_sentences: int = 4000, *, words: int = 6, noise: float = 0.2, seed: int = 0):
    """Sentences of a person word and ``words`` context words, a tiny generated corpus.

    Each context word comes, with equal chance, from the person's gender, status or age
    (or from words that go with anyone); with probability ``noise`` it is any context
    word at all. Nothing else links the words.

    Examples
    --------
    >>> s = royal_corpus(3, seed=0)
    >>> len(s), len(s[0]), s[0][0] in PEOPLE
    (3, 7, True)
    """
    rng = np.random.default_rng(seed)
    names, every = list(PEOPLE), sum(_CONTEXT.values(), [])
    sentences = []
    for _ in range(n_sentences):
        person = names[rng.integers(len(names))]
        groups = [*PEOPLE[person], "any"]
        sentence = [person]
        for _ in range(words):
            pool = every if rng.random() < noise else _CONTEXT[groups[rng.integers(4)]]
            sentence.append(pool[rng.integers(len(pool))])
        sentences.append(sentence)
    return sentences


def ppmi_embeddings(sentences: Sequence[Sequence[str]], dim: int) -> tuple[np.ndarray, list[str]]:
    """Word vectors: co-occurrence counts within a sentence, positive PMI, truncated SVD.

    Shapes
    ------
    returns E : (V, dim) and the V words, in first-seen order.

    Examples
    --------
    >>> E, vocab = ppmi_embeddings(royal_corpus(200), dim=5)
    >>> E.shape == (len(vocab), 5)
    True
    """
    vocab = list(dict.fromkeys(w for s in sentences for w in s))
    index = {w: k for k, w in enumerate(vocab)}
    C = np.zeros((len(vocab), len(vocab)))
    for s in sentences:
        ids = [index[w] for w in s]
        for a in ids:
            for b in ids:
                C[a, b] += 1
    np.fill_diagonal(C, 0)  # a word is not its own context
    total = C.sum()
    pmi = np.log(C * total / np.outer(C.sum(1), C.sum(0)) + 1e-12)  # log P(w, c) / (P(w) P(c))
    M = np.maximum(pmi, 0)  # positive PMI: unseen pairs give 0, not minus infinity
    U, S, _ = np.linalg.svd(M)
    return U[:, :dim] * np.sqrt(S[:dim]), vocab  # (V, dim)


def analogy(E: np.ndarray, vocab: list[str], a: str, b: str, c: str) -> tuple[str, float]:
    """The word nearest (cosine) to ``E[a] - E[b] + E[c]``, other than a, b and c.

    Examples
    --------
    >>> E, vocab = ppmi_embeddings(royal_corpus(2000), dim=8)
    >>> analogy(E, vocab, "king", "man", "woman")[0]
    'queen'
    """
    idx = {w: k for k, w in enumerate(vocab)}
    q = E[idx[a]] - E[idx[b]] + E[idx[c]]
    cos = E @ q / (np.linalg.norm(E, axis=1) * np.linalg.norm(q) + 1e-12)  # (V,)
    for w in (a, b, c):
        cos[idx[w]] = -np.inf
    best = int(np.argmax(cos))
    return vocab[best], float(cos[best])


def plot_embedding_plane(ax: Axes, E: np.ndarray, vocab: list[str], *, title: str = "") -> Axes:
    """The people's vectors projected on their first two principal axes, pairs joined."""
    P = np.array([E[vocab.index(w)] for w in PEOPLE])  # (8, dim)
    P = P - P.mean(axis=0)
    _, _, Vt = np.linalg.svd(P, full_matrices=False)
    xy = P @ Vt[:2].T  # (8, 2)
    pos = dict(zip(PEOPLE, xy, strict=True))
    for i, (m, f) in enumerate([("man", "woman"), ("king", "queen"), ("boy", "girl"),
                                ("prince", "princess")]):  # fmt: skip
        ax.annotate("", xy=pos[f], xytext=pos[m],
                    arrowprops={"arrowstyle": "->", "color": series_style(i)["color"],
                                "linestyle": series_style(i)["linestyle"]})  # fmt: skip
    for w, (x, y) in pos.items():
        ax.plot(x, y, "o", color="black", ms=4)
        ax.annotate(w, (x, y), textcoords="offset points", xytext=(4, 4), fontsize="small")
    ax.set(xlabel="first principal axis", ylabel="second principal axis", title=title)
    ax.margins(0.2)
    return ax


def time_recurrence_vs_conv(
    lengths: Sequence[int], *, batch: int = 32, channels: int = 64, repeats: int = 5, seed: int = 0
) -> dict[str, np.ndarray]:
    """Best-of-``repeats`` forward wall time (s) of an RNN layer and a width-3 convolution.

    Both map ``(B, T, C)`` to ``(B, T, C)`` with ``C = channels``; the RNN loops over
    the ``T`` steps in Python, the convolution handles every step in one call.

    Examples
    --------
    >>> t = time_recurrence_vs_conv([4, 8], batch=2, channels=3, repeats=1)
    >>> t["rnn"].shape, t["conv"].shape
    ((2,), (2,))
    """
    g = torch.Generator().manual_seed(seed)
    rnn = RNN(channels, channels, seed=seed)
    weight = torch.randn(channels, channels, 3, generator=g) / (3 * channels) ** 0.5
    out = {"rnn": [], "conv": []}
    with torch.no_grad():
        for T in lengths:
            X = torch.randn(batch, T, channels, generator=g)  # (B, T, C)
            runs = {
                "rnn": lambda X=X: rnn(X),
                "conv": lambda X=X: F.conv1d(X.transpose(1, 2), weight, padding=1),  # (B, C, T)
            }
            for name, run in runs.items():
                run()  # warm-up
                best = np.inf
                for _ in range(repeats):
                    start = time.perf_counter()
                    run()
                    best = min(best, time.perf_counter() - start)
                out[name].append(best)
    return {k: np.array(v) for k, v in out.items()}


def plot_timing(ax: Axes, lengths: Sequence[int], times: dict[str, np.ndarray], *, title=""):
    """Wall time against sequence length, log-log, one line per layer."""
    labels = {"rnn": "RNN layer (loop over $t$)", "conv": "1-D convolution, width 3"}
    for i, (name, t) in enumerate(times.items()):
        ax.plot(lengths, np.asarray(t) * 1e3, label=labels.get(name, name),
                **series_style(i, marker=True))  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="sequence length $T$",
           ylabel="forward time (ms, log scale)", title=title)  # fmt: skip
    ax.legend(loc="upper left", fontsize="small")
    return ax


def people_analogies(E: np.ndarray, vocab: list[str]) -> tuple[int, int]:
    """How many analogies ``a - b + c`` among :data:`PEOPLE` find the right fourth person.

    The right answer has the attributes of ``a`` with those in which ``b`` and ``c``
    differ swapped (king - man + woman: royal adult, male swapped for female, is the
    queen); only triples where that is well defined and names a fourth person count.

    Examples
    --------
    >>> E, vocab = ppmi_embeddings(royal_corpus(2000), dim=8)
    >>> people_analogies(E, vocab)
    (96, 96)
    """
    by_attributes = {attrs: name for name, attrs in PEOPLE.items()}
    correct = total = 0
    for a, b, c in itertools.permutations(PEOPLE, 3):
        target = []
        for x, y, z in zip(PEOPLE[a], PEOPLE[b], PEOPLE[c], strict=True):
            if y == z:
                target.append(x)
            elif x == y:
                target.append(z)
            else:  # b and c differ where a differs from b: no defined answer
                break
        else:
            d = by_attributes[tuple(target)]
            if d not in (a, b, c):
                total += 1
                correct += analogy(E, vocab, a, b, c)[0] == d
    return correct, total
