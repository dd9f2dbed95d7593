"""The 3D layers (layers/volumes.py): Convolution3D / Conv3D, MaxPooling3D, AveragePooling3D,
ZeroPadding3D, Cropping3D, UpSampling3D against float64 NumPy in both orderings, gradients of
weights and inputs by central differences, layer_test, JSON config round trips, the Keras 2
spellings, and a small model that learns MNIST digits stacked as short volumes."""
import json

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import (AveragePooling3D, AvgPool3D, Conv3D, Convolution3D, Cropping3D, Dense, Flatten, Input,
                         MaxPool3D, MaxPooling3D, UpSampling3D, ZeroPadding3D)
from kiln.models import Model, model_from_json
from kiln.optimizers import Adam
from kiln.utils.layer_utils import layer_from_config
from kiln.utils.test_utils import layer_test

from numeric import check_layer_gradients

RNG = np.random.default_rng(3)


def _geometry(n, k, s, padding):
    """(output length, padding before, padding after), TensorFlow's."""
    if padding == "same":
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        return out, total // 2, total - total // 2
    return (n - k) // s + 1, 0, 0


def np_conv3d(x, w, strides, padding):
    """x (B, D, H, W, C), w (kd, kr, kc, C, F), float64, written as a sum over kernel taps."""
    geo = [_geometry(n, k, s, padding) for n, k, s in zip(x.shape[1:4], w.shape[:3], strides)]
    xp = np.pad(x, [(0, 0)] + [(b, a) for _, b, a in geo] + [(0, 0)])
    outs = [o for o, _, _ in geo]
    y = np.zeros((x.shape[0],) + tuple(outs) + (w.shape[4],))
    for i, j, k in np.ndindex(*w.shape[:3]):
        patch = xp[:, i:i + strides[0] * (outs[0] - 1) + 1:strides[0], j:j + strides[1] * (outs[1] - 1) + 1:strides[1],
                   k:k + strides[2] * (outs[2] - 1) + 1:strides[2]]
        y += patch @ w[i, j, k]
    return y


def np_pool3d(x, pool, strides, padding, mode):
    """x (B, D, H, W, C); 'same' windows hold only real voxels."""
    geo = [_geometry(n, k, s, padding) for n, k, s in zip(x.shape[1:4], pool, strides)]
    y = np.zeros((x.shape[0],) + tuple(o for o, _, _ in geo) + (x.shape[4],))
    for idx in np.ndindex(*y.shape[1:4]):
        win = x[(slice(None),) + tuple(slice(max(i * s - b, 0), min(i * s - b + k, n))
                                       for i, s, (_, b, _), k, n in zip(idx, strides, geo, pool, x.shape[1:4]))]
        y[(slice(None),) + idx] = win.max(axis=(1, 2, 3)) if mode == "max" else win.mean(axis=(1, 2, 3))
    return y


def to_tf(x):
    return np.transpose(x, (0, 2, 3, 4, 1))


def to_th(y):
    return np.transpose(y, (0, 4, 1, 2, 3))


def kernel_tf(w, ordering):
    """A Convolution3D kernel as stored in `ordering` read as (d1, d2, d3, stack, nb_filter)."""
    return np.transpose(w, (2, 3, 4, 1, 0)) if ordering == "th" else w


def volume_shape(ordering, channels=2, spatial=(5, 4, 5)):
    return (channels,) + spatial if ordering == "th" else spatial + (channels,)


def in_ordering(ref, ordering):
    """A channels-last NumPy reference read in `ordering`."""
    if ordering == "tf":
        return ref
    return lambda x, *ws: to_th(ref(to_tf(x), *ws))


CONV_CASES = [((1, 1, 1), "valid"), ((2, 1, 2), "valid"), ((1, 2, 1), "same"), ((2, 2, 2), "same")]


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("strides,padding", CONV_CASES)
def test_convolution3d_matches_numpy_and_its_gradients(ordering, strides, padding):
    shape = volume_shape(ordering)
    x = Input(shape=shape)
    layer = Convolution3D(3, 3, 2, 2, border_mode=padding, subsample=strides, dim_ordering=ordering,
                          activation="tanh")
    out = layer(x)
    W, b = layer.get_weights()
    assert W.shape == ((3, 2, 3, 2, 2) if ordering == "th" else (3, 2, 2, 2, 3)) and b.shape == (3,)
    b = RNG.standard_normal(3).astype(np.float32) * 0.3
    layer.set_weights([W, b])
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)

    def ref(x64, w, bias):
        return np.tanh(np_conv3d(x64, kernel_tf(w, ordering), strides, padding) + bias)
    ref = in_ordering(ref, ordering)
    want = ref(xs.astype(np.float64), W, b)
    got = Model(x, out).predict(xs)
    assert got.shape == want.shape and K.int_shape(out) == (None,) + want.shape[1:]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    check_layer_gradients(x, out, [(layer.W, W), (layer.b, b)], xs, ref, RNG)


