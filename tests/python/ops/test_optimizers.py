"""Optimizer update ops against their Keras 1.2 formulas (tests/reference/ops.py *_step) over
three successive steps: each step runs `apply_*` then `increment(%iterations)` (Nadam also
`nadam_schedule`) in one graph, with a fresh gradient fed as input, and compares the parameter,
every slot and the counters written in place. Covers decay, nesterov, clipvalue, the Nadam
schedule, a parameter past the OpenMP threshold, lr changed between steps, and iterations fed
directly."""
import inspect
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import EPS32, Graph, assert_close, attrs_id, ref  # noqa: E402

from kiln import _core  # noqa: E402

# op -> (reference step, slot operand names); Nadam also takes the shared m_schedule scalar.
OPTIMIZERS = {
    "apply_sgd": (ref.sgd_step, ["moment"]),
    "apply_rmsprop": (ref.rmsprop_step, ["accumulator"]),
    "apply_adagrad": (ref.adagrad_step, ["accumulator"]),
    "apply_adadelta": (ref.adadelta_step, ["accumulator", "delta_accumulator"]),
    "apply_adam": (ref.adam_step, ["m", "v"]),
    "apply_adamax": (ref.adamax_step, ["m", "u"]),
    "apply_nadam": (ref.nadam_step, ["m", "v"]),
}
SIDE_EFFECT_TESTED = set(OPTIMIZERS) | {"nadam_schedule", "increment", "assign",
                                        "apply_constraint"}  # its formula test: test_constraint_op.py

STEPS = 3
_rng = np.random.default_rng(99)

CASES = [
    ("apply_sgd", 0.1, {}),
    ("apply_sgd", 0.1, {"momentum": 0.9}),
    ("apply_sgd", 0.1, {"momentum": 0.9, "nesterov": 1}),
    ("apply_sgd", 0.1, {"momentum": 0.5, "decay": 0.1}),
    ("apply_sgd", 0.1, {"momentum": 0.9, "nesterov": 1, "clipvalue": 0.5}),
    ("apply_rmsprop", 0.01, {}),
    ("apply_rmsprop", 0.01, {"rho": 0.8, "epsilon": 1e-6, "decay": 0.01, "clipvalue": 0.3}),
    ("apply_adagrad", 0.1, {}),
    ("apply_adagrad", 0.1, {"epsilon": 1e-4, "decay": 0.5, "clipvalue": 0.5}),
    ("apply_adadelta", 1.0, {}),
    ("apply_adadelta", 1.0, {"rho": 0.9, "epsilon": 1e-6, "decay": 0.1, "clipvalue": 0.5}),
    ("apply_adam", 0.01, {}),
    ("apply_adam", 0.01, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "decay": 0.05, "clipvalue": 0.4}),
    ("apply_adamax", 0.02, {}),
    ("apply_adamax", 0.02, {"beta_1": 0.85, "beta_2": 0.95, "decay": 0.1, "clipvalue": 0.5}),
    ("apply_nadam", 0.02, {}),
    ("apply_nadam", 0.02, {"beta_1": 0.8, "schedule_decay": 0.05, "decay": 0.1, "clipvalue": 0.5}),
]
BIG = (2, 16385)  # past kParallelMin: the OpenMP loop


def _params():
    out = []
    for op, lr, attrs in CASES:
        tid = "%s[f32-(4,5)%s]" % (op, ("-" + attrs_id(attrs)) if attrs else "")
        out.append(pytest.param(op, lr, attrs, (4, 5), id=tid))
    for op in OPTIMIZERS:
        lr = next(l for o, l, _ in CASES if o == op)
        out.append(pytest.param(op, lr, {}, BIG, id="%s[f32-(2,16385)]" % op))
    return out


def build(op, shape, attrs, n_slots, iterations_input=False):
    g = Graph()
    g.input("g", shape)
    if iterations_input:
        g.input("it", ())
    g.param("p", shape)
    g.state("lr", ())
    if not iterations_input:
        g.state("it", ())
    slots = [g.param("s%d" % i, shape) for i in range(n_slots)]
    sched = ["ms"] if op == "apply_nadam" else []
    if sched:
        g.state("ms", ())
    g.op(op, "p", "g", "lr", "it", *slots, *sched, attrs=attrs)
    if sched:
        sched_attrs = {k: attrs[k] for k in ("beta_1", "schedule_decay") if k in attrs}
        g.op("nadam_schedule", "ms", "it", attrs=sched_attrs)
    if not iterations_input:
        g.op("increment", "it", attrs={"by": 1.0})
    return g.text("g")


def f32(v):
    return float(np.float32(v))


def _defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not p.empty}


