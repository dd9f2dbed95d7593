"""One layer's weights between kiln's layout (Keras 1.2's) and Keras 2/3's.

| layer | Keras 2 and 3 | kiln (Keras 1.2) |
| --- | --- | --- |
| Dense | kernel (in, out), bias | W, b |
| Embedding | embeddings | W |
| Conv1D | kernel (length, in, out), bias | W (length, 1, in, out), b |
| Conv2D | kernel (rows, cols, in, out) in either data_format | W: the same for 'tf', (out, in, rows, cols) for 'th' |
| Conv3D | kernel (d1, d2, d3, in, out) in either data_format | W: the same for 'tf', (out, in, d1, d2, d3) for 'th' |
| Conv2DTranspose | kernel (rows, cols, out, in) | W of Deconvolution2D: (rows, cols, in, out) for 'tf', (out, in, rows, cols) for 'th' |
| SeparableConv2D | depthwise_kernel (rows, cols, in, m), pointwise_kernel (1, 1, in * m, out), bias | the same for 'tf'; each transposed as Conv2D's for 'th' |
| LocallyConnected1D/2D (Keras 2, implementation=1) | kernel (positions, patch, out), bias | W, b: the same |
| PReLU | alpha | alphas |
| BatchNormalization | gamma, beta (absent without scale / center), moving_mean, moving_variance | gamma (ones), beta (zeros), running_mean, running_std (the variance) |
| SimpleRNN | kernel, recurrent_kernel, bias | W, U, b |
| GRU | kernel (in, 3u) and recurrent_kernel (u, 3u), gates z, r, h side by side; bias (3u), or (2, 3u) with reset_after: input and recurrent biases | W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h (+ bU_z, bU_r, bU_h with reset_after) |
| LSTM | kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u), gates i, f, c, o side by side | W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o |

A layer without a bias in Keras (use_bias=False) gets zeros where kiln's layer always has one
(the recurrent layers); going out, kiln writes the bias only when the Keras layer has one, so
a file of kiln's is read by the same architecture in Keras. Any other difference (a GRU whose
reset_after differs from the kiln layer's, a shape that does not fit) is a ValueError naming
the layer, the weight and both shapes.
"""
import numpy as np

from .keras_config import Unconvertible


def _kind(layer):
    from .. import layers as L
    for cls, kind in ((L.LSTM, "LSTM"), (L.GRU, "GRU"), (L.SimpleRNN, "SimpleRNN"), (L.Embedding, "Embedding"),
                      (L.BatchNormalization, "BatchNormalization"), (L.Convolution1D, "Conv1D"),
                      (L.Deconvolution2D, "Conv2DTranspose"), (L.Convolution2D, "Conv2D"), (L.Dense, "Dense"),
                      (L.Convolution3D, "Conv3D"), (L.SeparableConvolution2D, "SeparableConv2D"),
                      (L.LocallyConnected1D, "LocallyConnected"), (L.LocallyConnected2D, "LocallyConnected"),
                      (L.PReLU, "PReLU")):
        if type(layer) is cls or (cls is not L.Dense and isinstance(layer, cls)):
            if kind == "Conv2D" and type(layer).__name__ not in ("Convolution2D", "AtrousConvolution2D"):
                break
            return kind
    return None


def _err(where, layer, why):
    return ValueError("%s: layer %r (%s): %s" % (where, layer.name, type(layer).__name__, why))


def _need(arrays, key, shape, where, layer):
    if key not in arrays:
        raise _err(where, layer, "the file has no %s (it has %s)" % (key, sorted(arrays) or "no weights"))
    got = tuple(arrays[key].shape)  # checked before any data is read
    if got != tuple(shape):
        raise _err(where, layer, "%s has shape %s in the file but kiln's layer needs %s" % (key, got, tuple(shape)))
    if getattr(arrays[key], "dtype", np.dtype("f4")).kind not in "fiu":
        raise _err(where, layer, "%s has dtype %s, not a number" % (key, arrays[key].dtype))
    return np.asarray(arrays[key][()], dtype=np.float32)


def keras_names(layer):
    """The Keras 2/3 names of the layer's weights, in Keras' order, less those its Keras layer
    lacks (`layer._keras_absent`, set when it was loaded from a Keras file)."""
    absent = getattr(layer, "_keras_absent", frozenset())
    return [n for n in _all_names(layer) if n not in absent]


