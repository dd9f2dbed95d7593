"""Recurrent layers (Keras 1.2): SimpleRNN, GRU, LSTM.

A layer whose cell has a fused op (`lstm`; csrc/ops/recurrent.cpp) lowers to that one op, whose
kernels run the whole sequence natively (csrc/kernels/cpu/recurrent.h). With `unroll=True`, or
for a cell without one yet, the layer is unrolled over its (known) timesteps with kiln.backend
ops: the input projection of every step is one matmul over the whole sequence, then each step
does one matmul with the recurrent weights and the gate arithmetic, and the native autodiff of
those ops gives backpropagation through time. Weights follow Keras 1.2 exactly, one matrix per
gate (`lstm_1_W_i`, `lstm_1_U_i`, `lstm_1_b_i`, ...), in Keras' order, so weight files match;
the fused op reads them packed side by side.

Masks (Embedding(mask_zero=True)) are honoured as Keras 1 does: a masked step repeats the
previous output and carries the states.

`stateful=True` keeps the last states of each batch for the next one (train, test and predict
all advance them; `reset_states()` zeroes them), as Keras 1: the states are [B, u] state tensors
for the batch size B fixed by `Input(batch_shape=...)` / `batch_input_shape`; the graph meets
them through `free_batch` (the op's initial states) and `fix_batch` (the assigned final states),
which check at run time that every batch has B rows.
"""
import numpy as np

from .. import activations, backend as K, initializers, regularizers
from ..backend.tensor import make, make_multi
from ..graph.layer import InputSpec, Layer


