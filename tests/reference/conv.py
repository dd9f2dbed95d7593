"""NumPy references for conv2d and pool2d and their gradient helpers, channels last (NHWC):
x [B, H, W, C], W [KH, KW, C, F], results [B, OH, OW, F or C]. Obvious loops over the output
positions. The window geometry is csrc/ops/window.h's: valid O = ceil((L - K + 1) / S); same
O = ceil(L / S) with TensorFlow's padding (the smaller half before). Re-exported by ops.py."""
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


def conv2d_grad_input(dy, W, x, strides=(1, 1), padding="valid"):
    """dy[b, i, j, :] @ W^T added over window (i, j) of the padded x, padding cut off."""
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


def pool2d_grad(dy, x, y, mode, pool, strides=None, padding="valid"):
    """avg: dy / count to every real position of the window. max: dy to the first position in
    row-major window order where x equals y (the first NaN when y is NaN); none if none does."""
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
