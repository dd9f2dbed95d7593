"""The fused recurrent ops (lstm, gru, simple_rnn) and their gradient ops against the step-by-step
NumPy references of tests/reference/recurrent.py: return_sequences on and off, go_backwards,
masks with left and right padding, initial states, other activations, batch sizes on both sides
of the kernels' batch-block edges (16, 32, 64 rows). The gradient ops are checked against central
differences of the forward reference, and the autodiff wiring end to end."""
import pathlib
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import EPS32, Graph, assert_close  # noqa: E402

from kiln import _core  # noqa: E402
from reference import recurrent as rref  # noqa: E402

_rng = np.random.default_rng(606)

# What test_ops.py / test_grads.py add to the registry walk's tables.
REFERENCES = {"lstm": rref.lstm, "lstm_grad": rref.lstm_grad, "gru": rref.gru, "gru_grad": rref.gru_grad,
              "simple_rnn": rref.simple_rnn, "simple_rnn_grad": rref.simple_rnn_grad}
TESTED_OPS = set(REFERENCES)
GRAD_TESTED_OPS = {"lstm", "gru", "simple_rnn"}

CELLS = {"lstm": (4, 2), "gru": (3, 1), "simple_rnn": (1, 1)}  # op -> (gates, states)
OUT_NAMES = {"lstm": ["y", "hs", "cs", "gates"], "gru": ["y", "hs", "gates", "rh"], "simple_rnn": ["y", "hs"]}
GRAD_NAMES = {"lstm": ["dx", "dW", "dU", "db", "dh0", "dc0", "dz", "hprev"],
              "gru": ["dx", "dW", "dU", "db", "dh0", "dz", "hprev"],
              "simple_rnn": ["dx", "dW", "dU", "db", "dh0", "dz", "hprev"]}


def U(*shape, lo=-1.0, hi=1.0):
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def mask_of(B, T, kind):
    if kind is None:
        return None
    m = np.ones((B, T), np.float32)
    for b in range(B):
        n = b % T  # rows padded by 0 .. T-1 steps
        if kind == "left":
            m[b, :n] = 0
        else:
            m[b, T - n:] = 0 if n else 1
    return m


def operands(op, B, T, D, u, mask=None, states=False):
    G, S = CELLS[op]
    ops = [U(B, T, D), U(D, G * u, lo=-0.6, hi=0.6), U(u, G * u, lo=-0.6, hi=0.6), U(G * u, lo=-0.3, hi=0.3)]
    if mask is not None or states:
        ops.append(mask if mask is not None else np.ones((B, T), np.float32))
    if states:
        ops += [U(B, u) for _ in range(S)]
    return ops


BATCHED_FWD = {0, 4, 5, 6}  # x, mask, states carry the batch dim


