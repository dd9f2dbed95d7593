"""Determinism (docs/reliability.md): a seeded CPU training run gives bitwise the same weights
on 1 and 2 threads and on a repeated run, for every layer kind there is.

Work is split by shape, never by thread count (GEMMs are cut into a number of blocks fixed by
their shape, elementwise loops compute each element alone, reductions run in a fixed order),
and random masks hash (seed, run, element). Each model below trains one short epoch on real
MNIST digits, shuffled and with dropout where the layer has it.
"""
import numpy as np
import pytest

import kiln
from kiln.layers import (GRU, LSTM, AveragePooling2D, BatchNormalization, Convolution2D, Dense, Dropout,
                         Embedding, Flatten, Input, Lambda, MaxPooling2D, SimpleRNN, TimeDistributed, merge)
from kiln.models import Model, Sequential
from kiln import backend as K


def guide_mlp():
    x = Input(shape=(784,))
    h = Dense(64, activation="relu")(x)
    h = Dropout(0.2)(h)
    h = Dense(64, activation="relu")(h)
    return Model(input=x, output=Dense(10, activation="softmax")(h)), "flat"


def convnet():
    x = Input(shape=(28, 28, 1))
    # channels last, stated once: the layers after it follow their input's layout
    h = Convolution2D(8, 3, 3, activation="relu", border_mode="same", dim_ordering="tf")(x)
    h = BatchNormalization()(h)
    h = MaxPooling2D((2, 2))(h)
    h = Convolution2D(8, 3, 3, activation="relu", subsample=(2, 2))(h)
    h = AveragePooling2D((2, 2))(h)
    h = Flatten()(Dropout(0.25)(h))
    return Model(input=x, output=Dense(10, activation="softmax")(h)), "image"


def winograd_convnet():
    # 16 channels on both sides of each 3x3 and 5x5 convolution: conv2d's Winograd kernels, whose
    # filter gradient sums per-block partials in a fixed order
    x = Input(shape=(28, 28, 1))
    h = Convolution2D(16, 3, 3, activation="relu", dim_ordering="tf")(x)
    h = Convolution2D(16, 3, 3, activation="relu", border_mode="same")(h)
    h = Convolution2D(16, 5, 5, activation="relu")(h)
    h = Flatten()(MaxPooling2D((2, 2))(h))
    return Model(input=x, output=Dense(10, activation="softmax")(h)), "image"


def recurrent(cls):
    def build():
        x = Input(shape=(28, 28))  # each image as 28 steps of 28 pixels
        h = cls(16, return_sequences=True)(x)
        h = cls(16)(h)
        return Model(input=x, output=Dense(10, activation="softmax")(h)), "rows"
    build.__name__ = cls.__name__.lower()
    return build


def embedding_lstm():
    # Pixel intensities quantized to 16 levels become tokens: a real-data sequence of ints.
    x = Input(shape=(28,), dtype="int32")
    h = Embedding(16, 8, mask_zero=True)(x)
    h = LSTM(12)(h)
    return Model(input=x, output=Dense(10, activation="softmax")(h)), "tokens"


def shared_and_merged():
    # A shared Dense on both halves of the image, merged three ways, and a TimeDistributed one.
    a, b = Input(shape=(392,)), Input(shape=(392,))
    enc = Dense(32, activation="tanh")
    ea, eb = enc(a), enc(b)
    m = merge([merge([ea, eb], mode="concat"), merge([ea, eb], mode="sum")], mode="concat")
    m = Lambda(lambda t: K.square(t))(m)
    seq = Input(shape=(4, 196))
    s = Flatten()(TimeDistributed(Dense(8, activation="relu"))(seq))
    out = Dense(10, activation="softmax")(merge([m, s], mode="concat"))
    return Model(input=[a, b, seq], output=out), "halves"


def sequential():
    m = Sequential()
    m.add(Dense(32, input_dim=784, activation="relu"))
    m.add(Dropout(0.3))
    m.add(Dense(10, activation="softmax"))
    return m, "flat"


BUILDERS = [guide_mlp, convnet, winograd_convnet, recurrent(SimpleRNN), recurrent(GRU), recurrent(LSTM), embedding_lstm,
            shared_and_merged, sequential]


def inputs(kind, x):
    if kind == "flat":
        return x
    if kind == "image":
        return x.reshape(-1, 28, 28, 1)
    if kind == "rows":
        return x.reshape(-1, 28, 28)
    if kind == "tokens":
        return np.minimum((x.reshape(-1, 28, 28)[:, 14, :] * 16).astype(np.int32), 15)
    if kind == "halves":
        return [x[:, :392], x[:, 392:], x.reshape(-1, 4, 196)]
    raise AssertionError(kind)


def train(build, threads, x, y, optimizer):
    kiln.set_num_threads(threads)
    try:
        np.random.seed(7)
        model, kind = build()
        model.compile(optimizer=optimizer, loss="categorical_crossentropy")
        model.fit(inputs(kind, x), y, nb_epoch=1, batch_size=64, verbose=0)
        return model.get_weights()
    finally:
        kiln.set_num_threads(2)


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_training_is_bitwise_the_same_on_one_and_two_threads(build, mnist):
    n = 256 if build.__name__ in ("simplernn", "gru", "lstm", "embedding_lstm") else 1024
    x, labels = mnist[0][:n], mnist[1][:n]
    y = np.eye(10, dtype=np.float32)[labels]
    one = train(build, 1, x, y, "adam")
    two = train(build, 2, x, y, "adam")
    again = train(build, 2, x, y, "adam")
    start = None
    np.random.seed(7)
    start = build()[0].get_weights()
    assert any(not np.array_equal(a, s) for a, s in zip(two, start)), "training changed nothing"
    for i, (a, b, c) in enumerate(zip(one, two, again)):
        assert np.array_equal(a, b), "weight %d differs between 1 and 2 threads (max %g)" % (i, np.abs(a - b).max())
        assert np.array_equal(b, c), "weight %d differs between two runs (max %g)" % (i, np.abs(b - c).max())


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"])
def test_every_optimizer_is_deterministic_across_thread_counts(optimizer, mnist):
    x, labels = mnist[0][:512], mnist[1][:512]
    y = np.eye(10, dtype=np.float32)[labels]
    one, two = train(guide_mlp, 1, x, y, optimizer), train(guide_mlp, 2, x, y, optimizer)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
