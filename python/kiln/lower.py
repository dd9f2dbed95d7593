"""Lowering: symbolic tensors -> IR text.

Walks the op records from the requested outputs back to placeholders and variables, resolves
learning-phase switches for the graph being made (train: 1, test/predict: 0), names every
value (layer outputs keep the layer's name: `%dense_1`), and prints one node per line. The
native side re-infers and verifies every type, so this file holds no shape rule.
"""
import re

from . import _core
from .backend.tensor import PhaseSwitch, Placeholder, Tensor
from .backend.variables import Variable

_SAFE = re.compile(r"[^A-Za-z0-9_.]")
_NAMED_DIM = re.compile(r"\?[a-z]")


def _dim_text(d):
    if d is None:
        return "?"
    return _core.dim_text(d) if d < 0 else str(d)  # ?*3, ?t, ?*?t: ir/dims.h


def _type_text(t):
    dims = ",".join(_dim_text(d) for d in t.ir_shape)
    return "f32[%s]" % dims  # integer tensors travel as f32 holding integers (see tensor.ir_type)


def _attr_text(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ",".join(str(int(x)) for x in v) + "]"


def _attrs_text(attrs):
    if not attrs:
        return ""
    return " {" + ", ".join("%s=%s" % (k, _attr_text(attrs[k])) for k in sorted(attrs)) + "}"


class GraphDisconnected(ValueError):
    pass


def lower(outputs, inputs, training, name="main", return_names=False, updates=(), trainable=None):
    """IR text computing `outputs` (tensors) from `inputs` (placeholders, in order).

    `trainable`: the variables to declare as `param` (what the optimizer updates); by default
    every variable created trainable. `updates` are (variable, new value) pairs: `assign` nodes placed after everything else, so
    every read of a variable in the graph sees its value from before the run.
    Returns (text, variables): the variables the graph reads, in declaration order; with
    `return_names`, also the IR name of each lowered tensor, keyed by id(tensor).
    """
    updates = list(updates)
    for var, _ in updates:
        if not isinstance(var, Variable):
            raise TypeError("an update must assign a kiln variable, got %r" % (var,))
    lines, variables, names = _graph_lines(outputs, inputs, training, name, updates, trainable, "")
    text = _header(lines) + "\n".join(lines) + "\n"
    return (text, variables, names) if return_names else (text, variables)


class StepGraph:
    """A scan's step as tensors (backend/rnn.py): its inputs (stand-ins for one step's slices and
    states, then the outer tensors it captures) and its outputs."""

    def __init__(self, inputs, outputs):
        self.inputs, self.outputs = list(inputs), list(outputs)

    def lines(self, training, name, pad):
        return _graph_lines(self.outputs, self.inputs, training, name, [], None, pad)[0]

    def uses_learning_phase(self):
        stop, seen, todo = {id(t) for t in self.inputs}, set(), list(self.outputs)
        while todo:
            t = todo.pop()
            if id(t) in seen or id(t) in stop:
                continue
            seen.add(id(t))
            if getattr(t, "_uses_learning_phase", False):
                return True
            todo.extend(t.inputs)
        return False


class StepText:
    """A scan's step as IR text (a graph the native autodiff wrote, read back by K.gradients)."""

    def __init__(self, lines):
        self._lines = list(lines)  # "graph @name {" ... "}", unindented

    def lines(self, training, name, pad):
        return [pad + "graph @%s {" % name] + [pad + line for line in self._lines[1:]]

    def uses_learning_phase(self):
        return False  # the native side resolved the phase when it wrote the text


def lower_step(step, training=True, name="step"):
    """IR text of a scan's step graph alone, for inferring the scan."""
    lines = step.lines(training, name, "")
    return _header(lines) + "\n".join(lines) + "\n"


def _header(lines):
    # Named dynamic dims (?t) and nested graphs are version 2 (docs/ir.md).
    v2 = any(_NAMED_DIM.search(line.partition(" : ")[2]) or line.lstrip().startswith("graph @")
             for line in lines[1:])
    return "kiln 2\n" if v2 else "kiln 1\n"


def _resolve(t, training):
    while isinstance(t, PhaseSwitch):
        t = t.inputs[0] if training else t.inputs[1]
    return t


def topological_order(outputs, inputs, training):
    """The tensors `outputs` need, each after its operands (the phase switches resolved for
    `training`), stopping at `inputs` and at tensors made by no op."""
    input_ids = {id(t) for t in inputs}
    order, seen = [], set()
    for out in outputs:
        stack = [(_resolve(out, training), False)]
        while stack:
            t, expanded = stack.pop()
            if id(t) in seen:
                continue
            if expanded or not t.inputs or id(t) in input_ids:
                seen.add(id(t))
                order.append(t)
                continue
            stack.append((t, True))
            for x in reversed(t.inputs):
                x = _resolve(x, training)
                if id(x) not in seen:
                    stack.append((x, False))
    return order


def _graph_lines(outputs, inputs, training, name, updates, trainable, pad):
    """The lines of one graph (its nested step graphs first), indented by `pad`."""
    resolve = lambda t: _resolve(t, training)
    input_ids = {id(t) for t in inputs}
    order = topological_order(list(outputs) + [v for pair in updates for v in pair], inputs, training)

    names, used = {}, set()

    def name_of(t):
        if id(t) in names:
            return names[id(t)]
        base = t.key if isinstance(t, Variable) else _SAFE.sub("_", t.name or "t")
        n, k = base, 0
        while n in used:
            k += 1
            n = "%s.%d" % (base, k)
        used.add(n)
        names[id(t)] = n
        return n

    for t in inputs:
        name_of(t)
    variables = [t for t in order if isinstance(t, Variable) and id(t) not in input_ids]
    for v in variables:
        name_of(v)

    ind = pad + "  "
    decls, nodes, bodies, body_names = [], [], [], set()
    for t in inputs:
        decls.append("%sinput %%%s : %s" % (ind, name_of(t), _type_text(t)))
    trainable_ids = {id(v) for v in trainable} if trainable is not None else {id(v) for v in variables if v.trainable}
    for v in variables:
        if id(v) in trainable_ids:
            decls.append("%sparam %%%s : %s" % (ind, name_of(v), _type_text(v)))
    for v in variables:
        if id(v) not in trainable_ids:
            decls.append("%sstate %%%s : %s" % (ind, name_of(v), _type_text(v)))
    printed = set()  # ops with several results, printed once
    for t in order:
        if id(t) in input_ids or isinstance(t, Variable):
            continue
        if isinstance(t, Placeholder) or t.op is None:
            raise GraphDisconnected(
                "Graph disconnected: cannot obtain value for tensor %r: it is not among the inputs %s"
                % (t, [getattr(i, "name", i) for i in inputs]))
        results = t.results[0] if t.results else [t]
        if id(results[0]) in printed:
            continue
        printed.add(id(results[0]))
        attrs = t.attrs
        step = getattr(t, "step", None)
        if step is not None:  # a scan: its step graph is printed nested, under a name of its own here
            body = "step_" + _SAFE.sub("_", results[0].name or "scan")
            while body in body_names:
                body += "_"
            body_names.add(body)
            bodies += step.lines(training, body, ind)
            attrs = dict(attrs, body=body)
        args = ", ".join("%" + name_of(resolve(x)) for x in t.inputs)
        nodes.append("%s%s = %s(%s)%s : %s" % (ind, ", ".join("%" + name_of(r) for r in results), t.op, args,
                                               _attrs_text(attrs), ", ".join(_type_text(r) for r in results)))
    for var, value in updates:
        nodes.append("%sassign(%%%s, %%%s)" % (ind, name_of(var), name_of(resolve(value))))
    nodes.append(ind + "output " + ", ".join("%" + name_of(resolve(t)) for t in outputs))
    lines = ["%sgraph @%s {" % (pad, name)] + bodies + decls + nodes + [pad + "}"]
    return lines, variables, names


def name_new_tensors(outputs, first_id, stem):
    """Names the tensors a layer call created (ids from `first_id`) that lead to `outputs`:
    the outputs `stem` (or `stem_0`, `stem_1`, ... for several), the others `stem.1`, `stem.2`,
    ... so that a layer's ops read as its own in the IR."""
    outs = [o for o in outputs if isinstance(o, Tensor)]
    found, stack, seen = [], list(outs), set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t.id < first_id or isinstance(t, (Variable, Placeholder)):
            continue
        seen.add(id(t))
        found.append(t)
        stack.extend(t.inputs)
    out_ids = {id(o) for o in outs}
    k = 0
    for t in sorted(found, key=lambda t: t.id):
        if id(t) not in out_ids and t.name is None:
            k += 1
            t.name = "%s.%d" % (stem, k)
    for i, o in enumerate(outs):
        if o.id >= first_id:
            o.name = stem if len(outs) == 1 else "%s_%d" % (stem, i)
