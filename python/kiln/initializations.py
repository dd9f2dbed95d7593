"""Keras 1.2's `keras.initializations`: functions `init(shape, name=None, dim_ordering='th')` that
make a new variable (`K.get_value(glorot_uniform((3, 4)))`), with Keras 1.2's scale arguments
and fans (`get_fans`: a 'th' kernel is (filters, channels, rows, cols), a 'tf' one (rows, cols,
channels, filters)). They draw with kiln.initializers (the native core) and wrap the array in
`K.variable`.

A layer given one of these (`Dense(4, init=initializations.normal)`) draws its weight with the
array function of the same name, in the layer's own kernel layout; a layer given any other
function that returns a variable takes the variable's value (Layer.add_weight).
"""
import numpy as np

from . import backend as K, initializers
from .utils.generic_utils import get_from_module


def get_fans(shape, dim_ordering="th"):
    """(fan_in, fan_out) as Keras 1.2 counts them for `dim_ordering`."""
    shape = tuple(shape)
    if len(shape) in (4, 5):
        if dim_ordering not in ("th", "tf"):
            raise ValueError("Invalid dim_ordering: " + str(dim_ordering))
        if len(shape) == 5 and dim_ordering == "tf":  # Keras 1.2's receptive field is the first two axes only
            shape = shape[:2] + shape[3:]
    return initializers.fans(shape, channels_first=dim_ordering == "th")


def uniform(shape, scale=0.05, name=None, dim_ordering="th"):
    return K.variable(initializers.RandomUniform(-scale, scale)(shape), name=name)


def normal(shape, scale=0.05, name=None, dim_ordering="th"):
    return K.variable(initializers.RandomNormal(0.0, scale)(shape), name=name)


def lecun_uniform(shape, name=None, dim_ordering="th"):
    fan_in, _ = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(3.0 / fan_in), name=name)


def glorot_normal(shape, name=None, dim_ordering="th"):
    fan_in, fan_out = get_fans(shape, dim_ordering)
    return normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), name=name)


def glorot_uniform(shape, name=None, dim_ordering="th"):
    fan_in, fan_out = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(6.0 / (fan_in + fan_out)), name=name)


def he_normal(shape, name=None, dim_ordering="th"):
    fan_in, _ = get_fans(shape, dim_ordering)
    return normal(shape, np.sqrt(2.0 / fan_in), name=name)


def he_uniform(shape, name=None, dim_ordering="th"):
    fan_in, _ = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(6.0 / fan_in), name=name)


def orthogonal(shape, scale=1.1, name=None, dim_ordering="th"):
    return K.variable(initializers.Orthogonal(gain=scale)(shape), name=name)


def identity(shape, scale=1, name=None, dim_ordering="th"):
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError("Identity matrix initialization can only be used for 2D square matrices.")
    return K.variable(initializers.Identity(gain=scale)(shape), name=name)


def zero(shape, name=None, dim_ordering="th"):
    return K.zeros(shape, name=name)


def one(shape, name=None, dim_ordering="th"):
    return K.ones(shape, name=name)


def get(identifier, **kwargs):
    """The function of that name (Keras 1.2: `initializations.get('he_normal')`)."""
    return get_from_module(identifier, globals(), "initialization", kwargs=kwargs)