class Recurrent(Layer):
    gates = ()  # gate names in Keras' weight order

    def __init__(self, output_dim=None, init="glorot_uniform", inner_init="orthogonal", activation="tanh",
                 W_regularizer=None, U_regularizer=None, b_regularizer=None, dropout_W=0.0, dropout_U=0.0,
                 return_sequences=False, go_backwards=False, stateful=False, unroll=False, consume_less="cpu",
                 input_dim=None, input_length=None, units=None, kernel_initializer=None,
                 recurrent_initializer=None, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, implementation=None, **kwargs):
        output_dim = units if units is not None else output_dim
        if output_dim is None:
            raise TypeError("%s needs the number of units (output_dim= or units=)" % type(self).__name__)
        if dropout_W or dropout_U or dropout or recurrent_dropout:
            raise NotImplementedError("%s: dropout_W/dropout_U are not supported yet" % type(self).__name__)
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(**kwargs)
        self.output_dim = int(output_dim)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.inner_init = initializers.get(recurrent_initializer if recurrent_initializer is not None else inner_init)
        self.activation = activations.get(activation)
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.U_regularizer = regularizers.get(U_regularizer if U_regularizer is not None else recurrent_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards
        self.stateful = bool(stateful)
        self.states = None  # stateful: the [B, u] state variables, made on the first call
        self.unroll = bool(unroll)
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]

    @property
    def units(self):
        return self.output_dim

    def bias_init(self, gate):
        return initializers.get("zero")

    def build(self, input_shape):
        steps, input_dim = input_shape[1], input_shape[2]
        if input_dim is None:
            raise ValueError("Layer %s: the last dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        self.input_spec = [InputSpec(shape=(None, steps, input_dim))]
        u = self.output_dim
        self.W, self.U, self.b = {}, {}, {}
        for g in self.gates:
            sfx = "_" + g if g else ""  # SimpleRNN's are plain W, U, b
            self.W[g] = self.add_weight((input_dim, u), self.init, "W" + sfx, regularizer=self.W_regularizer)
            self.U[g] = self.add_weight((u, u), self.inner_init, "U" + sfx, regularizer=self.U_regularizer)
            self.b[g] = self.add_weight((u,), self.bias_init(g), "b" + sfx, regularizer=self.b_regularizer)
        self.built = True

    def _packed(self, order):
        """The per-gate weights side by side, in `order`: W [in, G*u], U [u, G*u], b [G*u]."""
        if len(order) == 1:
            g = order[0]
            return self.W[g], self.U[g], self.b[g]
        return (K.concatenate([self.W[g] for g in order], axis=1),
                K.concatenate([self.U[g] for g in order], axis=1),
                K.concatenate([self.b[g] for g in order], axis=0))

    def _gate(self, z, k):
        u = self.output_dim
        return make("slice", [z], {"axis": 1, "begin": k * u, "end": (k + 1) * u})

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    fused_op = None  # the op that runs this cell over a whole sequence, where there is one

    def fused_attrs(self):
        a = {"activation": self.activation.__name__, "return_sequences": int(self.return_sequences),
             "go_backwards": int(self.go_backwards)}
        if hasattr(self, "inner_activation"):  # GRU, LSTM
            a["inner_activation"] = self.inner_activation.__name__
        return a

    def call(self, x, mask=None):
        init = self._stateful_init(x) if self.stateful else None
        if self.fused_op and not self.unroll:
            W, U, b = self._packed(self.order)
            extra = [mask] if mask is not None else []
            if init is not None:
                extra = [mask if mask is not None else self._ones_mask(x)] + init
            try:
                results = make_multi(self.fused_op, [x, W, U, b] + extra, self.fused_attrs())
            except ValueError:
                if x.shape[1] is None:
                    raise
                # e.g. an activation the fused op does not have: the unrolled ops take any
            else:
                if init is not None:
                    self._keep_states(self._fused_finals(results, x.shape[1]))
                return results[0]
        out, finals = self.unrolled(x, mask, init)
        if init is not None:
            self._keep_states(finals)
        return out

    # Statefulness.
    n_states = 1  # h (LSTM: h and c)

    def _stateful_init(self, x):
        """The initial states of a stateful layer: its state variables, made on the first call."""
        if self.states is None:
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

    @staticmethod
    def _ones_mask(x):
        """A mask that keeps every step: [batch, steps] ones (the op takes states after a mask)."""
        first = K.squeeze(make("slice", [x], {"axis": 2, "begin": 0, "end": 1}), 2)
        return make("broadcast_like", [K.constant(1.0), first])

    def _fused_finals(self, results, steps):
        """The states after the last step processed, from the op's per-step states (natural order)."""
        last = 0 if self.go_backwards else steps - 1
        at = lambda seq: K.squeeze(make("slice", [seq], {"axis": 1, "begin": last, "end": last + 1}), 1)
        return [at(results[1 + k]) for k in range(self.n_states)]  # hs (and lstm's cs) follow y

    def _keep_states(self, finals):
        batch = self.states[0].shape[0]
        self.add_update([(s, make("fix_batch", [f], {"size": batch})) for s, f in zip(self.states, finals)])

    def reset_states(self):
        if not self.stateful:
            raise AttributeError("Layer %s is not stateful" % self.name)
        for s in self.states or []:
            s.set_value(np.zeros(s.shape, np.float32))

    def unrolled(self, x, mask=None, init=None):
        """The layer as backend ops over its known timesteps: (output, final states)."""
        steps = x.shape[1]
        if steps is None:
            raise ValueError("Layer %s: unroll=True needs a known number of timesteps (input_length), got input "
                             "shape %s" % (self.name, x.shape))
        W, U, b = self._packed(self.order)
        xw = K.bias_add(K.dot(x, W), b)  # [batch, steps, G*u]: every step's input projection at once
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        state = None
        outputs = []
        for t in order:
            zx = K.squeeze(make("slice", [xw], {"axis": 1, "begin": t, "end": t + 1}), 1)
            if state is None:
                zero = make("broadcast_like", [K.constant(0.0), self._gate(zx, 0)])
                state = self.initial_state(zero) if init is None else (tuple(init) if len(init) > 1 else init[0])
                prev_h = zero if init is None else init[0]
            new_h, new_state = self.step(zx, state, U)
            if mask is not None:
                # Keras 1: at a masked step the output repeats the previous one and the states
                # are carried unchanged, so padding on either side gives the same last output.
                m = make("slice", [mask], {"axis": 1, "begin": t, "end": t + 1})  # [batch, 1]
                keep = lambda new, old: new * m + old * (1.0 - m)
                prev_h = outputs[-1] if outputs else prev_h
                new_h = keep(new_h, prev_h)
                new_state = tuple(keep(a, b) for a, b in zip(new_state, state)) if isinstance(new_state, tuple) \
                    else keep(new_state, state)
            h, state = new_h, new_state
            outputs.append(h)
        finals = list(state) if isinstance(state, tuple) else [state]
        if not self.return_sequences:
            return outputs[-1], finals
        return K.concatenate([K.expand_dims(h, 1) for h in outputs], axis=1), finals

    # Keras 1.2's keys (GRU adds inner_activation, LSTM forget_bias_init and inner_activation).
    config_keys = ("output_dim", "init", "inner_init", "activation", "W_regularizer", "U_regularizer",
                   "b_regularizer", "dropout_W", "dropout_U", "return_sequences", "go_backwards", "stateful", "unroll",
                   "consume_less", "input_dim", "input_length")
    dropout_W = dropout_U = 0.0  # not supported yet: the constructor refuses others
    stateful = False

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


class SimpleRNN(Recurrent):
    """h = activation(x W + b + h_prev U)."""
    gates = ("",)
    order = ("",)
    fused_op = "simple_rnn"

    def initial_state(self, zero):
        return zero

    def step(self, zx, h, U):
        h = self.activation(zx + K.dot(h, U))
        return h, h


class GRU(Recurrent):
    """z = inner(xW_z + hU_z), r = inner(xW_r + hU_r), hh = act(xW_h + (r*h)U_h),
    h = z*h + (1-z)*hh (Keras 1.2)."""
    gates = ("z", "r", "h")
    order = ("z", "r", "h")
    fused_op = "gru"
    config_keys = Recurrent.config_keys + ("inner_activation",)

    def __init__(self, output_dim=None, inner_activation="hard_sigmoid", recurrent_activation=None, **kwargs):
        super().__init__(output_dim, **kwargs)
        self.inner_activation = activations.get(recurrent_activation or inner_activation)


    def initial_state(self, zero):
        return zero

    def step(self, zx, h, U):
        u = self.output_dim
        Uzr = make("slice", [U], {"axis": 1, "begin": 0, "end": 2 * u})
        Uh = make("slice", [U], {"axis": 1, "begin": 2 * u, "end": 3 * u})
        zr = make("slice", [zx], {"axis": 1, "begin": 0, "end": 2 * u}) + K.dot(h, Uzr)
        z = self.inner_activation(self._gate(zr, 0))
        r = self.inner_activation(self._gate(zr, 1))
        hh = self.activation(self._gate(zx, 2) + K.dot(r * h, Uh))
        h = z * h + (1.0 - z) * hh
        return h, h


class LSTM(Recurrent):
    """i, f, o = inner(xW + hU + b) per gate, c = f*c + i*act(xW_c + hU_c + b_c), h = o*act(c);
    the forget-gate bias starts at one (forget_bias_init), as Keras 1.2."""
    gates = ("i", "c", "f", "o")  # Keras 1.2's trainable_weights order
    order = ("i", "f", "c", "o")  # packing order of the fused projection
    fused_op = "lstm"
    config_keys = Recurrent.config_keys + ("forget_bias_init", "inner_activation")

    def __init__(self, output_dim=None, forget_bias_init="one", inner_activation="hard_sigmoid",
                 recurrent_activation=None, unit_forget_bias=None, **kwargs):
        super().__init__(output_dim, **kwargs)
        if unit_forget_bias is not None:
            forget_bias_init = "one" if unit_forget_bias else "zero"
        self.forget_bias_init = initializers.get(forget_bias_init)
        self.inner_activation = activations.get(recurrent_activation or inner_activation)

    def bias_init(self, gate):
        return self.forget_bias_init if gate == "f" else initializers.get("zero")


    n_states = 2

    def initial_state(self, zero):
        return (zero, zero)

    def step(self, zx, state, U):
        h, c = state
        z = zx + K.dot(h, U)
        i = self.inner_activation(self._gate(z, 0))
        f = self.inner_activation(self._gate(z, 1))
        c = f * c + i * self.activation(self._gate(z, 2))
        o = self.inner_activation(self._gate(z, 3))
        h = o * self.activation(c)
        return h, (h, c)
