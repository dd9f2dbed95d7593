"""Keras' loops over a tensor's axis: `map_fn`, `foldl`, `foldr` (Keras 1.2's TensorFlow backend),
and `cumsum`, `cumprod` (Keras 2), composed of existing ops and the `scan` op K.rnn lowers to.

`map_fn(fn, elems)` / `foldl(fn, elems, initializer)` / `foldr(...)` iterate axis 0 of `elems`:
the tensor is seen as a sequence [1, n, ...] (one "batch" row) and `fn` is called once, on
stand-ins for one element (and the accumulator), building the nested step graph of a `scan`, so
the loop runs natively over any n and the native autodiff differentiates it, through the
elements, the initializer and whatever `fn` reads from outside (weights, other tensors). The
scan's time axis cannot be the batch (nor can the batch be sliced), so axis 0 must be known:
a loop over the batch axis raises, naming the shape.

`cumsum(x, axis)` is a matmul with a triangular ones matrix after moving `axis` last; `cumprod`
a scan along `axis` whose state is the running product (no log, so zeros and negative numbers
are exact). Both need the size of `axis` to be known and not the batch.
"""
import numpy as np

from ..lower import StepGraph
from .ops import _arg, constant, dot, multiply
from .rnn import StepInput, _captures, scan
from .shape_ops import expand_dims, permute_dimensions, slice_axis, squeeze
from .tensor import make

__all__ = ["cumprod", "cumsum", "foldl", "foldr", "map_fn"]


def _loop(sequence, initial_states, body, reverse=False):
    """scan over axis 1 of sequence [B, T, ...]: body(x_t, states) -> (output_t, new_states).
    Returns (outputs [B, T, ...], final states)."""
    x_t = StepInput(sequence, "element", drop_time=True)
    states = [StepInput(s, "acc_%d" % k) for k, s in enumerate(initial_states)]
    output, new_states = body(x_t, states)
    stand_ins = [x_t] + states
    captured = _captures([output] + new_states, stand_ins)
    step = StepGraph(stand_ins + captured, [output] + new_states)
    attrs = {"sequences": 1, "states": len(states)}
    if reverse:
        attrs["reverse"] = 1
    results = scan(step, [sequence] + list(initial_states) + captured, attrs)
    return results[0], results[1:]


def _leading(elems, who):
    """elems (n, ...) as a sequence (1, n, ...)."""
    elems = _arg(elems, who)
    if not elems.shape:
        raise ValueError("K.%s: elems must have at least one axis, got a scalar" % who)
    if elems.shape[0] is None:
        raise ValueError("K.%s iterates axis 0 of elems, which is the batch in %s: kiln's native loop cannot run "
                         "over the batch; loop over a known axis (move it first with K.permute_dimensions)"
                         % (who, tuple(elems.shape)))
    return expand_dims(elems, 0)


def _one(t):
    """A scalar or tensor result of fn as a [1, ...] step output."""
    return expand_dims(_arg(t, "map_fn"), 0)


def map_fn(fn, elems, name=None):
    """fn applied to each elems[i] (axis 0), the results stacked on axis 0."""
    seq = _leading(elems, "map_fn")
    outputs, _ = _loop(seq, [], lambda x_t, states: (_one(fn(squeeze(x_t, 0))), []))
    return squeeze(outputs, 0)


def _fold(fn, elems, initializer, backwards, who):
    seq = _leading(elems, who)
    n = elems.shape[0]
    if initializer is None:
        if n < 2:
            return squeeze(slice_axis(elems, 0, 0, 1), 0) if n == 1 else None
        first = (n - 1) if backwards else 0
        initializer = squeeze(slice_axis(elems, 0, first, first + 1), 0)
        seq = slice_axis(seq, 1, 0, n - 1) if backwards else slice_axis(seq, 1, 1, n)
    init = expand_dims(_arg(initializer, who), 0)

    def body(x_t, states):
        acc = _one(fn(squeeze(states[0], 0), squeeze(x_t, 0)))
        return acc, [acc]

    _, (last,) = _loop(seq, [init], body, reverse=backwards)
    return squeeze(last, 0)


def foldl(fn, elems, initializer=None, name=None):
    """fn(acc, x) over elems[0], elems[1], ... (axis 0) from `initializer` (elems[0] when None)."""
    return _fold(fn, elems, initializer, False, "foldl")


def foldr(fn, elems, initializer=None, name=None):
    """fn(acc, x) over elems[-1], elems[-2], ... from `initializer` (elems[-1] when None)."""
    return _fold(fn, elems, initializer, True, "foldr")


def _axis(x, axis, who):
    nd = len(x.shape)
    if not -nd <= axis < nd:
        raise ValueError("K.%s: axis %d is out of range for %s" % (who, axis, tuple(x.shape)))
    axis %= nd
    if x.shape[axis] is None:
        raise ValueError("K.%s: the size of axis %d of %s must be known (and not the batch)"
                         % (who, axis, tuple(x.shape)))
    return axis


def cumsum(x, axis=0):
    """The cumulative sum along `axis`: x moved to put `axis` last, times the upper-triangular
    ones matrix T (T[i, j] = 1 for i <= j), moved back."""
    x = _arg(x, "cumsum")
    axis = _axis(x, axis, "cumsum")
    nd, n = len(x.shape), x.shape[axis]
    last = list(range(nd))
    last.append(last.pop(axis))
    moved = permute_dimensions(x, last) if axis != nd - 1 else x
    y = dot(moved, constant(np.triu(np.ones((n, n), dtype=np.float32))))
    return permute_dimensions(y, list(np.argsort(last))) if axis != nd - 1 else y


def cumprod(x, axis=0):
    """The cumulative product along `axis`: a scan along it whose state is the running product."""
    x = _arg(x, "cumprod")
    axis = _axis(x, axis, "cumprod")
    nd = len(x.shape)
    if nd == 1 or (axis == 0 and x.shape[0] is not None):
        seq, axis_in_seq = expand_dims(x, 0), None  # [1, n, ...]
    else:
        order = [0, axis] + [a for a in range(1, nd) if a != axis]
        seq, axis_in_seq = permute_dimensions(x, order) if axis != 1 else x, order
    ones = make("broadcast_like", [constant(1.0), squeeze(slice_axis(seq, 1, 0, 1), 1)])

    def body(x_t, states):
        acc = multiply(states[0], x_t)
        return acc, [acc]

    outputs, _ = _loop(seq, [ones], body)
    if axis_in_seq is None:
        return squeeze(outputs, 0)
    return permute_dimensions(outputs, list(np.argsort(axis_in_seq))) if axis != 1 else outputs