def test_convolution3d_th_kernel_is_the_tf_kernel_transposed():
    """The same weights in Keras 1.2's two layouts give the same convolution."""
    xt = Input(shape=(5, 4, 5, 2))
    tf_layer = Convolution3D(4, 2, 3, 2, dim_ordering="tf")
    yt = tf_layer(xt)
    xh = Input(shape=(2, 5, 4, 5))
    th_layer = Convolution3D(4, 2, 3, 2, dim_ordering="th")
    yh = th_layer(xh)
    W, b = tf_layer.get_weights()
    th_layer.set_weights([np.transpose(W, (4, 3, 0, 1, 2)), b])
    xs = RNG.standard_normal((3, 5, 4, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(Model(xh, yh).predict(to_th(xs)), to_th(Model(xt, yt).predict(xs)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("cls,mode", [(MaxPooling3D, "max"), (AveragePooling3D, "avg")])
@pytest.mark.parametrize("pool,strides,padding", [((2, 2, 2), None, "valid"), ((3, 2, 2), (2, 1, 2), "same"),
                                                  ((2, 3, 1), (1, 1, 1), "valid")])
def test_pooling3d_matches_numpy_and_its_input_gradient(ordering, cls, mode, pool, strides, padding):
    shape = volume_shape(ordering)
    x = Input(shape=shape)
    out = cls(pool, strides=strides, border_mode=padding, dim_ordering=ordering)(x)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)
    ref = in_ordering(lambda x64: np_pool3d(x64, pool, strides or pool, padding, mode), ordering)
    want = ref(xs.astype(np.float64))
    got = Model(x, out).predict(xs)
    assert got.shape == want.shape and K.int_shape(out) == (None,) + want.shape[1:]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    check_layer_gradients(x, out, [], xs, ref, RNG)


def np_zero_pad(x, pads):
    return np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])


def np_crop(x, crops):
    return x[(slice(None),) + tuple(slice(a, n - b) for (a, b), n in zip(crops, x.shape[1:4]))]


def np_upsample(x, size):
    for axis, n in zip((1, 2, 3), size):
        x = np.repeat(x, n, axis=axis)
    return x


SPATIAL = [
    (lambda o: ZeroPadding3D((1, 0, 2), dim_ordering=o), lambda x: np_zero_pad(x, [(1, 1), (0, 0), (2, 2)])),
    (lambda o: ZeroPadding3D(padding=((0, 1), (2, 0), (1, 1)), data_format="channels_first" if o == "th"
                             else "channels_last"), lambda x: np_zero_pad(x, [(0, 1), (2, 0), (1, 1)])),
    (lambda o: Cropping3D(((1, 0), (0, 1), (2, 1)), dim_ordering=o), lambda x: np_crop(x, [(1, 0), (0, 1), (2, 1)])),
    (lambda o: UpSampling3D((2, 1, 3), dim_ordering=o), lambda x: np_upsample(x, (2, 1, 3))),
]


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("k", range(len(SPATIAL)))
def test_padding_cropping_upsampling_match_numpy_and_their_gradients(ordering, k):
    make, np_ref = SPATIAL[k]
    shape = volume_shape(ordering)
    x = Input(shape=shape)
    out = make(ordering)(x)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)
    ref = in_ordering(np_ref, ordering)
    want = ref(xs.astype(np.float64))
    got = Model(x, out).predict(xs)
    assert K.int_shape(out) == (None,) + want.shape[1:]
    np.testing.assert_array_equal(got, want.astype(np.float32))
    check_layer_gradients(x, out, [], xs, ref, RNG)


def test_layout_follows_the_input():
    """A pooling after a 'th' convolution pools the volume channels first, unstated."""
    x = Input(shape=(2, 4, 4, 6))
    h = Convolution3D(3, 1, 1, 1, dim_ordering="th")(x)
    y = MaxPooling3D()(h)
    assert K.int_shape(y) == (None, 3, 2, 2, 3)


