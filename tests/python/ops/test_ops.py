"""Forward tests: every registered op (side-effecting optimizer ops aside, see
test_optimizers.py) against its NumPy reference in tests/reference/ops.py, over awkward shapes
(size-1 dims, sizes just past block and OpenMP edges, broadcasting, non-contiguous inputs) and
hostile values (logits near 1e4, -inf, overflow). Each case checks shape, dtype, then values
with a tolerance scaled by magnitude; the test ID states the case. Static shape inference and
error messages are tested apart from numerics, at the end."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import EPS32, TINY32, Graph, assert_close, attrs_id, ref, run, shape_id  # noqa: E402

from kiln import _core  # noqa: E402
import test_recurrent_ops  # noqa: E402
import test_random_ops  # noqa: E402
import test_scan_op  # noqa: E402

# op name -> NumPy reference. test_registry.py checks this covers every registered op that is
# not side-effecting, and that each has at least one forward case below.
REFERENCES = {
    "abs": ref.abs, "add": ref.add, "argmax": ref.argmax, "bias_add": ref.bias_add,
    "broadcast_like": ref.broadcast_like,
    "categorical_crossentropy": ref.categorical_crossentropy,
    "categorical_crossentropy_grad": ref.categorical_crossentropy_grad,
    "clip": ref.clip, "clip_grad": ref.clip_grad, "constant": ref.constant, "dense": ref.dense,
    "div": ref.div, "dropout_mask": ref.dropout_mask, "elu": ref.elu, "elu_grad": ref.elu_grad,
    "equal": ref.equal, "exp": ref.exp, "sin": ref.sin, "cos": ref.cos, "greater": ref.greater, "greater_equal": ref.greater_equal,
    "hard_sigmoid": ref.hard_sigmoid, "hard_sigmoid_grad": ref.hard_sigmoid_grad,
    "identity": ref.identity, "less": ref.less, "less_equal": ref.less_equal, "log": ref.log,
    "matmul": ref.matmul, "maximum": ref.maximum, "minimum": ref.minimum, "mul": ref.mul,
    "neg": ref.neg, "not_equal": ref.not_equal, "reduce_count": ref.reduce_count,
    "reduce_max": ref.reduce_max, "reduce_mean": ref.reduce_mean, "reduce_min": ref.reduce_min,
    "reduce_sum": ref.reduce_sum, "relu": ref.relu, "relu_grad": ref.relu_grad, "round": ref.round,
    "sigmoid": ref.sigmoid, "sigmoid_grad": ref.sigmoid_grad, "sign": ref.sign,
    "softmax": ref.softmax, "softmax_grad": ref.softmax_grad, "softplus": ref.softplus,
    "softplus_grad": ref.softplus_grad, "softsign": ref.softsign, "softsign_grad": ref.softsign_grad,
    "sparse_categorical_crossentropy": ref.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy_grad": ref.sparse_categorical_crossentropy_grad,
    "sqrt": ref.sqrt, "square": ref.square, "sub": ref.sub, "sum_like": ref.sum_like,
    "tanh": ref.tanh, "tanh_grad": ref.tanh_grad,
    "pow": ref.pow, "pow_log": ref.pow_log, "reduce_prod": ref.reduce_prod,
    "reduce_prod_grad": ref.reduce_prod_grad, "reshape": ref.reshape, "transpose": ref.transpose,
    "concat": ref.concat, "reverse": ref.reverse, "slice": ref.slice, "slice_grad": ref.slice_grad, "gather": ref.gather,
    "gather_grad": ref.gather_grad, "one_hot": ref.one_hot, "tile": ref.tile, "tile_grad": ref.tile_grad,
    "repeat": ref.repeat, "repeat_grad": ref.repeat_grad,
    "merge_batch": ref.merge_batch, "split_batch": ref.split_batch, "shape_of": ref.shape_of,
    "fix_batch": ref.fix_batch, "free_batch": ref.free_batch,
    "conv2d": ref.conv2d, "conv2d_grad_input": ref.conv2d_grad_input, "conv2d_grad_filter": ref.conv2d_grad_filter,
    "pool2d": ref.pool2d, "pool2d_grad": ref.pool2d_grad, "replica_mean": ref.replica_mean,
}
REFERENCES.update(test_recurrent_ops.REFERENCES)
REFERENCES.update(test_scan_op.REFERENCES)
REFERENCES.update(test_random_ops.REFERENCES)
# Ops whose meaning depends on whether operand 0 carries the batch dim `?` (a fact of the IR
# type, not of the array): their reference takes batched=True/False.
REF_BATCHED = {"reshape"}

# Base relative tolerance per op. The expectation is rounded to f32 before comparing, so ops
# that are exact or correctly rounded in f32 (+ - * /, compares, copies) get 0; libm
# transcendentals a few ulps. Ops that accumulate add 8*eps*sqrt(n) (see Case.n_acc).
EXACT = 0.0
ULPS = 4 * EPS32
RTOL = {op: EXACT for op in REFERENCES}
RTOL.update({op: ULPS for op in (
    "exp", "log", "sqrt", "sin", "cos", "sigmoid", "tanh", "elu", "softplus", "softsign", "hard_sigmoid",
    "sigmoid_grad", "tanh_grad", "elu_grad", "softplus_grad", "softsign_grad", "hard_sigmoid_grad",
    "softmax", "softmax_grad", "matmul", "dense", "bias_add", "sum_like", "reduce_sum", "reduce_mean",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "pow", "pow_log", "reduce_prod",
    "reduce_prod_grad", "gather_grad", "tile_grad", "repeat_grad", "conv2d", "conv2d_grad_input",
    "conv2d_grad_filter", "pool2d", "pool2d_grad")})
RTOL.update({"categorical_crossentropy_grad": 16 * EPS32, "sparse_categorical_crossentropy_grad": 16 * EPS32,
             "dense": 8 * EPS32})


def _mag_dense(x, W, b=None, activation="linear"):
    z = np.abs(x) @ np.abs(W) + (0 if b is None else np.abs(b))  # bound on the error of x@W+b
    if activation == "softmax":  # d softmax scales an input error by at most 2*y; +1 for values near 1
        return 2 * ref.dense(x, W, b, activation) * np.max(z, axis=-1, keepdims=True) + 1
    return z + np.abs(ref.dense(x, W, b, activation))


def _mag_conv2d(x, W, b=None, activation="linear", **geometry):
    z = ref.conv2d(np.abs(x), np.abs(W), None if b is None else np.abs(b), **geometry)  # the error bound of x*W+b
    y = ref.conv2d(x, W, b, activation=activation, **geometry)
    if activation == "softmax":
        return 2 * y * np.max(z, axis=-1, keepdims=True) + 1
    return z + np.abs(y)


def _mag_cce_grad(dy, t, o, epsilon=1e-7):
    S = o.sum(-1, keepdims=True)
    q = o / S
    dq = np.abs(t / q)
    return np.abs(dy)[..., None] * (dq + np.sum(dq * q, -1, keepdims=True)) / S


# Magnitudes the rounding error scales with where the result can cancel (default |expected|).
MAG = {
    "reduce_sum": lambda x, axes=None, keepdims=0: ref.reduce_sum(np.abs(x), axes, keepdims),
    "reduce_mean": lambda x, axes=None, keepdims=0: ref.reduce_mean(np.abs(x), axes, keepdims),
    "sum_like": lambda x, r: ref.sum_like(np.abs(x), r),
    "matmul": lambda a, b, **k: ref.matmul(np.abs(a), np.abs(b), **k),
    "bias_add": lambda x, b: np.abs(x) + np.abs(b),
    "add": lambda a, b: np.abs(a) + np.abs(b),
    "sub": lambda a, b: np.abs(a) + np.abs(b),
    "dense": _mag_dense,
    "hard_sigmoid": lambda x: 0.2 * np.abs(x) + 0.5,
    "tanh_grad": lambda dy, y: np.abs(dy) * (1 + y * y),
    "sigmoid_grad": lambda dy, y: np.abs(dy) * np.abs(y) * (1 + np.abs(y)),
    "elu_grad": lambda dy, y, alpha=1.0: np.abs(dy) * (np.abs(y) + alpha),
    "softmax_grad": lambda dy, y, axis=-1: np.abs(y) * (np.abs(dy) + np.sum(np.abs(dy * y), axis=axis, keepdims=True)),
    "categorical_crossentropy_grad": _mag_cce_grad,
    "gather_grad": lambda dy, indices, params: ref.gather_grad(np.abs(dy), indices, params),
    "tile_grad": lambda dy, x, reps: ref.tile_grad(np.abs(dy), x, reps),
    "repeat_grad": lambda dy, x, axis, repeats: ref.repeat_grad(np.abs(dy), x, axis, repeats),
    "sparse_categorical_crossentropy_grad":
        lambda dy, t, o, epsilon=1e-7: _mag_cce_grad(dy, ref._one_hot(t, o), o, epsilon),
    "conv2d": _mag_conv2d,
    "conv2d_grad_input": lambda dy, W, x, **k: ref.conv2d_grad_input(np.abs(dy), np.abs(W), x, **k),
    "conv2d_grad_filter": lambda dy, x, W, **k: ref.conv2d_grad_filter(np.abs(dy), np.abs(x), W, **k),
    "pool2d": lambda x, mode, **k: np.abs(ref.pool2d(x, mode, **k)) if mode == "max" else ref.pool2d(np.abs(x), mode, **k),
    "pool2d_grad": lambda dy, x, y, **k: ref.pool2d_grad(np.abs(dy), x, y, **k),
}


class Case:
    """One forward case: operands (f32 arrays, possibly non-contiguous), attributes, which
    operands carry the batch dim `?` (declared first, so the first of them sets the batch),
    and n_acc, the length of the sums behind each result element."""

    def __init__(self, op, operands, attrs=None, batched=None, tag="", n_acc=0, rtol=None, atol=0.0):
        self.op = op
        self.operands = [o if isinstance(o, np.ndarray) and o.dtype == np.float32 else np.asarray(o, np.float32)
                         for o in operands]
        self.attrs = dict(attrs or {})
        if batched is None:
            batched = (0,) if self.operands and self.operands[0].ndim >= 1 else ()
        self.batched = tuple(batched)
        self.n_acc = n_acc
        self.rtol = rtol
        self.atol = atol
        parts = ["f32", shape_id(self.operands)]
        if self.attrs:
            parts.append(attrs_id(self.attrs))
        if tag:
            parts.append(tag)
        self.id = "%s[%s]" % (op, "-".join(parts))

    def param(self, marks=()):
        return pytest.param(self, id=self.id, marks=marks)


def build(case):
    """IR for `y = op(operands...)`, the feeds in declaration order, and the batch size."""
    n = len(case.operands)
    order = list(case.batched) + [i for i in range(n) if i not in case.batched]
    g = Graph()
    for i in order:
        dims = list(case.operands[i].shape)
        if i in case.batched:
            dims[0] = None
        g.input("x%d" % i, dims)
    y = g.op(case.op, *["x%d" % i for i in range(n)], attrs=case.attrs)
    feeds = [case.operands[i] for i in order]
    batch = (feeds[0].shape[0] if feeds[0].ndim else 1) if feeds else 1
    return g, y, feeds, batch


# ---------------------------------------------------------------- case data

_rng = np.random.default_rng(20240607)


def U(*shape, lo=-3.0, hi=3.0):
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def I(*shape, lo=-2, hi=3):  # small integers: ties for compares, max/min
    return _rng.integers(lo, hi, size=shape).astype(np.float32)


def with_values(a, values):
    """a (flattened, C order) with its first elements replaced by hostile values."""
    a = np.array(a, dtype=np.float32)
    flat = a.reshape(-1)
    flat[:len(values)] = values
    return a


INF = np.inf
UNARY_SHAPES = [(4, 3), (1, 1), (2049,), (2, 16385)]  # 2*16385 > kParallelMin: the OpenMP loop
HOSTILE_UNARY = {
    "identity": [INF, -INF, -0.0, TINY32],
    "neg": [INF, -INF, 0.0, TINY32],
    "abs": [-0.0, -INF, INF, -1e30],
    "sign": [0.0, -0.0, INF, -INF, TINY32, -TINY32],
    "square": [1e20, -1e20, 1e-30, -INF],
    "exp": [-100.0, -88.0, 0.0, 88.0, 89.0, 100.0, -INF, INF],
    "log": [0.0, TINY32, 1.0, 1e30, INF, -1.0],
    "sqrt": [0.0, -1.0, INF, TINY32, 1e30],
    "sin": [0.0, -0.0, 3.14159265, 1e4, -1e4, INF, -INF],
    "cos": [0.0, 1.57079633, 1e4, -1e4, INF, -INF],
    "relu": [-0.0, 0.0, -INF, INF, TINY32, -TINY32],
    "sigmoid": [1e4, -1e4, 100.0, -100.0, INF, -INF, 0.0],
    "tanh": [1e4, -1e4, 20.0, -20.0, INF, -INF, 1e-30],
    "elu": [-1e4, -INF, 0.0, INF, -1e-30, 30.0],
    "softplus": [1e4, -1e4, 100.0, -100.0, INF, -INF, 0.0, 20.0],
    "softsign": [1e30, -1e30, 0.0, -0.0],
    "hard_sigmoid": [-2.5, 2.5, -1e4, 1e4, INF, -INF, 0.0],
    "round": [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 1e10, INF, -INF],
}
# Hostile values stay normal floats: kiln runs kernels with denormals flushed to zero (FTZ/DAZ,
# csrc/runtime/program.cpp), so a denormal operand reads as 0 there but not in NumPy. Results
# that fall in the denormal range may come back as 0 (atol = 4 * float32 tiny allows it).
POSITIVE = {"log": (1e-3, 1e3), "sqrt": (0.0, 1e4)}


def unary_cases():
    out = []
    for op, hostile in HOSTILE_UNARY.items():
        lo, hi = POSITIVE.get(op, (-6.0, 6.0))
        for s in UNARY_SHAPES:
            out.append(Case(op, [U(*s, lo=lo, hi=hi)]))
        out.append(Case(op, [with_values(U(3, 5, lo=lo, hi=hi), hostile)], tag="hostile"))
        out.append(Case(op, [U(5, 3, lo=lo, hi=hi).T], tag="noncontig"))
        out.append(Case(op, [np.float32(1.25 if op != "round" else 2.5)], tag="scalar"))
    out.append(Case("elu", [U(4, 3)], {"alpha": 0.5}))
    out.append(Case("elu", [with_values(U(2, 4), [-INF, -1e4, 0.0])], {"alpha": 2.0}, tag="hostile"))
    x = with_values(U(4, 6), [-0.5, 1.0, -INF, INF, 0.999, -0.5000001])
    out += [Case("clip", [x], {"min": -0.5, "max": 1.0}),
            Case("clip", [x], {"min": -0.5}),
            Case("clip", [x], {"max": 0.25}),
            Case("clip", [U(2, 16385)], {"min": -1.0, "max": 1.0})]
    return out


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum",
          "equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]
COMPARE = set(BINARY[6:])


def binary_cases():
    out = []
    for op in BINARY:
        gen = I if op in COMPARE or op in ("maximum", "minimum") else U
        cfgs = [
            ([gen(4, 3), gen(4, 3)], (0, 1), ""),
            ([gen(4, 3), gen(3)], (0,), ""),
            ([gen(4, 1), gen(1, 5)], (0,), ""),
            ([gen(4, 3), np.float32(gen(1)[0] or 1.0)], (0,), ""),
            ([np.float32(gen(1)[0] or 1.0), gen(4, 3)], (1,), ""),
            ([gen(2, 1, 3), gen(4, 1)], (0,), ""),
            ([gen(3, 2049), gen(2049)], (0,), ""),
            ([gen(1, 1), gen(1)], (0,), ""),
            ([gen(2, 16385), gen(2, 16385)], (0, 1), ""),
            ([gen(5, 4).T, gen(4, 5)], (), "noncontig"),
        ]
        for operands, batched, tag in cfgs:
            out.append(Case(op, operands, batched=batched, tag=tag))
        a = with_values(U(2, 6), [INF, -INF, INF, 0.0, 1.0, -0.0, 3.0, 1e30, -1e30])
        b = with_values(U(2, 6), [INF, INF, -INF, 0.0, 0.0, 0.0, 3.0, 1e30, 1e-30])
        out.append(Case(op, [a, b], batched=(0, 1), tag="hostile"))
    return out


def pow_cases():
    out = []
    pos = lambda *s: U(*s, lo=0.1, hi=3.0)  # noqa: E731
    for a, b, batched, tag in [
            (pos(4, 3), U(4, 3), (0, 1), ""), (pos(4, 3), U(3), (0,), ""), (pos(4, 1), U(1, 5), (0,), ""),
            (pos(4, 3), np.float32(2.0), (0,), "square"), (np.float32(2.0), U(4, 3), (1,), ""),
            (pos(2, 1, 3), U(4, 1), (0,), ""), (pos(3, 2049), U(2049), (0,), ""),
            (pos(2, 16385), U(2, 16385), (0, 1), ""), (pos(5, 4).T, U(4, 5), (), "noncontig"),
            (U(4, 3), I(4, 3, lo=-3, hi=4), (0, 1), "negative-base-integer-exponent"),
            (U(4, 3) * 10, U(4, 3) * 10, (0, 1), "overflow-underflow-nan")]:
        out.append(Case("pow", [a, b], batched=batched, tag=tag))
    # 0^0 = 1, 0^-1 = inf, 0^0.5 = 0, (-2)^3 = -8, (-2)^0.5 = nan, inf^-1 = 0, (-inf)^3 = -inf, 1^inf = 1
    a = with_values(U(2, 6), [0.0, 0.0, 0.0, -2.0, -2.0, INF, -INF, 1.0, -0.0, 1e30])
    b = with_values(U(2, 6), [0.0, -1.0, 0.5, 3.0, 0.5, -1.0, 3.0, INF, -1.0, 2.0])
    out.append(Case("pow", [a, b], batched=(0, 1), tag="hostile"))
    for s in [(4, 3), (2, 16385)]:
        out.append(Case("pow_log", [U(*s)]))
    out.append(Case("pow_log", [with_values(U(3, 4), [0.0, -0.0, -1.0, TINY32, INF, -INF, 1.0, 1e30])], tag="hostile"))
    return out


def const_cases():
    return [Case("constant", [], {"value": v}) for v in (2.5, -0.001, 3, 1e30, 0.1)]


def broadcast_pair_cases():
    out = []
    for xs, rs in [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((4, 3), ()), ((4, 3), (4, 3)),
                   ((2, 3, 4), (3, 1)), ((2, 3, 4), (2, 1, 4)), ((2, 3, 4), (1, 4)), ((3, 2049), (2049,)),
                   ((1, 1), (1,))]:
        x = U(*xs)
        both = len(rs) == len(xs) and rs[0] == xs[0]  # ref also carries the batch dim
        out.append(Case("sum_like", [x, U(*rs)], batched=(0, 1) if both else (0,),
                        n_acc=x.size // max(1, int(np.prod(rs)))))
    # (x, ref, attrs, whether x's leading dim is the batch too; ref always carries it)
    for xs, rs, attrs, xb in [((3,), (4, 3), {}, 0), ((), (4, 3), {}, 0), ((4, 1), (4, 3), {}, 1),
                              ((1, 3), (4, 3), {}, 0), ((2, 1, 4), (2, 3, 4), {}, 1),
                              ((4,), (4, 3), {"axes": [1]}, 1), ((3,), (4, 3), {"axes": [0]}, 0),
                              ((2,), (2, 3, 4), {"axes": [1, 2]}, 1), ((2, 3), (2, 3, 4), {"axes": [-1]}, 1),
                              ((3,), (2, 3, 4), {"axes": [2, 0]}, 0), ((), (4, 3), {"axes": [0, 1]}, 0),
                              ((4, 3), (4, 3), {}, 1)]:
        out.append(Case("broadcast_like", [U(*xs), U(*rs)], attrs, batched=(1, 0) if xb else (1,)))
    return out


def reduce_cases():
    out = []
    cfgs = [((4, 2049), {"axes": [1]}), ((4, 2049), {"axes": [0]}), ((3, 5, 7), {"axes": [0, 2]}),
            ((3, 5, 7), {"axes": [1], "keepdims": 1}), ((6, 4), {}), ((6, 4), {"keepdims": 1}),
            ((5, 1), {"axes": [1]}), ((2, 3, 4), {"axes": [-1]}), ((1, 1, 1), {}),
            ((2, 16385), {"axes": [1]}), ((3, 5, 7), {"axes": [2, 0], "keepdims": 1})]
    for op in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min"):
        sums = op in ("reduce_sum", "reduce_mean")  # max and min are exact: no accumulation slack
        for shape, attrs in cfgs:
            x = U(*shape)
            n = int(np.prod([shape[a] for a in attrs.get("axes", range(len(shape)))]))
            out.append(Case(op, [x], attrs, n_acc=n if sums else 0))
        for shape, attrs in [((4, 2049), {"axes": [1]}), ((2, 16385), {}), ((3, 5, 7), {"axes": [0, 2]})]:
            n = int(np.prod([shape[a] for a in attrs.get("axes", range(len(shape)))]))
            out.append(Case(op, [U(*shape, lo=0.5, hi=3.0)], attrs, n_acc=n if sums else 0, tag="positive"))
        x = with_values(U(3, 6), [-INF, -INF, -INF, -INF, -INF, -INF, 1e30, INF, -1e30])
        out.append(Case(op, [x], {"axes": [1]}, n_acc=6 if sums else 0, tag="hostile"))
        out.append(Case(op, [U(5, 4).T], {"axes": [0]}, tag="noncontig", n_acc=4 if sums else 0))
    for shape, attrs in [((4, 3), {}), ((4, 3), {"axes": [0], "keepdims": 1}), ((2, 3, 4), {"axes": [0, 2]}),
                         ((7, 1), {"axes": [-1]})]:
        out.append(Case("reduce_count", [U(*shape)], attrs))
    out += [Case("argmax", [U(4, 5)]),
            Case("argmax", [np.array([[1, 3, 3, 2], [0, 0, 0, 0], [5, 1, 5, 5]], np.float32)], tag="ties"),
            Case("argmax", [I(3, 4, 5)], {"axis": 1}, tag="ties"),
            Case("argmax", [U(6, 3)], {"axis": 0}),
            Case("argmax", [U(4, 1)], {"axis": -1}),
            Case("argmax", [with_values(U(2, 4), [-INF] * 4 + [1.0, INF, INF, -1.0])], tag="inf"),
            Case("argmax", [U(3, 2049)])]
    return out


def reduce_prod_cases():
    out = []

    def near1(*shape):  # magnitudes near 1 (closer for long products, which must not overflow), both signs
        w = 0.3 if np.prod(shape) < 100 else 0.03
        return U(*shape, lo=1 - w, hi=1 + w) * np.where(U(*shape) > 0, 1, -1).astype(np.float32)

    cfgs = [((4, 5), {"axes": [1]}), ((4, 5), {"axes": [0]}), ((3, 5, 7), {"axes": [0, 2]}),
            ((3, 5, 7), {"axes": [1], "keepdims": 1}), ((6, 4), {}), ((6, 4), {"keepdims": 1}),
            ((5, 1), {"axes": [1]}), ((2, 3, 4), {"axes": [-1]}), ((1, 1, 1), {}), ((2, 4097), {"axes": [1]}),
            ((3, 5, 7), {"axes": [2, 0], "keepdims": 1}), ((4, 0), {"axes": [1]})]
    for shape, attrs in cfgs:
        n = int(np.prod([shape[a] for a in attrs.get("axes", range(len(shape)))]))
        out.append(Case("reduce_prod", [near1(*shape)], attrs, n_acc=n))
        dy_shape = ref.reduce_prod(np.zeros(shape), **attrs).shape
        batch_reduced = 0 in [a % len(shape) for a in attrs.get("axes", range(len(shape)))]
        out.append(Case("reduce_prod_grad", [U(*dy_shape), near1(*shape)], attrs,
                        batched=(1,) if batch_reduced else (0, 1), n_acc=n))
    zeros = with_values(near1(4, 5), [0.0, 1.5, -2.0, 0.5, 1.0, 0.0, 0.0, 3.0, 2.0, -1.0, INF, 2.0])
    out += [Case("reduce_prod", [zeros], {"axes": [1]}, n_acc=5, tag="zeros-inf"),
            Case("reduce_prod", [U(5, 4).T], {"axes": [0]}, n_acc=5, tag="noncontig"),
            Case("reduce_prod_grad", [U(4), zeros], {"axes": [1]}, batched=(0, 1), n_acc=5, tag="zeros-inf"),
            Case("reduce_prod_grad", [U(4, 1), zeros], {"axes": [1], "keepdims": 1}, batched=(0, 1), n_acc=5,
                 tag="zeros-inf")]
    return out


def softmax_cases():
    big = np.array([[1e4, 1e4 - 1, -1e4, 0.0], [-1e4, -1e4 + 2, -1e4, -1e4 + 1],
                    [-INF, -INF, -INF, -INF], [-INF, 0.0, 1.0, -INF]], np.float32)
    out = [Case("softmax", [U(4, 1025)], {"axis": -1}, n_acc=1025),
           Case("softmax", [U(2, 2049)], {"axis": -1}, n_acc=2049),
           Case("softmax", [U(3, 8193)], {"axis": -1}, n_acc=8193),
           Case("softmax", [U(4, 1)], {"axis": -1}),
           Case("softmax", [big], {"axis": -1}, n_acc=4, tag="logits1e4-neginf"),
           Case("softmax", [big.T.copy()], {"axis": 0}, n_acc=4, tag="logits1e4-neginf"),
           Case("softmax", [U(5, 3)], {"axis": 0}, n_acc=5),
           Case("softmax", [U(2, 3, 4)], {"axis": 1}, n_acc=3),
           Case("softmax", [U(2, 3, 4)], {"axis": -1}, n_acc=4),
           Case("softmax", [U(3, 5).T], {"axis": -1}, n_acc=3, tag="noncontig"),
           Case("softmax", [U(8, 1024) * 30], {"axis": -1}, n_acc=1024, tag="wide-logits")]
    for shape, axis in [((4, 7), -1), ((5, 3), 0), ((2, 3, 4), 1)]:
        y = ref.softmax(U(*shape).astype(np.float64), axis=axis)
        out.append(Case("softmax_grad", [U(*shape), y], {"axis": axis}, batched=(0, 1), n_acc=shape[axis]))
    return out


def linalg_cases():
    out = []
    shapes = [((5, 3), (3, 4), {}), ((4, 1), (1, 6), {}), ((4, 6), (6, 1), {}), ((33, 65), (65, 17), {}),
              ((1, 1), (1, 1), {}), ((2, 3, 4), (4, 5), {}),
              ((130, 64), (64, 70), {}),            # M*N*K >= 2^19: split by rows over threads
              ((17, 64), (64, 600), {}),            # split by columns
              ((5, 3), (4, 3), {"transpose_b": 1}), ((2, 3, 4), (5, 4), {"transpose_b": 1}),
              ((17, 64), (600, 64), {"transpose_b": 1}),  # column split with B transposed
              ((6, 3), (6, 4), {"transpose_a": 1}), ((2, 3, 4), (2, 3, 5), {"transpose_a": 1}),
              ((64, 130), (64, 70), {"transpose_a": 1}),  # row split with A transposed
              ((64, 17), (64, 600), {"transpose_a": 1}),  # column split with A transposed
              ((40, 101), (40, 32), {"transpose_a": 1}),  # a weight's gradient: small_gemm, runs of x's columns
              ((3, 20, 50), (3, 20, 48), {"transpose_a": 1}),  # the same over a 3D x
              ((130, 64), (70, 64), {"transpose_b": 1}),  # row split with B transposed
              ((1, 3), (1, 2), {"transpose_a": 1})]
    for a, b, attrs in shapes:
        K = a[-1] if not attrs.get("transpose_a") else int(np.prod(a[:-1]))
        batched = (0,) if not attrs.get("transpose_a") else (0, 1)
        out.append(Case("matmul", [U(*a), U(*b)], attrs, batched=batched, n_acc=K))
    out.append(Case("matmul", [U(3, 5).T, U(4, 3).T], {}, batched=(), n_acc=3, tag="noncontig"))
    out += [Case("bias_add", [U(4, 3), U(3)]), Case("bias_add", [U(2, 3, 5), U(5)]),
            Case("bias_add", [U(1, 1), U(1)]), Case("bias_add", [U(3, 2049), U(2049)])]
    for act in ("linear", "relu", "sigmoid", "tanh", "softmax"):
        out.append(Case("dense", [U(4, 3), U(3, 5), U(5)], {"activation": act}, n_acc=4))
    out += [Case("dense", [U(4, 3), U(3, 5)], {"activation": "linear"}, n_acc=3, tag="nobias"),
            Case("dense", [U(4, 3), U(3, 5)], {}, n_acc=3, tag="nobias-default"),
            Case("dense", [U(2, 3, 4), U(4, 5), U(5)], {"activation": "tanh"}, n_acc=5),
            Case("dense", [U(130, 64), U(64, 70), U(70)], {"activation": "relu"}, n_acc=65),
            Case("dense", [U(6, 8) * 100, U(8, 4) * 100, U(4)], {"activation": "softmax"}, n_acc=9,
                 tag="large-logits"),
            # 512 rows or more: blocks of 256 rows, each GEMM then epilogue; the register-blocked
            # GEMM where N is a multiple of 16 (and a partial last block), BLAS per block where not
            Case("dense", [U(700, 40), U(40, 32), U(32)], {"activation": "relu"}, n_acc=41, tag="row-blocks"),
            Case("dense", [U(2, 300, 24), U(24, 48), U(48)], {"activation": "sigmoid"}, n_acc=25, tag="row-blocks-3d"),
            Case("dense", [U(600, 20), U(20, 10), U(10)], {"activation": "softmax"}, n_acc=21, tag="row-blocks-blas"),
            Case("dense", [U(520, 300), U(300, 64)], {"activation": "tanh"}, n_acc=300, tag="row-blocks-nobias"),
            # w too big for L2 and N <= 256: the register-blocked GEMM over blocks of w's rows,
            # one run of rows per thread under 512 rows (a leftover not a multiple of 6), per
            # block of 256 above; N = 512 with a big w stays with BLAS
            Case("dense", [U(41, 1100), U(1100, 64), U(64)], {"activation": "relu"}, n_acc=1101, tag="deep"),
            Case("dense", [U(2, 50, 300), U(300, 256), U(256)], {"activation": "sigmoid"}, n_acc=301,
                 tag="deep-3d"),
            Case("dense", [U(530, 2100), U(2100, 32), U(32)], {"activation": "softmax"}, n_acc=2101,
                 tag="deep-row-blocks"),
            Case("dense", [U(20, 200), U(200, 512)], {"activation": "linear"}, n_acc=200, tag="deep-blas")]
    return out


def _onehot(idx, C):
    return np.eye(C, dtype=np.float32)[idx]


def loss_cases():
    out = []
    C = 5
    idx = _rng.integers(0, C, size=4)
    t1, o = _onehot(idx, C), U(4, C, lo=0.05, hi=2.0)  # unnormalized: the op renormalizes
    soft = _rng.dirichlet(np.ones(C), size=4).astype(np.float32)
    oz = with_values(U(4, C, lo=0.05, hi=2.0), [0.0, 1.0, 0.0, 0.0, 0.0, 1e-9])  # clipped to eps
    idx3 = _rng.integers(0, 4, size=(2, 3))
    o3 = U(2, 3, 4, lo=0.05, hi=1.0)
    long_idx = _rng.integers(0, 2049, size=3)
    o_long = U(3, 2049, lo=0.05, hi=1.0)
    for name, tg, out_, attrs, tag in [("onehot", t1, o, {}, ""), ("soft", soft, o, {}, ""),
                                       ("clip", _onehot(np.array([0, 1, 2, 3]), C), oz, {}, "clipped"),
                                       ("eps", soft, oz, {"epsilon": 1e-3}, "clipped"),
                                       ("rank3", _onehot(idx3, 4), o3, {}, ""),
                                       ("long", _onehot(long_idx, 2049), o_long, {}, "")]:
        tag = name + ("-" + tag if tag else "")
        out.append(Case("categorical_crossentropy", [tg, out_], attrs, batched=(0, 1), n_acc=tg.shape[-1], tag=tag))
        dy = U(*tg.shape[:-1])
        out.append(Case("categorical_crossentropy_grad", [dy, tg, out_], attrs, batched=(0, 1, 2),
                        n_acc=tg.shape[-1], tag=tag))
    for tg, out_, attrs, tag in [(idx.astype(np.float32), o, {}, "target-flat"),
                                 (idx.astype(np.float32)[:, None], o, {}, "target-col"),
                                 (np.array([0, 1, 2, 3], np.float32), oz, {}, "clipped"),
                                 (np.array([0, 1, 2, 3], np.float32), oz, {"epsilon": 1e-3}, "clipped"),
                                 (idx3.astype(np.float32), o3, {}, "rank3"),
                                 (long_idx.astype(np.float32), o_long, {}, "long")]:
        out.append(Case("sparse_categorical_crossentropy", [tg, out_], attrs, batched=(0, 1),
                        n_acc=out_.shape[-1], tag=tag))
        dy = U(*out_.shape[:-1])
        out.append(Case("sparse_categorical_crossentropy_grad", [dy, tg, out_], attrs, batched=(0, 1, 2),
                        n_acc=out_.shape[-1], tag=tag))
    return out


def grad_helper_cases():
    out = []
    for s in [(4, 3), (2, 16385)]:
        dy = U(*s)
        out += [Case("relu_grad", [dy, with_values(U(*s, lo=-1, hi=1).clip(0), [0.0, -0.0, TINY32])], batched=(0, 1)),
                Case("sigmoid_grad", [dy, U(*s, lo=0, hi=1)], batched=(0, 1)),
                Case("tanh_grad", [dy, with_values(U(*s, lo=-1, hi=1), [1.0, -1.0, 0.99999994])], batched=(0, 1)),
                Case("elu_grad", [dy, with_values(U(*s, lo=-0.999, hi=3), [0.0, -1.0])], batched=(0, 1)),
                Case("softplus_grad", [dy, with_values(U(*s, lo=-6, hi=6), [1e4, -1e4, INF, -INF])], batched=(0, 1)),
                Case("softsign_grad", [dy, with_values(U(*s, lo=-6, hi=6), [1e4, -1e4, 0.0])], batched=(0, 1)),
                Case("hard_sigmoid_grad", [dy, with_values(U(*s), [-2.5, 2.5, -2.4999998, 2.4999998])],
                     batched=(0, 1)),
                Case("clip_grad", [dy, with_values(U(*s), [-0.5, 1.0, -0.5000001, 1.0000001])],
                     {"min": -0.5, "max": 1.0}, batched=(0, 1))]
    out += [Case("elu_grad", [U(3, 4), U(3, 4, lo=-0.499, hi=2)], {"alpha": 0.5}, batched=(0, 1)),
            Case("clip_grad", [U(3, 4), U(3, 4)], {"min": 0.0}, batched=(0, 1)),
            Case("clip_grad", [U(3, 4), U(3, 4)], {"max": 0.0}, batched=(0, 1))]
    return out


def shape_cases():
    out = [Case("replica_mean", [U(4, 3)], batched=(), tag="alone"),
           Case("replica_mean", [U(1, 16)], batched=(), tag="bn-statistics"),
           Case("reverse", [U(3, 5, 4)], {"axis": 1}), Case("reverse", [U(2, 3, 7)], {"axis": -1}),
           Case("reverse", [U(2, 1, 3)], {"axis": 1}, tag="size-1"), Case("reverse", [U(4, 3)], {"axis": 0},
                                                                        batched=(), tag="whole")]
    # reshape: a batched operand's shape lists one sample's dims; an unbatched one's the whole shape
    for shape, attrs, batched in [((4, 6), [2, 3], (0,)), ((4, 6), [3, -1], (0,)), ((4, 2, 3), [-1], (0,)),
                                  ((4, 6), [3, 8], ()), ((4, 6), [-1], ()), ((4, 6), [2, -1, 4], ()),
                                  ((1, 1), [], (0,)), ((3,), [1], (0,)), ((3, 2049), [2049, 1, 1], (0,)),
                                  ((4, 0), [0, 5], (0,)), ((2, 16385), [5, 3277, -1], (0,))]:
        out.append(Case("reshape", [U(*shape)], {"shape": attrs}, batched=batched,
                        tag="batched" if batched else "whole"))
    out.append(Case("reshape", [U(6, 4).T], {"shape": [2, 3]}, tag="batched-noncontig"))
    for shape, perm in [((4, 3), [1, 0]), ((2, 3, 4), [0, 2, 1]), ((2, 3, 4), [2, 0, 1]), ((2, 3, 4), [1, 2, 0]),
                        ((2, 3, 4, 5), [3, 1, 0, 2]), ((2, 3, 4), [0, 1, 2]), ((1, 1, 3), [2, 1, 0]), ((5,), [0]),
                        ((2, 65, 129), [0, 2, 1]), ((3, 1, 4, 1), [1, 3, 0, 2]), ((4, 0, 3), [2, 1, 0]),
                        # tiled: NCHW <-> NHWC across 16 x 16 block edges, and past the threads' threshold
                        ((2, 17, 9, 35), [0, 2, 3, 1]), ((2, 9, 35, 17), [0, 3, 1, 2]),
                        ((3, 70, 40, 20), [0, 2, 3, 1]), ((5, 6, 7, 8, 9), [0, 2, 4, 1, 3]),
                        ((33, 20, 3), [1, 0, 2]), ((4, 18, 3, 20), [3, 1, 0, 2])]:
        out.append(Case("transpose", [U(*shape)], {"perm": perm}))
    out.append(Case("transpose", [U(5, 3).T], {"perm": [1, 0]}, tag="noncontig"))
    # merge_batch/split_batch: the harness feeds a plain `?` batch, so split_batch runs at size 1
    # here; tests/python/graph/test_time_distributed.py and ops/test_conv_pool.py cover folded batches.
    for shape in [(3, 4, 5), (2, 1, 3), (4, 2049)]:
        out.append(Case("merge_batch", [U(*shape)]))
    for shape in [(3, 4), (5, 2, 3)]:
        out.append(Case("split_batch", [U(*shape)], {"size": 1}))
        out.append(Case("split_batch", [U(*shape), U(shape[0], 1, 2)], batched=(0, 1), tag="like"))
        out.append(Case("fix_batch", [U(*shape)], {"size": shape[0]}))
    # free_batch: no operand has the batch dim, so the harness runs at batch 1
    for shape in [(1, 4), (1, 2, 3)]:
        out.append(Case("free_batch", [U(*shape)], batched=()))
    for shape in [(3, 4), (5, 2, 3), (1,)]:
        out.append(Case("shape_of", [U(*shape)]))
    for shapes, axis in [([(4, 3), (4, 2)], -1), ([(4, 3), (4, 3), (4, 1)], 1), ([(2, 3, 4), (2, 1, 4)], 1),
                         ([(2, 3, 4), (2, 3, 1), (2, 3, 2)], 2), ([(4, 3)], 1), ([(4, 0), (4, 3)], 1),
                         ([(2, 2049), (2, 16385)], 1), ([(3, 2, 5)] * 5, -2)]:
        out.append(Case("concat", [U(*sh) for sh in shapes], {"axis": axis}, batched=tuple(range(len(shapes)))))
    out += [Case("concat", [U(3, 4), U(2, 4), U(1, 4)], {"axis": 0}, batched=(), tag="whole"),
            Case("concat", [U(4, 3), U(4, 3)], {}, batched=(0, 1), tag="default-axis"),
            Case("concat", [U(3, 4).T, U(4, 2)], {"axis": 1}, batched=(0, 1), tag="noncontig"),
            # past the threads' threshold: runs split over (outer index, operand)
            Case("concat", [U(3, 20, 30, 40), U(3, 7, 30, 40), U(3, 1, 30, 40)], {"axis": 1}, batched=(0, 1, 2),
                 tag="parallel"),
            Case("concat", [U(300, 50, 3), U(300, 50, 9)], {"axis": -1}, batched=(0, 1), tag="parallel-last")]
    for shape, attrs in [((4, 5), {"axis": 1, "begin": 1, "end": 3}), ((4, 5), {"axis": -1, "begin": -2}),
                         ((4, 5), {"axis": 1, "end": -1}), ((4, 5), {"axis": 1, "begin": 2, "end": 2}),
                         ((4, 5), {"axis": 1}), ((2, 3, 4), {"axis": 1, "begin": 1, "end": 2}),
                         ((2, 3, 4), {"axis": 2, "begin": -3, "end": -1}), ((4, 1), {"axis": 1, "begin": 0, "end": 1}),
                         ((2, 16385), {"axis": 1, "begin": 5, "end": 16000}),
                         ((2, 5, 3), {"axis": -2, "begin": -5, "end": 5})]:
        out.append(Case("slice", [U(*shape)], attrs))
        dy_shape = ref.slice(np.zeros(shape), **attrs).shape
        out.append(Case("slice_grad", [U(*dy_shape), U(*shape)], attrs, batched=(0, 1)))
    out += [Case("slice", [U(4, 5)], {"axis": 0, "begin": 1, "end": 3}, batched=(), tag="whole"),
            Case("slice", [U(5, 4).T], {"axis": 1, "begin": 1, "end": 4}, tag="noncontig"),
            Case("slice_grad", [U(2, 5), U(4, 5)], {"axis": 0, "begin": 1, "end": 3}, batched=(), tag="whole")]
    return out


def gather_cases():
    """Tables are unbatched; the indices carry the batch dim (declared first)."""
    out = []
    for table, idx in [((7, 3), np.array([0, 6, 2, 2], np.float32)), ((7, 3), I(4, 2, lo=0, hi=7)),
                       ((5,), I(4, 3, lo=0, hi=5)), ((10, 2, 3), I(3, lo=0, hi=10)), ((1, 4), np.zeros((3, 1), np.float32)),
                       ((2049, 4), I(3, 100, lo=0, hi=2049)), ((6, 0), I(4, lo=0, hi=6))]:
        out.append(Case("gather", [U(*table), idx], batched=(1,)))
        dy = U(*(idx.shape + table[1:]))
        out.append(Case("gather_grad", [dy, idx, U(*table)], batched=(0, 1), n_acc=idx.size))
    out += [Case("gather", [U(3, 7).T, I(4, lo=0, hi=7)], batched=(1,), tag="noncontig"),
            Case("gather", [U(7, 3), np.float32(4)], batched=(), tag="scalar-index"),
            Case("gather_grad", [U(5, 2), np.array([1, 1, 1, 1, 1], np.float32), U(3, 2)], batched=(0, 1),
                 n_acc=5, tag="one-row-many-times")]
    for idx, depth in [(I(4, lo=0, hi=5), 5), (I(4, 3, lo=0, hi=2), 2), (np.zeros(3, np.float32), 1),
                       (I(3, lo=0, hi=2049), 2049), (np.array([[0, 1], [2, 3]], np.float32).T, 4)]:
        out.append(Case("one_hot", [idx], {"depth": depth}))
    return out


def tile_cases():
    out = []
    for shape, reps in [((4, 3), [1, 2]), ((2, 3, 4), [1, 3, 1]), ((2, 3, 4), [1, 1, 2]), ((2, 3, 4), [1, 2, 3]),
                        ((4, 1), [1, 5]), ((4, 3), [1, 0]), ((1, 1), [1, 1]), ((2, 2049), [1, 9]),
                        ((2, 1, 3, 1), [1, 4, 1, 2])]:
        out.append(Case("tile", [U(*shape)], {"reps": reps}))
        dy = U(*ref.tile(np.zeros(shape), reps).shape)
        out.append(Case("tile_grad", [dy, U(*shape)], {"reps": reps}, batched=(0, 1), n_acc=int(np.prod(reps))))
    out += [Case("tile", [U(2, 3)], {"reps": [3, 2]}, batched=(), tag="whole"),
            Case("tile", [np.float32(1.5)], {"reps": []}, batched=(), tag="scalar"),
            Case("tile", [U(3, 4).T], {"reps": [1, 3]}, tag="noncontig"),
            Case("tile_grad", [U(6, 4), U(2, 2)], {"reps": [3, 2]}, batched=(), n_acc=6, tag="whole")]
    for shape, axis, r in [((4, 3), 1, 2), ((2, 3, 4), 1, 3), ((2, 3, 4), -1, 2), ((2, 3, 4), 0, 1), ((4, 3), 1, 0),
                           ((4, 1), 1, 7), ((2, 2049), 1, 3), ((2, 3, 1), 2, 1)]:
        out.append(Case("repeat", [U(*shape)], {"axis": axis, "repeats": r}))
        dy = U(*ref.repeat(np.zeros(shape), axis, r).shape)
        out.append(Case("repeat_grad", [dy, U(*shape)], {"axis": axis, "repeats": r}, batched=(0, 1), n_acc=r))
    out += [Case("repeat", [U(2, 3)], {"axis": 0, "repeats": 2}, batched=(), tag="whole"),
            Case("repeat", [U(3, 4).T], {"axis": 1, "repeats": 2}, tag="noncontig"),
            Case("repeat_grad", [U(4, 3), U(2, 3)], {"axis": 0, "repeats": 2}, batched=(), n_acc=2, tag="whole")]
    return out


# conv2d / pool2d geometries: (x shape, window, strides or None for the default, padding or None
# for the default). 1x1 windows (the conv's im2col-free path), windows as big as the input, odd
# sizes, strides 2 and 3 and larger than the window, "same" with even and odd windows (TF puts the
# odd pad at the bottom/right), channels 1 and 5, and one batch past the conv's im2col block
# (40 images of 28x28x8 under a 3x3 kernel exceed 2^21 floats of col) and the OpenMP thresholds.
CONV_GEOMETRIES = [
    ((3, 4, 5, 5), (1, 1, 3), [1, 1], "valid"), ((3, 4, 5, 5), (1, 1, 3), None, "same"),
    ((2, 5, 7, 5), (1, 1, 2), [2, 3], "valid"), ((2, 6, 6, 1), (1, 1, 1), [3, 3], "same"),
    ((2, 5, 4, 3), (5, 4, 2), None, None), ((2, 5, 4, 3), (5, 4, 2), [1, 1], "same"),
    ((2, 5, 4, 3), (5, 4, 2), [3, 3], "valid"), ((1, 3, 3, 2), (5, 5, 2), [1, 1], "same"),
    ((2, 7, 9, 3), (3, 3, 4), [1, 1], "valid"), ((2, 7, 9, 3), (3, 3, 4), [2, 2], "valid"),
    ((2, 7, 9, 3), (3, 3, 4), [3, 3], "valid"), ((2, 7, 9, 1), (3, 2, 4), [2, 3], "valid"),
    ((2, 7, 8, 5), (2, 2, 3), [1, 1], "same"), ((2, 7, 8, 5), (4, 3, 3), [1, 1], "same"),
    ((2, 7, 8, 5), (3, 3, 3), [2, 2], "same"), ((2, 7, 8, 5), (2, 4, 3), [3, 3], "same"),
    ((2, 8, 7, 1), (5, 5, 1), [2, 3], "same"), ((2, 9, 9, 2), (2, 2, 3), [3, 3], "same"),
    ((40, 28, 28, 8), (3, 3, 16), None, "same"),
]
POOL_GEOMETRIES = [
    ((2, 6, 6, 3), (2, 2), None, "valid"), ((2, 7, 7, 1), (2, 2), None, None), ((2, 7, 7, 5), (2, 2), None, "same"),
    ((2, 7, 6, 3), (3, 3), [1, 1], "same"), ((2, 7, 6, 3), (3, 2), [2, 1], "same"), ((2, 5, 5, 2), (5, 5), None, "valid"),
    ((2, 5, 4, 2), (5, 4), [1, 1], "same"), ((2, 8, 9, 5), (1, 1), [2, 3], "valid"), ((2, 9, 9, 2), (2, 2), [3, 3], "same"),
    ((2, 9, 8, 3), (3, 3), [3, 3], "valid"), ((2, 10, 7, 4), (4, 3), [2, 2], "same"), ((2, 10, 7, 4), (4, 2), [3, 2], "same"),
    ((40, 28, 28, 8), (2, 2), None, "valid"), ((40, 28, 28, 8), (3, 3), [2, 2], "same"),
    # fewer than 16 channels take the separable path (a stride-1 interior as one loop): wide rows,
    # windows wider than tall, valid stride 1; 16 and more channels the channel-vector path
    ((2, 5, 40, 3), (3, 5), [1, 1], "same"), ((2, 6, 9, 1), (2, 3), [1, 1], "valid"),
    ((2, 4, 3, 3), (2, 5), [1, 1], "same"), ((2, 7, 6, 16), (3, 3), [1, 1], "same"), ((2, 6, 6, 20), (2, 2), None, None),
]


def _window_attrs(strides, padding, **extra):
    a = dict(extra)
    if strides is not None:
        a["strides"] = strides
    if padding is not None:
        a["padding"] = padding
    return a


# x as an activation's result, for the gradient ops that take dx on through it
THROUGH = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: (1 / (1 + np.exp(-v))).astype(np.float32),
           "tanh": np.tanh}


def conv_cases():
    out = []
    for xs, (KH, KW, F), strides, padding in CONV_GEOMETRIES:
        x, W = U(*xs), U(KH, KW, xs[3], F)
        attrs = _window_attrs(strides, padding)
        y_shape = ref.conv2d(x, W, **attrs).shape
        out.append(Case("conv2d", [x, W], attrs, n_acc=KH * KW * xs[3]))
        out.append(Case("conv2d_grad_input", [U(*y_shape), W, x], attrs, batched=(0, 2), n_acc=KH * KW * F))
        out.append(Case("conv2d_grad_filter", [U(*y_shape), x, W], attrs, batched=(0, 1),
                        n_acc=xs[0] * y_shape[1] * y_shape[2]))
    # the fused epilogue: + b per filter, then an activation (1x1 takes the no-im2col path)
    for act in ("linear", "relu", "sigmoid", "tanh", "softmax"):
        for xs, ws, attrs in [((2, 5, 5, 3), (3, 3, 3, 4), {"padding": "same"}), ((3, 4, 4, 2), (1, 1, 2, 5), {})]:
            out.append(Case("conv2d", [U(*xs), U(*ws), U(ws[3])], dict(attrs, activation=act), n_acc=np.prod(ws[:3]),
                            tag="bias"))
    # the data gradient taken on through x's activation: Winograd (16 channels each way), 1x1, im2col
    for act, f in THROUGH.items():
        for xs, ws, attrs in [((2, 7, 6, 16), (3, 3, 16, 16), {"padding": "same"}), ((2, 4, 5, 3), (1, 1, 3, 4), {}),
                              ((2, 6, 6, 3), (3, 3, 3, 4), {"strides": [2, 1]})]:
            x, W = f(U(*xs)), U(*ws)
            y_shape = ref.conv2d(x, W, **attrs).shape
            out.append(Case("conv2d_grad_input", [U(*y_shape), W, x], dict(attrs, activation=act), batched=(0, 2),
                            n_acc=np.prod(ws[:2]) * ws[3], tag="through-" + act))
    xt = U(2, 6, 5, 3).transpose(0, 2, 1, 3)  # [2, 5, 6, 3], not contiguous
    out += [Case("conv2d", [xt, U(3, 3, 3, 2)], {"padding": "same"}, n_acc=27, tag="noncontig"),
            Case("conv2d", [U(3, 5, 5, 2), U(3, 3, 2, 4)], {"strides": [2, 1]}, batched=(), n_acc=18, tag="whole"),
            Case("conv2d", [U(2, 4, 4, 0), U(3, 3, 0, 2)], {"padding": "same"}, tag="no-channels"),
            Case("conv2d", [U(2, 4, 4, 3), U(3, 3, 3, 0)], {}, tag="no-filters"),
            Case("conv2d_grad_input", [U(2, 4, 4, 0), U(3, 3, 3, 0), U(2, 4, 4, 3)], {"padding": "same"},
                 batched=(0, 2), tag="no-filters"),
            Case("conv2d_grad_filter", [U(2, 2, 2, 0), U(2, 4, 4, 3), U(3, 3, 3, 0)], {}, batched=(0, 1),
                 tag="no-filters"),
            Case("conv2d_grad_filter", [U(2, 2, 2, 2), U(2, 4, 4, 0), U(3, 3, 0, 2)], {}, batched=(0, 1),
                 tag="no-channels")]
    return out


def pool_cases():
    out = []
    for xs, pool, strides, padding in POOL_GEOMETRIES:
        for mode in ("max", "avg"):
            x = U(*xs)
            attrs = _window_attrs(strides, padding, mode=mode, pool=list(pool))
            y = ref.pool2d(x.astype(np.float64), **attrs).astype(np.float32)
            st = strides or pool
            overlap = -(-pool[0] // st[0]) * -(-pool[1] // st[1])  # windows sharing one x element
            exact = mode == "max"
            out.append(Case("pool2d", [x], attrs, n_acc=0 if exact else pool[0] * pool[1], rtol=0.0 if exact else None))
            out.append(Case("pool2d_grad", [U(*y.shape), x, y], attrs, batched=(0, 1, 2), n_acc=overlap))
    # ties: small integers, so windows hold several maxima; dy goes to the first in row-major order
    for xs, pool, strides, padding in [((2, 6, 6, 3), (2, 2), None, "valid"), ((2, 5, 5, 2), (3, 3), [1, 1], "same")]:
        x = I(*xs)
        attrs = _window_attrs(strides, padding, mode="max", pool=list(pool))
        y = ref.pool2d(x.astype(np.float64), **attrs).astype(np.float32)
        out += [Case("pool2d", [x], attrs, rtol=0.0, tag="ties"),
                Case("pool2d_grad", [U(*y.shape), x, y], attrs, batched=(0, 1, 2), n_acc=9, tag="ties")]
    # hostile: NaN wins max (and its gradient goes to the first NaN), -inf windows, inf - inf in avg
    x = with_values(U(2, 4, 4, 2), [np.nan, 1.0, 2.0, -INF, -INF, -INF, 3.0, INF, -INF, -INF, 0.0, -INF, INF])
    for mode in ("max", "avg"):
        attrs = {"mode": mode, "pool": [2, 2], "strides": [1, 1], "padding": "same"}
        with np.errstate(invalid="ignore"):  # inf - inf in a mean is meant
            y = ref.pool2d(x.astype(np.float64), **attrs).astype(np.float32)
        out += [Case("pool2d", [x], attrs, rtol=0.0 if mode == "max" else None, n_acc=4, tag="hostile"),
                Case("pool2d_grad", [U(*y.shape), x, y], attrs, batched=(0, 1, 2), n_acc=4, tag="hostile")]
    tiled = {"mode": "max", "pool": [2, 2]}  # windows that tile x exactly: the kernel's one-pass path
    y = ref.pool2d(x.astype(np.float64), **tiled).astype(np.float32)
    out.append(Case("pool2d_grad", [U(*y.shape), x, y], tiled, batched=(0, 1, 2), n_acc=1, tag="hostile-tiled"))
    # taken on through x's activation (passes/fuse_grad.cpp): x is relu's, sigmoid's or tanh's result
    for act, f in THROUGH.items():
        x = f(U(2, 6, 6, 5))
        for attrs in ({"mode": "max", "pool": [2, 2]}, {"mode": "max", "pool": [3, 3], "strides": [1, 1]},
                      {"mode": "avg", "pool": [2, 2], "padding": "same", "strides": [1, 1]}):
            y = ref.pool2d(x.astype(np.float64), **attrs).astype(np.float32)
            out.append(Case("pool2d_grad", [U(*y.shape), x, y], dict(attrs, activation=act), batched=(0, 1, 2),
                            n_acc=9, tag="through-" + act))
    out += [Case("pool2d", [U(2, 6, 5, 3).transpose(0, 2, 1, 3)], {"mode": "avg", "pool": [2, 2]}, n_acc=4,
                 tag="noncontig"),
            Case("pool2d", [U(3, 4, 4, 2)], {"mode": "max", "pool": [2, 2]}, batched=(), tag="whole")]
    return out


FORWARD_CASES = (unary_cases() + binary_cases() + pow_cases() + const_cases() + broadcast_pair_cases()
                 + reduce_cases() + reduce_prod_cases() + softmax_cases() + linalg_cases() + loss_cases()
                 + grad_helper_cases() + shape_cases() + gather_cases() + tile_cases() + conv_cases() + pool_cases())
# dropout_mask is random: test_dropout_mask_* below check its statistics instead of values.
STATISTICAL = {"dropout_mask"}
# The multi-result recurrent ops have their own cases (test_recurrent_ops.py).
TESTED_OPS = {c.op for c in FORWARD_CASES} | STATISTICAL | test_recurrent_ops.TESTED_OPS | test_scan_op.TESTED_OPS | test_random_ops.TESTED_OPS


@pytest.mark.parametrize("case", [c.param() for c in FORWARD_CASES])
def test_forward(case):
    g, y, feeds, batch = build(case)
    (got,) = run(g.text(y), feeds)
    dtype, _ = g.types[y]
    assert dtype == "f32"
    want_shape = tuple(batch if d is None else batch * -d if d < 0 else d for d in g.types[y][1])
    assert got.shape == want_shape, "shape: inferred %s, got %s" % (want_shape, got.shape)
    assert got.dtype == np.float32, "dtype: expected float32, got %s" % got.dtype
    kw = {"batched": 0 in case.batched} if case.op in REF_BATCHED else {}
    with np.errstate(all="ignore"):  # inf - inf and friends are meant
        expected = REFERENCES[case.op](*[o.astype(np.float64) for o in case.operands], **case.attrs, **kw)
    assert np.shape(expected) == got.shape, "NumPy reference shape %s, kiln %s" % (np.shape(expected), got.shape)
    rtol = case.rtol
    if rtol is None:
        rtol = RTOL[case.op] + (8 * EPS32 * np.sqrt(case.n_acc) if case.n_acc else 0.0)
    mag = None
    if case.op in MAG:
        with np.errstate(all="ignore"):
            mag = MAG[case.op](*[o.astype(np.float64) for o in case.operands], **case.attrs)
    assert_close(got, expected, rtol=rtol, atol=max(case.atol, 4 * TINY32), mag=mag, what=case.id)


# ---------------------------------------------------------------- dropout_mask: statistics


def _dropout_program(rate, seed, shape=(64, 1024)):
    g = Graph()
    g.input("x", (None,) + shape[1:])
    m = g.op("dropout_mask", "x", attrs={"rate": rate, "seed": seed})
    return _core.Program(_core.Store(), g.text(m)), np.zeros(shape, np.float32)


def test_dropout_mask_values_are_the_documented_hash():
    """Each value is a hash of (seed, run, index) (kernels/cpu/random.h), reimplemented in NumPy:
    the recurrent kernels' dropout draws the same values, so their references can too."""
    p, x = _dropout_program(0.3, seed=5, shape=(8, 100))
    for step in (1, 2):
        (m,) = p.run([x])
        np.testing.assert_array_equal(m.ravel(), ref.dropout_values(800, 0.3, 5, step).astype(np.float32))


