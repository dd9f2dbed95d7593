"""The Keras 1.2 backend functions composed of existing ops (issue 9, item 4): each against NumPy
through K.function / K.eval, in both image layouts where it has one, and the differentiable ones'
gradients against float64 central differences. Placeholders have a batch dim (None); values are
fed with batch 2."""
import numpy as np
import pytest

from kiln import backend as K

from numeric import central_difference

_rng = np.random.RandomState(0)
X = _rng.uniform(-2.0, 2.0, size=(2, 3, 4))


def _check(got, expected, rtol=1e-5, atol=1e-6):
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, "shape: expected %s, got %s" % (expected.shape, got.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def _run(fn, *values):
    phs = [K.placeholder(shape=(None,) + v.shape[1:]) for v in values]
    out = fn(*phs)
    return out, K.function(phs, [out])(list(values))[0]


def check_gradients(kfn, nfn, values, rtol=1e-4, atol=1e-5):
    phs = [K.placeholder(shape=(None,) + v.shape[1:]) for v in values]
    out = kfn(*phs)
    cv = _rng.randn(*nfn(*values).shape)
    c = K.placeholder(shape=(None,) + cv.shape[1:])
    got = K.function(phs + [c], K.gradients(K.sum(out * c), phs))(list(values) + [cv])
    loss = lambda *xs: np.sum(nfn(*xs) * cv)  # noqa: E731
    for i, g in enumerate(got):
        np.testing.assert_allclose(g, central_difference(loss, values, i), rtol=rtol, atol=atol)


def test_every_function_the_task_names_exists():
    names = ("zeros_like ones_like eye any all argmin switch temporal_padding asymmetric_temporal_padding "
             "spatial_2d_padding asymmetric_spatial_2d_padding spatial_3d_padding resize_images resize_volumes "
             "arange print_tensor conv1d conv2d atrous_conv2d deconv2d conv2d_transpose depthwise_conv2d "
             "separable_conv2d pool2d normalize_batch_in_training batch_normalization moving_average_update "
             "get_variable_shape cast cast_to_floatx minimum maximum var std lesser lesser_equal "
             "random_uniform_variable random_normal_variable").split()
    assert [n for n in names if not callable(getattr(K, n, None))] == []


# ---------------------------------------------------------------------------------------------
# Values: zeros_like, ones_like, eye, arange, random variables, cast_to_floatx.

def test_zeros_like_and_ones_like_follow_the_batch_and_ignore_the_values():
    x = K.placeholder(shape=(None, 3, 4))
    zeros, ones = K.zeros_like(x), K.ones_like(x)
    assert K.int_shape(zeros) == (None, 3, 4)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    got_z, got_o = K.function([x], [zeros, ones * 2.0])([bad])
    _check(got_z, np.zeros_like(X))
    _check(got_o, np.full_like(X, 2.0))
    v = K.variable(np.arange(6.0).reshape(2, 3))
    _check(K.eval(K.ones_like(v)), np.ones((2, 3)))
    g, = K.gradients(K.sum(K.ones_like(x) * x), [x])  # the gradient is x's multiplier, not through ones_like
    _check(K.function([x], [g])([X])[0], np.ones_like(X))


def test_eye_arange_and_random_variables():
    _check(K.eval(K.eye(3)), np.eye(3))
    _check(K.eval(K.arange(5)), np.arange(5))
    _check(K.eval(K.arange(2, 9, 3)), np.arange(2, 9, 3))
    assert K.dtype(K.arange(4)) == "int32" and K.dtype(K.arange(4, dtype="float32")) == "float32"
    with pytest.raises(ValueError, match="empty"):
        K.arange(-3)
    u = K.get_value(K.random_uniform_variable((200, 50), -1.0, 3.0, seed=7))
    assert u.shape == (200, 50) and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(u, K.get_value(K.random_uniform_variable((200, 50), -1.0, 3.0, seed=7)))
    n = K.get_value(K.random_normal_variable((200, 50), 2.0, 0.5, seed=1))
    assert abs(n.mean() - 2.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    f = K.cast_to_floatx([1, 2])
    assert f.dtype == np.float32 and f.tolist() == [1.0, 2.0]


def test_get_variable_shape_and_print_tensor():
    v = K.variable(np.zeros((2, 5)))
    assert K.get_variable_shape(v) == (2, 5)
    x = K.placeholder(shape=(None, 3, 4))
    p = K.print_tensor(x, message="x is")
    assert p is not x and K.int_shape(p) == (None, 3, 4)
    _check(K.function([x], [p * 1.0])([X])[0], X)


# ---------------------------------------------------------------------------------------------
# Logic: any, all, argmin, switch, lesser, cast.

@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), (-1, True), ([1, 2], False)])
def test_any_and_all(axis, keepdims):
    z = np.array([[[0, 0, 1, 0], [0, 0, 0, 0], [2, 0, 0, 0]], [[1, 1, 1, 1], [1, -1, 1, 1], [1, 1, 0.5, 1]]])
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    _, got_any = _run(lambda x: K.any(x, axis=axis, keepdims=keepdims), z)
    _, got_all = _run(lambda x: K.all(x, axis=axis, keepdims=keepdims), z)
    _check(got_any, np.any(z, axis=np_axis, keepdims=keepdims))
    _check(got_all, np.all(z, axis=np_axis, keepdims=keepdims))


