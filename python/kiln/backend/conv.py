"""Convolution and pooling of `kiln.backend`: conv1d, conv2d, atrous_conv2d, deconv2d /
conv2d_transpose, depthwise_conv2d, separable_conv2d, pool2d.

The IR has one convolution op, `conv2d` (NHWC data, kernel (rows, cols, in, out), strides,
TensorFlow's 'valid' / 'same'), differentiable in both operands. The rest is composed from it,
so every function here has gradients with respect to its data and its kernels:

- dilation (atrous): `conv2d` of the kernel with rate - 1 zero rows and columns inserted
  between its taps (`dilate`); the gradient reaches the real taps only.
- transposed convolution: the data gradient of a conv2d written as a conv2d: the input dilated
  by the strides, padded by (kernel - 1 - pad) in front and by what reaches the requested size
  behind, convolved 'valid' with the kernel turned 180 degrees. (The op `conv2d_grad_input`
  computes the same but has no gradient of its own, so a layer could not train through it.)
- depthwise: a conv2d whose kernel is block diagonal over the channels (channel c feeds only
  its own depth_multiplier outputs), the depthwise kernel times an identity mask.

Layouts follow image_layout.py: the stated `dim_ordering` / `data_format`, else the data's own
layout, else the spelling's default; 'th' data is transposed to NHWC around the ops and the
result carries the layout used. Kernels of the Keras 1 functions (conv2d, deconv2d,
separable_conv2d) are in the layout's Keras 1 form ('th': channels first, e.g. (out, in, rows,
cols)); the Keras 2-only names (conv2d_transpose, depthwise_conv2d) take Keras 2's channels-last
kernels in either layout. Shape letters: B batch, H W rows and cols, C channels, F filters.
"""
import numpy as np

from ..utils.np_utils import conv_output_length
from . import image_layout
from .ops import _arg, constant
from .padding import pad_axis, zeros_along
from .shape_ops import concatenate, expand_dims, permute_dimensions, reverse, slice_axis, squeeze
from .tensor import make

__all__ = ["atrous_conv2d", "conv1d", "conv2d", "conv2d_transpose", "conv3d", "deconv2d", "depthwise_conv2d", "dilate",
           "pool2d", "pool3d", "separable_conv2d"]


def _padding(border_mode, who, allowed=("valid", "same")):
    if border_mode not in allowed:
        raise ValueError("Invalid border mode for %s: %r (expected %s)"
                         % (who, border_mode, " or ".join(repr(a) for a in allowed)))
    return border_mode


def _pair(v):
    return (int(v), int(v)) if isinstance(v, int) else tuple(int(a) for a in v)


def _known(x, axes, who):
    for a in axes:
        if x.shape[a] is None:
            raise ValueError("%s needs the size of axis %d of its input, which is unknown in %s"
                             % (who, a, tuple(x.shape)))


def dilate(t, axis, rate):
    """t with rate - 1 zeros inserted between consecutive entries along `axis` (whose size must
    be known): [a, b, c] at rate 2 is [a, 0, b, 0, c]."""
    rate = int(rate)
    if rate == 1:
        return t
    nd = len(t.shape)
    axis = axis % nd
    n = t.shape[axis]
    _known(t, [axis], "dilate")
    e = expand_dims(t, axis + 1)
    woven = concatenate([e, zeros_along(e, axis + 1, rate - 1)], axis=axis + 1)
    shape = list(t.shape)
    shape[axis] = n * rate
    rest = shape[1:] if t.shape and t.shape[0] is None else shape
    flat = make("reshape", [woven], {"shape": [int(d) for d in rest]})
    return slice_axis(flat, axis, 0, (n - 1) * rate + 1)


