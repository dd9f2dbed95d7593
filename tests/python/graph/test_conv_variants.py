"""The convolutions composed of conv2d (backend/conv.py): AtrousConvolution1D/2D and Keras 2's
dilation_rate, Deconvolution2D / Conv2DTranspose, SeparableConvolution2D / SeparableConv2D.
Each forward against a NumPy reference written here from the definition (float64; 'th' and 'tf'),
the gradients of a loss with respect to every weight and the input against float64 central
differences of that reference, Keras 1.2's weight names, shapes and config keys, and
kiln.utils.test_utils.layer_test on each."""
import json

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import (AtrousConvolution1D, AtrousConvolution2D, Conv1D, Conv2D, Conv2DTranspose, Convolution2D,
                         Deconvolution2D, Dense, Flatten, Input, SeparableConv2D, SeparableConvolution2D)
from kiln.layers import convolutional
from kiln.models import Model, Sequential, model_from_json
from kiln.optimizers import Adam
from kiln.utils.layer_utils import convert_all_kernels_in_model
from kiln.utils.test_utils import layer_test

from numeric import check_layer_gradients

RNG = np.random.default_rng(0)


def same_pad(n, k, s):
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def np_conv(x, w, stride=(1, 1), padding="valid", dilation=(1, 1)):
    """x (B, H, W, C), w (rows, cols, C, F): out[b, i, j] = sum x[b, i*s + a*d, j*s + c*d] w[a, c]."""
    (kh, kw), (sh, sw), (dh, dw) = w.shape[:2], stride, dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        x = np.pad(x, ((0, 0), same_pad(x.shape[1], eh, sh), same_pad(x.shape[2], ew, sw), (0, 0)))
    oh, ow = (x.shape[1] - eh) // sh + 1, (x.shape[2] - ew) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for a in range(kh):
        for c in range(kw):
            patch = x[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, c * dw:c * dw + (ow - 1) * sw + 1:sw, :]
            out += patch @ w[a, c]
    return out


def np_conv_transpose(x, w, out_hw, stride, padding):
    """The scatter definition: input pixel (i, j) adds x[i, j] . w[a, c] to output (i*s + a - top,
    j*s + c - left); w (rows, cols, out, in), as tf.nn.conv2d_transpose."""
    (h, wd), (kh, kw), (sh, sw), (H, W) = x.shape[1:3], w.shape[:2], stride, out_hw
    top = max((h - 1) * sh + kh - H, 0) // 2 if padding == "same" else 0
    left = max((wd - 1) * sw + kw - W, 0) // 2 if padding == "same" else 0
    out = np.zeros((x.shape[0], H, W, w.shape[2]))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for c in range(kw):
                    r, q = i * sh + a - top, j * sw + c - left
                    if 0 <= r < H and 0 <= q < W:
                        out[:, r, q, :] += x[:, i, j, :] @ w[a, c].T
    return out


def np_depthwise(x, dw, stride, padding, dilation=(1, 1)):
    """Output channel c * M + m: channel c convolved with dw[:, :, c, m]."""
    C, M = dw.shape[2:]
    parts = [np_conv(x[..., c:c + 1], dw[:, :, c:c + 1, m:m + 1], stride, padding, dilation)
             for c in range(C) for m in range(M)]
    return np.concatenate(parts, axis=-1)


def image_shape(ordering, rows_cols, channels):
    """An image's shape (no batch) in the layout."""
    return tuple(rows_cols) + (channels,) if ordering == "tf" else (channels,) + tuple(rows_cols)


def to_th(y):
    return y.transpose(0, 3, 1, 2)


def to_tf(x):
    return x.transpose(0, 2, 3, 1)


def th_kernel(w):
    return w.transpose(2, 3, 1, 0)


def random_bias(layer):
    weights = layer.get_weights()
    weights[-1] = RNG.standard_normal(weights[-1].shape).astype(np.float32)
    layer.set_weights(weights)
    return weights


# ---------------------------------------------------------------------------------------------
# Dilation: AtrousConvolution2D / Conv2D(dilation_rate), AtrousConvolution1D / Conv1D(dilation_rate).

@pytest.mark.parametrize("ordering", ["tf", "th"])
@pytest.mark.parametrize("mode,rate,stride", [("valid", (2, 2), (1, 1)), ("same", (2, 3), (1, 1)),
                                              ("same", (2, 1), (2, 1)), ("valid", (1, 2), (1, 2))])
