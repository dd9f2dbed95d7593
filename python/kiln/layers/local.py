"""Locally connected layers (Keras 1.2/2 `layers.local`): convolutions whose weights are not
shared, one filter bank per output position. Only 'valid' borders, as Keras.

Each output position reads a patch of the input flattened as Keras 1.2 flattens it, so weight
files match: LocallyConnected1D's patch of filter_length steps as (step, feature);
LocallyConnected2D's as (row, col, channel) for 'tf' and (channel, row, col) for 'th' (the
kernel's ordering, that of the first call). The patches are gathered with strided slices,
stacked into (batch, positions, patch), and multiplied by the (positions, patch, nb_filter)
weights position by position (a broadcast product summed over the patch: memory batch x
positions x patch x nb_filter floats, which suits the small inputs these layers are used on).
Weights need the output size, so the steps (1D) or rows and columns (2D) must be known.
"""
from .. import backend as K
from ..backend.padding import pad_axis
from ..backend.tensor import make
from ..utils.np_utils import conv_output_length
from .convolutional import _Conv1DBase, _Conv2DBase


def _reshape(x, shape):
    """x reshaped to `shape`, whose first entry None stands for x's first (the batch, kept)."""
    if x.shape and x.shape[0] is None:
        return make("reshape", [x], {"shape": [int(d) for d in shape[1:]]})
    return make("reshape", [x], {"shape": [int(x.shape[0] if d is None else d) for d in shape]})


def strided(x, axis, start, count, stride):
    """x[..., start : start + count * stride : stride, ...] on `axis` (whose size is known)."""
    end = start + count * stride
    if stride == 1:
        return K.slice_axis(x, axis, start, end)
    size = x.shape[axis]
    part = K.slice_axis(x, axis, start, min(end, size))
    if end > size:
        part = pad_axis(part, axis, 0, end - size)
    shape = list(part.shape)
    shape[axis:axis + 1] = [count, stride]
    return K.squeeze(K.slice_axis(_reshape(part, shape), axis + 1, 0, 1), axis + 1)


def _local_product(patches, W):
    """(batch, positions, patch) times (positions, patch, filters), position by position."""
    return K.sum(K.expand_dims(patches, -1) * W, axis=2)


def _output_length(layer, size, kernel, stride, what):
    if size is None:
        raise ValueError("Layer %s: its weights depend on the output size, so the %s of its input must be known"
                         % (layer.name, what))
    n = conv_output_length(size, kernel, "valid", stride)
    if n < 1:
        raise ValueError("Layer %s: a kernel of %d does not fit in %d %s" % (layer.name, kernel, size, what))
    return n


class LocallyConnected1D(_Conv1DBase):
    """Convolution1D with unshared weights: each of the output steps has its own filters.

    Keras 1: `LocallyConnected1D(nb_filter, filter_length, init='glorot_uniform', activation=None,
    border_mode='valid', subsample_length=1, W_regularizer, b_regularizer, activity_regularizer,
    bias=True, input_dim, input_length)`. Keras 2: `(filters, kernel_size, strides=1,
    padding='valid', ...)`. Weights `[W (output_length, filter_length * input_dim, nb_filter),
    b (output_length, nb_filter)]`.
    """
    config_keys = ("nb_filter", "filter_length", "init", "activation", "border_mode", "subsample_length",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias",
                   "input_dim", "input_length")
    _borders = ("valid",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.atrous_rate != 1:
            raise NotImplementedError("LocallyConnected1D: dilation_rate is not supported")

    def build(self, input_shape):
        steps = _output_length(self, input_shape[1], self.filter_length, self.subsample_length, "steps")
        self.output_length = steps
        patch = self.filter_length * self._input_dim(input_shape)
        self._add_weights((steps, patch, self.nb_filter), (steps, self.nb_filter))

    def call(self, x, mask=None):
        taps = [strided(x, 1, t, self.output_length, self.subsample_length) for t in range(self.filter_length)]
        y = _local_product(K.concatenate(taps, axis=-1) if len(taps) > 1 else taps[0], self.W)
        return self.activation(y + self.b if self.bias else y)


class LocallyConnected2D(_Conv2DBase):
    """Convolution2D with unshared weights: each output pixel has its own filters.

    Keras 1: `LocallyConnected2D(nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
    border_mode='valid', subsample=(1, 1), dim_ordering='default', W_regularizer, b_regularizer,
    activity_regularizer, bias=True)`. Keras 2: `(filters, kernel_size, strides=(1, 1),
    padding='valid', data_format, ...)`. Weights `[W (rows_out * cols_out, nb_row * nb_col *
    channels, nb_filter), b (rows_out, cols_out, nb_filter)]`.

    As Keras 1.2 (and 2), a 'th' layer adds its bias reshaped, not transposed, to (nb_filter,
    rows_out, cols_out): b's flat order is read as filter-major. Only a weight file depends on it.
    """
    config_keys = ("nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample", "dim_ordering",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias")
    _who = "LocallyConnected2D"
    _borders = ("valid",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.atrous_rate != (1, 1):
            raise NotImplementedError("LocallyConnected2D: dilation_rate is not supported")

    def build(self, input_shape):
        rows, cols = (input_shape[2], input_shape[3]) if self.dim_ordering == "th" else input_shape[1:3]
        self.output_row = _output_length(self, rows, self.nb_row, self.subsample[0], "rows")
        self.output_col = _output_length(self, cols, self.nb_col, self.subsample[1], "columns")
        patch = self.nb_row * self.nb_col * self._channels(input_shape)
        self.W = self.add_weight((self.output_row * self.output_col, patch, self.nb_filter), initializer=self.init,
                                 name="W", regularizer=self.W_regularizer)
        self.b = self._bias((self.output_row, self.output_col, self.nb_filter))
        self.built = True

    @property
    def kernel(self):
        return self.W

    def _patches(self, x):
        """NHWC x -> (batch, rows_out, cols_out, patch), the patch flattened in the kernel's order."""
        (r, c), (sr, sc) = (self.nb_row, self.nb_col), self.subsample
        taps = []
        for i in range(r):
            rows = strided(x, 1, i, self.output_row, sr)
            taps.extend(strided(rows, 2, j, self.output_col, sc) for j in range(c))
        if self.dim_ordering == "tf":  # (row, col, channel)
            return K.concatenate(taps, axis=-1) if len(taps) > 1 else taps[0]
        stacked = K.concatenate([K.expand_dims(t, 3) for t in taps], axis=3)  # (b, R, C, r * c, channels)
        return _reshape(K.permute_dimensions(stacked, (0, 1, 2, 4, 3)), list(stacked.shape[:3]) + [-1])

    def _nhwc(self, x):
        patches = self._patches(x)
        positions = self.output_row * self.output_col
        y = _local_product(_reshape(patches, [None, positions, patches.shape[-1]]), self.W)
        return _reshape(y, [None, self.output_row, self.output_col, self.nb_filter])

    def _add_bias(self, y):
        b = self.b
        if self.dim_ordering == "th":  # Keras' reshape to (filters, rows, cols), seen channels last
            b = K.permute_dimensions(_reshape(b, [self.nb_filter, self.output_row, self.output_col]), (1, 2, 0))
        return y + b