def test_argmin_takes_the_first_of_equal_minima():
    z = np.array([[[3, 1, 1, 2], [0, 0, 5, -1], [4, 4, 4, 4]], [[2, 2, 1, 1], [9, 8, 7, 6], [-2, 0, -2, 1]]], float)
    _check(_run(lambda x: K.argmin(x), z)[1], np.argmin(z, axis=-1))
    _check(_run(lambda x: K.argmin(x, axis=1), z)[1], np.argmin(z, axis=1))


def test_switch_elementwise_scalar_and_callable():
    a, b = X, _rng.uniform(-1, 1, size=(2, 3, 4))
    _check(_run(lambda x, y: K.switch(K.greater(x, y), x, y), a, b)[1], np.where(a > b, a, b))
    _check(_run(lambda x, y: K.switch(x, lambda: y, lambda: -y), np.where(a > 0, a, 0.0), b)[1],
           np.where(a > 0, b, -b))
    for flag, want in ((1.0, a), (0.0, 2 * a)):
        cond = K.variable(np.float32(flag))
        _check(_run(lambda x: K.switch(cond, x, x * 2.0), a)[1], want)
    # the gradient goes to the branch taken
    check_gradients(lambda x, y: K.switch(K.greater(x, 0.0), x * x, y * 3.0),
                    lambda x, y: np.where(x > 0, x * x, y * 3.0), [a, b])


def test_lesser_names_and_minimum_maximum():
    a, b = X, np.round(X)
    _check(_run(lambda x, y: K.lesser(x, y), a, b)[1], a < b)
    _check(_run(lambda x, y: K.lesser_equal(x, y), a, b)[1], a <= b)
    _check(_run(lambda x, y: K.minimum(x, y) + K.maximum(x, y) * 10.0, a, b)[1],
           np.minimum(a, b) + np.maximum(a, b) * 10)


def test_var_and_std_keepdims():
    _check(_run(lambda x: K.var(x, axis=1, keepdims=True), X)[1], X.var(axis=1, keepdims=True))
    _check(_run(lambda x: K.std(x, axis=-1, keepdims=True), X)[1], X.std(axis=-1, keepdims=True))


def test_cast_truncates_toward_zero_for_integer_types():
    z = np.array([[[2.5, -2.5, 3.5, -3.5], [1.7, -1.7, 0.2, -0.2], [3.0, -3.0, 0.0, 7.999]]] * 2)
    out, got = _run(lambda x: K.cast(x, "int32"), z)
    assert K.dtype(out) == "int32"
    _check(got, np.trunc(z))
    out, got = _run(lambda x: K.cast(x, "bool"), z)
    _check(got, z != 0)
    x = K.placeholder(shape=(None, 3))
    assert K.dtype(K.cast(x, "float64")) == "float32" and K.cast(K.cast(x, "int32"), "int64").dtype == "int32"
    i = K.placeholder(shape=(None, 3), dtype="int32")
    assert K.cast(i, "int32") is i and K.dtype(K.cast(i, "float32")) == "float32"


