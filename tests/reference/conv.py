"""NumPy references for conv2d and pool2d and their gradient helpers, channels last (NHWC):
x [B, H, W, C], W [KH, KW, C, F], results [B, OH, OW, F or C]; conv3d and pool3d likewise over
volumes (x [B, D1, D2, D3, C], W [K1, K2, K3, C, F]). Obvious loops over the output positions.
The window geometry is csrc/ops/window.h's: valid O = ceil((L - K + 1) / S); same O = ceil(L / S)
with TensorFlow's padding (the smaller half before). ops.py re-exports the 2D ones (IR ops;
K.conv3d and K.pool3d are composed of them)."""
import numpy as np


def _window(L, K, S, padding):
    """(O, padding before, padding after) along one axis."""
    if padding == "same":
        O = -(-L // S)
        total = max((O - 1) * S + K - L, 0)
    else:
        assert padding == "valid", padding
        O = -(-(L - K + 1) // S)
        total = 0
    return O, total // 2, total - total // 2


def _geometry(x_shape, KH, KW, strides, padding):
    """OH, OW and the np.pad widths of x."""
    _, H, W, _ = x_shape
    OH, top, bottom = _window(H, KH, strides[0], padding)
    OW, left, right = _window(W, KW, strides[1], padding)
    return OH, OW, ((0, 0), (top, bottom), (left, right), (0, 0))


def conv2d(x, W, b=None, strides=(1, 1), padding="valid", activation="linear"):
    """Cross-correlation (TensorFlow's convention: no kernel flip) over the zero-padded x, then
    the optional epilogue: + b per filter, and an activation of dense's list."""
    KH, KW, C, F = W.shape
    OH, OW, pads = _geometry(x.shape, KH, KW, strides, padding)
    xp, (sh, sw) = np.pad(x, pads), strides
    y = np.zeros((x.shape[0], OH, OW, F))
    for i in range(OH):
        for j in range(OW):
            y[:, i, j, :] = np.tensordot(xp[:, i * sh:i * sh + KH, j * sw:j * sw + KW, :], W, axes=3)
    if b is not None:
        y = y + b
    return _EPILOGUE[activation](y)


def _softmax_last(y):
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_EPILOGUE = {"linear": lambda y: y, "relu": lambda y: np.maximum(y, 0), "sigmoid": lambda y: 1 / (1 + np.exp(-y)),
             "tanh": np.tanh, "softmax": _softmax_last}


# The derivative of each activation from its result y, applied to a gradient d: the
# `activation` a gradient op takes its result on through (pool2d_grad, conv2d_grad_input).
_THROUGH = {"linear": lambda d, y: d, "relu": lambda d, y: np.where(y > 0, d, 0.0),
            "sigmoid": lambda d, y: d * y * (1.0 - y), "tanh": lambda d, y: d * (1.0 - y * y)}


def conv2d_grad_input(dy, W, x, strides=(1, 1), padding="valid", activation="linear"):
    """dy[b, i, j, :] @ W^T added over window (i, j) of the padded x, padding cut off; then
    through the derivative of `activation`, x being its result."""
    return _THROUGH[activation](_conv2d_grad_input(dy, W, x, strides, padding), x)


def _conv2d_grad_input(dy, W, x, strides, padding):
    KH, KW, C, F = W.shape
    OH, OW, pads = _geometry(x.shape, KH, KW, strides, padding)
    (sh, sw), (_, (top, _), (left, _), _) = strides, pads
    dxp = np.zeros(np.pad(x, pads).shape)
    for i in range(OH):
        for j in range(OW):
            dxp[:, i * sh:i * sh + KH, j * sw:j * sw + KW, :] += np.tensordot(dy[:, i, j, :], W, axes=([1], [3]))
    return dxp[:, top:top + x.shape[1], left:left + x.shape[2], :]


def conv2d_grad_filter(dy, x, W, strides=(1, 1), padding="valid"):
    """The sum over b, i, j of window (i, j) of the padded x times dy[b, i, j, :]."""
    KH, KW, C, F = W.shape
    OH, OW, pads = _geometry(x.shape, KH, KW, strides, padding)
    xp, (sh, sw) = np.pad(x, pads), strides
    dW = np.zeros(W.shape)
    for i in range(OH):
        for j in range(OW):
            dW += np.tensordot(xp[:, i * sh:i * sh + KH, j * sw:j * sw + KW, :], dy[:, i, j, :], axes=([0], [0]))
    return dW


def _pool_windows(x_shape, pool, strides, padding):
    """(i, j, h0, h1, w0, w1): output position and the window clipped to x."""
    OH, OW, pads = _geometry(x_shape, pool[0], pool[1], strides, padding)
    top, left = pads[1][0], pads[2][0]
    H, W = x_shape[1:3]
    for i in range(OH):
        for j in range(OW):
            h, w = i * strides[0] - top, j * strides[1] - left
            yield i, j, max(h, 0), min(h + pool[0], H), max(w, 0), min(w + pool[1], W)


def pool2d(x, mode, pool, strides=None, padding="valid"):
    """Max or mean over each window's real positions (padding is not a value; a NaN wins max)."""
    strides = pool if strides is None else strides
    OH, OW, _ = _geometry(x.shape, pool[0], pool[1], strides, padding)
    y = np.zeros((x.shape[0], OH, OW, x.shape[3]))
    for i, j, h0, h1, w0, w1 in _pool_windows(x.shape, pool, strides, padding):
        win = x[:, h0:h1, w0:w1, :]
        y[:, i, j, :] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


def pool2d_grad(dy, x, y, mode, pool, strides=None, padding="valid", activation="linear"):
    """avg: dy / count to every real position of the window. max: dy to the first position in
    row-major window order where x equals y (the first NaN when y is NaN); none if none does.
    Then through the derivative of `activation`, x being its result."""
    return _THROUGH[activation](_pool2d_grad(dy, x, y, mode, pool, strides, padding), x)


def _pool2d_grad(dy, x, y, mode, pool, strides, padding):
    strides = pool if strides is None else strides
    dx = np.zeros(x.shape)
    for i, j, h0, h1, w0, w1 in _pool_windows(x.shape, pool, strides, padding):
        if mode == "avg":
            dx[:, h0:h1, w0:w1, :] += dy[:, i, j, None, None, :] / ((h1 - h0) * (w1 - w0))
            continue
        for b in range(x.shape[0]):
            for c in range(x.shape[3]):
                flat = x[b, h0:h1, w0:w1, c].reshape(-1)
                target = y[b, i, j, c]
                hit = np.isnan(flat) if np.isnan(target) else flat == target
                if hit.any():
                    k = int(np.argmax(hit))
                    dx[b, h0 + k // (w1 - w0), w0 + k % (w1 - w0), c] += dy[b, i, j, c]
    return dx


def conv3d(x, W, b=None, strides=(1, 1, 1), padding="valid"):
    """conv2d's cross-correlation with a third spatial axis (no epilogue but the bias)."""
    K = W.shape[:3]
    geo = [_window(L, k, s, padding) for L, k, s in zip(x.shape[1:4], K, strides)]
    xp = np.pad(x, [(0, 0)] + [(before, after) for _, before, after in geo] + [(0, 0)])
    y = np.zeros((x.shape[0],) + tuple(O for O, _, _ in geo) + (W.shape[4],))
    for i, j, k in np.ndindex(*y.shape[1:4]):
        a, c, e = i * strides[0], j * strides[1], k * strides[2]
        y[:, i, j, k, :] = np.tensordot(xp[:, a:a + K[0], c:c + K[1], e:e + K[2], :], W, axes=4)
    return y if b is None else y + b


def pool3d(x, mode, pool, strides=None, padding="valid"):
    """pool2d over volumes: max or mean over each window's real positions (padding not counted)."""
    strides = pool if strides is None else strides
    geo = [_window(L, k, s, padding) for L, k, s in zip(x.shape[1:4], pool, strides)]
    y = np.zeros((x.shape[0],) + tuple(O for O, _, _ in geo) + (x.shape[4],))
    for out in np.ndindex(*y.shape[1:4]):
        starts = [o * s - before for o, s, (_, before, _) in zip(out, strides, geo)]
        win = x[(slice(None),) + tuple(slice(max(a, 0), min(a + k, L)) for a, k, L in zip(starts, pool, x.shape[1:4]))]
        y[(slice(None),) + out] = win.max(axis=(1, 2, 3)) if mode == "max" else win.mean(axis=(1, 2, 3))
    return y