def test_atrous_convolution2d_matches_numpy_and_its_gradients(ordering, mode, rate, stride):
    layer = AtrousConvolution2D(3, 3, 2, atrous_rate=rate, border_mode=mode, subsample=stride,
                                dim_ordering=ordering)
    shape = image_shape(ordering, (7, 6), 2)
    x = Input(shape=shape)
    out = layer(x)
    assert [w.name for w in layer.weights] == [layer.name + "_W", layer.name + "_b"]
    assert layer.W.shape == ((3, 2, 2, 3) if ordering == "tf" else (3, 2, 3, 2))
    W, b = random_bias(layer)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)

    def ref(x, W, b):
        if ordering == "th":
            return to_th(np_conv(to_tf(x), th_kernel(W), stride, mode, rate) + b)
        return np_conv(x, W, stride, mode, rate) + b

    want = ref(xs.astype(np.float64), W, b)
    assert out._keras_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(Model(x, out).predict(xs), want, rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


def test_conv2d_dilation_rate_is_atrous_and_kept_in_its_config():
    k2 = Conv2D(4, (3, 3), dilation_rate=2, padding="same", data_format="channels_last")
    k1 = AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2), border_mode="same", dim_ordering="tf")
    x = Input(shape=(8, 8, 2))
    m2, m1 = Model(x, k2(x)), Model(x, k1(x))
    k1.set_weights(k2.get_weights())
    xs = RNG.standard_normal((2, 8, 8, 2)).astype(np.float32)
    np.testing.assert_allclose(m1.predict(xs), m2.predict(xs), rtol=1e-6, atol=1e-6)
    assert k2.get_config()["dilation_rate"] == (2, 2) and "dilation_rate" not in Conv2D(4, 3, 3).get_config()
    assert k1.get_config()["atrous_rate"] == (2, 2) and "dilation_rate" not in k1.get_config()
    again = Conv2D.from_config(json.loads(json.dumps(k2.get_config())))
    assert again.atrous_rate == (2, 2)


