"""Functions saved as the ops they build: a Lambda's function, a custom loss or metric.

kiln never writes code into a file. A function written with kiln.backend is called again on
symbolic stand-ins of the inputs it was called with while the model was built, and the ops it
records are written as an op list. Loading replays the list through the same `make` /
`make_multi` the backend uses, so the native core infers and checks every shape again; an op
name only selects a registered op, everything else is data, and nothing from a file runs.

The op list (docs/persistence.md):

    {"format": "kiln.ops", "version": 1,
     "inputs":    [{"shape": [null, 4], "dtype": "float32"}, ...],  values 0 .. n-1
     "constants": [{"shape": [4, 2], "data": [8 floats, row-major]}], the next values
     "nodes":     [[op, [operand values], {attrs}], ...],          each adds its result
                  ([op, operands, attrs, k]: an op with k > 1 results adds k values)
     "outputs":   [{"value": v, "shape": [null, 2]}, ...]}

A shape holds null for a dim that is not fixed (the batch, a dynamic length, or a dim that
differed between the calls traced). `in_train_phase` (K.in_train_phase's switch, two operands)
is the one node that is not a core op. Constants are the values of `K.constant`s and of
variables the function made itself; a variable made outside it (K.variable, a layer's weight)
is state, not data, and is refused, as is a function that raises on the stand-ins or that
builds different ops than it did when the model was built (a seed drawn per call).
"""
import functools
import json
import math
import numbers

import numpy as np

from .. import _core
from ..backend.ops import constant, in_train_phase
from ..backend.tensor import PhaseSwitch, Placeholder, Tensor, _ids, infer, make, make_multi
from ..backend.variables import Variable

FORMAT, VERSION = "kiln.ops", 1
PHASE = "in_train_phase"
_KEYS = {"format", "version", "inputs", "constants", "nodes", "outputs"}
_INT_MIN, _INT_MAX = -2 ** 31, 2 ** 63  # below _INT_MIN an int attr is a dynamic dim's code (ir/dims.h)


class TraceError(ValueError):
    """A function that cannot be saved as an op list; the message names it and says why."""


def _as_list(x):
    if isinstance(x, dict):  # a metric's {name: tensor}
        return list(x.values())
    return list(x) if isinstance(x, (list, tuple)) else [x]


def record(calls, first_id, x, out):
    """Keeps the first call of a function per input signature: (first tensor id, its input as
    called, its outputs), for `trace`. `first_id` is `next(_ids)` taken before the call."""
    calls.setdefault(_signature(x), (first_id, x, _as_list(out)))


def _first_places(xs):
    """Where each tensor first stands in the list: a call on [x, x] is not one on [a, b]."""
    return [next(j for j, u in enumerate(xs) if u is t) for t in xs]


def _signature(x):
    xs = _as_list(x)
    return (isinstance(x, (list, tuple)), tuple(_first_places(xs)),
            tuple((tuple(t.shape), t.dtype, t._image_layout) for t in xs))


def trace(call, calls, where):
    """The op list of a function, traced on stand-ins of each input signature in `calls`.

    `call(x)` calls the function as the model did (`x` a tensor or a list, as recorded). The
    ops traced for a signature must be those recorded at that call, and every signature must
    give the same ops (shapes may differ: dims that differ are written null).
    """
    calls = list(calls)
    if not calls:
        raise TraceError("Cannot save %s: it has never been called, so the shapes of its inputs are unknown and it "
                         "cannot be traced. Call it on tensors (build the model) before saving." % where)
    graphs = []
    for first, x, outputs in calls:
        traced = _trace_once(call, x, where)
        built = graph_of(_as_list(x), outputs, first, where)
        if _body(traced) != _body(built):
            raise TraceError("Cannot save %s: traced again on stand-ins of its inputs (shapes %s), it builds other "
                             "ops than it did when the model was built (%s), so no op list is what the model runs. "
                             "Does it draw a random seed per call (give K.dropout a seed=) or read Python state?"
                             % (where, _shapes(x), _first_difference(built, traced)))
        graphs.append(traced)
    return _merged(graphs, where)