def conv_nhwc(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """The core: NHWC x, kernel (rows, cols, in, out), the kernel dilated when asked."""
    dr, dc = _pair(dilation)
    kernel = dilate(dilate(kernel, 0, dr), 1, dc)
    return make("conv2d", [x, kernel], {"strides": list(_pair(strides)), "padding": padding})


def _to_nhwc(x, layout):
    return permute_dimensions(x, (0, 2, 3, 1)) if layout == "th" else x


def _from_nhwc(y, layout):
    return image_layout.tag(permute_dimensions(y, (0, 3, 1, 2)) if layout == "th" else y, layout)


def _th_kernel(kernel):
    """A Keras 1 'th' kernel (out, in, rows, cols) as (rows, cols, in, out)."""
    return permute_dimensions(kernel, (2, 3, 1, 0))


def conv2d(x, kernel, strides=(1, 1), border_mode="valid", dim_ordering="default", image_shape=None,
           filter_shape=None, filter_dilation=(1, 1), padding=None, data_format=None, dilation_rate=None):
    """2D cross-correlation. x: (B, H, W, C) for 'tf' or (B, C, H, W) for 'th'; kernel: (rows,
    cols, in, out) for 'tf', (out, in, rows, cols) for 'th'. `filter_dilation` (Keras 1) /
    `dilation_rate` (Keras 2) spreads the kernel's taps that far apart."""
    x, kernel = _arg(x, "conv2d"), _arg(kernel, "conv2d")
    layout = image_layout.of_call(x, dim_ordering, data_format, keras2=padding is not None)
    pad = _padding(padding if padding is not None else border_mode, "conv2d")
    if layout == "th":
        kernel = _th_kernel(kernel)
    dilation = dilation_rate if dilation_rate is not None else filter_dilation
    return _from_nhwc(conv_nhwc(_to_nhwc(x, layout), kernel, strides, pad, dilation), layout)


def atrous_conv2d(x, kernel, rate=1, border_mode="valid", dim_ordering="default", image_shape=None,
                  filter_shape=None):
    """Keras 1.2: conv2d with the kernel's taps `rate` apart (stride 1)."""
    return conv2d(x, kernel, border_mode=border_mode, dim_ordering=dim_ordering, filter_dilation=(rate, rate))


def conv1d(x, kernel, stride=1, border_mode="valid", image_shape=None, filter_shape=None, strides=None,
           padding=None, data_format=None, dilation_rate=1):
    """1D cross-correlation of (B, steps, in) with a kernel (length, in, out) (Keras 1.2's
    `stride` / `border_mode`, Keras 2's `strides` / `padding`, which may be 'causal': zeros in
    front only, so step t sees steps <= t)."""
    x, kernel = _arg(x, "conv1d"), _arg(kernel, "conv1d")
    if len(kernel.shape) != 3:
        raise ValueError("K.conv1d: the kernel is (length, in, out), got %r" % (kernel,))
    s = strides if strides is not None else stride
    s = int(s[0] if isinstance(s, (tuple, list)) else s)
    d = int(dilation_rate[0] if isinstance(dilation_rate, (tuple, list)) else dilation_rate)
    mode = padding if padding is not None else border_mode
    length, cin, cout = kernel.shape
    return conv1d_steps(x, make("reshape", [kernel], {"shape": [length, 1, cin, cout]}), s, mode, d)


def conv1d_steps(x, kernel, stride, mode, dilation=1):
    """(B, steps, in) convolved over its steps with a (length, 1, in, out) kernel: the steps as
    the rows of an image one pixel wide."""
    mode = _padding(mode, "conv1d", ("valid", "same", "causal"))
    if mode == "causal":
        x, mode = pad_axis(x, 1, (kernel.shape[0] - 1) * dilation, 0), "valid"
    return squeeze(conv_nhwc(expand_dims(x, 2), kernel, (stride, 1), mode, (dilation, 1)), 2)


def transposed_length(size, kernel, stride, padding):
    """Keras 2's output length of a transposed convolution (deconv_length): the largest input of
    a conv2d with this kernel, stride and padding that gives `size` outputs."""
    if padding == "valid":
        return size * stride + max(kernel - stride, 0)
    return size * stride


def conv_transpose_nhwc(x, kernel, rows_cols, strides=(1, 1), padding="valid"):
    """The data gradient of conv2d(y, kernel, strides, padding) at x, for y of `rows_cols`
    rows and columns: NHWC x (B, h, w, in), Keras 2 kernel (rows, cols, out, in)."""
    _known(x, [1, 2], "conv2d_transpose")
    for axis, size, k, s in zip((1, 2), rows_cols, kernel.shape[:2], _pair(strides)):
        n = x.shape[axis]
        if conv_output_length(size, k, padding, s) != n:
            raise ValueError("conv2d_transpose: an output of %d rows or columns cannot come from %d (a kernel of %d, "
                             "stride %d, padding %r makes %d of it); a possible size is %d"
                             % (size, n, k, s, padding, conv_output_length(size, k, padding, s),
                                transposed_length(n, k, s, padding)))
        before = 0 if padding == "valid" else max((n - 1) * s + k - size, 0) // 2
        x = pad_axis(dilate(x, axis, s), axis, k - 1 - before, size + before - (n - 1) * s - 1)
    turned = permute_dimensions(reverse(kernel, [0, 1]), (0, 1, 3, 2))
    return conv_nhwc(x, turned, (1, 1), "valid")


def _output_rows_cols(output_shape, layout, who):
    shape = tuple(output_shape)
    if len(shape) != 4:
        raise ValueError("%s: output_shape is the full shape of the result, batch included (4 entries), got %r"
                         % (who, output_shape))
    return (shape[2], shape[3]) if layout == "th" else (shape[1], shape[2])


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None):
    """Keras 2: the transposed convolution (the gradient of conv2d with respect to its input).
    kernel: (rows, cols, out, in) in either layout, as Keras 2; `output_shape` is the full
    shape of the result in the data's layout (its batch entry may be None)."""
    x, kernel = _arg(x, "conv2d_transpose"), _arg(kernel, "conv2d_transpose")
    layout = image_layout.of_call(x, None, data_format, keras2=True)
    pad = _padding(padding, "conv2d_transpose")
    rows_cols = _output_rows_cols(output_shape, layout, "K.conv2d_transpose")
    return _from_nhwc(conv_transpose_nhwc(_to_nhwc(x, layout), kernel, rows_cols, strides, pad), layout)


