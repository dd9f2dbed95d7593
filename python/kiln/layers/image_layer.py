"""What the image layers share: the layout rule (backend/image_layout.py) and argument pairs.

An ImageLayer's layout ('th' or 'tf') follows its input: a stated `dim_ordering=` /
`data_format=` wins, else the layout its input tensor carries, else the default of the call's
spelling (Keras 1 or Keras 2 words). The layout of the first call is kept for the config (and,
for a convolution, is the layout its kernel is stored in).
"""
from ..backend import image_layout
from ..graph.layer import Layer


def pair(v, what):
    """(a, b) from an int or a pair of ints."""
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(x) for x in v)
    if len(v) != 2:
        raise ValueError("%s must be an int or a pair of ints, got %r" % (what, v))
    return v


class ImageLayer(Layer):
    def set_layout(self, dim_ordering, data_format, keras2):
        """The stated layout, if any, and the default for the spelling (keras2: Keras 2 words used)."""
        self._stated_ordering = image_layout.explicit(dim_ordering, data_format)
        self.dim_ordering = self._stated_ordering or image_layout.spelling_default(keras2)

    def __call__(self, x, mask=None, **kwargs):
        if not self.built:
            self.dim_ordering = self.layout(x)
        return super().__call__(x, mask, **kwargs)

    def layout(self, x):
        """'th' or 'tf': the layout this layer reads x in."""
        return image_layout.resolve(x, self._stated_ordering, self.dim_ordering)