@pytest.mark.parametrize("rate", [pytest.param(r, id="dropout_mask[f32-(64,1024)-rate=%s]" % r)
                                  for r in (0.0, 0.1, 0.5, 0.9)])
def test_dropout_mask_statistics(rate):
    p, x = _dropout_program(rate, seed=7)
    (m1,) = p.run([x])
    (m2,) = p.run([x])
    assert m1.shape == x.shape and m1.dtype == np.float32
    support = ref.dropout_mask_support(rate)
    vals = np.unique(m1)
    assert np.all(np.isin(vals, np.float32(support))), "values %s, allowed %s" % (vals[:5], support)
    n = m1.size
    frac = np.mean(m1 == 0)
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(frac - rate) <= 6 * sigma + 1e-12, "fraction of zeros %.5f, expected %.2f" % (frac, rate)
    # inverted dropout keeps the mean at the reference expectation, 1
    assert_close(np.mean(m1, dtype=np.float64), ref.dropout_mask(np.zeros(1), rate).mean(),
                 atol=6 * np.sqrt(rate / (1 - rate) / n) + 1e-6)
    if rate > 0:
        assert not np.array_equal(m1, m2), "two runs drew the same mask"
    else:
        assert np.all(m1 == 1) and np.all(m2 == 1)


def test_dropout_mask_same_seed_same_mask_within_a_run():
    g = Graph()
    g.input("x", (None, 300))
    a = g.op("dropout_mask", "x", attrs={"rate": 0.5, "seed": 3})
    b = g.op("dropout_mask", "x", attrs={"rate": 0.5, "seed": 3})
    c = g.op("dropout_mask", "x", attrs={"rate": 0.5, "seed": 4})
    ma, mb, mc = run(g.text(a, b, c), [np.zeros((8, 300), np.float32)])
    assert np.array_equal(ma, mb)
    assert not np.array_equal(ma, mc)
    assert set(np.unique(ma)) <= {0.0, 2.0}


