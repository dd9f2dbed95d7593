"""Attribute declarations (csrc/ops/attrs.h). A schema owns each attribute's kind and default, so
running an op without an attribute must equal running it with the default written out: a kernel
or infer function that states a default of its own breaks that as soon as the two differ, which
the same cases check they can notice (another value changes the result). Then the verifier's
errors for a wrong kind and a missing required attribute, from `_core.infer` and from IR text
with its line, and the canonical printer leaving defaults unwritten."""
import copy
import math
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import test_ops  # noqa: E402
import test_recurrent_ops  # noqa: E402
import test_constraint_op  # noqa: E402
import test_random_ops  # noqa: E402
import test_scan_op  # noqa: E402
import test_optimizers  # noqa: E402
from ophelpers import Graph, fmt_attr, run  # noqa: E402

from kiln import _core  # noqa: E402

OPS = _core.op_names()
INFO = {op: _core.op_info(op) for op in OPS}
KIND_TYPES = {"int": int, "float": float, "str": str, "ints": list, "bool": bool}


@pytest.mark.parametrize("op", [pytest.param(o, id="attrs[%s]" % o) for o in OPS if INFO[o]["attrs"]])
def test_every_attribute_has_a_kind_and_one_presence(op):
    info = INFO[op]
    assert sorted(info["attr_kinds"]) == sorted(info["attrs"])
    for name in info["attrs"]:
        kind = info["attr_kinds"][name]
        assert kind in KIND_TYPES, "%s.%s: unknown kind %r" % (op, name, kind)
        presences = [name in info["attr_defaults"], name in info["attr_required"], name in info["attr_when_absent"]]
        assert sum(presences) == 1, "%s.%s: default %s, required %s, when-absent %s" % ((op, name) + tuple(presences))
        if name in info["attr_defaults"]:
            d = info["attr_defaults"][name]
            assert type(d) is KIND_TYPES[kind], "%s.%s: default %r is not a %s" % (op, name, d, kind)


# ---------------------------------------------------------------- runners: attrs -> result arrays


def _forward_runner(case):
    def go(attrs):
        c = copy.copy(case)
        c.attrs = attrs
        g, y, feeds, _ = test_ops.build(c)
        return run(g.text(y), feeds)
    return go


def _dropout_runner(attrs):
    g = Graph()
    g.input("x", (None, 64))
    return run(g.text(g.op("dropout_mask", "x", attrs=attrs)), [np.zeros((8, 64), np.float32)])


def _update_runner(op):
    """Two steps of one side-effecting op on fixed data; the result is every value it writes."""
    slots = test_optimizers.OPTIMIZERS[op][1] if op in test_optimizers.OPTIMIZERS else []
    shape = (3, 5)

    def go(attrs):
        rng = np.random.default_rng(5)
        store = _core.Store()
        g = Graph()
        g.input("g", shape)
        g.param("p", shape)
        g.state("lr", ())
        g.state("it", ())
        g.state("ms", ())
        names = [g.param("s%d" % i, shape) for i in range(len(slots))]
        if op == "increment":
            g.op(op, "p", attrs=attrs)
        elif op == "nadam_schedule":
            g.op(op, "ms", "it", attrs=attrs)
        else:
            g.op(op, "p", "g", "lr", "it", *names, *(["ms"] if op == "apply_nadam" else []), attrs=attrs)
        store.set("p", rng.uniform(-1, 1, size=shape).astype(np.float32))
        store.set("lr", np.array(0.01, np.float32))
        store.set("it", np.array(3.0, np.float32))
        store.set("ms", np.array(0.7, np.float32))
        for n in names:
            store.set(n, rng.uniform(0, 1, size=shape).astype(np.float32))
        prog = _core.Program(store, g.text("g"))
        for _ in range(2):
            prog.run([rng.uniform(-2, 2, size=shape).astype(np.float32)])
        return [store.get(n) for n in ["p", "it", "ms"] + names]
    return go


