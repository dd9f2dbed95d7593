"""kiln.preprocessing.image: the NumPy affine transform against independent NumPy references
(np.rot90, np.pad's modes, hand-computed bilinear values), ImageDataGenerator's normalization
against NumPy, flow's batches, and a model trained through fit_generator(datagen.flow(...)) on
real MNIST."""
import threading

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Convolution2D, Dense, Flatten, Input
from kiln.models import Model, Sequential
from kiln.optimizers import Adam
from kiln.preprocessing import image
from kiln.preprocessing.image import ImageDataGenerator, apply_transform, transform_matrix_offset_center

PAD_MODE = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def img(c=2, h=5, w=6, seed=0):
    return np.random.RandomState(seed).rand(c, h, w)


def test_rotation_by_90_degrees_is_rot90():
    x = img(h=7, w=7)
    m = transform_matrix_offset_center(image.rotation_matrix(90), 7, 7)
    np.testing.assert_allclose(apply_transform(x, m, 0), np.rot90(x, k=-1, axes=(1, 2)))
    m180 = transform_matrix_offset_center(image.rotation_matrix(180), 7, 7)
    np.testing.assert_allclose(apply_transform(x, m180, 0), x[:, ::-1, ::-1])


@pytest.mark.parametrize("fill_mode", sorted(PAD_MODE))
@pytest.mark.parametrize("shift", [(2, -1), (-3, 4), (9, -13)], ids=["small", "mixed", "past_the_edge"])
def test_integer_shift_matches_numpy_pad(fill_mode, shift):
    x = img()
    tr, tc = shift
    got = apply_transform(x, image.shift_matrix(tr, tc), 0, fill_mode=fill_mode, cval=-7.0)
    p = 20
    kw = {"constant_values": -7.0} if fill_mode == "constant" else {}
    padded = np.pad(x, ((0, 0), (p, p), (p, p)), mode=PAD_MODE[fill_mode], **kw)
    want = padded[:, p + tr:p + tr + 5, p + tc:p + tc + 6]  # output[r, c] = input[r + tr, c + tc]
    np.testing.assert_allclose(got, want)


def test_channels_last_and_bilinear():
    x = img().transpose(1, 2, 0)  # (rows, cols, channels)
    got = apply_transform(x, image.shift_matrix(1, 0), channel_axis=2, fill_mode="nearest")
    np.testing.assert_allclose(got[:-1], x[1:])
    half = apply_transform(x, image.shift_matrix(0, 0.5), channel_axis=2, fill_mode="nearest", order=1)
    np.testing.assert_allclose(half[:, :-1], (x[:, :-1] + x[:, 1:]) / 2)
    np.testing.assert_allclose(half[:, -1], x[:, -1])
    quarter = apply_transform(x, image.shift_matrix(0.25, 0.5), channel_axis=2, fill_mode="constant", order=1)
    want = (0.75 * 0.5 * (x[:-1, :-1] + x[:-1, 1:]) + 0.25 * 0.5 * (x[1:, :-1] + x[1:, 1:]))
    np.testing.assert_allclose(quarter[:-1, :-1], want)
    with pytest.raises(ValueError, match="fill_mode"):
        apply_transform(x, np.eye(3), 2, fill_mode="mirror")


def test_zoom_and_shear_about_the_centre():
    x = img(c=1, h=5, w=5)
    zoomed = apply_transform(x, transform_matrix_offset_center(image.zoom_matrix(2, 2), 5, 5), 0, "constant", 0)
    assert zoomed[0, 2, 2] == x[0, 2, 2] and zoomed[0, 1, 1] == x[0, 0, 0] and zoomed[0, 3, 1] == x[0, 4, 0]
    assert zoomed[0, 0, 0] == 0
    same = apply_transform(x, transform_matrix_offset_center(image.shear_matrix(0.0), 5, 5), 0)
    np.testing.assert_array_equal(same, x)


def test_module_level_random_transforms_and_flip():
    x = img(c=1, h=8, w=8)
    np.random.seed(0)
    for fn, arg in ((image.random_rotation, 90), (image.random_shear, 1.0), (image.random_zoom, (0.4, 0.6))):
        out = fn(x, arg)
        assert out.shape == x.shape and not np.array_equal(out, x)
    out = image.random_shift(x, 0.25, 0.25)
    assert out.shape == x.shape
    np.testing.assert_array_equal(image.random_zoom(x, (1, 1)), x)
    np.testing.assert_array_equal(image.flip_axis(x, 2), x[:, :, ::-1])
    shifted = image.random_channel_shift(img(), 0.5)
    assert shifted.min() >= img().min() and shifted.max() <= img().max()
    with pytest.raises(ValueError, match="zoom_range"):
        image.random_zoom(x, 0.5)


