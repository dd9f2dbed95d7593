"""Keras 1.2/2 `layers.pooling`: the 2D and 3D pooling layers (defined with the convolutions and
in volumes.py), 1D pooling, and global pooling over steps, pixels or voxels.

1D pooling is 2D pooling of the input seen as an image one pixel wide: (batch, steps, features)
-> (batch, steps, 1, features), channels last, then back. The 2D and 3D global poolings reduce
the two or three spatial axes of their input's layout (image_layout.py): axes 2.. for 'th'
(channels first), 1.. for 'tf'.
"""
from .. import backend as K
from ..backend import image_layout
from ..graph.layer import InputSpec, Layer
from .image_layer import ImageLayer, pair
from .convolutional import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D, _border  # noqa: F401
from .volumes import AveragePooling3D, AvgPool3D, MaxPool3D, MaxPooling3D  # noqa: F401


class _Pooling1D(Layer):
    mode = None
    config_keys = ("pool_length", "stride", "border_mode")

    def __init__(self, pool_length=2, stride=None, border_mode="valid", pool_size=None, strides=None, padding=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_length = int(pool_size if pool_size is not None else pool_length)
        stride = strides if strides is not None else stride
        self.stride = int(stride) if stride is not None else self.pool_length
        self.border_mode = _border(padding if padding is not None else border_mode, "pooling")
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, x, mask=None):
        image = K.expand_dims(x, 2)
        y = K.pool2d(image, (self.pool_length, 1), (self.stride, 1), self.border_mode, "tf", self.mode)
        return K.squeeze(y, 2)


class MaxPooling1D(_Pooling1D):
    """Max over windows of `pool_length` steps (Keras 2 `pool_size`), `stride` (`strides`)
    defaulting to the window."""
    mode = "max"


class AveragePooling1D(_Pooling1D):
    """Mean over windows of `pool_length` steps; with border_mode='same' the padding is not
    counted."""
    mode = "avg"


class _GlobalPooling1D(Layer):
    reduce = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, x, mask=None):
        return type(self).reduce(x, axis=1)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """(batch, steps, features) -> (batch, features), the max over steps."""
    reduce = staticmethod(K.max)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """(batch, steps, features) -> (batch, features), the mean over steps."""
    reduce = staticmethod(K.mean)


class _GlobalPoolingND(ImageLayer):
    reduce = None
    rank = None  # the number of spatial axes
    config_keys = ("dim_ordering",)

    def __init__(self, dim_ordering="default", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.set_layout(dim_ordering, data_format, data_format is not None)
        self.input_spec = [InputSpec(ndim=self.rank + 2)]

    def call(self, x, mask=None):
        first = 2 if self.layout(x) == "th" else 1
        return type(self).reduce(x, axis=list(range(first, first + self.rank)))


class _GlobalPooling2D(_GlobalPoolingND):
    rank = 2


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Images -> (batch, channels), the max over rows and columns."""
    reduce = staticmethod(K.max)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Images -> (batch, channels), the mean over rows and columns."""
    reduce = staticmethod(K.mean)


class _GlobalPooling3D(_GlobalPoolingND):
    rank = 3


class GlobalMaxPooling3D(_GlobalPooling3D):
    """Volumes -> (batch, channels), the max over the three spatial axes."""
    reduce = staticmethod(K.max)


class GlobalAveragePooling3D(_GlobalPooling3D):
    """Volumes -> (batch, channels), the mean over the three spatial axes."""
    reduce = staticmethod(K.mean)


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D  # Keras 2 aliases
GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D
GlobalMaxPool2D, GlobalAvgPool2D = GlobalMaxPooling2D, GlobalAveragePooling2D
GlobalMaxPool3D, GlobalAvgPool3D = GlobalMaxPooling3D, GlobalAveragePooling3D
