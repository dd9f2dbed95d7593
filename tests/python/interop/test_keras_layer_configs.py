"""The Keras 2/3 layers the fixtures of test_keras_files.py do not hold (3D convolution, pooling,
padding, cropping and upsampling; transposed, separable and locally connected convolutions; the
1D/2D padding, cropping and upsampling; spatial dropout, noise, masking; the advanced
activations), each in a model file written here with h5py as that Keras writes it: a Keras 2
`.h5` (model_config, model_weights) or a Keras 3 `.keras` (config.json, model.weights.h5). The
layer configs carry the keys of tf-keras 2.x's and Keras 3's get_config (no Keras runs here),
the weights Keras' layouts. load_model must give what a NumPy computation of the Keras layer
gives on the same weights; refused options must name the layer and the key."""
import json
import pathlib
import sys
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras files need h5py")

from kiln.models import load_model  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from reference import conv as cref  # noqa: E402

TOL = 1e-5


def _rand(seed, *shape):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


# ------------------------------------------------------------------ configs as Keras writes them

def _base(v, name):
    if v == 2:
        return {"name": name, "trainable": True, "dtype": "float32"}
    return {"name": name, "trainable": True, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                       "config": {"name": "float32"}, "registered_name": None}}


def _init(v, cls):
    config = {} if cls == "Zeros" else {"seed": None} if v == 2 else {"seed": None, "input_axes": None,
                                                                       "output_axes": None}
    return {"module": "keras.initializers", "class_name": cls, "config": config, "registered_name": None}


def _conv(v, name, filters, kernel_size, strides, padding, data_format, use_bias=True, activation="linear",
          dilation_rate=None, groups=True):
    """Keras 2 and 3's Conv get_config (Keras 3's transposed convolution has no `groups`)."""
    c = dict(_base(v, name), filters=filters, kernel_size=list(kernel_size), strides=list(strides), padding=padding,
             data_format=data_format, dilation_rate=list(dilation_rate or [1] * len(kernel_size)))
    if groups:
        c["groups"] = 1
    c.update(activation=activation, use_bias=use_bias, kernel_initializer=_init(v, "GlorotUniform"),
             bias_initializer=_init(v, "Zeros"), kernel_regularizer=None, bias_regularizer=None,
             activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
    return c


def _model(v, cls, config, input_shape):
    """A Functional model of an InputLayer and the one layer, as Keras v writes it."""
    name = config["name"]
    if v == 2:
        inp = {"class_name": "InputLayer", "config": {"batch_input_shape": [None] + list(input_shape),
                                                      "dtype": "float32", "sparse": False, "ragged": False,
                                                      "name": "x", "optional": False},
               "name": "x", "inbound_nodes": []}
        layer = {"class_name": cls, "config": config, "name": name, "inbound_nodes": [[["x", 0, 0, {}]]]}
        return {"class_name": "Functional", "config": {"name": "m", "trainable": True, "layers": [inp, layer],
                                                       "input_layers": [["x", 0, 0]],
                                                       "output_layers": [[name, 0, 0]]}}
    shape = [None] + list(input_shape)
    inp = {"module": "keras.layers", "class_name": "InputLayer",
           "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "ragged": False, "name": "x",
                      "optional": False}, "registered_name": None, "name": "x", "inbound_nodes": []}
    arg = {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32",
                                                        "keras_history": ["x", 0, 0]}}
    layer = {"module": "keras.layers", "class_name": cls, "config": config, "registered_name": None,
             "build_config": {"input_shape": shape}, "name": name,
             "inbound_nodes": [{"args": [arg], "kwargs": {}}]}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "m", "trainable": True, "layers": [inp, layer], "input_layers": ["x", 0, 0],
                       "output_layers": [name, 0, 0]},
            "registered_name": "Functional", "build_config": {"input_shape": None}, "compile_config": {}}


