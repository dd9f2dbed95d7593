"""Loss functions f(y_true, y_pred) -> per-sample loss (the last axis reduced), written with
kiln.backend ops exactly as Keras 1.2 defines them (plus Keras 2's categorical_hinge and
logcosh). Any function of this form is a loss. Keras 1 imports this as `kiln.objectives`."""
import math

from . import backend as K


def mean_squared_error(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return K.mean(K.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    diff = K.abs((y_true - y_pred) / K.clip(K.abs(y_true), K.epsilon(), None))
    return 100.0 * K.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    first = K.log(K.clip(y_pred, K.epsilon(), None) + 1.0)
    second = K.log(K.clip(y_true, K.epsilon(), None) + 1.0)
    return K.mean(K.square(first - second), axis=-1)


def squared_hinge(y_true, y_pred):
    return K.mean(K.square(K.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def hinge(y_true, y_pred):
    return K.mean(K.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def categorical_hinge(y_true, y_pred):
    """Keras 2: max(0, 1 + the best wrong score - the true score)."""
    pos = K.sum(y_true * y_pred, axis=-1)
    neg = K.max((1.0 - y_true) * y_pred, axis=-1)
    return K.maximum(neg - pos + 1.0, 0.0)


def logcosh(y_true, y_pred):
    """Keras 2: mean log(cosh(error)), as x + softplus(-2x) - log 2 so large errors do not overflow."""
    x = y_pred - y_true
    return K.mean(x + K.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def categorical_crossentropy(y_true, y_pred):
    return K.categorical_crossentropy(y_pred, y_true)


def sparse_categorical_crossentropy(y_true, y_pred):
    return K.sparse_categorical_crossentropy(y_pred, y_true)


def binary_crossentropy(y_true, y_pred):
    return K.mean(K.binary_crossentropy(y_pred, y_true), axis=-1)


def kullback_leibler_divergence(y_true, y_pred):
    y_true = K.clip(y_true, K.epsilon(), 1)
    y_pred = K.clip(y_pred, K.epsilon(), 1)
    return K.sum(y_true * K.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    return K.mean(y_pred - y_true * K.log(y_pred + K.epsilon()), axis=-1)


def cosine_proximity(y_true, y_pred):
    y_true = K.l2_normalize(y_true, axis=-1)
    y_pred = K.l2_normalize(y_pred, axis=-1)
    return -K.mean(y_true * y_pred, axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_proximity

_ALL = {k: v for k, v in dict(globals()).items() if callable(v) and not k.startswith("_") and k != "K"}


def serialize(loss):
    """Keras 2: the name a loss function is saved under."""
    return loss.__name__


def deserialize(name, custom_objects=None):
    """Keras 2: the loss function of a name (custom_objects first)."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)


def get(identifier):
    if callable(identifier):
        return identifier
    from .utils.custom_objects import lookup
    fn = lookup(identifier) or _ALL.get(identifier)
    if fn is None:
        raise ValueError("Invalid objective: %s" % (identifier,))
    return fn