def test_layer_test_on_each_layer():
    layer_test(Convolution3D, kwargs={"nb_filter": 2, "kernel_dim1": 2, "kernel_dim2": 3, "kernel_dim3": 2,
                                      "border_mode": "same", "subsample": (1, 2, 1), "dim_ordering": "th"},
               input_shape=(2, 3, 5, 4, 5))
    layer_test(Convolution3D, kwargs={"nb_filter": 3, "kernel_dim1": 2, "kernel_dim2": 2, "kernel_dim3": 2,
                                      "dim_ordering": "tf", "bias": False}, input_shape=(2, 4, 3, 5, 2))
    for cls in (MaxPooling3D, AveragePooling3D):
        layer_test(cls, kwargs={"pool_size": (2, 2, 1), "strides": (1, 2, 1), "border_mode": "same",
                                "dim_ordering": "tf"}, input_shape=(2, 4, 5, 3, 2))
    layer_test(ZeroPadding3D, kwargs={"padding": (1, 2, 0), "dim_ordering": "th"}, input_shape=(2, 2, 3, 4, 2))
    layer_test(Cropping3D, kwargs={"cropping": ((1, 1), (0, 1), (1, 0)), "dim_ordering": "tf"},
               input_shape=(2, 4, 3, 4, 2))
    out = layer_test(UpSampling3D, kwargs={"size": (1, 2, 2), "dim_ordering": "th"}, input_shape=(2, 2, 2, 3, 2))
    assert out.shape == (2, 2, 2, 6, 4)


def test_keras2_spellings():
    x = Input(shape=(5, 4, 5, 2))
    conv = Conv3D(4, (2, 3, 2), (1, 2, 1), "same", use_bias=False, kernel_initializer="he_normal")
    assert K.int_shape(conv(x)) == (None, 5, 2, 5, 4)
    assert (conv.kernel_dim1, conv.kernel_dim2, conv.kernel_dim3, conv.subsample, conv.border_mode, conv.bias) == \
        (2, 3, 2, (1, 2, 1), "same", False)
    assert [w.shape for w in conv.get_weights()] == [(2, 3, 2, 2, 4)]  # channels last: Keras 2's default
    assert Conv3D(2, kernel_size=3, strides=2, padding="valid").subsample == (2, 2, 2)
    assert K.int_shape(MaxPool3D(pool_size=2, padding="same")(x)) == (None, 3, 2, 3, 2)
    assert K.int_shape(AvgPool3D((1, 2, 1), strides=1, data_format="channels_last")(x)) == (None, 5, 3, 5, 2)
    assert Conv3D is Convolution3D and MaxPool3D is MaxPooling3D and AvgPool3D is AveragePooling3D


