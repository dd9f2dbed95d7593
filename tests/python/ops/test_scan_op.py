"""scan: a loop whose step is a nested graph (docs/ir.md, csrc/ops/scan.cpp). Its forward against
a step-by-step NumPy reference (one and several sequences, states and outputs, reverse, save,
dynamic and zero lengths, a step that swaps its states, a scan nested in a scan's step), its
gradient against float64 central differences, and the text form's errors."""
import pathlib
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close  # noqa: E402

from kiln import _core  # noqa: E402
from numeric import central_difference  # noqa: E402

_rng = np.random.default_rng(1207)
T_DYN = _core.dim("t")


def U(*shape):
    return _rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def ref_scan(step, seqs, inits, consts, reverse=False, save=False):
    """The loop scan runs, in NumPy: step(slices, states, consts) -> (outputs, new states); outputs
    (and, with save, the states entering each step) stacked on axis 1 at their step's t."""
    T = seqs[0].shape[1]
    states, ys, entering = list(inits), {}, {}
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        entering[t] = states
        y, states = step([s[:, t] for s in seqs], states, consts)
        ys[t] = y
    stack = lambda per_t, k, like: (np.stack([per_t[t][k] for t in range(T)], 1) if T
                                    else np.zeros(like.shape[:1] + (0,) + like.shape[1:]))
    n_y = len(next(iter(ys.values()))) if ys else 0
    out = [stack(ys, k, None) for k in range(n_y)] + list(states)
    if save:
        out += [stack(entering, k, inits[k]) for k in range(len(inits))]
    return out


# The op tables test_ops.py / test_grads.py / test_registry.py walk.
REFERENCES = {"scan": ref_scan}
TESTED_OPS = {"scan"}
GRAD_TESTED_OPS = {"scan"}


# Steps: each is (how to build its body in IR, the same step in NumPy, operand maker).
def rnn_body(D, u):
    b = Graph("step")
    b.input("x", (None, D)), b.input("h", (None, u)), b.input("W", (D, u)), b.input("U", (u, u))
    a = b.op("matmul", "x", "W")
    r = b.op("matmul", "h", "U")
    hn = b.op("tanh", b.op("add", a, r))
    return b, (hn, hn)


def rnn_step(xs, states, consts):
    W, Uw = consts
    h = np.tanh(xs[0] @ W + states[0] @ Uw)
    return [h], [h]


def swap_body(u):
    """y = a * x; new a = b (an input passed straight through), new b = a + x."""
    b = Graph("step")
    b.input("x", (None, u)), b.input("a", (None, u)), b.input("b", (None, u))
    y = b.op("mul", "a", "x")
    return b, (y, "b", b.op("add", "a", "x"))


def swap_step(xs, states, consts):
    a, b = states
    return [a * xs[0]], [b, a + xs[0]]


def gated_body(D, u):
    """Two sequences (x and a 0/1 mask), two outputs, one state held where the mask is 0."""
    b = Graph("step")
    b.input("x", (None, D)), b.input("m", (None, 1)), b.input("h", (None, u)), b.input("W", (D, u))
    cand = b.op("tanh", b.op("add", b.op("matmul", "x", "W"), "h"))
    keep = b.op("mul", cand, "m")
    hold = b.op("mul", "h", b.op("sub", b.op("constant", attrs={"value": 1.0}), "m"))
    hn = b.op("add", keep, hold)
    return b, (hn, b.op("square", cand), hn)


def gated_step(xs, states, consts):
    x, m = xs
    cand = np.tanh(x @ consts[0] + states[0])
    hn = cand * m + states[0] * (1 - m)
    return [hn, cand ** 2], [hn]


def scan_graph(body_outs, seq_types, state_types, const_types, attrs):
    body, outs = body_outs
    g = Graph("g")
    names = []
    for i, t in enumerate(seq_types + state_types + const_types):
        names.append(g.input("in%d" % i, t))
    name = g.nest(body, *outs)
    res = g.op("scan", *names, attrs=dict(attrs, body=name, sequences=len(seq_types), states=len(state_types)))
    return g, names, list(res) if isinstance(res, tuple) else [res]


