"""Recurrent: Keras 1.2's abstract base of recurrent layers, for a user's own cell (and its helper
time_distributed_dense).

A subclass sets `self.output_dim`, makes its weights in `build()` with `self.states = [None] * n`
(one entry per state, each [batch, output_dim]), and defines `step(x, states) -> (output,
new_states)`. `call()` runs the step over the sequence with `K.rnn` (backend/rnn.py), with Keras
1.2's hooks: `get_initial_states(x)` (zeros), `preprocess_input(x)`, `get_constants(x)`. kiln's
SimpleRNN, GRU and LSTM (recurrent.py) subclass it and replace the loop with their fused ops.

`stateful=True` keeps the states of each batch for the next (train, test and predict advance
them; `reset_states()` zeroes them): [B, output_dim] state tensors for the batch size B that
`Input(batch_shape=...)` / `batch_input_shape` fixes, which the graph meets through
`free_batch` (the initial states) and `fix_batch` (the assigned last states); both check at run
time that every batch has B rows.
"""
import numpy as np

from .. import backend as K
from ..backend.rnn import batch_column
from ..backend.tensor import make
from ..graph.layer import InputSpec, Layer


class Recurrent(Layer):
    # Keras 1.2's keys of the base (the built-in cells add theirs).
    config_keys = ("return_sequences", "go_backwards", "stateful", "unroll", "consume_less", "input_dim",
                   "input_length")

    def __init__(self, weights=None, return_sequences=False, go_backwards=False, stateful=False, unroll=False,
                 consume_less="cpu", input_dim=None, input_length=None, **kwargs):
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        if weights is not None:
            kwargs["weights"] = weights
        super().__init__(**kwargs)
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.states = None  # a subclass's build sets [None] * n; stateful: the state variables
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]

    @property
    def consume_less(self):
        return self._init_args[1].get("consume_less", "cpu")

    @property
    def input_dim(self):
        return self._input_dims()[1]

    @property
    def input_length(self):
        return self._input_dims()[0]

    def _input_dims(self):
        """(timesteps, features) of the input: as built, else as given."""
        if self.built and self.input_spec and self.input_spec[0].shape is not None:
            return tuple(self.input_spec[0].shape[1:3])
        shape = getattr(self, "batch_input_shape", None)
        return tuple(shape[1:3]) if shape is not None and len(shape) == 3 else (None, None)

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    # Keras 1.2's hooks.
    def get_initial_states(self, x):
        """Zeros [batch, output_dim], one per state."""
        zero = make("broadcast_like", [K.constant(0.0), K.repeat_elements(self._column(x), self.output_dim, 1)])
        return [zero for _ in range(self.n_states)]

    def preprocess_input(self, x):
        return x

    def get_constants(self, x):
        return []

    def step(self, x, states):
        """(output, new_states) of one timestep: what a subclass defines."""
        raise NotImplementedError("%s must define step(x, states) -> (output, new_states)" % type(self).__name__)

    def call(self, x, mask=None):
        if type(self).step is Recurrent.step:
            raise NotImplementedError("%s must define step(x, states) -> (output, new_states)" % type(self).__name__)
        if getattr(self, "output_dim", None) is None:
            raise ValueError("%s must set self.output_dim (the size of each state) before it is called"
                             % type(self).__name__)
        initial = self._stateful_init(x) if self.stateful else self.get_initial_states(x)
        last, outputs, states = K.rnn(self.step, self.preprocess_input(x), initial, go_backwards=self.go_backwards,
                                      mask=mask, constants=self.get_constants(x), unroll=self.unroll,
                                      input_length=x.shape[1])
        if self.stateful:
            self._keep_states(states)
        return outputs if self.return_sequences else last

    @staticmethod
    def _column(x):
        """[batch, 1] from x [batch, time, ...]: a tensor of the batch's rows (its values unused)."""
        return batch_column(x)

    # Statefulness.
    n_states_default = 1

    @property
    def n_states(self):
        return len(self.states) if self.states else self.n_states_default

    def _stateful_init(self, x):
        """The initial states of a stateful layer: its state variables, made on the first call."""
        if not self.states or any(s is None for s in self.states):
            batch = getattr(x, "_fixed_batch", None)
            if batch is None:
                raise ValueError("If a RNN is stateful, a complete input_shape must be provided (including batch "
                                 "size): give layer %s's input a fixed batch size with Input(batch_shape=(%s)) or "
                                 "batch_input_shape" % (self.name, ", ".join(["32"] + [str(d) for d in x.shape[1:]])))
            if x.shape[1] is None:
                raise ValueError("Layer %s: a stateful RNN needs a known number of timesteps, got input shape %s"
                                 % (self.name, x.shape))
            self.states = [K.Variable(np.zeros((batch, self.output_dim), np.float32),
                                      name="%s_state_%d" % (self.name, k), trainable=False)
                           for k in range(self.n_states)]
        return [make("free_batch", [s]) for s in self.states]

    def _keep_states(self, finals):
        batch = self.states[0].shape[0]
        self.add_update([(s, make("fix_batch", [f], {"size": batch})) for s, f in zip(self.states, finals)])

    def reset_states(self):
        if not self.stateful:
            raise AttributeError("Layer %s is not stateful" % self.name)
        for s in self.states or []:
            if s is not None:
                s.set_value(np.zeros(s.shape, np.float32))


def time_distributed_dense(x, w, b=None, dropout=None, input_dim=None, output_dim=None, timesteps=None):
    """Keras 1.2's helper for a cell's `preprocess_input`: `x . w + b` at every step of x
    (batch, steps, input_dim). With `dropout` in (0, 1), the same input units are dropped at
    every step of a sequence, in the train phase only. The dims are read from x and w (the
    arguments are accepted for Keras 1.2's signature)."""
    if dropout is not None and 0.0 < dropout < 1.0:
        keep = K.expand_dims(K.dropout(K.ones_like(K.sum(x, axis=1)), dropout), 1)  # (batch, 1, input_dim)
        x = K.in_train_phase(x * keep, x)
    y = K.dot(x, w)
    return y + b if b is not None else y
