"""Random tensors drawn afresh at every run of a program (Keras 1.2's K.random_normal,
K.random_uniform, K.random_binomial; Keras 2's stddev/minval/maxval spellings too), and
K.stop_gradient. The values come from the native counter hash (kernels/cpu/random.h), so a seeded
graph repeats; without a seed one is drawn from NumPy's global generator, as Keras does.

`shape` is a tuple of ints, where None or a tensor (such as K.shape(x)[0]) stands for the batch,
or the tensor K.shape(x) itself, which gives x's shape, batch included.
"""
import numpy as np

from .tensor import Tensor, make


def _shaped(op, shape, attrs, seed):
    attrs = dict(attrs, seed=int(seed) if seed is not None else int(np.random.randint(0, 2**31 - 1)))
    if isinstance(shape, Tensor):
        if shape.op != "shape_of":
            raise ValueError("K.%s: a tensor shape must be K.shape(x), got %r" % (op, shape))
        return make(op, [shape.inputs[0]], attrs)
    dims = []
    for d in shape:
        if d is None or isinstance(d, Tensor):
            if dims:
                raise ValueError("K.%s: only the first dim may be the batch (None or K.shape(x)[0]), got %r"
                                 % (op, (shape,)))
            dims.append(-1)
        else:
            dims.append(int(d))
    return make(op, [], dict(attrs, shape=dims))


def random_normal(shape, mean=0.0, std=1.0, dtype=None, seed=None, stddev=None):
    return _shaped("random_normal", shape, {"mean": float(mean), "stddev": float(std if stddev is None else stddev)},
                   seed)


def random_uniform(shape, low=0.0, high=1.0, dtype=None, seed=None, minval=None, maxval=None):
    return _shaped("random_uniform", shape, {"low": float(low if minval is None else minval),
                                             "high": float(high if maxval is None else maxval)}, seed)


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    return _shaped("random_binomial", shape, {"p": float(p)}, seed)


def random_normal_like(x, mean=0.0, std=1.0, seed=None):
    """Normal noise of x's shape (x's values are not read)."""
    return make("random_normal", [x], {"mean": float(mean), "stddev": float(std), "seed": int(seed)})


def stop_gradient(x):
    """x, through which no gradient flows."""
    return make("stop_gradient", [x])