def test_no_augmentation_is_the_identity_and_layout_comes_from_the_data():
    tf = np.random.rand(6, 9, 7, 3).astype(np.float32)
    gen = ImageDataGenerator()
    batch, labels = next(gen.flow(tf, np.arange(6), batch_size=6, shuffle=False))
    np.testing.assert_array_equal(batch, tf)
    assert gen.dim_ordering == "tf" and gen.channel_axis == 3 and list(labels) == list(range(6))
    th_gen = ImageDataGenerator()
    th_gen.fit(np.zeros((2, 1, 9, 7)))
    assert th_gen.dim_ordering == "th"
    assert ImageDataGenerator(data_format="channels_last").dim_ordering == "tf"
    assert ImageDataGenerator(dim_ordering="th").dim_ordering == "th"
    ambiguous = ImageDataGenerator()
    ambiguous.fit(np.zeros((2, 3, 9, 3)))
    assert ambiguous.dim_ordering == K.image_dim_ordering() == "th"
    with pytest.warns(UserWarning, match="not 1, 3 or 4"):
        ImageDataGenerator().standardize(np.zeros((5, 9, 7)))


def test_featurewise_and_samplewise_normalization_match_numpy():
    rng = np.random.RandomState(1)
    X = (rng.rand(40, 6, 5, 1) * 200 + 20).astype(np.float32)
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True, rescale=0.5)
    gen.fit(X)
    mean, std = X.astype(np.float64).mean(0), X.astype(np.float64).std(0)
    np.testing.assert_allclose(gen.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(gen.std, std, rtol=1e-5)
    np.testing.assert_allclose(gen.standardize(X[3]), (X[3] * 0.5 - mean) / (std + 1e-7), rtol=1e-4, atol=1e-5)
    samplewise = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)
    s = samplewise.standardize(X[0])
    np.testing.assert_allclose(s, (X[0] - X[0].mean()) / (X[0].std() + 1e-7), rtol=1e-4, atol=1e-5)
    assert abs(s.mean()) < 1e-5 and abs(s.std() - 1) < 1e-4  # grayscale images are not zeroed
    with pytest.warns(UserWarning, match="hasn't been fit"):
        ImageDataGenerator(featurewise_center=True).standardize(X[0])
    with pytest.raises(ValueError, match="rank 4"):
        gen.fit(X[0])


def test_zca_whitening_decorrelates_the_fit_data():
    rng = np.random.RandomState(2)
    base = rng.randn(500, 1)
    X = (base + 0.3 * rng.randn(500, 12)).reshape(500, 3, 4, 1).astype(np.float32)  # strongly correlated
    gen = ImageDataGenerator(featurewise_center=True, zca_whitening=True)
    gen.fit(X)
    white = np.stack([gen.standardize(x) for x in X]).reshape(500, -1).astype(np.float64)
    cov = white.T @ white / 500
    np.testing.assert_allclose(cov, np.eye(12), atol=2e-3)


def test_augment_fit_and_random_transform_seed():
    X = np.random.rand(5, 8, 8, 1).astype(np.float32)
    gen = ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.5,
                             zoom_range=0.3, channel_shift_range=0.1, horizontal_flip=True, vertical_flip=True,
                             fill_mode="reflect", featurewise_center=True)
    np.testing.assert_array_equal(gen.random_transform(X[0], seed=3), gen.random_transform(X[0], seed=3))
    assert not np.array_equal(gen.random_transform(X[0], seed=3), gen.random_transform(X[0], seed=4))
    gen.fit(X, augment=True, rounds=3, seed=0)
    plain = ImageDataGenerator(featurewise_center=True)
    plain.fit(X)
    assert gen.mean.shape == (8, 8, 1) and not np.allclose(gen.mean, plain.mean)


def test_flip_probability_and_constant_fill():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    gen = ImageDataGenerator(horizontal_flip=True, dim_ordering="th")
    outs = [gen.random_transform(x, seed=s) for s in range(200)]
    flipped = sum(np.array_equal(o, x[:, :, ::-1]) for o in outs)
    assert all(np.array_equal(o, x) or np.array_equal(o, x[:, :, ::-1]) for o in outs) and 70 < flipped < 130
    shifter = ImageDataGenerator(width_shift_range=0.5, fill_mode="constant", cval=-1.0, dim_ordering="th")
    outs = [shifter.random_transform(x, seed=s) for s in range(20)]
    assert any((o == -1.0).any() for o in outs)
    assert all(set(np.unique(o)) <= set(np.unique(x)) | {-1.0} for o in outs)