def run_op(op, ops, attrs, batched):
    g = Graph()
    names = []
    for i, a in enumerate(ops):
        dims = list(a.shape)
        if i in batched:
            dims[0] = None
        names.append(g.input("a%d" % i, dims))
    outs = g.op(op, *names, attrs=attrs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    p = _core.Program(_core.Store(), g.text(*outs))
    order = [i for i in range(len(ops))]
    return p.run([ops[i] for i in order])


FORWARD = []
for op in ("lstm", "gru", "simple_rnn"):
    for rs in (0, 1):
        for back in (0, 1):
            for mask in (None, "left", "right"):
                FORWARD.append((op, 3, 5, 4, 3, mask, False, {"return_sequences": rs, "go_backwards": back}))
    FORWARD += [(op, 2, 4, 3, 2, "left", True, {"return_sequences": 1}),
                (op, 33, 7, 5, 6, "left", False, {"return_sequences": 1}),
                (op, 70, 6, 9, 17, "right", True, {"go_backwards": 1})]
FORWARD += [("gru", 3, 3, 2, 4, None, False, {"activation": "relu", "inner_activation": "sigmoid"}),
            ("simple_rnn", 3, 3, 2, 4, "right", False, {"activation": "softplus", "return_sequences": 1})]
FORWARD += [
    ("lstm", 2, 4, 3, 2, "left", True, {"return_sequences": 1}),
    ("lstm", 2, 4, 3, 2, None, True, {"go_backwards": 1}),
    ("lstm", 3, 3, 2, 4, None, False, {"activation": "relu", "inner_activation": "sigmoid", "return_sequences": 1}),
    ("lstm", 3, 3, 2, 4, "right", False, {"activation": "softsign", "inner_activation": "tanh"}),
    ("lstm", 2, 3, 2, 3, None, False, {"activation": "elu", "inner_activation": "softplus"}),
    ("lstm", 2, 3, 2, 3, None, False, {"activation": "linear", "inner_activation": "hard_sigmoid"}),
    ("lstm", 33, 7, 5, 6, "left", False, {"return_sequences": 1}),   # 2 batch blocks, uneven
    ("lstm", 70, 6, 9, 17, "right", True, {"go_backwards": 1}),      # 4 blocks
    ("lstm", 16, 1, 3, 5, None, False, {}),                          # one step
]
# Dropout (Keras 1's dropout_W / dropout_U): the references draw the kernels' exact masks.
DROP = {"dropout_W": 0.3, "dropout_U": 0.4, "seed": 11}
for op in ("lstm", "gru", "simple_rnn"):
    FORWARD += [(op, 3, 5, 4, 3, "left", True, dict(DROP, return_sequences=1)),
                (op, 33, 4, 3, 5, None, False, dict(DROP, go_backwards=1)),  # 2 batch blocks
                (op, 2, 3, 2, 4, None, False, {"dropout_W": 0.5, "seed": 3}),
                (op, 2, 3, 2, 4, "right", False, {"dropout_U": 0.5, "seed": 4, "return_sequences": 1})]


def fid(c):
    op, B, T, D, u, mask, states, attrs = c
    return "%s[B%d-T%d-D%d-u%d%s%s%s]" % (op, B, T, D, u, "-mask_" + mask if mask else "", "-states" if states else "",
                                         "".join("-%s=%s" % kv for kv in sorted(attrs.items())))


@pytest.mark.parametrize("case", FORWARD, ids=fid)
def test_forward_matches_the_step_equations(case):
    op, B, T, D, u, mask, states, attrs = case
    ops = operands(op, B, T, D, u, mask_of(B, T, mask), states)
    got = run_op(op, ops, attrs, BATCHED_FWD)
    want = REFERENCES[op](*[a.astype(np.float64) for a in ops], **attrs)
    n_acc = D + u
    for name, g, w in zip(OUT_NAMES[op], got, want):
        assert_close(g, w, rtol=8 * EPS32 * np.sqrt(n_acc) * T, atol=1e-6, what="%s %s" % (op, name))


GRADS = [
    ("lstm", 2, 3, 3, 2, None, False, {}),
    ("lstm", 3, 4, 2, 3, "left", True, {"return_sequences": 1}),
    ("lstm", 3, 4, 2, 2, "right", True, {"go_backwards": 1, "return_sequences": 1}),
    ("lstm", 2, 3, 2, 2, None, True, {"go_backwards": 1, "activation": "softsign", "inner_activation": "sigmoid"}),
    ("lstm", 33, 3, 2, 2, "left", True, {"inner_activation": "sigmoid"}),  # 2 blocks in the backward loop
    ("lstm", 2, 3, 3, 2, "left", False, {"input_grad": 0}),  # x needs no gradient: dx is a scalar 0
    ("gru", 2, 3, 3, 2, None, False, {"input_grad": 0}),
    ("simple_rnn", 2, 3, 3, 2, None, True, {"input_grad": 0}),
    ("gru", 2, 3, 3, 2, None, False, {}),
    ("gru", 3, 4, 2, 3, "left", True, {"return_sequences": 1}),
    ("gru", 3, 4, 2, 2, "right", True, {"go_backwards": 1, "return_sequences": 1}),
    ("gru", 33, 3, 2, 2, "left", True, {"activation": "softsign"}),
    ("simple_rnn", 2, 3, 3, 2, None, False, {}),
    ("simple_rnn", 3, 4, 2, 3, "left", True, {"return_sequences": 1, "go_backwards": 1}),
    ("simple_rnn", 33, 3, 2, 2, "right", True, {"activation": "sigmoid"}),
    ("lstm", 3, 4, 2, 3, "left", True, dict(DROP, return_sequences=1)),
    ("lstm", 33, 3, 2, 2, None, False, dict(DROP, go_backwards=1)),
    ("lstm", 2, 3, 3, 2, None, False, dict(DROP, input_grad=0)),
    ("gru", 3, 4, 2, 3, "right", True, dict(DROP, return_sequences=1)),
    ("gru", 33, 3, 2, 2, None, False, {"dropout_U": 0.5, "seed": 2}),
    ("simple_rnn", 3, 4, 2, 3, "left", True, dict(DROP, go_backwards=1)),
    ("simple_rnn", 2, 3, 3, 2, None, False, {"dropout_W": 0.5, "seed": 5}),
]


def _smooth(op, attrs):
    # hard_sigmoid's kink would make central differences unreliable: use sigmoid in grad checks
    a = dict(attrs)
    if op != "simple_rnn":
        a.setdefault("inner_activation", "sigmoid")
    return a


@pytest.mark.parametrize("case", GRADS, ids=fid)
def test_grad_op_matches_central_differences(case):
    op, B, T, D, u, mask, states, attrs = case
    attrs = _smooth(op, attrs)
    ops = operands(op, B, T, D, u, mask_of(B, T, mask), states)
    fwd_attrs = {k: v for k, v in attrs.items() if k != "input_grad"}
    y, *saved = run_op(op, ops, fwd_attrs, BATCHED_FWD)
    dy = U(*y.shape)
    gops = [dy] + ops[:4] + saved + ops[4:]
    nsaved = len(saved)
    batched = {0, 1} | set(range(5, 5 + nsaved)) | set(range(5 + nsaved, len(gops)))
    got = run_op(op + "_grad", gops, attrs, batched)
    want = REFERENCES[op + "_grad"](*[a.astype(np.float64) for a in gops], **attrs)
    for name, g, w in zip(GRAD_NAMES[op], got, want):
        assert_close(g, w, rtol=2e-4, atol=2e-5 * max(1.0, np.abs(w).max()), what="%s_grad %s" % (op, name))


def test_autodiff_routes_through_the_grad_op_with_masks_and_states():
    """_core.gradients on a loss over lstm's y: d/dW, d/dU, d/db, d/dh0, d/dc0 equal central
    differences; the saved results get no zero-filled cotangents (no broadcast_like of them)."""
    B, T, D, u = 3, 4, 2, 2
    x, W, Uw, b = operands("lstm", B, T, D, u)
    mask = mask_of(B, T, "left")
    h0, c0 = U(B, u), U(B, u)
    cot = U(B, u)
    text = """kiln 1
graph @g {
  input %%x : f32[?,%d,%d]
  input %%m : f32[?,%d]
  input %%h0 : f32[?,%d]
  input %%c0 : f32[?,%d]
  input %%cot : f32[?,%d]
  param %%W : f32[%d,%d]
  param %%U : f32[%d,%d]
  param %%b : f32[%d]
  %%y, %%hs, %%cs, %%gates = lstm(%%x, %%W, %%U, %%b, %%m, %%h0, %%c0) {inner_activation="sigmoid"} : f32[?,%d], f32[?,%d,%d], f32[?,%d,%d], f32[?,%d,%d]
  %%p = mul(%%y, %%cot) : f32[?,%d]
  %%loss = reduce_sum(%%p) : f32[]
  output %%loss
}
""" % (T, D, T, u, u, u, D, 4 * u, u, 4 * u, 4 * u, u, T, u, T, u, T, 4 * u, u)
    gtext = _core.gradients(text, ["W", "U", "b", "h0", "c0"])
    assert "lstm_grad(" in gtext and "input_grad=0" in gtext, gtext  # x is an input: no dx GEMM
    assert not re.search(r"broadcast_like\([^)]*%(hs|cs|gates)\)", gtext), gtext
    store = _core.Store()
    for k, v in (("W", W), ("U", Uw), ("b", b)):
        store.set(k, v)
    loss, dW, dU, db, dh0, dc0 = _core.Program(store, gtext).run([x, mask, h0, c0, cot])
    a64 = [a.astype(np.float64) for a in (x, W, Uw, b, mask, h0, c0)]
    f = lambda: float(np.sum(rref.lstm(*a64, inner_activation="sigmoid")[0] * cot))
    assert_close(loss, f(), rtol=1e-5, what="loss")
    nums = rref._numeric(f, [a64[1], a64[2], a64[3], a64[5], a64[6]])
    for name, g, w in zip(["dW", "dU", "db", "dh0", "dc0"], [dW, dU, db, dh0, dc0], nums):
        assert_close(g, w, rtol=2e-4, atol=2e-5, what=name)


@pytest.mark.parametrize("ins,attrs,fragment", [
    ([(None, 5, 3), (4, 8), (2, 8), (8,)], {}, "W must be [D, 4u] = [3, 8]"),
    ([(None, 5, 3), (3, 8), (2, 7), (8,)], {}, "U must be [u, 4u]"),
    ([(None, 5, 3), (3, 8), (2, 8), (7,)], {}, "b must be [8]"),
    ([(None, 5), (3, 8), (2, 8), (8,)], {}, "x must be [B, T, D] (rank 3)"),
    ([(None, 5, 3), (3, 8), (2, 8), (8,), (None, 4)], {}, "mask must be [B, T]"),
    ([(None, 5, 3), (3, 8), (2, 8), (8,), (None, 5), (None, 2)], {}, "takes 2 initial state(s)"),
    ([(None, 5, 3), (3, 8), (2, 8), (8,)], {"activation": "swish"}, "activation 'swish' is not a recurrent activation"),
])
def test_shape_errors_say_what_is_wrong(ins, attrs, fragment):
    with pytest.raises(ValueError) as e:
        _core.infer("lstm", [("f32", s) for s in ins], attrs)
    assert fragment in str(e.value), str(e.value)


def test_dropout_masks_are_the_dropout_mask_ops_and_fixed_over_the_sequence():
    """With x = 1 and U = 0 the projection shows the x-side masks: gate g's column j at every
    step is sum_d mW[b, g, d] W[d, j], the same at every step of a sequence and exactly the
    dropout_mask op's draw; the masks change from run to run and differ between rows."""
    B, T, D, u = 4, 6, 3, 2
    x = np.ones((B, T, D), np.float32)
    W, Uw, b = U(D, u), np.zeros((u, u), np.float32), np.zeros(u, np.float32)
    g = Graph()
    names = [g.input("a0", [None, T, D])] + [g.input("a%d" % i, list(a.shape)) for i, a in ((1, W), (2, Uw), (3, b))]
    y, hs = g.op("simple_rnn", *names, attrs={"dropout_W": 0.5, "seed": 9, "activation": "linear",
                                              "return_sequences": 1})
    p = _core.Program(_core.Store(), g.text(y))
    first, second = p.run([x, W, Uw, b])[0], p.run([x, W, Uw, b])[0]
    m = rref.dropout_values(B * D, 0.5, 9, 1).reshape(B, D)
    np.testing.assert_allclose(first, np.repeat((m @ W)[:, None, :], T, axis=1), rtol=1e-6)
    assert np.abs(first - second).max() > 0  # run 2 draws other masks
    assert len({tuple(r) for r in m}) > 1


def test_dropout_rates_are_checked():
    with pytest.raises(ValueError, match=r"dropout_U must be in \[0, 1\), got 1.0"):
        _core.infer("lstm", [("f32", s) for s in [(None, 5, 3), (3, 8), (2, 8), (8,)]], {"dropout_U": 1.0})


def attr_cases():
    """(op, attrs, runner) for test_attrs.py: every recurrent op run with the attributes a case
    writes; runner(attrs) gives its results on fixed operands."""
    out = []
    # First, dropout with the default seed: the cases that tell seed=0 from another seed.
    unseeded = [(op, 3, 4, 2, 3, None, False, {"dropout_W": 0.3, "dropout_U": 0.3}) for op in CELLS]
    for case in unseeded + FORWARD + GRADS:
        op, B, T, D, u, mask, states, attrs = case
        ops = operands(op, B, T, D, u, mask_of(B, T, mask), states)
        fwd_attrs = {k: v for k, v in attrs.items() if k != "input_grad"}
        out.append((op, fwd_attrs, lambda a, op=op, ops=ops: run_op(op, ops, a, BATCHED_FWD)))
        y, *saved = run_op(op, ops, fwd_attrs, BATCHED_FWD)
        gops = [U(*y.shape)] + ops[:4] + saved + ops[4:]
        batched = {0, 1} | set(range(5, len(gops)))
        out.append((op + "_grad", dict(fwd_attrs, **{k: v for k, v in attrs.items() if k == "input_grad"}),
                    lambda a, op=op, gops=gops, b=batched: run_op(op + "_grad", gops, a, b)))
    return out
