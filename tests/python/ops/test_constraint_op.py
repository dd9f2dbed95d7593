"""apply_constraint (ops/constraints.cpp): each kind's projection against the NumPy reference, over
one axis and several, and its errors."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, ref  # noqa: E402

from kiln import _core  # noqa: E402

_rng = np.random.default_rng(77)
CASES = [
    ("max_norm", {"max_value": 0.7}, (5, 3)), ("max_norm", {"max_value": 0.7, "axes": [0, 1, 2]}, (2, 2, 3, 4)),
    ("max_norm", {"axes": [1]}, (4, 6)), ("unit_norm", {}, (5, 3)), ("unit_norm", {"axes": [0, 1]}, (3, 2, 4)),
    ("min_max_norm", {"min_value": 0.5, "max_value": 1.0, "rate": 0.5}, (6, 2)),
    ("min_max_norm", {"min_value": 2.0, "max_value": 3.0}, (6, 2)), ("non_neg", {}, (4, 4)),
]


def project(kind, attrs, w0):
    store = _core.Store()
    store.set("w", w0)
    g = Graph()
    g.input("d", (None, 1))
    g.param("w", w0.shape)
    g.op("apply_constraint", "w", attrs=dict(attrs, kind=kind))
    _core.Program(store, g.text("d")).run([np.zeros((1, 1), np.float32)])
    return store.get("w")


@pytest.mark.parametrize("kind,attrs,shape", CASES, ids=["%s-%s-%s" % (k, "-".join("%s=%s" % i for i in sorted(a.items())),
                                                                       "x".join(map(str, s))) for k, a, s in CASES])
def test_projection_matches_the_reference(kind, attrs, shape):
    w0 = _rng.uniform(-1.5, 1.5, size=shape).astype(np.float32)
    got = project(kind, attrs, w0)
    want = ref.apply_constraint(w0, kind, **attrs)
    assert_close(got, want, rtol=1e-6, atol=1e-7, what=kind)
    if kind == "max_norm":
        axes = tuple(attrs.get("axes", [0]))
        assert np.sqrt((got.astype(np.float64) ** 2).sum(axis=axes)).max() <= attrs.get("max_value", 2.0) + 1e-6


@pytest.mark.parametrize("attrs,fragment", [
    ({"kind": "clip"}, "unknown constraint kind 'clip'"),
    ({"kind": "max_norm", "axes": [2]}, "axis 2 is out of range for rank 2"),
])
def test_errors(attrs, fragment):
    with pytest.raises((_core.ValueError, _core.ShapeError), match=fragment):
        _core.infer("apply_constraint", [("f32", (3, 4))], attrs)


def attr_cases():
    """(op, attrs, runner) for test_attrs.py: the projected weight."""
    # columns of norm about 0.03, 1.3 and 4: below, inside and above the default bounds
    w0 = (_rng.uniform(-1.5, 1.5, size=(5, 3)) * np.array([0.02, 1.0, 3.0])).astype(np.float32)
    run = lambda a: [project(a.get("kind", "max_norm"), {k: v for k, v in a.items() if k != "kind"}, w0)]
    return [("apply_constraint", {"kind": "max_norm"}, run), ("apply_constraint", {"kind": "max_norm", "max_value": 0.5}, run),
            ("apply_constraint", {"kind": "min_max_norm"}, run),
            ("apply_constraint", {"kind": "min_max_norm", "min_value": 2.0, "rate": 0.5}, run),
            ("apply_constraint", {"kind": "max_norm", "axes": [1], "max_value": 0.5}, run)]
