"""K.rnn: Keras 1.2's loop of a step function over the time axis, for custom recurrent layers.

`rnn(step_function, inputs, initial_states, go_backwards, mask, constants, unroll, input_length)`
calls `step_function(input_t, states + constants) -> (output_t, new_states)` once per timestep
of `inputs` [batch, time, ...] and returns (last_output, outputs [batch, time, ...] in processing
order, last states), as Keras 1.2 does. The loop is unrolled into the graph over the known
timesteps: each step's ops are native ops like any others, differentiated by the native
autodiff. (A `scan` op over a nested graph, for lengths not known when the graph is built, is
not there yet: a sequence of unknown length is an error naming the layer's input.)

With a mask [batch, time] (1 keeps a step), a masked step's output is the previous step's output
(zeros before the first kept step) and its states are the previous states, as Keras 1.2's
unrolled TensorFlow loop computes.
"""
from .ops import multiply, subtract
from .shape_ops import expand_dims, slice_axis, squeeze, stack


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    if len(inputs.shape) < 3:
        raise ValueError("Input should be at least 3D.")
    steps = inputs.shape[1] if inputs.shape[1] is not None else input_length
    if steps is None:
        raise ValueError("Cannot unroll a RNN if the time dimension is undefined: kiln's K.rnn needs a known "
                         "number of timesteps (got inputs of shape %s; give the Input a fixed length)"
                         % (inputs.shape,))
    constants = list(constants or [])
    states = list(initial_states)
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