def test_keras1_defaults_follow_image_dim_ordering():
    K.set_image_dim_ordering("th")
    x = Input(shape=(1, 4, 4, 4))
    layer = Convolution3D(2, 3, 3, 3)
    assert K.int_shape(layer(x)) == (None, 2, 2, 2, 2) and layer.get_weights()[0].shape == (2, 1, 3, 3, 3)
    K.set_image_dim_ordering("tf")
    layer = Convolution3D(2, 3, 3, 3)
    layer(Input(shape=(4, 4, 4, 1)))
    assert layer.get_weights()[0].shape == (3, 3, 3, 1, 2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Invalid border mode for Convolution3D"):
        Convolution3D(2, 3, 3, 3, border_mode="full")
    with pytest.raises(ValueError, match="border_mode"):
        MaxPooling3D(border_mode="full")
    with pytest.raises(TypeError, match="kernel size"):
        Convolution3D(nb_filter=2)
    with pytest.raises(TypeError, match="number of filters"):
        Convolution3D(kernel_dim1=3, kernel_dim2=3, kernel_dim3=3)
    with pytest.raises(NotImplementedError, match="dilation_rate"):
        Conv3D(2, 3, dilation_rate=2)
    with pytest.raises(ValueError, match="3 ints"):
        UpSampling3D((2, 2))


def test_configs_are_keras_1_2s_and_round_trip():
    conv = Convolution3D(2, 3, 2, 1, border_mode="same", subsample=(2, 1, 1), dim_ordering="tf", name="c")
    c = json.loads(json.dumps(conv.get_config()))
    assert c == {"name": "c", "trainable": True, "nb_filter": 2, "kernel_dim1": 3, "kernel_dim2": 2,
                 "kernel_dim3": 1, "dim_ordering": "tf", "init": "glorot_uniform", "activation": "linear",
                 "border_mode": "same", "subsample": [2, 1, 1], "W_regularizer": None, "b_regularizer": None,
                 "activity_regularizer": None, "W_constraint": None, "b_constraint": None, "bias": True}
    pool = json.loads(json.dumps(MaxPooling3D((2, 1, 2), dim_ordering="th", name="p").get_config()))
    assert pool == {"name": "p", "trainable": True, "pool_size": [2, 1, 2], "strides": [2, 1, 2],
                    "border_mode": "valid", "dim_ordering": "th"}
    for layer in (conv, MaxPooling3D((2, 1, 2), dim_ordering="th"), AveragePooling3D(strides=(1, 1, 1)),
                  ZeroPadding3D((1, 2, 3)), ZeroPadding3D(((1, 0), (0, 2), (1, 1))),
                  Cropping3D(((0, 1), (1, 0), (2, 2))),
                  UpSampling3D((1, 2, 3), dim_ordering="tf")):
        config = {"class_name": type(layer).__name__, "config": json.loads(json.dumps(layer.get_config()))}
        again = layer_from_config(config)
        assert type(again) is type(layer)
        assert json.dumps(again.get_config(), sort_keys=True) == json.dumps(config["config"], sort_keys=True)
    assert ZeroPadding3D((1, 2, 3)).get_config()["padding"] == (1, 2, 3)


def volumes(mnist, n, depth=4):
    """n short volumes (depth, 14, 14, 1): `depth` consecutive MNIST test digits of the same
    class, each downsampled by 2, stacked along the first axis; label the class."""
    _, _, x, y = mnist
    images = x.reshape(-1, 28, 28)[:, ::2, ::2]
    out, labels = [], []
    for cls in range(10):
        idx = np.flatnonzero(y == cls)
        for k in range(n // 10):
            out.append(images[idx[k * depth:(k + 1) * depth]])
            labels.append(cls)
    return np.stack(out)[..., None].astype(np.float32), np.eye(10, dtype=np.float32)[labels]


def test_a_small_3d_model_learns_mnist_volumes(mnist):
    xs, ys = volumes(mnist, 200)
    x = Input(shape=xs.shape[1:])
    h = Convolution3D(4, 2, 3, 3, activation="relu", border_mode="same", dim_ordering="tf")(x)
    h = MaxPooling3D((2, 2, 2), dim_ordering="tf")(h)
    h = ZeroPadding3D((0, 1, 1), dim_ordering="tf")(h)
    h = Convolution3D(4, 2, 3, 3, activation="relu", dim_ordering="tf")(h)
    h = AveragePooling3D((1, 2, 2), dim_ordering="tf")(h)
    h = Cropping3D(((0, 0), (0, 1), (0, 1)), dim_ordering="tf")(UpSampling3D((1, 2, 2), dim_ordering="tf")(h))
    learns(Model(x, Dense(10, activation="softmax")(Flatten()(h))), xs, ys, epochs=12, loss_ratio=0.7, accuracy=0.5)


def learns(model, xs, ys, epochs, loss_ratio, accuracy):
    """Trains a volume model on (xs, ys): its loss must fall below loss_ratio of the untrained
    one's and its accuracy pass `accuracy`; its config must rebuild it exactly."""
    model.compile(Adam(lr=0.01), "categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(xs, ys, verbose=0)[0]
    hist = model.fit(xs, ys, batch_size=20, nb_epoch=epochs, verbose=0)
    after = model.evaluate(xs, ys, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert after[0] < loss_ratio * before and after[1] > accuracy, (before, after)
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(xs[:5]), model.predict(xs[:5]))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv3d_and_pool3d_with_a_static_batch_size(padding):
    """A fixed batch (Input(batch_shape=...)) folds the depth into it by a reshape."""
    xs = RNG.standard_normal((3, 5, 4, 5, 2)).astype(np.float32)
    w = RNG.standard_normal((3, 2, 2, 2, 4)).astype(np.float32)
    x = K.placeholder(shape=xs.shape)
    y = K.conv3d(x, K.variable(w), strides=(2, 1, 2), border_mode=padding, dim_ordering="tf")
    p = K.pool3d(x, (3, 2, 2), strides=(2, 1, 2), border_mode=padding, dim_ordering="tf", pool_mode="avg")
    got_y, got_p = K.function([x], [y, p])([xs])
    np.testing.assert_allclose(got_y, np_conv3d(xs.astype(np.float64), w, (2, 1, 2), padding), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_p, np_pool3d(xs.astype(np.float64), (3, 2, 2), (2, 1, 2), padding, "avg"),
                               rtol=1e-5, atol=1e-6)
