"""Translators of Keras 2/3's `layers.convolutional` and pooling layers, 1D to 3D, as kiln
configs (keras_config.py holds the others and walks the graph): the convolutions (plain,
dilated, transposed, separable, locally connected), the poolings, and the layers that only move
values (ZeroPadding, Cropping, UpSampling).

Keras 2 and 3 write these with the same keys: `filters`, `kernel_size`, `strides`, `padding`,
`data_format`, `dilation_rate`, `groups` (and Keras 2's `output_padding` on Conv2DTranspose,
`implementation` on the locally connected layers); sizes as lists ([3, 3]), paddings and
croppings as one (before, after) list per spatial axis. `data_format` becomes kiln's
`dim_ordering` ('tf' / 'th'), always stated, so a layer reads its input as Keras did.
"""
import numbers

from .keras_args import (_activation, _common, _fail, _image_ordering, _no, _ones, _only_last, _regularizer,
                         _tuple)


def _padding(layer, c, allowed=("valid", "same")):
    padding = c.get("padding", "valid")
    if padding not in allowed:
        _fail(layer, "padding %r (kiln's %s has %s)" % (padding, layer.get("class_name"), ", ".join(allowed)))
    return padding


def _kernel_args(layer, c, v):
    """What a convolution with one kernel shares: its activation, bias and their regularizers."""
    return dict(activation=_activation(layer, c.get("activation"), v), bias=bool(c.get("use_bias", True)),
                W_regularizer=_regularizer(layer, c.get("kernel_regularizer"), "kernel_regularizer"),
                b_regularizer=_regularizer(layer, c.get("bias_regularizer"), "bias_regularizer"))


def _conv1d(layer, c, v):
    out = _common(layer, c)
    _only_last(layer, c)
    _no(layer, c, [("groups", 1)])
    (dil,) = _tuple(c.get("dilation_rate", 1), 1)
    (stride,) = _tuple(c.get("strides", 1), 1)
    (length,) = _tuple(c["kernel_size"], 1)
    out.update(nb_filter=int(c["filters"]), filter_length=length, subsample_length=stride,
               border_mode=_padding(layer, c, ("valid", "same", "causal")), **_kernel_args(layer, c, v))
    if dil != 1:
        out["dilation_rate"] = dil
    return "Convolution1D", out


def _conv2d(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("groups", 1)])
    rows, cols = _tuple(c["kernel_size"], 2)
    dil = _tuple(c.get("dilation_rate", 1), 2)
    out.update(nb_filter=int(c["filters"]), nb_row=rows, nb_col=cols, border_mode=_padding(layer, c),
               subsample=_tuple(c.get("strides", 1), 2), dim_ordering=_image_ordering(layer, c, v),
               **_kernel_args(layer, c, v))
    if dil != (1, 1):
        out["atrous_rate"] = dil
        return "AtrousConvolution2D", out
    return "Convolution2D", out


def _conv3d(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("groups", 1)])
    _ones(layer, c, "dilation_rate", 3)  # K.conv3d has no dilation
    d1, d2, d3 = _tuple(c["kernel_size"], 3)
    out.update(nb_filter=int(c["filters"]), kernel_dim1=d1, kernel_dim2=d2, kernel_dim3=d3,
               border_mode=_padding(layer, c), subsample=_tuple(c.get("strides", 1), 3),
               dim_ordering=_image_ordering(layer, c, v), **_kernel_args(layer, c, v))
    return "Convolution3D", out


def _conv2d_transpose(layer, c, v):
    """kiln's Deconvolution2D without an output_shape sizes its output as Keras 2 and 3 do
    without output_padding (rows * stride, plus max(kernel - stride, 0) for 'valid')."""
    out = _common(layer, c)
    _no(layer, c, [("groups", 1), ("output_padding", None)])
    _ones(layer, c, "dilation_rate", 2)
    rows, cols = _tuple(c["kernel_size"], 2)
    out.update(nb_filter=int(c["filters"]), nb_row=rows, nb_col=cols, border_mode=_padding(layer, c),
               subsample=_tuple(c.get("strides", 1), 2), dim_ordering=_image_ordering(layer, c, v),
               **_kernel_args(layer, c, v))
    return "Deconvolution2D", out