def run_scan(body_outs, seqs, inits, consts, attrs, seq_types=None):
    seq_types = seq_types or [(None,) + s.shape[1:] for s in seqs]
    g, names, res = scan_graph(body_outs, seq_types, [(None,) + s.shape[1:] for s in inits],
                               [c.shape for c in consts], attrs)
    return _core.Program(_core.Store(), g.text(*res)).run(list(seqs) + list(inits) + list(consts))


FORWARD = [
    ("rnn", dict(reverse=0)), ("rnn", dict(reverse=1)), ("rnn", dict(save=1)), ("rnn", dict(reverse=1, save=1)),
    ("swap", {}), ("swap", dict(reverse=1, save=1)), ("gated", {}), ("gated", dict(reverse=1)),
]


def case_operands(kind, B, T, D=3, u=2):
    if kind == "rnn":
        return rnn_body(D, u), rnn_step, [U(B, T, D)], [U(B, u)], [U(D, u), U(u, u)]
    if kind == "swap":
        return swap_body(u), swap_step, [U(B, T, u)], [U(B, u), U(B, u)], []
    m = (_rng.uniform(size=(B, T, 1)) > 0.4).astype(np.float32)
    return gated_body(D, u), gated_step, [U(B, T, D), m], [U(B, u)], [U(D, u)]


@pytest.mark.parametrize("kind,attrs", FORWARD, ids=["%s-%s" % (k, "-".join("%s%d" % i for i in sorted(a.items())))
                                                     for k, a in FORWARD])
def test_forward_matches_the_step_loop(kind, attrs):
    B, T = 4, 5
    body, step, seqs, inits, consts = case_operands(kind, B, T)
    got = run_scan(body, seqs, inits, consts, attrs)
    want = ref_scan(step, [s.astype(np.float64) for s in seqs], [s.astype(np.float64) for s in inits],
                    [c.astype(np.float64) for c in consts], attrs.get("reverse", 0), attrs.get("save", 0))
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, rtol=1e-5, atol=1e-6, what="result %d" % k)


def test_a_dynamic_length_runs_at_each_length_with_one_program():
    body, step, _, _, consts = case_operands("rnn", 3, 1)
    g, names, res = scan_graph(body, [(None, T_DYN, 3)], [(None, 2)], [c.shape for c in consts], {})
    text = g.text(*res)
    assert "f32[?,?t,3]" in text
    p = _core.Program(_core.Store(), text)
    for T in (1, 6, 2):
        xs, h0 = U(3, T, 3), U(3, 2)
        got = p.run([xs, h0] + consts)
        want = ref_scan(step, [xs.astype(np.float64)], [h0.astype(np.float64)], [c.astype(np.float64) for c in consts])
        assert got[0].shape == (3, T, 2)
        for k, (a, b) in enumerate(zip(got, want)):
            assert_close(a, b, rtol=1e-5, atol=1e-6, what="T=%d result %d" % (T, k))


def test_zero_steps_give_empty_outputs_and_the_initial_states():
    body, _, _, _, consts = case_operands("rnn", 2, 1)
    h0 = U(2, 2)
    ys, hT = run_scan(body, [np.zeros((2, 0, 3), np.float32)], [h0], consts, {})
    assert ys.shape == (2, 0, 2)
    assert np.array_equal(hT, h0)


def nested_graph(D, u):
    """An outer scan over [B, T1, T2, D] whose step runs an inner scan over [B, T2, D] (the rnn
    step) from the outer state: one RNN over the T1*T2 steps in order."""
    inner, outs = rnn_body(D, u)
    ob = Graph("outer")
    ob.input("xt", (None, 3, D)), ob.input("h", (None, u)), ob.input("W", (D, u)), ob.input("U", (u, u))
    ob.nest(inner, *outs)
    ys, hT = ob.op("scan", "xt", "h", "W", "U", attrs=dict(body="step", sequences=1, states=1))
    g = Graph("g")
    for name, t in (("x", (None, 2, 3, D)), ("h0", (None, u)), ("W", (D, u)), ("U", (u, u))):
        g.input(name, t)
    g.nest(ob, hT, hT)
    res = g.op("scan", "x", "h0", "W", "U", attrs=dict(body="outer", sequences=1, states=1))
    return g, list(res)


def nested_ref(x, h0, W, Uw):
    h = h0
    for t1 in range(x.shape[1]):
        for t2 in range(x.shape[2]):
            h = np.tanh(x[:, t1, t2] @ W + h @ Uw)
    return h


