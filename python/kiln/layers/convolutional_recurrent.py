"""Keras 1.2's `keras.layers.convolutional_recurrent`: ConvRecurrent2D (the abstract base) and
ConvLSTM2D, an LSTM whose input and recurrent transforms are 2D convolutions.

Input (batch, time, channels, rows, cols) for dim_ordering 'th', (batch, time, rows, cols,
channels) for 'tf'; the output is each step's h, (batch, [time,] filters, rows', cols') or
channels last, where rows' and cols' follow the input convolution (border_mode, subsample); the
recurrent convolution is 'same' with stride 1. Keras 1.2's equations, weights (W_i, U_i, b_i,
W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o; kernels in Keras 1's layout of the ordering, 'th'
(out, in, rows, cols), 'tf' (rows, cols, in, out)) and dropout_W / dropout_U (one mask per sample
and gate, the same at every step, in the train phase only). 'default' reads
`image_dim_ordering()` when the layer is made, as Keras 1.2 does.

How it runs: channels last inside. The input convolution of every step is one conv2d over the
whole sequence (time folded into the batch with merge_batch, as TimeDistributed does), all four
gates at once, bias included; K.rnn (backend/rnn.py) then scans a step that adds the recurrent
convolution of h (again the four gates in one conv2d) and does the gate arithmetic. States are
h and c, shaped as one step of the output (stateful=True keeps them in variables of that shape).

Beyond Keras 1.2's get_config, the config also holds subsample, the regularizers and the dropout
rates (Keras 1.2 drops them), so a rebuilt layer is the same layer.
"""
import numpy as np

from .. import activations, backend as K, initializers, regularizers
from ..backend import image_layout
from ..backend.conv import conv_nhwc
from ..backend.tensor import make
from ..graph.layer import InputSpec, initial_value
from ..utils.np_utils import conv_output_length
from .image_layer import pair
from .recurrent_base import Recurrent


def _fold(x):
    """(B, T, ...) -> (B*T, ...): merge_batch, or a reshape when the batch size is static."""
    if x.shape[0] is None:
        return K.merge_batch(x)
    return make("reshape", [x], {"shape": [int(x.shape[0]) * int(x.shape[1])] + [int(d) for d in x.shape[2:]]})


def _unfold(y, like):
    """The inverse of _fold: (B*T, ...) -> (B, T, ...), B and T those of `like`."""
    if like.shape[0] is None:
        return K.split_batch(y, like if like.shape[1] is None else like.shape[1])
    return make("reshape", [y], {"shape": [int(like.shape[0]), int(like.shape[1])] + [int(d) for d in y.shape[1:]]})


def _one_step(x):
    """A tensor shaped as one step of x (B, T, ...), for shaping zeros, ones and masks by (its
    values are not meant to be used): the first step, or the sum over a time axis of unknown
    length (which cannot be sliced)."""
    if x.shape[1] is None:
        return K.sum(x, axis=1)
    return K.squeeze(K.slice_axis(x, 1, 0, 1), 1)


class ConvRecurrent2D(Recurrent):
    """Keras 1.2's abstract base of the convolutional recurrent layers (not a layer to use by
    itself): 5D input, the output shape, masks and the base config."""
    config_keys = ("return_sequences", "go_backwards", "stateful")

    def __init__(self, weights=None, nb_row=None, nb_col=None, nb_filter=None, return_sequences=False,
                 go_backwards=False, stateful=False, dim_ordering=None, **kwargs):
        super().__init__(weights=weights, return_sequences=return_sequences, go_backwards=go_backwards,
                         stateful=stateful, **kwargs)
        self.nb_row, self.nb_col, self.nb_filter = nb_row, nb_col, nb_filter
        self.dim_ordering = dim_ordering
        self.supports_masking = False  # as Keras 1.2's (its Layer default)
        self.input_spec = [InputSpec(ndim=5)]

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    def _out_rows_cols(self, input_shape):
        rows, cols = (input_shape[3], input_shape[4]) if self.dim_ordering == "th" else (input_shape[2],
                                                                                          input_shape[3])
        return (conv_output_length(rows, self.nb_row, self.border_mode, self.subsample[0]),
                conv_output_length(cols, self.nb_col, self.border_mode, self.subsample[1]))

    def get_output_shape_for(self, input_shape):
        if self.dim_ordering not in ("th", "tf"):
            raise ValueError("Invalid dim_ordering:", self.dim_ordering)
        rows, cols = self._out_rows_cols(input_shape)
        step = (self.nb_filter, rows, cols) if self.dim_ordering == "th" else (rows, cols, self.nb_filter)
        head = tuple(input_shape[:2]) if self.return_sequences else (input_shape[0],)
        return head + step


