"""K.conv3d and K.pool3d (backend/conv.py: 2D ops with the depth folded into the batch): values
against float64 NumPy loops in both layouts, strides and both border modes, gradients against
central differences."""
import numpy as np
import pytest

from kiln import backend as K

from numeric import central_difference

_rng = np.random.RandomState(5)


def _geometry(n, k, s, padding):
    if padding == "same":
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        return out, total // 2
    return (n - k) // s + 1, 0


def np_conv3d(x, w, strides, padding):
    """x (B, D, H, W, C), w (kd, kr, kc, C, F), TensorFlow's geometry."""
    outs, befores = zip(*[_geometry(n, k, s, padding) for n, k, s in zip(x.shape[1:4], w.shape[:3], strides)])
    y = np.zeros((x.shape[0],) + outs + (w.shape[4],))
    for idx in np.ndindex(*outs):
        lo = [i * s - b for i, s, b in zip(idx, strides, befores)]
        for tap in np.ndindex(*w.shape[:3]):
            pos = [a + t for a, t in zip(lo, tap)]
            if all(0 <= p < n for p, n in zip(pos, x.shape[1:4])):
                y[(slice(None),) + idx] += x[(slice(None),) + tuple(pos)] @ w[tap]
    return y


def np_pool3d(x, pool, strides, padding, mode):
    outs, befores = zip(*[_geometry(n, k, s, padding) for n, k, s in zip(x.shape[1:4], pool, strides)])
    y = np.zeros((x.shape[0],) + outs + (x.shape[4],))
    for idx in np.ndindex(*outs):
        sl = []
        for i, s, b, k, n in zip(idx, strides, befores, pool, x.shape[1:4]):
            lo = i * s - b
            sl.append(slice(max(lo, 0), min(lo + k, n)))
        win = x[(slice(None),) + tuple(sl)]
        y[(slice(None),) + idx] = win.max(axis=(1, 2, 3)) if mode == "max" else win.mean(axis=(1, 2, 3))
    return y


CASES = [((1, 1, 1), "valid"), ((2, 1, 2), "valid"), ((2, 2, 1), "same"), ((1, 1, 1), "same")]


@pytest.mark.parametrize("strides,padding", CASES)
def test_conv3d_matches_numpy_and_its_gradients(strides, padding):
    x = _rng.randn(2, 5, 4, 5, 2)
    w = _rng.randn(3, 2, 3, 2, 3) * 0.5
    ph = K.placeholder(shape=(None, 5, 4, 5, 2))
    W = K.variable(w)
    out = K.conv3d(ph, W, strides=strides, border_mode=padding, dim_ordering="tf")
    expected = np_conv3d(x, w, strides, padding)
    assert K.int_shape(out) == (None,) + expected.shape[1:]
    got = K.function([ph], [out])([x])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # 'th': channels first, the Keras 1 kernel (out, in, depth, rows, cols)
    th = K.placeholder(shape=(None, 2, 5, 4, 5))
    out_th = K.conv3d(th, K.variable(w.transpose(4, 3, 0, 1, 2)), strides=strides, border_mode=padding,
                      dim_ordering="th")
    got_th = K.function([th], [out_th])([x.transpose(0, 4, 1, 2, 3)])[0]
    np.testing.assert_allclose(got_th, expected.transpose(0, 4, 1, 2, 3), rtol=1e-4, atol=1e-4)
    # gradients with respect to the data and the kernel
    c = _rng.randn(*expected.shape)
    C = K.placeholder(shape=(None,) + c.shape[1:])
    gx, gw = K.function([ph, C], K.gradients(K.sum(out * C), [ph, W]))([x, c])
    f = lambda a, b: np.sum(np_conv3d(a, b, strides, padding) * c)  # noqa: E731
    np.testing.assert_allclose(gx, central_difference(f, [x, w], 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, central_difference(f, [x, w], 1), rtol=1e-4, atol=1e-4)


POOLS = [((2, 2, 2), (2, 2, 2), "valid"), ((3, 2, 2), (2, 1, 2), "same"), ((2, 3, 2), (1, 2, 2), "valid"),
         ((3, 3, 3), (2, 2, 2), "same")]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("pool,strides,padding", POOLS)
def test_pool3d_matches_numpy_and_its_gradients(pool, strides, padding, mode):
    x = _rng.randn(2, 5, 4, 5, 2)
    ph = K.placeholder(shape=(None, 5, 4, 5, 2))
    out = K.pool3d(ph, pool, strides, padding, "tf", mode)
    expected = np_pool3d(x, pool, strides, padding, mode)
    assert K.int_shape(out) == (None,) + expected.shape[1:]
    np.testing.assert_allclose(K.function([ph], [out])([x])[0], expected, rtol=1e-5, atol=1e-5)
    th = K.placeholder(shape=(None, 2, 5, 4, 5))
    got_th = K.function([th], [K.pool3d(th, pool, strides, padding, "th", mode)])([x.transpose(0, 4, 1, 2, 3)])[0]
    np.testing.assert_allclose(got_th, expected.transpose(0, 4, 1, 2, 3), rtol=1e-5, atol=1e-5)
    c = _rng.randn(*expected.shape)
    C = K.placeholder(shape=(None,) + c.shape[1:])
    g, = K.function([ph, C], K.gradients(K.sum(out * C), [ph]))([x, c])
    f = lambda a: np.sum(np_pool3d(a, pool, strides, padding, mode) * c)  # noqa: E731
    np.testing.assert_allclose(g, central_difference(f, [x], 0), rtol=1e-4, atol=1e-4)


def test_conv3d_and_pool3d_refuse_what_they_cannot_do():
    ph = K.placeholder(shape=(None, 5, 4, 5, 2))
    with pytest.raises(ValueError, match="Invalid border mode"):
        K.conv3d(ph, K.variable(np.zeros((1, 1, 1, 2, 1))), border_mode="full", dim_ordering="tf")
    with pytest.raises(ValueError, match="Invalid pooling mode"):
        K.pool3d(ph, (2, 2, 2), pool_mode="sum", dim_ordering="tf")
    with pytest.raises(ValueError, match="unknown"):
        K.conv3d(K.placeholder(shape=(None, None, 4, 5, 2)), K.variable(np.zeros((1, 1, 1, 2, 1))), dim_ordering="tf")
