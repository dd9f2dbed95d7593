"""LocallyConnected1D and LocallyConnected2D (kiln.layers.local): forward against a NumPy reference
written from Keras 1.2's definition (float64; a patch flattened as Keras flattens it, 'th' and
'tf'; the 'th' bias reshaped as Keras 1.2 reshapes it), gradients of every weight and the input
against float64 central differences, weight names and shapes, config keys, layer_test, and a
small net trained on MNIST."""
import json

import numpy as np
import pytest

from kiln.layers import Dense, Flatten, Input, LocallyConnected1D, LocallyConnected2D, Reshape, local
from kiln.models import Model, Sequential
from kiln.utils.test_utils import layer_test

from numeric import check_layer_gradients

RNG = np.random.default_rng(0)


def np_lc1d(x, W, b, k, s):
    """Output step l: the steps [l*s, l*s + k) flattened (step-major) times W[l], plus b[l]."""
    L = W.shape[0]
    out = np.stack([x[:, l * s:l * s + k, :].reshape(len(x), -1) @ W[l] for l in range(L)], axis=1)
    return out + b if b is not None else out


def np_lc2d(x, W, b, kr, kc, stride, ordering):
    """Keras 1.2: patch (i, j) is x[:, :, rows, cols] ('th') or x[:, rows, cols, :] ('tf')
    flattened in that order, times W[i * cols_out + j]; 'th' adds b reshaped to (F, R, C)."""
    (sr, sc), F = stride, W.shape[2]
    rows, cols = (x.shape[2], x.shape[3]) if ordering == "th" else (x.shape[1], x.shape[2])
    R, C = (rows - kr) // sr + 1, (cols - kc) // sc + 1
    out = np.zeros((len(x), R, C, F))
    for i in range(R):
        for j in range(C):
            if ordering == "th":
                patch = x[:, :, i * sr:i * sr + kr, j * sc:j * sc + kc]
            else:
                patch = x[:, i * sr:i * sr + kr, j * sc:j * sc + kc, :]
            out[:, i, j, :] = patch.reshape(len(x), -1) @ W[i * C + j]
    if ordering == "th":
        out = out.transpose(0, 3, 1, 2)
        return out + b.reshape(1, F, R, C) if b is not None else out
    return out + b if b is not None else out


