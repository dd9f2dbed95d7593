"""Tensors of given values in `kiln.backend`: shaped like another tensor (zeros_like, ones_like),
the identity matrix, ranges, variables with random initial values; and two helpers of Keras 1.2
(get_variable_shape, print_tensor).

Everything here is a constant of the graph or a variable drawn once in NumPy: the graph holds
no random op (K.random_uniform / random_normal / random_binomial, which draw anew at every run,
need one and are not provided yet).
"""
import numpy as np

from .ops import _arg, identity, int_shape, variable
from .tensor import make

__all__ = ["arange", "cast_to_floatx", "eye", "get_variable_shape", "ones_like", "print_tensor",
           "random_normal_variable", "random_uniform_variable", "zeros_like"]


def _filled(x, value, who):
    out = make("broadcast_like", [_arg(float(value), who), _arg(x, who)])
    out.dtype = x.dtype
    return out


def zeros_like(x, dtype=None, name=None):
    """Zeros of x's shape (its batch size too, at run time); nothing of x's values is read, so
    no NaN of x shows through and no gradient flows back to it."""
    return _filled(x, 0.0, "zeros_like")


def ones_like(x, dtype=None, name=None):
    """Ones of x's shape (see zeros_like)."""
    return _filled(x, 1.0, "ones_like")


def eye(size, dtype=None, name=None):
    """A variable holding the size x size identity matrix."""
    return variable(np.eye(int(size), dtype=np.float32), name=name or "eye")


def arange(start, stop=None, step=1, dtype="int32"):
    """The 1D constant [start, start + step, ...) (one argument is the stop, as NumPy's), int32 by
    default as Keras 1.2. A negative lone argument gives an empty range, which kiln cannot hold:
    it raises."""
    if stop is None and start < 0:
        start = 0
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if values.size == 0:
        raise ValueError("K.arange(%r, %r, %r) is empty; kiln tensors have at least one entry" % (start, stop, step))
    out = variable(values.astype(np.float32), name="arange", trainable=False)
    out.dtype = "int32" if "int" in str(dtype) else "float32"
    return out


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable drawn once from U(low, high) (NumPy's generator, seeded by `seed` if given)."""
    rng = np.random.RandomState(seed) if seed is not None else np.random
    return variable(rng.uniform(low, high, size=tuple(shape)).astype(np.float32), name=name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable drawn once from N(mean, scale^2) (NumPy's generator, seeded by `seed` if given)."""
    rng = np.random.RandomState(seed) if seed is not None else np.random
    return variable(rng.normal(mean, scale, size=tuple(shape)).astype(np.float32), name=name)


def cast_to_floatx(x):
    """A NumPy array of x in floatx (float32)."""
    return np.asarray(x, dtype=np.float32)


def get_variable_shape(x):
    """Keras 1.2: the shape of a variable (or tensor) as a tuple, int_shape(x)."""
    return int_shape(x)


def print_tensor(x, message=""):
    """Keras 1.2 prints `message` and x's value whenever x is computed. kiln programs run natively
    without Python, so this is the identity and prints nothing: read a value with K.function or
    K.eval instead."""
    return identity(x)