# ---------------------------------------------------------------- shape inference (no numerics)

B = None
INFER_CASES = [
    ("matmul", [(B, 3), (3, 4)], {}, [(B, 4)]),
    ("matmul", [(B, 5, 3), (3, 4)], {}, [(B, 5, 4)]),
    ("matmul", [(B, 3), (4, 3)], {"transpose_b": 1}, [(B, 4)]),
    ("matmul", [(B, 5, 3), (B, 5, 4)], {"transpose_a": 1}, [(3, 4)]),
    ("dense", [(B, 3), (3, 4), (4,)], {"activation": "relu"}, [(B, 4)]),
    ("add", [(B, 1, 3), (4, 1)], {}, [(B, 4, 3)]),
    ("add", [(), (B, 3)], {}, [(B, 3)]),
    ("reduce_sum", [(B, 3, 4)], {"axes": [0, 2]}, [(3,)]),
    ("reduce_mean", [(B, 3, 4)], {"axes": [-1], "keepdims": 1}, [(B, 3, 1)]),
    ("reduce_max", [(B, 3)], {}, [()]),
    ("reduce_count", [(B, 3)], {"axes": [0]}, [()]),
    ("argmax", [(B, 3, 4)], {"axis": 1}, [(B, 4)]),
    ("softmax", [(B, 3, 4)], {"axis": 0}, [(B, 3, 4)]),
    ("sum_like", [(B, 3, 4), (3, 1)], {}, [(3, 1)]),
    ("broadcast_like", [(3,), (B, 3)], {}, [(B, 3)]),
    ("broadcast_like", [(B,), (B, 3)], {"axes": [1]}, [(B, 3)]),
    ("categorical_crossentropy", [(B, 5), (B, 5)], {}, [(B,)]),
    ("sparse_categorical_crossentropy", [(B,), (B, 5)], {}, [(B,)]),
    ("sparse_categorical_crossentropy", [(B, 1), (B, 5)], {}, [(B,)]),
    ("sparse_categorical_crossentropy", [(B, 7), (B, 7, 5)], {}, [(B, 7)]),
    ("constant", [], {"value": 1.5}, [()]),
    ("dropout_mask", [(B, 3)], {"rate": 0.25, "seed": 1}, [(B, 3)]),
    ("pow", [(B, 1, 3), (4, 1)], {}, [(B, 4, 3)]),
    ("pow_log", [(B, 3)], {}, [(B, 3)]),
    ("reduce_prod", [(B, 3, 4)], {"axes": [1]}, [(B, 4)]),
    ("reduce_prod", [(B, 3, 4)], {"axes": [0], "keepdims": 1}, [(1, 3, 4)]),
    ("reduce_prod_grad", [(3, 4), (B, 3, 4)], {"axes": [0]}, [(B, 3, 4)]),
    ("reshape", [(B, 6)], {"shape": [2, 3]}, [(B, 2, 3)]),
    ("reshape", [(B, 6)], {"shape": [-1, 2]}, [(B, 3, 2)]),
    ("reshape", [(B, 2, 3)], {"shape": [-1]}, [(B, 6)]),
    ("reshape", [(B, 1)], {"shape": []}, [(B,)]),
    ("reshape", [(4, 6)], {"shape": [-1]}, [(24,)]),
    ("reshape", [(4, 6)], {"shape": [2, 3, 4]}, [(2, 3, 4)]),
    ("reshape", [(B, 0)], {"shape": [3, 0]}, [(B, 3, 0)]),
    ("transpose", [(B, 3, 4)], {"perm": [2, 0, 1]}, [(4, B, 3)]),
    ("transpose", [(4, B)], {"perm": [1, 0]}, [(B, 4)]),
    ("concat", [(B, 3), (B, 2)], {"axis": -1}, [(B, 5)]),
    ("concat", [(B, 3)], {}, [(B, 3)]),
    ("concat", [(3, B), (2, B), (1, B)], {"axis": 0}, [(6, B)]),
    ("slice", [(B, 5)], {"axis": 1, "begin": -3}, [(B, 3)]),
    ("slice", [(B, 5)], {"axis": -1, "begin": 1, "end": -1}, [(B, 3)]),
    ("slice", [(B, 5)], {"axis": 1, "begin": 5}, [(B, 0)]),
    ("slice_grad", [(B, 2), (B, 5)], {"axis": 1, "begin": 1, "end": 3}, [(B, 5)]),
    ("gather", [(10, 4), (B, 7)], {}, [(B, 7, 4)]),
    ("gather", [(10,), (B,)], {}, [(B,)]),
    ("gather", [(10, 2, 3), ()], {}, [(2, 3)]),
    ("gather_grad", [(B, 7, 4), (B, 7), (10, 4)], {}, [(10, 4)]),
    ("one_hot", [(B,)], {"depth": 5}, [(B, 5)]),
    ("one_hot", [(B, 3)], {"depth": 1}, [(B, 3, 1)]),
    ("tile", [(B, 3)], {"reps": [1, 2]}, [(B, 6)]),
    ("tile", [(2, B)], {"reps": [3, 1]}, [(6, B)]),
    ("tile_grad", [(B, 6), (B, 3)], {"reps": [1, 2]}, [(B, 3)]),
    ("repeat", [(B, 3, 4)], {"axis": 1, "repeats": 2}, [(B, 6, 4)]),
    ("repeat", [(B, 3)], {"axis": 0, "repeats": 1}, [(B, 3)]),
    ("repeat_grad", [(B, 6, 4), (B, 3, 4)], {"axis": -2, "repeats": 2}, [(B, 3, 4)]),
    ("conv2d", [(B, 28, 28, 1), (5, 5, 1, 8)], {}, [(B, 24, 24, 8)]),
    ("conv2d", [(B, 7, 9, 3), (2, 2, 3, 1)], {"strides": [3, 3]}, [(B, 2, 3, 1)]),  # ceil(6/3), ceil(8/3)
    ("conv2d", [(B, 7, 8, 3), (3, 3, 3, 4)], {"strides": [2, 2], "padding": "same"}, [(B, 4, 4, 4)]),
    ("conv2d", [(B, 3, 3, 2), (5, 5, 2, 4)], {"padding": "same"}, [(B, 3, 3, 4)]),  # kernel past the input
    ("conv2d", [(B, 5, 5, 2), (5, 5, 2, 4)], {"padding": "valid"}, [(B, 1, 1, 4)]),
    ("conv2d", [(-3, 5, 5, 2), (3, 3, 2, 4)], {}, [(-3, 3, 3, 4)]),  # a folded batch ?*3 stays
    ("conv2d", [(2, 5, 5, 3), (3, 3, 3, 2)], {}, [(2, 3, 3, 2)]),
    ("conv2d_grad_input", [(B, 3, 3, 4), (3, 3, 2, 4), (B, 5, 5, 2)], {}, [(B, 5, 5, 2)]),
    ("conv2d_grad_filter", [(B, 3, 3, 4), (B, 5, 5, 2), (3, 3, 2, 4)], {}, [(3, 3, 2, 4)]),
    ("pool2d", [(B, 7, 7, 3)], {"mode": "max", "pool": [2, 2]}, [(B, 3, 3, 3)]),  # strides default to pool
    ("pool2d", [(B, 7, 7, 3)], {"mode": "avg", "pool": [2, 2], "padding": "same"}, [(B, 4, 4, 3)]),
    ("pool2d", [(B, 5, 6, 2)], {"mode": "max", "pool": [3, 3], "strides": [1, 1]}, [(B, 3, 4, 2)]),
    ("pool2d", [(-2, 9, 9, 2)], {"mode": "avg", "pool": [2, 2], "strides": [3, 3], "padding": "same"},
     [(-2, 3, 3, 2)]),
    ("pool2d_grad", [(B, 3, 3, 3), (B, 7, 7, 3), (B, 3, 3, 3)], {"mode": "max", "pool": [2, 2]}, [(B, 7, 7, 3)]),
    ("apply_sgd", [(3, 4), (3, 4), (), (), (3, 4)], {"momentum": 0.9}, []),
    ("increment", [()], {"by": 1.0}, []),
]


