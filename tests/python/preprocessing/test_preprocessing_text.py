"""kiln.preprocessing.text: word sequences, hashing, and Tokenizer (counts, index, the matrix
modes against NumPy), then a model trained on the real reviews through Tokenizer and
pad_sequences."""
import collections

import numpy as np
import pytest

from kiln.layers import Dense, Embedding, Flatten, Input
from kiln.models import Model, Sequential
from kiln.preprocessing.sequence import pad_sequences
from kiln.preprocessing.text import Tokenizer, base_filter, hashing_trick, one_hot, text_to_word_sequence

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "Dog eat dog; it's a dog's life", "mat mat"]


def test_text_to_word_sequence():
    assert text_to_word_sequence("The cat, the HAT!\tand\nit's") == ["the", "cat", "the", "hat", "and", "it's"]
    assert "'" not in base_filter() and "\n" in base_filter() and "," in base_filter()
    assert text_to_word_sequence("A-b_c", lower=False) == ["A", "b", "c"]
    assert text_to_word_sequence("a,b c", filters="", split=",") == ["a", "b c"]


def test_one_hot_and_hashing_trick():
    idx = one_hot("the cat and the hat", 7)
    assert len(idx) == 5 and all(1 <= i <= 6 for i in idx) and idx[0] == idx[3]
    assert one_hot("the cat and the hat", 7) == idx  # md5: the same in every process
    assert hashing_trick("the cat the", 50, hash_function=len) == [4, 4, 4]
    assert hashing_trick("x y x", 1000)[0] == hashing_trick("x y x", 1000)[2]
    assert hashing_trick("x y", 1000, "md5") == one_hot("x y", 1000)


def test_tokenizer_counts_and_index():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    words = [w for t in TEXTS for w in text_to_word_sequence(t)]
    assert tok.word_counts == dict(collections.Counter(words))
    assert tok.word_docs == dict(collections.Counter(w for t in TEXTS for w in set(text_to_word_sequence(t))))
    # by decreasing count, ties in order of first appearance, from 1 (the, mat and dog: 3 each)
    assert [w for w, _ in sorted(tok.word_index.items(), key=lambda kv: kv[1])][:4] == ["the", "mat", "dog", "cat"]
    assert sorted(tok.word_index.values()) == list(range(1, len(tok.word_counts) + 1))
    assert tok.document_count == 4 and tok.index_docs[tok.word_index["dog"]] == 2
    assert tok.texts_to_sequences(["the dog, the unknown cat"]) == [[1, 3, 1, 4]]
    assert list(tok.texts_to_sequences_generator(["mat"])) == [[2]]
    tok.fit_on_texts(["zebra"])  # fitting again adds to the counts
    assert tok.document_count == 5 and tok.word_index["zebra"] == len(tok.word_index)


def test_nb_words_and_num_words_keep_the_commonest():
    for tok in (Tokenizer(nb_words=3), Tokenizer(num_words=3)):
        tok.fit_on_texts(TEXTS)
        assert tok.num_words == tok.nb_words == 3
        assert tok.texts_to_sequences(["the dog sat on the mat"]) == [[1, 1, 2]]  # the, the, mat
        assert tok.texts_to_matrix(["the dog sat"]).shape == (1, 3)
    with pytest.raises(ValueError, match="disagree"):
        Tokenizer(nb_words=3, num_words=4)


def test_char_level():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["abca", "Ab"])
    assert tok.word_index["a"] == 1 and "A" in tok.word_index  # as is: no lower-casing
    assert tok.texts_to_sequences(["cab"]) == [[tok.word_index["c"], 1, tok.word_index["b"]]]


def _np_matrix(seqs, width, mode, n_docs, docs):
    out = np.zeros((len(seqs), width))
    for row, seq in enumerate(seqs):
        c = collections.Counter(j for j in seq if j < width)
        for j, n in c.items():
            out[row, j] = {"binary": 1, "count": n, "freq": n / len(seq),
                           "tfidf": (1 + np.log(n)) * np.log(1 + n_docs / (1 + docs.get(j, 0)))}[mode]
    return out


