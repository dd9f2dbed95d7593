"""The executable side of the Keras backend: K.function, K.gradients, K.eval.

These compile through the same IR and runtime as models: `K.function` lowers its outputs to a
program; `K.gradients` asks the native autodiff for the gradient graph and reads it back as
symbolic tensors, so gradients compose with any other op.
"""
import re

import numpy as np

from .. import _core
from ..lower import StepText, lower
from ..device import get_device
from .rnn import scan
from .tensor import Placeholder, Tensor, make, make_multi
from .variables import Variable, compile_program


class _LearningPhase(Placeholder):
    """`K.learning_phase()`: 1 = training, 0 = test. Fed to a `K.function` that lists it among
    its inputs, it picks the phase of the compiled program; graphs resolve it when lowered."""

    def __init__(self):
        super().__init__((), "float32", "keras_learning_phase")


LEARNING_PHASE = _LearningPhase()


def _leaves(outputs):
    """Placeholders the outputs depend on, in discovery order."""
    found, seen, stack = [], set(), list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t, Placeholder) and not t.inputs:
            found.append(t)
        stack.extend(t.inputs)
    return found


class Function:
    """A compiled function of placeholders: `f([x_value, ...]) -> [output arrays]`."""

    def __init__(self, inputs, outputs, updates=None, name=None, **kwargs):
        self.updates = [tuple(u) for u in (updates or [])]
        for u in self.updates:
            if len(u) != 2 or not isinstance(u[0], Variable):
                raise TypeError("K.function: each update must be (variable, new_value), got %r" % (u,))
        self.inputs = list(inputs)
        self.single = isinstance(outputs, Tensor)
        self.outputs = [outputs] if self.single else list(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, Tensor):
                raise TypeError("K.function: inputs and outputs must be kiln tensors, got %r" % (t,))
        feeds = [t for t in self.inputs if t is not LEARNING_PHASE]
        missing = [t for t in _leaves(self.outputs + [v for _, v in self.updates])
                   if t not in feeds and t is not LEARNING_PHASE]
        if missing:
            raise ValueError("K.function: the outputs depend on placeholders that are not inputs: %s" % (missing,))
        self._feeds = feeds
        self._programs = {}

    def _program(self, phase):
        if phase not in self._programs:
            from .ops import constant
            # A graph has at least one result: a function of updates only returns a constant, dropped.
            outputs = self.outputs or [constant(0.0)]
            text, variables = lower(outputs, self._feeds, training=bool(phase), name="function",
                                    updates=[(v, _arg_value(v, x)) for v, x in self.updates])
            self._programs[phase] = compile_program(text, variables, get_device())
        return self._programs[phase]

    def __call__(self, values):
        if not isinstance(values, (list, tuple)):
            values = [values]
        if len(values) != len(self.inputs):
            raise ValueError("K.function takes %d input value(s), got %d" % (len(self.inputs), len(values)))
        phase, arrays = 0, []
        for t, v in zip(self.inputs, values):
            if t is LEARNING_PHASE:
                phase = int(v)
                if phase not in (0, 1):
                    raise ValueError("the learning phase must be 0 or 1, got %r" % (v,))
                continue
            a = np.require(np.asarray(v, dtype=np.float32), requirements="C")
            want = t.shape
            if a.ndim != len(want) or any(w is not None and w != g for w, g in zip(want, a.shape)):
                raise ValueError("K.function: input %s expects shape %s, got an array of shape %s"
                                 % (t.name, want, a.shape))
            arrays.append(a)
        outs = self._program(phase).run(arrays)
        return outs[:len(self.outputs)]


def _arg_value(var, x):
    """An update's new value as a tensor of the variable's shape."""
    from .ops import _arg
    t = _arg(x, "update")
    if tuple(t.shape) != tuple(var.shape):
        t = make("broadcast_like", [t, var])
    return t


def update(x, new_x):
    """(x, new_x): an update for K.function(updates=[...])."""
    return (x, new_x)


def update_add(x, increment):
    return (x, x + increment)


def update_sub(x, decrement):
    return (x, x - decrement)


def function(inputs, outputs, updates=None, **kwargs):
    return Function(inputs, outputs, updates, **kwargs)


def eval(x):
    """The value of a tensor that depends on no placeholder."""
    if isinstance(x, Variable):
        return np.array(x.get_value())
    return Function([], [x])([])[0]


_NODE = re.compile(r"^  (%\S+(?:, %\S+)*) = (\w+)\((.*?)\)(?: \{(.*)\})? : (.+)$")
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^,]+)(?:, |$)')


def _attr_value(text):
    if text.startswith('"'):
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if text.startswith("["):
        return [int(v) for v in text[1:-1].split(",") if v]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


def gradients(loss, variables):
    """Symbolic gradients of the scalar `loss` with respect to each of `variables` (variables or
    placeholders), written by the native autodiff and usable like any tensor. Learning-phase
    switches in `loss` are resolved to the training phase."""
    variables = list(variables)
    if not isinstance(loss, Tensor) or loss.shape != ():
        raise ValueError("K.gradients: the loss must be a scalar kiln tensor, got %r" % (loss,))
    feeds = [t for t in _leaves([loss]) if t is not LEARNING_PHASE]
    text, _, names = lower([loss], feeds, training=True, name="gradients", return_names=True)
    wrt = []
    for v in variables:
        if id(v) not in names:
            raise ValueError("K.gradients: the loss does not depend on %r" % (v,))
        wrt.append(names[id(v)])
    grad_text = _core.gradients(text, wrt)
    by_name = dict(_tensors_by_name(names, [loss] + variables + feeds))
    steps = _nested_graphs(grad_text)
    for line in grad_text.splitlines():
        m = _NODE.match(line)  # top-level nodes only: a nested graph's lines are indented further
        if not m:
            continue
        results, op, args, attrs, _ = m.groups()
        results = [r.strip()[1:] for r in results.split(",")]
        if all(r in by_name for r in results):
            continue
        inputs = [by_name[a.strip()[1:]] for a in args.split(",") if a.strip()]
        attrs = {k: _attr_value(v) for k, v in _ATTR.findall(attrs or "")}
        if op == "scan":
            # a backward loop, or the forward one asked to save its states (computed again here,
            # with the saved states as extra results)
            step = StepText(steps[attrs.pop("body")])
            made = scan(step, inputs, attrs)
            by_name.update((r, t) for r, t in zip(results, made) if r not in by_name)
        elif len(results) == 1:
            by_name[results[0]] = make(op, inputs, attrs)
        else:
            by_name.update(zip(results, make_multi(op, inputs, attrs)))
    out_line = grad_text.strip().splitlines()[-2].strip()
    outs = [o.strip()[1:] for o in out_line[len("output"):].split(",")]
    return [by_name[o] for o in outs[1:]]


def _nested_graphs(text):
    """{name: lines} of the graphs nested in the top-level graph of `text`, unindented."""
    out, current = {}, None
    for line in text.splitlines():
        if current is None and line.startswith("  graph @"):
            current = [line[2:]]
        elif current is not None:
            current.append(line[2:])
            if line == "  }":
                out[current[0][len("graph @"):-2]] = current
                current = None
    return out


def _tensors_by_name(names, roots):
    """(name, tensor) for every tensor reachable from roots that lowering named."""
    seen, stack = set(), list(roots)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t) in names:
            yield names[id(t)], t
        stack.extend(t.inputs)
        if t.results:
            stack.extend(t.results[0])  # the other results of its op, named when it was lowered
