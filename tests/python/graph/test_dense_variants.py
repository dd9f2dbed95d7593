"""Highway and MaxoutDense (kiln.layers.core, Keras 1.2's): forward against NumPy (float64), gradients
of every weight and the input against float64 central differences, Keras 1.2's weight order,
initial values and config keys, layer_test, and both trained on MNIST."""
import json

import numpy as np
import pytest

from kiln import backend as K
from kiln import regularizers
from kiln.layers import Dense, Highway, Input, MaxoutDense, core
from kiln.models import Model, Sequential
from kiln.utils.test_utils import layer_test

from numeric import check_layer_gradients

RNG = np.random.default_rng(0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_highway(x, W, W_carry, b=None, b_carry=None, activation=lambda h: h):
    t = x @ W_carry + (b_carry if b_carry is not None else 0.0)
    h = x @ W + (b if b is not None else 0.0)
    t = sigmoid(t)
    return activation(h) * t + (1.0 - t) * x


def np_maxout(x, W, b=None):
    y = np.einsum("bi,kio->bko", x, W)
    return (y + b if b is not None else y).max(axis=1)


@pytest.mark.parametrize("activation,np_act", [("linear", lambda h: h), ("tanh", np.tanh)])
def test_highway_matches_numpy_and_its_gradients(activation, np_act):
    layer = Highway(activation=activation)
    x = Input(shape=(5,))
    out = layer(x)
    assert out._keras_shape == (None, 5)
    names = [w.name[len(layer.name) + 1:] for w in layer.weights]
    assert names == ["W", "W_carry", "b", "b_carry"]  # Keras 1.2's weight order
    W, W_carry, b, b_carry = layer.get_weights()
    assert W.shape == W_carry.shape == (5, 5) and not b.any() and np.all(b_carry == 1.0)
    b, b_carry = RNG.standard_normal(5), RNG.standard_normal(5)
    layer.set_weights([W, W_carry, b, b_carry])
    xs = RNG.standard_normal((3, 5)).astype(np.float32)
    ref = lambda x, W, Wc, b, bc: np_highway(x, W, Wc, b, bc, np_act)
    np.testing.assert_allclose(Model(x, out).predict(xs), ref(xs.astype(np.float64), W, W_carry, b, b_carry),
                               rtol=1e-5, atol=1e-5)
    params = [(layer.W, W), (layer.W_carry, W_carry), (layer.b, b), (layer.b_carry, b_carry)]
    check_layer_gradients(x, out, params, xs, ref, RNG, atol=1e-5)


def test_highway_without_bias_and_its_regularizers():
    layer = Highway(bias=False, W_regularizer=regularizers.l2(0.1), input_dim=3)
    model = Sequential([layer])
    assert model.output_shape == (None, 3) and len(layer.weights) == 2
    W, W_carry = layer.get_weights()
    xs = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), np_highway(xs.astype(np.float64), W, W_carry), rtol=1e-5,
                               atol=1e-5)
    # only W is regularized (not W_carry), as Keras 1.2
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(K.eval(penalty)), 0.1 * np.sum(W.astype(np.float64) ** 2), rtol=1e-5)
    with pytest.warns(UserWarning, match="deprecated"):
        assert Highway(transform_bias=-2).get_config()["init"] == "glorot_uniform"  # deprecated in 1.2, ignored


def test_highway_is_keras_1_2_2s_weights_order_inits_constraints_and_transform_bias_warning():
    """Keras 1.2.2 (layers/core.py): add_weight order W, W_carry, b, b_carry; b zeros, b_carry
    ones (transform_bias, Keras 1.0's -2 default, is popped with a warning and has no effect);
    W_constraint on W and b_constraint on b only."""
    from kiln import constraints
    with pytest.warns(UserWarning, match="transform_bias"):
        layer = Highway(transform_bias=-2, W_constraint=constraints.nonneg(), b_constraint=constraints.maxnorm(1.0))
    layer(Input(shape=(3,)))
    assert [w.name for w in layer.trainable_weights] == [layer.name + s for s in ("_W", "_W_carry", "_b", "_b_carry")]
    _, _, b, b_carry = layer.get_weights()
    np.testing.assert_array_equal(b, np.zeros(3))
    np.testing.assert_array_equal(b_carry, np.ones(3))  # not -2
    assert set(layer.constraints) == {layer.W, layer.b}


