"""BatchNormalization: batch statistics while training, moving averages updated once per step
by the train program, moving averages in predict; on channels-first images too."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import BatchNormalization, Convolution2D, Dense, Flatten, Input
from kiln.models import Model


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


def test_unsupported_mode_is_named():
    with pytest.raises(NotImplementedError, match="mode=2"):
        BatchNormalization(mode=2)
