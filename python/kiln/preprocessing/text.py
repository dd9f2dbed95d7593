"""Keras 1.2's `keras.preprocessing.text`: splitting text into words, hashing words to indices,
and `Tokenizer` (a vocabulary by frequency; texts to index sequences or to bag-of-words matrices).
Standard library and NumPy only."""
import hashlib
import string

import numpy as np

__all__ = ["base_filter", "text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer"]


def base_filter():
    """The characters removed before splitting: punctuation except the apostrophe, tab, newline."""
    return string.punctuation.replace("'", "") + "\t\n"


def text_to_word_sequence(text, filters=base_filter(), lower=True, split=" "):
    """The words of `text`: lower-cased (if `lower`), each character of `filters` replaced by
    `split`, split on `split`, empty pieces dropped.

    Example:

    ```python
    text_to_word_sequence("The cat sat. The end!")   # ['the', 'cat', 'sat', 'the', 'end']
    ```
    """
    if lower:
        text = text.lower()
    if filters:
        text = text.translate(str.maketrans(filters, split * len(filters)))
    return [w for w in text.split(split) if w]


def _md5(word):
    return int(hashlib.md5(word.encode("utf-8")).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=base_filter(), lower=True, split=" "):
    """Each word of `text` as an index in 1 .. n-1 by hashing (0 is left for padding; different
    words may share an index).

    Args:
        hash_function: None (Python's `hash`, which differs between processes unless
            PYTHONHASHSEED is set, as in Keras), 'md5' (the same in every process), or a
            function of a string returning an int.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    return [(abs(hash_function(w)) % (n - 1) + 1) for w in text_to_word_sequence(text, filters, lower, split)]


def one_hot(text, n, filters=base_filter(), lower=True, split=" "):
    """Each word of `text` as an index in 1 .. n-1 by hashing with md5, so a word gets the same
    index in every process (Keras 1.2 uses Python's `hash`, which does not)."""
    return hashing_trick(text, n, "md5", filters, lower, split)


class Tokenizer(object):
    """A vocabulary built from texts, words indexed by decreasing count (1 is the commonest; ties
    in order of first appearance), and the conversions it allows.

    Args:
        nb_words / num_words (Keras 2): keep only words of index < nb_words when converting
            (the vocabulary itself keeps every word).
        filters, lower, split: as text_to_word_sequence.
        char_level: every character is a token (the text is taken as is: no filters, no
            lower-casing, as Keras 1.2).

    Attributes, after fit_on_texts: `word_counts` (word -> count), `word_docs` (word -> number of
    texts it is in), `word_index` (word -> index), `index_docs` (index -> number of texts),
    `document_count`.

    Example:

    ```python
    tok = Tokenizer(nb_words=1000)
    tok.fit_on_texts(texts)
    x = pad_sequences(tok.texts_to_sequences(texts), maxlen=50)
    bags = tok.texts_to_matrix(texts, mode='tfidf')
    ```
    """

    def __init__(self, nb_words=None, filters=base_filter(), lower=True, split=" ", char_level=False,
                 num_words=None):
        if nb_words is not None and num_words is not None and nb_words != num_words:
            raise ValueError("[Tokenizer] nb_words=%r and num_words=%r disagree; pass one of them"
                             % (nb_words, num_words))
        self.nb_words = nb_words if nb_words is not None else num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.word_counts = {}
        self.word_docs = {}
        self.word_index = {}
        self.index_docs = {}
        self.document_count = 0

    @property
    def num_words(self):
        return self.nb_words

    def _tokens(self, text):
        return text if self.char_level else text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Counts the words of `texts` (a list of strings) and rebuilds `word_index`; fitting
        again adds to the counts."""
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] = self.word_docs.get(w, 0) + 1
        # sorted() is stable: ties keep the dict's order, which is the order of first appearance
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        self.word_index = {w: i for i, (w, _) in enumerate(ranked, start=1)}
        self.index_docs = {self.word_index[w]: c for w, c in self.word_docs.items()}

    def fit_on_sequences(self, sequences):
        """Counts, for each index, the number of sequences it is in (for tfidf over sequences you
        made yourself)."""
        self.document_count = len(sequences)
        self.index_docs = {}
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] = self.index_docs.get(i, 0) + 1

    def texts_to_sequences_generator(self, texts):
        """Yields, for each text, the indices of its words (words not in the vocabulary, or of
        index >= nb_words, are skipped)."""
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None and not (self.nb_words and i >= self.nb_words):
                    vect.append(i)
            yield vect

    def texts_to_sequences(self, texts):
        """A list with, for each text, the list of its word indices."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_matrix(self, texts, mode="binary"):
        """One row per text, one column per index (see sequences_to_matrix)."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A (len(sequences), nb_words) float matrix; column 0 stays 0 (no word has index 0).

        Modes: 'binary' (1 if the index occurs), 'count' (how often), 'freq' (count / length
        of the sequence), 'tfidf' ((1 + log count) * log(1 + documents / (1 + documents with
        the index))). Without nb_words the width is len(word_index) + 1."""
        if self.nb_words:
            width = self.nb_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (nb_words argument), or fit on some text data first.")
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError("Unknown vectorization mode: %r (expected 'binary', 'count', 'freq' or 'tfidf')"
                             % (mode,))
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        out = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts = {}
            for j in seq:
                if j < width:
                    counts[j] = counts.get(j, 0.) + 1
            for j, c in counts.items():
                if mode == "count":
                    out[row, j] = c
                elif mode == "freq":
                    out[row, j] = c / len(seq)
                elif mode == "binary":
                    out[row, j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    out[row, j] = (1 + np.log(c)) * idf
        return out