def _all_names(layer):
    kind = _kind(layer)
    if kind is None:
        if layer.weights:
            raise _err("kiln -> Keras", layer, "kiln has no Keras 2/3 conversion for this layer's weights")
        return []
    if kind in ("Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "LocallyConnected"):
        return ["kernel", "bias"] if layer.bias else ["kernel"]
    if kind == "SeparableConv2D":
        return ["depthwise_kernel", "pointwise_kernel"] + (["bias"] if layer.bias else [])
    if kind == "PReLU":
        return ["alpha"]
    if kind == "Embedding":
        return ["embeddings"]
    if kind == "BatchNormalization":
        return ["gamma", "beta", "moving_mean", "moving_variance"]
    return ["kernel", "recurrent_kernel", "bias"]


def from_keras(layer, arrays, where):
    """kiln's arrays for layer.weights from {Keras name: array} of that layer."""
    kind = _kind(layer)
    if kind is None:
        if layer.weights:
            raise _err(where, layer, "kiln has no Keras 2/3 conversion for this layer's weights")
        return []
    shapes = [tuple(w.shape) for w in layer.weights]
    if kind == "Dense":
        out = [_need(arrays, "kernel", shapes[0], where, layer)]
        return out + _bias_in(layer, arrays, shapes, where)
    if kind == "Embedding":
        return [_need(arrays, "embeddings", shapes[0], where, layer)]
    if kind == "Conv1D":
        L, one, i, o = shapes[0]
        k = _need(arrays, "kernel", (L, i, o), where, layer).reshape(L, 1, i, o)
        return [k] + _bias_in(layer, arrays, shapes, where)
    if kind in ("Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D"):
        names = _all_names(layer)
        out = [_kernel_in(layer, kind, _need(arrays, n, _keras_shape(layer, kind, s), where, layer))
               for n, s in zip(names, shapes) if n != "bias"]
        return out + _bias_in(layer, arrays, shapes, where)
    if kind == "LocallyConnected":  # the same layout in Keras 2 (implementation=1) and kiln, either ordering
        out = [_need(arrays, "kernel", shapes[0], where, layer)]
        return out + _bias_in(layer, arrays, shapes, where)
    if kind == "PReLU":
        return [_need(arrays, "alpha", shapes[0], where, layer)]
    if kind == "BatchNormalization":
        n = shapes[0]
        gamma = _need(arrays, "gamma", n, where, layer) if "gamma" in arrays else np.ones(n, np.float32)
        beta = _need(arrays, "beta", n, where, layer) if "beta" in arrays else np.zeros(n, np.float32)
        return [gamma, beta, _need(arrays, "moving_mean", n, where, layer),
                _need(arrays, "moving_variance", n, where, layer)]
    return _recurrent_in(layer, kind, arrays, where)


def _th_order(ndim):
    """The axes of a channels-last kernel (spatial..., a, b) in kiln's 'th' layout (b, a, spatial...)."""
    return (ndim - 1, ndim - 2) + tuple(range(ndim - 2))


def _keras_shape(layer, kind, shape):
    """The Keras shape of a kernel kiln holds as `shape`: channels last, a transposed
    convolution's last two axes swapped (Keras' (rows, cols, out, in))."""
    if layer.dim_ordering == "th":
        n = len(shape)
        shape = tuple(shape[a] for a in np.argsort(_th_order(n)))
    if kind == "Conv2DTranspose":
        shape = shape[:2] + (shape[3], shape[2])
    return tuple(shape)


def _kernel_in(layer, kind, k):
    if kind == "Conv2DTranspose":
        k = k.transpose(0, 1, 3, 2)  # kiln's Deconvolution2D holds the kernel of the conv it transposes
    if layer.dim_ordering == "th":
        k = k.transpose(_th_order(k.ndim))
    return np.ascontiguousarray(k)


def _kernel_out(layer, kind, k):
    if layer.dim_ordering == "th":
        k = k.transpose(np.argsort(_th_order(k.ndim)))
    if kind == "Conv2DTranspose":
        k = k.transpose(0, 1, 3, 2)
    return np.ascontiguousarray(k)


def _bias_in(layer, arrays, shapes, where):
    """[bias] (kiln's last weight) when the layer has one, else []: a bias in the file is an error."""
    return [_need(arrays, "bias", shapes[-1], where, layer)] if layer.bias else _no_bias(arrays, where, layer)


def _no_bias(arrays, where, layer):
    if "bias" in arrays:
        raise _err(where, layer, "the file has a bias but kiln's layer has none (bias=False)")
    return []


def _recurrent_in(layer, kind, arrays, where):
    u = layer.output_dim
    d = layer.weights[0].shape[0]
    G = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[kind]
    W = _need(arrays, "kernel", (d, G * u), where, layer)
    U = _need(arrays, "recurrent_kernel", (u, G * u), where, layer)
    reset_after = kind == "GRU" and layer.reset_after
    if "bias" not in arrays:
        b, bU = np.zeros(G * u, np.float32), np.zeros(G * u, np.float32)
    elif reset_after:
        b2 = _need(arrays, "bias", (2, G * u), where, layer)
        b, bU = b2[0], b2[1]
    else:
        if kind == "GRU" and tuple(arrays["bias"].shape) == (2, G * u):
            raise _err(where, layer, "the file's GRU has reset_after=True (its bias is (2, %d)) but kiln's layer "
                                     "has reset_after=False: make it GRU(..., reset_after=True)" % (G * u))
        b = _need(arrays, "bias", (G * u,), where, layer)
        bU = None
    if kind == "SimpleRNN":
        return [W, U, b]
    gate = {"GRU": "zrh", "LSTM": "ifco"}[kind]  # Keras 2's packing order
    col = lambda a, g: np.ascontiguousarray(a[..., gate.index(g) * u:(gate.index(g) + 1) * u])
    out = []
    for g in layer.gates:  # kiln's (Keras 1.2's) weight order
        out += [col(W, g), col(U, g), col(b, g)]
    if reset_after:
        out += [col(bU, g) for g in layer.gates]
    return out


def to_keras(layer):
    """[(Keras name, array)] of the layer, in Keras' order, less the weights its Keras layer
    lacks (keras_names)."""
    keep = set(keras_names(layer))
    return [(n, a) for n, a in _to_keras(layer) if n in keep]


def _to_keras(layer):
    kind = _kind(layer)
    names = _all_names(layer)
    if not names:
        return []
    v = [np.asarray(a, dtype=np.float32) for a in layer.get_weights()]
    if kind in ("Dense", "Embedding"):
        return list(zip(names, v))
    if kind == "Conv1D":
        L, _, i, o = v[0].shape
        return list(zip(names, [v[0].reshape(L, i, o)] + v[1:]))
    if kind in ("Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D"):
        return [(n, a if n == "bias" else _kernel_out(layer, kind, a)) for n, a in zip(names, v)]
    if kind in ("BatchNormalization", "LocallyConnected", "PReLU"):
        return list(zip(names, v))
    if kind == "SimpleRNN":
        return [("kernel", v[0]), ("recurrent_kernel", v[1]), ("bias", v[2])]
    gate = {"GRU": "zrh", "LSTM": "ifco"}[kind]
    by = {g: v[3 * k:3 * k + 3] for k, g in enumerate(layer.gates)}
    cat = lambda j: np.concatenate([by[g][j] for g in gate], axis=-1)
    out = [("kernel", cat(0)), ("recurrent_kernel", cat(1))]
    if kind == "GRU" and layer.reset_after:
        bU = {g: v[9 + k] for k, g in enumerate(layer.gates)}
        out.append(("bias", np.stack([cat(2), np.concatenate([bU[g] for g in gate])])))
    else:
        out.append(("bias", cat(2)))
    return out


def leaves(model):
    """The layers that hold weights, nested models opened, in order."""
    from ..graph.container import Container
    out = []
    for layer in model.layers:
        if isinstance(layer, Container):
            out += leaves(layer)
        elif layer.weights:
            out.append(layer)
    return out


def theano_flip(layer, values):
    """Keras 1.2's convert_kernel for a layer's weights saved by Theano, which convolves (flips
    the kernel) where kiln correlates: each conv kernel reversed along its spatial axes."""
    from .. import layers as L
    if not isinstance(layer, (L.Convolution1D, L.Convolution2D)) or isinstance(layer, L.SeparableConvolution2D):
        return values
    k = values[0]
    if isinstance(layer, L.Convolution1D):  # (length, 1, in, out)
        k = k[::-1, ::-1]
    elif layer.dim_ordering == "th":  # (out, in, rows, cols)
        k = k[:, :, ::-1, ::-1]
    else:  # (rows, cols, in, out)
        k = k[::-1, ::-1]
    return [np.ascontiguousarray(k)] + list(values[1:])


__all__ = ["Unconvertible", "from_keras", "to_keras", "keras_names", "leaves", "theano_flip"]