def test_a_scan_nested_in_a_step():
    D, u = 2, 3
    g, res = nested_graph(D, u)
    x, h0, W, Uw = U(2, 2, 3, D), U(2, u), U(D, u), U(u, u)
    ys, hT = _core.Program(_core.Store(), g.text(*res)).run([x, h0, W, Uw])
    want = nested_ref(*(a.astype(np.float64) for a in (x, h0, W, Uw)))
    assert_close(hT, want, rtol=1e-5, atol=1e-6, what="final state")
    assert_close(ys[:, -1], want, rtol=1e-5, atol=1e-6, what="last output")


def loss_text(g, res, cots):
    """Adds sum(result_k * cot_k) over the results; returns the graph's text with the loss first."""
    terms = []
    for k, r in enumerate(res):
        c = g.input("cot%d" % k, g.types[r][1])
        terms.append(g.op("reduce_sum", g.op("mul", r, c)))
    loss = terms[0]
    for t in terms[1:]:
        loss = g.op("add", loss, t)
    return loss


GRADS = [("rnn", {}), ("rnn", dict(reverse=1)), ("swap", {}), ("gated", dict(reverse=1))]


@pytest.mark.parametrize("kind,attrs", GRADS, ids=["%s-%s" % (k, "-".join("%s%d" % i for i in sorted(a.items())))
                                                   for k, a in GRADS])
def test_gradient_matches_central_differences(kind, attrs):
    B, T = 3, 4
    body, step, seqs, inits, consts = case_operands(kind, B, T)
    g, names, res = scan_graph(body, [(None,) + s.shape[1:] for s in seqs], [(None,) + s.shape[1:] for s in inits],
                               [c.shape for c in consts], attrs)
    operands = seqs + inits + consts
    cots = [U(*((B, T) + tuple(g.types[r][1][2:]) if k < len(res) - len(inits) else (B,) + g.types[r][1][1:]))
            for k, r in enumerate(res)]
    loss = loss_text(g, res, cots)
    wrt = [n for n, a in zip(names, operands) if kind != "gated" or n != "in1"]  # the 0/1 mask stays put
    gtext = _core.gradients(g.text(loss), wrt)
    assert 'save=1' in gtext and 'reverse=%d' % (1 - attrs.get("reverse", 0)) in gtext, gtext
    got = _core.Program(_core.Store(), gtext).run(operands + cots)
    S, K = len(seqs), len(inits)

    def f(*arrays):
        out = ref_scan(step, list(arrays[:S]), list(arrays[S:S + K]), list(arrays[S + K:]), attrs.get("reverse", 0))
        return sum(float(np.sum(o * c)) for o, c in zip(out, cots))

    for k, name in enumerate(wrt):
        i = names.index(name)
        want = central_difference(f, operands, i)
        assert_close(got[1 + k], want, rtol=2e-4, atol=2e-5, what="d/d%s" % name)


def test_gradient_through_a_nested_scan():
    D, u = 2, 2
    g, res = nested_graph(D, u)
    x, h0, W, Uw = U(2, 2, 3, D), U(2, u), U(D, u), U(u, u)
    cot = U(2, u)
    c = g.input("cot", (None, u))
    loss = g.op("reduce_sum", g.op("mul", res[1], c))
    gtext = _core.gradients(g.text(loss), ["x", "h0", "W", "U"])
    assert gtext.count("save=1") == 2, gtext  # the inner scan is differentiated inside the outer's backward step
    got = _core.Program(_core.Store(), gtext).run([x, h0, W, Uw, cot])
    f = lambda *a: float(np.sum(nested_ref(*a) * cot))
    for k, name in enumerate(["x", "h0", "W", "U"]):
        want = central_difference(f, [x, h0, W, Uw], k)
        assert_close(got[1 + k], want, rtol=2e-4, atol=2e-5, what="d/d%s" % name)


def test_text_round_trips_and_unused_bodies_are_dropped():
    body, _, seqs, inits, consts = case_operands("rnn", 2, 3)
    g, names, res = scan_graph(body, [(None, 3, 3)], [(None, 2)], [(3, 2), (2, 2)], {})
    text = g.text(*res)
    assert _core.parse_only(text) == text
    assert "\n  graph @step {\n    input %x : f32[?,3]\n" in text
    dead = re.sub(r"\n  output [^\n]*\n}\n$", "\n  output %in0\n}\n", text)
    assert dead != text
    assert "graph @step" in _core.parse(dead) and "graph @step" not in _core.optimize(dead)  # DCE: the scan, then its body


