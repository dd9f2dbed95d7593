"""The 3D layers over volumes, Keras 1.2 names and Keras 2 spellings: Convolution3D (alias
Conv3D), MaxPooling3D / AveragePooling3D (aliases MaxPool3D / AvgPool3D), ZeroPadding3D,
UpSampling3D and Cropping3D. Keras exports them from `layers.convolutional` (and the poolings
from `layers.pooling`), which re-export them from here.

A volume is (batch, channels, dim1, dim2, dim3) for 'th' and (batch, dim1, dim2, dim3, channels)
for 'tf'. The layout rule is the 2D layers' (image_layer.py, backend/image_layout.py): a stated
`dim_ordering` / `data_format` wins, else the layout the input carries, else the spelling's
default; the output carries the layout used.

The convolution and the poolings are K.conv3d / K.pool3d (backend/conv.py: 2D ops with the
depth folded into the batch); padding, cropping and upsampling move values along the three axes
with the ops the 2D layers use.
"""
import numbers

import numpy as np

from .. import activations, backend as K, constraints, initializers, regularizers
from ..backend import conv, image_layout
from ..backend.padding import pad_axis
from ..graph.layer import InputSpec, initial_value
from .image_layer import ImageLayer
from .reshaping import crop_axis


def triple(v, what):
    """(a, b, c) from an int or three ints."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * 3
    v = tuple(int(x) for x in v)
    if len(v) != 3:
        raise ValueError("%s must be an int or 3 ints, got %r" % (what, v))
    return v


def _spatial_axes(layout):
    return (2, 3, 4) if layout == "th" else (1, 2, 3)


class Convolution3D(ImageLayer):
    """3D convolution (cross-correlation, as TensorFlow) over volumes.

    Keras 1: `Convolution3D(nb_filter, kernel_dim1, kernel_dim2, kernel_dim3,
    init='glorot_uniform', activation=None, weights=None, border_mode='valid', subsample=(1, 1, 1),
    dim_ordering='default', W_regularizer, b_regularizer, activity_regularizer, W_constraint,
    b_constraint, bias=True)`. Keras 2: `Conv3D(filters, kernel_size, strides=(1, 1, 1),
    padding='valid', data_format=None, activation=None, use_bias=True, kernel_initializer=...,
    bias_initializer='zeros', kernel_regularizer, bias_regularizer, kernel_constraint,
    bias_constraint)`; positionally `Conv3D(8, (3, 3, 3), (1, 2, 2), 'same')`. dilation_rate
    other than 1 is refused (K.conv3d has none).

    Weights `[W, b]` as Keras 1.2 stores them: W is (nb_filter, stack, dim1, dim2, dim3) for
    'th' and (dim1, dim2, dim3, stack, nb_filter) for 'tf', in the layout of the first call.
    """
    config_keys = ("nb_filter", "kernel_dim1", "kernel_dim2", "kernel_dim3", "dim_ordering", "init", "activation",
                   "border_mode", "subsample", "W_regularizer", "b_regularizer", "activity_regularizer",
                   "W_constraint", "b_constraint", "bias")

    def __init__(self, nb_filter=None, kernel_dim1=None, kernel_dim2=None, kernel_dim3=None, init="glorot_uniform",
                 activation=None, weights=None, border_mode="valid", subsample=(1, 1, 1), dim_ordering="default",
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias=True, filters=None, kernel_size=None, strides=None, padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), use_bias=None, kernel_initializer=None,
                 bias_initializer="zero", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        name = type(self).__name__
        if kernel_size is None and (isinstance(kernel_dim1, (tuple, list)) or
                                    (kernel_dim1 is not None and kernel_dim2 is None)):
            kernel_size, kernel_dim1 = kernel_dim1, None  # Conv3D(8, (3, 3, 3)) or Conv3D(8, 3): Keras 2
            if kernel_dim2 is not None and strides is None:
                strides, kernel_dim2 = kernel_dim2, None  # Conv3D(8, (3, 3, 3), (1, 2, 2))
            if isinstance(kernel_dim3, str) and padding is None:
                padding, kernel_dim3 = kernel_dim3, None  # ... then the padding
        keras2 = kernel_size is not None or filters is not None or padding is not None or strides is not None
        filters = filters if filters is not None else nb_filter
        if filters is None:
            raise TypeError("%s needs the number of filters (nb_filter= or filters=)" % name)
        if kernel_size is None:
            if kernel_dim1 is None or kernel_dim2 is None or kernel_dim3 is None:
                raise TypeError("%s needs the kernel size (kernel_dim1, kernel_dim2, kernel_dim3 or kernel_size=)"
                                % name)
            kernel_size = (kernel_dim1, kernel_dim2, kernel_dim3)
        if triple(dilation_rate, "dilation_rate") != (1, 1, 1):
            raise NotImplementedError("%s: dilation_rate is not supported (K.conv3d has no dilation), got %r"
                                      % (name, dilation_rate))
        super().__init__(weights=weights, **kwargs)
        self.nb_filter = int(filters)
        self.kernel_dim1, self.kernel_dim2, self.kernel_dim3 = triple(kernel_size, "kernel_size")
        self.border_mode = padding if padding is not None else border_mode
        if self.border_mode not in ("valid", "same"):
            raise ValueError("Invalid border mode for Convolution3D:", self.border_mode)
        self.subsample = triple(strides if strides is not None else subsample, "strides")
        self.set_layout(dim_ordering, data_format, keras2)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.W_constraint = constraints.get(W_constraint if W_constraint is not None else kernel_constraint)
        self.b_constraint = constraints.get(b_constraint if b_constraint is not None else bias_constraint)
        self.input_spec = [InputSpec(ndim=5)]

    @property
    def kernel(self):
        return self.W

    def build(self, input_shape):
        stack = input_shape[1] if self.dim_ordering == "th" else input_shape[4]
        if stack is None:
            raise ValueError("Layer %s: the channel dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        tf_shape = (self.kernel_dim1, self.kernel_dim2, self.kernel_dim3, stack, self.nb_filter)
        shape, init = tf_shape, self.init
        if self.dim_ordering == "th":  # drawn channels last (Keras' fans), stored (out, in, d1, d2, d3)
            shape = (self.nb_filter, stack) + tf_shape[:3]

            def init(_shape, name=None, _init=self.init):
                value = np.asarray(initial_value(_init, tf_shape, name))
                return np.ascontiguousarray(value.transpose(4, 3, 0, 1, 2))
        self.W = self.add_weight(shape, initializer=init, name="W", regularizer=self.W_regularizer)
        self.b = self.add_weight((self.nb_filter,), initializer=self.bias_init, name="b",
                                 regularizer=self.b_regularizer) if self.bias else None
        self.built = True

    def call(self, x, mask=None):
        layout = self.layout(x)  # the data's layout; the kernel's is self.dim_ordering
        kernel = K.permute_dimensions(self.W, (2, 3, 4, 1, 0)) if self.dim_ordering == "th" else self.W
        y = conv.conv3d_ndhwc(K.permute_dimensions(x, (0, 2, 3, 4, 1)) if layout == "th" else x, kernel,
                              self.subsample, self.border_mode)
        if self.bias:
            y = K.bias_add(y, self.b)
        y = self.activation(y)
        return image_layout.tag(K.permute_dimensions(y, (0, 4, 1, 2, 3)) if layout == "th" else y, layout)


Conv3D = Convolution3D


class _Pooling3D(ImageLayer):
    mode = None
    config_keys = ("pool_size", "strides", "border_mode", "dim_ordering")

    def __init__(self, pool_size=(2, 2, 2), strides=None, border_mode="valid", dim_ordering="default", padding=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = triple(pool_size, "pool_size")
        self.strides = triple(strides, "strides") if strides is not None else self.pool_size
        self.border_mode = padding if padding is not None else border_mode
        if self.border_mode not in ("valid", "same"):
            raise ValueError("`border_mode` must be in {valid, same}.")
        self.set_layout(dim_ordering, data_format, padding is not None or data_format is not None)
        self.input_spec = [InputSpec(ndim=5)]

    def call(self, x, mask=None):
        return K.pool3d(x, self.pool_size, self.strides, self.border_mode, self.layout(x), self.mode)


class MaxPooling3D(_Pooling3D):
    """Max over pool_size = (dim1, dim2, dim3) windows (strides default to pool_size)."""
    mode = "max"


class AveragePooling3D(_Pooling3D):
    """Mean over pool_size windows; with border_mode='same' the padding is not counted."""
    mode = "avg"


MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D


class _Spatial3D(ImageLayer):
    def __init__(self, dim_ordering="default", data_format=None, keras2=False, **kwargs):
        super().__init__(**kwargs)
        self.set_layout(dim_ordering, data_format, keras2 or data_format is not None)
        self.input_spec = [InputSpec(ndim=5)]

    def call(self, x, mask=None):
        layout = self.layout(x)
        return image_layout.tag(self.spatial(x, _spatial_axes(layout)), layout)


def _nested3(v):
    return isinstance(v, (tuple, list)) and len(v) == 3 and all(isinstance(p, (tuple, list)) for p in v)


def _three_pairs(v, what):
    """((before, after),) * 3 from an int, 3 ints (both sides) or 3 pairs."""
    if isinstance(v, numbers.Integral):
        return ((int(v), int(v)),) * 3
    v = tuple(v)
    if len(v) != 3:
        raise ValueError("%s must be an int, 3 ints or 3 pairs of ints, got %r" % (what, v))
    out = []
    for p in v:
        if isinstance(p, numbers.Integral):
            out.append((int(p), int(p)))
        else:
            p = tuple(int(a) for a in p)
            if len(p) != 2:
                raise ValueError("%s must be an int, 3 ints or 3 pairs of ints, got %r" % (what, v))
            out.append(p)
    return tuple(out)


class ZeroPadding3D(_Spatial3D):
    """Adds zeros on both sides of the three spatial axes: `padding` is (dim1, dim2, dim3)
    (Keras 1.2 and 2), an int or ((before, after),) * 3 (Keras 2). The config holds the three
    sizes when both sides agree (Keras 1.2's form), else the three pairs."""
    config_keys = ("padding", "dim_ordering")

    def __init__(self, padding=(1, 1, 1), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, keras2=_nested3(padding), **kwargs)
        pads = _three_pairs(padding, "ZeroPadding3D padding")
        self.padding = tuple(a for a, _ in pads) if all(a == b for a, b in pads) else pads

    def spatial(self, x, axes):
        for axis, (before, after) in zip(axes, _three_pairs(self.padding, "padding")):
            x = pad_axis(x, axis, before, after)
        return x


class Cropping3D(_Spatial3D):
    """Removes values from both ends of the three spatial axes: `cropping` is
    ((before, after),) * 3 (Keras 1.2 and 2), 3 ints (both sides) or an int (Keras 2)."""
    config_keys = ("cropping", "dim_ordering")

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, **kwargs)
        self.cropping = _three_pairs(cropping, "Cropping3D cropping")

    def spatial(self, x, axes):
        who = "Cropping3D %s" % self.name
        for axis, (before, after) in zip(axes, self.cropping):
            x = crop_axis(x, axis, before, after, who)
        return x


class UpSampling3D(_Spatial3D):
    """Repeats each entry of the three spatial axes size[0], size[1], size[2] times (nearest
    neighbour)."""
    config_keys = ("size", "dim_ordering")

    def __init__(self, size=(2, 2, 2), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, **kwargs)
        self.size = triple(size, "UpSampling3D size")

    def spatial(self, x, axes):
        for axis, n in zip(axes, self.size):
            if n != 1:
                x = K.repeat_elements(x, n, axis)
        return x
