"""Tokenizers: characters, words, byte-pair encoding trained from scratch, and frames."""

from collections import Counter

import numpy as np
import pytest

from nnlib.tokenize import END_OF_WORD, BytePairEncoding, char_tokens, frames, word_tokens


def test_char_and_word_tokens():
    assert "".join(char_tokens("a b, c")) == "a b, c"
    assert word_tokens("It's 2026.") == ["It", "'", "s", "2026", "."]
    with pytest.raises(TypeError, match="str"):
        char_tokens(["a"])
    with pytest.raises(TypeError, match="str"):
        word_tokens(3)


def _brute_force_first_merge(text):
    # The most frequent adjacent pair over the words' characters, counted directly.
    pairs = Counter()
    for w in word_tokens(text):
        symbols = list(w[:-1]) + [w[-1] + END_OF_WORD]
        pairs.update(zip(symbols, symbols[1:], strict=False))
    top = max(pairs.values())
    return {p for p, n in pairs.items() if n == top}


def test_bpe_first_merge_is_the_most_frequent_pair():
    text = "the cat sat on the mat; the hat, the bat and that thing"
    bpe = BytePairEncoding.train(text, num_merges=1)
    assert bpe.merges[0] in _brute_force_first_merge(text)


def test_bpe_round_trip_and_compression():
    text = "attention is all you need " * 5 + "attend to the attention weights"
    bpe = BytePairEncoding.train(text, num_merges=40)
    sentence = "attention weights attend"
    tokens = bpe.encode(sentence)
    assert bpe.decode(tokens) == sentence
    assert len(tokens) < len(sentence.replace(" ", ""))  # merges shorten the text
    assert bpe.encode("attention") == ["attention" + END_OF_WORD]  # a frequent word is one token
    # A word never seen is still written, in smaller pieces.
    assert bpe.decode(bpe.encode("atone")) == "atone"
    ids = bpe.ids(sentence)
    assert [bpe.vocab[i] for i in ids] == tokens


def test_bpe_more_merges_never_lengthen_and_are_deterministic():
    text = "low lower lowest newer newest wider widest " * 3
    lengths = [len(BytePairEncoding.train(text, num_merges=k).encode(text)) for k in range(12)]
    assert all(a >= b for a, b in zip(lengths, lengths[1:], strict=False))
    assert lengths[-1] < lengths[0]
    a = BytePairEncoding.train(text, num_merges=8)
    b = BytePairEncoding.train(text, num_merges=8)
    assert a.merges == b.merges
    assert len(a.vocab) == len(a.alphabet) + len(a.merges)


def test_bpe_stops_when_no_pair_repeats():
    bpe = BytePairEncoding.train("abc", num_merges=10)
    assert bpe.merges == []
    assert bpe.encode("abc") == ["a", "b", "c" + END_OF_WORD]


def test_bpe_errors():
    with pytest.raises(ValueError, match="non-negative integer"):
        BytePairEncoding.train("a b", num_merges=-1)
    with pytest.raises(ValueError, match="no word"):
        BytePairEncoding.train("  ", num_merges=3)
    bpe = BytePairEncoding.train("ab ab", num_merges=1)
    with pytest.raises(ValueError, match="unseen characters"):
        bpe.ids("xyz")
    with pytest.raises(ValueError, match="non-empty"):
        bpe.encode_word("")


def test_frames_match_a_loop_and_check_input():
    signal = np.arange(23.0)
    out = frames(signal, frame_length=5, hop=3)
    expected = np.stack([signal[k : k + 5] for k in range(0, 23 - 5 + 1, 3)])
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="1-D"):
        frames(np.zeros((2, 8)), frame_length=2, hop=1)
    with pytest.raises(ValueError, match="shorter than one frame"):
        frames(np.zeros(3), frame_length=4, hop=1)
    with pytest.raises(ValueError, match=">= 1"):
        frames(np.zeros(8), frame_length=4, hop=0)
