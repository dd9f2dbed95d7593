"""random_uniform, random_normal, random_binomial (fresh values in every run, from the counter
hash of kernels/cpu/random.h) and stop_gradient: exact values against the NumPy reimplementation
of the hash, the distributions' moments, the two ways to give a shape, and stop_gradient's zero
gradient."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, ref, run  # noqa: E402

from kiln import _core  # noqa: E402

RANDOM = {"random_uniform": ref.random_uniform, "random_normal": ref.random_normal,
          "random_binomial": ref.random_binomial}
REFERENCES = dict(RANDOM, stop_gradient=lambda x: x)
TESTED_OPS = set(REFERENCES)
PARAMS = {"random_uniform": {"low": -2.0, "high": 3.0}, "random_normal": {"mean": 1.5, "stddev": 0.5},
          "random_binomial": {"p": 0.3}}


def program(op, attrs, like=True, shape=(16, 50)):
    g = Graph()
    if like:
        g.input("x", (None,) + shape[1:])
        y = g.op(op, "x", attrs=attrs)
    else:
        g.input("x", (None, 1))
        y = g.op(op, attrs=dict(attrs, shape=[-1] + list(shape[1:])))
    return _core.Program(_core.Store(), g.text(y)), np.full((shape[0],) + ((shape[1:]) if like else (1,)), np.nan,
                                                            np.float32)


@pytest.mark.parametrize("op", sorted(RANDOM))
@pytest.mark.parametrize("like", [True, False], ids=["like", "shape"])
def test_values_are_the_documented_hash_and_fresh_each_run(op, like):
    p, x = program(op, dict(PARAMS[op], seed=9), like)
    for step in (1, 2, 3):
        (y,) = p.run([x])  # like's data (NaN here) is never read
        assert y.shape == (16, 50)
        assert_close(y.ravel(), RANDOM[op](800, 9, step, **PARAMS[op]), rtol=1e-6, atol=1e-6, what="%s run %d" % (op, step))


@pytest.mark.parametrize("op", sorted(RANDOM))
def test_moments(op):
    p, x = program(op, dict(PARAMS[op], seed=1), shape=(256, 1000))
    (y,) = p.run([x])
    y = y.astype(np.float64)
    n = y.size
    if op == "random_uniform":
        lo, hi = PARAMS[op]["low"], PARAMS[op]["high"]
        assert lo <= y.min() and y.max() < hi
        mean, var = (lo + hi) / 2, (hi - lo) ** 2 / 12
    elif op == "random_normal":
        mean, var = PARAMS[op]["mean"], PARAMS[op]["stddev"] ** 2
        assert abs(np.mean(((y - mean) / np.sqrt(var)) ** 4) - 3.0) < 0.05  # a normal's kurtosis
    else:
        assert set(np.unique(y)) <= {0.0, 1.0}
        mean, var = PARAMS[op]["p"], PARAMS[op]["p"] * (1 - PARAMS[op]["p"])
    assert abs(y.mean() - mean) < 6 * np.sqrt(var / n)
    assert abs(y.var() - var) < 0.01 * var + 1e-9


def test_seeds_tell_streams_apart():
    g = Graph()
    g.input("x", (None, 40))
    a, b, c = (g.op("random_normal", "x", attrs={"seed": s}) for s in (1, 1, 2))
    ya, yb, yc = run(g.text(a, b, c), [np.zeros((4, 40), np.float32)])
    assert np.array_equal(ya, yb) and not np.array_equal(ya, yc)


@pytest.mark.parametrize("types,attrs,fragment", [
    ([], {}, "give the shape either as shape= or as the operand like"),
    ([("f32", (None, 3))], {"shape": [2, 3]}, "not both or neither"),
    ([], {"shape": [-2, 3]}, "shape dims must be sizes >= 0 or -1 for the batch"),
])
def test_shape_errors(types, attrs, fragment):
    with pytest.raises(_core.ValueError, match=fragment):
        _core.infer("random_uniform", types, attrs)


def test_stop_gradient_passes_values_and_no_gradient():
    g = Graph()
    g.input("x", (None, 3))
    s = g.op("stop_gradient", "x")
    loss = g.op("reduce_sum", g.op("add", g.op("mul", s, "x"), "x"))  # d/dx = 1 + s (s held constant)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (y,) = run(g.text(s), [x])
    assert np.array_equal(y, x)
    out = _core.Program(_core.Store(), _core.gradients(g.text(loss), ["x"])).run([x])
    assert np.array_equal(out[1], 1 + x)


def attr_cases():
    """(op, attrs, runner) for test_attrs.py."""
    out = []
    for op in sorted(RANDOM):
        for attrs in ({}, dict(PARAMS[op], seed=3)):
            out.append((op, attrs, lambda a, op=op: run(program(op, a)[0].text(), [program(op, a)[1]])))
    return out
