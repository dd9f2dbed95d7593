"""BatchNormalization: batch statistics while training, moving averages updated once per step
by the train program, moving averages in predict; on channels-first images too. Keras 1.2's
modes 1 (sample-wise) and 2 (batch statistics at test time too) against float64 NumPy, with
gradients by central differences."""
import json

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import BatchNormalization, Convolution2D, Dense, Flatten, Input
from kiln.models import Model, model_from_json

from numeric import check_layer_gradients

RNG = np.random.default_rng(7)


def test_train_step_uses_batch_stats_and_updates_moving_averages():
    x = Input(shape=(3,))
    bn = BatchNormalization(momentum=0.9, epsilon=1e-3)
    y = bn(x)
    m = Model(input=x, output=y)
    m.compile(optimizer="sgd", loss="mse")
    data = (np.random.randn(16, 3) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.5]).astype(np.float32)
    # the training-phase output, read through K.function with learning phase 1
    f = K.function([x, K.learning_phase()], [y])
    got = f([data, 1])[0]
    mean, var = data.astype(np.float64).mean(0), data.astype(np.float64).var(0)
    np.testing.assert_allclose(got, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    m.train_on_batch(data, np.zeros((16, 3), np.float32))
    np.testing.assert_allclose(bn.running_mean.get_value(), 0.1 * mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.running_std.get_value(), 0.9 + 0.1 * var, rtol=1e-4)
    # predict normalizes with the moving averages
    g, b = [w.astype(np.float64) for w in bn.get_weights()[:2]]
    want = (data - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3) * g + b
    np.testing.assert_allclose(m.predict(data), want, rtol=1e-4, atol=1e-4)
    assert [w.name for w in bn.weights] == ["%s_%s" % (bn.name, n) for n in
                                             ("gamma", "beta", "running_mean", "running_std")]
    assert len(bn.trainable_weights) == 2


def test_batchnorm_on_channels_first_conv_trains_on_mnist(mnist):
    K.set_image_dim_ordering("th")
    try:
        x_train, y_train, x_test, y_test = mnist
        img = Input(shape=(1, 28, 28))
        h = Convolution2D(8, 3, 3, subsample=(2, 2), activation="relu")(img)
        h = BatchNormalization(axis=1, momentum=0.9)(h)  # ~190 steps: let the moving averages settle
        out = Dense(10, activation="softmax")(Flatten()(h))
        m = Model(input=img, output=out)
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fit(x_train[:6000].reshape(-1, 1, 28, 28), y_train[:6000], nb_epoch=2, batch_size=64, verbose=0)
        acc = m.evaluate(x_test[:2000].reshape(-1, 1, 28, 28), y_test[:2000], verbose=0)[1]
        assert acc > 0.85, acc
    finally:
        K.set_image_dim_ordering("tf")


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="mode must be 0, 1 or 2.*got 3"):
        BatchNormalization(mode=3)


def mode1_ref(x, gamma, beta, eps=1e-3):
    """Keras 1.2's mode 1: each sample over its last axis, with its double epsilon."""
    m = x.mean(-1, keepdims=True)
    return gamma * (x - m) / (np.sqrt(x.var(-1, keepdims=True) + eps) + eps) + beta


def mode2_ref(x, gamma, beta, eps=1e-3, axis=-1):
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = -1
    m, v = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * gamma.reshape(shape) + beta.reshape(shape)


def _set_gamma_beta(bn, n):
    gamma, beta = RNG.uniform(0.5, 2.0, n), RNG.standard_normal(n)
    bn.gamma.set_value(gamma.astype(np.float32))
    bn.beta.set_value(beta.astype(np.float32))
    return gamma.astype(np.float32).astype(np.float64), beta.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("shape", [(5,), (4, 3)])
def test_mode_1_normalizes_each_sample_in_training_and_test(shape):
    x = Input(shape=shape)
    bn = BatchNormalization(mode=1)
    y = bn(x)
    gamma, beta = _set_gamma_beta(bn, shape[-1])
    data = (RNG.standard_normal((6,) + shape) * 3 + 2).astype(np.float32)
    want = mode1_ref(data.astype(np.float64), gamma, beta)
    f = K.function([x, K.learning_phase()], [y])
    for phase in (0, 1):
        np.testing.assert_allclose(f([data, phase])[0], want, rtol=1e-4, atol=1e-4)
    m = Model(input=x, output=y)
    assert m.updates == []
    np.testing.assert_allclose(m.predict(data), want, rtol=1e-4, atol=1e-4)
    # a constant sample: zero spread, so beta comes out (Keras' epsilon keeps it finite)
    np.testing.assert_allclose(m.predict(np.ones((1,) + shape, np.float32)), np.broadcast_to(beta, (1,) + shape),
                               rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, y, [(bn.gamma, gamma), (bn.beta, beta)], data, mode1_ref, RNG)


def test_mode_1_keeps_the_last_axis_on_channels_first_images():
    K.set_image_dim_ordering("th")
    try:
        img = Input(shape=(2, 3, 4))
        conv = Convolution2D(2, 1, 1, bias=False)
        bn = BatchNormalization(mode=1)
        bn(conv(img))
        assert bn.gamma.get_value().shape == (4,)
    finally:
        K.set_image_dim_ordering("tf")


@pytest.mark.parametrize("axis,shape", [(-1, (4,)), (1, (3, 2, 2))])
def test_mode_2_uses_the_batch_statistics_at_test_time_too(axis, shape):
    x = Input(shape=shape)
    bn = BatchNormalization(mode=2, axis=axis, momentum=0.5)
    y = bn(x)
    n = shape[axis] if axis == -1 else shape[axis - 1]
    gamma, beta = _set_gamma_beta(bn, n)
    m = Model(input=x, output=y)
    m.compile(optimizer="sgd", loss="mse")
    data = (RNG.standard_normal((8,) + shape) * 4 - 3).astype(np.float32)
    want = lambda d: mode2_ref(d.astype(np.float64), gamma, beta, axis=axis)  # noqa: E731
    np.testing.assert_allclose(m.predict(data, batch_size=8), want(data), rtol=1e-4, atol=1e-4)
    # predict's batches are normalized each by their own statistics
    np.testing.assert_allclose(m.predict(data, batch_size=4), np.concatenate([want(data[:4]), want(data[4:])]),
                               rtol=1e-4, atol=1e-4)
    # Keras 1.2.2 registers no moving-average updates in mode 2: training leaves them as they are
    assert m.updates == []
    m.train_on_batch(data, np.zeros_like(data))
    np.testing.assert_array_equal(bn.running_mean.get_value(), np.zeros(n, np.float32))
    np.testing.assert_array_equal(bn.running_std.get_value(), np.ones(n, np.float32))
    check_layer_gradients(x, y, [(bn.gamma, bn.gamma.get_value()), (bn.beta, bn.beta.get_value())], data,
                          lambda d, g, b: mode2_ref(d, g, b, axis=axis), RNG)


@pytest.mark.parametrize("mode", [1, 2])
def test_modes_survive_a_json_round_trip(mode):
    x = Input(shape=(4,))
    m = Model(input=x, output=BatchNormalization(mode=mode)(x))
    again = model_from_json(m.to_json())
    bn = [l for l in again.layers if isinstance(l, BatchNormalization)][0]
    assert bn.mode == mode and json.loads(m.to_json())["config"]["layers"][1]["config"]["mode"] == mode
    data = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(again.predict(data), m.predict(data), rtol=1e-6)
