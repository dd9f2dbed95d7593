"""Padding and resizing of `kiln.backend`: zeros added before and after an axis (`pad_axis`, and
Keras' temporal / spatial paddings built on it) and nearest-neighbour resizing by whole factors
(`resize_images`, `resize_volumes`).

No op pads: the zeros are `broadcast_like` of a constant against a one-wide slice of the tensor
(so the batch size follows the data at run time), repeated to the width and concatenated; values
only move, and every piece has a gradient. Image functions follow the layout rule of
image_layout.py: a stated `dim_ordering` / `data_format`, else the tensor's own layout, else the
spelling's default ('th' for Keras 1 words).
"""
from . import image_layout
from .ops import _arg
from .shape_ops import concatenate, repeat_elements, slice_axis
from .tensor import make

__all__ = ["asymmetric_spatial_2d_padding", "asymmetric_temporal_padding", "pad_axis", "resize_images",
           "resize_volumes", "spatial_2d_padding", "spatial_3d_padding", "temporal_padding", "zeros_along"]


def zeros_along(x, axis, n):
    """Zeros shaped like x except `n` long on `axis` (the batch dim follows x's at run time)."""
    one = slice_axis(x, axis, 0, 1)
    zeros = make("broadcast_like", [_arg(0.0, "zeros_along"), one])
    return repeat_elements(zeros, n, axis) if n != 1 else zeros


def pad_axis(x, axis, before, after):
    """x with `before` zeros in front of and `after` zeros behind `axis`."""
    x = _arg(x, "pad_axis")
    if before < 0 or after < 0:
        raise ValueError("pad_axis: the padding of axis %d must not be negative, got (%d, %d)" % (axis, before, after))
    parts = ([zeros_along(x, axis, before)] if before else []) + [x] + ([zeros_along(x, axis, after)] if after else [])
    return concatenate(parts, axis=axis) if len(parts) > 1 else x


def _ndim(x, n, who):
    x = _arg(x, who)
    if len(x.shape) != n:
        raise ValueError("K.%s expects a %dD tensor, got %r" % (who, n, x))
    return x


def _pair(p):
    return (int(p), int(p)) if isinstance(p, int) else tuple(int(v) for v in p)


def temporal_padding(x, padding=1):
    """Zeros before and after the steps of a 3D (batch, steps, features) tensor: `padding` on
    each side (Keras 1.2), or a pair (left, right) (Keras 2)."""
    x = _ndim(x, 3, "temporal_padding")
    left, right = _pair(padding)
    return pad_axis(x, 1, left, right)


def asymmetric_temporal_padding(x, left_pad=1, right_pad=1):
    """Keras 1.2: `left_pad` zero steps in front, `right_pad` behind."""
    return pad_axis(_ndim(x, 3, "asymmetric_temporal_padding"), 1, int(left_pad), int(right_pad))


def _pad_spatial(x, pads, layout):
    first = 2 if layout == "th" else 1
    for k, (before, after) in enumerate(pads):
        x = pad_axis(x, first + k, before, after)
    return image_layout.tag(x, layout) if len(x.shape) == 4 else x


def spatial_2d_padding(x, padding=(1, 1), dim_ordering="default", data_format=None):
    """Zero rows and columns around a 4D image: Keras 1.2's `padding=(rows, cols)` on both sides,
    or Keras 2's ((top, bottom), (left, right))."""
    x = _ndim(x, 4, "spatial_2d_padding")
    nested = all(not isinstance(p, int) for p in padding)
    pads = [_pair(p) for p in padding] if nested else [(int(p), int(p)) for p in padding]
    return _pad_spatial(x, pads, image_layout.of_call(x, dim_ordering, data_format, nested or data_format is not None))


def asymmetric_spatial_2d_padding(x, top_pad=1, bottom_pad=1, left_pad=1, right_pad=1, dim_ordering="default"):
    """Keras 1.2: `top_pad` / `bottom_pad` zero rows and `left_pad` / `right_pad` zero columns."""
    x = _ndim(x, 4, "asymmetric_spatial_2d_padding")
    return _pad_spatial(x, [(int(top_pad), int(bottom_pad)), (int(left_pad), int(right_pad))],
                        image_layout.of_call(x, dim_ordering, None, False))


def spatial_3d_padding(x, padding=(1, 1, 1), dim_ordering="default", data_format=None):
    """Zeros around the three spatial axes of a 5D volume: `padding[i]` on both sides (Keras 1.2)
    or a pair per axis (Keras 2); channels at axis 1 for 'th', last for 'tf'."""
    x = _ndim(x, 5, "spatial_3d_padding")
    nested = all(not isinstance(p, int) for p in padding)
    pads = [_pair(p) for p in padding] if nested else [(int(p), int(p)) for p in padding]
    return _pad_spatial(x, pads, image_layout.of_call(x, dim_ordering, data_format, nested or data_format is not None))


def resize_images(x, height_factor, width_factor, dim_ordering="default", data_format=None):
    """Nearest-neighbour upsampling of a 4D image by whole factors: each row repeated
    `height_factor` times, each column `width_factor` times."""
    x = _ndim(x, 4, "resize_images")
    layout = image_layout.of_call(x, dim_ordering, data_format, data_format is not None)
    rows = 2 if layout == "th" else 1
    y = repeat_elements(repeat_elements(x, int(height_factor), rows), int(width_factor), rows + 1)
    return image_layout.tag(y, layout)


def resize_volumes(x, depth_factor, height_factor, width_factor, dim_ordering="default", data_format=None):
    """resize_images for a 5D volume: each of the three spatial axes repeated by its factor."""
    x = _ndim(x, 5, "resize_volumes")
    first = 2 if image_layout.of_call(x, dim_ordering, data_format, data_format is not None) == "th" else 1
    for k, factor in enumerate((depth_factor, height_factor, width_factor)):
        x = repeat_elements(x, int(factor), first + k)
    return x
