"""kiln IR op -> ONNX nodes: the table for elementwise math, reductions and shape ops.

Each converter takes the Builder and the kiln node (`n.inputs`: ONNX names of the operands,
`n.operands`: the kiln tensors, `n.attrs`, `n.values`: the operands' values where they are
constant, `n.hint`: a name for the results) and returns the ONNX name of each result (None for
a result it cannot give; using one is an error naming the op). Shapes follow the IR's
(docs/ir.md): `?` the batch, kept first; ONNX sees it as the dim `batch`.
"""
import numpy as np
from onnx import TensorProto

from .builder import INT64_MAX, INT64_MIN

TABLE = {}


def converts(*ops):
    def register(fn):
        for op in ops:
            TABLE[op] = fn
        return fn
    return register


def rank(t):
    return len(t.ir_shape)


def _axis(a, r):
    return a + r if a < 0 else a


# Unary math and activations.
_UNARY = {"abs": "Abs", "exp": "Exp", "log": "Log", "neg": "Neg", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos",
          "sign": "Sign", "round": "Round", "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
          "softplus": "Softplus", "softsign": "Softsign", "identity": "Identity", "stop_gradient": "Identity"}


@converts(*_UNARY)
def unary(b, n):
    return [b.node(_UNARY[n.op], n.inputs, n.hint)]


@converts("square")
def square(b, n):
    return [b.node("Mul", [n.inputs[0], n.inputs[0]], n.hint)]


@converts("elu")
def elu(b, n):
    return [b.node("Elu", n.inputs, n.hint, alpha=float(n.attrs.get("alpha", 1.0)))]


@converts("hard_sigmoid")
def hard_sigmoid(b, n):  # Keras' clip(0.2 x + 0.5, 0, 1)
    return [b.node("HardSigmoid", n.inputs, n.hint, alpha=0.2, beta=0.5)]


@converts("softmax")
def softmax(b, n):
    return [b.node("Softmax", n.inputs, n.hint, axis=int(n.attrs.get("axis", -1)))]


@converts("clip")
def clip(b, n):
    lo, hi = float(n.attrs.get("min", -np.inf)), float(n.attrs.get("max", np.inf))
    bounds = [b.const(lo, "min") if np.isfinite(lo) else None, b.const(hi, "max") if np.isfinite(hi) else None]
    while bounds and bounds[-1] is None:
        bounds.pop()
    return [b.node("Clip", [n.inputs[0]] + bounds, n.hint)]


@converts("constant")
def constant(b, n):
    return [b.const(float(n.attrs["value"]), n.hint)]


# Binary ops: NumPy broadcasting is ONNX's multidirectional broadcasting.
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max",
           "minimum": "Min", "bias_add": "Add"}
_COMPARE = {"equal": "Equal", "greater": "Greater", "greater_equal": "GreaterOrEqual", "less": "Less",
            "less_equal": "LessOrEqual"}


@converts(*_BINARY)
def binary(b, n):
    return [b.node(_BINARY[n.op], n.inputs, n.hint)]


@converts(*_COMPARE, "not_equal")
def compare(b, n):  # 1.0 where true, 0.0 elsewhere (f32), as kiln's comparisons
    if n.op == "not_equal":
        yes = b.node("Not", [b.node("Equal", n.inputs, n.hint + "/eq")], n.hint + "/ne")
    else:
        yes = b.node(_COMPARE[n.op], n.inputs, n.hint + "/bool")
    return [b.to_float(yes, n.hint)]


@converts("pow_log")
def pow_log(b, n):  # log(x) where x > 0, else 0
    x = n.inputs[0]
    pos = b.node("Greater", [x, b.const(0.0, "zero")], n.hint + "/pos")
    safe = b.node("Where", [pos, x, b.const(1.0, "one")], n.hint + "/safe")
    return [b.node("Where", [pos, b.node("Log", [safe], n.hint + "/log"), b.const(0.0, "zero")], n.hint)]


# Reductions.
_REDUCE = {"reduce_sum": "ReduceSum", "reduce_mean": "ReduceMean", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "reduce_prod": "ReduceProd"}


