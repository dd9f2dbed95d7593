"""Recurrent layers (Keras 1.2): SimpleRNN, GRU, LSTM, on FusedRecurrent.

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

`stateful=True` and the Keras 1.2 base class `Recurrent` (a user's own cell, run by K.rnn) are
in recurrent_base.py.

`dropout_W` / `dropout_U` (Keras 2: `dropout` / `recurrent_dropout`) drop inputs and previous
states with one mask per sequence and gate, in the train phase only (Keras 1): the fused ops
draw the masks in the kernel; the unrolled layer draws the same masks with dropout_mask ops.
The time axis may have any length (`Input(shape=(None, d))`: a named dynamic dim in the IR).
"""
import zlib

import numpy as np

from .. import activations, backend as K, initializers, regularizers
from ..backend.tensor import make, make_multi
from ..graph.layer import InputSpec
from .recurrent_base import Recurrent, time_distributed_dense  # noqa: F401


class FusedRecurrent(Recurrent):
    """The base of kiln's built-in cells: Keras 1.2's weights and arguments, run as a fused op."""
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
        dropout_W, dropout_U = float(dropout or dropout_W), float(recurrent_dropout or dropout_U)
        for what, rate in (("dropout_W", dropout_W), ("dropout_U", dropout_U)):
            if not 0.0 <= rate < 1.0:
                raise ValueError("%s: %s must be in [0, 1), got %r" % (type(self).__name__, what, rate))
        super().__init__(return_sequences=return_sequences, go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll, consume_less=consume_less, input_dim=input_dim, input_length=input_length,
                         **kwargs)
        self.output_dim = int(output_dim)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.inner_init = initializers.get(recurrent_initializer if recurrent_initializer is not None else inner_init)
        self.activation = activations.get(activation)
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.U_regularizer = regularizers.get(U_regularizer if U_regularizer is not None else recurrent_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.dropout_W, self.dropout_U = dropout_W, dropout_U
        self.uses_learning_phase = bool(dropout_W or dropout_U)

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

    def _gate(self, z, k, width=None):
        """Columns of gate k of z (gates side by side, `width` each: the units by default)."""
        w = width or self.output_dim
        return make("slice", [z], {"axis": 1, "begin": k * w, "end": (k + 1) * w})


    fused_op = None  # the op that runs this cell over a whole sequence, where there is one

    def fused_attrs(self, dropout=False):
        a = {"activation": self.activation.__name__, "return_sequences": int(self.return_sequences),
             "go_backwards": int(self.go_backwards)}
        if hasattr(self, "inner_activation"):  # GRU, LSTM
            a["inner_activation"] = self.inner_activation.__name__
        if dropout:
            a.update({"dropout_W": self.dropout_W, "dropout_U": self.dropout_U, "seed": self.dropout_seed})
        return a

    @property
    def dropout_seed(self):
        """Keras 1.2's recurrent layers take no seed: the masks' seed comes from the layer's name
        (the x masks use it, the h masks it + 1), so a reloaded model draws the same masks."""
        return zlib.crc32(self.name.encode("utf8")) & 0x3FFFFFFF

    def call(self, x, mask=None):
        init = self._stateful_init(x) if self.stateful else None
        out, finals = self._sequence(x, mask, init, dropout=False)
        if self.dropout_W or self.dropout_U:  # the masks apply in the train phase only
            out_train, finals_train = self._sequence(x, mask, init, dropout=True)
            out = K.in_train_phase(out_train, out)
            finals = [K.in_train_phase(a, b) for a, b in zip(finals_train, finals)]
        if init is not None:
            self._keep_states(finals)
        return out

    def _sequence(self, x, mask, init, dropout):
        """The layer over the sequence: (output, states after the last step processed)."""
        if self.fused_op and not self.unroll:
            W, U, b = self._packed(self.order)
            extra = [mask] if mask is not None else []
            if init is not None:
                extra = [mask if mask is not None else self._ones_mask(x)] + init
            try:
                results = make_multi(self.fused_op, [x, W, U, b] + extra, self.fused_attrs(dropout))
            except ValueError:
                if x.shape[1] is None:
                    raise
                # e.g. an activation the fused op does not have: the unrolled ops take any
            else:
                return results[0], self._fused_finals(results, x.shape[1]) if init is not None else []
        return self.unrolled(x, mask, init, dropout)

    @staticmethod
    def _ones_mask(x):
        """A mask that keeps every step: [batch, steps] ones (the op takes states after a mask)."""
        first = K.squeeze(make("slice", [x], {"axis": 2, "begin": 0, "end": 1}), 2)
        return make("broadcast_like", [K.constant(1.0), first])

    def _fused_finals(self, results, steps):
        """The states after the last step processed, from the op's per-step states (natural order)."""
        last = 0 if self.go_backwards else steps - 1
        at = lambda seq: K.squeeze(make("slice", [seq], {"axis": 1, "begin": last, "end": last + 1}), 1)
        return [at(results[1 + k]) for k in range(self.n_states_default)]  # hs (and lstm's cs) follow y

    def _dropout_masks(self, x):
        """Per-sequence, per-gate masks [batch, G*D] for x and [batch, G*u] for h_prev (None at rate
        0), drawn by dropout_mask with the fused kernels' seeds, so both paths drop the same units."""
        G, u, D = len(self.order), self.output_dim, x.shape[2]
        column = self._column(x)  # [batch, 1]: the mask op reads only its shape
        draw = lambda n, rate, seed: make("dropout_mask", [K.repeat_elements(column, n, 1)], {"rate": rate, "seed": seed})
        mW = draw(G * D, self.dropout_W, self.dropout_seed) if self.dropout_W else None
        mU = draw(G * u, self.dropout_U, self.dropout_seed + 1) if self.dropout_U else None
        return mW, mU

    def unrolled(self, x, mask=None, init=None, dropout=False):
        """The layer as backend ops over its known timesteps: (output, final states)."""
        steps = x.shape[1]
        if steps is None:
            raise ValueError("Layer %s: unroll=True needs a known number of timesteps (input_length), got input "
                             "shape %s" % (self.name, x.shape))
        W, U, b = self._packed(self.order)
        u, D = self.output_dim, x.shape[2]
        mW, mU = self._dropout_masks(x) if dropout else (None, None)
        if mW is None:
            xw = K.bias_add(K.dot(x, W), b)  # [batch, steps, G*u]: every step's input projection at once
        else:  # gate g sees x * mW_g, the same mask at every step
            xw = K.bias_add(K.concatenate([K.dot(x * K.expand_dims(self._gate(mW, g, D), 1), self._gate(W, g))
                                           for g in range(len(self.order))], axis=-1), b)

        def hU(h, g0, ng):
            """h_prev U for gates g0 .. g0+ng-1 (each times its mask mU_g with dropout_U)."""
            if mU is None:
                cols = U if ng == len(self.order) else make("slice", [U], {"axis": 1, "begin": g0 * u,
                                                                           "end": (g0 + ng) * u})
                return K.dot(h, cols)
            return K.concatenate([K.dot(h * self._gate(mU, g), self._gate(U, g))
                                  for g in range(g0, g0 + ng)], axis=1)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        state = None
        outputs = []
        for t in order:
            zx = K.squeeze(make("slice", [xw], {"axis": 1, "begin": t, "end": t + 1}), 1)
            if state is None:
                zero = make("broadcast_like", [K.constant(0.0), self._gate(zx, 0)])
                state = self.initial_state(zero) if init is None else (tuple(init) if len(init) > 1 else init[0])
                prev_h = zero if init is None else init[0]
            new_h, new_state = self.cell_step(zx, state, hU)
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

class SimpleRNN(FusedRecurrent):
    """h = activation(x W + b + h_prev U)."""
    gates = ("",)
    order = ("",)
    fused_op = "simple_rnn"

    def initial_state(self, zero):
        return zero

    def cell_step(self, zx, h, hU):
        h = self.activation(zx + hU(h, 0, 1))
        return h, h


class GRU(FusedRecurrent):
    """z = inner(xW_z + hU_z), r = inner(xW_r + hU_r), hh = act(xW_h + (r*h)U_h),
    h = z*h + (1-z)*hh (Keras 1.2).

    `reset_after=True` (Keras 2's option, the default of tf-keras and Keras 3): the reset gate
    applies after the recurrent product, which has a bias of its own, `hh = act(xW_h + b_h +
    r*(hU_h + bU_h))` (likewise `+ bU_z`, `+ bU_r` in z and r). It adds the weights bU_z, bU_r,
    bU_h after Keras 1.2's nine, and runs as kiln.backend ops unrolled over the known timesteps
    (the fused `gru` op has only Keras 1's form), so it needs a fixed input_length.
    """
    gates = ("z", "r", "h")
    order = ("z", "r", "h")
    fused_op = "gru"
    config_keys = FusedRecurrent.config_keys + ("inner_activation",)

    def __init__(self, output_dim=None, inner_activation="hard_sigmoid", recurrent_activation=None, reset_after=False,
                 **kwargs):
        super().__init__(output_dim, **kwargs)
        self.inner_activation = activations.get(recurrent_activation or inner_activation)
        self.reset_after = bool(reset_after)
        if self.reset_after:  # kept in the config under its Keras 2 name; Keras 1 has no such key
            self.config_keys = type(self).config_keys + ("reset_after",)
            self.fused_op = None

    def build(self, input_shape):
        if self.reset_after and input_shape[1] is None:
            raise ValueError("Layer %s: GRU(reset_after=True) runs unrolled (kiln's fused gru op has only "
                             "reset_after=False) and needs a known number of timesteps, got input shape %s"
                             % (self.name, tuple(input_shape)))
        super().build(input_shape)
        if self.reset_after:
            u = self.output_dim
            self.bU = {g: self.add_weight((u,), "zero", "bU_" + g, regularizer=self.b_regularizer)
                       for g in self.gates}

    def initial_state(self, zero):
        return zero

    def cell_step(self, zx, h, hU):
        u = self.output_dim
        if self.reset_after:
            rec = hU(h, 0, 3) + K.concatenate([self.bU[g] for g in self.order], axis=0)
            z = self.inner_activation(self._gate(zx, 0) + self._gate(rec, 0))
            r = self.inner_activation(self._gate(zx, 1) + self._gate(rec, 1))
            hh = self.activation(self._gate(zx, 2) + r * self._gate(rec, 2))
            h = z * h + (1.0 - z) * hh
            return h, h
        zr = make("slice", [zx], {"axis": 1, "begin": 0, "end": 2 * u}) + hU(h, 0, 2)
        z = self.inner_activation(self._gate(zr, 0))
        r = self.inner_activation(self._gate(zr, 1))
        hh = self.activation(self._gate(zx, 2) + hU(r * h, 2, 1))
        h = z * h + (1.0 - z) * hh
        return h, h


class LSTM(FusedRecurrent):
    """i, f, o = inner(xW + hU + b) per gate, c = f*c + i*act(xW_c + hU_c + b_c), h = o*act(c);
    the forget-gate bias starts at one (forget_bias_init), as Keras 1.2."""
    gates = ("i", "c", "f", "o")  # Keras 1.2's trainable_weights order
    order = ("i", "f", "c", "o")  # packing order of the fused projection
    fused_op = "lstm"
    config_keys = FusedRecurrent.config_keys + ("forget_bias_init", "inner_activation")

    def __init__(self, output_dim=None, forget_bias_init="one", inner_activation="hard_sigmoid",
                 recurrent_activation=None, unit_forget_bias=None, **kwargs):
        super().__init__(output_dim, **kwargs)
        if unit_forget_bias is not None:
            forget_bias_init = "one" if unit_forget_bias else "zero"
        self.forget_bias_init = initializers.get(forget_bias_init)
        self.inner_activation = activations.get(recurrent_activation or inner_activation)

    def bias_init(self, gate):
        return self.forget_bias_init if gate == "f" else initializers.get("zero")


    n_states_default = 2  # h and c

    def initial_state(self, zero):
        return (zero, zero)

    def cell_step(self, zx, state, hU):
        h, c = state
        z = zx + hU(h, 0, 4)
        i = self.inner_activation(self._gate(z, 0))
        f = self.inner_activation(self._gate(z, 1))
        c = f * c + i * self.activation(self._gate(z, 2))
        o = self.inner_activation(self._gate(z, 3))
        h = o * self.activation(c)
        return h, (h, c)