def _write(tmp_path, v, cls, config, input_shape, weights=(), snake=None):
    """The model file; weights [(Keras name, array)] in Keras' order; snake: Keras 3's path
    of the layer (its class in snake case)."""
    model = _model(v, cls, config, input_shape)
    name = config["name"]
    if v == 2:
        path = str(tmp_path / "m.h5")
        with h5py.File(path, "w") as f:
            f.attrs["keras_version"] = "2.21.0"
            f.attrs["backend"] = "tensorflow"
            f.attrs["model_config"] = json.dumps(model)
            g = f.create_group("model_weights")
            g.attrs["layer_names"] = np.array([b"x", name.encode()])
            for n, ws in (("x", ()), (name, weights)):
                lg = g.create_group(n)
                lg.attrs["weight_names"] = np.array([("%s/%s:0" % (n, k)).encode() for k, _ in ws])
                for k, a in ws:
                    lg.create_dataset("%s/%s:0" % (n, k), data=a)
        return path
    path = str(tmp_path / "m.keras")
    h5 = str(tmp_path / "model.weights.h5")
    with h5py.File(h5, "w") as f:
        f.create_group("vars").attrs["name"] = "m"
        f.create_group("layers/input_layer/vars").attrs["name"] = "x"
        g = f.create_group("layers/%s/vars" % snake)
        g.attrs["name"] = name
        for i, (_, a) in enumerate(weights):
            g.create_dataset(str(i), data=a)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-12-03@09:00:00"}))
        z.writestr("config.json", json.dumps(model))
        z.write(h5, "model.weights.h5")
    return path


# ------------------------------------------------------------------ NumPy: the Keras layers

def _last(x, fmt):
    """channels_first data as channels last (the references work channels last)."""
    return np.moveaxis(x, 1, -1) if fmt == "channels_first" else x


def _back(y, fmt):
    return np.moveaxis(y, -1, 1) if fmt == "channels_first" else y


def _spatial(fmt, rank):
    return tuple(range(2, 2 + rank)) if fmt == "channels_first" else tuple(range(1, 1 + rank))


def _conv2d_transpose(x, k, strides, padding):
    """Keras' (rows, cols, out, in) kernel: the input gradient of the conv2d it transposes, for
    the output size Keras computes (rows * stride, plus max(kernel - stride, 0) for 'valid')."""
    size = [n * s + (max(kk - s, 0) if padding == "valid" else 0) for n, kk, s in zip(x.shape[1:3], k.shape[:2],
                                                                                    strides)]
    return cref.conv2d_grad_input(x, k, np.zeros((x.shape[0], size[0], size[1], k.shape[2])), strides, padding)


def _separable(x, dk, pk, b, strides, padding, dilation):
    """Each channel c through dk[..., c, m] (output c * m_count + m, as TensorFlow), then 1x1."""
    r, c, C, M = dk.shape
    dil = np.zeros(((r - 1) * dilation[0] + 1, (c - 1) * dilation[1] + 1, C, M), np.float32)
    dil[::dilation[0], ::dilation[1]] = dk
    depth = np.concatenate([cref.conv2d(x[..., ch:ch + 1], dil[:, :, ch:ch + 1, :], None, strides, padding)
                            for ch in range(C)], axis=-1)
    return np.tensordot(depth, pk[0, 0], axes=1) + b


def _local1d(x, k, b, size, stride):
    out = k.shape[0]
    patches = np.stack([x[:, i * stride:i * stride + size, :].reshape(len(x), -1) for i in range(out)], axis=1)
    return np.einsum("bop,opf->bof", patches, k) + b