@converts(*_REDUCE)
def reduce(b, n):
    axes = n.attrs.get("axes")
    return [b.reduce(_REDUCE[n.op], n.inputs[0], axes, n.attrs.get("keepdims", 0), n.hint)]


@converts("reduce_count")
def reduce_count(b, n):  # the number of elements a reduction over `axes` averages over: a scalar
    x = n.operands[0]
    shape = b.node("Shape", [n.inputs[0]], n.hint + "/shape")
    axes = n.attrs.get("axes")
    if axes is not None:
        shape = b.node("Gather", [shape, b.ints([_axis(a, rank(x)) for a in axes])], n.hint + "/dims")
    count = b.reduce("ReduceProd", shape, [0], 0, n.hint + "/count")
    return [b.to_float(count, n.hint)]


@converts("argmax")
def argmax(b, n):
    idx = b.node("ArgMax", n.inputs, n.hint + "/i64", axis=int(n.attrs.get("axis", -1)), keepdims=0)
    return [b.to_float(idx, n.hint)]


# Linear algebra.
@converts("matmul", "dense")
def matmul(b, n):
    a, w = n.inputs[0], n.inputs[1]
    if n.attrs.get("transpose_a"):  # a [P..., M], b [P..., N] -> a^T b summed over all of P
        m, k = n.operands[0].ir_shape[-1], n.operands[1].ir_shape[-1]
        a2 = b.node("Reshape", [a, b.ints([-1, m])], n.hint + "/a2")
        w2 = b.node("Reshape", [w, b.ints([-1, k])], n.hint + "/b2")
        return [b.node("MatMul", [b.node("Transpose", [a2], n.hint + "/aT", perm=[1, 0]), w2], n.hint)]
    if n.attrs.get("transpose_b"):
        w = b.node("Transpose", [w], n.hint + "/bT", perm=[1, 0])
    y = b.node("MatMul", [a, w], n.hint + ("/mm" if n.op == "dense" else ""))
    if n.op == "dense":
        if len(n.inputs) > 2:
            y = b.node("Add", [y, n.inputs[2]], n.hint + "/bias")
        y = activation(b, n.attrs.get("activation", "linear"), y, n.hint)
    return [y]


def activation(b, name, x, hint):
    """A fused epilogue (dense, conv2d): dense's list of activations."""
    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}
    if name == "linear":
        return b.node("Identity", [x], hint)
    if name == "softmax":
        return b.node("Softmax", [x], hint, axis=-1)
    return b.node(ops[name], [x], hint)


# Shape ops. The batch dim is never reshaped, cut or joined (docs/ir.md), so `0` (copy the dim)
# keeps it in an ONNX Reshape whatever the batch size.
def _batched(t):
    """Whether t's first dim is the batch (?, ?*k, ?*?t), which a Reshape copies with 0."""
    from .. import _core
    d = t.ir_shape[0] if t.ir_shape else 0
    return d is None or d < 0 and _core.dim_info(d)[0]


@converts("reshape")
def reshape(b, n):
    x = n.operands[0]
    shape = [int(d) for d in n.attrs["shape"]]
    if any(d < -1 for d in shape):
        raise n.error("a reshape to a dynamic length has no static ONNX shape")
    target = [0] + shape if _batched(x) else shape
    return [b.node("Reshape", [n.inputs[0], b.ints(target, n.hint + "_shape")], n.hint)]


@converts("transpose")
def transpose(b, n):
    return [b.node("Transpose", n.inputs, n.hint, perm=[int(p) for p in n.attrs["perm"]])]


@converts("concat")
def concat(b, n):
    return [b.node("Concat", n.inputs, n.hint, axis=int(n.attrs["axis"]))]


@converts("slice")
def slice_(b, n):
    end = n.attrs.get("end")
    return [b.slice(n.inputs[0], int(n.attrs["axis"]), int(n.attrs.get("begin", 0)),
                    INT64_MAX if end is None else int(end), n.hint)]


@converts("reverse")
def reverse(b, n):
    return [b.slice(n.inputs[0], int(n.attrs["axis"]), -1, INT64_MIN, n.hint, step=-1)]