def _cases():
    """op -> [(attrs as a case writes them, runner)] from the per-op tests."""
    out = {}
    for case in test_ops.FORWARD_CASES:
        out.setdefault(case.op, []).append((case.attrs, _forward_runner(case)))
    out["dropout_mask"] = [({"seed": 3}, _dropout_runner), ({"rate": 0.25}, _dropout_runner)]
    for op, _, attrs in test_optimizers.CASES:
        out.setdefault(op, []).append((attrs, _update_runner(op)))
    out["nadam_schedule"] = [({}, _update_runner("nadam_schedule")),
                             ({"beta_1": 0.85, "schedule_decay": 0.01}, _update_runner("nadam_schedule"))]
    out["increment"] = [({}, _update_runner("increment")), ({"by": 2.5}, _update_runner("increment"))]
    for op, attrs, runner in test_recurrent_ops.attr_cases() + test_scan_op.attr_cases() + \
            test_random_ops.attr_cases() + test_constraint_op.attr_cases():
        out.setdefault(op, []).append((attrs, runner))
    return out


CASES = _cases()


def _other_value(op, name, default):
    """A value other than the default, for checking that a case can tell the two apart."""
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return 0.5 if math.isinf(default) else default + 0.25
    if isinstance(default, list):
        return [d + 1 for d in default]
    return {"padding": "same", "activation": "relu", "inner_activation": "sigmoid"}[name]


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _outcome(runner, attrs):
    try:
        return runner(attrs)
    except (_core.ValueError, _core.ShapeError) as e:  # a value the op refuses is a different outcome too
        return type(e).__name__ + ": " + str(e)


def _differs(x, y):
    if isinstance(x, str) or isinstance(y, str):
        return x != y
    return len(x) != len(y) or not all(_same_bits(a, b) for a, b in zip(x, y))


DEFAULTED = [(op, name, d) for op in OPS for name, d in INFO[op]["attr_defaults"].items()]
# Attributes an op accepts but whose value cannot change its result.
INSENSITIVE = {("reduce_count", "keepdims"): "the count is the same with or without kept dims"}


@pytest.mark.parametrize("op,name,default", [pytest.param(o, n, d, id="%s[%s=%s]" % (o, n, fmt_attr(d)))
                                             for o, n, d in DEFAULTED])
def test_leaving_an_attribute_out_equals_writing_its_default(op, name, default):
    usable = [(a, r) for a, r in CASES.get(op, []) if name not in a or a[name] == default][:4]
    assert usable, ("no test case of %s leaves out '%s' or writes its default; add one (test_ops.py, "
                    "test_optimizers.py or CASES here)" % (op, name))
    sensitive = False
    for attrs, runner in usable:
        absent = {k: v for k, v in attrs.items() if k != name}
        got, want = runner(absent), runner({**absent, name: default})
        assert not _differs(got, want), ("%s %s: leaving '%s' out differs from writing its default %s: a default "
                                         "is stated outside the schema" % (op, attrs, name, fmt_attr(default)))
        other = _other_value(op, name, default)
        sensitive = sensitive or _differs(_outcome(runner, {**absent, name: other}), got)
    assert sensitive or (op, name) in INSENSITIVE, ("%s: no case tells '%s=%s' from '%s=%s', so this test could not notice a second default"
                       % (op, name, fmt_attr(default), name, fmt_attr(_other_value(op, name, default))))


# ---------------------------------------------------------------- verifier errors


B = None


@pytest.mark.parametrize("op,ins,attrs,want", [
    pytest.param("softmax", [(B, 3)], {"axis": 1.5}, "[softmax] attribute 'axis' must be an integer, got 1.5",
                 id="softmax[axis=1.5]"),
    pytest.param("softmax", [(B, 3)], {"axis": [1]}, "[softmax] attribute 'axis' must be an integer, got [1]",
                 id="softmax[axis=[1]]"),
    pytest.param("dense", [(B, 3), (3, 4)], {"activation": 1}, "[dense] attribute 'activation' must be a string, got 1",
                 id="dense[activation=1]"),
    pytest.param("dropout_mask", [(B, 3)], {"rate": "half"},
                 "[dropout_mask] attribute 'rate' must be a number, got \"half\"", id="dropout_mask[rate=half]"),
    pytest.param("transpose", [(B, 3)], {"perm": 1.0}, "[transpose] attribute 'perm' must be a list of integers, got 1.0",
                 id="transpose[perm=1.0]"),
    pytest.param("reduce_sum", [(B, 3)], {"keepdims": 2}, "[reduce_sum] attribute 'keepdims' must be 0 or 1 (a bool), got 2",
                 id="reduce_sum[keepdims=2]"),
    pytest.param("pool2d", [(B, 4, 4, 1)], {"pool": [2, 2]}, "[pool2d] needs a 'mode' attribute (a string)",
                 id="pool2d[no-mode]"),
    pytest.param("constant", [], {}, "[constant] needs a 'value' attribute (a number)", id="constant[no-value]"),
])
def test_attribute_of_the_wrong_kind_or_missing_is_value_error(op, ins, attrs, want):
    with pytest.raises(_core.ValueError) as e:
        _core.infer(op, [("f32", d) for d in ins], attrs)
    assert str(e.value) == want