def _local2d(x, k, b, size, strides, fmt):
    """Keras 2's local_conv: each output pixel's patch flattened in the input's own order
    ((row, col, channel) or (channel, row, col)); the bias (rows, cols, filters) reshaped, not
    transposed, to (filters, rows, cols) for channels_first."""
    rows_axis = 2 if fmt == "channels_first" else 1
    R = (x.shape[rows_axis] - size[0]) // strides[0] + 1
    C = (x.shape[rows_axis + 1] - size[1]) // strides[1] + 1
    y = np.zeros((len(x), R * C, k.shape[2]))
    for i, j in np.ndindex(R, C):
        a, c = i * strides[0], j * strides[1]
        win = x[:, :, a:a + size[0], c:c + size[1]] if fmt == "channels_first" else \
            x[:, a:a + size[0], c:c + size[1], :]
        y[:, i * C + j] = win.reshape(len(x), -1) @ k[i * C + j]
    if fmt == "channels_first":
        return y.reshape(len(x), R, C, -1).transpose(0, 3, 1, 2) + b.reshape(k.shape[2], R, C)
    return y.reshape(len(x), R, C, -1) + b


def _pad(x, pairs, axes):
    widths = [(0, 0)] * x.ndim
    for a, p in zip(axes, pairs):
        widths[a] = tuple(p)
    return np.pad(x, widths)


def _crop(x, pairs, axes):
    index = [slice(None)] * x.ndim
    for a, (before, after) in zip(axes, pairs):
        index[a] = slice(before, x.shape[a] - after)
    return x[tuple(index)]


def _upsample(x, size, axes):
    for a, n in zip(axes, size):
        x = np.repeat(x, n, axis=a)
    return x


# ------------------------------------------------------------------ the cases

def case_conv3d(v, fmt="channels_last"):
    x = _rand(1, 2, 4, 5, 4, 2) if fmt == "channels_last" else _rand(1, 2, 2, 4, 5, 4)
    k, b = _rand(2, 2, 3, 2, 2, 3), _rand(3, 3)
    config = _conv(v, "vol", 3, (2, 3, 2), (1, 2, 1), "same", fmt, activation="relu")
    want = _back(np.maximum(cref.conv3d(_last(x, fmt), k, b, (1, 2, 1), "same"), 0), fmt)
    return "Conv3D", config, x, [("kernel", k), ("bias", b)], "conv3d", want


def case_conv3d_first_valid_nobias(v):
    x = _rand(4, 2, 2, 4, 5, 3)
    k = _rand(5, 3, 2, 2, 2, 4)
    config = _conv(v, "vol", 4, (3, 2, 2), (1, 1, 2), "valid", "channels_first", use_bias=False)
    return "Conv3D", config, x, [("kernel", k)], "conv3d", _back(cref.conv3d(_last(x, "channels_first"), k, None,
                                                                            (1, 1, 2), "valid"), "channels_first")


def _pool3d_case(v, cls, mode, fmt, pool, strides, padding):
    x = _rand(6, 2, 4, 5, 3, 3) if fmt == "channels_last" else _rand(6, 2, 3, 4, 5, 3)
    config = dict(_base(v, "pool"), pool_size=list(pool), padding=padding, strides=list(strides), data_format=fmt)
    want = _back(cref.pool3d(_last(x, fmt), mode, pool, strides, padding), fmt)
    return cls, config, x, [], None, want


def _global3d_case(v, cls, reduce, fmt):
    x = _rand(7, 2, 3, 4, 2, 3)
    config = dict(_base(v, "g"), data_format=fmt, keepdims=False)
    return cls, config, x, [], None, reduce(x, axis=_spatial(fmt, 3))


def _moves_case(v, cls, key, value, fmt, shape, numpy_fn):
    x = _rand(8, *shape)
    rank = len(shape) - 2
    config = dict(_base(v, "mv"), **{key: value})
    if rank > 1:
        config["data_format"] = fmt
    if cls == "UpSampling2D":
        config["interpolation"] = "nearest"
    return cls, config, x, [], None, numpy_fn(x, value, _spatial(fmt, rank))