def _tid(dims):
    return "(%s%s)" % (",".join("?" if d is None else str(d) for d in dims), "," if len(dims) == 1 else "")


@pytest.mark.parametrize("op,ins,attrs,want", [
    pytest.param(op, ins, attrs, want, id="%s[%s%s]" % (op, "x".join(_tid(d) for d in ins) or "()",
                                                        ("-" + attrs_id(attrs)) if attrs else ""))
    for op, ins, attrs, want in INFER_CASES])
def test_infer(op, ins, attrs, want):
    got = _core.infer(op, [("f32", d) for d in ins], attrs)
    assert got == [("f32", tuple(d)) for d in want]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("op,ins,attrs,names", [
    pytest.param("matmul", [(B, 3), (5, 4)], {}, ["f32[?,3]", "f32[5,4]"], id="matmul[wrong-K]"),
    pytest.param("matmul", [(B, 3), (4, 5)], {"transpose_b": 1}, ["f32[?,3]", "f32[4,5]"],
                 id="matmul[wrong-K-transpose_b]"),
    pytest.param("matmul", [(B, 3), (4, 5)], {"transpose_a": 1}, ["f32[?,3]", "f32[4,5]"],
                 id="matmul[transpose_a-P-mismatch]"),
    pytest.param("add", [(B, 3), (4,)], {}, ["f32[?,3]", "f32[4]"], id="add[no-broadcast]"),
    pytest.param("bias_add", [(B, 3), (4,)], {}, ["f32[4]", "f32[?,3]"], id="bias_add[wrong-len]"),
    pytest.param("categorical_crossentropy", [(B, 4), (B, 5)], {}, ["f32[?,4]", "f32[?,5]"], id="cce[shape-mismatch]"),
    pytest.param("sum_like", [(3,), (B, 3)], {}, ["f32[?,3]", "f32[3]"], id="sum_like[ref-larger]"),
    pytest.param("reduce_sum", [(B, 3)], {"axes": [2]}, ["axis 2", "rank 2"], id="reduce_sum[axis-out-of-range]"),
    pytest.param("pow", [(B, 3), (4,)], {}, ["f32[?,3]", "f32[4]"], id="pow[no-broadcast]"),
    pytest.param("reduce_prod", [(B, 3)], {"axes": [1, -1]}, ["twice"], id="reduce_prod[axis-twice]"),
    pytest.param("reduce_prod_grad", [(B,), (B, 3)], {"axes": [0]}, ["f32[?]", "f32[3]", "f32[?,3]"],
                 id="reduce_prod_grad[wrong-cotangent]"),
    pytest.param("reshape", [(B, 6)], {"shape": [4, 2]}, ["f32[?,6]", "[?,4,2]", "6 elements", "holds 8"],
                 id="reshape[count-mismatch-batched]"),
    pytest.param("reshape", [(4, 6)], {"shape": [5, 5]}, ["f32[4,6]", "[5,5]", "24", "25"],
                 id="reshape[count-mismatch-whole]"),
    pytest.param("reshape", [(B, 6)], {"shape": [-1, 4]}, ["f32[?,6]", "[?,-1,4]", "6", "4"],
                 id="reshape[minus-one-indivisible]"),
    pytest.param("reshape", [(B, 6)], {"shape": [-1, -1]}, ["[?,-1,-1]", "more than one -1"],
                 id="reshape[two-minus-ones]"),
    pytest.param("reshape", [(B, 6)], {"shape": [-2, -3]}, ["[?,-2,-3]", "negative"], id="reshape[negative-dim]"),
    pytest.param("reshape", [(B, 0)], {"shape": [0, -1]}, ["[?,0,-1]", "f32[?,0]"], id="reshape[minus-one-of-zero]"),
    pytest.param("reshape", [(3, B)], {"shape": [-1]}, ["f32[3,?]", "batch dim"], id="reshape[batch-not-first]"),
    pytest.param("transpose", [(B, 3)], {"perm": [0, 0]}, ["[0,0]", "f32[?,3]"], id="transpose[repeated-axis]"),
    pytest.param("transpose", [(B, 3)], {"perm": [1, 0, 2]}, ["[1,0,2]", "f32[?,3]"], id="transpose[perm-too-long]"),
    pytest.param("transpose", [(B, 3)], {"perm": [-1, 0]}, ["[-1,0]", "f32[?,3]"], id="transpose[negative-axis]"),
    pytest.param("concat", [(B, 3), (B, 4, 1)], {}, ["f32[?,3]", "f32[?,4,1]", "same rank"], id="concat[rank-mismatch]"),
    pytest.param("concat", [(B, 3), (2, 3), (B, 1)], {"axis": 1}, ["f32[?,3]", "f32[2,3]", "f32[?,1]", "axis 1"],
                 id="concat[dim-mismatch-names-all]"),
    pytest.param("concat", [(B, 3), (B, 3)], {"axis": 0}, ["batch dim", "f32[?,3]"], id="concat[batch-axis]"),
    pytest.param("concat", [(B, 3)], {"axis": 2}, ["axis 2", "rank 2"], id="concat[axis-out-of-range]"),
    pytest.param("slice", [(B, 5)], {"axis": 1, "begin": 3, "end": 2}, ["begin=3", "end=2", "f32[?,5]", "<= 5"],
                 id="slice[begin-after-end]"),
    pytest.param("slice", [(B, 5)], {"axis": 1, "end": 6}, ["end=6", "f32[?,5]"], id="slice[end-past-dim]"),
    pytest.param("slice", [(B, 5)], {"axis": 1, "begin": -6}, ["begin=-6", "f32[?,5]"], id="slice[begin-before-0]"),
    pytest.param("slice", [(B, 5)], {"axis": 0, "end": 1}, ["batch dim", "f32[?,5]"], id="slice[batch-axis]"),
    pytest.param("slice_grad", [(B, 3), (B, 5)], {"axis": 1, "begin": 1, "end": 3}, ["f32[?,3]", "f32[?,2]", "f32[?,5]"],
                 id="slice_grad[wrong-cotangent]"),
    pytest.param("gather", [(B, 4), (B,)], {}, ["f32[?,4]", "batch dim"], id="gather[batched-params]"),
    pytest.param("gather", [(), (B,)], {}, ["f32[]", "rank >= 1"], id="gather[scalar-params]"),
    pytest.param("gather_grad", [(B, 3), (B,), (10, 4)], {}, ["f32[?,3]", "f32[?,4]", "f32[10,4]"],
                 id="gather_grad[wrong-cotangent]"),
    pytest.param("one_hot", [(B,)], {"depth": 0}, ["depth", "got 0"], id="one_hot[depth-0]"),
    pytest.param("tile", [(B, 3)], {"reps": [2, 1]}, ["batch dim", "[2,1]", "f32[?,3]"], id="tile[batch-rep]"),
    pytest.param("tile", [(B, 3)], {"reps": [1]}, ["[1]", "f32[?,3]", "expected 2, got 1"], id="tile[reps-length]"),
    pytest.param("tile", [(B, 3)], {"reps": [1, -1]}, ["[1,-1]", "negative"], id="tile[negative-rep]"),
    pytest.param("tile", [(4, 1 << 30)], {"reps": [1 << 40, 1 << 40]}, ["2^62"], id="tile[overflow]"),
    pytest.param("tile_grad", [(B, 3), (B, 3)], {"reps": [1, 2]}, ["f32[?,3]", "f32[?,6]"],
                 id="tile_grad[wrong-cotangent]"),
    pytest.param("repeat", [(B, 3)], {"axis": 0, "repeats": 2}, ["batch dim", "f32[?,3]", "got 2"],
                 id="repeat[batch-axis]"),
    pytest.param("repeat", [(B, 3)], {"axis": 1, "repeats": -1}, ["repeats", "got -1"], id="repeat[negative]"),
    pytest.param("repeat_grad", [(B, 3), (B, 3)], {"axis": 1, "repeats": 2}, ["f32[?,3]", "f32[?,6]"],
                 id="repeat_grad[wrong-cotangent]"),
    pytest.param("conv2d", [(B, 5, 5, 3), (3, 3, 4, 8)], {}, ["f32[?,5,5,3]", "f32[3,3,4,8]", "C=3", "C=4"],
                 id="conv2d[channel-mismatch]"),
    pytest.param("conv2d", [(B, 3, 4, 2), (5, 3, 2, 1)], {}, ["f32[?,3,4,2]", "f32[5,3,2,1]", "5x3", "3x4",
                                                              "valid", "same"], id="conv2d[kernel-larger-than-input]"),
    pytest.param("conv2d", [(B, 5, 5, 2), (3, 3, 2, 1)], {"strides": [0, 1]}, ["[0,1]", "positive"],
                 id="conv2d[zero-stride]"),
    pytest.param("conv2d", [(B, 5, 5, 2), (3, 3, 2, 1)], {"strides": [-1, 1]}, ["[-1,1]", "positive"],
                 id="conv2d[negative-stride]"),
    pytest.param("conv2d", [(B, 5, 5, 2), (3, 3, 2, 1)], {"strides": [2]}, ["[2]", "expected 2 entries, got 1"],
                 id="conv2d[strides-length]"),
    pytest.param("conv2d", [(B, 5, 5), (3, 3, 5, 1)], {}, ["f32[?,5,5]", "rank 4"], id="conv2d[x-rank]"),
    pytest.param("conv2d", [(B, 5, 5, 3), (3, 3, 3)], {}, ["f32[3,3,3]", "rank 4"], id="conv2d[W-rank]"),
    pytest.param("conv2d", [(B, 5, 5, 3), (0, 3, 3, 1)], {"padding": "same"}, ["f32[0,3,3,1]", "1x1"],
                 id="conv2d[empty-kernel]"),
    pytest.param("conv2d", [(5, B, 5, 3), (3, 3, 3, 1)], {}, ["f32[5,?,5,3]", "batch dim"], id="conv2d[batch-in-H]"),
    pytest.param("conv2d_grad_input", [(B, 4, 4, 8), (3, 3, 3, 8), (B, 5, 5, 3)], {},
                 ["f32[?,4,4,8]", "f32[?,3,3,8]", "f32[?,5,5,3]"], id="conv2d_grad_input[wrong-cotangent]"),
    pytest.param("conv2d_grad_filter", [(B, 3, 3, 7), (B, 5, 5, 3), (3, 3, 3, 8)], {},
                 ["f32[?,3,3,7]", "f32[?,3,3,8]", "f32[3,3,3,8]"], id="conv2d_grad_filter[wrong-cotangent]"),
    pytest.param("pool2d", [(B, 2, 3, 1)], {"mode": "max", "pool": [3, 3]}, ["pool [3,3]", "f32[?,2,3,1]", "valid"],
                 id="pool2d[pool-larger-than-input]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"mode": "avg", "pool": [2, 2], "strides": [2, 0]}, ["[2,0]", "positive"],
                 id="pool2d[zero-stride]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"mode": "avg", "pool": [2]}, ["[2]", "expected 2 entries, got 1"],
                 id="pool2d[pool-length]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"mode": "max", "pool": [0, 2]}, ["[0,2]", "positive"],
                 id="pool2d[zero-pool]"),
    pytest.param("pool2d", [(B, 4, 4)], {"mode": "max", "pool": [2, 2]}, ["f32[?,4,4]", "rank 4"], id="pool2d[rank]"),
    pytest.param("pool2d_grad", [(B, 2, 2, 3), (B, 4, 4, 3), (B, 2, 2, 2)], {"mode": "max", "pool": [2, 2]},
                 ["result y", "f32[?,2,2,2]", "f32[?,2,2,3]"], id="pool2d_grad[wrong-result]"),
    pytest.param("pool2d_grad", [(B, 4, 4, 3), (B, 4, 4, 3), (B, 2, 2, 3)], {"mode": "max", "pool": [2, 2]},
                 ["cotangent", "f32[?,4,4,3]", "f32[?,2,2,3]"], id="pool2d_grad[wrong-cotangent]"),
])
def test_shape_error_names_both_shapes(op, ins, attrs, names):
    with pytest.raises(_core.ShapeError) as e:
        _core.infer(op, [("f32", d) for d in ins], attrs)
    msg = str(e.value)
    assert "[%s]" % op in msg
    for n in names:
        assert n in msg, "%r does not name %s" % (msg, n)