def test_a_float_where_an_int_is_declared_names_the_line():
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %r = relu(%x) : f32[?,3]\n"
            "  %y = softmax(%r) {axis=1.0} : f32[?,3]\n  output %y\n}\n")
    with pytest.raises(_core.ValueError) as e:
        _core.Program(_core.Store(), text)
    assert "line 5: [softmax] attribute 'axis' must be an integer, got 1.0" in str(e.value)


def test_a_missing_required_attribute_names_the_line():
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,4,4,1]\n"
            "  %y = pool2d(%x) {pool=[2,2]} : f32[?,2,2,1]\n  output %y\n}\n")
    with pytest.raises(_core.ValueError) as e:
        _core.Program(_core.Store(), text)
    assert "line 4: [pool2d] needs a 'mode' attribute (a string)" in str(e.value)


def test_an_integer_reads_as_a_number():
    """`{value=3}` is an integer literal; a float attribute takes it (constant_cases rely on it)."""
    assert _core.infer("constant", [], {"value": 3}) == [("f32", ())]
    assert _core.infer("clip", [("f32", (B, 3))], {"min": 0}) == [("f32", (B, 3))]


# ---------------------------------------------------------------- the printer writes what was written


def test_defaults_are_not_printed():
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = softmax(%x) : f32[?,3]\n"
            "  %z = softmax(%y) {axis=-1} : f32[?,3]\n  output %z\n}\n")
    assert _core.parse_only(text) == text
    assert _core.parse(text) == text  # after verification too


def test_autodiff_leaves_defaults_unwritten():
    """A backward helper gets the forward node's attributes as written, no more."""
    g = Graph()
    g.input("x", (None, 3))
    loss = g.op("reduce_sum", g.op("softmax", g.op("elu", "x")))
    text = _core.gradients(g.text(loss), ["x"])
    grads = [line for line in text.splitlines() if "_grad(" in line]
    assert any("softmax_grad(" in line for line in grads) and any("elu_grad(" in line for line in grads)
    assert all("{" not in line for line in grads), "\n".join(grads)


# ---------------------------------------------------------------- optimizer hyper-parameters


_LOSS_IR = ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  param %w : f32[3,2] {init=0.5}\n"
            "  %y = matmul(%x, %w) : f32[?,2]\n  %l = reduce_sum(%y) : f32[]\n  output %l\n}\n")
UPDATES = {"sgd": "apply_sgd", "rmsprop": "apply_rmsprop", "adagrad": "apply_adagrad", "adadelta": "apply_adadelta",
           "adam": "apply_adam", "adamax": "apply_adamax", "nadam": "apply_nadam"}


@pytest.mark.parametrize("opt", [pytest.param(o, id="build_train[%s]" % o) for o in UPDATES])
def test_optimizer_hyper_parameters_are_the_update_ops_attributes(opt):
    info = INFO[UPDATES[opt]]
    hyper = {name: 1.0 if info["attr_kinds"][name] == "bool" else 0.5 for name in info["attrs"]}
    text = _core.build_train(_LOSS_IR, opt, dict(hyper, lr=0.1), "o")
    (line,) = [ln for ln in text.splitlines() if UPDATES[opt] + "(" in ln]
    for name in hyper:
        assert "%s=%s" % (name, "1" if info["attr_kinds"][name] == "bool" else "0.5") in line, line
    with pytest.raises(_core.ValueError) as e:
        _core.build_train(_LOSS_IR, opt, {"bogus": 1.0}, "o")
    assert "unknown hyper-parameter 'bogus'" in str(e.value)
    for name in ["lr", "clipnorm"] + info["attrs"]:
        assert name in str(e.value)
