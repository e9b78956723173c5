"""Tokenization: cutting text (or sound) into the tokens a Transformer reads.

A Transformer reads a sequence of vectors, one per token; what a token is, is a
choice made before any learning:

* :func:`char_tokens`: one token per character. A tiny vocabulary, long sequences.
* :func:`word_tokens`: one token per word or punctuation mark. Short sequences, a huge
  vocabulary, and words never seen in training have no token at all.
* :class:`BytePairEncoding`: sub-word units learned from a corpus (Sennrich, Haddow
  and Birch 2016, after Gage's 1994 compression scheme). Start from single characters
  and, again and again, merge the pair of neighbouring tokens seen most often into a
  new token. Frequent words end up as one token, rare ones as a few pieces, and any
  text can still be written with the characters. GPT-2's tokenizer works on bytes in
  the same way; this one works on characters within words, as the original does.
* :func:`frames`: speech and other signals are cut into short overlapping windows,
  one token per window (25 ms every 10 ms is the usual choice for speech).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["char_tokens", "word_tokens", "BytePairEncoding", "frames"]

#: Words, numbers and single punctuation marks; spaces are dropped.
_WORD = re.compile(r"\w+|[^\w\s]")
#: Marks the end of a word, so that "er" at a word's end and inside one stay apart.
END_OF_WORD = "</w>"


def char_tokens(text: str) -> list[str]:
    """One token per character, spaces included.

    Examples
    --------
    >>> char_tokens("a cat")
    ['a', ' ', 'c', 'a', 't']
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return list(text)


def word_tokens(text: str) -> list[str]:
    """One token per word, number or punctuation mark (spaces separate, they are no token).

    Examples
    --------
    >>> word_tokens("Attention, please: 2 heads!")
    ['Attention', ',', 'please', ':', '2', 'heads', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return _WORD.findall(text)


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """Replace every non-overlapping occurrence of ``pair`` in ``symbols``, left to right."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


@dataclass
class BytePairEncoding:
    """Sub-word tokens learned by merging the most frequent neighbouring pair.

    Train with :meth:`train` on a text (or several); :attr:`merges` lists the learned
    merges in order, and :meth:`encode` applies them in the same order to new text.
    Words are split as :func:`word_tokens` splits them, and the last symbol of every
    word carries :data:`END_OF_WORD`, so :meth:`decode` can put the spaces back
    (as single spaces between words).

    Shapes
    ------
    ``encode`` returns a list of token strings; ``ids`` a list of ints into :attr:`vocab`.

    Examples
    --------
    >>> bpe = BytePairEncoding.train("low lower lowest low low", num_merges=3)
    >>> bpe.merges
    [('l', 'o'), ('lo', 'w</w>'), ('w', 'e')]
    >>> bpe.encode("lowly low")
    ['lo', 'w', 'l', 'y</w>', 'low</w>']
    >>> bpe.decode(bpe.encode("lowly low"))
    'lowly low'
    """

    merges: list[tuple[str, str]] = field(default_factory=list)
    alphabet: list[str] = field(default_factory=list)

    @classmethod
    def train(cls, text: str | Iterable[str], *, num_merges: int) -> BytePairEncoding:
        """Learn ``num_merges`` merges from ``text`` (a string or an iterable of strings).

        Ties between equally frequent pairs go to the pair seen first, so training
        is deterministic. Training stops early when no pair occurs twice.
        """
        if isinstance(num_merges, bool) or int(num_merges) != num_merges or num_merges < 0:
            raise ValueError(f"num_merges must be a non-negative integer, got {num_merges!r}")
        texts = [text] if isinstance(text, str) else list(text)
        words: Counter[tuple[str, ...]] = Counter()
        for t in texts:
            for w in word_tokens(t):
                words[tuple(w[:-1]) + (w[-1] + END_OF_WORD,)] += 1
        if not words:
            raise ValueError("the training text holds no word")
        alphabet = sorted({s for w in words for s in w})
        pairs: Counter[tuple[str, str]] = Counter()
        for w, n in words.items():
            for pair in zip(w, w[1:], strict=False):
                pairs[pair] += n
        merges: list[tuple[str, str]] = []
        for _ in range(int(num_merges)):
            if not pairs:
                break
            best, count = max(pairs.items(), key=lambda item: item[1])  # first seen wins ties
            if count < 2:
                break
            merges.append(best)
            # Only words that hold the pair change; update their pair counts alone.
            for w in [w for w in words if best[0] in w and best[1] in w]:
                merged = _merge(w, best)
                if merged == w:
                    continue
                n = words.pop(w)
                for pair in zip(w, w[1:], strict=False):
                    pairs[pair] -= n
                    if pairs[pair] == 0:
                        del pairs[pair]
                for pair in zip(merged, merged[1:], strict=False):
                    pairs[pair] += n
                words[merged] = n
        return cls(merges=merges, alphabet=alphabet)

    @property
    def vocab(self) -> list[str]:
        """The alphabet, then one token per merge, in the order learned."""
        return list(self.alphabet) + [a + b for a, b in self.merges]

    def encode_word(self, word: str) -> list[str]:
        """The tokens of one word: its characters, merged in the order learned."""
        if not word:
            raise ValueError("expected a non-empty word")
        symbols = tuple(word[:-1]) + (word[-1] + END_OF_WORD,)
        for pair in self.merges:
            if len(symbols) == 1:
                break
            symbols = _merge(symbols, pair)
        return list(symbols)

    def encode(self, text: str) -> list[str]:
        """The tokens of ``text``: :func:`word_tokens`, each word encoded alone."""
        return [tok for w in word_tokens(text) for tok in self.encode_word(w)]

    def ids(self, text: str) -> list[int]:
        """Token ids into :attr:`vocab`; a character never seen in training raises."""
        index = {tok: i for i, tok in enumerate(self.vocab)}
        tokens = self.encode(text)
        unknown = sorted({t for t in tokens if t not in index})
        if unknown:
            raise ValueError(f"tokens outside the vocabulary (unseen characters): {unknown}")
        return [index[t] for t in tokens]

    @staticmethod
    def decode(tokens: Sequence[str]) -> str:
        """Join tokens back into words separated by single spaces."""
        return "".join(t.replace(END_OF_WORD, " ") for t in tokens).rstrip(" ")


def frames(signal: np.ndarray, *, frame_length: int, hop: int) -> np.ndarray:
    """Cut a 1-D signal into overlapping windows, one token per window.

    Window ``k`` holds ``signal[k * hop : k * hop + frame_length]``; a tail shorter
    than a window is dropped. At 16 kHz, 25 ms windows every 10 ms are
    ``frame_length=400, hop=160``.

    Shapes
    ------
    signal : (L,);  returns (1 + (L - frame_length) // hop, frame_length).

    Examples
    --------
    >>> frames(np.arange(10), frame_length=4, hop=3).tolist()
    [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    """
    signal = np.asarray(signal)
    if signal.ndim != 1:
        raise ValueError(f"expected a 1-D signal, got shape {signal.shape}")
    if frame_length < 1 or hop < 1:
        raise ValueError(f"frame_length and hop must be >= 1, got {frame_length} and {hop}")
    if len(signal) < frame_length:
        raise ValueError(f"the signal ({len(signal)} samples) is shorter than one frame")
    count = 1 + (len(signal) - frame_length) // hop
    index = np.arange(frame_length)[None, :] + hop * np.arange(count)[:, None]  # (count, len)
    return signal[index]
