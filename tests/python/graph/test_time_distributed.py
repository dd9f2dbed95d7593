"""TimeDistributed over a layer and over a whole model: one batched call over batch x time
(merge_batch / split_batch in the IR, `?*T` types), weights shared with the wrapped layer."""
import numpy as np
import pytest

from kiln import _core, optimizers
from kiln import backend as K
from kiln.layers import Dense, Dropout, Input, TimeDistributed, merge
from kiln.models import Model


def test_time_distributed_dense_matches_numpy_and_ir_folds_time():
    x = Input(shape=(5, 3))
    dense = Dense(4, activation="relu")
    y = TimeDistributed(dense)(x)
    assert y._keras_shape == (None, 5, 4)
    m = Model(input=x, output=y)
    data = np.random.randn(7, 5, 3).astype(np.float32)
    W, b = dense.get_weights()
    np.testing.assert_allclose(m.predict(data), np.maximum(data @ W + b, 0), rtol=1e-5, atol=1e-6)
    text = m.ir("predict")
    assert "merge_batch(%input_" in text and "f32[?*5,3]" in text and "split_batch(" in text
    assert _core.parse(text) == text
    assert [w.name for w in m.trainable_weights] == [w.name for w in dense.trainable_weights]


def test_guide_time_distributed_model_reads_sequences_of_20_real_digits(mnist):
    """The guide's image model, trained on real MNIST digits, applied by TimeDistributed to every
    timestep of sequences of 20 held-out digits: it equals the model run on each image, and it
    reads the digits (an untrained model is right about 1 time in 10)."""
    x_train, y_train, x_test, y_test = mnist
    inputs = Input(shape=(784,))
    h = Dense(16, activation="relu")(inputs)
    h = Dropout(0.5)(h)
    predictions = Dense(10, activation="softmax")(h)
    model = Model(input=inputs, output=predictions)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, nb_epoch=2, batch_size=32, verbose=0)
    # the guide: input sequences of 20 timesteps, the model applied to every timestep
    input_sequences = Input(shape=(20, 784))
    processed_sequences = TimeDistributed(model)(input_sequences)
    assert processed_sequences._keras_shape == (None, 20, 10)
    video = Model(input=input_sequences, output=processed_sequences)
    seq, labels = x_test[:1000].reshape(50, 20, 784), y_test[:1000].reshape(50, 20)
    out = video.predict(seq)
    per_step = model.predict(seq.reshape(1000, 784)).reshape(50, 20, 10)
    np.testing.assert_allclose(out, per_step, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    accuracy = float(np.mean(out.argmax(-1) == labels))
    assert accuracy > 0.8, accuracy  # 0.89 to 0.90 measured over 3 seeds


def test_time_distributed_trains_the_shared_weights():
    x = Input(shape=(6, 4))
    dense = Dense(1)
    m = Model(input=x, output=TimeDistributed(dense)(x))
    m.compile(optimizer=optimizers.Adam(lr=0.05), loss="mse")
    w_true = np.random.randn(4, 1).astype(np.float32)
    data = np.random.randn(256, 6, 4).astype(np.float32)
    target = data @ w_true
    first = m.evaluate(data, target, verbose=0)
    m.fit(data, target, nb_epoch=30, batch_size=32, verbose=0)
    assert m.evaluate(data, target, verbose=0) < 0.05 * first
    np.testing.assert_allclose(dense.get_weights()[0], w_true, atol=0.1)


def test_time_distributed_gradients_match_numerical():
    x = Input(shape=(3, 2))
    dense = Dense(2, activation="tanh")
    y = TimeDistributed(dense)(x)
    loss = K.sum(K.square(y))
    gW, = K.gradients(loss, [dense.W])
    f = K.function([x], [loss, gW])
    data = np.random.randn(2, 3, 2).astype(np.float32)
    _, g = f([data])
    W0, b0 = [w.astype(np.float64) for w in dense.get_weights()]

    def numpy_loss(W):
        return float(np.sum(np.tanh(data.astype(np.float64) @ W + b0) ** 2))

    num = np.zeros_like(W0)
    for i in range(W0.shape[0]):
        for j in range(W0.shape[1]):
            e = np.zeros_like(W0)
            e[i, j] = 1e-5
            num[i, j] = (numpy_loss(W0 + e) - numpy_loss(W0 - e)) / 2e-5
    np.testing.assert_allclose(g, num, rtol=1e-3, atol=1e-4)


def test_time_distributed_needs_known_timesteps_and_rank_3():
    with pytest.raises(ValueError, match="ndim >= 3"):
        TimeDistributed(Dense(2))(Input(shape=(4,)))
    with pytest.raises(TypeError, match="wraps a layer or a model"):
        TimeDistributed("dense")


def test_split_batch_rejects_a_size_that_does_not_divide():
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,6,2]\n  %m = merge_batch(%x) : f32[?*6,2]\n"
            "  %s = split_batch(%m) {size=4} : f32[?,4,2]\n  output %s\n}\n")
    with pytest.raises(ValueError, match=r"expected a first dim \?\*k with k a multiple of size=4, got f32\[\?\*6,2\]"):
        _core.parse(text)


def test_k_function_updates_assign_after_reads():
    v = K.variable(np.array([1.0, 2.0]))
    x = K.placeholder(shape=(None, 2))
    out = K.sum(x * v)
    f = K.function([x], [out], updates=[K.update(v, v * 2.0)])
    np.testing.assert_allclose(f([np.ones((1, 2))])[0], 3.0)   # computed with the old value
    np.testing.assert_allclose(K.get_value(v), [2.0, 4.0])
    np.testing.assert_allclose(f([np.ones((1, 2))])[0], 6.0)
    g = K.function([x], [out], updates=[K.update_add(v, 1.0)])
    g([np.ones((1, 2))])
    np.testing.assert_allclose(K.get_value(v), [5.0, 9.0])


def test_the_wrapped_layers_penalties_and_updates_reach_the_model():
    from kiln.layers import BatchNormalization, Bidirectional, SimpleRNN
    from kiln.models import Sequential
    model = Sequential([TimeDistributed(Dense(2, W_regularizer="l1"), input_shape=(3, 4))])
    model.compile("sgd", "mse")
    assert len(model.losses) == 1
    xs = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    ys = np.zeros((5, 3, 2), np.float32)
    w, b = model.get_weights()
    want = ((xs.astype(np.float64) @ w + b) ** 2).mean() + 0.01 * np.abs(w).sum()  # Keras 1's l1 default 0.01
    np.testing.assert_allclose(model.test_on_batch(xs, ys), want, rtol=1e-5)
    # a wrapped BatchNormalization's moving averages are updated by fit
    bn = BatchNormalization()
    seq = Sequential([TimeDistributed(bn, input_shape=(3, 4))])
    seq.compile("sgd", "mse")
    mean_before = bn.get_weights()[2].copy()
    seq.train_on_batch(xs + 3.0, np.zeros((5, 3, 4), np.float32))
    assert not np.allclose(bn.get_weights()[2], mean_before)
    bi = Bidirectional(SimpleRNN(2, W_regularizer="l2"), input_shape=(3, 4))
    Sequential([bi])
    assert len(bi.losses) == 2  # the forward and the backward layer's