def deconv2d(x, kernel, output_shape, strides=(1, 1), border_mode="valid", dim_ordering="default", image_shape=None,
             filter_shape=None):
    """Keras 1.2: the transposed convolution, with the kernel of the conv2d it transposes in Keras
    1's layout ('tf' (rows, cols, in, out), 'th' (out, in, rows, cols), `in` being x's channels)."""
    x, kernel = _arg(x, "deconv2d"), _arg(kernel, "deconv2d")
    layout = image_layout.of_call(x, dim_ordering, None)
    pad = _padding(border_mode, "deconv2d")
    kernel = _th_kernel(kernel) if layout == "th" else kernel
    rows_cols = _output_rows_cols(output_shape, layout, "K.deconv2d")
    y = conv_transpose_nhwc(_to_nhwc(x, layout), permute_dimensions(kernel, (0, 1, 3, 2)), rows_cols, strides, pad)
    return _from_nhwc(y, layout)


def depthwise_nhwc(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """NHWC x (B, H, W, C), depthwise kernel (rows, cols, C, M): output channel c * M + m is
    channel c convolved with kernel[:, :, c, m]."""
    rows, cols, c, m = kernel.shape
    mask = constant(np.eye(c, dtype=np.float32).reshape(1, 1, c, c, 1))
    blocks = make("reshape", [kernel], {"shape": [rows, cols, c, 1, m]}) * mask
    full = make("reshape", [blocks], {"shape": [rows, cols, c, c * m]})
    return conv_nhwc(x, full, strides, padding, dilation)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """Keras 2: each channel convolved with its own depth_multiplier filters; kernel (rows, cols,
    channels, depth_multiplier) in either layout."""
    x, kernel = _arg(x, "depthwise_conv2d"), _arg(depthwise_kernel, "depthwise_conv2d")
    layout = image_layout.of_call(x, None, data_format, keras2=True)
    pad = _padding(padding, "depthwise_conv2d")
    return _from_nhwc(depthwise_nhwc(_to_nhwc(x, layout), kernel, strides, pad, dilation_rate), layout)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), border_mode="valid",
                     dim_ordering="default", padding=None, data_format=None, dilation_rate=(1, 1)):
    """A depthwise convolution (each channel with its own depth_multiplier filters) then a 1x1
    convolution mixing its outputs. Kernels in the layout's Keras 1 form: 'tf' depthwise (rows,
    cols, C, M) and pointwise (1, 1, C * M, F); 'th' (M, C, rows, cols) and (F, C * M, 1, 1)."""
    x = _arg(x, "separable_conv2d")
    dw, pw = _arg(depthwise_kernel, "separable_conv2d"), _arg(pointwise_kernel, "separable_conv2d")
    layout = image_layout.of_call(x, dim_ordering, data_format, keras2=padding is not None)
    pad = _padding(padding if padding is not None else border_mode, "separable_conv2d")
    if layout == "th":
        dw, pw = _th_kernel(dw), _th_kernel(pw)
    y = conv_nhwc(depthwise_nhwc(_to_nhwc(x, layout), dw, strides, pad, dilation_rate), pw)
    return _from_nhwc(y, layout)