def test_shape_error_from_ir_text():
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  param %w : f32[5,4]\n"
            "  %y = matmul(%x, %w) : f32[?,4]\n  output %y\n}\n")
    with pytest.raises(_core.ShapeError) as e:
        _core.Program(_core.Store(), text)
    assert "f32[?,3]" in str(e.value) and "f32[5,4]" in str(e.value)


def test_result_type_must_match_inference():
    text = "kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) : f32[?,4]\n  output %y\n}\n"
    with pytest.raises(_core.ShapeError) as e:
        _core.Program(_core.Store(), text)
    assert "f32[?,3]" in str(e.value) and "f32[?,4]" in str(e.value)


@pytest.mark.parametrize("op,ins,attrs", [
    pytest.param("softmax", [(B, 3)], {"axes": [1]}, id="softmax[unknown-attr-axes]"),
    pytest.param("relu", [(B, 3)], {"alpha": 1.0}, id="relu[unknown-attr-alpha]"),
    pytest.param("apply_adam", [(3,), (3,), (), (), (3,), (3,)], {"momentum": 0.9},
                 id="apply_adam[unknown-attr-momentum]"),
])
def test_unknown_attribute_is_value_error(op, ins, attrs):
    with pytest.raises(_core.ValueError) as e:
        _core.infer(op, [("f32", d) for d in ins], attrs)
    (bad,) = attrs
    assert "unknown attribute '%s'" % bad in str(e.value)
    for ok in _core.op_info(op)["attrs"]:
        assert ok in str(e.value)  # names what is accepted