@pytest.mark.parametrize("nb_feature,bias", [(4, True), (1, True), (3, False)])
def test_maxout_dense_matches_numpy_and_its_gradients(nb_feature, bias):
    layer = MaxoutDense(3, nb_feature=nb_feature, bias=bias)
    x = Input(shape=(4,))
    out = layer(x)
    assert out._keras_shape == (None, 3)
    assert [w.name for w in layer.weights] == [layer.name + "_W"] + ([layer.name + "_b"] if bias else [])
    assert layer.W.shape == (nb_feature, 4, 3)
    W = layer.get_weights()[0]
    params = [(layer.W, W)]
    if bias:
        b = RNG.standard_normal((nb_feature, 3)).astype(np.float32)
        layer.set_weights([W, b])
        params.append((layer.b, b))
    xs = RNG.standard_normal((5, 4)).astype(np.float32)
    ref = lambda x, W, b=None: np_maxout(x, W, b)
    np.testing.assert_allclose(Model(x, out).predict(xs), ref(xs.astype(np.float64), *[v for _, v in params]),
                               rtol=1e-5, atol=1e-5)
    check_layer_gradients(x, out, params, xs, ref, RNG, atol=1e-5)  # random values: no ties between the features


def test_keras_1_2_configs_and_module_path():
    assert core.Highway is Highway and core.MaxoutDense is MaxoutDense
    h = json.loads(json.dumps(Highway(activation="relu", b_regularizer="l2", input_dim=4).get_config()))
    assert {"init", "activation", "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint",
            "b_constraint", "bias", "input_dim"} <= set(h)
    assert h["activation"] == "relu" and h["input_dim"] == 4 and h["name"].startswith("highway_")
    m = json.loads(json.dumps(MaxoutDense(7, nb_feature=2).get_config()))
    assert {"output_dim", "init", "nb_feature", "W_regularizer", "b_regularizer", "activity_regularizer",
            "W_constraint", "b_constraint", "bias", "input_dim"} <= set(m)
    assert (m["output_dim"], m["nb_feature"]) == (7, 2) and m["name"].startswith("maxoutdense_")
    with pytest.raises(ValueError, match="expected ndim=2"):
        MaxoutDense(3)(Input(shape=(2, 4)))
    assert Highway(W_constraint="maxnorm").get_config()["W_constraint"] == {"name": "MaxNorm", "m": 2.0, "axis": 0}


@pytest.mark.parametrize("cls,kwargs", [(Highway, {}), (Highway, {"activation": "relu", "bias": False}),
                                        (MaxoutDense, {"output_dim": 3}),
                                        (MaxoutDense, {"output_dim": 2, "nb_feature": 2, "bias": False})])
def test_layer_test(cls, kwargs):
    out = layer_test(cls, kwargs=kwargs, input_shape=(3, 4))
    assert out.shape[0] == 3 and np.all(np.isfinite(out))


def test_highway_and_maxout_nets_learn_mnist(mnist):
    np.random.seed(0)
    x_train, y_train, x_test, y_test = mnist
    onehot = np.eye(10, dtype=np.float32)
    x = Input(shape=(784,))
    h = MaxoutDense(32, nb_feature=2)(x)
    h = Highway(activation="relu")(h)
    model = Model(x, Dense(10, activation="softmax")(h))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:6000], onehot[y_train[:6000]], nb_epoch=3, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x_test[:1000], onehot[y_test[:1000]], verbose=0)
    assert acc > 0.85  # chance is 0.1