class ConvLSTM2D(ConvRecurrent2D):
    """Convolutional LSTM (Shi et al. 2015, without the peephole terms), Keras 1.2:
    i = inner(x*W_i + b_i + h*U_i), f = inner(x*W_f + b_f + h*U_f), o = inner(x*W_o + b_o + h*U_o),
    c = f c + i act(x*W_c + b_c + h*U_c), h = o act(c), * being a 2D convolution."""
    gates = ("i", "c", "f", "o")  # Keras 1.2's weight order
    order = ("i", "f", "c", "o")  # the packing of the gates in the convolutions' filters
    config_keys = ConvRecurrent2D.config_keys + (
        "nb_filter", "nb_row", "nb_col", "init", "inner_init", "forget_bias_init", "activation", "dim_ordering",
        "border_mode", "inner_activation", "subsample", "W_regularizer", "U_regularizer", "b_regularizer",
        "dropout_W", "dropout_U")
    n_states_default = 2

    def __init__(self, nb_filter, nb_row, nb_col, init="glorot_uniform", inner_init="orthogonal",
                 forget_bias_init="one", activation="tanh", inner_activation="hard_sigmoid", dim_ordering="default",
                 border_mode="valid", subsample=(1, 1), W_regularizer=None, U_regularizer=None, b_regularizer=None,
                 dropout_W=0.0, dropout_U=0.0, **kwargs):
        ordering = image_layout.explicit(dim_ordering) or image_layout.image_dim_ordering()
        if border_mode not in ("valid", "same"):
            raise ValueError("Invalid border mode for ConvLSTM2D:", border_mode)
        for what, rate in (("dropout_W", dropout_W), ("dropout_U", dropout_U)):
            if not 0.0 <= float(rate) < 1.0:
                raise ValueError("ConvLSTM2D: %s must be in [0, 1), got %r" % (what, rate))
        super().__init__(nb_row=int(nb_row), nb_col=int(nb_col), nb_filter=int(nb_filter), dim_ordering=ordering,
                         **kwargs)
        self.init = initializers.get(init)
        self.inner_init = initializers.get(inner_init)
        self.forget_bias_init = initializers.get(forget_bias_init)
        self.activation = activations.get(activation)
        self.inner_activation = activations.get(inner_activation)
        self.border_mode = border_mode
        self.subsample = pair(subsample, "subsample")
        self.W_regularizer = regularizers.get(W_regularizer)
        self.U_regularizer = regularizers.get(U_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.dropout_W, self.dropout_U = float(dropout_W), float(dropout_U)
        self.uses_learning_phase = bool(self.dropout_W or self.dropout_U)
        self.output_dim = self.nb_filter  # what Recurrent's checks read

    # Weights.
    def _kernel(self, tf_shape, name, init, regularizer):
        """A kernel drawn in its channels-last shape (rows, cols, in, out), so initializers see
        the fans of a convolution, stored in Keras 1's layout of the ordering ('th': (out, in,
        rows, cols))."""
        shape = tf_shape
        if self.dim_ordering == "th":
            shape = (tf_shape[3], tf_shape[2], tf_shape[0], tf_shape[1])

            def init(_shape, name=None, _init=init):
                return np.ascontiguousarray(np.asarray(initial_value(_init, tf_shape, name)).transpose(3, 2, 0, 1))
        return self.add_weight(shape, initializer=init, name=name, regularizer=regularizer)

    def build(self, input_shape):
        channels = input_shape[2] if self.dim_ordering == "th" else input_shape[4]
        if channels is None:
            raise ValueError("Layer %s: the channel dimension of its input must be known, got %s"
                             % (self.name, tuple(input_shape)))
        self.input_spec = [InputSpec(shape=(None,) + tuple(input_shape[1:]))]
        r, c, F = self.nb_row, self.nb_col, self.nb_filter
        self.W, self.U, self.b = {}, {}, {}
        for g in self.gates:
            self.W[g] = self._kernel((r, c, int(channels), F), "W_" + g, self.init, self.W_regularizer)
            self.U[g] = self._kernel((r, c, F, F), "U_" + g, self.inner_init, self.U_regularizer)
            self.b[g] = self.add_weight((F,), self.forget_bias_init if g == "f" else "zero", "b_" + g,
                                        regularizer=self.b_regularizer)
        if not (self.stateful and self.states and all(s is not None for s in self.states)):
            self.states = [None, None]
        self.built = True

    @property
    def W_shape(self):
        return tuple(self.W["i"].shape) if self.built else None

    def _nhwc_kernel(self, w):
        return K.permute_dimensions(w, (2, 3, 1, 0)) if self.dim_ordering == "th" else w

    def _packed(self, weights, gates=None):
        """The gates' kernels (rows, cols, in, out) side by side along their filters."""
        ks = [self._nhwc_kernel(weights[g]) for g in (gates or self.order)]
        return ks[0] if len(ks) == 1 else K.concatenate(ks, axis=3)

    # The layout at the edges: channels last inside.
    def _step_to_nhwc(self, t):
        return K.permute_dimensions(t, (0, 2, 3, 1)) if self.dim_ordering == "th" else t

    def _step_from_nhwc(self, t):
        return image_layout.tag(K.permute_dimensions(t, (0, 3, 1, 2)) if self.dim_ordering == "th" else t,
                                self.dim_ordering)

    def _masks(self, like, rate):
        """One dropout mask per gate shaped like `like` (train phase; ones otherwise), or None."""
        if not rate:
            return None
        ones = make("broadcast_like", [K.constant(1.0), like])
        return [K.in_train_phase(K.dropout(ones, rate), ones) for _ in self.order]

    def _input_convs(self, x):
        """Every step's input convolution, four gates and bias: (B, T, rows', cols', 4F)."""
        flat = _fold(x)  # (B*T, rows, cols, C)
        conv = lambda t, w: conv_nhwc(t, w, self.subsample, self.border_mode)
        bias = K.concatenate([self.b[g] for g in self.order], axis=0)
        masks = self._masks(_one_step(x), self.dropout_W)
        if masks is None:
            y = conv(flat, self._packed(self.W))
        else:  # gate g sees x * its mask, the same at every step
            y = K.concatenate([conv(_fold(x * K.expand_dims(m, 1)), self._packed(self.W, [g]))
                               for g, m in zip(self.order, masks)], axis=3)
        return _unfold(y + bias, x)

    def call(self, inputs, mask=None):
        x = K.permute_dimensions(inputs, (0, 1, 3, 4, 2)) if self.dim_ordering == "th" else inputs
        xw = self._input_convs(x)
        F = self.nb_filter
        first = K.slice_axis(_one_step(xw), 3, 0, F)  # shaped as one step's h: (B, rows', cols', F)
        if self.stateful:
            initial = [self._step_to_nhwc(s) for s in self._stateful_init(inputs, first)]
        else:
            zero = make("broadcast_like", [K.constant(0.0), first])
            initial = [zero, zero]
        masks_U = self._masks(first, self.dropout_U)
        U = self._packed(self.U) if masks_U is None else None
        gate = lambda z, k: K.slice_axis(z, 3, k * F, (k + 1) * F)

        def step(x_t, states):
            h, c = states[0], states[1]
            if masks_U is None:
                z = x_t + conv_nhwc(h, U, (1, 1), "same")
            else:
                z = x_t + K.concatenate([conv_nhwc(h * m, self._packed(self.U, [g]), (1, 1), "same")
                                         for g, m in zip(self.order, masks_U)], axis=3)
            i = self.inner_activation(gate(z, 0))
            f = self.inner_activation(gate(z, 1))
            c = f * c + i * self.activation(gate(z, 2))
            o = self.inner_activation(gate(z, 3))
            h = o * self.activation(c)
            return h, [h, c]

        last, outputs, finals = K.rnn(step, xw, initial, go_backwards=self.go_backwards, input_length=x.shape[1])
        if self.stateful:
            finals = [self._step_from_nhwc(s) for s in finals]
            if inputs.shape[0] is None:
                self._keep_states(finals)
            else:  # a static batch (a layer called on a variable): the states' own shape
                self.add_update(list(zip(self.states, finals)))
        if self.return_sequences:
            return K.permute_dimensions(outputs, (0, 1, 4, 2, 3)) if self.dim_ordering == "th" else outputs
        return self._step_from_nhwc(last)

    def _stateful_init(self, x, first):
        """The state variables (made on the first call), shaped as one step of the output."""
        if not self.states or any(s is None for s in self.states):
            batch = getattr(x, "_fixed_batch", None) or x.shape[0]
            if batch is None:
                raise ValueError("If a RNN is stateful, a complete input_shape must be provided (including batch "
                                 "size): give layer %s's input a fixed batch size with Input(batch_shape=...) or "
                                 "batch_input_shape" % self.name)
            shape = (int(batch),) + tuple(int(d) for d in self._step_from_nhwc(first).shape[1:])
            self.states = [K.Variable(np.zeros(shape, np.float32), name="%s_state_%d" % (self.name, k),
                                      trainable=False) for k in range(2)]
        if x.shape[0] is not None:
            return list(self.states)
        return [make("free_batch", [s]) for s in self.states]