def _spatial_dropout_case(v, rank, fmt):
    x = _rand(9, *((2, 3, 4, 3, 2)[:rank + 2]))
    if v == 2:  # Dropout's get_config: no data_format
        config = dict(_base(v, "sd"), rate=0.4, noise_shape=None, seed=None)
    else:  # Keras 3's BaseSpatialDropout.get_config: no trainable
        config = {"rate": 0.4, "seed": None, "name": "sd", "dtype": _base(v, "sd")["dtype"]}
        if rank > 1:
            config["data_format"] = fmt
    return "SpatialDropout%dD" % rank, config, x, [], None, x


def case_conv2d_transpose(v, fmt, strides, padding):
    x = _rand(10, 2, 3, 4, 2) if fmt == "channels_last" else _rand(10, 2, 2, 3, 4)
    k, b = _rand(11, 3, 2, 5, 2), _rand(12, 5)  # (rows, cols, filters, input channels)
    config = _conv(v, "up", 5, (3, 2), strides, padding, fmt, groups=v == 2)
    if v == 2:
        config["output_padding"] = None
    want = _back(_conv2d_transpose(_last(x, fmt), k, strides, padding) + b, fmt)
    return "Conv2DTranspose", config, x, [("kernel", k), ("bias", b)], "conv2d_transpose", want


def case_separable(v, fmt, strides, padding, dilation):
    x = _rand(13, 2, 6, 5, 3) if fmt == "channels_last" else _rand(13, 2, 3, 6, 5)
    dk, pk, b = _rand(14, 3, 2, 3, 2), _rand(15, 1, 1, 6, 4), _rand(16, 4)
    if v == 2:  # tf-keras: Conv's config, then the separable keys
        config = _conv(v, "sep", 4, (3, 2), strides, padding, fmt, dilation_rate=dilation)
        config.update(depth_multiplier=2, depthwise_initializer=_init(v, "GlorotUniform"),
                      pointwise_initializer=_init(v, "GlorotUniform"), depthwise_regularizer=None,
                      pointwise_regularizer=None, depthwise_constraint=None, pointwise_constraint=None)
    else:
        config = dict(_base(v, "sep"), depth_multiplier=2, filters=4, kernel_size=[3, 2], strides=list(strides),
                      padding=padding, data_format=fmt, dilation_rate=list(dilation), activation="linear",
                      use_bias=True, depthwise_initializer=_init(v, "GlorotUniform"),
                      pointwise_initializer=_init(v, "GlorotUniform"), bias_initializer=_init(v, "Zeros"),
                      depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                      activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                      bias_constraint=None)
    want = _back(_separable(_last(x, fmt), dk, pk, b, strides, padding, dilation), fmt)
    return ("SeparableConv2D", config, x, [("depthwise_kernel", dk), ("pointwise_kernel", pk), ("bias", b)],
            "separable_conv2d", want)


def _local_config(name, size, strides, fmt):
    config = _conv(2, name, 3, size, strides, "valid", fmt)
    del config["dilation_rate"], config["groups"]
    config["implementation"] = 1
    return config


def case_local1d(v):
    x = _rand(17, 2, 7, 3)
    k, b = _rand(18, 3, 6, 3), _rand(19, 3, 3)  # 3 positions of a 2-step patch over 3 features
    return ("LocallyConnected1D", _local_config("lc", (2,), (2,), "channels_last"), x, [("kernel", k), ("bias", b)],
            None, _local1d(x, k, b, 2, 2))


def case_local2d(v, fmt):
    x = _rand(20, 2, 5, 4, 2) if fmt == "channels_last" else _rand(20, 2, 2, 5, 4)
    k, b = _rand(21, 2 * 3, 3 * 2 * 2, 3), _rand(22, 2, 3, 3)  # (2 x 3 positions, 3 x 2 x 2 patch, 3)
    return ("LocallyConnected2D", _local_config("lc", (3, 2), (2, 1), fmt), x, [("kernel", k), ("bias", b)], None,
            _local2d(x, k, b, (3, 2), (2, 1), fmt))


