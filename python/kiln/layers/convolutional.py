"""Convolution1D/2D (aliases Conv1D/Conv2D) and the 2D pooling layers, Keras 1 and Keras 2
spellings; ZeroPadding, Cropping and UpSampling (reshaping.py) are re-exported here, where Keras
has them.

Convolution1D is the 2D convolution of its (batch, steps, features) input seen as an image one
pixel wide, channels last, with Keras 1.2's kernel (filter_length, 1, input_dim, nb_filter).

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

from .. import activations, backend as K, initializers, regularizers
from ..backend import image_layout
from ..backend.tensor import make
from ..graph.layer import InputSpec, Layer
from .image_layer import ImageLayer, pair




def _border(mode, who):
    if mode not in ("valid", "same"):
        if who == "Convolution2D":
            raise ValueError("Invalid border mode for Convolution2D:", mode)
        raise ValueError("`border_mode` must be in {valid, same}.")
    return mode


class Convolution2D(ImageLayer):
    """2D convolution (cross-correlation, as TensorFlow) over images.

    Keras 1: `Convolution2D(nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
    border_mode='valid', subsample=(1, 1), dim_ordering='default', bias=True, W_regularizer, ...)`.
    Keras 2: `Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    activation=None, use_bias=True, kernel_initializer=..., ...)`.
    """
    config_keys = ("nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample", "dim_ordering",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias")
    W_constraint = b_constraint = None  # constraints are not supported yet

    def __init__(self, nb_filter=None, nb_row=None, nb_col=None, init="glorot_uniform", activation=None,
                 weights=None, border_mode="valid", subsample=(1, 1), dim_ordering="default", W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 filters=None, kernel_size=None, strides=None, padding=None, data_format=None, dilation_rate=(1, 1),
                 use_bias=None, kernel_initializer=None, bias_initializer="zero", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        if W_constraint or b_constraint or kernel_constraint or bias_constraint:
            raise NotImplementedError("Convolution2D: constraints are not supported yet")
        if pair(dilation_rate, "dilation_rate") != (1, 1):
            raise NotImplementedError("Convolution2D: dilation_rate is not supported yet")
        if kernel_size is None and nb_col is None and isinstance(nb_row, (tuple, list)):
            kernel_size, nb_row = nb_row, None  # Conv2D(32, (3, 3)): the kernel size, Keras 2
        # Keras 2 words (a kernel_size, filters, padding, strides) or Keras 1's (nb_row, nb_col, ...)
        keras2 = (kernel_size is not None or filters is not None or padding is not None or strides is not None
                  or not isinstance(nb_row, numbers.Integral) or nb_col is None)
        filters = filters if filters is not None else nb_filter
        if filters is None:
            raise TypeError("Convolution2D needs the number of filters (nb_filter= or filters=)")
        if kernel_size is None:
            if nb_row is None:
                raise TypeError("Convolution2D needs the kernel size (nb_row, nb_col or kernel_size=)")
            kernel_size = nb_row if nb_col is None else (nb_row, nb_col)
        super().__init__(weights=weights, **kwargs)
        self.nb_filter = int(filters)
        self.nb_row, self.nb_col = pair(kernel_size, "kernel_size")
        self.border_mode = _border(padding if padding is not None else border_mode, "Convolution2D")
        self.subsample = pair(strides if strides is not None else subsample, "strides")
        self.set_layout(dim_ordering, data_format, keras2)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = [InputSpec(ndim=4)]

    def build(self, input_shape):
        channels = input_shape[1] if self.dim_ordering == "th" else input_shape[3]
        if channels is None:
            raise ValueError("Layer %s: the channel dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        tf_shape = (self.nb_row, self.nb_col, channels, self.nb_filter)
        init = self.init
        if self.dim_ordering == "th":  # draw with channels-last fans, store in Keras' 'th' layout
            shape = (self.nb_filter, channels, self.nb_row, self.nb_col)

            def init(_shape, _init=self.init):
                return np.ascontiguousarray(np.asarray(_init(tf_shape)).transpose(3, 2, 0, 1))
        else:
            shape = tf_shape
        self.W = self.add_weight(shape, initializer=init, name="W", regularizer=self.W_regularizer)
        self.b = self.add_weight((self.nb_filter,), initializer=self.bias_init, name="b",
                                 regularizer=self.b_regularizer) if self.bias else None
        self.built = True

    @property
    def kernel(self):
        return self.W

    def call(self, x, mask=None):
        layout = self.layout(x)
        th = layout == "th"  # the data's layout; the kernel's is self.dim_ordering
        nhwc = K.permute_dimensions(x, (0, 2, 3, 1)) if th else x
        kernel = K.permute_dimensions(self.W, (2, 3, 1, 0)) if self.dim_ordering == "th" else self.W
        y = make("conv2d", [nhwc, kernel],
                             {"strides": list(self.subsample), "padding": self.border_mode})
        if self.bias:
            y = K.bias_add(y, self.b)
        y = self.activation(y)
        return image_layout.tag(K.permute_dimensions(y, (0, 3, 1, 2)) if th else y, layout)



Conv2D = Convolution2D  # Keras 1.2 alias (Keras 1 names: convolution2d_N)


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


class Convolution1D(Layer):
    """1D convolution (cross-correlation) over the steps of (batch, steps, input_dim).

    Keras 1: `Convolution1D(nb_filter, filter_length, init='glorot_uniform', activation=None,
    border_mode='valid', subsample_length=1, W_regularizer, b_regularizer, activity_regularizer,
    bias=True, input_dim=None, input_length=None)`. Keras 2: `Conv1D(filters, kernel_size,
    strides=1, padding='valid' | 'same' | 'causal', use_bias, kernel_initializer, ...)`.
    Weights `[W (filter_length, 1, input_dim, nb_filter), b (nb_filter,)]`, as Keras 1.2 stores
    them. 'causal' pads filter_length - 1 zero steps in front, then convolves 'valid'.
    """
    config_keys = ("nb_filter", "filter_length", "init", "activation", "border_mode", "subsample_length",
                   "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias",
                   "input_dim", "input_length")
    W_constraint = b_constraint = None  # constraints are not supported yet

    def __init__(self, nb_filter=None, filter_length=None, init="glorot_uniform", activation=None, weights=None,
                 border_mode="valid", subsample_length=1, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True, input_dim=None,
                 input_length=None, filters=None, kernel_size=None, strides=None, padding=None, dilation_rate=1,
                 use_bias=None, kernel_initializer=None, bias_initializer="zero", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        if W_constraint or b_constraint or kernel_constraint or bias_constraint:
            raise NotImplementedError("Convolution1D: constraints are not supported yet")
        if dilation_rate not in (1, (1,), [1]):
            raise NotImplementedError("Convolution1D: dilation_rate is not supported yet")
        filters = filters if filters is not None else nb_filter
        length = kernel_size if kernel_size is not None else filter_length
        if filters is None or length is None:
            raise TypeError("Convolution1D needs the number of filters and the filter length (nb_filter, "
                            "filter_length or filters=, kernel_size=)")
        if isinstance(length, (tuple, list)):
            (length,) = length
        if input_dim is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(weights=weights, **kwargs)
        self.nb_filter, self.filter_length = int(filters), int(length)
        mode = padding if padding is not None else border_mode
        if mode not in ("valid", "same", "causal"):
            raise ValueError("Invalid border mode for Convolution1D: %r (kiln has 'valid', 'same' and 'causal')"
                             % (mode,))
        self.border_mode = mode
        stride = strides if strides is not None else subsample_length
        self.subsample_length = int(stride[0] if isinstance(stride, (tuple, list)) else stride)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.input_dim, self.input_length = input_dim, input_length
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = [InputSpec(ndim=3)]

    def build(self, input_shape):
        channels = input_shape[2]
        if channels is None:
            raise ValueError("Layer %s: the last dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        self.W = self.add_weight((self.filter_length, 1, channels, self.nb_filter), initializer=self.init, name="W",
                                 regularizer=self.W_regularizer)
        self.b = self.add_weight((self.nb_filter,), initializer=self.bias_init, name="b",
                                 regularizer=self.b_regularizer) if self.bias else None
        self.built = True

    @property
    def kernel(self):
        return self.W

    def call(self, x, mask=None):
        padding = self.border_mode
        if padding == "causal":
            x, padding = pad_axis(x, 1, self.filter_length - 1, 0), "valid"
        y = make("conv2d", [K.expand_dims(x, 2), self.W], {"strides": [self.subsample_length, 1], "padding": padding})
        if self.bias:
            y = K.bias_add(y, self.b)
        return self.activation(K.squeeze(y, 2))


Conv1D = Convolution1D

from .reshaping import (Cropping1D, Cropping2D, UpSampling1D, UpSampling2D, ZeroPadding1D,  # noqa: E402,F401
                        ZeroPadding2D, pad_axis)
