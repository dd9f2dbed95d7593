"""The advanced activations (LeakyReLU, ELU, ThresholdedReLU, PReLU, ParametricSoftplus, SReLU):
forward against NumPy, gradients of a loss against float64 central differences, weight names
and shapes as Keras 1.2 stores them, masks passed through, and a PReLU net trained on MNIST."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import (ELU, Dense, Embedding, Input, LeakyReLU, ParametricSoftplus, PReLU, SReLU, SimpleRNN,
                         ThresholdedReLU)
from kiln.layers import advanced_activations
from kiln.models import Model, Sequential

from numeric import numeric_grad

RNG = np.random.default_rng(0)


def softplus(x):
    return np.logaddexp(0.0, x)


def ref_srelu(x, tl, al, tr, ar):
    tr_actual = tl + np.abs(tr)
    return np.where(x < tl, tl + al * (x - tl), np.where(x > tr_actual, tr_actual + ar * (x - tr_actual), x))


FIXED = {
    "LeakyReLU(0.3)": (lambda: LeakyReLU(), lambda x: np.where(x > 0, x, 0.3 * x)),
    "LeakyReLU(0.1)": (lambda: LeakyReLU(alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "ELU(1.0)": (lambda: ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    "ELU(0.5)": (lambda: ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "ThresholdedReLU(1.0)": (lambda: ThresholdedReLU(), lambda x: np.where(x > 1.0, x, 0.0)),
    "ThresholdedReLU(-0.2)": (lambda: ThresholdedReLU(theta=-0.2), lambda x: np.where(x > -0.2, x, 0.0)),
}


@pytest.mark.parametrize("case", sorted(FIXED))
def test_fixed_activations_match_numpy(case):
    make, ref = FIXED[case]
    x = Input(shape=(3, 5))
    model = Model(x, make()(x))
    xs = RNG.standard_normal((4, 3, 5)).astype(np.float32) * 2
    np.testing.assert_allclose(model.predict(xs), ref(xs.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_keras_module_path_and_configs():
    assert advanced_activations.PReLU is PReLU
    assert LeakyReLU(alpha=0.2).get_config()["alpha"] == 0.2
    assert ELU(alpha=0.7).get_config()["alpha"] == 0.7
    assert ThresholdedReLU(theta=0.4).get_config()["theta"] == 0.4
    assert PReLU().get_config()["init"] == "zero"
    c = ParametricSoftplus(alpha_init=0.3, beta_init=2.0).get_config()
    assert (c["alpha_init"], c["beta_init"]) == (0.3, 2.0)
    assert set(SReLU().get_config()) >= {"t_left_init", "a_left_init", "t_right_init", "a_right_init"}


def test_learned_weights_are_named_and_shaped_as_keras_1_2():
    x = Input(shape=(3, 4))
    p, s, r = PReLU(name="p"), ParametricSoftplus(name="s"), SReLU(name="r")
    Model(x, r(s(p(x))))
    assert [w.name for w in p.weights] == ["p_alphas"]
    assert [w.name for w in s.weights] == ["s_alphas", "s_betas"]
    assert [w.name for w in r.weights] == ["r_t_left", "r_a_left", "r_t_right", "r_a_right"]
    assert all(w.shape == (3, 4) for w in p.weights + s.weights + r.weights)
    np.testing.assert_array_equal(p.get_weights()[0], 0.0)
    np.testing.assert_allclose(s.get_weights()[0], 0.2)
    np.testing.assert_allclose(s.get_weights()[1], 5.0)
    np.testing.assert_array_equal(r.get_weights()[0], 0.0)
    np.testing.assert_array_equal(r.get_weights()[3], 1.0)


def test_prelu_keras2_spelling_shares_axes():
    x = Input(shape=(3, 4, 2))
    layer = PReLU(alpha_initializer="one", shared_axes=[1, 2])
    model = Model(x, layer(x))
    assert layer.alphas.shape == (1, 1, 2)
    alphas = np.array([[[0.5, -2.0]]], np.float32)
    layer.set_weights([alphas])
    xs = RNG.standard_normal((2, 3, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), np.where(xs > 0, xs, alphas * xs), rtol=1e-6)
    assert layer.get_config()["shared_axes"] == (1, 2)


def learned(name):
    """A layer with random weights (away from kinks) and its NumPy forward."""
    shape = (2, 3)
    if name == "PReLU":
        layer = PReLU()
        weights = [RNG.uniform(-0.5, 0.5, shape)]
        ref = lambda x, a: np.where(x > 0, x, a * x)
    elif name == "ParametricSoftplus":
        layer = ParametricSoftplus()
        weights = [RNG.uniform(0.1, 1.0, shape), RNG.uniform(0.5, 3.0, shape)]
        ref = lambda x, a, b: a * softplus(b * x)
    else:
        layer = SReLU()
        weights = [RNG.uniform(-0.6, -0.2, shape), RNG.uniform(0.1, 0.5, shape), RNG.uniform(0.2, 0.6, shape),
                   RNG.uniform(0.5, 2.0, shape)]
        ref = ref_srelu
    return layer, [w.astype(np.float32) for w in weights], ref


@pytest.mark.parametrize("name", ["PReLU", "ParametricSoftplus", "SReLU"])
def test_learned_activations_forward_and_gradients(name):
    layer, weights, ref = learned(name)
    x = Input(shape=(2, 3))
    out = layer(x)
    model = Model(x, out)
    layer.set_weights(weights)
    # inputs kept 0.05 away from every kink (0, t_left, t_right) so central differences are smooth
    xs = RNG.uniform(-1.5, 1.5, (4, 2, 3))
    kinks = [0.0] + ([weights[0], weights[0] + np.abs(weights[2])] if name == "SReLU" else [])
    for k in kinks:
        close = np.abs(xs - k) < 0.05
        xs = np.where(close, xs + 0.1, xs)
    xs = xs.astype(np.float32)
    w64 = [w.astype(np.float64) for w in weights]
    np.testing.assert_allclose(model.predict(xs), ref(xs.astype(np.float64), *w64), rtol=1e-5, atol=1e-6)

    target = RNG.standard_normal((4, 2, 3))
    t = K.placeholder(shape=(None, 2, 3))
    loss = K.sum(K.square(out - t))
    grads = K.function([x, t], K.gradients(loss, list(layer.weights) + [x]))([xs, target.astype(np.float32)])
    x64 = xs.astype(np.float64)
    for i, w in enumerate(w64):
        f = lambda: float(np.sum((ref(x64, *w64) - target) ** 2))
        np.testing.assert_allclose(grads[i], numeric_grad(f, w), rtol=1e-4, atol=1e-4, err_msg="weight %d" % i)
    f = lambda: float(np.sum((ref(x64, *w64) - target) ** 2))
    np.testing.assert_allclose(grads[-1], numeric_grad(f, x64), rtol=1e-4, atol=1e-4, err_msg="input")


@pytest.mark.parametrize("make", [LeakyReLU, ELU, ThresholdedReLU, PReLU, ParametricSoftplus, SReLU],
                         ids=lambda c: c.__name__)
def test_activations_pass_a_mask_to_a_recurrent_layer(make):
    words = Input(shape=(5,), dtype="int32")
    emb = Embedding(10, 3, mask_zero=True, input_length=5)
    rnn = SimpleRNN(2, return_sequences=True)
    model = Model(words, rnn(make()(emb(words))))
    out = model.predict(np.array([[1, 2, 0, 0, 0]]))
    np.testing.assert_allclose(out[0, 2:], np.repeat(out[0, 1:2], 3, axis=0), rtol=1e-6)


def test_a_prelu_net_trains_on_mnist(mnist):
    x_train, y_train, x_test, y_test = mnist
    model = Sequential([Dense(64, input_dim=784), PReLU(), Dense(32), SReLU(), Dense(32), ParametricSoftplus(),
                        Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    alphas = model.layers[1].get_weights()[0].copy()
    model.fit(x_train[:6000], y_train[:6000], nb_epoch=2, batch_size=64, verbose=0)
    loss, acc = model.evaluate(x_test[:2000], y_test[:2000], verbose=0)
    assert acc > 0.85, acc  # chance is 0.1; 2 epochs on 6000 images
    assert np.abs(model.layers[1].get_weights()[0] - alphas).max() > 1e-3  # the alphas learned


@pytest.mark.parametrize("name", ["ParametricSoftplus", "SReLU"])
def test_keras121_shared_axes_on_softplus_and_srelu(name):
    cls = ParametricSoftplus if name == "ParametricSoftplus" else SReLU
    layer = cls(shared_axes=[1])
    x = Input(shape=(3, 2))
    model = Model(x, layer(x))
    assert all(w.shape == (1, 2) for w in layer.weights)
    _, weights, ref = learned(name)  # (2, 3) draws; one per channel here, shared over the 3 steps
    weights = [w[:1, :2].reshape(1, 2) for w in weights]
    layer.set_weights(weights)
    xs = RNG.standard_normal((4, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), ref(xs.astype(np.float64), *weights), rtol=1e-5, atol=1e-6)
    config = layer.get_config()
    assert config["shared_axes"] == (1,)
    assert cls.from_config(config).shared_axes == (1,)
    with pytest.raises(ValueError, match="shared_axes \\[3\\] must be axes 1..2"):
        cls(shared_axes=3)(Input(shape=(3, 2)))
