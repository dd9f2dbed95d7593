"""conv2d's direct forward (csrc/kernels/cpu/conv_direct.cpp), picked for patches of at most 32
elements (one to three input channels under a 3x3 kernel; a strided or padded 1x1 up to 32; a
stride-1 1x1 on at most 4 channels, where the GEMM's inner dimension is too short to pay) with
16, 32, 48 or 64 output channels: against the float64 NumPy reference over paddings, strides, kernels
that are not square, windows that leave the image on every side, each activation of the
epilogue and no bias; the fused max pool on it; the choice of method; and shapes just outside
the rule still going to im2col or GEMM. The filter gradient of patches up to 28 elements is
direct too (each tap's sum in registers over an image, images added in order): against the
NumPy reference on the same shapes and against central differences. The data gradient is
conv2d_grad_input's (test_conv_winograd.py and the ops tests)."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, conv_loss_graph, ref, run  # noqa: E402

from kiln import _core  # noqa: E402
from numeric import numeric_grad  # noqa: E402

_rng = np.random.default_rng(31337)

# (B, H, W, C, KH, KW, F, strides, padding)
SHAPES = [
    (3, 28, 28, 1, 3, 3, 32, (1, 1), "valid"),   # the MNIST convnet's first convolution
    (2, 13, 11, 1, 3, 3, 16, (1, 1), "same"),    # windows leave the image on every side
    (2, 12, 9, 3, 3, 3, 64, (2, 2), "same"),     # stride 2, odd sizes
    (1, 10, 10, 3, 1, 1, 64, (2, 2), "valid"),   # a strided 1x1
    (2, 9, 8, 3, 1, 1, 64, (1, 1), "same"),      # a stride-1 1x1 on RGB (the inception module's)
    (1, 6, 5, 4, 1, 1, 32, (1, 1), "valid"),     # the most channels a stride-1 1x1 goes direct with
    (2, 9, 8, 2, 5, 3, 48, (1, 2), "same"),      # 5x3 kernel, 30-element patches, 3 vectors
    (1, 7, 9, 32, 1, 1, 16, (2, 1), "same"),     # the longest patch the rule takes
    (1, 5, 5, 1, 5, 5, 32, (3, 3), "valid"),     # one output position per image row
    (2, 4, 3, 1, 5, 5, 16, (1, 1), "same"),      # a kernel larger than the image
]


def U(*shape):
    return _rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def method(x, w, attrs):
    return _core.conv2d_method("conv2d", list(x), list(w), attrs)


def conv(x, w, b, attrs):
    g = Graph()
    g.input("x", x.shape)
    g.input("w", w.shape)
    args = ["x", "w"]
    if b is not None:
        g.input("b", b.shape)
        args.append("b")
    (y,) = run(g.text(g.op("conv2d", *args, attrs=attrs)), [x, w] + ([b] if b is not None else []))
    return y


def ident(s):
    return "%dx%dx%dx%d-k%dx%d-f%d-s%d%d-%s" % (s[:7] + s[7] + (s[8],))


@pytest.mark.parametrize("shape", SHAPES, ids=ident)
def test_direct_conv_matches_numpy(shape):
    B, H, W, C, KH, KW, F, strides, padding = shape
    x, w, b = U(B, H, W, C), U(KH, KW, C, F), U(F)
    attrs = {"padding": padding, "strides": list(strides)}
    assert method(x.shape, w.shape, attrs) == "direct"
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    for act, bias in (("linear", b), ("relu", b), ("relu", None), ("sigmoid", b), ("tanh", b), ("softmax", b)):
        y = conv(x, w, bias, dict(attrs, activation=act))
        want = ref.conv2d(x64, w64, None if bias is None else bias.astype(np.float64), strides=strides,
                          padding=padding, activation=act)
        assert_close(y, want, rtol=1e-5, atol=1e-5, what="conv2d %s %s bias=%s" % (act, shape, bias is not None))


@pytest.mark.parametrize("shape", [s for s in SHAPES if s[3] * s[4] * s[5] <= 28 and (s[4], s[5], s[7]) != (1, 1, (1, 1))],
                         ids=ident)
def test_direct_filter_gradient_matches_numpy(shape):
    B, H, W, C, KH, KW, F, strides, padding = shape
    x, w = U(B, H, W, C), U(KH, KW, C, F)
    attrs = {"padding": padding, "strides": list(strides)}
    assert _core.conv2d_method("conv2d_grad_filter", list(x.shape), list(w.shape), attrs) == "direct"
    want_y = ref.conv2d(x.astype(np.float64), w.astype(np.float64), strides=strides, padding=padding)
    dy = U(*want_y.shape)
    g = Graph()
    g.input("dy", dy.shape)
    g.input("x", x.shape)
    g.input("w", w.shape)
    (dw,) = run(g.text(g.op("conv2d_grad_filter", "dy", "x", "w", attrs=attrs)), [dy, x, w])
    want = ref.conv2d_grad_filter(dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64),
                                  strides=strides, padding=padding)
    assert_close(dw, want, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(want).max())), what="grad_filter %s" % (shape,))


def test_direct_filter_gradient_matches_central_differences():
    x, w = U(2, 7, 6, 2), U(3, 3, 2, 16)
    attrs = {"padding": "same"}
    g, loss, c_shape = conv_loss_graph(x.shape, w.shape, attrs)
    c = U(*c_shape)
    assert _core.conv2d_method("conv2d_grad_filter", list(x.shape), list(w.shape), attrs) == "direct"
    (_, d_w) = run(_core.gradients(g.text(loss), ["w"]), [x, w, c])
    x64, w64 = x.astype(np.float64), w.astype(np.float64)

    def loss64(w_):
        return float(np.sum(ref.conv2d(x64, w_, padding="same") * c))

    num = numeric_grad(lambda: loss64(w64), w64)
    assert_close(d_w, num, rtol=1e-4, atol=1e-4, what="d/dw")


def test_direct_conv_with_the_fused_max_pool():
    x, w, b = U(2, 28, 28, 1), U(3, 3, 1, 32), U(32)
    attrs = {"padding": "valid", "activation": "relu", "pool": [2, 2]}
    y = conv(x, w, b, attrs)
    full = ref.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), activation="relu")
    want = full.reshape(2, 13, 2, 13, 2, 32).max(axis=(2, 4))
    assert_close(y, want, rtol=1e-5, atol=1e-5, what="conv2d + max pool")


def test_shapes_outside_the_rule_keep_their_methods():
    valid = {"padding": "valid"}
    assert method([2, 28, 28, 1], [3, 3, 1, 8], valid) == "im2col"     # fewer than 16 filters
    assert method([2, 28, 28, 1], [3, 3, 1, 40], valid) == "im2col"    # not a multiple of 16
    assert method([2, 28, 28, 1], [3, 3, 1, 80], valid) == "im2col"    # more than 64
    assert method([2, 28, 28, 4], [3, 3, 4, 32], valid) == "im2col"    # a 36-element patch
    assert method([2, 9, 9, 5], [1, 1, 5, 64], valid) == "gemm"        # a 1x1 with stride 1 on 5+ channels: x is col
    assert _core.conv2d_method("conv2d_grad_input", [2, 28, 28, 1], [3, 3, 1, 32], valid) == "im2col"
