"""Convolution1D/2D (aliases Conv1D/Conv2D), AtrousConvolution1D/2D, Deconvolution2D (alias
Conv2DTranspose), SeparableConvolution2D (alias SeparableConv2D) and the 2D pooling layers, Keras
1 and Keras 2 spellings; ZeroPadding, Cropping and UpSampling (reshaping.py) are re-exported here,
where Keras has them. The layers over (batch, steps, features) share _Conv1DBase and the image
ones _Conv2DBase with the locally connected layers (local.py).

Convolution1D is the 2D convolution of its (batch, steps, features) input seen as an image one
pixel wide, channels last, with Keras 1.2's kernel (filter_length, 1, input_dim, nb_filter).
Dilation, transposed and separable convolutions are compositions of the one conv2d op
(backend/conv.py), so each trains like Convolution2D.

The IR ops work channels last (NHWC); with dim_ordering 'th' (channels first, Keras 1.0's
default, the layout of the guide's `Input(shape=(3, 256, 256))`) the layer transposes around
them, and its kernel keeps Keras' 'th' layout (filters, channels, rows, cols), so weights match
Keras files of either ordering.

Layout (backend/image_layout.py): a stated `dim_ordering` / `data_format` wins; else the layer
follows the layout its input carries; else, on a raw Input, the spelling of its call decides
(Keras 2 words read `image_data_format()`, Keras 1 words `image_dim_ordering()`). The output
carries the layout used. `self.dim_ordering` is the layout of the first call (a conv kernel is
stored in it).
"""
import numbers

import numpy as np

from .. import activations, backend as K, constraints, initializers, regularizers
from ..backend import conv, image_layout
from ..graph.layer import InputSpec, Layer, initial_value
from .image_layer import ImageLayer, pair


def _border(mode, who):
    if mode not in ("valid", "same"):
        if who == "Convolution2D":
            raise ValueError("Invalid border mode for Convolution2D:", mode)
        raise ValueError("`border_mode` must be in {valid, same}.")
    return mode


