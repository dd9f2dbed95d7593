"""Activation functions by name (`activation='relu'`), written with kiln.backend ops."""
from . import backend as K


def softmax(x):
    nd = len(x.shape)
    if nd not in (2, 3):
        raise ValueError("Cannot apply softmax to a tensor that is not 2D or 3D. Here, ndim=%d" % nd)
    return K.softmax(x, axis=-1)


def elu(x, alpha=1.0):
    return K.elu(x, alpha)


def softplus(x):
    return K.softplus(x)


def softsign(x):
    return K.softsign(x)


def relu(x, alpha=0.0, max_value=None):
    return K.relu(x, alpha=alpha, max_value=max_value)


def tanh(x):
    return K.tanh(x)


def sigmoid(x):
    return K.sigmoid(x)


def hard_sigmoid(x):
    return K.hard_sigmoid(x)


def linear(x):
    return x


_NAMES = {f.__name__: f for f in (softmax, elu, softplus, softsign, relu, tanh, sigmoid, hard_sigmoid, linear)}


def serialize(activation):
    """Keras 2: the name an activation function is saved under."""
    return activation.__name__


def deserialize(name, custom_objects=None):
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, name, custom_objects)


def get(identifier):
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    from .utils.custom_objects import lookup
    fn = lookup(identifier) or _NAMES.get(identifier)
    if fn is None:
        raise ValueError("Invalid activation function: %s (accepted: %s)" % (identifier, ", ".join(sorted(_NAMES))))
    return fn
