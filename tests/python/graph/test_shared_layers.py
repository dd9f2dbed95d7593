"""Shared layers (the guide's "Shared layers" section): one layer instance called on several
inputs is one set of weights. Checked three ways: the IR holds one parameter for it, training
through one path changes what another model over the same layer computes, and gradients of a
loss that uses both paths sum both contributions (against float64 central differences)."""
import re

import numpy as np
import pytest

from numeric import numeric_grad
from kiln import backend as K
from kiln.layers import Dense, Input, Lambda
from kiln.models import Model
from kiln.utils.np_utils import to_categorical


def _params(ir_text):
    return re.findall(r"^\s*param %(\S+) :", ir_text, flags=re.M)


def test_model_using_a_layer_twice_has_one_param_for_it():
    K.reset_uids()
    tweet_a = Input(shape=(20, 16))
    tweet_b = Input(shape=(20, 16))
    shared = Dense(8, activation="tanh")  # stands in for the guide's shared LSTM
    encoded_a = shared(tweet_a)
    encoded_b = shared(tweet_b)
    merged = Lambda(lambda x, y: x * y)([encoded_a, encoded_b])
    predictions = Dense(1, activation="sigmoid")(merged)
    model = Model(input=[tweet_a, tweet_b], output=predictions)

    params = _params(model.ir("predict"))
    W, b = shared.trainable_weights
    assert params.count(W.key) == 1 and params.count(b.key) == 1, params
    assert len(params) == 4, params  # shared W, b + the top Dense's W, b
    assert len(model.trainable_weights) == 4
    assert model.count_params() == 16 * 8 + 8 + 8 + 1
    # The shared layer is one layer of the model, with two nodes inside it.
    assert [l.name for l in model.layers].count("dense_1") == 1
    assert len(shared.inbound_nodes) == 2
    # The train graph updates the shared W once per step (one optimizer update for it).
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    train = model.ir("train")
    assert _params(train).count(W.key) == 1
    assert len(re.findall(r"apply_sgd\(%" + re.escape(W.key) + r"\b", train)) == 1, train


def test_summary_lists_both_connections_of_a_shared_layer(capsys):
    K.reset_uids()
    a, b = Input(shape=(5,)), Input(shape=(5,))
    shared = Dense(3)
    s = Lambda(lambda x, y: x + y)([shared(a), shared(b)])
    Model(input=[a, b], output=Dense(1)(s)).summary()
    lines = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("dense_1 (Dense)"))
    assert lines[i].split() == ["dense_1", "(Dense)", "(None,", "3)", "18", "input_1[0][0]"]
    assert lines[i + 1].split() == ["input_2[0][0]"]
    j = next(k for k, line in enumerate(lines) if line.startswith("lambda_1 (Lambda)"))
    assert lines[j].split()[-1] == "dense_1[0][0]" and lines[j + 1].split() == ["dense_1[1][0]"]
    assert "Total params: 22" in lines
    # A model over one path lists only the node that belongs to it.
    Model(input=b, output=shared.get_output_at(1)).summary()
    lines = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("dense_1 (Dense)"))
    assert lines[i].split()[-1] == "input_2[0][0]" and not lines[i + 1].strip("_=")


def test_training_one_path_changes_the_other_model(mnist):
    """Path A (classifier on MNIST) is trained; a model over path B, made before training and
    sharing only the encoder, then computes the encoder with the trained weights."""
    x_train, y_train, x_test, y_test = mnist
    a = Input(shape=(784,))
    b = Input(shape=(784,))
    encoder = Dense(32, activation="relu")
    classifier = Model(input=a, output=Dense(10, activation="softmax")(encoder(a)))
    path_b = Model(input=b, output=encoder(b))
    x = x_test[:500]
    before = path_b.predict(x)  # compiles path B's program before any training
    w0 = [w.copy() for w in encoder.get_weights()]

    classifier.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    classifier.fit(x_train[:20000], to_categorical(y_train[:20000], 10), nb_epoch=1, batch_size=64, verbose=0)
    _, acc = classifier.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    assert acc > 0.85, acc  # path A learned

    W, bias = encoder.get_weights()
    assert not np.allclose(W, w0[0]) and not np.allclose(bias, w0[1])
    expected = np.maximum(x.astype(np.float64) @ W + bias, 0.0)
    after = path_b.predict(x)
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(after - before).max() > 0.1
    # path_b's weights are the encoder's: the same variables, not copies.
    assert all(p is q for p, q in zip(path_b.weights, encoder.weights))