def test_flow_batches_cover_each_pass_and_repeat_with_a_seed():
    X = np.random.rand(10, 4, 4, 1).astype(np.float32)
    y = np.arange(10)
    it = ImageDataGenerator().flow(X, y, batch_size=4, seed=7)
    assert len(it) == 3 and it.N == 10
    passes = [[next(it)[1] for _ in range(3)] for _ in range(3)]
    for p in passes:
        assert [len(b) for b in p] == [4, 4, 2] and sorted(np.concatenate(p)) == list(range(10))
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(passes[0], passes[1]))  # reshuffled
    again = ImageDataGenerator().flow(X, y, batch_size=4, seed=7)
    for p in passes:
        for b in p:
            np.testing.assert_array_equal(next(again)[1], b)
    only_x = next(ImageDataGenerator().flow(X, batch_size=3, shuffle=False))
    np.testing.assert_array_equal(only_x, X[:3])
    state = np.random.get_state()[1].copy()
    next(ImageDataGenerator(rotation_range=10).flow(X, y, seed=1))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # a seeded flow leaves numpy's state alone
    with pytest.raises(ValueError, match="same length"):
        ImageDataGenerator().flow(X, y[:5])
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(X[:, :, :, 0], y)


def test_flow_is_thread_safe():
    X = np.random.rand(64, 4, 4, 1).astype(np.float32)
    it = ImageDataGenerator(rotation_range=5).flow(X, np.arange(64), batch_size=8, seed=0)
    seen = []

    def pull():
        for _ in range(4):
            seen.append(next(it)[1])

    threads = [threading.Thread(target=pull) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(np.concatenate(seen)) == list(range(64))  # one pass, each sample once


def _mnist_images(x, layout):
    return x.reshape(-1, 1, 28, 28) if layout == "th" else x.reshape(-1, 28, 28, 1)


def test_keras1_fit_generator_on_augmented_mnist(mnist):
    # Keras 1.2 style: channels first (the default with no choice made), a conv net, fit_generator
    # over datagen.flow with samples_per_epoch.
    x_train, y_train, x_test, y_test = mnist
    x, xt = _mnist_images(x_train[:3000], "th"), _mnist_images(x_test[:1000], "th")
    datagen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True, rotation_range=8,
                                 width_shift_range=0.08, height_shift_range=0.08, zoom_range=0.08)
    datagen.fit(x)
    model = Sequential()
    model.add(Convolution2D(8, 3, 3, activation="relu", subsample=(2, 2), input_shape=(1, 28, 28)))
    model.add(Flatten())
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer=Adam(lr=0.003), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit_generator(datagen.flow(x, y_train[:3000], batch_size=50, seed=0), samples_per_epoch=3000,
                        nb_epoch=2, verbose=0)
    test = np.stack([datagen.standardize(im) for im in xt])
    acc = model.evaluate(test, y_test[:1000], verbose=0)[1]
    assert acc > 0.78, acc  # 0.85 measured; a tenth by chance


def test_keras2_fit_generator_on_augmented_mnist(mnist):
    # Keras 2 style: channels last, steps_per_epoch from len(flow), rescale and flips off.
    x_train, y_train, x_test, y_test = mnist
    x, xt = _mnist_images(x_train[:3000], "tf"), _mnist_images(x_test[:1000], "tf")
    datagen = ImageDataGenerator(rotation_range=8, shear_range=0.2, fill_mode="constant", cval=0.0,
                                 samplewise_center=True, data_format="channels_last")
    inputs = Input(shape=(28, 28, 1))
    h = Flatten()(inputs)
    h = Dense(64, activation="relu")(h)
    model = Model(inputs=inputs, outputs=Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    flow = datagen.flow(x, y_train[:3000], batch_size=50, seed=1)
    model.fit_generator(flow, steps_per_epoch=len(flow), epochs=3, verbose=0)
    acc = model.evaluate_generator(ImageDataGenerator(samplewise_center=True).flow(xt, y_test[:1000], shuffle=False,
                                                                                 batch_size=100), steps=10)[1]
    assert acc > 0.8, acc  # 0.87 measured
