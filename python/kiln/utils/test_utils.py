"""Keras 1.2's `keras.utils.test_utils`: `layer_test`, the routine Keras' own layer tests call,
and `keras_test`, their decorator. Not imported by kiln.utils (it reaches the models, which
import that package): `from kiln.utils.test_utils import layer_test`.
"""
import functools
import inspect

import numpy as np

from .custom_objects import custom_object_scope

__all__ = ["get_test_data", "keras_test", "layer_test"]


def get_test_data(nb_train=1000, nb_test=500, input_shape=(10,), output_shape=(2,), classification=True, nb_class=2,
                  num_train=None, num_test=None, num_classes=None):
    """Keras 1.2 (Keras 2: num_train, num_test, num_classes): `(X_train, y_train), (X_test,
    y_test)` drawn with NumPy's global generator. Classification: integer labels in [0,
    nb_class) and inputs ~ N(label, 0.7^2); else y of `output_shape`, inputs and targets both
    ~ N(loc, 0.7^2) for a loc ~ U(0, 1) per sample."""
    nb_train = nb_train if num_train is None else num_train
    nb_test = nb_test if num_test is None else num_test
    nb_class = nb_class if num_classes is None else num_classes
    n, input_shape, output_shape = nb_train + nb_test, tuple(input_shape), tuple(output_shape)
    if classification:
        y = np.random.randint(0, nb_class, size=(n,))
        loc = y
    else:
        loc = np.random.random((n,))
    X = np.random.normal(loc=loc.reshape((n,) + (1,) * len(input_shape)), scale=0.7, size=(n,) + input_shape)
    if not classification:
        y = np.random.normal(loc=loc.reshape((n,) + (1,) * len(output_shape)), scale=0.7, size=(n,) + output_shape)
    return (X[:nb_train], y[:nb_train]), (X[nb_train:], y[nb_train:])


def _check_shape(expected, actual, where):
    if len(expected) != len(actual) or any(e is not None and e != a for e, a in zip(expected, actual)):
        raise AssertionError("layer_test (%s): expected an output of shape %s, got %s" % (where, expected, actual))


def _check_values(actual, expected, where):
    if expected is not None:
        np.testing.assert_allclose(actual, expected, rtol=1e-3, err_msg="layer_test (%s)" % where)


def layer_test(layer_cls, kwargs={}, input_shape=None, input_dtype=None, input_data=None, expected_output=None,
               expected_output_dtype=None, fixed_batch_size=False):
    """Checks a layer of one input and one output as Keras 1.2's `layer_test` does, and returns
    the output of the last model it builds.

    It makes `layer_cls(**kwargs)`, round-trips its (empty) weights, calls it on an `Input` of
    `input_shape` (batch dim included; `fixed_batch_size` makes it part of the input) in a
    functional Model, checks the output dtype and that `predict` on `input_data` (default:
    uniform in [0, 10) of input_shape, each None drawn from 1..3) has the shape
    `get_output_shape_for` states (and values close to `expected_output`, rtol 1e-3, when given).
    Then the Model is rebuilt from its config, and the layer from its own config (given
    `batch_input_shape`) as the first layer of a compiled Sequential that must predict the same
    shape and values and survive `to_json` / `model_from_json`.

    Beyond Keras: the rebuilt Model, given the first one's weights, must predict exactly what it
    did; a layer made with `weights=` those weights (when its constructor takes them) must too;
    and the layer's config must be a fixed point (rebuilt, it describes itself the same way).
    Keras 1.2 meant to test `weights=` but never did (it looked the name up in getargspec's tuple).

    Args:
        layer_cls: the layer class.
        kwargs: its constructor's arguments.
        input_shape: the input's shape, batch dim included (it may be None).
        input_dtype: the input's dtype (default float32).
        input_data: the data to predict on (then input_shape defaults to its shape).
        expected_output: values the output must be close to.
        expected_output_dtype: K.dtype of the output (default: input_dtype).
        fixed_batch_size: make the batch size part of the Input (Input(batch_shape=...)).

    Returns:
        The Sequential model's prediction, a NumPy array.

    Example:
        layer_test(Dense, kwargs={'output_dim': 3}, input_shape=(None, 2))
    """
    from .. import backend as K
    from ..layers import Input
    from ..models import Model

    if input_data is None:
        if input_shape is None:
            raise ValueError("layer_test needs input_shape or input_data")
        input_dtype = input_dtype or K.floatx()
        shape = [np.random.randint(1, 4) if d is None else d for d in input_shape]
        input_data = (10 * np.random.random(shape)).astype(input_dtype)
    elif input_shape is None:
        input_shape = input_data.shape
    input_dtype = input_dtype or K.floatx()
    if expected_output_dtype is None:
        expected_output_dtype = input_dtype
    input_shape = tuple(input_shape)

    layer = layer_cls(**kwargs)
    layer.set_weights(layer.get_weights())

    x = Input(batch_shape=input_shape, dtype=input_dtype) if fixed_batch_size else \
        Input(shape=input_shape[1:], dtype=input_dtype)
    y = layer(x)
    if K.dtype(y) != expected_output_dtype:
        raise AssertionError("layer_test: expected an output of dtype %s, got %s" % (expected_output_dtype, K.dtype(y)))
    model = Model(input=x, output=y)
    model.compile("rmsprop", "mse")
    expected_shape = layer.get_output_shape_for(input_shape)
    output = model.predict(input_data)
    _check_shape(expected_shape, output.shape, "functional model")
    _check_values(output, expected_output, "functional model")

    if "weights" in inspect.signature(layer_cls.__init__).parameters and layer.weights:
        again = layer_cls(**dict(kwargs, weights=layer.get_weights()))
        xw = Input(batch_shape=input_shape, dtype=input_dtype) if fixed_batch_size else \
            Input(shape=input_shape[1:], dtype=input_dtype)
        np.testing.assert_array_equal(Model(xw, again(xw)).predict(input_data), output,
                                      err_msg="layer_test: the layer made with weights=")

    with custom_object_scope({layer_cls.__name__: layer_cls}):  # a layer class of the caller's too
        return _rebuild(layer, model, input_data, input_shape, output, expected_shape, expected_output)


def _rebuild(layer, model, input_data, input_shape, output, expected_shape, expected_output):
    from ..models import Model, Sequential, model_from_json

    rebuilt = Model.from_config(model.get_config())
    rebuilt.compile("rmsprop", "mse")
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(input_data), output, err_msg="layer_test: Model.from_config")

    config = layer.get_config()
    if layer.__class__.from_config(config).get_config() != config:
        raise AssertionError("layer_test: the config of %s is not a fixed point: %s" % (layer.name, config))
    config["batch_input_shape"] = input_shape
    first = layer.__class__.from_config(config)
    model = Sequential()
    model.add(first)
    model.compile("rmsprop", "mse")
    model.set_weights(layer.get_weights())
    actual = model.predict(input_data)
    _check_shape(expected_shape, actual.shape, "Sequential")
    _check_values(actual, expected_output, "Sequential")
    np.testing.assert_allclose(actual, output, rtol=1e-6, atol=1e-6, err_msg="layer_test: Sequential from the config")

    model_from_json(model.to_json())
    return actual


def keras_test(func):
    """Keras 1.2's decorator for its tests: runs the test, then clears the session (layer name
    counters)."""
    from .. import backend as K

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            K.clear_session()
    return wrapper