@pytest.mark.parametrize("mode,rate,stride", [("valid", 2, 1), ("same", 3, 1), ("causal", 2, 1), ("same", 2, 2)])
def test_atrous_convolution1d_matches_numpy_and_its_gradients(mode, rate, stride):
    if mode == "causal":  # Keras 2 only
        layer = Conv1D(3, 3, padding="causal", dilation_rate=rate)
    else:
        layer = AtrousConvolution1D(3, 3, atrous_rate=rate, border_mode=mode, subsample_length=stride)
    x = Input(shape=(9, 2))
    out = layer(x)
    assert layer.W.shape == (3, 1, 2, 3)
    W, b = random_bias(layer)
    xs = RNG.standard_normal((2, 9, 2)).astype(np.float32)

    def ref(x, W, b):  # the steps as the rows of an image one pixel wide
        if mode == "causal":
            x = np.pad(x, ((0, 0), (2 * rate, 0), (0, 0)))
        img = np_conv(x[:, :, None, :], W, (stride, 1), "valid" if mode == "causal" else mode, (rate, 1))
        return img[:, :, 0, :] + b

    want = ref(xs.astype(np.float64), W, b)
    np.testing.assert_allclose(Model(x, out).predict(xs), want, rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


def test_atrous_configs_and_keras_1_2_output_length():
    layer = AtrousConvolution2D(64, 3, 3, atrous_rate=(2, 2), border_mode="valid", input_shape=(3, 256, 256))
    model = Sequential([layer])
    assert model.output_shape == (None, 64, 252, 252)  # Keras 1.2's docstring: the 3x3 kernel becomes 5x5
    assert layer.name.startswith("atrousconvolution2d_")
    config = layer.get_config()
    assert {"atrous_rate", "nb_filter", "nb_row", "nb_col", "border_mode", "subsample", "dim_ordering"} <= set(config)
    one = AtrousConvolution1D(4, 3, atrous_rate=2, border_mode="same", input_shape=(10, 32))
    assert Sequential([one]).output_shape == (None, 10, 4)
    assert one.get_config()["atrous_rate"] == 2 and "dilation_rate" not in one.get_config()
    with pytest.raises(ValueError, match="Invalid border mode for AtrousConv2D"):
        AtrousConvolution2D(4, 3, 3, border_mode="full")


# ---------------------------------------------------------------------------------------------
# Deconvolution2D / Conv2DTranspose.

@pytest.mark.parametrize("ordering", ["tf", "th"])
@pytest.mark.parametrize("mode,stride,hw,out_hw", [("valid", (1, 1), (4, 5), (6, 6)), ("valid", (2, 2), (3, 4), (7, 8)),
                                                   ("same", (2, 2), (3, 4), (6, 8)), ("same", (2, 3), (3, 3), (5, 8)),
                                                   ("valid", (3, 2), (2, 3), (6, 6))])
def test_deconvolution2d_matches_numpy_and_its_gradients(ordering, mode, stride, hw, out_hw):
    shape = image_shape(ordering, hw, 2)
    out_shape = (None,) + image_shape(ordering, out_hw, 3)
    layer = Deconvolution2D(3, 3, 2, output_shape=out_shape, border_mode=mode, subsample=stride,
                            dim_ordering=ordering)
    x = Input(shape=shape)
    out = layer(x)
    assert out._keras_shape == out_shape
    # the kernel of the Convolution2D it transposes (nb_filter outputs from 2 channels)
    assert layer.W.shape == ((3, 2, 2, 3) if ordering == "tf" else (3, 2, 3, 2))
    W, b = random_bias(layer)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)

    def ref(x, W, b):
        if ordering == "th":
            return to_th(np_conv_transpose(to_tf(x), th_kernel(W).transpose(0, 1, 3, 2), out_hw, stride, mode) + b)
        return np_conv_transpose(x, W.transpose(0, 1, 3, 2), out_hw, stride, mode) + b

    want = ref(xs.astype(np.float64), W, b)
    np.testing.assert_allclose(Model(x, out).predict(xs), want, rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


def test_deconvolution2d_is_the_input_gradient_of_convolution2d():
    """A Deconvolution2D with the kernel of a Convolution2D computes that convolution's input
    gradient (its own docstring's definition), for strides, 'same' and odd sizes."""
    conv = Convolution2D(3, 3, 3, border_mode="same", subsample=(2, 2), bias=False, dim_ordering="tf")
    x = Input(shape=(7, 6, 2))
    y = conv(x)
    dy = K.placeholder(shape=(None, 4, 3, 3))
    (dx,) = K.gradients(K.sum(y * dy), [x])
    deconv = Deconvolution2D(2, 3, 3, output_shape=(None, 7, 6, 2), border_mode="same", subsample=(2, 2), bias=False,
                             dim_ordering="tf")
    z = Input(shape=(4, 3, 3))
    model = Model(z, deconv(z))
    deconv.set_weights([conv.get_weights()[0].transpose(0, 1, 3, 2)])
    xs = RNG.standard_normal((2, 7, 6, 2)).astype(np.float32)
    dys = RNG.standard_normal((2, 4, 3, 3)).astype(np.float32)
    want = K.function([x, dy], [dx])([xs, dys])[0]
    np.testing.assert_allclose(model.predict(dys), want, rtol=1e-5, atol=1e-5)


def test_conv2d_transpose_keras2_sizes_and_keras1_docstring_example():
    # Keras 2: no output_shape; rows * stride (+ max(kernel - stride, 0) for 'valid')
    x = Input(shape=(4, 5, 2))
    assert Conv2DTranspose(3, (3, 3), strides=(2, 2), padding="same")(x)._keras_shape == (None, 8, 10, 3)
    assert Conv2DTranspose(3, (3, 3), strides=(2, 2))(x)._keras_shape == (None, 9, 11, 3)
    assert Conv2DTranspose(3, (1, 1), strides=(2, 2))(x)._keras_shape == (None, 8, 10, 3)
    assert Conv2DTranspose(3, (3, 3), (2, 2), "same")(x)._keras_shape == (None, 8, 10, 3)  # positional
    # Keras 1.2's docstring: 3x3, stride 2, 12x12 -> 25x25 ('th')
    model = Sequential([Deconvolution2D(3, 3, 3, output_shape=(None, 3, 25, 25), subsample=(2, 2),
                                        border_mode="valid", input_shape=(3, 12, 12))])
    assert model.output_shape == (None, 3, 25, 25)
    assert model.predict(np.ones((2, 3, 12, 12), np.float32)).shape == (2, 3, 25, 25)
    layer = model.layers[0]
    assert layer.name.startswith("deconvolution2d_") and layer.get_config()["output_shape"] == [None, 3, 25, 25]


def test_deconvolution2d_refuses_an_output_shape_its_input_cannot_give():
    x = Input(shape=(4, 4, 2))
    with pytest.raises(ValueError, match="cannot come from 4"):
        Deconvolution2D(3, 3, 3, output_shape=(None, 9, 9, 3), dim_ordering="tf")(x)
    with pytest.raises(ValueError, match="Invalid border mode for Deconvolution2D"):
        Deconvolution2D(3, 3, 3, output_shape=(None, 6, 6, 3), border_mode="full")
    with pytest.raises(ValueError, match="4 entries"):
        Deconvolution2D(3, 3, 3, output_shape=(6, 6))


# ---------------------------------------------------------------------------------------------
# SeparableConvolution2D / SeparableConv2D.

@pytest.mark.parametrize("ordering", ["tf", "th"])
@pytest.mark.parametrize("mode,stride,multiplier", [("valid", (1, 1), 1), ("same", (1, 1), 2), ("same", (2, 1), 3),
                                                    ("valid", (2, 2), 2)])
def test_separable_convolution2d_matches_numpy_and_its_gradients(ordering, mode, stride, multiplier):
    layer = SeparableConvolution2D(4, 3, 2, border_mode=mode, subsample=stride, depth_multiplier=multiplier,
                                   dim_ordering=ordering)
    shape = image_shape(ordering, (6, 5), 2)
    x = Input(shape=shape)
    out = layer(x)
    names = [w.name for w in layer.weights]
    assert names == [layer.name + "_depthwise_kernel", layer.name + "_pointwise_kernel", layer.name + "_b"]
    dw_shape, pw_shape = ((3, 2, 2, multiplier), (1, 1, 2 * multiplier, 4)) if ordering == "tf" else \
        ((multiplier, 2, 3, 2), (4, 2 * multiplier, 1, 1))
    assert layer.depthwise_kernel.shape == dw_shape and layer.pointwise_kernel.shape == pw_shape
    dw, pw, b = random_bias(layer)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)

    def ref(x, dw, pw, b):
        if ordering == "th":
            x, dw, pw = to_tf(x), th_kernel(dw), th_kernel(pw)
        y = np_conv(np_depthwise(x, dw, stride, mode), pw) + b
        return to_th(y) if ordering == "th" else y

    want = ref(xs.astype(np.float64), dw, pw, b)
    assert out._keras_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(Model(x, out).predict(xs), want, rtol=1e-5, atol=1e-5)
    params = [(layer.depthwise_kernel, dw), (layer.pointwise_kernel, pw), (layer.b, b)]
    check_layer_gradients(x, out, params, xs, ref, RNG)