def _trace_once(call, x, where):
    xs = _as_list(x)
    stand_ins = []
    for i, (t, first) in enumerate(zip(xs, _first_places(xs))):
        if first < i:
            stand_ins.append(stand_ins[first])
            continue
        s = Placeholder(t.shape, t.dtype)
        s._image_layout = t._image_layout
        stand_ins.append(s)
    state = np.random.get_state()  # saving never moves the user's seeds
    first = next(_ids)
    try:
        out = call(stand_ins if isinstance(x, (list, tuple)) else stand_ins[0])
    except TraceError:
        raise
    except Exception as e:  # the user's code, on stand-ins: whatever it raises is the reason
        raise TraceError("Cannot save %s: it cannot be traced: called on stand-in inputs of shapes %s it raised "
                         "%s: %s. kiln saves it as the ops it builds on symbolic inputs of these shapes."
                         % (where, _shapes(x), type(e).__name__, e)) from e
    finally:
        np.random.set_state(state)
    outs = _as_list(out)
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TraceError("Cannot save %s: traced on stand-ins it returned %r, not kiln tensors" % (where, out))
    return graph_of(stand_ins, outs, first, where)


def graph_of(inputs, outputs, first_id, where):
    """The op list computing `outputs` from `inputs`; variables with ids from `first_id` on
    were made by the function itself and are written as constants."""
    values = {}
    for i, t in enumerate(inputs):
        values.setdefault(id(t), i)
    reached, seen, todo = [], set(), list(outputs)
    while todo:
        t = todo.pop()
        if id(t) in seen or id(t) in values:
            continue
        seen.add(id(t))
        reached.append(t)
        todo.extend(t.inputs)
    reached.sort(key=lambda t: t.id)  # operands are made before the ops that read them
    count = len(inputs)
    constants, nodes = [], []
    for t in reached:
        if t.op is not None or isinstance(t, PhaseSwitch):
            continue
        if not isinstance(t, Variable):
            raise TraceError("Cannot save %s: it reads %r, a tensor that is not one of its inputs (a model's input or "
                             "another layer's output reached from outside, or K.learning_phase(): use "
                             "K.in_train_phase). Pass such tensors to it as inputs." % (where, t))
        if not (getattr(t, "_constant", False) or t.id >= first_id):
            raise TraceError("Cannot save %s: it reads the variable %r, made outside it (K.variable, a layer's "
                             "weight). A variable is state that training and set_value change, not data an op list "
                             "holds: use K.constant for a fixed value, or a Layer of your own for a weight (saved "
                             "with its class in custom_objects)." % (where, t.name))
        value = np.asarray(t.get_value(), np.float32)
        constants.append({"shape": list(value.shape), "data": value.ravel().tolist()})
        values[id(t)] = count
        count += 1
    for t in reached:
        if id(t) in values or (t.op is None and not isinstance(t, PhaseSwitch)):
            continue
        if getattr(t, "step", None) is not None:
            raise TraceError("Cannot save %s: it runs K.rnn, a scan over a nested step graph, which the op list "
                             "format (version %d) does not hold yet" % (where, VERSION))
        results = t.results[0] if t.results else [t]
        operands = [values[id(x)] for x in t.inputs]
        op, attrs = (PHASE, {}) if isinstance(t, PhaseSwitch) else (t.op, _attrs(t, where))
        nodes.append([op, operands, attrs] + ([len(results)] if len(results) > 1 else []))
        for r in results:
            values[id(r)] = count
            count += 1
    return {"format": FORMAT, "version": VERSION,
            "inputs": [{"shape": list(t.shape), "dtype": t.dtype} for t in inputs],
            "constants": constants, "nodes": nodes,
            "outputs": [{"value": values[id(o)], "shape": list(o.shape)} for o in outputs]}


def _attrs(t, where):
    out = {}
    for k, v in t.attrs.items():
        items = v if isinstance(v, (list, tuple)) else [v]
        if isinstance(v, (list, tuple)) and not all(isinstance(x, numbers.Integral) for x in v) or \
                not all(isinstance(x, (numbers.Real, str)) for x in items):
            raise TraceError("Cannot save %s: attribute %s=%r of its op %s is not data" % (where, k, v, t.op))
        if any(isinstance(x, numbers.Integral) and not isinstance(x, bool) and x < _INT_MIN for x in items):
            raise TraceError("Cannot save %s: its op %s has %s=%s, the length of an axis known only at run time, "
                             "which an op list cannot hold (it would not be that length in another run)"
                             % (where, t.op, k, [_core.dim_text(x) if x < _INT_MIN else x for x in items]))
        out[k] = [int(x) for x in v] if isinstance(v, (list, tuple)) else \
            v if isinstance(v, (bool, str)) else int(v) if isinstance(v, numbers.Integral) else float(v)
    return out