class _Conv2DBase(ImageLayer):
    """What the 2D convolution layers share: Keras 1 or Keras 2 arguments, the layout rule, the
    bias and activation after the op. Keras 2's positional `Conv2D(32, (3, 3), (2, 2))` (a
    kernel_size pair, then strides) is read as such; Keras 1's `Convolution2D(32, 3, 3)` as
    nb_filter, nb_row, nb_col."""
    _who = "Convolution2D"  # as Keras names the layer in its border-mode message
    _borders = ("valid", "same")

    def __init__(self, nb_filter=None, nb_row=None, nb_col=None, init="glorot_uniform", activation=None,
                 weights=None, border_mode="valid", subsample=(1, 1), dim_ordering="default", W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 filters=None, kernel_size=None, strides=None, padding=None, data_format=None, dilation_rate=(1, 1),
                 use_bias=None, kernel_initializer=None, bias_initializer="zero", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        self.W_constraint = constraints.get(W_constraint if W_constraint is not None else kernel_constraint)
        self.b_constraint = constraints.get(b_constraint if b_constraint is not None else bias_constraint)
        if kernel_size is None and isinstance(nb_row, (tuple, list)):
            kernel_size, nb_row = nb_row, None  # Conv2D(32, (3, 3)): the kernel size, Keras 2
            if nb_col is not None and strides is None:
                strides, nb_col = nb_col, None  # Conv2D(32, (3, 3), (2, 2)): then the strides
        # Keras 2 words (a kernel_size, filters, padding, strides) or Keras 1's (nb_row, nb_col, ...)
        keras2 = (kernel_size is not None or filters is not None or padding is not None or strides is not None
                  or not isinstance(nb_row, numbers.Integral) or nb_col is None)
        filters = filters if filters is not None else nb_filter
        name = type(self).__name__
        if filters is None:
            raise TypeError("%s needs the number of filters (nb_filter= or filters=)" % name)
        if kernel_size is None:
            if nb_row is None:
                raise TypeError("%s needs the kernel size (nb_row, nb_col or kernel_size=)" % name)
            kernel_size = nb_row if nb_col is None else (nb_row, nb_col)
        super().__init__(weights=weights, **kwargs)
        self.nb_filter = int(filters)
        self.nb_row, self.nb_col = pair(kernel_size, "kernel_size")
        self.border_mode = padding if padding is not None else border_mode
        if self.border_mode not in self._borders:
            raise ValueError("Invalid border mode for %s%s:" % (self._who, " (only \"valid\" is supported)"
                                                               if self._borders == ("valid",) else ""),
                             self.border_mode)
        self.subsample = pair(strides if strides is not None else subsample, "strides")
        self.atrous_rate = pair(dilation_rate, "dilation_rate")
        if self.atrous_rate != (1, 1):  # Keras 2's Conv2D(dilation_rate=2): kept, under its Keras 2 name
            self.config_keys = type(self).config_keys + ("dilation_rate",)
        self.set_layout(dim_ordering, data_format, keras2)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = [InputSpec(ndim=4)]

    @property
    def dilation_rate(self):
        return self.atrous_rate

    def _channels(self, input_shape):
        channels = input_shape[1] if self.dim_ordering == "th" else input_shape[3]
        if channels is None:
            raise ValueError("Layer %s: the channel dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        return channels

    def _kernel(self, tf_shape, name, init, regularizer=None, constraint=None):
        """A kernel weight drawn in its channels-last shape (rows, cols, a, b), so initializers
        see Keras' fans, and stored in Keras' layout for the layer's ordering ('th': (b, a, rows,
        cols))."""
        shape = tf_shape
        if self.dim_ordering == "th":
            shape = (tf_shape[3], tf_shape[2], tf_shape[0], tf_shape[1])

            def init(_shape, name=None, _init=init):
                return np.ascontiguousarray(np.asarray(initial_value(_init, tf_shape, name)).transpose(3, 2, 0, 1))
        return self.add_weight(shape, initializer=init, name=name, regularizer=regularizer, constraint=constraint)

    def _channels_last(self, w):
        """A kernel as stored (in the ordering of the first call) read as (rows, cols, a, b)."""
        return K.permute_dimensions(w, (2, 3, 1, 0)) if self.dim_ordering == "th" else w

    def _bias(self, shape=None):
        if not self.bias:
            return None
        return self.add_weight(shape or (self.nb_filter,), initializer=self.bias_init, name="b",
                               regularizer=self.b_regularizer)

    def _add_bias(self, y):
        return K.bias_add(y, self.b)

    def call(self, x, mask=None):
        layout = self.layout(x)  # the data's layout; the kernel's is self.dim_ordering
        y = self._nhwc(K.permute_dimensions(x, (0, 2, 3, 1)) if layout == "th" else x)
        y = self.activation(self._add_bias(y) if self.bias else y)
        return image_layout.tag(K.permute_dimensions(y, (0, 3, 1, 2)) if layout == "th" else y, layout)


class Convolution2D(_Conv2DBase):
    """2D convolution (cross-correlation, as TensorFlow) over images.

    Keras 1: `Convolution2D(nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
    border_mode='valid', subsample=(1, 1), dim_ordering='default', bias=True, W_regularizer, ...)`.
    Keras 2: `Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=..., ...)`; a
    dilation_rate other than 1 is kept in the config under that name.
    """
    config_keys = ("nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample", "dim_ordering",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias")

    def build(self, input_shape):
        self.W = self._kernel((self.nb_row, self.nb_col, self._channels(input_shape), self.nb_filter), "W", self.init,
                              self.W_regularizer)
        self.b = self._bias()
        self.built = True

    @property
    def kernel(self):
        return self.W

    def _nhwc(self, x):
        return conv.conv_nhwc(x, self._channels_last(self.W), self.subsample, self.border_mode, self.atrous_rate)


Conv2D = Convolution2D  # Keras 1.2 alias (Keras 1 names: convolution2d_N)


class AtrousConvolution2D(Convolution2D):
    """Keras 1.2's dilated Convolution2D: the kernel's taps `atrous_rate` = (rows, cols) apart
    (Keras 2: `Conv2D(dilation_rate=)`), as if the kernel had rate - 1 zeros between its taps.
    Same arguments and weights as Convolution2D, plus `atrous_rate`; strides may be used with it
    (Keras' TensorFlow backend refuses the two together)."""
    config_keys = Convolution2D.config_keys + ("atrous_rate",)
    _who = "AtrousConv2D"

    def __init__(self, nb_filter=None, nb_row=None, nb_col=None, init="glorot_uniform", activation=None, weights=None,
                 border_mode="valid", subsample=(1, 1), atrous_rate=(1, 1), dim_ordering="default", **kwargs):
        super().__init__(nb_filter, nb_row, nb_col, init, activation, weights, border_mode, subsample, dim_ordering,
                         dilation_rate=atrous_rate, **kwargs)
        self.config_keys = type(self).config_keys


class Deconvolution2D(Convolution2D):
    """Transposed convolution (the gradient of a Convolution2D with respect to its input), alias
    Conv2DTranspose.

    Keras 1: `Deconvolution2D(nb_filter, nb_row, nb_col, output_shape, init, activation,
    border_mode='valid', subsample=(1, 1), dim_ordering, ...)`, `output_shape` the full shape of
    the result in the layer's ordering (batch entry None or a number). Keras 2:
    `Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid', data_format, ...)`,
    without output_shape: rows and columns then come out as Keras 2 computes them (input * stride,
    plus max(kernel - stride, 0) for 'valid').

    Weights `[W, b]` with W in Keras 1's layout, the kernel of the Convolution2D it transposes:
    'tf' (rows, cols, input channels, nb_filter), 'th' (nb_filter, input channels, rows, cols).
    Keras 2's Conv2DTranspose stores (rows, cols, filters, input channels): swap the last two
    axes of a Keras 2 kernel. Composed of conv2d on the dilated, padded input (backend/conv.py),
    so it trains.
    """
    _who = "Deconvolution2D"  # its config adds Keras 1.2's output_shape (the name of a Layer property here)

    def __init__(self, nb_filter=None, nb_row=None, nb_col=None, output_shape=None, **kwargs):
        if isinstance(output_shape, str) and "padding" not in kwargs:
            output_shape, kwargs["padding"] = None, output_shape  # Conv2DTranspose(f, k, s, 'same')
        super().__init__(nb_filter, nb_row, nb_col, **kwargs)
        if self.atrous_rate != (1, 1):
            raise NotImplementedError("Deconvolution2D: dilation_rate is not supported")
        self.output_shape_ = tuple(output_shape) if output_shape is not None else None
        if self.output_shape_ is not None and len(self.output_shape_) != 4:
            raise ValueError("Deconvolution2D: output_shape is the full shape of the result, batch included (4 "
                             "entries), got %r" % (output_shape,))

    def get_config(self):
        config = super().get_config()
        config["output_shape"] = list(self.output_shape_) if self.output_shape_ is not None else None
        return config

    def _rows_cols(self, x_nhwc):
        if self.output_shape_ is not None:
            shape = self.output_shape_
            return (shape[2], shape[3]) if self.dim_ordering == "th" else (shape[1], shape[2])
        return tuple(None if n is None else conv.transposed_length(n, k, s, self.border_mode)
                     for n, k, s in zip(x_nhwc.shape[1:3], (self.nb_row, self.nb_col), self.subsample))

    def _nhwc(self, x):
        kernel = K.permute_dimensions(self._channels_last(self.W), (0, 1, 3, 2))  # (rows, cols, out, in)
        return conv.conv_transpose_nhwc(x, kernel, self._rows_cols(x), self.subsample, self.border_mode)


Conv2DTranspose = Deconvolution2D


class SeparableConvolution2D(_Conv2DBase):
    """A depthwise convolution (each input channel with its own `depth_multiplier` filters) then
    a 1x1 convolution mixing the results into `nb_filter` outputs, alias SeparableConv2D.

    Keras 1: `SeparableConvolution2D(nb_filter, nb_row, nb_col, init, activation, border_mode,
    subsample, depth_multiplier=1, dim_ordering, depthwise_regularizer, pointwise_regularizer,
    b_regularizer, activity_regularizer, bias=True)`. Keras 2: `SeparableConv2D(filters,
    kernel_size, strides, padding, data_format, depth_multiplier, depthwise_initializer,
    pointwise_initializer, use_bias, ...)`.

    Weights `[depthwise_kernel, pointwise_kernel, b]`, in Keras 1's layout: 'tf' (rows, cols,
    channels, depth_multiplier) and (1, 1, channels * depth_multiplier, nb_filter); 'th'
    (depth_multiplier, channels, rows, cols) and (nb_filter, channels * depth_multiplier, 1, 1)
    (Keras 2 keeps the 'tf' shapes in either layout). Depthwise output c * depth_multiplier + m is
    channel c through depthwise_kernel[..., c, m], as TensorFlow's. Composed of two conv2d
    (backend/conv.py: the depthwise one through a block-diagonal kernel), so it runs under any
    backend, unlike Keras 1.2's (TensorFlow only).
    """
    config_keys = ("nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample",
                   "depth_multiplier", "dim_ordering", "depthwise_regularizer", "pointwise_regularizer",
                   "b_regularizer", "activity_regularizer", "depthwise_constraint", "pointwise_constraint",
                   "b_constraint", "bias")
    _who = "SeparableConv2D"

    def __init__(self, nb_filter=None, nb_row=None, nb_col=None, init="glorot_uniform", activation=None, weights=None,
                 border_mode="valid", subsample=(1, 1), depth_multiplier=1, dim_ordering="default",
                 depthwise_regularizer=None, pointwise_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, b_constraint=None, bias=True,
                 depthwise_initializer=None, pointwise_initializer=None, **kwargs):
        for k in ("W_regularizer", "kernel_regularizer", "kernel_initializer"):
            if kwargs.get(k) is not None:
                raise TypeError("SeparableConvolution2D has no single kernel: use depthwise_/pointwise_%s instead of %s"
                                % (k.split("_")[1], k))
        super().__init__(nb_filter, nb_row, nb_col, init, activation, weights, border_mode, subsample, dim_ordering,
                         b_regularizer=b_regularizer, activity_regularizer=activity_regularizer,
                         b_constraint=b_constraint, bias=bias, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_initializer = initializers.get(depthwise_initializer) if depthwise_initializer else self.init
        self.pointwise_initializer = initializers.get(pointwise_initializer) if pointwise_initializer else self.init
        if depthwise_initializer or pointwise_initializer:  # Keras 2 only: kept under their names
            self.config_keys = self.config_keys + ("depthwise_initializer", "pointwise_initializer")

    def build(self, input_shape):
        c, m = self._channels(input_shape), self.depth_multiplier
        self.depthwise_kernel = self._kernel((self.nb_row, self.nb_col, c, m), "depthwise_kernel",
                                             self.depthwise_initializer, self.depthwise_regularizer,
                                             self.depthwise_constraint)
        self.pointwise_kernel = self._kernel((1, 1, c * m, self.nb_filter), "pointwise_kernel",
                                             self.pointwise_initializer, self.pointwise_regularizer,
                                             self.pointwise_constraint)
        self.b = self._bias()
        self.built = True

    def _nhwc(self, x):
        depthwise = conv.depthwise_nhwc(x, self._channels_last(self.depthwise_kernel), self.subsample,
                                        self.border_mode, self.atrous_rate)
        return conv.conv_nhwc(depthwise, self._channels_last(self.pointwise_kernel))


SeparableConv2D = SeparableConvolution2D


class _Pooling2D(ImageLayer):
    mode = None
    config_keys = ("pool_size", "strides", "border_mode", "dim_ordering")

    def __init__(self, pool_size=(2, 2), strides=None, border_mode="valid", dim_ordering="default", padding=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = pair(strides, "strides") if strides is not None else self.pool_size
        self.border_mode = _border(padding if padding is not None else border_mode, "pooling")
        self.set_layout(dim_ordering, data_format, padding is not None)
        self.input_spec = [InputSpec(ndim=4)]

    def call(self, x, mask=None):
        layout = self.layout(x)
        return K.pool2d(x, self.pool_size, self.strides, self.border_mode, layout, self.mode)



class MaxPooling2D(_Pooling2D):
    """Max over pool_size windows (strides default to pool_size)."""
    mode = "max"


class AveragePooling2D(_Pooling2D):
    """Mean over pool_size windows; with border_mode='same' the padding is not counted."""
    mode = "avg"


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D


class _Conv1DBase(Layer):
    """What the layers over (batch, steps, input_dim) share: Keras 1 or Keras 2 arguments, and
    Keras 1.2's input_dim / input_length shortcut for the input shape."""
    _borders = ("valid", "same", "causal")

    def __init__(self, nb_filter=None, filter_length=None, init="glorot_uniform", activation=None, weights=None,
                 border_mode="valid", subsample_length=1, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True, input_dim=None,
                 input_length=None, filters=None, kernel_size=None, strides=None, padding=None, dilation_rate=1,
                 use_bias=None, kernel_initializer=None, bias_initializer="zero", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        name = type(self).__name__
        self.W_constraint = constraints.get(W_constraint if W_constraint is not None else kernel_constraint)
        self.b_constraint = constraints.get(b_constraint if b_constraint is not None else bias_constraint)
        filters = filters if filters is not None else nb_filter
        length = kernel_size if kernel_size is not None else filter_length
        if filters is None or length is None:
            raise TypeError("%s needs the number of filters and the filter length (nb_filter, filter_length or "
                            "filters=, kernel_size=)" % name)
        if isinstance(length, (tuple, list)):
            (length,) = length
        if input_dim is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(weights=weights, **kwargs)
        self.nb_filter, self.filter_length = int(filters), int(length)
        mode = padding if padding is not None else border_mode
        if mode not in self._borders:
            if self._borders == ("valid",):
                raise ValueError('Invalid border mode for %s (only "valid" is supported):' % name, mode)
            raise ValueError("Invalid border mode for %s: %r (kiln has %s)" % (name, mode, ", ".join(self._borders)))
        self.border_mode = mode
        stride = strides if strides is not None else subsample_length
        self.subsample_length = int(stride[0] if isinstance(stride, (tuple, list)) else stride)
        self.atrous_rate = int(dilation_rate[0] if isinstance(dilation_rate, (tuple, list)) else dilation_rate)
        if self.atrous_rate != 1:  # Keras 2's Conv1D(dilation_rate=2): kept, under its Keras 2 name
            self.config_keys = type(self).config_keys + ("dilation_rate",)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.input_dim, self.input_length = input_dim, input_length
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = [InputSpec(ndim=3)]

    @property
    def dilation_rate(self):
        return self.atrous_rate

    def _input_dim(self, input_shape):
        if input_shape[2] is None:
            raise ValueError("Layer %s: the last dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        return input_shape[2]

    def _add_weights(self, kernel_shape, bias_shape):
        """The weights `[W, b]` (b only with bias=True), as Keras 1.2 names them."""
        self.W = self.add_weight(kernel_shape, initializer=self.init, name="W", regularizer=self.W_regularizer)
        self.b = self.add_weight(bias_shape, initializer=self.bias_init, name="b",
                                 regularizer=self.b_regularizer) if self.bias else None
        self.built = True

    @property
    def kernel(self):
        return self.W


class Convolution1D(_Conv1DBase):
    """1D convolution (cross-correlation) over the steps of (batch, steps, input_dim).

    Keras 1: `Convolution1D(nb_filter, filter_length, init='glorot_uniform', activation=None,
    border_mode='valid', subsample_length=1, W_regularizer, b_regularizer, activity_regularizer,
    bias=True, input_dim=None, input_length=None)`. Keras 2: `Conv1D(filters, kernel_size,
    strides=1, padding='valid' | 'same' | 'causal', dilation_rate=1, use_bias, kernel_initializer,
    ...)`. Weights `[W (filter_length, 1, input_dim, nb_filter), b (nb_filter,)]`, as Keras 1.2
    stores them. 'causal' pads (filter_length - 1) * dilation_rate zero steps in front, then
    convolves 'valid'. A dilation_rate other than 1 is kept in the config under that name.
    """
    config_keys = ("nb_filter", "filter_length", "init", "activation", "border_mode", "subsample_length",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias",
                   "input_dim", "input_length")

    def build(self, input_shape):
        self._add_weights((self.filter_length, 1, self._input_dim(input_shape), self.nb_filter), (self.nb_filter,))

    def call(self, x, mask=None):
        y = conv.conv1d_steps(x, self.W, self.subsample_length, self.border_mode, self.atrous_rate)
        if self.bias:
            y = K.bias_add(y, self.b)
        return self.activation(y)


Conv1D = Convolution1D


class AtrousConvolution1D(Convolution1D):
    """Keras 1.2's dilated Convolution1D: the kernel's taps `atrous_rate` steps apart (Keras 2:
    `Conv1D(dilation_rate=)`). Same arguments and weights as Convolution1D, plus `atrous_rate`."""
    config_keys = Convolution1D.config_keys + ("atrous_rate",)

    def __init__(self, nb_filter=None, filter_length=None, init="glorot_uniform", activation=None, weights=None,
                 border_mode="valid", subsample_length=1, atrous_rate=1, **kwargs):
        super().__init__(nb_filter, filter_length, init, activation, weights, border_mode, subsample_length,
                         dilation_rate=atrous_rate, **kwargs)
        self.config_keys = type(self).config_keys

from .reshaping import (Cropping1D, Cropping2D, UpSampling1D, UpSampling2D, ZeroPadding1D,  # noqa: E402,F401
                        ZeroPadding2D)
from .volumes import (AveragePooling3D, AvgPool3D, Conv3D, Convolution3D, Cropping3D, MaxPool3D,  # noqa: E402,F401
                      MaxPooling3D, UpSampling3D, ZeroPadding3D)

# Keras 1.2's other names here: the short aliases, and the 1D pooling layers (pooling.py imports
# this module, so those are looked up when asked for).
AtrousConv1D, AtrousConv2D, Deconv2D = AtrousConvolution1D, AtrousConvolution2D, Deconvolution2D
_FROM_POOLING = ("MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D")


def __getattr__(name):
    if name in _FROM_POOLING:
        from . import pooling
        return getattr(pooling, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
