"""kiln.preprocessing.sequence: pad_sequences with Keras 1.2's semantics case by case, on the
real reviews, and skipgrams / make_sampling_table."""
import random

import numpy as np
import pytest

from kiln.preprocessing.sequence import make_sampling_table, pad_sequences, skipgrams

SEQS = [[1, 2, 3], [4, 5], [6], []]


@pytest.mark.parametrize("padding,truncating,want", [
    ("pre", "pre", [[2, 3], [4, 5], [0, 6], [0, 0]]),
    ("post", "pre", [[2, 3], [4, 5], [6, 0], [0, 0]]),
    ("pre", "post", [[1, 2], [4, 5], [0, 6], [0, 0]]),
    ("post", "post", [[1, 2], [4, 5], [6, 0], [0, 0]]),
])
def test_padding_and_truncating(padding, truncating, want):
    got = pad_sequences(SEQS, maxlen=2, padding=padding, truncating=truncating)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)


def test_defaults_value_dtype():
    got = pad_sequences(SEQS)
    np.testing.assert_array_equal(got, [[1, 2, 3], [0, 4, 5], [0, 0, 6], [0, 0, 0]])
    got = pad_sequences(SEQS, maxlen=4, value=-1)
    np.testing.assert_array_equal(got[2], [-1, -1, -1, 6])
    f = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=9.0, padding="post")
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f, [[0.5, 1.5], [2.5, 9.0]])
    # int dtype truncates float data, as Keras (a common surprise)
    np.testing.assert_array_equal(pad_sequences([[0.5, 1.5]]), [[0, 1]])
    assert pad_sequences([]).shape == (0, 0)
    np.testing.assert_array_equal(pad_sequences([np.array([3, 4]), (5,)], maxlen=3), [[0, 3, 4], [0, 0, 5]])


def test_sequences_of_vectors():
    seqs = [np.ones((3, 2)), np.full((1, 2), 2.0)]
    got = pad_sequences(seqs, maxlen=2, dtype="float32")
    assert got.shape == (2, 2, 2)
    np.testing.assert_array_equal(got[1], [[0, 0], [2, 2]])
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([np.ones((2, 2)), np.ones((2, 3))])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match='Truncating type "both" not understood'):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="non-sequence at position 1"):
        pad_sequences([[1], 2])


def test_pad_sequences_on_the_real_reviews(reviews):
    # the loader's rows, post-padded with 0, cut back to token lists and padded again
    rows, lengths = reviews["x_train"][:500], reviews["len_train"][:500]
    seqs = [list(r[:n]) for r, n in zip(rows, lengths)]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=rows.shape[1], padding="post"), rows)
    pre = pad_sequences(seqs, maxlen=20)
    for s, row in zip(seqs, pre):
        kept = s[-20:]
        assert list(row[20 - len(kept):]) == kept and not row[:20 - len(kept)].any()


def test_make_sampling_table():
    table = make_sampling_table(10000)
    assert table.shape == (10000,) and np.all((table > 0) & (table <= 1))
    assert np.all(np.diff(table[1:]) >= 0)  # rarer words are kept more often
    assert table[1] < 0.05 and table[-1] > 0.95
    r = np.arange(1, 10000, dtype=float)
    f = 1e-5 * (r * (np.log(r) + 0.577) + 0.5 - 1 / (12 * r))
    np.testing.assert_allclose(table[1:], np.minimum(1, np.sqrt(f)))


def test_skipgrams_pairs_and_negatives():
    seq = [1, 2, 0, 3, 4]
    couples, labels = skipgrams(seq, vocabulary_size=10, window_size=1, negative_samples=1.0, shuffle=False,
                                seed=3)
    pos = [c for c, l in zip(couples, labels) if l == 1]
    assert pos == [[1, 2], [2, 1], [3, 4], [4, 3]]  # 0 is padding: never a word or a context
    neg = [c for c, l in zip(couples, labels) if l == 0]
    assert len(neg) == 4 and all(1 <= c[1] <= 9 for c in neg) and sorted(c[0] for c in neg) == [1, 2, 3, 4]
    shuffled, slabels = skipgrams(seq, 10, window_size=1, seed=3)
    assert sorted(map(tuple, shuffled)) == sorted(map(tuple, couples))
    assert all((l == 1) == (c in pos) or l == 0 for c, l in zip(shuffled, slabels))
    assert skipgrams(seq, 10, seed=5) == skipgrams(seq, 10, seed=5)
    cat = skipgrams(seq, 10, window_size=1, negative_samples=0.5, categorical=True, shuffle=False, seed=1)[1]
    assert cat == [[0, 1]] * 4 + [[1, 0]] * 2
    random.seed(0)
    kept, _ = skipgrams(list(range(1, 200)), 200, window_size=1, negative_samples=0,
                        sampling_table=np.r_[np.zeros(100), np.ones(100)])
    assert all(c[0] >= 100 for c in kept)  # words of keep-probability 0 never start a pair
