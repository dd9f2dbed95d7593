"""Keras 1.2's `keras.initializations` (functions `init(shape, name=None, dim_ordering='th')`
returning variables, with Keras 1.2's scales and fans) and Keras 2's `keras.initializers`
(classes, and functions of a seed). Each name is called and its values checked, and each works
as a layer's initializer."""
import json

import numpy as np
import pytest

import kiln
from kiln import backend as K, initializations, initializers
from kiln.layers import Convolution2D, Dense, Input
from kiln.models import Model

BIG = (200, 300)  # enough values for the statistics below


def fans_th(shape):
    field = np.prod(shape[2:])
    return shape[1] * field, shape[0] * field


# Keras 1.2 name -> (extra arguments, check of the drawn values given the shape's fans)
KERAS1 = {
    "uniform": ({"scale": 0.2}, lambda v, fi, fo: np.abs(v).max() <= 0.2 and np.abs(v).max() > 0.19),
    "normal": ({"scale": 0.2}, lambda v, fi, fo: abs(v.std() - 0.2) < 0.01),
    "lecun_uniform": ({}, lambda v, fi, fo: np.isclose(np.abs(v).max(), np.sqrt(3 / fi), rtol=0.02)),
    "glorot_normal": ({}, lambda v, fi, fo: np.isclose(v.std(), np.sqrt(2 / (fi + fo)), rtol=0.05)),
    "glorot_uniform": ({}, lambda v, fi, fo: np.isclose(np.abs(v).max(), np.sqrt(6 / (fi + fo)), rtol=0.02)),
    "he_normal": ({}, lambda v, fi, fo: np.isclose(v.std(), np.sqrt(2 / fi), rtol=0.05)),
    "he_uniform": ({}, lambda v, fi, fo: np.isclose(np.abs(v).max(), np.sqrt(6 / fi), rtol=0.02)),
    "orthogonal": ({"scale": 1.5}, lambda v, fi, fo: np.allclose(v @ v.T, 1.5 ** 2 * np.eye(len(v)), atol=1e-4)),
    "identity": ({"scale": 2}, lambda v, fi, fo: np.array_equal(v, 2 * np.eye(len(v)))),
    "zero": ({}, lambda v, fi, fo: not v.any()),
    "one": ({}, lambda v, fi, fo: np.all(v == 1)),
}


@pytest.mark.parametrize("name", sorted(KERAS1))
def test_keras1_initialization_makes_a_variable(name):
    fn = getattr(initializations, name)
    assert initializations.get(name) is fn
    kwargs, check = KERAS1[name]
    shape = (200, 200) if name in ("orthogonal", "identity") else BIG
    v = fn(shape, name="w_" + name, **kwargs)
    assert isinstance(v, K.Variable) and v.name == "w_" + name
    value = K.get_value(v)
    assert value.shape == shape and value.dtype == np.float32
    assert check(value, *initializations.get_fans(shape)), name


@pytest.mark.parametrize("name", ["lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform"])
@pytest.mark.parametrize("dim_ordering", ["th", "tf"])
def test_keras1_fans_follow_dim_ordering(name, dim_ordering):
    th = (64, 16, 5, 5)
    shape = th if dim_ordering == "th" else (5, 5, 16, 64)
    assert initializations.get_fans(shape, dim_ordering) == fans_th(th)
    value = K.get_value(getattr(initializations, name)(shape, dim_ordering=dim_ordering))
    assert KERAS1[name][1](value, *fans_th(th))


def test_get_fans_is_keras_1_2s():
    assert initializations.get_fans((3, 4)) == (3, 4)
    assert initializations.get_fans((2, 3, 4, 5, 6), "tf") == (5 * 6, 6 * 6)  # Keras 1.2: the first two axes
    assert initializations.get_fans((2, 3, 4, 5, 6), "th") == (3 * 120, 2 * 120)
    assert initializations.get_fans((2, 3, 4)) == (np.sqrt(24), np.sqrt(24))
    with pytest.raises(ValueError, match="Invalid dim_ordering"):
        initializations.get_fans((2, 3, 4, 5), "xy")
    with pytest.raises(ValueError, match="square"):
        initializations.identity((2, 3))