def _body(graph):
    """What must be the same between two traces: everything but the shapes."""
    return json.dumps([[i["dtype"] for i in graph["inputs"]], graph["constants"], graph["nodes"],
                       [o["value"] for o in graph["outputs"]]], sort_keys=True)


def _first_difference(a, b):
    for k, (x, y) in enumerate(zip(a["nodes"], b["nodes"])):
        if x != y:
            return "node %d: %s, then %s" % (k, x, y)
    if len(a["nodes"]) != len(b["nodes"]):
        return "%d ops, then %d" % (len(a["nodes"]), len(b["nodes"]))
    return "its constants or outputs differ"


def _shapes(x):
    return ", ".join(str(tuple(t.shape)) for t in _as_list(x))


def _merged(graphs, where):
    out = graphs[0]
    for g in graphs[1:]:
        if _body(g) != _body(out):
            raise TraceError("Cannot save %s: it was called on inputs of different shapes (%s and %s) and builds "
                             "different ops for them (%s), so no one op list describes it"
                             % (where, [i["shape"] for i in out["inputs"]], [i["shape"] for i in g["inputs"]],
                                _first_difference(out, g)))
        for key in ("inputs", "outputs"):
            for mine, theirs in zip(out[key], g[key]):
                if len(mine["shape"]) != len(theirs["shape"]):
                    raise TraceError("Cannot save %s: it was called on inputs of different ranks (%s and %s)"
                                     % (where, mine["shape"], theirs["shape"]))
                mine["shape"] = [a if a == b else None for a, b in zip(mine["shape"], theirs["shape"])]
    return out


@functools.lru_cache(maxsize=1)
def _known_ops():
    return frozenset(n for n in _core.op_names() if n != "scan" and not _core.op_info(n)["side_effect"])


def _fits(shape, spec):
    return len(shape) == len(spec) and all(s is None or d is None or d == s for d, s in zip(shape, spec))