def _close_update(got, want, before, what):
    """The parameter: its displacement within 1e-4 of the largest step (updates like m/sqrt(v)
    lose relative precision where m cancels), plus f32 rounding of the values themselves."""
    disp = np.abs(want - before)
    err = np.abs(got.astype(np.float64) - want)
    allowed = 1e-4 * (disp + disp.max()) + 4 * EPS32 * (np.abs(before) + np.abs(want)) + 1e-12
    if (err > allowed).any():
        i = np.unravel_index(np.argmax(err - allowed), err.shape)
        raise AssertionError("%s: %d elements differ; worst at %s: expected %r, got %r (before %r)"
                             % (what, int((err > allowed).sum()), i, want[i], got[i], before[i]))


@pytest.mark.parametrize("op,lr,attrs,shape", _params())
def test_optimizer_three_steps(op, lr, attrs, shape):
    step, slot_names = OPTIMIZERS[op]
    store = _core.Store()
    p = _rng.uniform(-1, 1, size=shape).astype(np.float32)
    slots = [np.zeros(shape, np.float32) for _ in slot_names]
    store.set("p", p)
    store.set("lr", np.array(lr, np.float32))
    store.set("it", np.array(0.0, np.float32))
    for i, s in enumerate(slots):
        store.set("s%d" % i, s)
    nadam = op == "apply_nadam"
    if nadam:
        store.set("ms", np.array(1.0, np.float32))
    prog = _core.Program(store, build(op, shape, attrs, len(slots)))

    w_p, w_slots, w_it, w_ms = p.astype(np.float64), [s.astype(np.float64) for s in slots], 0.0, 1.0
    scale = 2.0 if "clipvalue" in attrs else 1.0  # some gradients beyond the clip
    for t in range(STEPS):
        grad = _rng.uniform(-scale, scale, size=shape).astype(np.float32)
        before = w_p
        # hyper-parameters as the f32 values the kernels compute with (1 - beta_2 in f32, ...)
        kw = {k: (f32(v) if isinstance(v, float) else v) for k, v in {**_defaults(step), **attrs}.items()}
        if nadam:
            w_p, *w_slots = step(w_p, grad.astype(np.float64), f32(lr), w_it, *w_slots, w_ms, **kw)
            sched = {k: attrs[k] for k in ("beta_1", "schedule_decay") if k in attrs}
            w_ms = ref.nadam_schedule_step(w_ms, w_it, **sched)
        else:
            w_p, *w_slots = step(w_p, grad.astype(np.float64), f32(lr), w_it, *w_slots, **kw)
        w_it = ref.increment(w_it, 1.0)

        (echo,) = prog.run([grad])
        assert np.array_equal(echo, grad)
        what = "%s step %d" % (op, t + 1)
        _close_update(store.get("p"), w_p, before, what + " param")
        for i, name in enumerate(slot_names):
            assert_close(store.get("s%d" % i), w_slots[i], rtol=1e-5, atol=1e-6 * np.max(np.abs(w_slots[i])),
                         what="%s slot %s" % (what, name))
        assert store.get("it") == w_it, "%s: iterations %r, expected %r" % (what, store.get("it"), w_it)
        if nadam:
            assert_close(store.get("ms"), w_ms, rtol=1e-6, what=what + " m_schedule")


def test_lr_is_read_at_every_step():
    """A callback's K.set_value(lr) between batches takes effect at the next step."""
    store = _core.Store()
    shape = (3, 4)
    p = _rng.uniform(-1, 1, size=shape).astype(np.float32)
    for k, v in [("p", p), ("lr", np.array(0.1, np.float32)), ("it", np.array(0.0, np.float32)),
                 ("s0", np.zeros(shape, np.float32))]:
        store.set(k, v)
    prog = _core.Program(store, build("apply_sgd", shape, {"momentum": 0.9}, 1))
    w_p, w_m = p.astype(np.float64), np.zeros(shape)
    for t, lr in enumerate([0.1, 0.05, 0.2]):
        store.set("lr", np.array(lr, np.float32))
        grad = _rng.uniform(-1, 1, size=shape).astype(np.float32)
        before = w_p
        w_p, w_m = ref.sgd_step(w_p, grad.astype(np.float64), np.float64(np.float32(lr)), t, w_m, momentum=0.9)
        prog.run([grad])
        _close_update(store.get("p"), w_p, before, "sgd step %d (lr %g)" % (t + 1, lr))
        assert_close(store.get("s0"), w_m, rtol=1e-5, atol=1e-12, what="moment")


@pytest.mark.parametrize("op", [pytest.param(o, id="%s[f32-(4,5)-iterations=0,5,10-decay=0.05]" % o)
                                for o in ("apply_adam", "apply_adamax", "apply_sgd")])