@pytest.mark.parametrize("k,s,steps", [(3, 1, 7), (2, 2, 7), (3, 2, 8), (1, 3, 7), (7, 1, 7)])
def test_locally_connected1d_matches_numpy_and_its_gradients(k, s, steps):
    layer = LocallyConnected1D(4, k, subsample_length=s)
    x = Input(shape=(steps, 3))
    out = layer(x)
    L = (steps - k) // s + 1
    assert out._keras_shape == (None, L, 4)
    assert [w.name for w in layer.weights] == [layer.name + "_W", layer.name + "_b"]
    assert layer.W.shape == (L, k * 3, 4) and layer.b.shape == (L, 4)
    W = layer.get_weights()[0]
    b = RNG.standard_normal((L, 4)).astype(np.float32)
    layer.set_weights([W, b])
    xs = RNG.standard_normal((2, steps, 3)).astype(np.float32)
    ref = lambda x, W, b: np_lc1d(x, W, b, k, s)
    np.testing.assert_allclose(Model(x, out).predict(xs), ref(xs.astype(np.float64), W, b), rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


@pytest.mark.parametrize("ordering", ["tf", "th"])
@pytest.mark.parametrize("kernel,stride,hw", [((2, 2), (1, 1), (4, 5)), ((3, 2), (2, 1), (6, 5)),
                                              ((2, 3), (2, 2), (5, 7)), ((1, 1), (3, 2), (5, 4))])
def test_locally_connected2d_matches_numpy_and_its_gradients(ordering, kernel, stride, hw):
    layer = LocallyConnected2D(3, kernel[0], kernel[1], subsample=stride, dim_ordering=ordering)
    shape = hw + (2,) if ordering == "tf" else (2,) + hw
    x = Input(shape=shape)
    out = layer(x)
    R, C = ((hw[0] - kernel[0]) // stride[0] + 1, (hw[1] - kernel[1]) // stride[1] + 1)
    assert out._keras_shape == ((None, R, C, 3) if ordering == "tf" else (None, 3, R, C))
    assert layer.W.shape == (R * C, kernel[0] * kernel[1] * 2, 3) and layer.b.shape == (R, C, 3)
    W = layer.get_weights()[0]
    b = RNG.standard_normal((R, C, 3)).astype(np.float32)
    layer.set_weights([W, b])
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)
    ref = lambda x, W, b: np_lc2d(x, W, b, kernel[0], kernel[1], stride, ordering)
    np.testing.assert_allclose(Model(x, out).predict(xs), ref(xs.astype(np.float64), W, b), rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


def test_the_th_bias_is_reshaped_as_keras_1_2_does():
    """b[i, j, f] is added to output (f, i, j) in 'tf', and, read filter-major, at the flat index
    i * C * F + j * F + f of the (F, R, C) output in 'th' (Keras 1.2 reshapes, not transposes)."""
    layer = LocallyConnected2D(2, 1, 1, dim_ordering="th", init="zero")
    x = Input(shape=(1, 2, 3))
    model = Model(x, layer(x))
    b = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    layer.set_weights([layer.get_weights()[0], b])
    got = model.predict(np.zeros((1, 1, 2, 3), np.float32))[0]
    np.testing.assert_array_equal(got, b.reshape(2, 2, 3))
    assert not np.array_equal(got, b.transpose(2, 0, 1))


def test_keras2_spellings_configs_and_errors():
    k2 = LocallyConnected2D(filters=4, kernel_size=(2, 3), strides=(1, 2), padding="valid", use_bias=False,
                            data_format="channels_last")
    assert k2(Input(shape=(5, 7, 2)))._keras_shape == (None, 4, 3, 4) and len(k2.weights) == 1
    one = LocallyConnected1D(filters=3, kernel_size=2, strides=2, input_shape=(6, 4))
    assert Sequential([one]).output_shape == (None, 3, 3)
    config = json.loads(json.dumps(LocallyConnected2D(4, 3, 3, dim_ordering="th").get_config()))
    assert {"nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample", "dim_ordering",
            "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint",
            "bias"} <= set(config)
    config1 = LocallyConnected1D(3, 2, input_dim=4, input_length=6).get_config()
    assert {"nb_filter", "filter_length", "subsample_length", "input_dim", "input_length"} <= set(config1)
    assert LocallyConnected1D.from_config(config1).get_config() == config1
    with pytest.raises(ValueError, match='LocallyConnected2D \\(only "valid" is supported\\)'):
        LocallyConnected2D(4, 3, 3, border_mode="same")
    with pytest.raises(ValueError, match='LocallyConnected1D \\(only "valid" is supported\\)'):
        LocallyConnected1D(4, 3, border_mode="same")
    with pytest.raises(ValueError, match="must be known"):
        LocallyConnected1D(4, 3)(Input(shape=(None, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        LocallyConnected2D(4, 5, 5, dim_ordering="tf")(Input(shape=(3, 3, 1)))
    assert local.LocallyConnected1D is LocallyConnected1D and local.LocallyConnected2D is LocallyConnected2D


@pytest.mark.parametrize("cls,kwargs,shape", [
    (LocallyConnected1D, {"nb_filter": 3, "filter_length": 2, "subsample_length": 2, "activation": "relu"}, (2, 7, 4)),
    (LocallyConnected1D, {"filters": 2, "kernel_size": 3, "use_bias": False}, (None, 5, 2)),
    (LocallyConnected2D, {"nb_filter": 3, "nb_row": 2, "nb_col": 3, "subsample": (2, 1), "dim_ordering": "th"},
     (2, 2, 6, 5)),
    (LocallyConnected2D, {"filters": 3, "kernel_size": (2, 2), "strides": 2}, (3, 6, 5, 2)),
])
def test_layer_test(cls, kwargs, shape):
    out = layer_test(cls, kwargs=kwargs, input_shape=shape)
    assert np.all(np.isfinite(out))


def test_a_locally_connected_net_learns_mnist(mnist):
    np.random.seed(0)
    x_train, y_train, x_test, y_test = mnist
    onehot = np.eye(10, dtype=np.float32)
    model = Sequential([Reshape((1, 28, 28), input_shape=(784,)),
                        LocallyConnected2D(8, 4, 4, subsample=(4, 4), activation="relu", dim_ordering="th"),
                        Flatten(), Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:6000], onehot[y_train[:6000]], nb_epoch=4, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x_test[:1000], onehot[y_test[:1000]], verbose=0)
    assert acc > 0.85  # about 0.9; chance is 0.1