@pytest.mark.parametrize("mode", ["binary", "count", "freq", "tfidf"])
@pytest.mark.parametrize("nb_words", [None, 5])
def test_texts_to_matrix_modes_match_numpy(mode, nb_words):
    tok = Tokenizer(nb_words=nb_words)
    tok.fit_on_texts(TEXTS)
    got = tok.texts_to_matrix(TEXTS + [""], mode=mode)
    width = nb_words or len(tok.word_index) + 1
    assert got.shape == (5, width) and not got[:, 0].any() and not got[4].any()
    seqs = [[tok.word_index[w] for w in text_to_word_sequence(t)] for t in TEXTS]
    # freq divides by the kept words (those under nb_words), as Keras: the sequence is filtered first
    seqs = [[j for j in s if not nb_words or j < nb_words] for s in seqs]
    want = _np_matrix(seqs, width, mode, 4, tok.index_docs)
    np.testing.assert_allclose(got[:4], want)
    np.testing.assert_allclose(tok.sequences_to_matrix(seqs, mode=mode), want)


def test_matrix_errors_are_named():
    with pytest.raises(ValueError, match="fit on some text data first"):
        Tokenizer().texts_to_matrix(["a"])
    with pytest.raises(ValueError, match="before using tfidf"):
        Tokenizer(nb_words=5).sequences_to_matrix([[1]], mode="tfidf")
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    with pytest.raises(ValueError, match="Unknown vectorization mode"):
        tok.texts_to_matrix(TEXTS, mode="onehot")


def test_fit_on_sequences_for_tfidf():
    tok = Tokenizer(nb_words=4)
    tok.fit_on_sequences([[1, 2, 2], [2, 3]])
    assert tok.document_count == 2 and tok.index_docs == {1: 1, 2: 2, 3: 1}
    got = tok.sequences_to_matrix([[2, 2, 3]], mode="tfidf")
    # index 2: twice here, in both documents; index 3: once, in one of the two
    np.testing.assert_allclose(got, [[0, 0, (1 + np.log(2)) * np.log(1 + 2 / 3), np.log(1 + 2 / 2)]])


def test_tokenizer_and_pad_sequences_train_a_model_on_the_real_reviews(reviews):
    texts, y = list(reviews["text_train"]), reviews["y_train"].astype(np.float32)
    order = np.random.RandomState(0).permutation(len(texts))
    texts, y = [texts[i] for i in order], y[order]
    test_texts, y_test = list(reviews["text_test"]), reviews["y_test"].astype(np.float32)
    tok = Tokenizer(nb_words=5000)
    tok.fit_on_texts(texts)
    words = collections.Counter(w for t in texts for w in text_to_word_sequence(t))
    assert tok.word_counts == dict(words) and words[max(words, key=words.get)] == tok.word_counts[
        next(w for w, i in tok.word_index.items() if i == 1)]

    # Keras 1 style: token ids padded to 40, an Embedding, a logistic read-out
    x = pad_sequences(tok.texts_to_sequences(texts), maxlen=40)
    x_test = pad_sequences(tok.texts_to_sequences(test_texts), maxlen=40)
    assert x.shape == (len(texts), 40) and x.max() < 5000
    model = Sequential()
    model.add(Embedding(5000, 16, input_length=40))
    model.add(Flatten())
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, nb_epoch=3, verbose=0)
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    assert acc > 0.65, acc  # 0.73 here; half the test sentences are positive

    # bag of words: tfidf rows into logistic regression
    bags = tok.texts_to_matrix(texts, mode="tfidf").astype(np.float32)
    inp = Input(shape=(5000,))
    clf = Model(input=inp, output=Dense(1, activation="sigmoid")(inp))
    clf.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    clf.fit(bags, y, batch_size=64, nb_epoch=3, verbose=0)
    acc = clf.evaluate(tok.texts_to_matrix(test_texts, mode="tfidf").astype(np.float32), y_test, verbose=0)[1]
    assert acc > 0.68, acc  # 0.77 here
