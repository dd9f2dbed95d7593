"""Flatten, Reshape, Permute, RepeatVector against NumPy, with their gradients flowing."""
import numpy as np
import pytest

from kiln.layers import Dense, Flatten, Input, Permute, RepeatVector, Reshape
from kiln.models import Model
from kiln.optimizers import Adam


def run(layer, shape, n=3):
    x = Input(shape=shape)
    y = layer(x)
    data = np.random.randn(n, *shape).astype(np.float32)
    return y, Model(input=x, output=y).predict(data), data


def test_flatten():
    y, out, data = run(Flatten(), (3, 4, 2))
    assert y._keras_shape == (None, 24)
    np.testing.assert_array_equal(out, data.reshape(3, 24))
    with pytest.raises(ValueError, match="expected ndim >= 3"):
        Flatten()(Input(shape=(4,)))


def test_reshape_with_inferred_dim():
    y, out, data = run(Reshape((2, -1)), (3, 4))
    assert y._keras_shape == (None, 2, 6)
    np.testing.assert_array_equal(out, data.reshape(3, 2, 6))
    with pytest.raises(ValueError, match="cannot reshape"):
        Reshape((5,))(Input(shape=(3, 4)))


def test_permute_is_one_based_and_excludes_the_batch():
    y, out, data = run(Permute((3, 1, 2)), (2, 3, 4))
    assert y._keras_shape == (None, 4, 2, 3)
    np.testing.assert_array_equal(out, data.transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match="permutation of 1..2"):
        Permute((0, 1))


def test_repeat_vector():
    y, out, data = run(RepeatVector(4), (5,))
    assert y._keras_shape == (None, 4, 5)
    np.testing.assert_array_equal(out, np.repeat(data[:, None, :], 4, axis=1))


def test_a_model_through_shape_layers_trains():
    x = Input(shape=(4, 6))
    h = Permute((2, 1))(x)
    h = Reshape((24,))(h)
    out = Dense(1)(RepeatVector(2)(Dense(3)(h)))
    out = Flatten()(out)
    m = Model(input=x, output=out)
    m.compile(optimizer=Adam(lr=0.02), loss="mse")
    data = np.random.randn(64, 4, 6).astype(np.float32)
    target = np.repeat(data.sum(axis=(1, 2))[:, None], 2, axis=1).astype(np.float32)
    first = m.evaluate(data, target, verbose=0)
    m.fit(data, target, nb_epoch=40, batch_size=16, verbose=0)
    assert m.evaluate(data, target, verbose=0) < 0.2 * first


def test_flatten_and_reshape_keep_a_fixed_leading_size():
    # a tensor whose first dim is a fixed size (K.placeholder(shape=(3, ...)), as Keras 1.2's
    # layer_test feeds layers) keeps it: the reshape's -1 is the target's own
    from kiln import backend as K
    data = np.random.randn(3, 2, 4).astype(np.float32)
    for layer, want in [(Flatten(), data.reshape(3, 8)), (Reshape((8, 1)), data.reshape(3, 8, 1)),
                        (Reshape((-1, 1)), data.reshape(3, 8, 1)), (Reshape((1, -1)), data.reshape(3, 1, 8))]:
        x = K.placeholder(shape=(3, 2, 4))
        y = layer(x)
        assert tuple(y.shape) == want.shape
        np.testing.assert_array_equal(K.function([x], [y])([data])[0], want)
    y, out, data = run(Reshape((-1, 2)), (3, 2, 4))
    assert y._keras_shape == (None, 12, 2)
    np.testing.assert_array_equal(out, data.reshape(3, 12, 2))