def test_iterations_operand_drives_decay_and_bias_correction(op):
    """`iterations` is the count of completed steps, read from the operand (fed here, not
    incremented): lr / (1 + decay * it) and t = it + 1 in the bias corrections."""
    step, slot_names = OPTIMIZERS[op]
    shape = (4, 5)
    store = _core.Store()
    p = _rng.uniform(-1, 1, size=shape).astype(np.float32)
    store.set("p", p)
    store.set("lr", np.array(0.01, np.float32))
    for i, _ in enumerate(slot_names):
        store.set("s%d" % i, np.zeros(shape, np.float32))
    attrs = {"decay": 0.05}
    prog = _core.Program(store, build(op, shape, attrs, len(slot_names), iterations_input=True))
    w_p, w_slots = p.astype(np.float64), [np.zeros(shape) for _ in slot_names]
    for it in (0.0, 5.0, 10.0):
        grad = _rng.uniform(-1, 1, size=shape).astype(np.float32)
        before = w_p
        w_p, *w_slots = step(w_p, grad.astype(np.float64), np.float64(np.float32(0.01)), it, *w_slots, **attrs)
        prog.run([grad, np.array(it, np.float32)])
        _close_update(store.get("p"), w_p, before, "%s at iterations=%g" % (op, it))


def test_nadam_schedule_advances_the_product():
    store = _core.Store()
    store.set("ms", np.array(1.0, np.float32))
    store.set("it", np.array(0.0, np.float32))
    g = Graph()
    g.input("x", (None, 1))
    g.state("ms", ())
    g.state("it", ())
    g.op("nadam_schedule", "ms", "it", attrs={"beta_1": 0.85, "schedule_decay": 0.01})
    g.op("increment", "it")
    prog = _core.Program(store, g.text("x"))
    want = 1.0
    for t in range(STEPS):
        want = ref.nadam_schedule_step(want, float(t), beta_1=0.85, schedule_decay=0.01)
        prog.run([np.zeros((1, 1), np.float32)])
        assert_close(store.get("ms"), want, rtol=1e-6, what="m_schedule after step %d" % (t + 1))
        assert store.get("it") == t + 1  # increment's default step is 1


@pytest.mark.parametrize("by,shape", [pytest.param(2.5, (3,), id="increment[f32-(3,)-by=2.5]"),
                                      pytest.param(-1.0, (2, 2), id="increment[f32-(2,2)-by=-1.0]"),
                                      pytest.param(1.0, (), id="increment[f32-()-by=1.0]")])
def test_increment(by, shape):
    store = _core.Store()
    x0 = _rng.uniform(-1, 1, size=shape).astype(np.float32)
    store.set("x", x0)
    g = Graph()
    g.input("d", (None, 1))
    g.param("x", shape)
    g.op("increment", "x", attrs={"by": by})
    prog = _core.Program(store, g.text("d"))
    want = x0.astype(np.float64)
    for _ in range(STEPS):
        want = ref.increment(want, by)
        prog.run([np.zeros((1, 1), np.float32)])
        assert_close(store.get("x"), want, rtol=2 * EPS32, what="x")


def test_assign_writes_the_state_after_every_read():
    store = _core.Store()
    x0 = _rng.uniform(-1, 1, size=(2, 3)).astype(np.float32)
    store.set("v", x0)
    g = Graph()
    g.input("d", (None, 3))
    g.state("v", (2, 3))
    before = g.op("reduce_sum", "v")          # reads v before the assign
    new = g.op("mul", "v", g.op("constant", attrs={"value": 2.0}))
    g.op("assign", "v", new)
    prog = _core.Program(store, g.text(before))
    out = prog.run([np.zeros((1, 3), np.float32)])[0]
    assert_close(out, x0.astype(np.float64).sum(), rtol=4 * EPS32, what="read before the assign")
    assert_close(store.get("v"), ref.assign(x0, 2.0 * x0.astype(np.float64)), rtol=0, what="v after the assign")


def test_every_side_effecting_op_is_tested_here():
    side = {n for n in _core.op_names() if _core.op_info(n)["side_effect"]}
    assert side == SIDE_EFFECT_TESTED


@pytest.mark.parametrize("opt,slots", [pytest.param(o, s, id="build_train[%s]" % o)
                                       for o, s in (("adam", ("m", "v")), ("adadelta", ("accumulator",
                                                    "delta_accumulator")), ("nadam", ("m", "v")))])
def test_build_train_gives_every_slot_its_params_type(opt, slots):
    """Regression: build_train read the parameter through a reference into the value table while
    declaring slots, which grows it; once the table reallocated between a parameter's two slots,
    the second slot got a garbage type (seen as `[apply_adam] param and slot must have the same
    type, got f32[16] and f32[]` on a conv model). Graphs of 1..40 params hit every growth step."""
    import re
    for n in range(1, 41):
        g = Graph()
        g.input("x", (None, 2))
        terms = []
        for i in range(n):
            g.param("p%d" % i, (i % 5 + 1, 2))
            terms.append(g.op("reduce_sum", g.op("mul", "x", g.op("reduce_sum", "p%d" % i, attrs={"axes": [0]}))))
        loss = terms[0]
        for t in terms[1:]:
            loss = g.op("add", loss, t)
        text = _core.build_train(g.text(loss), opt, {}, "opt")
        declared = dict(re.findall(r"^  (?:param|state) %(\S+) : (f32\[[^\]]*\])", text, re.M))
        for i in range(n):
            for s in slots:
                assert declared["opt.p%d.%s" % (i, s)] == declared["p%d" % i], (n, i, s)