class GraphFunction:
    """A function rebuilt from its op list (`trace`'s dict, read from a file). Called on tensors,
    it replays the ops with make / make_multi. The list is checked when this is made; the core
    checks each op's operands and attributes when it is called. Every problem is a ValueError
    naming `where` (the layer, loss or metric) and the node."""

    def __init__(self, graph, where, name="graph_function"):
        self.where = where
        self.__name__ = name
        self.graph = graph
        self._check(graph)

    def _bad(self, what):
        return ValueError("%s: its saved op list is malformed: %s" % (self.where, what))

    def _shape(self, spec, what):
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if not isinstance(shape, list) or not all(d is None or _count(d) for d in shape):
            raise self._bad("%s needs a shape, a list of sizes (or null), got %r" % (what, spec))
        return shape

    def _check(self, g):
        if not isinstance(g, dict) or g.get("format") != FORMAT:
            raise self._bad("expected a dict with \"format\": %r, got %s" % (FORMAT, _short(g)))
        if g.get("version") != VERSION:
            raise self._bad("version %r; this kiln reads version %d" % (g.get("version"), VERSION))
        if set(g) != _KEYS:
            raise self._bad("its keys are %s, expected %s" % (sorted(g), sorted(_KEYS)))
        for key in ("inputs", "constants", "nodes", "outputs"):
            if not isinstance(g[key], list):
                raise self._bad("%s must be a list, got %s" % (key, _short(g[key])))
        self._inputs = [self._shape(s, "input %d" % i) for i, s in enumerate(g["inputs"])]
        for i, s in enumerate(g["inputs"]):
            if s.get("dtype") not in ("float32", "int32") or set(s) != {"shape", "dtype"}:
                raise self._bad("input %d must be {shape, dtype (float32 or int32)}, got %s" % (i, _short(s)))
        if not self._inputs:
            raise self._bad("it has no inputs")
        self._constants = []
        for i, c in enumerate(g["constants"]):
            shape = self._shape(c, "constant %d" % i)
            data = c.get("data")
            if set(c) != {"shape", "data"} or None in shape or not isinstance(data, list) or \
                    len(data) != math.prod(shape) or \
                    not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
                raise self._bad("constant %d must be {shape, data: prod(shape) numbers}, got %s" % (i, _short(c)))
            self._constants.append(np.array(data, np.float32).reshape(shape))
        count = len(self._inputs) + len(self._constants)
        self._nodes = []
        for k, node in enumerate(g["nodes"]):
            if not isinstance(node, list) or len(node) not in (3, 4):
                raise self._bad("node %d must be [op, operands, attrs] or [op, operands, attrs, results], got %s"
                                % (k, _short(node)))
            op, operands, attrs, n = node + [1] if len(node) == 3 else node
            if not isinstance(op, str) or op not in _known_ops() and op != PHASE:
                raise self._bad("node %d: %s is not an op kiln knows (or one with side effects)" % (k, _short(op)))
            if not isinstance(operands, list) or not all(_count(i) and i < count for i in operands):
                raise self._bad("node %d (%s): operands must be indices of earlier values (0 to %d), got %s"
                                % (k, op, count - 1, _short(operands)))
            if not isinstance(attrs, dict) or not all(_attr_ok(v) for v in attrs.values()):
                raise self._bad("node %d (%s): attrs must be a dict of numbers, strings or lists of integers, got %s"
                                % (k, op, _short(attrs)))
            if not _count(n) or n < 1 or op == PHASE and (n != 1 or len(operands) != 2 or attrs):
                raise self._bad("node %d (%s): results must be a count of at least 1%s, got %s"
                                % (k, op, "" if op != PHASE else " (in_train_phase: 2 operands, 1 result)",
                                   _short(node[3:] or operands)))
            self._nodes.append((op, operands, attrs, n))
            count += n
        self._outputs = []
        for i, o in enumerate(g["outputs"]):
            shape = self._shape(o, "output %d" % i)
            if set(o) != {"value", "shape"} or not _count(o["value"]) or o["value"] >= count:
                raise self._bad("output %d must be {value: an index below %d, shape}, got %s" % (i, count, _short(o)))
            self._outputs.append((o["value"], shape))
        if not self._outputs:
            raise self._bad("it has no outputs")

    def __call__(self, *xs):
        if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
            xs = tuple(xs[0])
        if len(xs) != len(self._inputs):
            raise ValueError("%s takes %d inputs (its saved op list), got %d"
                             % (self.where, len(self._inputs), len(xs)))
        for i, (x, spec) in enumerate(zip(xs, self._inputs)):
            if not isinstance(x, Tensor) or not _fits(x.shape, spec):
                raise ValueError("%s: input %d is %r, but its saved op list was traced for inputs of shape %s"
                                 % (self.where, i, x, tuple(spec)))
        values = list(xs) + [constant(c) for c in self._constants]
        for k, (op, operands, attrs, n) in enumerate(self._nodes):
            args = [values[i] for i in operands]
            try:
                if op == PHASE:
                    outs = [in_train_phase(*args)]
                else:
                    got = len(infer(op, args, attrs))
                    if got != n:
                        raise ValueError("the op gives %d results, the list says %d" % (got, n))
                    outs = [make(op, args, attrs)] if n == 1 else make_multi(op, args, attrs)
            except (ValueError, TypeError, OverflowError, RuntimeError) as e:
                raise ValueError("%s: node %d (%s) of its saved op list: %s" % (self.where, k, op, e)) from None
            values += outs
        outs = []
        for i, (v, shape) in enumerate(self._outputs):
            if not _fits(values[v].shape, shape):
                raise ValueError("%s: its saved op list computes output %d of shape %s, but the list says %s"
                                 % (self.where, i, tuple(values[v].shape), tuple(shape)))
            outs.append(values[v])
        return outs[0] if len(outs) == 1 else outs

    def __repr__(self):
        return "<GraphFunction %s of %s: %d ops>" % (self.__name__, self.where, len(self._nodes))


def _count(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < _INT_MAX


def _attr_ok(v):
    if isinstance(v, list):
        return all(isinstance(x, int) and not isinstance(x, bool) and _INT_MIN <= x < _INT_MAX for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return _INT_MIN <= v < _INT_MAX
    return isinstance(v, (bool, float, str))


def _short(v, n=120):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."
