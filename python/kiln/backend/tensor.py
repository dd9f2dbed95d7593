"""Symbolic tensors: the graph that layers, `Lambda` functions and losses build.

A `Tensor` records the op that makes it (an IR op name, operand tensors, attributes) and its
type, which the native core infers (`_core.infer`): Python never repeats a shape rule. Leaves
are placeholders (graph inputs) and variables (persistent tensors in the native Store).
`lower.py` walks these records to print IR. Nothing here computes.
"""
import itertools

import numpy as np

from .. import _core
from . import image_layout

_ids = itertools.count()


def _dims_text(dims):
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


class Tensor:
    """A symbolic value: the result of an op, a placeholder or a variable.

    Identity semantics: `==` and `hash` are those of the object, as Keras tests rely on
    (`layer.output == x`, tensors in sets). Arithmetic operators build ops.
    """

    __array_priority__ = 100  # numpy scalars on the left defer to our reflected operators

    def __init__(self, op, inputs, attrs, dtype, shape, name=None):
        self.op = op
        self.inputs = list(inputs)
        self.attrs = dict(attrs or {})
        self.dtype = dtype
        # ir_shape is the core's view: None is the batch, -k the batch times k (a time axis
        # folded into the batch); shape is Keras' view, with None for both.
        self.ir_shape = tuple(shape)
        self.shape = tuple(None if d is None or d < 0 else d for d in self.ir_shape)
        self.name = name
        self.id = next(_ids)
        self._keras_shape = self.shape
        self._keras_history = None
        self._keras_mask = None
        self._image_layout = None  # 'th' / 'tf' for an image whose layout is known (image_layout.py)
        self._uses_learning_phase = any(getattr(t, "_uses_learning_phase", False) for t in self.inputs)
        # The batch size an Input(batch_shape=(32, ...)) fixed, carried to what is computed from it
        # (a stateful layer sizes its states by it); the IR's batch dim stays `?`.
        self._fixed_batch = next((t._fixed_batch for t in self.inputs if getattr(t, "_fixed_batch", None)), None)
        # For an op with several results: (the list of all its result tensors, this one's index).
        # Lowering prints the op once, naming every result.
        self.results = None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        kind = self.op or type(self).__name__.lower()
        return "<kiln.Tensor %s %s %s %s>" % (self.name or "#%d" % self.id, kind, self.dtype, _dims_text(self.shape))

    def __getitem__(self, index):
        """t[i] on the first axis (e.g. K.shape(x)[0]): a slice, with the axis dropped."""
        if not isinstance(index, int) or not self.shape or self.shape[0] is None:
            raise TypeError("a kiln Tensor supports t[i] with an int i on a known first axis, got %r" % (index,))
        n = self.shape[0]
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError("index %d is out of range for %r" % (index, self))
        part = make("slice", [self], {"axis": 0, "begin": i, "end": i + 1})
        return make("reshape", [part], {"shape": list(self.ir_shape[1:])})

    def __bool__(self):
        raise TypeError("a symbolic kiln Tensor has no truth value; use K.switch or K.greater to compare")

    def __iter__(self):
        raise TypeError("a symbolic kiln Tensor is not iterable")

    # Arithmetic builds ops; the functions live in backend/ops.py.
    def __add__(self, o):
        return _ops().add(self, o)

    def __radd__(self, o):
        return _ops().add(o, self)

    def __sub__(self, o):
        return _ops().subtract(self, o)

    def __rsub__(self, o):
        return _ops().subtract(o, self)

    def __mul__(self, o):
        return _ops().multiply(self, o)

    def __rmul__(self, o):
        return _ops().multiply(o, self)

    def __truediv__(self, o):
        return _ops().divide(self, o)

    def __rtruediv__(self, o):
        return _ops().divide(o, self)

    def __neg__(self):
        return _ops().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    def __pow__(self, o):
        return _ops().pow(self, o)

    def __rpow__(self, o):
        return _ops().pow(o, self)

    def __gt__(self, o):
        return _ops().greater(self, o)

    def __ge__(self, o):
        return _ops().greater_equal(self, o)

    def __lt__(self, o):
        return _ops().less(self, o)

    def __le__(self, o):
        return _ops().less_equal(self, o)

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def _ops():
    from . import ops
    return ops


_dynamic_ids = itertools.count(1)


def dynamic_dim():
    """A fresh named dynamic dim (`?tN` in the IR): a length that may change from call to call,
    such as the time axis of `Input(shape=(None, 8))`."""
    n, name = next(_dynamic_ids), ""
    while n:
        n, r = divmod(n, 36)
        name = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + name
    return _core.dim("t" + name)


class Placeholder(Tensor):
    """A graph input: fed with data at run time. In `shape`, a leading None is the batch and every
    other None a dynamic dim of its own (its length taken from the data of each call)."""

    def __init__(self, shape, dtype="float32", name=None):
        shape = tuple(shape)
        if shape and shape[0] is None:
            shape = (None,) + tuple(dynamic_dim() if d is None else d for d in shape[1:])
        else:
            shape = tuple(dynamic_dim() if d is None else d for d in shape)
        super().__init__(None, [], {}, _norm_dtype(dtype), shape, name)


class PhaseSwitch(Tensor):
    """`in_train_phase(x, alt)`: lowered to `x` in the train graph, `alt` elsewhere."""

    def __init__(self, train, test):
        super().__init__(None, [train, test], {}, train.dtype, train.ir_shape, None)
        self._uses_learning_phase = True
        image_layout.propagate(self, [train, test])


def _norm_dtype(dtype):
    d = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if d in ("float32", "float64", "float16", "f32"):
        return "float32"
    if d in ("int32", "int64", "int8", "int16", "uint8", "uint16", "bool", "i32"):
        return "int32"
    raise ValueError("unsupported dtype %r (kiln computes in float32; integer inputs are int32)" % (dtype,))


def ir_type(dtype, shape):
    # kiln computes in f32: integer tensors (word indices, labels) travel as f32 holding exact
    # integers (exact below 2^24); Python keeps their Keras dtype for K.dtype and messages.
    return ("f32", tuple(shape))


def infer(op, inputs, attrs):
    """Result (dtype, shape) list of `op` on the given tensors, from the native schemas."""
    types = [ir_type(t.dtype, t.ir_shape) for t in inputs]
    try:
        outs = _core.infer(op, types, attrs)
    except _core.ShapeError as e:
        operands = ", ".join(_dims_text(t.shape) for t in inputs)
        raise ValueError("%s (operand shapes: %s)" % (e, operands)) from None
    return [("float32" if d == "f32" else "int32", tuple(s)) for d, s in outs]


def make(op, inputs, attrs=None, name=None):
    """Creates the tensor for `op(inputs) {attrs}`; the core checks shapes and attributes."""
    attrs = dict(attrs or {})
    (dtype, shape), = infer(op, inputs, attrs)
    t = Tensor(op, inputs, attrs, dtype, shape, name)
    return image_layout.propagate(t, inputs) if op in image_layout.PRESERVING else t


def make_multi(op, inputs, attrs=None, names=None):
    """The result tensors of an op with several results (lstm: y, hs, cs, gates)."""
    attrs = dict(attrs or {})
    types = infer(op, inputs, attrs)
    outs = [Tensor(op, inputs, attrs, dtype, shape, names[k] if names else None)
            for k, (dtype, shape) in enumerate(types)]
    for k, t in enumerate(outs):
        t.results = (outs, k)
    return outs
