"""Gradient tests: for every differentiable op, kiln's analytic gradient (the op's schema grad,
emitted by `_core.gradients` and run on the f32 kernels) against central differences of the
NumPy reference in float64, on small shapes (ggml test-backend-ops grad mode). The loss is
sum(op(x...) * c) with a random cotangent c. Inputs keep away from kinks (relu at 0, ties in
max/min, clip and hard_sigmoid edges); where kiln picks a subgradient, a test pins it. Larger
tensors are checked along one random direction (gradcheck fast mode). Non-differentiable ops
are checked to need no gradient at all."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, attrs_id, ref, run, shape_id  # noqa: E402

from kiln import _core  # noqa: E402
import test_recurrent_ops  # noqa: E402
import test_scan_op  # noqa: E402

_rng = np.random.default_rng(777)


def U(*shape, lo=-2.0, hi=2.0):
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def away(*shape, lo=-2.0, hi=2.0, gap=0.1, kinks=(0.0,)):
    """Uniform values at least `gap` away from every kink."""
    x = U(*shape, lo=lo, hi=hi)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = (k + np.where(x[near] >= k, gap, -gap) * 2).astype(np.float32)
    return x


class GradCase:
    def __init__(self, op, operands, attrs=None, wrt=None, batched=None, tag="", rtol=2e-5, atol=2e-6,
                 direction=False):
        self.op = op
        self.operands = [np.asarray(o, np.float32) for o in operands]
        self.attrs = dict(attrs or {})
        self.wrt = tuple(range(len(operands)) if wrt is None else wrt)
        if batched is None:
            batched = (0,) if self.operands[0].ndim >= 1 else ()
        self.batched = tuple(batched)
        self.rtol, self.atol = rtol, atol
        self.direction = direction  # check one random direction instead of every element
        parts = ["f32", shape_id(self.operands)]
        if self.attrs:
            parts.append(attrs_id(self.attrs))
        parts.append("wrt=" + ",".join(str(i) for i in self.wrt))
        if tag:
            parts.append(tag)
        self.id = "%s[%s]" % (op, "-".join(parts))

    def param(self):
        return pytest.param(self, id=self.id)


def build_loss(case):
    """IR for loss = reduce_sum(op(x...) * c); returns text, feed order, and the value names."""
    n = len(case.operands)
    order = list(case.batched) + [i for i in range(n) if i not in case.batched]
    g = Graph()
    for i in order:
        dims = list(case.operands[i].shape)
        if i in case.batched:
            dims[0] = None
        g.input("x%d" % i, dims)
    out_type = _core.infer(case.op, [g.types["x%d" % i] for i in range(n)], case.attrs)[0]
    g.input("c", out_type[1])
    y = g.op(case.op, *["x%d" % i for i in range(n)], attrs=case.attrs)
    m = g.op("mul", y, "c")
    loss = g.op("reduce_sum", m)
    return g.text(loss), order, out_type


def cotangent(case, out_type):
    batch = case.operands[case.batched[0]].shape[0] if case.batched else 1
    shape = tuple(batch if d is None else batch * -d if d < 0 else d for d in out_type[1])
    return _rng.uniform(-1, 1, size=shape).astype(np.float32)


def kiln_grads(case):
    text, order, out_type = build_loss(case)
    c = cotangent(case, out_type)
    gtext = _core.gradients(text, ["x%d" % i for i in case.wrt])
    outs = run(gtext, [case.operands[i] for i in order] + [c])
    return outs[0], outs[1:], c


# Ops whose reference needs to know whether operand 0 carries the batch dim (see test_ops.py).
REF_BATCHED = {"reshape"}


def ref_loss(case, ops64, c64):
    kw = {"batched": 0 in case.batched} if case.op in REF_BATCHED else {}
    with np.errstate(all="ignore"):
        return float(np.sum(ref.__dict__[case.op](*ops64, **case.attrs, **kw) * c64))


def numeric_grad(case, c, k):
    """Central differences of the float64 reference loss with respect to operand k."""
    ops = [o.astype(np.float64) for o in case.operands]
    c64 = c.astype(np.float64)
    x = ops[k]
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        h = 1e-6 * max(1.0, abs(x[i]))
        old = x[i]
        x[i] = old + h
        up = ref_loss(case, ops, c64)
        x[i] = old - h
        down = ref_loss(case, ops, c64)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def check(case, loss, grads, c):
    ops64 = [o.astype(np.float64) for o in case.operands]
    c64 = c.astype(np.float64)
    assert_close(loss, ref_loss(case, ops64, c64), rtol=1e-4, atol=1e-5, what=case.id + " loss")
    for k, got in zip(case.wrt, grads):
        want = case.operands[k].shape
        assert got.shape == want, "d/dx%d: shape %s, operand %s" % (k, got.shape, want)
        assert got.dtype == np.float32
        if case.direction:
            v = _rng.standard_normal(case.operands[k].shape)
            h = 1e-5
            ops_p = [o.copy() for o in ops64]
            ops_m = [o.copy() for o in ops64]
            ops_p[k] = ops64[k] + h * v
            ops_m[k] = ops64[k] - h * v
            num = (ref_loss(case, ops_p, c64) - ref_loss(case, ops_m, c64)) / (2 * h)
            ana = float(np.sum(got.astype(np.float64) * v))
            scale = float(np.sum(np.abs(got.astype(np.float64) * v)))
            assert abs(ana - num) <= case.rtol * scale + case.atol, (
                "%s: d/dx%d along a random direction: numeric %r, kiln %r" % (case.id, k, num, ana))
        else:
            num = numeric_grad(case, c, k)
            atol = case.atol * max(1.0, float(np.max(np.abs(num))))
            assert_close(got, num, rtol=case.rtol, atol=atol, what="%s d/dx%d" % (case.id, k))


# ---------------------------------------------------------------- cases


def _no_ties(a, b, gap=0.05):
    """b moved so every broadcast pair (a, b) differs by at least gap."""
    b = b.copy()
    for _ in range(100):
        d = np.abs(np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) - b)
        if d.min() >= gap:
            return b
        b = U(*b.shape)
    raise RuntimeError("could not draw untied operands")


def _dense_away_from_relu_kink(x, W, b):
    for _ in range(200):
        z = x.astype(np.float64) @ W + b
        if np.min(np.abs(z)) > 0.05:
            return b
        b = U(*b.shape)
    raise RuntimeError("could not draw x@W+b away from 0")


def unary_cases():
    out = []
    smooth = {"identity": U, "neg": U, "exp": U, "sin": U, "cos": U, "square": U, "sigmoid": U, "tanh": U, "softplus": U,
              "log": lambda *s: U(*s, lo=0.3, hi=3.0), "sqrt": lambda *s: U(*s, lo=0.3, hi=3.0),
              "softsign": away, "abs": away, "relu": away, "elu": away,
              "hard_sigmoid": lambda *s: away(*s, lo=-4, hi=4, kinks=(-2.5, 2.5))}
    for op, gen in smooth.items():
        out.append(GradCase(op, [gen(4, 3)]))
        out.append(GradCase(op, [gen(2, 3, 2)], tag="rank3"))
    out.append(GradCase("elu", [away(4, 3)], {"alpha": 0.7}))
    out.append(GradCase("clip", [away(4, 5, kinks=(-0.5, 1.0))], {"min": -0.5, "max": 1.0}))
    out.append(GradCase("clip", [away(4, 5, kinks=(0.25,))], {"max": 0.25}))
    return out


def binary_cases():
    out = []
    for op in ("add", "sub", "mul", "div", "maximum", "minimum"):
        for sa, sb, batched in [((4, 3), (4, 3), (0, 1)), ((4, 3), (3,), (0,)), ((4, 1), (1, 3), (0,)),
                                ((4, 3), (), (0,)), ((), (4, 3), (1,)), ((2, 1, 3), (4, 1), (0,))]:
            a = U(*sa)
            b = U(*sb, lo=0.5, hi=2.0) * np.where(U(*sb) > 0, 1, -1).astype(np.float32) if op == "div" else U(*sb)
            if op in ("maximum", "minimum"):
                b = _no_ties(a, b)
            out.append(GradCase(op, [a, b], batched=batched))
    return out


def structural_cases():
    out = []
    for xs, rs in [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((4, 3), ()), ((2, 3, 4), (3, 1))]:
        both = len(rs) == len(xs) and rs[0] == xs[0]
        out.append(GradCase("sum_like", [U(*xs), U(*rs)], wrt=(0,), batched=(0, 1) if both else (0,)))
    for xs, rs, attrs, xb in [((3,), (4, 3), {}, 0), ((4, 1), (4, 3), {}, 1), ((), (4, 3), {}, 0),
                              ((4,), (4, 3), {"axes": [1]}, 1), ((2,), (2, 3, 4), {"axes": [1, 2]}, 1),
                              ((3,), (4, 3), {"axes": [0]}, 0)]:
        out.append(GradCase("broadcast_like", [U(*xs), U(*rs)], attrs, wrt=(0,), batched=(1, 0) if xb else (1,)))
    for op in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min"):
        for shape, attrs in [((4, 3), {"axes": [1]}), ((4, 3), {"axes": [0]}), ((4, 3), {}),
                             ((4, 3), {"keepdims": 1}), ((2, 3, 4), {"axes": [0, 2], "keepdims": 1}),
                             ((2, 3, 4), {"axes": [-1]})]:
            out.append(GradCase(op, [U(*shape)], attrs))
    for shape, axis in [((4, 5), -1), ((5, 3), 0), ((2, 3, 4), 1)]:
        out.append(GradCase("softmax", [U(*shape)], {"axis": axis}))
    out.append(GradCase("softmax", [U(2, 2049)], {"axis": -1}, direction=True, tag="direction"))
    return out


def linalg_cases():
    out = []
    for a, b, attrs, batched in [((4, 3), (3, 5), {}, (0,)), ((2, 3, 4), (4, 5), {}, (0,)),
                                 ((4, 3), (5, 3), {"transpose_b": 1}, (0,)),
                                 ((6, 3), (6, 4), {"transpose_a": 1}, (0, 1)),
                                 ((2, 3, 4), (2, 3, 5), {"transpose_a": 1}, (0, 1))]:
        out.append(GradCase("matmul", [U(*a), U(*b)], attrs, batched=batched))
    out.append(GradCase("matmul", [U(33, 65), U(65, 17)], {}, direction=True, tag="direction"))
    out.append(GradCase("bias_add", [U(4, 3), U(3)]))
    out.append(GradCase("bias_add", [U(2, 3, 4), U(4)]))
    for act in ("linear", "relu", "sigmoid", "tanh", "softmax"):
        x, W = U(4, 3), U(3, 5)
        b = _dense_away_from_relu_kink(x, W, U(5))
        out.append(GradCase("dense", [x, W, b], {"activation": act}))
    x, W = U(4, 3), U(3, 5)
    out.append(GradCase("dense", [x, W], {"activation": "linear"}, tag="nobias"))
    x, W = U(2, 3, 4), U(4, 5)
    out.append(GradCase("dense", [x, W, _dense_away_from_relu_kink(x, W, U(5))], {"activation": "relu"}))
    return out


def loss_cases():
    out = []
    soft = _rng.dirichlet(np.ones(5), size=4).astype(np.float32)
    onehot = np.eye(5, dtype=np.float32)[_rng.integers(0, 5, size=4)]
    o = U(4, 5, lo=0.2, hi=1.0)
    for t, attrs, tag in [(soft, {}, "soft"), (onehot, {}, "onehot"), (soft, {"epsilon": 1e-3}, "soft")]:
        out.append(GradCase("categorical_crossentropy", [t, o], attrs, wrt=(1,), batched=(0, 1), tag=tag))
    t3 = np.eye(4, dtype=np.float32)[_rng.integers(0, 4, size=(2, 3))]
    out.append(GradCase("categorical_crossentropy", [t3, U(2, 3, 4, lo=0.2, hi=1.0)], wrt=(1,), batched=(0, 1)))
    idx = _rng.integers(0, 5, size=4).astype(np.float32)
    out.append(GradCase("sparse_categorical_crossentropy", [idx, o], wrt=(1,), batched=(0, 1)))
    out.append(GradCase("sparse_categorical_crossentropy", [idx[:, None], o], wrt=(1,), batched=(0, 1),
                        tag="target-col"))
    out.append(GradCase("sparse_categorical_crossentropy", [_rng.integers(0, 4, size=(2, 3)).astype(np.float32),
                                                            U(2, 3, 4, lo=0.2, hi=1.0)], wrt=(1,), batched=(0, 1)))
    return out


def pow_cases():
    out = []
    pos = lambda *s: U(*s, lo=0.5, hi=2.0)  # noqa: E731
    for sa, sb, batched in [((4, 3), (4, 3), (0, 1)), ((4, 3), (3,), (0,)), ((4, 1), (1, 3), (0,)),
                            ((4, 3), (), (0,)), ((), (4, 3), (1,)), ((2, 1, 3), (4, 1), (0,))]:
        out.append(GradCase("pow", [pos(*sa), U(*sb)], batched=batched))
    # a negative base with a constant integer exponent: d/da only (a^b has no real log there)
    out.append(GradCase("pow", [U(4, 3, lo=-2.0, hi=-0.5), np.array([2.0, 3.0, -1.0], np.float32)], wrt=(0,),
                        tag="negative-base"))
    return out


def shape_cases():
    out = [GradCase("merge_batch", [U(3, 4, 2)]), GradCase("split_batch", [U(3, 4)], {"size": 1}),
           GradCase("split_batch", [U(3, 4), U(3, 1, 2)], wrt=(0,), batched=(0, 1), tag="like"),
           GradCase("fix_batch", [U(3, 4)], {"size": 3}), GradCase("free_batch", [U(1, 4)], batched=()),
           GradCase("reverse", [U(3, 4, 2)], {"axis": 1}),
           GradCase("replica_mean", [U(3, 4)], batched=(), tag="alone")]
    for shape, attrs, batched in [((4, 6), [3, 2], (0,)), ((4, 6), [2, -1], (0,)), ((2, 3, 4), [-1], (0,)),
                                  ((4, 6), [24], ()), ((4, 6), [2, 3, 4], ())]:
        out.append(GradCase("reshape", [U(*shape)], {"shape": attrs}, batched=batched,
                            tag="batched" if batched else "whole"))
    for shape, perm in [((4, 3), [1, 0]), ((2, 3, 4), [2, 0, 1]), ((2, 3, 4), [0, 2, 1]),
                        ((2, 3, 4, 2), [3, 1, 0, 2])]:
        out.append(GradCase("transpose", [U(*shape)], {"perm": perm}))
    for shapes, axis, batched in [([(4, 3), (4, 2)], 1, (0, 1)), ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], 1, (0, 1, 2)),
                                  ([(2, 3), (1, 3)], 0, ()), ([(4, 3)], -1, (0,)), ([(4, 2), (4, 2)], -1, (0, 1))]:
        out.append(GradCase("concat", [U(*sh) for sh in shapes], {"axis": axis}, batched=batched))
    out.append(GradCase("concat", [U(4, 2), U(4, 3)], {"axis": 1}, wrt=(1,), batched=(0, 1), tag="one-operand"))
    for shape, attrs in [((4, 5), {"axis": 1, "begin": 1, "end": 4}), ((2, 3, 4), {"axis": -1, "begin": -2}),
                         ((2, 3, 4), {"axis": 1, "begin": 0, "end": 1})]:
        out.append(GradCase("slice", [U(*shape)], attrs))
    for table, idx in [((6, 3), np.array([0, 5, 2, 2], np.float32)), ((5, 2, 2), np.array([[1, 1, 1], [0, 4, 1]], np.float32)),
                       ((4,), np.array([3, 3], np.float32))]:
        out.append(GradCase("gather", [U(*table), idx], wrt=(0,), batched=(1,), tag="repeated-rows"))
    for shape, reps in [((4, 3), [1, 2]), ((2, 3, 2), [1, 2, 3]), ((2, 1), [1, 4])]:
        out.append(GradCase("tile", [U(*shape)], {"reps": reps}))
    for shape, axis, r in [((4, 3), 1, 2), ((2, 3, 2), -1, 3), ((2, 3, 2), 1, 1)]:
        out.append(GradCase("repeat", [U(*shape)], {"axis": axis, "repeats": r}))
    return out


def reduce_prod_cases():
    out = []
    for shape, attrs in [((4, 3), {"axes": [1]}), ((4, 3), {"axes": [0]}), ((4, 3), {}), ((4, 3), {"keepdims": 1}),
                         ((2, 3, 4), {"axes": [0, 2], "keepdims": 1}), ((2, 3, 4), {"axes": [-1]})]:
        out.append(GradCase("reduce_prod", [U(*shape, lo=0.5, hi=1.5) * np.sign(U(*shape))], attrs))
    # zeros: the product is linear in each element, so central differences stay exact there
    x = np.array([[0.0, 1.5, -2.0, 0.5], [0.0, 0.0, 3.0, 2.0], [1.0, -1.0, 0.5, 2.0]], np.float32)
    out.append(GradCase("reduce_prod", [x], {"axes": [1]}, tag="zeros"))
    out.append(GradCase("reduce_prod", [x], {"axes": [0]}, tag="zeros"))
    return out


def _distinct(*shape, gap=0.1):
    """Values at least `gap` apart (a shuffled ramp): no ties for max pooling to break."""
    n = int(np.prod(shape))
    return ((_rng.permutation(n) - n / 2) * gap).reshape(shape).astype(np.float32)


def conv_cases():
    out = []
    for xs, ws, attrs in [((2, 4, 5, 2), (3, 3, 2, 3), {}),
                          ((2, 5, 5, 1), (2, 2, 1, 2), {"strides": [2, 2], "padding": "same"}),
                          ((1, 5, 4, 3), (3, 2, 3, 2), {"strides": [2, 3], "padding": "same"}),
                          ((2, 4, 4, 2), (4, 3, 2, 2), {"padding": "same"}),
                          ((2, 3, 3, 2), (3, 3, 2, 1), {"padding": "valid"}),
                          ((2, 4, 4, 2), (1, 1, 2, 3), {}),
                          ((2, 6, 5, 1), (2, 3, 1, 2), {"strides": [3, 2]})]:
        out.append(GradCase("conv2d", [U(*xs), U(*ws)], attrs))
    out.append(GradCase("conv2d", [U(4, 12, 12, 5), U(3, 3, 5, 8)], {"padding": "same", "strides": [2, 2]},
                        direction=True, tag="direction"))
    for act in ("linear", "sigmoid", "tanh", "softmax"):  # the fused epilogue (relu's kink: see dense's cases)
        out.append(GradCase("conv2d", [U(2, 4, 4, 2), U(3, 3, 2, 3), U(3)], {"padding": "same", "activation": act},
                            tag="bias"))
    for xs, attrs in [((2, 4, 4, 3), {"pool": [2, 2]}),
                      ((2, 5, 5, 2), {"pool": [3, 3], "strides": [1, 1], "padding": "same"}),
                      ((2, 5, 6, 1), {"pool": [2, 3], "strides": [2, 2], "padding": "same"}),
                      ((1, 7, 5, 2), {"pool": [2, 2], "strides": [3, 2], "padding": "same"})]:
        for mode in ("max", "avg"):
            out.append(GradCase("pool2d", [_distinct(*xs)], dict(attrs, mode=mode)))
    return out


GRAD_CASES = (unary_cases() + binary_cases() + pow_cases() + structural_cases() + reduce_prod_cases()
              + shape_cases() + linalg_cases() + loss_cases() + conv_cases())
GRAD_TESTED_OPS = {c.op for c in GRAD_CASES} | test_recurrent_ops.GRAD_TESTED_OPS | test_scan_op.GRAD_TESTED_OPS  # their own grad checks


@pytest.mark.parametrize("case", [c.param() for c in GRAD_CASES])
def test_grad(case):
    loss, grads, c = kiln_grads(case)
    check(case, loss, grads, c)


def test_every_differentiable_op_has_a_grad_case():
    diff = {n for n in _core.op_names() if _core.op_info(n)["differentiable"]}
    assert diff - GRAD_TESTED_OPS == set(), "differentiable ops without a gradient test"
    assert GRAD_TESTED_OPS - diff == set(), "gradient tests for ops the registry says are not differentiable"


# ---------------------------------------------------------------- subgradients kiln picks


def _grads_of(op, operands, attrs, batched, c=None):
    case = GradCase(op, operands, attrs, batched=batched)
    text, order, out_type = build_loss(case)
    if c is None:
        b0 = operands[case.batched[0]].shape[0]
        c = np.ones(tuple(b0 if d is None else b0 * -d if d < 0 else d for d in out_type[1]), np.float32)
    gtext = _core.gradients(text, ["x%d" % i for i in range(len(operands))])
    outs = run(gtext, [case.operands[i] for i in order] + [c])
    return outs[1:], c


@pytest.mark.parametrize("op", [pytest.param(o, id="%s[f32-(2,4)-axes=[1]-ties]" % o)
                                for o in ("reduce_max", "reduce_min")])
def test_reduce_extreme_ties_each_get_the_cotangent(op):
    x = np.array([[1, 3, 3, 2], [5, 5, 5, 5]], np.float32) * (1 if op == "reduce_max" else -1)
    (g,), c = _grads_of(op, [x], {"axes": [1]}, (0,), c=np.array([0.5, 2.0], np.float32))
    hit = (x == (x.max(1, keepdims=True) if op == "reduce_max" else x.min(1, keepdims=True)))
    assert_close(g, hit * c[:, None], what=op)


@pytest.mark.parametrize("op,left", [pytest.param("maximum", 1, id="maximum[f32-(3,)x(3,)-ties]"),
                                     pytest.param("minimum", 1, id="minimum[f32-(3,)x(3,)-ties]")])
def test_max_min_ties_go_to_the_left_operand(op, left):
    a = np.array([[1.0, 2.0, -1.0]], np.float32)
    (ga, gb), c = _grads_of(op, [a, a.copy()], {}, (0, 1))
    assert_close(ga, np.ones_like(a), what="d/da")
    assert_close(gb, np.zeros_like(a), what="d/db")


@pytest.mark.parametrize("op,x,want", [
    pytest.param("relu", [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0], id="relu[f32-(3,)-at-0]"),
    pytest.param("abs", [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0], id="abs[f32-(3,)-at-0]"),
    pytest.param("hard_sigmoid", [-2.5, 0.0, 2.5], [0.0, 0.2, 0.0], id="hard_sigmoid[f32-(3,)-at-edges]"),
])
def test_kink_subgradients(op, x, want):
    (g,), _ = _grads_of(op, [np.array([x], np.float32)], {}, (0,))
    assert_close(g, np.array([want]), rtol=1e-6, what=op)


def test_clip_subgradient_at_the_bounds_passes_through():
    x = np.array([[-0.5, 1.0, -0.6, 1.1, 0.0]], np.float32)
    (g,), _ = _grads_of("clip", [x], {"min": -0.5, "max": 1.0}, (0,))
    assert_close(g, np.array([[1.0, 1.0, 0.0, 0.0, 1.0]]), what="clip")


def test_max_pool_ties_route_to_the_first_position():
    """A window of equal values sends its whole cotangent to its first element (row-major);
    overlapping windows that pick the same element add up there."""
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 2, 2, 0] = -1.0
    c = np.array([1.0, 2.0, 4.0, 8.0], np.float32).reshape(1, 2, 2, 1)
    (g,), _ = _grads_of("pool2d", [x], {"mode": "max", "pool": [2, 2], "strides": [1, 1]}, (0,), c=c)
    want = np.zeros((1, 3, 3, 1))
    want[0, 0, 0, 0] = 1.0         # window (0, 0)
    want[0, 0, 1, 0] = 2.0         # window (0, 1) starts at column 1
    want[0, 1, 0, 0] = 4.0         # window (1, 0) starts at row 1
    want[0, 1, 1, 0] = 8.0         # window (1, 1): its first element, not the -1 below-right
    assert_close(g, want, what="pool2d max ties")


def test_cce_grad_is_zero_where_the_output_is_clipped():
    # q = o / sum(o) below epsilon: the clip's derivative is 0 there (Keras 1 behaviour)
    t = np.array([[0.5, 0.5, 0.0]], np.float32)
    o = np.array([[0.0, 0.6, 0.4]], np.float32)
    (_, go), c = _grads_of("categorical_crossentropy", [t, o], {}, (0, 1))
    ops64 = [t.astype(np.float64), o.astype(np.float64)]
    want = ref.categorical_crossentropy_grad(np.ones(1), *ops64)
    assert_close(go, want, rtol=1e-5, what="d/doutput")
    assert np.isfinite(go).all()


# ---------------------------------------------------------------- ops with no gradient


def _nondiff_operands(op):
    """A small operand set for each non-differentiable, non-side-effecting op, its attributes, and
    which operands carry the batch dim (None: all)."""
    x = U(4, 3)
    if op == "slice_grad":
        return [U(4, 2), x], {"axis": 1, "begin": 1, "end": 3}
    if op == "tile_grad":
        return [U(4, 6), x], {"reps": [1, 2]}
    if op == "repeat_grad":
        return [U(4, 6), x], {"axis": 1, "repeats": 2}
    if op == "reduce_prod_grad":
        return [U(4), x], {"axes": [1]}
    if op == "conv2d_grad_input":
        return [U(4, 3, 3, 2), U(2, 2, 3, 2), U(4, 4, 4, 3)], {}, (0, 2)
    if op == "conv2d_grad_filter":
        return [U(4, 2, 2, 2), U(4, 4, 4, 3), U(2, 2, 3, 2)], {"strides": [2, 2]}, (0, 1)
    if op == "pool2d_grad":
        xs = U(4, 4, 4, 3)
        return [U(4, 2, 2, 3), xs, ref.pool2d(xs, "max", [2, 2]).astype(np.float32)], {"mode": "max", "pool": [2, 2]}
    if op == "gather_grad":
        return [U(4, 3), np.array([0, 1, 4, 1], np.float32), U(5, 3)], {}, (0, 1)
    if op == "lstm_grad":  # dy, x, W, U, b, hs, cs, gates
        return [U(4, 2), U(4, 3, 3), U(3, 8), U(2, 8), U(8), U(4, 3, 2), U(4, 3, 2), U(4, 3, 8)], {}, (0, 1, 5, 6, 7)
    if op == "gru_grad":  # dy, x, W, U, b, hs, gates, rh
        return [U(4, 2), U(4, 3, 3), U(3, 6), U(2, 6), U(6), U(4, 3, 2), U(4, 3, 6), U(4, 3, 2)], {}, (0, 1, 5, 6, 7)
    if op == "simple_rnn_grad":  # dy, x, W, U, b, hs
        return [U(4, 2), U(4, 3, 3), U(3, 2), U(2, 2), U(2), U(4, 3, 2)], {}, (0, 1, 5)
    if op == "one_hot":
        return [np.array([[0, 1, 2], [2, 1, 0], [0, 0, 0], [1, 1, 1]], np.float32)], {"depth": 3}
    if op in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
        return [x, U(4, 3)], {}
    if op in ("relu_grad", "sigmoid_grad", "tanh_grad", "elu_grad", "softplus_grad", "softsign_grad",
              "hard_sigmoid_grad", "clip_grad", "softmax_grad"):
        return [x, U(4, 3, lo=0.1, hi=0.9)], {}
    if op == "categorical_crossentropy_grad":
        return [U(4), np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], U(4, 3, lo=0.2, hi=1)], {}
    if op == "sparse_categorical_crossentropy_grad":
        return [U(4), np.array([0, 1, 2, 0], np.float32), U(4, 3, lo=0.2, hi=1)], {}
    if op == "constant":
        return [], {"value": 2.0}
    if op == "dropout_mask":
        return [x], {"rate": 0.5, "seed": 1}
    return [x], {}  # sign, round, argmax, reduce_count


NON_DIFF = sorted(n for n in _core.op_names()
                  if not _core.op_info(n)["differentiable"] and not _core.op_info(n)["side_effect"])


@pytest.mark.parametrize("op", [pytest.param(o, id="%s[no-grad]" % o) for o in NON_DIFF])
def test_non_differentiable_op_needs_no_grad(op):
    """loss = sum(x * c) + sum(op(x, ...)): autodiff must not ask op for a gradient, and
    d loss/d x is c alone (nothing flows back through op); its other operands get zeros."""
    info = _core.op_info(op)
    assert not info["has_grad"], "%s is marked non-differentiable but has a gradient that would never run" % op
    operands, attrs, *batched = _nondiff_operands(op)
    batched = batched[0] if batched else None
    x = operands[0] if operands else U(4, 3)
    g = Graph()
    names = []
    for i, o in enumerate(operands if operands else [x]):
        names.append(g.input("x%d" % i, (None,) + o.shape[1:] if batched is None or i in batched else o.shape))
    g.input("c", (None,) + x.shape[1:])
    y = g.op(op, *(names if operands else []), attrs=attrs)
    y = y[0] if isinstance(y, tuple) else y  # several results: the first stands for them
    s1 = g.op("reduce_sum", g.op("mul", names[0], "c"))
    loss = g.op("add", s1, g.op("reduce_sum", y))
    c = U(*x.shape)
    feeds = (operands if operands else [x]) + [c]
    text = _core.gradients(g.text(loss), names)
    outs = run(text, feeds)
    assert_close(outs[1], c, what="d/dx0")
    for k, got in enumerate(outs[2:], start=1):
        assert_close(got, np.zeros_like(feeds[k]), what="d/dx%d" % k)


# ---------------------------------------------------------------- the golden shape-ops graph, end to end

GOLDEN_SHAPE_OPS = pathlib.Path(__file__).resolve().parents[2] / "ir" / "shape_ops.kir"


def _shape_ops_numpy(ids, x, emb):
    """tests/ir/shape_ops.kir written in NumPy: gather, transpose, reshape, slice, concat, pow."""
    b = x.shape[0]
    r = emb[ids.astype(np.int64)].transpose(0, 2, 1).reshape(b, -1)
    xs = x[:, 1:-1]
    p = np.concatenate([r, xs, x], axis=1) ** 2.0
    return p.reshape(b, 3, -1), xs


def test_golden_shape_ops_graph_runs_and_differentiates():
    """The golden file's graph, fed and differentiated through every new op at once: outputs
    against NumPy, and d loss / d emb (the table; a row gathered twice) and d loss / d x (reached
    through both the slice and the whole x in one concat) against central differences."""
    text = GOLDEN_SHAPE_OPS.read_text()
    ids = np.array([[0, 3, 3, 9, 1], [2, 2, 2, 0, 5], [7, 8, 9, 4, 4]], np.float32)
    x, emb = U(3, 6), U(10, 4)
    store = _core.Store()
    store.set("emb", emb)
    m, xs = run(text, [ids, x], store)
    want_m, want_xs = _shape_ops_numpy(ids, x.astype(np.float64), emb.astype(np.float64))
    assert_close(m, want_m, rtol=1e-6, what="%m")
    assert_close(xs, want_xs, what="%xs")

    c = U(3, 3, 10)
    loss_text = text.replace("  param %emb", "  input %cot : f32[?,3,10]\n  param %emb").replace(
        "  output %m, %xs\n", "  %mc = mul(%m, %cot) : f32[?,3,10]\n  %loss = reduce_sum(%mc) : f32[]\n  output %loss\n")
    loss, d_emb, d_x = run(_core.gradients(loss_text, ["emb", "x"]), [ids, x, c], store)

    def loss64(x64, emb64):
        return float(np.sum(_shape_ops_numpy(ids, x64, emb64)[0] * c))

    x64, emb64 = x.astype(np.float64), emb.astype(np.float64)
    assert_close(loss, loss64(x64, emb64), rtol=1e-5, what="loss")
    for got, arr, name in ((d_x, x64, "d/dx"), (d_emb, emb64, "d/demb")):
        num = np.zeros_like(arr)
        for i in np.ndindex(*arr.shape):
            old = arr[i]
            arr[i] = old + 1e-6
            up = loss64(x64, emb64)
            arr[i] = old - 1e-6
            down = loss64(x64, emb64)
            arr[i] = old
            num[i] = (up - down) / 2e-6
        assert_close(got, num, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(num).max()), what=name)