def _activation_case(v, cls, config, want_fn, weights=(), snake=None, shape=(2, 3, 4, 2)):
    x = _rand(23, *shape)
    x[0, 0, 0] = 0.0  # the kink
    x[0, 0, 1] = 0.5  # ThresholdedReLU's theta
    return cls, dict(_base(v, "act"), **config), x, list(weights), snake, want_fn(x)


def _prelu_case(v):
    alpha = _rand(24, 1, 1, 2)  # shared over rows and columns: one per channel
    config = dict(alpha_initializer=_init(v, "Zeros"), alpha_regularizer=None, alpha_constraint=None,
                  shared_axes=[1, 2])
    return _activation_case(v, "PReLU", config, lambda x: np.where(x >= 0, x, alpha * x), [("alpha", alpha)],
                            "p_re_lu")


def _masking_case(v):
    x = _rand(25, 2, 5, 3)
    x[0, 1] = 0.0
    x[1, 3:] = 0.0
    return "Masking", dict(_base(v, "mask"), mask_value=0.0), x, [], None, x * (x != 0).any(-1, keepdims=True)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


CASES = {
    "conv3d-last-same-strided": lambda v: case_conv3d(v),
    "conv3d-first-same-strided": lambda v: case_conv3d(v, "channels_first"),
    "conv3d-first-valid-nobias": case_conv3d_first_valid_nobias,
    "maxpool3d-last-valid": lambda v: _pool3d_case(v, "MaxPooling3D", "max", "channels_last", (2, 2, 2), (2, 2, 2),
                                                   "valid"),
    "avgpool3d-first-same": lambda v: _pool3d_case(v, "AveragePooling3D", "avg", "channels_first", (2, 3, 2),
                                                   (1, 2, 2), "same"),
    "maxpool3d-first-same": lambda v: _pool3d_case(v, "MaxPooling3D", "max", "channels_first", (3, 2, 2),
                                                   (2, 1, 2), "same"),
    "globalmax3d-last": lambda v: _global3d_case(v, "GlobalMaxPooling3D", np.max, "channels_last"),
    "globalavg3d-first": lambda v: _global3d_case(v, "GlobalAveragePooling3D", np.mean, "channels_first"),
    "zeropad3d-last": lambda v: _moves_case(v, "ZeroPadding3D", "padding", [[1, 0], [0, 2], [1, 1]],
                                            "channels_last", (2, 3, 2, 2, 2), _pad),
    "crop3d-first": lambda v: _moves_case(v, "Cropping3D", "cropping", [[1, 0], [0, 1], [1, 1]],
                                          "channels_first", (2, 2, 3, 4, 4), _crop),
    "upsample3d-last": lambda v: _moves_case(v, "UpSampling3D", "size", [2, 1, 3], "channels_last",
                                             (2, 2, 3, 2, 2), _upsample),
    "spatialdropout3d": lambda v: _spatial_dropout_case(v, 3, "channels_last"),
    "zeropad2d-first": lambda v: _moves_case(v, "ZeroPadding2D", "padding", [[2, 1], [0, 1]], "channels_first",
                                             (2, 2, 3, 3), _pad),
    "crop2d-last": lambda v: _moves_case(v, "Cropping2D", "cropping", [[0, 1], [2, 1]], "channels_last",
                                         (2, 4, 5, 2), _crop),
    "upsample2d-first": lambda v: _moves_case(v, "UpSampling2D", "size", [1, 2], "channels_first", (2, 2, 3, 2),
                                              _upsample),
    "zeropad1d": lambda v: _moves_case(v, "ZeroPadding1D", "padding", [2, 1], None, (2, 3, 2),
                                       lambda x, p, axes: _pad(x, [p], axes)),
    "crop1d": lambda v: _moves_case(v, "Cropping1D", "cropping", [1, 2], None, (2, 6, 2),
                                    lambda x, p, axes: _crop(x, [p], axes)),
    "upsample1d": lambda v: _moves_case(v, "UpSampling1D", "size", 3, None, (2, 3, 2),
                                        lambda x, n, axes: _upsample(x, [n], axes)),
    "spatialdropout1d": lambda v: _spatial_dropout_case(v, 1, None),
    "spatialdropout2d-first": lambda v: _spatial_dropout_case(v, 2, "channels_first"),
    "conv2dtranspose-last-valid-strided": lambda v: case_conv2d_transpose(v, "channels_last", (2, 2), "valid"),
    "conv2dtranspose-first-same-strided": lambda v: case_conv2d_transpose(v, "channels_first", (2, 1), "same"),
    "separable-last-same-strided": lambda v: case_separable(v, "channels_last", (2, 1), "same", (1, 1)),
    "separable-first-valid-dilated": lambda v: case_separable(v, "channels_first", (1, 1), "valid", (2, 1)),
    "locallyconnected1d": case_local1d,
    "locallyconnected2d-last": lambda v: case_local2d(v, "channels_last"),
    "locallyconnected2d-first": lambda v: case_local2d(v, "channels_first"),
    "leakyrelu": lambda v: _activation_case(v, "LeakyReLU", {"alpha": 0.2} if v == 2 else {"negative_slope": 0.2},
                                            lambda x: np.where(x >= 0, x, 0.2 * x)),
    "elu": lambda v: _activation_case(v, "ELU", {"alpha": 0.7} if v == 2 else {},  # Keras 3 writes no alpha
                                      lambda x: np.where(x >= 0, x, (0.7 if v == 2 else 1.0) * np.expm1(x))),
    "thresholdedrelu": lambda v: _activation_case(v, "ThresholdedReLU", {"theta": 0.5},
                                                  lambda x: np.where(x > 0.5, x, 0)),
    "relu": lambda v: _activation_case(v, "ReLU", {"max_value": None, "negative_slope": 0.0, "threshold": 0.0},
                                       lambda x: np.maximum(x, 0)),
    "relu-negative-slope": lambda v: _activation_case(v, "ReLU", {"max_value": None, "negative_slope": 0.1,
                                                                  "threshold": 0.0},
                                                      lambda x: np.where(x >= 0, x, 0.1 * x)),
    "softmax": lambda v: _activation_case(v, "Softmax", {"axis": -1}, _softmax, shape=(2, 3, 4)),  # kiln's: 2D, 3D
    "prelu-shared": _prelu_case,
    "gaussiannoise": lambda v: _activation_case(v, "GaussianNoise", {"stddev": 0.3, "seed": None}, lambda x: x),
    "gaussiandropout": lambda v: _activation_case(v, "GaussianDropout", {"rate": 0.3, "seed": None}, lambda x: x),
    "masking": _masking_case,
}
KERAS2_ONLY = {"locallyconnected1d", "locallyconnected2d-last", "locallyconnected2d-first", "thresholdedrelu"}
PARAMS = [pytest.param(v, name, id="keras%d-%s" % (v, name)) for name in CASES for v in (2, 3)
          if v == 2 or name not in KERAS2_ONLY]


