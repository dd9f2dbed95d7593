"""Convolution1D, 1D and global pooling, ZeroPadding/Cropping/UpSampling 1D and 2D, SpatialDropout,
Masking and ActivityRegularization: forward against NumPy (2D layers in both layouts, following
their input's), gradients against float64 central differences where the math is more than
moving values, and two small nets of them trained on MNIST."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import (ActivityRegularization, AveragePooling1D, Conv1D, Convolution1D, Convolution2D, Cropping1D,
                         Cropping2D, Dense, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D,
                         GlobalMaxPooling1D, GlobalMaxPooling2D, Input, Masking, MaxPooling1D, MaxPooling2D, Reshape,
                         SimpleRNN, SpatialDropout1D, SpatialDropout2D, TimeDistributed, UpSampling1D, UpSampling2D,
                         ZeroPadding1D, ZeroPadding2D)
from kiln.layers import convolutional, core, pooling
from kiln.models import Model, Sequential

from numeric import numeric_grad

RNG = np.random.default_rng(0)


def run(layer, xs):
    x = Input(shape=xs.shape[1:])
    return Model(x, layer(x)).predict(xs)


def same_pads(n, window, stride):
    out = -(-n // stride)
    total = max((out - 1) * stride + window - n, 0)
    return total // 2, total - total // 2


def np_conv1d(x, W, b, stride, mode):
    L = W.shape[0]
    if mode == "same":
        x = np.pad(x, ((0, 0), same_pads(x.shape[1], L, stride), (0, 0)))
    elif mode == "causal":
        x = np.pad(x, ((0, 0), (L - 1, 0), (0, 0)))
    T = (x.shape[1] - L) // stride + 1
    return np.stack([np.einsum("bkc,kcf->bf", x[:, t * stride:t * stride + L], W[:, 0]) for t in range(T)], 1) + b


def np_pool1d(x, L, stride, mode, kind):
    left, right = same_pads(x.shape[1], L, stride) if mode == "same" else (0, 0)
    x = np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=np.nan)
    T = (x.shape[1] - L) // stride + 1
    f = np.nanmax if kind == "max" else np.nanmean
    return np.stack([f(x[:, t * stride:t * stride + L], axis=1) for t in range(T)], 1)


def test_keras_module_paths():
    assert convolutional.Convolution1D is Conv1D is Convolution1D
    assert convolutional.ZeroPadding2D is ZeroPadding2D and convolutional.UpSampling1D is UpSampling1D
    assert convolutional.Cropping2D is Cropping2D
    assert pooling.GlobalMaxPooling2D is GlobalMaxPooling2D and pooling.MaxPooling1D is MaxPooling1D
    assert pooling.MaxPool1D is MaxPooling1D and pooling.GlobalAvgPool2D is GlobalAveragePooling2D
    assert core.Masking is Masking and core.SpatialDropout2D is SpatialDropout2D
    assert core.ActivityRegularization is ActivityRegularization


@pytest.mark.parametrize("mode", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv1d_matches_numpy_and_its_gradients(mode, stride):
    layer = Convolution1D(4, 3, border_mode=mode, subsample_length=stride)
    x = Input(shape=(7, 2))
    out = layer(x)
    model = Model(x, out)
    assert [w.name for w in layer.weights] == [layer.name + "_W", layer.name + "_b"]
    assert layer.W.shape == (3, 1, 2, 4) and layer.b.shape == (4,)
    b = RNG.standard_normal(4).astype(np.float32)
    layer.set_weights([layer.get_weights()[0], b])
    xs = RNG.standard_normal((3, 7, 2)).astype(np.float32)
    W64, b64, x64 = (a.astype(np.float64) for a in (layer.get_weights()[0], b, xs))
    want = np_conv1d(x64, W64, b64, stride, mode)
    got = model.predict(xs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    t = K.placeholder(shape=(None,) + want.shape[1:])
    loss = K.sum(K.square(K.tanh(out) - t))
    target = RNG.standard_normal(want.shape)
    dW, db, dx = K.function([x, t], K.gradients(loss, [layer.W, layer.b, x]))([xs, target.astype(np.float32)])
    f = lambda: float(np.sum((np.tanh(np_conv1d(x64, W64, b64, stride, mode)) - target) ** 2))
    np.testing.assert_allclose(dW, numeric_grad(f, W64), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, numeric_grad(f, b64), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, numeric_grad(f, x64), rtol=1e-4, atol=1e-4)


def test_conv1d_keras2_spelling_and_input_dim():
    layer = Conv1D(filters=3, kernel_size=2, strides=1, padding="same", use_bias=False, input_shape=(5, 4))
    model = Sequential([layer])
    assert model.output_shape == (None, 5, 3) and len(layer.weights) == 1
    k1 = Sequential([Convolution1D(3, 2, input_dim=4, input_length=5)])
    assert k1.output_shape == (None, 4, 3)
    with pytest.raises(ValueError, match="border mode"):
        Convolution1D(3, 2, border_mode="full")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("mode,L,stride", [("valid", 2, None), ("valid", 3, 1), ("same", 3, 2), ("same", 2, 1)])
def test_pooling1d_matches_numpy(kind, mode, L, stride):
    cls = MaxPooling1D if kind == "max" else AveragePooling1D
    xs = RNG.standard_normal((2, 7, 3)).astype(np.float32)
    want = np_pool1d(xs.astype(np.float64), L, stride or L, mode, kind)
    np.testing.assert_allclose(run(cls(L, stride=stride, border_mode=mode), xs), want, rtol=1e-6, atol=1e-6)
    k2 = cls(pool_size=L, strides=stride, padding=mode)
    assert (k2.pool_length, k2.stride, k2.border_mode) == (L, stride or L, mode)


def test_average_pooling1d_same_gradient_counts_only_real_steps():
    x = Input(shape=(5, 2))
    out = AveragePooling1D(2, stride=1, border_mode="same")(x)
    xs = RNG.standard_normal((2, 5, 2))
    w = RNG.standard_normal((2, 5, 2))
    t = K.placeholder(shape=(None, 5, 2))
    (dx,) = K.function([x, t], K.gradients(K.sum(out * t), [x]))([xs.astype(np.float32), w.astype(np.float32)])
    f = lambda: float(np.sum(np_pool1d(xs, 2, 1, "same", "avg") * w))
    np.testing.assert_allclose(dx, numeric_grad(f, xs), rtol=1e-4, atol=1e-5)


def test_global_pooling_1d_and_2d_in_both_layouts():
    seq = RNG.standard_normal((3, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(run(GlobalMaxPooling1D(), seq), seq.max(1), rtol=1e-6)
    np.testing.assert_allclose(run(GlobalAveragePooling1D(), seq), seq.mean(1), rtol=1e-6, atol=1e-7)
    img = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(run(GlobalMaxPooling2D(dim_ordering="th"), img), img.max((2, 3)), rtol=1e-6)
    np.testing.assert_allclose(run(GlobalAveragePooling2D(dim_ordering="tf"), img), img.mean((1, 2)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(run(GlobalAveragePooling2D(data_format="channels_first"), img), img.mean((2, 3)),
                               rtol=1e-5, atol=1e-6)


def test_padding_cropping_upsampling_1d():
    xs = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(run(ZeroPadding1D(), xs), np.pad(xs, ((0, 0), (1, 1), (0, 0))))
    np.testing.assert_array_equal(run(ZeroPadding1D((2, 0)), xs), np.pad(xs, ((0, 0), (2, 0), (0, 0))))
    np.testing.assert_array_equal(run(ZeroPadding1D({"left_pad": 0, "right_pad": 3}), xs),
                                  np.pad(xs, ((0, 0), (0, 3), (0, 0))))
    np.testing.assert_array_equal(run(Cropping1D(), xs), xs[:, 1:-1])
    np.testing.assert_array_equal(run(Cropping1D((0, 2)), xs), xs[:, :2])
    np.testing.assert_array_equal(run(Cropping1D(1), xs), xs[:, 1:-1])
    np.testing.assert_array_equal(run(UpSampling1D(), xs), np.repeat(xs, 2, axis=1))
    np.testing.assert_array_equal(run(UpSampling1D(size=3), xs), np.repeat(xs, 3, axis=1))


@pytest.mark.parametrize("layout", ["th", "tf"])
def test_padding_cropping_upsampling_2d_in_both_layouts(layout):
    img = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    r, c = (2, 3) if layout == "th" else (1, 2)

    def pads(rows, cols):
        p = [(0, 0)] * 4
        p[r], p[c] = rows, cols
        return p

    def crop(x, rows, cols):
        sl = [slice(None)] * 4
        sl[r], sl[c] = slice(rows[0], x.shape[r] - rows[1]), slice(cols[0], x.shape[c] - cols[1])
        return x[tuple(sl)]

    np.testing.assert_array_equal(run(ZeroPadding2D(dim_ordering=layout), img), np.pad(img, pads((1, 1), (1, 1))))
    np.testing.assert_array_equal(run(ZeroPadding2D((2, 1), dim_ordering=layout), img),
                                  np.pad(img, pads((2, 2), (1, 1))))
    np.testing.assert_array_equal(run(ZeroPadding2D((1, 0, 0, 2), dim_ordering=layout), img),
                                  np.pad(img, pads((1, 0), (0, 2))))
    fmt = "channels_first" if layout == "th" else "channels_last"
    np.testing.assert_array_equal(run(ZeroPadding2D(((0, 1), (2, 0)), data_format=fmt), img),
                                  np.pad(img, pads((0, 1), (2, 0))))
    np.testing.assert_array_equal(run(Cropping2D(((1, 0), (0, 1)), dim_ordering=layout), img),
                                  crop(img, (1, 0), (0, 1)))
    np.testing.assert_array_equal(run(Cropping2D(1, data_format=fmt), img), crop(img, (1, 1), (1, 1)))
    np.testing.assert_array_equal(run(UpSampling2D((2, 3), dim_ordering=layout), img),
                                  np.repeat(np.repeat(img, 2, axis=r), 3, axis=c))


def test_2d_layers_follow_their_inputs_layout():
    """After a channels-first conv, padding, upsampling, cropping and global pooling work on axes
    2 and 3 although the global choice says channels last."""
    K.set_image_dim_ordering("tf")  # conftest.py resets the layout after each test
    x = Input(shape=(2, 5, 6))
    conv = Convolution2D(3, 1, 1, dim_ordering="th", bias=False)
    layers = [ZeroPadding2D((1, 2)), UpSampling2D((2, 1)), Cropping2D(((1, 2), (0, 3)))]
    y = conv(x)
    for layer in layers:
        y = layer(y)
        assert layer.dim_ordering == "th"
    pooled = GlobalMaxPooling2D()(y)
    model = Model(x, [y, pooled])
    xs = RNG.standard_normal((2, 2, 5, 6)).astype(np.float32)
    W = conv.get_weights()[0][:, :, 0, 0]  # (filters, channels)
    z = np.einsum("fc,bchw->bfhw", W, xs)
    z = np.pad(z, ((0, 0), (0, 0), (1, 1), (2, 2)))
    z = np.repeat(z, 2, axis=2)[:, :, 1:-2, 0:-3]
    got, got_pooled = model.predict(xs)
    np.testing.assert_allclose(got, z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_pooled, z.max((2, 3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["1d", "2d-th", "2d-tf"])
def test_spatial_dropout_drops_whole_feature_maps_in_training_only(case):
    if case == "1d":
        layer, xs, axes = SpatialDropout1D(0.5, seed=3), np.ones((8, 6, 10), np.float32), (1,)
    else:
        layout = case[-2:]
        layer = SpatialDropout2D(0.5, dim_ordering=layout, seed=3)
        xs = np.ones((8, 10, 4, 5) if layout == "th" else (8, 4, 5, 10), np.float32)
        axes = (2, 3) if layout == "th" else (1, 2)
    x = Input(shape=xs.shape[1:])
    y = layer(x)
    f = K.function([x, K.learning_phase()], [y])
    train = f([xs, 1])[0]
    assert set(np.unique(train)) <= {0.0, 2.0}
    assert 0.2 < (train == 0).mean() < 0.8
    np.testing.assert_array_equal(train, np.broadcast_to(train.max(axis=axes, keepdims=True), train.shape))
    np.testing.assert_array_equal(f([xs, 0])[0], xs)
    assert SpatialDropout1D(rate=0.2).p == 0.2


def test_masking_zeroes_masked_steps_and_masks_a_recurrent_layer():
    x = Input(shape=(4, 3))
    masked = Masking(mask_value=0.5)(x)
    rnn = SimpleRNN(2, return_sequences=True)
    model = Model(x, [masked, rnn(masked)])
    xs = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    xs[0, 1:3] = 0.5
    xs[1, 3, :2] = 0.5  # only some features equal mask_value: not masked
    got, seq = model.predict(xs)
    want = xs.copy()
    want[0, 1:3] = 0.0
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(seq[0, 1], seq[0, 0], rtol=1e-6)  # masked steps repeat the last output
    np.testing.assert_allclose(seq[0, 2], seq[0, 0], rtol=1e-6)
    assert not np.allclose(seq[0, 3], seq[0, 0])
    mask = K.function([x], [masked._keras_mask])([xs])[0]
    np.testing.assert_array_equal(mask, [[1, 0, 0, 1], [1, 1, 1, 1]])


def test_activity_regularization_adds_its_penalty():
    x = Input(shape=(3,))
    layer = ActivityRegularization(l1=0.1, l2=0.02)
    y = layer(Dense(3)(x))
    assert len(layer.losses) == 1
    xs = RNG.standard_normal((4, 3)).astype(np.float32)
    model = Model(x, y)
    out = model.predict(xs)
    penalty = K.function([x], layer.losses)([xs])[0]
    np.testing.assert_allclose(penalty, 0.1 * np.abs(out).sum() + 0.02 * np.square(out).sum(), rtol=1e-5)
    np.testing.assert_array_equal(model.predict(xs), out)  # the identity


def test_conv1d_net_trains_on_mnist(mnist):
    x_train, y_train, x_test, y_test = mnist
    model = Sequential([Reshape((28, 28), input_shape=(784,)), ZeroPadding1D(1),
                        Conv1D(16, 3, activation="relu"), MaxPooling1D(2), SpatialDropout1D(0.1),
                        UpSampling1D(1), Cropping1D((1, 1)), AveragePooling1D(2, border_mode="same"), Flatten(),
                        ActivityRegularization(l2=1e-5), Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:12000], y_train[:12000], nb_epoch=3, batch_size=64, verbose=0)
    loss, acc = model.evaluate(x_test[:2000], y_test[:2000], verbose=0)
    assert acc > 0.8, acc  # chance is 0.1; 0.84 seeded


def test_image_net_of_them_trains_on_mnist(mnist):
    x_train, y_train, x_test, y_test = mnist
    model = Sequential([Reshape((1, 28, 28), input_shape=(784,)), ZeroPadding2D((1, 1)),
                        Convolution2D(8, 3, 3, activation="relu", dim_ordering="th"), MaxPooling2D((2, 2)),
                        SpatialDropout2D(0.1), Cropping2D(((1, 1), (1, 1))), UpSampling2D((1, 1)), Flatten(),
                        Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:6000], y_train[:6000], nb_epoch=2, batch_size=64, verbose=0)
    loss, acc = model.evaluate(x_test[:2000], y_test[:2000], verbose=0)
    assert acc > 0.85, acc


def test_dropout_noise_shape_shares_one_draw_along_its_unit_axes():
    from kiln.layers import Dropout
    xs = np.ones((8, 6, 10), np.float32)
    layer = Dropout(0.5, noise_shape=(None, 1, 10), seed=5)
    x = Input(shape=xs.shape[1:])
    f = K.function([x, K.learning_phase()], [layer(x)])
    train = f([xs, 1])[0]
    assert set(np.unique(train)) <= {0.0, 2.0} and 0.2 < (train == 0).mean() < 0.8
    np.testing.assert_array_equal(train, np.broadcast_to(train[:, :1], train.shape))  # same at every step
    assert not np.all(train == train[:1])  # but not across samples
    np.testing.assert_array_equal(f([xs, 0])[0], xs)
    assert layer.get_config()["noise_shape"] == [None, 1, 10]
    assert Dropout.from_config(layer.get_config()).noise_shape == (None, 1, 10)
    # Keras 1.2's test: noise_shape [3, 1] on a (3, 2) batch: one draw per sample
    d = Dropout(0.5, noise_shape=[3, 1], seed=1)
    x2 = Input(shape=(2,))
    got = K.function([x2, K.learning_phase()], [d(x2)])([np.ones((3, 2), np.float32), 1])[0]
    np.testing.assert_array_equal(got[:, 0], got[:, 1])
    with pytest.raises(ValueError, match="noise_shape .* does not fit"):
        Dropout(0.5, noise_shape=(None, 4))(Input(shape=(2,)))


def test_time_distributed_passes_a_timestep_mask_on():
    x = Input(shape=(4, 3))
    masked = Masking(mask_value=0.0)(x)
    td = TimeDistributed(Dense(2))(masked)
    assert td._keras_mask is masked._keras_mask
    out = SimpleRNN(2, return_sequences=True)(td)
    xs = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    xs[0, 2:] = 0.0
    seq = Model(x, out).predict(xs)
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])  # masked steps carry the last state on