def test_unknown_attribute_from_ir_text():
    text = "kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = softmax(%x) {axes=[1]} : f32[?,3]\n  output %y\n}\n"
    with pytest.raises(_core.ValueError, match="unknown attribute 'axes'"):
        _core.Program(_core.Store(), text)


@pytest.mark.parametrize("bad", [pytest.param(v, id="sparse_categorical_crossentropy[target=%s]" % v)
                                 for v in (3.0, -1.0, 1.5, np.nan)])
def test_sparse_target_not_a_class_index(bad):
    g = Graph()
    g.input("t", (None,))
    g.input("o", (None, 3))
    y = g.op("sparse_categorical_crossentropy", "t", "o")
    with pytest.raises(_core.ValueError, match="not a class index"):
        run(g.text(y), [np.array([0.0, bad], np.float32), np.full((2, 3), 0.5, np.float32)])


@pytest.mark.parametrize("op,ins,attrs,missing", [
    pytest.param("reshape", [(B, 6)], {}, "shape", id="reshape[no-shape]"),
    pytest.param("transpose", [(B, 6)], {}, "perm", id="transpose[no-perm]"),
    pytest.param("slice", [(B, 6)], {"begin": 1}, "axis", id="slice[no-axis]"),
    pytest.param("one_hot", [(B,)], {}, "depth", id="one_hot[no-depth]"),
    pytest.param("tile", [(B, 6)], {}, "reps", id="tile[no-reps]"),
    pytest.param("repeat", [(B, 6)], {"repeats": 2}, "axis", id="repeat[no-axis]"),
    pytest.param("repeat", [(B, 6)], {"axis": 1}, "repeats", id="repeat[no-repeats]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"pool": [2, 2]}, "mode", id="pool2d[no-mode]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"mode": "max"}, "pool", id="pool2d[no-pool]"),
])
def test_required_attribute_is_value_error(op, ins, attrs, missing):
    with pytest.raises(_core.ValueError, match=r"\[%s\] needs an? '%s' attribute" % (op, missing)):
        _core.infer(op, [("f32", d) for d in ins], attrs)


