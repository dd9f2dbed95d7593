"""Keras 1.2's `keras.preprocessing.sequence`: padding variable-length sequences into one array,
and skip-gram pairs for word2vec-style training. NumPy and the standard library only."""
import random

import numpy as np

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.):
    """Pads (or truncates) each sequence to the same length: an array (samples, maxlen, ...).

    Args:
        sequences: a list of sequences (lists or arrays of numbers, or of equal-shaped vectors).
        maxlen: the length of every row; default the longest sequence.
        dtype: of the result ('int32' by default, as Keras: pass 'float32' for float data).
        padding: 'pre' or 'post': where the padding goes.
        truncating: 'pre' or 'post': which end of a longer sequence is cut.
        value: the padding value (cast to `dtype`).

    Returns:
        An array of shape (len(sequences), maxlen) + the shape of one element. An empty sequence
        gives a row of `value`.

    Example:

    ```python
    pad_sequences([[1, 2, 3], [4]], maxlen=2)   # array([[2, 3], [0, 4]], dtype=int32)
    ```
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("[pad_sequences] `sequences` must be a list of sequences, got %r" % (type(sequences),))
    lengths = []
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError("[pad_sequences] `sequences` must be a list of sequences; found a non-sequence at "
                             "position %d: %r" % (i, s))
        lengths.append(len(s))
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    if padding not in ("pre", "post"):
        raise ValueError('Padding type "%s" not understood' % (padding,))
    if truncating not in ("pre", "post"):
        raise ValueError('Truncating type "%s" not understood' % (truncating,))
    # the shape of one element, from the first non-empty sequence (vectors can be padded too)
    sample_shape = ()
    for s in sequences:
        if len(s) > 0:
            sample_shape = np.asarray(s).shape[1:]
            break
    out = (np.ones((len(sequences), maxlen) + sample_shape) * value).astype(dtype)
    for i, s in enumerate(sequences):
        if len(s) == 0 or maxlen == 0:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError("Shape of sample %s of sequence at position %s is different from expected shape %s"
                             % (kept.shape[1:], i, sample_shape))
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def make_sampling_table(size, sampling_factor=1e-5):
    """The probability of keeping the word of each rank (0 = the commonest) in skipgrams, from
    Zipf's law (frequency of rank r about 1 / (r (log r + gamma))) and word2vec's subsampling
    sqrt(sampling_factor / frequency), capped at 1. Index 0 is treated as rank 1."""
    gamma = 0.577
    rank = np.arange(size, dtype=np.float64)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1. / (12. * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1., f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1., shuffle=True, categorical=False,
              sampling_table=None, seed=None):
    """Skip-gram pairs of a sequence of word indices: (word, context) labelled 1 for every context
    word within `window_size`, and (word, random word) labelled 0 for negative samples.

    Args:
        sequence: word indices; 0 is padding and never used.
        vocabulary_size: negatives are drawn from 1 .. vocabulary_size - 1.
        window_size: how far a context word may be.
        negative_samples: negatives per positive (a float: 0.5 gives half as many).
        shuffle: shuffle the pairs (labels along with them).
        categorical: labels as [0, 1] / [1, 0] instead of 1 / 0.
        sampling_table: keep the word at index i with probability sampling_table[i]
            (see make_sampling_table).
        seed: for the draws (Keras 2's argument); default Python's global `random`.

    Returns:
        (couples, labels): lists of [word, context] pairs and their labels.
    """
    rng = random.Random(seed) if seed is not None else random
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < rng.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j == i or not sequence[j]:
                continue
            couples.append([wi, sequence[j]])
            labels.append([0, 1] if categorical else 1)
    if negative_samples > 0 and couples:
        n = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        rng.shuffle(words)
        couples += [[words[k % len(words)], rng.randint(1, vocabulary_size - 1)] for k in range(n)]
        labels += [[1, 0] if categorical else 0 for _ in range(n)]
    if shuffle:
        order = list(range(len(couples)))
        rng.shuffle(order)
        couples = [couples[k] for k in order]
        labels = [labels[k] for k in order]
    return couples, labels