def test_dot_with_an_nd_right_operand_is_theanos():
    """(2, 3) . (4, 3, 5) = (2, 4, 5): the last axis of x with the second-to-last of y."""
    w = _rng.randn(4, 3, 5)
    xv = _rng.randn(2, 3)
    out, got = _run(lambda x: K.dot(x, K.variable(w)), xv)
    assert K.int_shape(out) == (None, 4, 5)
    _check(got, np.dot(xv, w), rtol=1e-5, atol=1e-5)
    a = _rng.randn(2, 3)
    _check(K.eval(K.dot(K.variable(a), K.variable(w))), np.dot(a, w), rtol=1e-5, atol=1e-5)
    x3 = _rng.randn(2, 6, 3)
    _check(_run(lambda x: K.dot(x, K.variable(w)), x3)[1], np.dot(x3, w), rtol=1e-5, atol=1e-5)
    check_gradients(lambda x: K.dot(x, K.variable(w)), lambda x: np.dot(x, w), [xv])


# ---------------------------------------------------------------------------------------------
# Padding and resizing.

def test_temporal_paddings():
    out, got = _run(lambda x: K.temporal_padding(x), X)
    assert K.int_shape(out) == (None, 5, 4)
    _check(got, np.pad(X, ((0, 0), (1, 1), (0, 0))))
    _check(_run(lambda x: K.temporal_padding(x, (2, 0)), X)[1], np.pad(X, ((0, 0), (2, 0), (0, 0))))
    _check(_run(lambda x: K.asymmetric_temporal_padding(x, 0, 3), X)[1], np.pad(X, ((0, 0), (0, 3), (0, 0))))
    check_gradients(lambda x: K.temporal_padding(x, 2), lambda x: np.pad(x, ((0, 0), (2, 2), (0, 0))), [X])


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_spatial_paddings_in_both_layouts(ordering):
    img = _rng.randn(2, 3, 4, 5)
    rows, cols = (2, 3) if ordering == "th" else (1, 2)

    def pads(r, c):
        p = [(0, 0)] * 4
        p[rows], p[cols] = r, c
        return p

    out, got = _run(lambda x: K.spatial_2d_padding(x, (1, 2), dim_ordering=ordering), img)
    _check(got, np.pad(img, pads((1, 1), (2, 2))))
    assert out._image_layout == ordering
    fmt = "channels_first" if ordering == "th" else "channels_last"
    _check(_run(lambda x: K.spatial_2d_padding(x, ((0, 1), (2, 0)), data_format=fmt), img)[1],
           np.pad(img, pads((0, 1), (2, 0))))
    _check(_run(lambda x: K.asymmetric_spatial_2d_padding(x, 1, 0, 0, 2, dim_ordering=ordering), img)[1],
           np.pad(img, pads((1, 0), (0, 2))))
    check_gradients(lambda x: K.spatial_2d_padding(x, (1, 1), dim_ordering=ordering),
                    lambda x: np.pad(x, pads((1, 1), (1, 1))), [img])


def test_spatial_padding_follows_the_tensor_layout_then_the_keras1_default():
    img = _rng.randn(2, 3, 4, 5)
    _check(_run(lambda x: K.spatial_2d_padding(x), img)[1], np.pad(img, ((0, 0), (0, 0), (1, 1), (1, 1))))  # 'th'
    K.set_image_dim_ordering("tf")
    _check(_run(lambda x: K.spatial_2d_padding(x), img)[1], np.pad(img, ((0, 0), (1, 1), (1, 1), (0, 0))))
    tagged = lambda x: K.spatial_2d_padding(K.conv2d(x, K.variable(np.ones((3, 3, 1, 1)) / 3), dim_ordering="th"))
    _check(_run(tagged, img)[1], np.pad(np.repeat(img.mean(1, keepdims=True), 3, 1), ((0, 0), (0, 0), (1, 1), (1, 1))))


def test_spatial_3d_padding_and_resize_volumes():
    vol = _rng.randn(2, 2, 3, 2, 4)
    _check(_run(lambda x: K.spatial_3d_padding(x, (1, 0, 2), dim_ordering="th"), vol)[1],
           np.pad(vol, ((0, 0), (0, 0), (1, 1), (0, 0), (2, 2))))
    _check(_run(lambda x: K.spatial_3d_padding(x, dim_ordering="tf"), vol)[1],
           np.pad(vol, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0))))
    got = _run(lambda x: K.resize_volumes(x, 2, 1, 3, dim_ordering="tf"), vol)[1]
    _check(got, np.repeat(np.repeat(vol, 2, 1), 3, 3))


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_resize_images_is_nearest_neighbour(ordering):
    img = _rng.randn(2, 3, 4, 5)
    rows = 2 if ordering == "th" else 1
    out, got = _run(lambda x: K.resize_images(x, 2, 3, ordering), img)
    _check(got, np.repeat(np.repeat(img, 2, rows), 3, rows + 1))
    check_gradients(lambda x: K.resize_images(x, 2, 1, ordering), lambda x: np.repeat(x, 2, rows), [img])