STEP = """  graph @step {
    input %x : f32[?,2]
    input %h : f32[?,2]
    %y = add(%x, %h) : f32[?,2]
    output %y, %y
  }
"""


def module(inner, scan_line="  %ys, %hT = scan(%xs, %h0) {body=\"step\", sequences=1, states=1} : f32[?,3,2], f32[?,2]\n",
           header="kiln 2", decls="  input %xs : f32[?,3,2]\n  input %h0 : f32[?,2]\n"):
    return "%s\ngraph @g {\n%s%s%s  output %%hT\n}\n" % (header, inner, decls, scan_line)


def test_the_module_template_is_valid():
    assert _core.parse(module(STEP)).count("scan(") == 1


@pytest.mark.parametrize("text,fragment", [
    (module(STEP, header="kiln 1"), "nested graphs need the header 'kiln 2'"),
    (module(STEP.replace("    input %h : f32[?,2]\n", "    input %h : f32[?,2]\n    param %w : f32[2]\n")),
     "a nested graph declares only inputs"),
    (module(STEP + STEP), "graph @step is already defined in graph @g"),
    ("kiln 2\ngraph @g {\n  input %xs : f32[?,3,2]\n" + STEP + "  output %xs\n}\n",
     "nested graphs come first in a graph"),
    (module(STEP.replace("    output %y, %y\n  }\n", "    output %y, %y\n")), "expected '}'"),
])
def test_text_errors_name_the_line(text, fragment):
    with pytest.raises(_core.ParseError, match="line [0-9]+") as e:
        _core.parse_only(text)
    assert fragment in str(e.value)


def test_nesting_is_bounded():
    text = "kiln 2\n" + "".join("graph @g%d {\n" % i for i in range(10))
    with pytest.raises(_core.ParseError, match="graphs nest at most 8 deep"):
        _core.parse_only(text)


SCAN_ERRORS = [
    ('{body="nope", sequences=1, states=1}', "f32[?,3,2], f32[?,2]", "runs graph @nope, which graph @g does not define"),
    ('{body="step", sequences=0, states=1}', "f32[?,3,2], f32[?,2]", "at least one sequence"),
    ('{body="step", sequences=1, states=2}', "f32[?,3,2], f32[?,2]", "do not fit 2 operand(s)"),
    ('{body="step", sequences=1, states=1}', "f32[?,4,2], f32[?,2]", "is declared f32[?,4,2] but the op gives f32[?,3,2]"),
]


@pytest.mark.parametrize("attrs,types,fragment", SCAN_ERRORS)
def test_scan_node_errors(attrs, types, fragment):
    text = module(STEP, scan_line="  %%ys, %%hT = scan(%%xs, %%h0) %s : %s\n" % (attrs, types))
    with pytest.raises((_core.ValueError, _core.ShapeError)) as e:
        _core.parse(text)
    assert fragment in str(e.value) and "line " in str(e.value)


@pytest.mark.parametrize("decls,fragment", [
    ("  input %xs : f32[?,3,5]\n  input %h0 : f32[?,2]\n", "the step of sequence 0 f32[?,5] does not fit graph @step's input %x"),
    ("  input %xs : f32[?,3,2]\n  input %h0 : f32[?,3]\n", "initial state 0 f32[?,3] does not fit"),
    ("  input %xs : f32[?]\n  input %h0 : f32[?,2]\n", "sequence 0 must be [B, T, ...]"),
])
def test_scan_interface_errors_name_the_body_input(decls, fragment):
    text = module(STEP, decls=decls, scan_line="  %ys, %hT = scan(%xs, %h0) {body=\"step\", sequences=1, states=1} : f32[?,3,2], f32[?,2]\n")
    with pytest.raises(_core.ShapeError) as e:
        _core.parse(text)
    assert fragment in str(e.value)


def attr_cases():
    """(op, attrs, runner) for test_attrs.py."""
    body, _, seqs, inits, consts = case_operands("rnn", 2, 3)
    run = lambda a: run_scan(body, seqs, inits, consts, a)
    return [("scan", {}, run), ("scan", {"reverse": 1}, run), ("scan", {"save": 1}, run)]
