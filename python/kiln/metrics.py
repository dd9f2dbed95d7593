"""Metrics f(y_true, y_pred) -> scalar (mean over the batch), Keras 1.2 definitions. Any loss
is also a metric (averaged over the batch)."""
from . import backend as K
from . import losses
# The losses are metrics too, under the same names (Keras 1.2: `keras.metrics.mean_squared_error`).
from .losses import (MAE, MAPE, MSE, MSLE, binary_crossentropy, categorical_crossentropy,  # noqa: F401
                     cosine, cosine_proximity, hinge, kld, kullback_leibler_divergence, mae, mape,
                     mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                     mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
                     squared_hinge)


def binary_accuracy(y_true, y_pred):
    return K.mean(K.equal(y_true, K.round(y_pred)))


def categorical_accuracy(y_true, y_pred):
    return K.mean(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    return K.mean(K.equal(K.max(y_true, axis=-1), K.argmax(y_pred, axis=-1)))


_OWN = {f.__name__: f for f in (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)}


def get(identifier):
    if callable(identifier):
        return identifier
    from .utils.custom_objects import lookup
    fn = lookup(identifier) or _OWN.get(identifier)
    if fn is not None:
        return fn
    try:
        return losses.get(identifier)
    except ValueError:
        raise ValueError("Invalid metric: %s" % (identifier,)) from None