# ---------------------------------------------------------------------------------------------
# Convolutions (the layers' tests cover the layouts, strides and every weight's gradient).

def np_conv(x, w, stride=(1, 1), padding="valid", dilation=(1, 1)):
    """x (B, H, W, C), w (rows, cols, C, F), TensorFlow's padding, taps `dilation` apart."""
    (kh, kw), (sh, sw), (dh, dw) = w.shape[:2], stride, dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        pad = lambda n, k, s: (max((-(-n // s) - 1) * s + k - n, 0) // 2, max((-(-n // s) - 1) * s + k - n, 0)
                               - max((-(-n // s) - 1) * s + k - n, 0) // 2)
        x = np.pad(x, ((0, 0), pad(x.shape[1], eh, sh), pad(x.shape[2], ew, sw), (0, 0)))
    oh, ow = (x.shape[1] - eh) // sh + 1, (x.shape[2] - ew) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for a in range(kh):
        for c in range(kw):
            out += x[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, c * dw:c * dw + (ow - 1) * sw + 1:sw, :] @ w[a, c]
    return out


@pytest.mark.parametrize("padding,stride,dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2),
                                                     ("causal", 1, 1), ("causal", 1, 3)])
def test_conv1d(padding, stride, dilation):
    x = _rng.randn(2, 9, 3)
    w = _rng.randn(3, 3, 4)

    def ref(x):
        if padding == "causal":
            x = np.pad(x, ((0, 0), (2 * dilation, 0), (0, 0)))
        mode = "valid" if padding == "causal" else padding
        return np_conv(x[:, :, None, :], w[:, None], (stride, 1), mode, (dilation, 1))[:, :, 0, :]

    kw = {"strides": stride, "padding": padding, "dilation_rate": dilation} if padding == "causal" or dilation > 1 \
        else {"stride": stride, "border_mode": padding}
    _check(_run(lambda t: K.conv1d(t, K.variable(w), **kw), x)[1], ref(x), rtol=1e-5, atol=1e-5)
    check_gradients(lambda t: K.conv1d(t, K.variable(w), **kw), ref, [x])


def test_conv2d_filter_dilation_and_atrous_conv2d():
    x, w = _rng.randn(2, 8, 7, 2), _rng.randn(3, 2, 2, 3)
    want = np_conv(x, w, (1, 1), "same", (2, 3))
    _check(_run(lambda t: K.conv2d(t, K.variable(w), border_mode="same", dim_ordering="tf",
                                   filter_dilation=(2, 3)), x)[1], want, rtol=1e-5, atol=1e-5)
    _check(_run(lambda t: K.conv2d(t, K.variable(w), padding="same", data_format="channels_last",
                                   dilation_rate=(2, 3)), x)[1], want, rtol=1e-5, atol=1e-5)
    xt = x.transpose(0, 3, 1, 2)
    _check(_run(lambda t: K.atrous_conv2d(t, K.variable(w.transpose(3, 2, 0, 1)), 2, dim_ordering="th"), xt)[1],
           np_conv(x, w, (1, 1), "valid", (2, 2)).transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)
    check_gradients(lambda t: K.conv2d(t, K.variable(w), dim_ordering="tf", filter_dilation=(2, 2)),
                    lambda t: np_conv(t, w, (1, 1), "valid", (2, 2)), [x])


def test_dilate_inserts_zeros_and_passes_gradients_to_the_taps():
    v = K.variable(np.arange(1.0, 7.0).reshape(2, 3))
    _check(K.eval(K.dilate(v, 1, 3)), [[1, 0, 0, 2, 0, 0, 3], [4, 0, 0, 5, 0, 0, 6]])
    g, = K.gradients(K.sum(K.dilate(v, 0, 2) * K.variable(np.arange(9.0).reshape(3, 3))), [v])
    _check(K.eval(g), [[0, 1, 2], [6, 7, 8]])  # rows 0 and 2 of the multiplier: the zero row gets none


@pytest.mark.parametrize("padding,stride,out_hw", [("valid", (2, 2), (9, 11)), ("same", (2, 2), (8, 10)),
                                                   ("same", (1, 1), (4, 5)), ("valid", (1, 2), (6, 11))])
def test_conv2d_transpose_and_deconv2d_are_the_input_gradient_of_conv2d(padding, stride, out_hw):
    """Keras 2's kernel (rows, cols, out, in); Keras 1's deconv2d takes the conv2d kernel (rows,
    cols, in, out) ('tf') or (out, in, rows, cols) ('th')."""
    w = _rng.randn(3, 3, 2, 4)  # a conv2d from 2 channels to 4
    y = K.placeholder(shape=(None,) + out_hw + (2,))
    x = K.conv2d(y, K.variable(w), strides=stride, border_mode=padding, dim_ordering="tf")
    dx_ph = K.placeholder(shape=(None,) + tuple(K.int_shape(x)[1:]))
    grad, = K.gradients(K.sum(x * dx_ph), [y])
    dxv = _rng.randn(2, *K.int_shape(x)[1:])
    want = K.function([y, dx_ph], [grad])([np.zeros((2,) + out_hw + (2,)), dxv])[0]
    out_shape = (None,) + out_hw + (2,)
    # Keras 2's (rows, cols, out, in) is the conv2d's own kernel: out = its 2 inputs, in = its 4 outputs
    got = _run(lambda t: K.conv2d_transpose(t, K.variable(w), out_shape, stride, padding, "channels_last"), dxv)[1]
    _check(got, want, rtol=1e-5, atol=1e-5)
    got_k1 = _run(lambda t: K.deconv2d(t, K.variable(w.transpose(0, 1, 3, 2)), out_shape, stride, padding, "tf"),
                  dxv)[1]
    _check(got_k1, want, rtol=1e-5, atol=1e-5)
    th_shape = (None, 2) + out_hw
    got_th = _run(lambda t: K.deconv2d(t, K.variable(w.transpose(2, 3, 0, 1)), th_shape, stride, padding, "th"),
                  dxv.transpose(0, 3, 1, 2))[1]
    _check(got_th, want.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_conv2d_transpose_gradients():
    w = _rng.randn(2, 3, 3, 2)  # (rows, cols, out, in)
    x = _rng.randn(2, 3, 4, 2)
    out_shape = (None, 7, 9, 3)

    def ref(t):  # the scatter definition, 'valid', stride 2
        out = np.zeros((len(t), 7, 9, 3))
        for i in range(3):
            for j in range(4):
                for a in range(2):
                    for c in range(3):
                        out[:, 2 * i + a, 2 * j + c, :] += t[:, i, j, :] @ w[a, c].T
        return out

    _check(_run(lambda t: K.conv2d_transpose(t, K.variable(w), out_shape, (2, 2), "valid",
                                             "channels_last"), x)[1], ref(x), rtol=1e-5, atol=1e-5)
    check_gradients(lambda t: K.conv2d_transpose(t, K.variable(w), out_shape, (2, 2), "valid", "channels_last"),
                    ref, [x])


def test_depthwise_and_separable_conv2d():
    x = _rng.randn(2, 6, 5, 3)
    dw, pw = _rng.randn(3, 2, 3, 2), _rng.randn(1, 1, 6, 4)
    depth = np.concatenate([np_conv(x[..., c:c + 1], dw[:, :, c:c + 1, m:m + 1], (1, 1), "same")
                            for c in range(3) for m in range(2)], axis=-1)
    _check(_run(lambda t: K.depthwise_conv2d(t, K.variable(dw), padding="same", data_format="channels_last"), x)[1],
           depth, rtol=1e-5, atol=1e-5)
    want = np_conv(depth, pw)
    _check(_run(lambda t: K.separable_conv2d(t, K.variable(dw), K.variable(pw), border_mode="same",
                                             dim_ordering="tf"), x)[1], want, rtol=1e-5, atol=1e-5)
    got_th = _run(lambda t: K.separable_conv2d(t, K.variable(dw.transpose(3, 2, 0, 1)),
                                               K.variable(pw.transpose(3, 2, 0, 1)), border_mode="same",
                                               dim_ordering="th"), x.transpose(0, 3, 1, 2))[1]
    _check(got_th, want.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)
    check_gradients(lambda t: K.depthwise_conv2d(t, K.variable(dw), data_format="channels_last"),
                    lambda t: np.concatenate([np_conv(t[..., c:c + 1], dw[:, :, c:c + 1, m:m + 1])
                                              for c in range(3) for m in range(2)], axis=-1), [x])


def test_conv_errors_name_the_function():
    x = K.placeholder(shape=(None, 4, 4, 2))
    with pytest.raises(ValueError, match="Invalid border mode for conv2d"):
        K.conv2d(x, K.variable(np.zeros((2, 2, 2, 1))), border_mode="full", dim_ordering="tf")
    with pytest.raises(ValueError, match="output_shape is the full shape"):
        K.conv2d_transpose(x, K.variable(np.zeros((2, 2, 1, 2))), (8, 8), data_format="channels_last")
    with pytest.raises(ValueError, match="the kernel is \\(length, in, out\\)"):
        K.conv1d(K.placeholder(shape=(None, 5, 2)), K.variable(np.zeros((2, 1, 2, 3))))


# ---------------------------------------------------------------------------------------------
# Batch normalization.

def test_normalize_batch_in_training_over_the_batch():
    x = _rng.randn(6, 4) * 3 + 1
    gamma, beta = _rng.uniform(0.5, 2, 4), _rng.randn(4)
    xp = K.placeholder(shape=(None, 4))
    normed, mean, var = K.normalize_batch_in_training(xp, K.variable(gamma), K.variable(beta), [0], epsilon=1e-3)
    assert K.int_shape(mean) == (4,) and K.int_shape(var) == (4,)
    got = K.function([xp], [normed, mean, var])([x])
    m, v = x.mean(0), x.var(0)
    _check(got[0], (x - m) / np.sqrt(v + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)
    _check(got[1], m, rtol=1e-5, atol=1e-5)
    _check(got[2], v, rtol=1e-5, atol=1e-5)


def test_normalize_batch_in_training_of_channels_first_images_and_its_gradient():
    x = _rng.randn(3, 2, 4, 5)
    gamma, beta = _rng.uniform(0.5, 2, 2), _rng.randn(2)
    g, b = K.variable(gamma), K.variable(beta)

    def ref(t):
        m, v = t.mean((0, 2, 3), keepdims=True), t.var((0, 2, 3), keepdims=True)
        return (t - m) / np.sqrt(v + 1e-3) * gamma[None, :, None, None] + beta[None, :, None, None]

    out, got = _run(lambda t: K.normalize_batch_in_training(t, g, b, [0, 2, 3])[0], x)
    _check(got, ref(x), rtol=1e-4, atol=1e-5)
    _, stats = _run(lambda t: K.normalize_batch_in_training(t, g, b, [0, 2, 3])[2], x)
    _check(stats, x.var((0, 2, 3)), rtol=1e-5, atol=1e-5)
    check_gradients(lambda t: K.normalize_batch_in_training(t, g, b, [0, 2, 3])[0], ref, [x], rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="batch axis"):
        K.normalize_batch_in_training(K.placeholder(shape=(None, 4)), g, b, [1])


def test_batch_normalization_and_moving_average_update():
    x = _rng.randn(2, 3, 4)
    mean, var = _rng.randn(4), _rng.uniform(0.5, 2, 4)
    beta, gamma = _rng.randn(4), _rng.uniform(0.5, 2, 4)
    got = _run(lambda t: K.batch_normalization(t, K.variable(mean), K.variable(var), K.variable(beta),
                                               K.variable(gamma), epsilon=0.01), x)[1]
    _check(got, (x - mean) / np.sqrt(var + 0.01) * gamma + beta, rtol=1e-5, atol=1e-5)
    plain = _run(lambda t: K.batch_normalization(t, K.variable(mean), K.variable(var), None, None), x)[1]
    _check(plain, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)
    running = K.variable(np.ones(4))
    value = K.placeholder(shape=(4,))
    update = K.moving_average_update(running, value, 0.9)
    assert update[0] is running
    f = K.function([value], [value * 1.0], updates=[update])
    f([np.full(4, 3.0)])
    f([np.full(4, 3.0)])
    _check(K.get_value(running), np.full(4, (1 * 0.9 + 0.3) * 0.9 + 0.3))
