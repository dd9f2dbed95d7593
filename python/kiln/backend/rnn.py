"""K.rnn: Keras 1.2's loop of a step function over the time axis, for custom recurrent layers.

`rnn(step_function, inputs, initial_states, go_backwards, mask, constants, unroll, input_length)`
calls `step_function(input_t, states + constants) -> (output_t, new_states)` once per timestep
of `inputs` [batch, time, ...] and returns (last_output, outputs [batch, time, ...] in processing
order, last states), as Keras 1.2 does.

By default (`unroll=False`) the step function is called once, on stand-ins for one step's input
and states, and what it builds becomes the nested step graph of a `scan` op (docs/ir.md), run
natively once per timestep: any sequence length works, including one that changes from call to
call (`Input(shape=(None, d))`), and the native autodiff differentiates the loop. Whatever the
step reads from outside (the layer's weights, `constants`, other tensors) becomes the scan's
operands. With `unroll=True` the loop is unrolled into the graph over the known timesteps, as
Keras does.

With a mask [batch, time] (1 keeps a step), a masked step's output is the previous step's output
(zeros before the first kept step) and its states are the previous states, on both paths (Keras
1.2's TensorFlow while-loop repeats states[0] as the output instead, which is the same thing for
the built-in layers and wrong for a step whose output is not its first state).
"""
from .. import _core
from ..lower import StepGraph, lower_step
from .ops import constant, multiply, subtract
from .shape_ops import expand_dims, repeat_elements, reverse, slice_axis, squeeze, stack
from .tensor import PhaseSwitch, Tensor, make


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    if len(inputs.shape) < 3:
        raise ValueError("Input should be at least 3D.")
    constants = list(constants or [])
    if unroll:
        steps = inputs.shape[1] if inputs.shape[1] is not None else input_length
        if steps is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined: unroll=True needs a known "
                             "number of timesteps (got inputs of shape %s; give the Input a fixed length, or "
                             "leave unroll=False to loop over any length)" % (inputs.shape,))
        return _unrolled(step_function, inputs, list(initial_states), go_backwards, mask, constants, steps)
    return _scanned(step_function, inputs, list(initial_states), go_backwards, mask, constants)


def _unrolled(step_function, inputs, states, go_backwards, mask, constants, steps):
    outputs = []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        output, new_states = step_function(squeeze(slice_axis(inputs, 1, t, t + 1), 1), states + constants)
        new_states = list(new_states)
        if mask is not None:
            keep = slice_axis(mask, 1, t, t + 1)  # [batch, 1]
            held = lambda new, old: _select(keep, new, old)
            output = held(output, outputs[-1] if outputs else multiply(output, 0.0))
            new_states = [held(n, s) for n, s in zip(new_states, states)]
        outputs.append(output)
        states = new_states
    return outputs[-1], stack(outputs, axis=1), states


def _select(keep, new, old):
    """new where keep is 1, old where it is 0 (keep [batch, 1] broadcast over new's other dims)."""
    while len(keep.shape) < len(new.shape):
        keep = expand_dims(keep, -1)
    return new * keep + multiply(old, subtract(1.0, keep))


class StepInput(Tensor):
    """A stand-in for one step's slice of a sequence, or a state, inside a step graph."""

    def __init__(self, like, name, drop_time=False):
        shape = like.ir_shape[:1] + like.ir_shape[2:] if drop_time else like.ir_shape
        super().__init__(None, [], {}, like.dtype, shape, name)
        self._fixed_batch = getattr(like, "_fixed_batch", None)