def test_separable_conv2d_keras2_spelling_config_and_errors():
    layer = SeparableConv2D(6, (3, 3), strides=(1, 1), padding="same", depth_multiplier=2, use_bias=False,
                            depthwise_initializer="he_normal", pointwise_initializer="zero")
    x = Input(shape=(5, 5, 3))
    assert layer(x)._keras_shape == (None, 5, 5, 6) and len(layer.weights) == 2
    assert not np.any(layer.get_weights()[1])  # pointwise_initializer='zero'
    config = json.loads(json.dumps(layer.get_config()))
    assert config["depthwise_initializer"] == "he_normal" and config["pointwise_initializer"] == "zero"
    assert json.loads(json.dumps(SeparableConv2D.from_config(config).get_config())) == config
    k1 = SeparableConvolution2D(4, 3, 3).get_config()
    assert {"depth_multiplier", "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
            "pointwise_constraint"} <= set(k1) and "depthwise_initializer" not in k1
    with pytest.raises(ValueError, match="Invalid border mode for SeparableConv2D"):
        SeparableConvolution2D(4, 3, 3, border_mode="full")
    with pytest.raises(TypeError, match="depthwise_/pointwise_regularizer"):
        SeparableConvolution2D(4, 3, 3, W_regularizer="l2")


def test_separable_regularizers_add_their_penalties():
    layer = SeparableConvolution2D(2, 2, 2, depthwise_regularizer="l2", pointwise_regularizer="l1",
                                   dim_ordering="tf")
    layer(Input(shape=(4, 4, 2)))
    dw, pw = layer.get_weights()[:2]
    got = [float(K.eval(loss)) for loss in layer.losses]
    np.testing.assert_allclose(got, [0.01 * np.sum(dw.astype(np.float64) ** 2), 0.01 * np.sum(np.abs(pw))],
                               rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# All of them: module paths, layer_test, training, kernel conversion.

def test_keras_module_paths():
    assert convolutional.AtrousConvolution2D is AtrousConvolution2D
    assert convolutional.AtrousConvolution1D is AtrousConvolution1D
    assert convolutional.Deconvolution2D is Deconvolution2D is Conv2DTranspose
    assert convolutional.SeparableConvolution2D is SeparableConvolution2D is SeparableConv2D


@pytest.mark.parametrize("cls,kwargs,shape", [
    (AtrousConvolution1D, {"nb_filter": 3, "filter_length": 2, "atrous_rate": 2, "border_mode": "same"}, (2, 7, 4)),
    (AtrousConvolution2D, {"nb_filter": 3, "nb_row": 2, "nb_col": 3, "atrous_rate": (2, 1), "dim_ordering": "tf"},
     (2, 6, 7, 2)),
    (Conv2D, {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 6, 7, 2)),
    (Deconvolution2D, {"nb_filter": 3, "nb_row": 3, "nb_col": 3, "output_shape": (None, 3, 9, 11),
                       "subsample": (2, 2), "dim_ordering": "th"}, (2, 2, 4, 5)),
    (Conv2DTranspose, {"filters": 3, "kernel_size": (3, 2), "strides": (2, 2), "padding": "same"}, (3, 4, 5, 2)),
    (SeparableConvolution2D, {"nb_filter": 3, "nb_row": 3, "nb_col": 3, "depth_multiplier": 2, "dim_ordering": "th",
                              "border_mode": "same"}, (2, 2, 5, 6)),
    (SeparableConv2D, {"filters": 3, "kernel_size": 2, "strides": 2}, (None, 5, 6, 2)),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_layer_test(cls, kwargs, shape):
    out = layer_test(cls, kwargs=kwargs, input_shape=shape)
    assert out.ndim == len(shape) and np.all(np.isfinite(out))


def test_a_deconvolution_autoencoder_learns_on_its_data():
    np.random.seed(3)
    x = Input(shape=(8, 8, 1))
    h = SeparableConvolution2D(4, 3, 3, border_mode="same", subsample=(2, 2), activation="tanh", dim_ordering="tf")(x)
    h = AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2), border_mode="same", activation="tanh", dim_ordering="tf")(h)
    y = Deconvolution2D(1, 3, 3, output_shape=(None, 8, 8, 1), subsample=(2, 2), border_mode="same",
                        dim_ordering="tf")(h)
    model = Model(x, y)
    model.compile(Adam(lr=0.01), "mse")
    data = np.zeros((64, 8, 8, 1), np.float32)
    for k in range(64):  # a vertical bar in each of the 8 columns
        data[k, :, k % 8, 0] = 1.0
    assert model.evaluate(data, data, verbose=0) > 0.1
    model.fit(data, data, nb_epoch=50, batch_size=16, verbose=0)
    # far below any constant guess (at best 1/8 * 7/8 = 0.11): it learned where the bar is
    assert model.evaluate(data, data, verbose=0) < 0.01


def test_convert_all_kernels_flips_atrous_and_deconvolution_but_not_separable_kernels():
    x = Input(shape=(5, 5, 2))
    layers = [AtrousConvolution2D(2, 3, 3, atrous_rate=(2, 2), border_mode="same", dim_ordering="tf"),
              Deconvolution2D(2, 3, 3, output_shape=(None, 5, 5, 2), border_mode="same", dim_ordering="tf"),
              SeparableConvolution2D(2, 3, 3, border_mode="same", dim_ordering="tf")]
    y = x
    for layer in layers:
        y = layer(y)
    model = Model(x, Dense(1)(Flatten()(y)))
    before = [layer.get_weights()[0] for layer in layers]
    convert_all_kernels_in_model(model)
    after = [layer.get_weights()[0] for layer in layers]
    for b, a in zip(before[:2], after[:2]):
        np.testing.assert_array_equal(a, b[::-1, ::-1])
    np.testing.assert_array_equal(after[2], before[2])  # Keras 1.2 leaves SeparableConvolution2D alone


def test_model_with_the_new_layers_round_trips_through_json():
    x = Input(shape=(2, 6, 6))
    y = Deconvolution2D(2, 2, 2, output_shape=(None, 2, 12, 12), subsample=(2, 2), dim_ordering="th")(
        SeparableConvolution2D(2, 3, 3, border_mode="same", dim_ordering="th")(
            AtrousConvolution2D(2, 2, 2, atrous_rate=(2, 2), border_mode="same", dim_ordering="th")(x)))
    model = Model(x, y)
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    xs = RNG.standard_normal((2, 2, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(xs), model.predict(xs))