def pool2d(x, pool_size, strides=(1, 1), border_mode="valid", dim_ordering="default", pool_mode="max",
           padding=None, data_format=None):
    """Max or average pooling over pool_size windows (average 'same' windows count only the real
    pixels, as TensorFlow)."""
    x = _arg(x, "pool2d")
    if pool_mode not in ("max", "avg"):
        raise ValueError("Invalid pooling mode: %r (expected 'max' or 'avg')" % (pool_mode,))
    layout = image_layout.of_call(x, dim_ordering, data_format, keras2=padding is not None)
    pad = _padding(padding if padding is not None else border_mode, "pool2d")
    y = make("pool2d", [_to_nhwc(x, layout)], {"mode": pool_mode, "pool": [int(p) for p in pool_size],
                                               "strides": [int(s) for s in strides], "padding": pad})
    return _from_nhwc(y, layout)


# ---------------------------------------------------------------------------------------------
# 3D: conv3d and pool3d, composed of the 2D ops with the depth axis folded into the batch.

def _triple(v):
    return (int(v),) * 3 if isinstance(v, int) else tuple(int(a) for a in v)


def _depth_geometry(depth, window, stride, padding):
    """(output depth, padding before, padding after) along the depth axis, as TensorFlow."""
    if padding == "same":
        out = -(-depth // stride)
        total = max((out - 1) * stride + window - depth, 0)
        return out, total // 2, total - total // 2
    out = (depth - window) // stride + 1
    if out < 1:
        raise ValueError("the window (%d) is deeper than the input (%d)" % (window, depth))
    return out, 0, 0


def _depth_taps(x, tap, stride, out):
    """x[:, tap : tap + stride * (out - 1) + 1 : stride] of a (B, D, H, W, C) volume."""
    sl = slice_axis(x, 1, tap, tap + stride * (out - 1) + 1)
    if stride == 1:
        return sl
    sl = pad_axis(sl, 1, 0, stride - 1)  # length stride * out
    shape = [out, stride] + [int(d) for d in x.shape[2:]]
    if x.shape[0] is not None:  # a static batch is part of reshape's shape
        shape = [int(x.shape[0])] + shape
    return squeeze(slice_axis(make("reshape", [sl], {"shape": shape}), 2, 0, 1), 2)


def _fold_depth(x):
    """(B, D, ...) -> (B * D, ...): merge_batch, or a reshape when the batch size is static."""
    if x.shape[0] is None:
        return make("merge_batch", [x])
    return make("reshape", [x], {"shape": [int(x.shape[0]) * int(x.shape[1])] + [int(d) for d in x.shape[2:]]})


def _unfold_depth(y, depth):
    """The inverse of _fold_depth: (B * D, ...) -> (B, D, ...)."""
    if y.shape[0] is None:
        return make("split_batch", [y], {"size": int(depth)})
    return make("reshape", [y], {"shape": [int(y.shape[0]) // int(depth), int(depth)] + [int(d) for d in y.shape[1:]]})


def _to_ndhwc(x, layout):
    return permute_dimensions(x, (0, 2, 3, 4, 1)) if layout == "th" else x


def _from_ndhwc(y, layout):
    return image_layout.tag(permute_dimensions(y, (0, 4, 1, 2, 3)) if layout == "th" else y, layout)


def conv3d_ndhwc(x, kernel, strides=(1, 1, 1), padding="valid"):
    """x (B, D, H, W, C), kernel (depth, rows, cols, C, F): the sum over the kernel's depth taps
    of conv2d's of the input's depth slices (folded into the batch) with that tap's 2D kernel."""
    _known(x, [1, 2, 3, 4], "conv3d")
    sd, sr, sc = _triple(strides)
    k = kernel.shape[0]
    out, before, after = _depth_geometry(x.shape[1], k, sd, padding)
    x = pad_axis(x, 1, before, after)
    total = None
    for tap in range(k):
        w = squeeze(slice_axis(kernel, 0, tap, tap + 1), 0)
        y = conv_nhwc(_fold_depth(_depth_taps(x, tap, sd, out)), w, (sr, sc), padding)
        total = y if total is None else total + y
    return _unfold_depth(total, out)


def conv3d(x, kernel, strides=(1, 1, 1), border_mode="valid", dim_ordering="default", volume_shape=None,
           filter_shape=None, padding=None, data_format=None, dilation_rate=(1, 1, 1)):
    """3D cross-correlation. x: (B, D, H, W, C) for 'tf', (B, C, D, H, W) for 'th'; kernel:
    (depth, rows, cols, in, out) for 'tf', (out, in, depth, rows, cols) for 'th' (Keras 1)."""
    x, kernel = _arg(x, "conv3d"), _arg(kernel, "conv3d")
    if _triple(dilation_rate) != (1, 1, 1):
        raise ValueError("conv3d: dilation_rate is not supported, got %s" % (dilation_rate,))
    layout = image_layout.of_call(x, dim_ordering, data_format, keras2=padding is not None)
    pad = _padding(padding if padding is not None else border_mode, "conv3d")
    if layout == "th":
        kernel = permute_dimensions(kernel, (2, 3, 4, 1, 0))
    return _from_ndhwc(conv3d_ndhwc(_to_ndhwc(x, layout), kernel, strides, pad), layout)


def pool3d_ndhwc(x, pool_size, strides, padding, mode):
    """pool2d over rows and columns with the depth folded into the batch, then the depth taps'
    max, or their sum over the count of real (not padded) taps for 'avg'."""
    _known(x, [1, 2, 3, 4], "pool3d")
    pd, pr, pc = _triple(pool_size)
    sd, sr, sc = _triple(strides)
    depth = x.shape[1]
    y = make("pool2d", [_fold_depth(x)], {"mode": mode, "pool": [pr, pc], "strides": [sr, sc],
                                          "padding": padding})
    y = _unfold_depth(y, depth)
    out, before, after = _depth_geometry(depth, pd, sd, padding)
    if mode == "max" and (before or after):
        low = lambda n: zeros_along(y, 1, n) - 3.0e38  # noqa: E731  (never the max of a real tap)
        y = concatenate(([low(before)] if before else []) + [y] + ([low(after)] if after else []), axis=1)
    else:
        y = pad_axis(y, 1, before, after)
    taps = [_depth_taps(y, t, sd, out) for t in range(pd)]
    result = taps[0]
    for t in taps[1:]:
        result = make("maximum", [result, t]) if mode == "max" else result + t
    if mode == "avg":
        starts = np.arange(out) * sd - before
        counts = np.minimum(starts + pd, depth) - np.maximum(starts, 0)
        result = result * constant((1.0 / counts).astype(np.float32).reshape(out, 1, 1, 1))
    return result


def pool3d(x, pool_size, strides=(1, 1, 1), border_mode="valid", dim_ordering="default", pool_mode="max",
           padding=None, data_format=None):
    """Max or average pooling over (depth, rows, cols) windows (average 'same' windows count only
    the real voxels, as TensorFlow)."""
    x = _arg(x, "pool3d")
    if pool_mode not in ("max", "avg"):
        raise ValueError("Invalid pooling mode: %r (expected 'max' or 'avg')" % (pool_mode,))
    layout = image_layout.of_call(x, dim_ordering, data_format, keras2=padding is not None)
    pad = _padding(padding if padding is not None else border_mode, "pool3d")
    return _from_ndhwc(pool3d_ndhwc(_to_ndhwc(x, layout), pool_size, strides, pad, pool_mode), layout)