def _separable_conv2d(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("groups", 1), ("depthwise_constraint", None), ("pointwise_constraint", None)])
    rows, cols = _tuple(c["kernel_size"], 2)
    dil = _tuple(c.get("dilation_rate", 1), 2)
    out.update(nb_filter=int(c["filters"]), nb_row=rows, nb_col=cols, border_mode=_padding(layer, c),
               subsample=_tuple(c.get("strides", 1), 2), depth_multiplier=int(c.get("depth_multiplier", 1)),
               dim_ordering=_image_ordering(layer, c, v), activation=_activation(layer, c.get("activation"), v),
               bias=bool(c.get("use_bias", True)),
               depthwise_regularizer=_regularizer(layer, c.get("depthwise_regularizer"), "depthwise_regularizer"),
               pointwise_regularizer=_regularizer(layer, c.get("pointwise_regularizer"), "pointwise_regularizer"),
               b_regularizer=_regularizer(layer, c.get("bias_regularizer"), "bias_regularizer"))
    if dil != (1, 1):
        out["dilation_rate"] = dil
    return "SeparableConvolution2D", out


def _locally_connected(rank):
    """Keras 2's LocallyConnected1D/2D (Keras 3 has none). Only `implementation=1` keeps the
    kernel kiln's layers hold, one (patch, filters) matrix per output position."""
    def tr(layer, c, v):
        out = _common(layer, c)
        _no(layer, c, [("implementation", 1)])
        padding = _padding(layer, c, ("valid",))
        size, strides = _tuple(c["kernel_size"], rank), _tuple(c.get("strides", 1), rank)
        out.update(nb_filter=int(c["filters"]), border_mode=padding, **_kernel_args(layer, c, v))
        if rank == 1:
            _only_last(layer, c)
            out.update(filter_length=size[0], subsample_length=strides[0])
            return "LocallyConnected1D", out
        out.update(nb_row=size[0], nb_col=size[1], subsample=strides, dim_ordering=_image_ordering(layer, c, v))
        return "LocallyConnected2D", out
    return tr


def _pool1d(kind):
    def tr(layer, c, v):
        out = _common(layer, c)
        _only_last(layer, c)
        (size,) = _tuple(c.get("pool_size", 2), 1)
        strides = c.get("strides")
        out.update(pool_length=size, stride=_tuple(strides, 1)[0] if strides is not None else size,
                   border_mode=c.get("padding", "valid"))
        return kind, out
    return tr


def _pool(kind, rank):
    """MaxPooling2D/3D, AveragePooling2D/3D: strides default to pool_size, as in Keras."""
    def tr(layer, c, v):
        out = _common(layer, c)
        size = _tuple(c.get("pool_size", 2), rank)
        strides = c.get("strides")
        out.update(pool_size=size, strides=_tuple(strides, rank) if strides is not None else size,
                   border_mode=c.get("padding", "valid"), dim_ordering=_image_ordering(layer, c, v))
        return kind, out
    return tr


def _global_pool(kind, dims):
    def tr(layer, c, v):
        out = _common(layer, c)
        _no(layer, c, [("keepdims", False)])
        if dims == 1:
            _only_last(layer, c)
        else:
            out["dim_ordering"] = _image_ordering(layer, c, v)
        return kind, out
    return tr


def _sides(layer, value, rank, key):
    """Keras' padding or cropping as kiln's layer takes it: (before, after) for rank 1 (Keras'
    form: an int or the pair), else one [before, after] per spatial axis, from an int, `rank`
    ints (both sides) or `rank` pairs (what Keras writes)."""
    if rank == 1:
        return list(_tuple(value, 2))
    if isinstance(value, numbers.Integral):
        value = [value] * rank
    if len(value) != rank:
        _fail(layer, "%s=%r: one (before, after) pair for each of the %d spatial axes" % (key, value, rank))
    return [list(_tuple(p, 2)) for p in value]