def _scanned(step_function, inputs, initial_states, go_backwards, mask, constants):
    if go_backwards:
        inputs = reverse(inputs, 1)
        mask = reverse(mask, 1) if mask is not None else None
    x_t = StepInput(inputs, "input_t", drop_time=True)
    states = [StepInput(s, "state_%d" % k) for k, s in enumerate(initial_states)]
    output, new_states = step_function(x_t, states + constants)
    new_states = list(new_states)
    if len(new_states) != len(states):
        raise ValueError("the step function returned %d new state(s) for %d state(s)" % (len(new_states), len(states)))
    previous = StepInput(output, "previous_output")  # carried: the last output, and what a masked step repeats
    sequences = [x_t]
    if mask is not None:
        keep = StepInput(mask, "mask_t", drop_time=True)
        sequences.append(keep)
        keep = expand_dims(keep, -1) if len(keep.shape) == 1 else keep
        output = _select(keep, output, previous)
        new_states = [_select(keep, n, s) for n, s in zip(new_states, states)]
    stand_ins = sequences + states + [previous]
    captured = _captures([output] + new_states, stand_ins)
    step = StepGraph(stand_ins + captured, [output] + new_states + [output])
    operands = [inputs] + ([mask] if mask is not None else []) + initial_states
    operands.append(_zeros_like_step(output, inputs, initial_states))
    results = scan(step, operands + captured, {"sequences": len(sequences), "states": len(states) + 1})
    outputs, last_states, last_output = results[0], results[1:-1], results[-1]
    return last_output, outputs, last_states


def scan(step, operands, attrs):
    """The result tensors of scan(operands) {attrs} over `step` (a StepGraph or StepText): its
    outputs stacked, then its final states (and with save=1 the saved states)."""
    body = lower_step(step)
    types = [("f32", tuple(t.ir_shape)) for t in operands]
    try:
        outs = _core.infer("scan", types, dict(attrs, body="step"), body)
    except (_core.ShapeError, _core.ValueError) as e:
        raise ValueError("K.rnn: the step function's graph does not fit the loop: %s" % e) from None
    learning_phase = step.uses_learning_phase()
    results = [Tensor("scan", operands, attrs, "float32", shape) for _, shape in outs]
    for k, t in enumerate(results):
        t.results = (results, k)
        t.step = step
        t._uses_learning_phase = t._uses_learning_phase or learning_phase
    return results


def _captures(outputs, stand_ins):
    """The outer tensors the step reads: operands of step tensors (those that depend on a
    stand-in) that do not depend on one themselves, and outputs that do not. A learning-phase
    switch is looked through to its branches, since the lowering picks one per graph."""
    inner = {id(t): True for t in stand_ins}

    def is_inner(t):
        todo = [t]
        while todo:
            u = todo[-1]
            pending = [x for x in u.inputs if id(x) not in inner]
            if id(u) in inner or pending:
                if id(u) in inner:
                    todo.pop()
                else:
                    todo.extend(pending)
                continue
            todo.pop()
            inner[id(u)] = any(inner[id(x)] for x in u.inputs)
        return inner[id(t)]

    found, seen = [], set()

    def capture(t):
        if isinstance(t, PhaseSwitch):
            for branch in t.inputs:
                capture(branch)
        elif id(t) not in seen:
            seen.add(id(t))
            found.append(t)

    todo, walked = [], set()
    for o in outputs:
        (todo.append if is_inner(o) else capture)(o)
    while todo:
        t = todo.pop()
        if id(t) in walked:
            continue
        walked.add(id(t))
        for x in t.inputs:
            (todo.append if is_inner(x) else capture)(x)
    return found


def batch_column(x):
    """[batch, 1] from x [batch, ...] of any (also dynamic) length: a tensor of the batch's rows,
    for shaping zeros by (its values are not meant to be used)."""
    if all(d >= 0 for d in x.ir_shape[1:]):  # static: a slice reads the least
        while len(x.shape) > 2:
            x = squeeze(slice_axis(x, 1, 0, 1), 1)
        return slice_axis(x, 1, 0, 1)
    while len(x.ir_shape) > 1:
        x = make("reduce_sum", [x], {"axes": [len(x.ir_shape) - 1]})
    return expand_dims(x, -1)


def _zeros_like_step(output, inputs, states):
    """Zeros of one step output's type [batch, ...], shaped like a state of that type when there
    is one, else from the batch of `inputs` [batch, time, ...] (from shapes alone: broadcast_like
    does not read its reference's data)."""
    like = next((s for s in states if tuple(s.ir_shape) == tuple(output.ir_shape)), None)
    if like is not None:
        return make("broadcast_like", [constant(0.0), like])
    shaped = batch_column(inputs)
    for axis, d in enumerate(output.ir_shape[1:], start=1):
        if axis > 1:
            shaped = expand_dims(shaped, -1)
        if d != 1:
            shaped = repeat_elements(shaped, d, axis)
    return make("broadcast_like", [constant(0.0), shaped])
