"""ZeroPadding1D/2D, Cropping1D/2D and UpSampling1D/2D: layers that only move values, composed of
existing ops (zeros by `broadcast_like`, then `concat`; `slice`; `repeat`). Keras exports them
from `layers.convolutional`, which re-exports them from here.

Each 1D layer works on (batch, steps, features) along the steps. Each 2D layer works on the two
spatial axes of its input's layout (image_layout.py): the input's, else the stated
`dim_ordering` / `data_format`, else the spelling's default; the output carries the layout used.
Their arguments share names between Keras 1 and 2, so only Keras 2-only spellings (a nested
((top, bottom), (left, right)) padding or a `data_format`) pick Keras 2's default on a raw Input.
"""
from .. import backend as K
from ..backend import image_layout
from ..backend.padding import pad_axis
from ..backend.tensor import make
from ..graph.layer import InputSpec, Layer
from .image_layer import ImageLayer, pair


def _pairs(v, what):
    """((before, after), (before, after)) for the two spatial axes, from any Keras spelling."""
    if isinstance(v, dict):  # Keras 1.2: {'top_pad':, 'bottom_pad':, 'left_pad':, 'right_pad':}
        return ((int(v.get("top_pad", 0)), int(v.get("bottom_pad", 0))),
                (int(v.get("left_pad", 0)), int(v.get("right_pad", 0))))
    if isinstance(v, int):
        return ((v, v), (v, v))
    v = tuple(v)
    if len(v) == 4:  # Keras 1.2: (top, bottom, left, right)
        return ((int(v[0]), int(v[1])), (int(v[2]), int(v[3])))
    if len(v) == 2:
        return tuple(pair(p, what) for p in v)
    raise ValueError("%s must be an int, 2 ints, 4 ints or 2 pairs of ints, got %r" % (what, v))


def _nested(v):
    return isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(p, (tuple, list)) for p in v)


def crop_axis(x, axis, before, after, who):
    if not before and not after:
        return x
    size = x.shape[axis]
    attrs = {"axis": int(axis), "begin": int(before)}
    if after:
        if size is None:
            raise ValueError("%s: cropping the end of axis %d needs its size, which is unknown in %s"
                             % (who, axis, tuple(x.shape)))
        attrs["end"] = int(size - after)
    if size is not None and before + after >= size:
        raise ValueError("%s: cropping %s leaves nothing of axis %d (size %d)" % (who, (before, after), axis, size))
    return make("slice", [x], attrs)


class _Spatial2D(ImageLayer):
    """Base of the 2D layers here: the layout rule and the spatial axes."""
    config_keys = ("dim_ordering",)

    def __init__(self, dim_ordering="default", data_format=None, keras2=False, **kwargs):
        super().__init__(**kwargs)
        self.set_layout(dim_ordering, data_format, keras2 or data_format is not None)
        self.input_spec = [InputSpec(ndim=4)]

    def call(self, x, mask=None):
        layout = self.layout(x)
        rows, cols = (2, 3) if layout == "th" else (1, 2)
        return image_layout.tag(self.spatial(x, rows, cols), layout)


class ZeroPadding1D(Layer):
    """Adds zero steps at the start and end: `padding` is an int (both ends), a pair (left, right)
    or Keras 1.2's {'left_pad':, 'right_pad':}."""
    config_keys = ("padding",)

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, dict):
            padding = (padding.get("left_pad", 0), padding.get("right_pad", 0))
        self.padding = pair(padding, "ZeroPadding1D padding")
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, x, mask=None):
        return pad_axis(x, 1, *self.padding)


class ZeroPadding2D(_Spatial2D):
    """Adds rows and columns of zeros: `padding` is (rows, cols) on both sides (Keras 1.2 and 2),
    (top, bottom, left, right) or a dict (Keras 1.2), an int or ((top, bottom), (left, right))
    (Keras 2). The config holds (top, bottom, left, right)."""
    config_keys = ("padding", "dim_ordering")

    def __init__(self, padding=(1, 1), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, keras2=_nested(padding), **kwargs)
        (t, b), (l, r) = _pairs(padding, "ZeroPadding2D padding")
        self.padding = (t, b, l, r)

    def spatial(self, x, rows, cols):
        t, b, l, r = self.padding
        return pad_axis(pad_axis(x, rows, t, b), cols, l, r)


class Cropping1D(Layer):
    """Removes steps from the start and end: `cropping` is (start, end) or an int (Keras 2)."""
    config_keys = ("cropping",)

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = pair(cropping, "Cropping1D cropping")
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, x, mask=None):
        return crop_axis(x, 1, *self.cropping, who="Cropping1D %s" % self.name)


class Cropping2D(_Spatial2D):
    """Removes rows and columns: `cropping` is ((top, bottom), (left, right)), or (rows, cols) on
    both sides, or an int (Keras 2)."""
    config_keys = ("cropping", "dim_ordering")

    def __init__(self, cropping=((0, 0), (0, 0)), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, **kwargs)
        if isinstance(cropping, (tuple, list)) and len(cropping) == 4:
            raise ValueError("Cropping2D cropping is ((top, bottom), (left, right)), got %r" % (cropping,))
        self.cropping = _pairs(cropping, "Cropping2D cropping")

    def spatial(self, x, rows, cols):
        who = "Cropping2D %s" % self.name
        (t, b), (l, r) = self.cropping
        return crop_axis(crop_axis(x, rows, t, b, who), cols, l, r, who)


class UpSampling1D(Layer):
    """Repeats each step `length` times (Keras 2 `size`)."""
    config_keys = ("length",)

    def __init__(self, length=2, size=None, **kwargs):
        super().__init__(**kwargs)
        self.length = int(size if size is not None else length)
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, x, mask=None):
        return K.repeat_elements(x, self.length, 1)


class UpSampling2D(_Spatial2D):
    """Repeats each row size[0] times and each column size[1] times (nearest neighbour)."""
    config_keys = ("size", "dim_ordering")

    def __init__(self, size=(2, 2), dim_ordering="default", data_format=None, **kwargs):
        super().__init__(dim_ordering, data_format, **kwargs)
        self.size = pair(size, "UpSampling2D size")

    def spatial(self, x, rows, cols):
        return K.repeat_elements(K.repeat_elements(x, self.size[0], rows), self.size[1], cols)
