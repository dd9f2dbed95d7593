"""The symbolic ops of `kiln.backend` (imported as `K`). Each call adds an op to the graph
being built and returns its tensor; nothing computes here. Axis arguments follow NumPy."""
import numbers

import numpy as np

from .tensor import PhaseSwitch, Placeholder, Tensor, make
from .variables import Variable

_EPSILON = 1e-7


def epsilon():
    return _EPSILON


def set_epsilon(e):
    global _EPSILON
    _EPSILON = float(e)


def floatx():
    return "float32"


def _arg(x, op):
    """A tensor operand: tensors pass, numbers become constants, anything else is an error."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.number)) and not isinstance(x, bool):
        return make("constant", [], {"value": float(x)})
    if isinstance(x, np.ndarray):
        return constant(x)
    raise TypeError("K.%s: expected a kiln tensor or a number, got %s %r" % (op, type(x).__name__, x))


def _unary(op, x, attrs=None, name=None):
    return make(op, [_arg(x, name or op)], attrs)


def _binary(op, x, y, name):
    return make(op, [_arg(x, name), _arg(y, name)])


def _axes(axis, x):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return [int(a) for a in axis]
    return [int(axis)]


def _reduce(op, x, axis, keepdims, name):
    x = _arg(x, name)
    attrs = {"keepdims": int(bool(keepdims))}
    ax = _axes(axis, x)
    if ax is not None:
        attrs["axes"] = ax
    return make(op, [x], attrs)


# Arithmetic.
def add(x, y):
    return _binary("add", x, y, "add")


def subtract(x, y):
    return _binary("sub", x, y, "subtract")


def multiply(x, y):
    return _binary("mul", x, y, "multiply")


def divide(x, y):
    return _binary("div", x, y, "divide")


def neg(x):
    return _unary("neg", x)


def abs(x):
    return _unary("abs", x)


def square(x):
    return _unary("square", x)


def sqrt(x):
    # Keras clips at 0 first so that sqrt never sees a negative rounding error.
    return _unary("sqrt", clip(_arg(x, "sqrt"), 0.0, np.inf), name="sqrt")


def exp(x):
    return _unary("exp", x)


def log(x):
    return _unary("log", x)


def pow(x, a):
    x = _arg(x, "pow")
    if isinstance(a, numbers.Number) and a == 2:
        return square(x)
    if isinstance(a, numbers.Number) and a == 1:
        return _arg(x, "pow")
    return _binary("pow", x, a, "pow")


def sign(x):
    return _unary("sign", x)


def round(x):
    return _unary("round", x)


def clip(x, min_value, max_value):
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value
    attrs = {}
    if min_value is not None and np.isfinite(min_value):
        attrs["min"] = float(min_value)
    if max_value is not None and np.isfinite(max_value):
        attrs["max"] = float(max_value)
    return _unary("clip", x, attrs)


def maximum(x, y):
    return _binary("maximum", x, y, "maximum")


def minimum(x, y):
    return _binary("minimum", x, y, "minimum")


# Comparisons give 1.0 / 0.0.
def equal(x, y):
    return _binary("equal", x, y, "equal")


def not_equal(x, y):
    return _binary("not_equal", x, y, "not_equal")


def greater(x, y):
    return _binary("greater", x, y, "greater")


def greater_equal(x, y):
    return _binary("greater_equal", x, y, "greater_equal")


def less(x, y):
    return _binary("less", x, y, "less")


def less_equal(x, y):
    return _binary("less_equal", x, y, "less_equal")


def cast(x, dtype):
    x = _arg(x, "cast")
    if dtype not in ("float32", "float64", "float16", "int32", "int64", "bool"):
        raise ValueError("K.cast: unsupported dtype %r" % (dtype,))
    return x  # kiln computes in float32: comparisons and argmax already give float values


# Reductions.
def sum(x, axis=None, keepdims=False):
    return _reduce("reduce_sum", x, axis, keepdims, "sum")


def mean(x, axis=None, keepdims=False):
    return _reduce("reduce_mean", x, axis, keepdims, "mean")


def max(x, axis=None, keepdims=False):
    return _reduce("reduce_max", x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False):
    return _reduce("reduce_min", x, axis, keepdims, "min")


def var(x, axis=None, keepdims=False):
    x = _arg(x, "var")
    m = mean(x, axis, keepdims=True)
    return mean(square(subtract(x, m)), axis, keepdims)


def std(x, axis=None, keepdims=False):
    return sqrt(var(_arg(x, "std"), axis, keepdims))


def argmax(x, axis=-1):
    return make("argmax", [_arg(x, "argmax")], {"axis": int(axis)})


def l2_normalize(x, axis=-1):
    x = _arg(x, "l2_normalize")
    n = sqrt(maximum(sum(square(x), axis=axis, keepdims=True), 1e-12))
    return divide(x, n)


# Linear algebra.
def dot(x, y):
    """Matrix product over the last axis of x and the first of y (y must be a matrix)."""
    return make("matmul", [_arg(x, "dot"), _arg(y, "dot")])


def bias_add(x, bias):
    return make("bias_add", [_arg(x, "bias_add"), _arg(bias, "bias_add")])


# Activations.
def relu(x, alpha=0.0, max_value=None):
    y = _unary("relu", x)
    if alpha:
        y = subtract(y, multiply(alpha, _unary("relu", neg(x))))
    if max_value is not None:
        y = clip(y, None, max_value)
    return y


def sigmoid(x):
    return _unary("sigmoid", x)


def hard_sigmoid(x):
    return _unary("hard_sigmoid", x)


def tanh(x):
    return _unary("tanh", x)


def softplus(x):
    return _unary("softplus", x)


def softsign(x):
    return _unary("softsign", x)


def elu(x, alpha=1.0):
    return _unary("elu", x, {"alpha": float(alpha)})


def softmax(x, axis=-1):
    return make("softmax", [_arg(x, "softmax")], {"axis": int(axis)})


# Losses with Keras 1 argument order (output, target).
def categorical_crossentropy(output, target, from_logits=False):
    if from_logits:
        output = softmax(output)
    return make("categorical_crossentropy", [_arg(target, "categorical_crossentropy"), output],
                {"epsilon": epsilon()})


def sparse_categorical_crossentropy(output, target, from_logits=False):
    if from_logits:
        output = softmax(output)
    return make("sparse_categorical_crossentropy", [_arg(target, "sparse_categorical_crossentropy"), output],
                {"epsilon": epsilon()})


def binary_crossentropy(output, target, from_logits=False):
    if from_logits:
        output = sigmoid(output)
    p = clip(output, epsilon(), 1.0 - epsilon())
    return neg(add(multiply(target, log(p)), multiply(subtract(1.0, target), log(subtract(1.0, p)))))


# Training phase and randomness.
_learning_phase = None


def learning_phase():
    """The learning phase: 1 in train graphs, 0 in test and predict graphs (resolved when a
    graph is lowered, so a compiled graph carries no phase switch). Unless fixed with
    set_learning_phase, this is a placeholder that a K.function may take as an input."""
    if _learning_phase is not None:
        return _learning_phase
    from .functions import LEARNING_PHASE
    return LEARNING_PHASE


def set_learning_phase(value):
    global _learning_phase
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    _learning_phase = value


def in_train_phase(x, alt):
    if _learning_phase == 1:
        return x
    if _learning_phase == 0:
        return alt
    return PhaseSwitch(_arg(x, "in_train_phase"), _arg(alt, "in_train_phase"))


def in_test_phase(x, alt):
    return in_train_phase(alt, x)


def dropout(x, level, seed=None):
    """Inverted dropout: x * mask, mask 0 with probability `level`, else 1/(1-level)."""
    if not 0.0 <= level < 1.0:
        raise ValueError("Dropout level must be in interval [0, 1[.")
    if seed is None:
        seed = np.random.randint(0, 2**31 - 1)
    x = _arg(x, "dropout")
    return multiply(x, make("dropout_mask", [x], {"rate": float(level), "seed": int(seed)}))


# Leaves and values.
def placeholder(shape=None, ndim=None, dtype="float32", name=None):
    if shape is None:
        if ndim is None:
            raise ValueError("K.placeholder needs a shape or an ndim")
        shape = (None,) * ndim
    return Placeholder(tuple(shape), dtype, name)


def variable(value, dtype="float32", name=None, trainable=True):
    return Variable(value, name=name, trainable=trainable)


def constant(value, dtype="float32", shape=None, name=None):
    value = np.asarray(value, dtype=np.float32)
    if shape is not None:
        value = np.broadcast_to(value, shape)
    if value.ndim == 0:
        return make("constant", [], {"value": float(value)})
    v = Variable(value, name=name or "constant", trainable=False)
    v._constant = True  # data, not state: a saved Lambda or loss writes its value (saving/traced.py)
    return v


def zeros(shape, dtype="float32", name=None):
    return Variable(np.zeros(shape, np.float32), name=name or "zeros")


def ones(shape, dtype="float32", name=None):
    return Variable(np.ones(shape, np.float32), name=name or "ones")


def get_value(x):
    if not hasattr(x, "get_value"):
        raise TypeError("K.get_value: expected a kiln variable, got %s %r" % (type(x).__name__, x))
    return x.get_value()


def set_value(x, value):
    if not hasattr(x, "set_value"):
        raise TypeError("K.set_value: expected a kiln variable, got %s %r" % (type(x).__name__, x))
    x.set_value(value)


def batch_get_value(xs):
    return [get_value(x) for x in xs]


def batch_set_value(pairs):
    for x, v in pairs:
        set_value(x, v)


def int_shape(x):
    if not isinstance(x, Tensor):
        raise TypeError("K.int_shape: expected a kiln tensor, got %s %r" % (type(x).__name__, x))
    return tuple(x.shape)


def ndim(x):
    if not isinstance(x, Tensor):
        raise TypeError("K.ndim: expected a kiln tensor, got %s %r" % (type(x).__name__, x))
    return len(int_shape(x))


def count_params(x):
    return int(np.prod(int_shape(x)))


def dtype(x):
    return x.dtype


def identity(x):
    return make("identity", [_arg(x, "identity")])