@pytest.mark.parametrize("v,name", PARAMS)
def test_layer_predicts_what_keras_computes(tmp_path, v, name):
    cls, config, x, weights, snake, want = CASES[name](v)
    model = load_model(_write(tmp_path, v, cls, config, x.shape[1:], weights, snake))
    got = model.predict(x)
    assert got.shape == want.shape, "expected %s, got %s" % (want.shape, got.shape)
    np.testing.assert_allclose(got, want, atol=TOL, rtol=1e-5)


WRITTEN = ["conv3d-first-same-strided", "conv2dtranspose-first-same-strided", "separable-first-valid-dilated",
           "prelu-shared", "locallyconnected2d-first"]


@pytest.mark.parametrize("v,name", [pytest.param(v, n, id="keras%d-%s" % (v, n)) for n in WRITTEN for v in (2, 3)
                                    if v == 2 or n not in KERAS2_ONLY])
def test_keras_format_writes_keras_layout(tmp_path, v, name):
    """save_weights(keras_format=v) writes each weight as the Keras file held it (Keras 3:
    under the path Keras 3 gives the layer), and reads back to the same predictions."""
    cls, config, x, weights, snake, want = CASES[name](v)
    model = load_model(_write(tmp_path, v, cls, config, x.shape[1:], weights, snake))
    path = str(tmp_path / ("w.h5" if v == 2 else "w.weights.h5"))
    model.save_weights(path, keras_format=v)
    with h5py.File(path, "r") as f:
        if v == 2:
            stored = [f[config["name"]]["%s/%s:0" % (config["name"], k)][()] for k, _ in weights]
        else:
            stored = [f["layers/%s/vars/%d" % (snake, i)][()] for i in range(len(weights))]
    for (k, a), s in zip(weights, stored):
        np.testing.assert_array_equal(s, a, err_msg=k)
    for w in model.weights:
        w.set_value(np.zeros(w.shape, np.float32))
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x), want, atol=TOL, rtol=1e-5)


