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


def set_floatx(value):
    """kiln computes in float32 only: 'float32' is accepted, another float type refused."""
    if value not in ("float16", "float32", "float64"):
        raise ValueError("Unknown floatx type: " + str(value))
    if value != "float32":
        raise ValueError("kiln computes in float32 only; set_floatx(%r) is not supported" % (value,))


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


_RANDOM_OPS = ("random_normal", "random_uniform", "random_binomial")


def _on_fixed_batch(t, other):
    """Keras 1.2 idiom (its VAE examples): under Input(batch_shape=(N, ...)) the batch is a static
    N, so noise drawn as K.random_normal(shape=(N, d)) combines elementwise with the model's
    tensors. kiln keeps a fixed batch `?` in the graph (InputLayer): a batch-less random tensor of
    leading size N that meets a tensor of fixed batch N is drawn with the batch as its first dim
    (same op, attributes and seed)."""
    if (t.op in _RANDOM_OPS and not t.inputs and len(t.shape) == len(other.shape) and t.shape
            and t.shape[0] is not None and other.shape[0] is None
            and getattr(other, "_fixed_batch", None) == t.shape[0]):
        return make(t.op, [], dict(t.attrs, shape=[-1] + list(t.attrs["shape"][1:])))
    return t


def _binary(op, x, y, name):
    x, y = _arg(x, name), _arg(y, name)
    return make(op, [_on_fixed_batch(x, y), _on_fixed_batch(y, x)])


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


def sin(x):
    return _unary("sin", x)


def cos(x):
    return _unary("cos", x)


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


lesser, lesser_equal = less, less_equal  # Keras 1.2's names


def switch(condition, then_expression, else_expression):
    """then_expression where condition is not 0, else else_expression, elementwise (a scalar
    condition picks a whole branch, as Keras 1.2's TensorFlow backend; a tensor one picks per
    element, broadcasting, as Theano's and Keras 2's). Either branch may be a callable returning
    a tensor. Both branches are computed; the pick is `c * then + (1 - c) * else`, so a NaN or
    inf in the branch not taken still shows through (there is no select op yet)."""
    then_expression = then_expression() if callable(then_expression) else then_expression
    else_expression = else_expression() if callable(else_expression) else else_expression
    c = not_equal(_arg(condition, "switch"), 0.0)
    return add(multiply(c, then_expression), multiply(subtract(1.0, c), else_expression))


_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16")


def cast(x, dtype):
    """x as `dtype`. kiln computes in float32 (integers travel as exact floats), so a cast to a
    float type changes nothing but K.dtype; to an integer type it truncates toward zero, as
    TensorFlow; to 'bool' it gives 1. where x is not 0 (both without a gradient)."""
    x = _arg(x, "cast")
    if dtype not in ("float16", "float32", "float64", "bool") + _INT_DTYPES:
        raise ValueError("K.cast: unsupported dtype %r" % (dtype,))
    if dtype == "bool":
        out = not_equal(x, 0.0)
    elif dtype in _INT_DTYPES and x.dtype != "int32":
        magnitude = abs(x)
        nearest = round(magnitude)  # ties to even: one too many where it rounded up
        out = multiply(sign(x), subtract(nearest, greater(nearest, magnitude)))
    elif (dtype in _INT_DTYPES) == (x.dtype == "int32"):
        return x
    else:
        out = identity(x)
    out.dtype = "int32" if dtype in _INT_DTYPES or dtype == "bool" else "float32"
    return out


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


def argmin(x, axis=-1):
    """The index of the smallest entry along `axis` (the first of equal ones), as argmax of -x."""
    return argmax(neg(_arg(x, "argmin")), axis)


def any(x, axis=None, keepdims=False):
    """Logical or over `axis`: 1. where some entry is not 0, else 0. (Keras returns uint8 0/1)."""
    return max(not_equal(_arg(x, "any"), 0.0), axis, keepdims)


def all(x, axis=None, keepdims=False):
    """Logical and over `axis`: 1. where every entry is not 0, else 0."""
    return min(not_equal(_arg(x, "all"), 0.0), axis, keepdims)


def l2_normalize(x, axis=-1):
    x = _arg(x, "l2_normalize")
    n = sqrt(maximum(sum(square(x), axis=axis, keepdims=True), 1e-12))
    return divide(x, n)


# Linear algebra.
def dot(x, y):
    """Keras' K.dot: the product over the last axis of x and the second-to-last of y (the first,
    for a matrix y), Theano's rule for nD y: (2, 3) . (4, 3, 5) -> (2, 4, 5)."""
    x, y = _arg(x, "dot"), _arg(y, "dot")
    if len(y.shape) <= 2:
        return make("matmul", [x, y])
    if None in y.shape or None in x.shape[1:]:
        raise ValueError("K.dot: an nD right operand needs known shapes (but x's batch), got %r and %r" % (x, y))
    nd = len(y.shape)
    front = make("transpose", [y], {"perm": [nd - 2] + [i for i in range(nd) if i != nd - 2]})
    matrix = make("reshape", [front], {"shape": [y.shape[-2], -1]})
    out = make("matmul", [x, matrix])
    rest = list(y.shape[:-2]) + [y.shape[-1]]
    keep = list(x.shape[1:-1]) if x.shape and x.shape[0] is None else list(x.shape[:-1])
    return make("reshape", [out], {"shape": [int(d) for d in keep + rest]})


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
def placeholder(shape=None, ndim=None, dtype="float32", sparse=False, name=None):
    """A graph input. `sparse` (Keras 1.2) is accepted: kiln's tensors are dense, and a sparse
    placeholder is fed dense arrays."""
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
