"""GaussianNoise and GaussianDropout (Keras 1.2 keras.layers.noise), and the backend's random
tensors and stop_gradient: exact noise values against the NumPy reimplementation of the native
hash, train-only behaviour, moments, gradients, configs in both Keras spellings."""
import pathlib
import sys

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, GaussianDropout, GaussianNoise, Input
from kiln.models import Model, model_from_json

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from reference import ops as ref  # noqa: E402


def test_gaussian_noise_adds_the_documented_draw_at_train_time_only():
    x = Input(shape=(50,))
    layer = GaussianNoise(0.3, seed=12)
    y = layer(x)
    f = K.function([x, K.learning_phase()], [y])
    xs = np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32)
    for step in (1, 2):  # a fresh draw at every run
        (got,) = f([xs, 1])
        np.testing.assert_allclose(got - xs, ref.random_normal(200, 12, step, 0.0, 0.3).reshape(4, 50), rtol=1e-5,
                                   atol=1e-6)
    (test,) = f([xs, 0])
    assert np.array_equal(test, xs)


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    x = Input(shape=(2000,))
    y = GaussianDropout(0.2, seed=5)(x)
    f = K.function([x, K.learning_phase()], [y])
    xs = np.full((50, 2000), 2.0, np.float32)
    (got,) = f([xs, 1])
    ratio = got.astype(np.float64) / 2.0
    n, sd = ratio.size, np.sqrt(0.2 / 0.8)
    assert abs(ratio.mean() - 1.0) < 6 * sd / np.sqrt(n)
    assert abs(ratio.std() - sd) < 0.01 * sd
    np.testing.assert_allclose(ratio.ravel(), ref.random_normal(n, 5, 1, 1.0, sd), rtol=1e-5, atol=1e-6)
    assert np.array_equal(f([xs, 0])[0], xs)


def test_gradients_see_the_same_draw_as_the_forward_pass():
    x = Input(shape=(6,))
    noisy = GaussianDropout(0.3, seed=8)(x)
    loss = K.sum(noisy * noisy)
    (grad,) = K.gradients(loss, [x])
    f = K.function([x, K.learning_phase()], [noisy, grad])
    xs = np.random.default_rng(1).uniform(0.5, 1.5, (3, 6)).astype(np.float32)
    y, g = f([xs, 1])
    np.testing.assert_allclose(g, 2 * y * (y / xs), rtol=1e-5)  # d/dx (x m)^2 = 2 x m^2, m = y / x


def test_noise_layers_regularize_a_real_fit_and_round_trip_in_both_spellings():
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((256, 8)).astype(np.float32)
    ys = (xs[:, :4].sum(axis=1, keepdims=True) > 0).astype(np.float32)
    x = Input(shape=(8,))
    h = GaussianDropout(rate=0.1)(Dense(16, activation="relu")(GaussianNoise(stddev=0.1)(x)))
    model = Model(x, Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(xs, ys, nb_epoch=20, batch_size=32, verbose=0).history["loss"]
    assert hist[-1] < 0.6 * hist[0]
    again = model_from_json(model.to_json())
    noise, drop = again.layers[1], again.layers[3]
    assert (noise.sigma, noise.stddev, drop.p, drop.rate) == (0.1, 0.1, 0.1, 0.1)
    assert noise.seed == model.layers[1].seed and drop.seed == model.layers[3].seed
    again.set_weights(model.get_weights())
    assert np.array_equal(again.predict(xs), model.predict(xs))  # the identity at test time


def test_gaussian_dropout_checks_its_rate():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        GaussianDropout(1.0)
    with pytest.raises(TypeError, match="needs a standard deviation"):
        GaussianNoise()


def test_random_tensors_take_keras_shapes_and_seeds():
    x = K.placeholder(shape=(None, 4))
    a = K.random_normal((None, 4), mean=1.0, std=2.0, seed=3)
    b = K.random_normal(K.shape(x), mean=1.0, stddev=2.0, seed=3)  # Keras 2 spelling, shape from x
    c = K.random_uniform((K.shape(x)[0], 4), minval=-1.0, maxval=1.0, seed=4)
    d = K.random_binomial((5, 3), p=0.25, seed=6)
    f = K.function([x], [a + x * 0, b, c, d])
    xs = np.zeros((6, 4), np.float32)
    ga, gb, gc, gd = f([xs])
    assert ga.shape == gb.shape == gc.shape == (6, 4) and gd.shape == (5, 3)
    np.testing.assert_allclose(ga.ravel(), ref.random_normal(24, 3, 1, 1.0, 2.0), rtol=1e-5, atol=1e-6)
    assert np.array_equal(ga, gb)  # same seed, same op, same run
    np.testing.assert_allclose(gc.ravel(), ref.random_uniform(24, 4, 1, -1.0, 1.0), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(gd.ravel(), ref.random_binomial(15, 6, 1, 0.25))
    with pytest.raises(ValueError, match="only the first dim may be the batch"):
        K.random_normal((4, None))


def test_noise_of_the_fixed_batch_size_combines_with_a_fixed_batch_model():
    # Keras 1.2's variational_autoencoder.py: Input(batch_shape=(N, d)) and noise drawn as
    # K.random_normal(shape=(N, latent)) in a Lambda, which Keras sees as the same static batch.
    x = Input(batch_shape=(4, 3))
    z_mean, z_log_var = Dense(2)(x), Dense(2)(x)

    def sampling(args):
        m, v = args
        return m + K.exp(v / 2) * K.random_normal(shape=(4, 2), mean=0.0, std=1.0, seed=7)

    from kiln.layers import Lambda
    z = Lambda(sampling, output_shape=(2,))([z_mean, z_log_var])
    xs = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    gz, gm, gv = K.function([x], [z, z_mean, z_log_var])([xs])
    eps = ref.random_normal(8, 7, 1).reshape(4, 2)
    np.testing.assert_allclose(gz, gm + np.exp(gv / 2) * eps, rtol=1e-5, atol=1e-5)
    vae = Model(x, Dense(3)(z))
    vae.compile(optimizer="rmsprop", loss="mse")
    hist = vae.fit(np.tile(xs, (2, 1)), np.tile(xs, (2, 1)), batch_size=4, nb_epoch=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    assert vae.predict(xs, batch_size=4).shape == (4, 3)
    (alone,) = K.function([], [K.random_normal(shape=(4, 2), seed=7)])([])
    assert alone.shape == (4, 2)  # on its own the noise keeps its shape


def test_stop_gradient_blocks_the_gradient():
    x = K.placeholder(shape=(None, 3))
    loss = K.sum(K.stop_gradient(x * x) + 3 * x)
    (g,) = K.gradients(loss, [x])
    (got,) = K.function([x], [g])([np.ones((2, 3), np.float32)])
    assert np.array_equal(got, np.full((2, 3), 3.0, np.float32))