def _pairs(x, y, n, rng):
    """n pairs of digits, half of the same class."""
    i = rng.randint(0, len(x), n)
    j = rng.randint(0, len(x), n)
    same = rng.rand(n) < 0.5
    by_class = {c: np.flatnonzero(y == c) for c in range(10)}
    j[same] = [rng.choice(by_class[c]) for c in y[i[same]]]
    return x[i], x[j], (y[i] == y[j]).astype(np.float32)


def test_siamese_model_on_mnist_pairs_learns(mnist):
    """The guide's shared-encoder model (same author? here: same digit?) on real pairs."""
    x_train, y_train, x_test, y_test = mnist
    rng = np.random.RandomState(0)
    xa, xb, same = _pairs(x_train, y_train, 20000, rng)
    ta, tb, tsame = _pairs(x_test, y_test, 2000, rng)
    digit_a, digit_b = Input(shape=(784,)), Input(shape=(784,))
    shared = Dense(64, activation="relu")
    distance = Lambda(lambda u, v: K.abs(u - v))([shared(digit_a), shared(digit_b)])
    hidden = Dense(32, activation="relu")(distance)
    model = Model(input=[digit_a, digit_b], output=Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit([xa, xb], same, nb_epoch=3, batch_size=64, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    _, acc = model.evaluate([ta, tb], tsame, verbose=0)
    assert acc > 0.82, acc
    # Symmetric by construction: swapping the inputs changes nothing.
    p = model.predict([ta[:200], tb[:200]])
    np.testing.assert_allclose(model.predict([tb[:200], ta[:200]]), p, rtol=1e-5, atol=1e-6)




def test_gradients_of_a_shared_layer_sum_both_uses():
    rng = np.random.RandomState(3)
    a, b = Input(shape=(4,)), Input(shape=(4,))
    shared = Dense(3, activation="tanh")
    ea, eb = shared(a), shared(b)
    loss = K.mean(K.square(ea - 2.0 * eb + 0.5)) + K.sum(ea * eb)
    W, bias = shared.trainable_weights
    grads = K.gradients(loss, [W, bias])
    xa, xb = rng.randn(5, 4), rng.randn(5, 4)
    gW, gb = K.function([a, b], grads)([xa, xb])

    w, c = [v.astype(np.float64) for v in shared.get_weights()]
    # The same function with one weight copy per path: its gradient wrt each copy is one path's
    # contribution; a shared weight's gradient is their sum.
    wa, ca, wb, cb = w.copy(), c.copy(), w.copy(), c.copy()

    def f():
        ua, ub = np.tanh(xa @ wa + ca), np.tanh(xb @ wb + cb)
        return np.mean((ua - 2.0 * ub + 0.5) ** 2) + np.sum(ua * ub)

    total_w = numeric_grad(f, wa) + numeric_grad(f, wb)
    total_b = numeric_grad(f, ca) + numeric_grad(f, cb)
    np.testing.assert_allclose(gW, total_w, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(gb, total_b, rtol=1e-3, atol=1e-5)
    # Both paths matter: neither path alone gives the gradient.
    assert not np.allclose(gW, numeric_grad(f, wa), rtol=1e-2, atol=1e-3)
    assert not np.allclose(gW, numeric_grad(f, wb), rtol=1e-2, atol=1e-3)


def test_shared_dense_on_inputs_of_the_same_rank_and_different_shapes():
    dense = Dense(4)
    a = dense(Input(shape=(20, 8)))
    b = dense(Input(shape=(7, 8)))
    assert tuple(a.shape) == (None, 20, 4) and tuple(b.shape) == (None, 7, 4)
    assert len(dense.trainable_weights) == 2


def test_shared_dense_on_inputs_of_different_rank():
    dense = Dense(4)
    seq = dense(Input(shape=(20, 8)))
    vec = dense(Input(shape=(8,)))
    assert tuple(seq.shape) == (None, 20, 4) and tuple(vec.shape) == (None, 4)