@converts("tile")
def tile(b, n):
    return [b.node("Tile", [n.inputs[0], b.ints([int(r) for r in n.attrs["reps"]])], n.hint)]


@converts("repeat")
def repeat(b, n):
    """np.repeat along one axis: a new axis after it, tiled, and folded back in."""
    x, r = n.operands[0], rank(n.operands[0])
    axis, k = _axis(int(n.attrs["axis"]), r), int(n.attrs["repeats"])
    grown = b.unsqueeze(n.inputs[0], [axis + 1], n.hint + "/u")
    tiled = b.node("Tile", [grown, b.ints([1] * (axis + 1) + [k] + [1] * (r - axis - 1))], n.hint + "/t")
    shape = b.node("Mul", [b.node("Shape", [n.inputs[0]], n.hint + "/s"),
                           b.ints([1] * axis + [k] + [1] * (r - axis - 1))], n.hint + "/shape")
    return [b.node("Reshape", [tiled, shape], n.hint)]


@converts("broadcast_like")
def broadcast_like(b, n):
    x = n.inputs[0]
    axes = n.attrs.get("axes")
    if axes is not None:
        r = rank(n.operands[1])
        x = b.unsqueeze(x, sorted(_axis(int(a), r) for a in axes), n.hint + "/u")
    return [b.node("Expand", [x, b.node("Shape", [n.inputs[1]], n.hint + "/shape")], n.hint)]


@converts("shape_of")
def shape_of(b, n):
    return [b.to_float(b.node("Shape", n.inputs, n.hint + "/i64"), n.hint)]


@converts("merge_batch")
def merge_batch(b, n):  # [?*k, T, ...] -> [?*(k*T), ...]
    rest = b.slice(b.node("Shape", n.inputs, n.hint + "/s"), 0, 2, INT64_MAX, n.hint + "/rest")
    shape = b.node("Concat", [b.ints([-1]), rest], n.hint + "/shape", axis=0)
    return [b.node("Reshape", [n.inputs[0], shape], n.hint)]


@converts("split_batch")
def split_batch(b, n):  # [?*(k*T), ...] -> [?*k, T, ...], T from `size` or like's second dim
    if len(n.inputs) > 1:
        steps = b.slice(b.node("Shape", [n.inputs[1]], n.hint + "/ls"), 0, 1, 2, n.hint + "/steps")
    else:
        steps = b.ints([int(n.attrs["size"])])
    rest = b.slice(b.node("Shape", [n.inputs[0]], n.hint + "/s"), 0, 1, INT64_MAX, n.hint + "/rest")
    shape = b.node("Concat", [b.ints([-1]), steps, rest], n.hint + "/shape", axis=0)
    return [b.node("Reshape", [n.inputs[0], shape], n.hint)]


# Indexed by data: indices are f32 holding integers.
@converts("gather")
def gather(b, n):
    idx = b.cast(n.inputs[1], TensorProto.INT64, n.hint + "/idx")
    return [b.node("Gather", [n.inputs[0], idx], n.hint, axis=0)]


@converts("one_hot")
def one_hot(b, n):
    idx = b.cast(n.inputs[0], TensorProto.INT64, n.hint + "/idx")
    depth = b.ints([int(n.attrs["depth"])], n.hint + "_depth")
    return [b.node("OneHot", [idx, depth, b.const([0.0, 1.0], "off_on")], n.hint, axis=-1)]


# Refused with the reason: what has no meaning in a stateless ONNX model.
_REFUSED = {
    "fix_batch": "a stateful layer keeps its states between calls, which an ONNX model (a pure function of "
                 "its inputs) cannot; export a copy of the model built with stateful=False",
    "free_batch": "a stateful layer keeps its states between calls, which an ONNX model cannot",
    "assign": "the graph writes a variable",
    "dropout_mask": "it draws random numbers in the predict graph",
    "random_normal": "it draws random numbers in the predict graph",
    "random_uniform": "it draws random numbers in the predict graph",
    "random_binomial": "it draws random numbers in the predict graph",
}