@pytest.mark.parametrize("op,ins,attrs,bad", [
    pytest.param("conv2d", [(B, 5, 5, 1), (3, 3, 1, 2)], {"padding": "full"}, 'padding must be "valid" or "same", got "full"',
                 id="conv2d[padding=full]"),
    pytest.param("pool2d", [(B, 5, 5, 1)], {"mode": "max", "pool": [2, 2], "padding": "SAME"},
                 'padding must be "valid" or "same", got "SAME"', id="pool2d[padding=SAME]"),
    pytest.param("pool2d", [(B, 5, 5, 1)], {"mode": "min", "pool": [2, 2]}, 'mode must be "max" or "avg", got "min"',
                 id="pool2d[mode=min]"),
    pytest.param("conv2d_grad_input", [(B, 3, 3, 2), (3, 3, 1, 2), (B, 5, 5, 1)], {"padding": "full"}, "padding must be",
                 id="conv2d_grad_input[padding=full]"),
])
def test_bad_window_attribute_is_value_error(op, ins, attrs, bad):
    with pytest.raises(_core.ValueError) as e:
        _core.infer(op, [("f32", d) for d in ins], attrs)
    assert "[%s] %s" % (op, bad) in str(e.value), str(e.value)


def test_concat_needs_an_operand():
    with pytest.raises(_core.ShapeError, match=r"\[concat\] expected at least 1 operand"):
        _core.infer("concat", [], {"axis": 0})