def test_keras3_refuses_to_write_locally_connected(tmp_path):
    cls, config, x, weights, _, _ = case_local1d(2)
    model = load_model(_write(tmp_path, 2, cls, config, x.shape[1:], weights))
    with pytest.raises(ValueError, match="'lc' \\(LocallyConnected1D\\) has no Keras 3 counterpart"):
        model.save_weights(str(tmp_path / "w.weights.h5"), keras_format=3)


# ------------------------------------------------------------------ what is refused

@pytest.mark.parametrize("v,name,edit,words", [
    (3, "conv3d-last-same-strided", {"dilation_rate": [2, 2, 2]}, ["'vol'", "Conv3D", "dilation_rate"]),
    (2, "conv3d-last-same-strided", {"groups": 2}, ["'vol'", "Conv3D", "groups"]),
    (3, "conv3d-last-same-strided", {"data_format": "channels_middle"}, ["'vol'", "data_format"]),
    (2, "conv2dtranspose-last-valid-strided", {"output_padding": [1, 1]}, ["'up'", "Conv2DTranspose",
                                                                           "output_padding"]),
    (3, "separable-last-same-strided", {"depthwise_constraint": {"class_name": "NonNeg", "config": {}}},
     ["'sep'", "SeparableConv2D", "depthwise_constraint"]),
    (2, "locallyconnected1d", {"implementation": 2}, ["'lc'", "LocallyConnected1D", "implementation"]),
    (2, "locallyconnected2d-last", {"padding": "same"}, ["'lc'", "LocallyConnected2D", "padding"]),
    (3, "upsample2d-first", {"interpolation": "bilinear"}, ["'mv'", "UpSampling2D", "interpolation"]),
    (3, "zeropad3d-last", {"padding": [[1, 1], [1, 1]]}, ["'mv'", "ZeroPadding3D", "padding"]),
    (2, "globalmax3d-last", {"keepdims": True}, ["'g'", "GlobalMaxPooling3D", "keepdims"]),
    (3, "spatialdropout2d-first", {"data_format": "channels_middle"}, ["'sd'", "SpatialDropout2D", "data_format"]),
    (2, "relu", {"max_value": 6.0}, ["'act'", "ReLU", "max_value"]),
    (3, "softmax", {"axis": 1}, ["'act'", "Softmax", "axis"]),
    (3, "prelu-shared", {"alpha_constraint": {"class_name": "NonNeg", "config": {}}},
     ["'act'", "PReLU", "alpha_constraint"]),
])
def test_unsupported_option_is_named(tmp_path, v, name, edit, words):
    cls, config, x, weights, snake, _ = CASES[name](v)
    path = _write(tmp_path, v, cls, dict(config, **edit), x.shape[1:], weights, snake)
    with pytest.raises(ValueError) as e:
        load_model(path)
    for w in words + [path]:
        assert w in str(e.value)