def _moves(kind, rank, key, default):
    """ZeroPadding (`padding`) and Cropping (`cropping`), 1D to 3D."""
    def tr(layer, c, v):
        out = _common(layer, c)
        out[key] = _sides(layer, c.get(key, default), rank, key)
        if rank > 1:
            out["dim_ordering"] = _image_ordering(layer, c, v)
        return kind, out
    return tr


def _upsampling(rank):
    def tr(layer, c, v):
        out = _common(layer, c)
        size = _tuple(c.get("size", 2), rank)
        if rank == 1:
            out["length"] = size[0]
            return "UpSampling1D", out
        _no(layer, c, [("interpolation", "nearest")])  # kiln repeats rows and columns only
        out.update(size=size, dim_ordering=_image_ordering(layer, c, v))
        return "UpSampling%dD" % rank, out
    return tr


TRANSLATORS = {
    "Conv1D": _conv1d, "Convolution1D": _conv1d, "Conv2D": _conv2d, "Convolution2D": _conv2d,
    "Conv3D": _conv3d, "Convolution3D": _conv3d,
    "Conv2DTranspose": _conv2d_transpose, "Convolution2DTranspose": _conv2d_transpose,
    "SeparableConv2D": _separable_conv2d, "SeparableConvolution2D": _separable_conv2d,
    "LocallyConnected1D": _locally_connected(1), "LocallyConnected2D": _locally_connected(2),
    "MaxPooling1D": _pool1d("MaxPooling1D"), "AveragePooling1D": _pool1d("AveragePooling1D"),
    "MaxPool1D": _pool1d("MaxPooling1D"), "AvgPool1D": _pool1d("AveragePooling1D"),
    "MaxPooling2D": _pool("MaxPooling2D", 2), "AveragePooling2D": _pool("AveragePooling2D", 2),
    "MaxPool2D": _pool("MaxPooling2D", 2), "AvgPool2D": _pool("AveragePooling2D", 2),
    "MaxPooling3D": _pool("MaxPooling3D", 3), "AveragePooling3D": _pool("AveragePooling3D", 3),
    "MaxPool3D": _pool("MaxPooling3D", 3), "AvgPool3D": _pool("AveragePooling3D", 3),
    "GlobalMaxPooling1D": _global_pool("GlobalMaxPooling1D", 1),
    "GlobalAveragePooling1D": _global_pool("GlobalAveragePooling1D", 1),
    "GlobalMaxPooling2D": _global_pool("GlobalMaxPooling2D", 2),
    "GlobalAveragePooling2D": _global_pool("GlobalAveragePooling2D", 2),
    "GlobalMaxPooling3D": _global_pool("GlobalMaxPooling3D", 3),
    "GlobalAveragePooling3D": _global_pool("GlobalAveragePooling3D", 3),
    "GlobalMaxPool1D": _global_pool("GlobalMaxPooling1D", 1),
    "GlobalAvgPool1D": _global_pool("GlobalAveragePooling1D", 1),
    "GlobalMaxPool2D": _global_pool("GlobalMaxPooling2D", 2),
    "GlobalAvgPool2D": _global_pool("GlobalAveragePooling2D", 2),
    "GlobalMaxPool3D": _global_pool("GlobalMaxPooling3D", 3),
    "GlobalAvgPool3D": _global_pool("GlobalAveragePooling3D", 3),
    "ZeroPadding1D": _moves("ZeroPadding1D", 1, "padding", 1),
    "ZeroPadding2D": _moves("ZeroPadding2D", 2, "padding", 1),
    "ZeroPadding3D": _moves("ZeroPadding3D", 3, "padding", 1),
    "Cropping1D": _moves("Cropping1D", 1, "cropping", 1),
    "Cropping2D": _moves("Cropping2D", 2, "cropping", 0),
    "Cropping3D": _moves("Cropping3D", 3, "cropping", 1),
    "UpSampling1D": _upsampling(1), "UpSampling2D": _upsampling(2), "UpSampling3D": _upsampling(3),
}