def _index_program(op, table_shape=(5, 2)):
    """op over a batch of indices [?, 2]: gather from a [5, 2] table, one_hot with depth 5,
    gather_grad into a [5, 2] table. Returns the IR and the feeds besides the indices."""
    g = Graph()
    if op == "gather_grad":
        g.input("dy", (None, 2) + table_shape[1:])
    g.input("i", (None, 2))
    if op == "one_hot":
        return g.text(g.op("one_hot", "i", attrs={"depth": table_shape[0]})), [], []
    g.input("t", table_shape)
    table = np.ones(table_shape, np.float32)
    if op == "gather":
        return g.text(g.op("gather", "t", "i")), [], [table]
    return g.text(g.op("gather_grad", "dy", "i", "t")), [np.ones((2, 2) + table_shape[1:], np.float32)], [table]


@pytest.mark.parametrize("op,bad,shown", [
    pytest.param(op, bad, shown, id="%s[index=%s]" % (op, shown))
    for op in ("gather", "gather_grad", "one_hot")
    for bad, shown in ((5.0, "5"), (-1.0, "-1"), (1.5, "1.5"), (np.nan, "nan"), (np.inf, "inf"), (1e30, "1e+30"))])
def test_bad_index_is_value_error_naming_it(op, bad, shown):
    text, before, after = _index_program(op)
    idx = np.array([[0, 4], [2, bad]], np.float32)
    with pytest.raises(_core.ValueError) as e:
        run(text, before + [idx] + after)
    msg = str(e.value)
    assert "[%s] index %s is not an integer in [0, 5)" % (op, shown) in msg, msg


@pytest.mark.parametrize("rate", [pytest.param(r, id="dropout_mask[rate=%s]" % r) for r in (1.0, -0.1)])
def test_dropout_rate_out_of_range(rate):
    with pytest.raises(_core.ValueError, match="rate must be in"):
        _core.infer("dropout_mask", [("f32", (B, 3))], {"rate": rate})


# ---------------------------------------------------------------- the caller's floating-point mode

_DENORMAL_PROBE = r"""
import numpy as np
from kiln import _core

def numpy_keeps_denormals():
    return bool(np.array([1e-40], np.float32).astype(np.float64)[0] != 0) and bool((np.array([1e-310]) * 3.0)[0] != 0)

before = numpy_keeps_denormals()
text = "kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) : f32[?,3]\n  output %y\n}\n"
p = _core.Program(_core.Store(), text)
p.run([np.ones((2, 3), np.float32)])
print(before, numpy_keeps_denormals())
"""


def test_run_restores_the_callers_denormal_mode():
    """Kernels flush denormals (FTZ/DAZ) but the caller's thread gets its mode back, so NumPy
    references computed after a run still see denormals (program.cpp promises this)."""
    import subprocess
    r = subprocess.run([sys.executable, "-c", _DENORMAL_PROBE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    before, after = r.stdout.split()
    assert before == "True", "denormals were already flushed before kiln ran"
    assert after == "True", "after Program.run, NumPy in the calling thread flushes denormals to zero"


def test_broadcast_like_refuses_a_repeated_axis():
    """Found by fuzzing bundles (fuzz/corpus/bundle/regress-broadcast-like-repeated-axis.bundle): an
    axis given twice made the shape rule read past x's dims."""
    with pytest.raises(_core.ShapeError, match="axis 1 is given twice in axes"):
        _core.infer("broadcast_like", [("f32", (None,)), ("f32", (None, 3, 4))], {"axes": [1, 1]})