@pytest.mark.parametrize("name", sorted(KERAS1))
def test_a_layer_takes_a_keras1_initialization(name):
    """Given a Keras 1 function, a layer draws with the array function of that name in its own
    kernel layout; its config names it as Keras 1.2 does."""
    x = Input(shape=(6,))
    dense = Dense(6, init=getattr(initializations, name))
    model = Model(x, dense(x))
    assert model.predict(np.ones((2, 6), np.float32)).shape == (2, 6)
    assert dense.get_config()["init"] == name
    assert json.loads(json.dumps(dense.get_config()))["init"] == name


def test_a_th_kernel_gets_keras_fans_from_a_keras1_function():
    x = Input(shape=(16, 9, 9))
    conv = Convolution2D(64, 5, 5, init=initializations.he_uniform, dim_ordering="th")
    Model(x, conv(x))
    w = conv.get_weights()[0]
    assert w.shape == (64, 16, 5, 5)
    np.testing.assert_allclose(np.abs(w).max(), np.sqrt(6 / (16 * 25)), rtol=0.02)


def test_a_users_keras1_init_function_returning_a_variable():
    """Keras 1.2's documented custom initializer: `my_init(shape, name=None)` returning a
    variable, here also the lambda form that requires `name`."""
    def my_init(shape, name=None):
        return initializations.normal(shape, scale=0.01, name=name)

    x = Input(shape=(50,))
    a = Dense(400, init=my_init)
    b = Dense(3, init=lambda shape, name: K.variable(np.full(shape, 0.5), name=name))
    c = Convolution2D(2, 3, 3, init=lambda shape, name=None: K.variable(np.ones(shape)), dim_ordering="th")
    Model(x, b(a(x)))
    assert abs(a.get_weights()[0].std() - 0.01) < 0.001
    assert np.all(b.get_weights()[0] == 0.5)
    img = Input(shape=(1, 4, 4))
    Model(img, c(img))
    assert np.all(c.get_weights()[0] == 1.0)


# Keras 2 names -> (instance, check of the values it draws for BIG)
FAN_IN, FAN_OUT = BIG


