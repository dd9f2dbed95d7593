"""Shared by the per-op tests: a tiny IR builder that types every result with kiln's own
inference (`_core.infer`), a runner, and an expected-vs-got comparison whose tolerance scales
with magnitude (llm.c's validate_result, MLX's assertEqualArray)."""
import pathlib
import re
import sys

import numpy as np

from kiln import _core

TESTS_DIR = pathlib.Path(__file__).resolve().parents[2]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from reference import ops as ref  # noqa: E402,F401  (re-exported for the test modules)

EPS32 = float(np.finfo(np.float32).eps)
TINY32 = float(np.finfo(np.float32).tiny)


def fmt_attr(v):
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # holds '.' or 'e', or is inf, -inf or nan as the IR writes them
    if isinstance(v, str):
        return '"%s"' % v
    return "[" + ",".join(str(int(a)) for a in v) + "]"


def fmt_attrs(attrs):
    if not attrs:
        return ""
    return " {" + ", ".join("%s=%s" % (k, fmt_attr(v)) for k, v in sorted(attrs.items())) + "}"


def fmt_type(t):
    dtype, dims = t
    return "%s[%s]" % (dtype, ",".join("?" if d is None else _core.dim_text(d) if d < 0 else str(d) for d in dims))


def concrete(t, batch):
    return tuple(batch if d is None else batch * -d if d < 0 else d for d in t[1])


class Graph:
    """Builds IR text; every node's result types come from kiln's inference."""

    def __init__(self, name="g"):
        self.name = name
        self.bodies = []  # (Graph, its outputs): nested graphs, run by scan nodes by name
        self.decls, self.nodes = [], []
        self.types = {}
        self._n = 0

    def _decl(self, kind, name, dims):
        t = ("f32", tuple(dims))
        self.types[name] = t
        self.decls.append("  %s %%%s : %s" % (kind, name, fmt_type(t)))
        return name

    def input(self, name, dims):
        return self._decl("input", name, dims)

    def param(self, name, dims):
        return self._decl("param", name, dims)

    def state(self, name, dims):
        return self._decl("state", name, dims)

    def nest(self, body, *outputs):
        """Adds `body` (a Graph) as a nested graph giving `outputs`; returns its name."""
        self.bodies.append((body, outputs))
        return body.name

    def op(self, op, *args, attrs=None):
        """Adds a node; returns its result name (a tuple for several, None for none)."""
        attrs = dict(attrs or {})
        nested = [b.text(*outs) for b, outs in self.bodies if b.name == attrs.get("body")]
        out_types = _core.infer(op, [self.types[a] for a in args], attrs, *nested)
        names = []
        for t in out_types:
            self._n += 1
            names.append("v%d" % self._n)
            self.types[names[-1]] = t
        call = "%s(%s)%s" % (op, ", ".join("%" + a for a in args), fmt_attrs(attrs))
        if names:
            call = "%s = %s : %s" % (", ".join("%" + n for n in names), call, ", ".join(fmt_type(t) for t in out_types))
        self.nodes.append("  " + call)
        return names[0] if len(names) == 1 else (tuple(names) if names else None)

    def lines(self, outputs, pad=""):
        nested = [line for b, outs in self.bodies for line in b.lines(outs, pad + "  ")]
        own = [pad + line for line in self.decls + self.nodes + ["  output " + ", ".join("%" + o for o in outputs)]]
        return [pad + "graph @%s {" % self.name] + nested + own + [pad + "}"]

    def text(self, *outputs):
        lines = self.lines(outputs)
        v2 = self.bodies or any(re.search(r"\?[a-z]", line) for line in lines)
        return "kiln %d\n%s\n" % (2 if v2 else 1, "\n".join(lines))


def conv_loss_graph(x_shape, w_shape, attrs):
    """sum(conv2d(x, w) * c) with x, w and c inputs: the graph whose gradients the convolution
    tests check against central differences. Returns the builder, the loss and c's shape."""
    g = Graph()
    g.input("x", x_shape)
    g.input("w", w_shape)
    y = g.op("conv2d", "x", "w", attrs=attrs)
    g.input("c", g.types[y][1])
    return g, g.op("reduce_sum", g.op("mul", y, "c")), tuple(g.types[y][1])


def run(text, feeds, store=None):
    p = _core.Program(store if store is not None else _core.Store(), text)
    return p.run([np.asarray(f, dtype=np.float32) if not isinstance(f, np.ndarray) else f for f in feeds])


def assert_close(got, expected, rtol=0.0, atol=0.0, mag=None, what="values"):
    """Same NaN and infinity positions, then |got - expected| <= atol + rtol * mag on the
    finite elements, where mag (default |expected|) is the magnitude the error scales with.
    The float64 expectation is rounded to float32 first (so overflow reads as inf), and the
    message names the worst element as expected vs got."""
    got = np.asarray(got, dtype=np.float64)
    with np.errstate(over="ignore"):
        exp = np.asarray(expected, dtype=np.float64).astype(np.float32).astype(np.float64)
    assert got.shape == exp.shape, "%s: shape: expected %s, got %s" % (what, exp.shape, got.shape)
    for name, fn in (("NaN", np.isnan), ("inf", np.isinf)):
        bad = fn(got) != fn(exp)
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise AssertionError("%s: %s positions differ (%d elements), first at %s: expected %r, got %r"
                                 % (what, name, int(bad.sum()), i, exp[i], got[i]))
    inf = np.isinf(exp)
    if (got[inf] != exp[inf]).any():
        i = tuple(int(k) for k in np.argwhere(inf & (got != exp))[0])
        raise AssertionError("%s: infinity sign differs at %s: expected %r, got %r" % (what, i, exp[i], got[i]))
    fin = np.isfinite(exp)
    m = np.abs(exp) if mag is None else np.broadcast_to(np.abs(np.asarray(mag, dtype=np.float64)), exp.shape)
    allowed = atol + rtol * np.where(np.isfinite(m), m, 0.0)
    err = np.where(fin, np.abs(got - np.where(fin, exp, 0.0)), 0.0)
    bad = err > allowed
    if bad.any():
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.where(bad, err - allowed, -np.inf)), exp.shape))
        raise AssertionError(
            "%s: %d of %d elements differ; worst at %s: expected %r, got %r (|err| %.3g > allowed %.3g; "
            "rtol %.3g, atol %.3g); max |err| %.3g"
            % (what, int(bad.sum()), exp.size, i, exp[i], got[i], err[i], allowed[i], rtol, atol, err.max()))


def shape_id(arrays):
    return "x".join("(%s)" % ",".join(str(d) for d in a.shape) if a.ndim != 1 else "(%d,)" % a.shape[0]
                    for a in arrays) or "()"


def attrs_id(attrs):
    return "-".join("%s=%s" % (k, fmt_attr(v).replace('"', "")) for k, v in sorted((attrs or {}).items()))