def keras2():
    uniform_limit = lambda limit: (lambda v: np.isclose(np.abs(v).max(), limit, rtol=0.02))
    truncated = lambda std: (lambda v: np.abs(v).max() <= 2 * std + 1e-6 and np.isclose(v.std(), 0.88 * std,
                                                                                            rtol=0.05))
    return {
        "Zeros": (initializers.Zeros(), lambda v: not v.any()),
        "zeros": (initializers.zeros(), lambda v: not v.any()),
        "zero": (initializers.zero(), lambda v: not v.any()),
        "Ones": (initializers.Ones(), lambda v: np.all(v == 1)),
        "ones": (initializers.ones(), lambda v: np.all(v == 1)),
        "one": (initializers.one(), lambda v: np.all(v == 1)),
        "Constant": (initializers.Constant(0.3), lambda v: np.allclose(v, 0.3)),
        "constant": (initializers.constant(value=0.3), lambda v: np.allclose(v, 0.3)),
        "RandomUniform": (initializers.RandomUniform(-0.1, 0.3, seed=1),
                          lambda v: v.min() >= -0.1 and v.max() <= 0.3 and abs(v.mean() - 0.1) < 0.01),
        "random_uniform": (initializers.random_uniform(), uniform_limit(0.05)),
        "uniform": (initializers.uniform(maxval=0.2, minval=-0.2), uniform_limit(0.2)),
        "RandomNormal": (initializers.RandomNormal(1.0, 0.2), lambda v: abs(v.mean() - 1) < 0.01
                         and abs(v.std() - 0.2) < 0.01),
        "random_normal": (initializers.random_normal(stddev=0.1), lambda v: abs(v.std() - 0.1) < 0.005),
        "normal": (initializers.normal(), lambda v: abs(v.std() - 0.05) < 0.003),
        "TruncatedNormal": (initializers.TruncatedNormal(0.0, 0.1), truncated(0.1)),
        "truncated_normal": (initializers.truncated_normal(stddev=0.2), truncated(0.2)),
        "VarianceScaling": (initializers.VarianceScaling(3.0, "fan_out", "uniform"),
                            uniform_limit(np.sqrt(9.0 / FAN_OUT))),
        "Orthogonal": (initializers.Orthogonal(gain=2.0), lambda v: np.allclose(v @ v.T, 4 * np.eye(200), atol=1e-3)),
        "orthogonal": (initializers.orthogonal(), lambda v: np.allclose(v @ v.T, np.eye(200), atol=1e-3)),
        "Identity": (initializers.Identity(gain=3.0), None),
        "identity": (initializers.identity(), None),
        "lecun_uniform": (initializers.lecun_uniform(seed=1), uniform_limit(np.sqrt(3 / FAN_IN))),
        "lecun_normal": (initializers.lecun_normal(seed=1), truncated(np.sqrt(1 / FAN_IN))),
        "glorot_uniform": (initializers.glorot_uniform(), uniform_limit(np.sqrt(6 / (FAN_IN + FAN_OUT)))),
        "glorot_normal": (initializers.glorot_normal(), truncated(np.sqrt(2 / (FAN_IN + FAN_OUT)))),
        "he_uniform": (initializers.he_uniform(), uniform_limit(np.sqrt(6 / FAN_IN))),
        "he_normal": (initializers.he_normal(), truncated(np.sqrt(2 / FAN_IN))),
    }


@pytest.mark.parametrize("name", sorted(keras2()))
def test_keras2_initializer_draws_and_round_trips_its_config(name):
    init, check = keras2()[name]
    assert isinstance(init, initializers.Initializer)
    if check is None:  # the identity needs a square shape
        np.testing.assert_array_equal(init((4, 4)), init.get_config()["gain"] * np.eye(4))
    else:
        value = init((200, 200) if "rthogonal" in name else BIG)
        assert value.dtype == np.float32 and check(value), name
    config = json.loads(json.dumps(initializers.serialize(init)))
    again = initializers.deserialize(config)
    assert type(again) is type(init) and again.get_config() == init.get_config()


def test_keras2_seeds_repeat_and_a_keras2_config_loads():
    a = initializers.glorot_uniform(seed=7)((5, 6))
    np.testing.assert_array_equal(a, initializers.glorot_uniform(seed=7)((5, 6)))
    assert not np.array_equal(a, initializers.glorot_uniform(seed=8)((5, 6)))
    config = {"class_name": "Dense", "config": {"name": "d", "units": 4, "kernel_initializer": {
        "class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                                                    "seed": 3}}}}
    d = kiln.layers.deserialize(config)
    x = Input(shape=(5,))
    Model(x, d(x))
    np.testing.assert_array_equal(d.get_weights()[0], initializers.glorot_uniform(seed=3)((5, 4)))
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    x = Input(shape=(5,))
    d = Dense(4, kernel_initializer=initializers.zeros, bias_initializer=initializers.Constant(2.0))
    Model(x, d(x))
    assert not d.get_weights()[0].any() and np.all(d.get_weights()[1] == 2.0)


def test_every_name_is_checked():
    keras1 = set(KERAS1) | {"get_fans", "get"}
    keras2_names = set(keras2()) | {"Initializer", "get", "serialize", "deserialize"}
    assert not [n for n in keras1 if not hasattr(initializations, n)]
    assert not [n for n in keras2_names if not hasattr(initializers, n)]
    assert kiln.initializations is initializations and kiln.initializers is initializers
