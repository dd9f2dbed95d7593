"""conv2d's Winograd kernels (csrc/kernels/cpu/winograd.cpp): stride-1 3x3 convolutions as
F(4x4, 3x3) and 5x5 ones as F(2x2, 5x5), picked when both channel counts reach 16 (the filter
gradient: the output channels)
(`_core.conv2d_method` says which method a shape gets). Forward (with its bias + activation
epilogue), data gradient and filter gradient against the float64 NumPy references, on shapes
with partial edge tiles, channel counts that are not a multiple of the 16-wide vectors, and
both paddings; the gradients also against central differences; the choice of method itself."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, conv_loss_graph, ref, run  # noqa: E402

from numeric import numeric_grad  # noqa: E402
from kiln import _core  # noqa: E402

_rng = np.random.default_rng(2718)

# (B, H, W, C, k, F, padding): every one of these gets a Winograd method
SHAPES = [
    (2, 9, 11, 16, 3, 16, "valid"),   # 7x9 outputs: partial tiles on both edges
    (2, 9, 11, 16, 3, 20, "same"),
    (1, 26, 26, 32, 3, 64, "valid"),  # the MNIST convnet's second convolution
    (3, 13, 7, 17, 5, 16, "same"),    # 17 channels: one full vector and a 1-wide tail
    (1, 8, 8, 32, 5, 24, "valid"),
    (2, 6, 5, 16, 3, 33, "same"),     # smaller than one tile
    (1, 4, 4, 16, 3, 16, "valid"),    # one 2x2 output, a quarter of a tile
    (4, 10, 10, 2, 5, 16, "valid"),   # two input channels: only the filter gradient
]


def U(*shape):
    return _rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def method(op, x, w, padding):
    return _core.conv2d_method(op, list(x), list(w), {"padding": padding})


def conv_graph(op, shapes, attrs):
    g = Graph()
    names = {"conv2d": ("x", "w", "b"), "conv2d_grad_input": ("dy", "w", "x"),
             "conv2d_grad_filter": ("dy", "x", "w")}[op]
    for name, shape in zip(names, shapes):
        g.input(name, shape)
    return g.text(g.op(op, *names[:len(shapes)], attrs=attrs))


def tol(want):
    # F(4x4, 3x3) and F(2x2, 5x5) round a little more than a direct sum: a few float32 ulps of
    # the output's magnitude (measured up to 8e-6 of the largest |value| on these shapes)
    return dict(rtol=1e-4, atol=3e-5 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:6])) + "-" + s[6])
def test_winograd_kernels_match_numpy(shape):
    B, H, W, C, k, F, padding = shape
    x, w, b = U(B, H, W, C), U(k, k, C, F), U(F)
    for op in ("conv2d_grad_filter",) + (("conv2d", "conv2d_grad_input") if C >= 16 else ()):
        assert method(op, x.shape, w.shape, padding).startswith("winograd F("), (op, shape)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)

    for act in ("linear", "relu"):
        attrs = {"padding": padding, "activation": act}
        (y,) = run(conv_graph("conv2d", [x.shape, w.shape, b.shape], attrs), [x, w, b])
        want = ref.conv2d(x64, w64, b.astype(np.float64), padding=padding, activation=act)
        assert_close(y, want, **tol(want), what="conv2d %s %s" % (act, shape))

    dy = U(*want.shape)
    attrs = {"padding": padding}
    (dx,) = run(conv_graph("conv2d_grad_input", [dy.shape, w.shape, x.shape], attrs), [dy, w, x])
    want_dx = ref.conv2d_grad_input(dy.astype(np.float64), w64, x64, padding=padding)
    assert_close(dx, want_dx, **tol(want_dx), what="conv2d_grad_input %s" % (shape,))
    (dw,) = run(conv_graph("conv2d_grad_filter", [dy.shape, x.shape, w.shape], attrs), [dy, x, w])
    want_dw = ref.conv2d_grad_filter(dy.astype(np.float64), x64, w64, padding=padding)
    assert_close(dw, want_dw, **tol(want_dw), what="conv2d_grad_filter %s" % (shape,))


@pytest.mark.parametrize("k,padding", [(3, "valid"), (5, "same")])
def test_winograd_gradients_match_central_differences(k, padding):
    x, w = U(1, 7, 6, 16), U(k, k, 16, 16)
    attrs = {"padding": padding}
    g, loss, c_shape = conv_loss_graph(x.shape, w.shape, attrs)
    c = U(*c_shape)
    assert method("conv2d_grad_filter", x.shape, w.shape, padding).startswith("winograd")
    _, d_x, d_w = run(_core.gradients(g.text(loss), ["x", "w"]), [x, w, c])
    x64, w64 = x.astype(np.float64), w.astype(np.float64)

    def loss64():
        return float(np.sum(ref.conv2d(x64, w64, padding=padding) * c))

    for got, arr, name in ((d_x, x64, "d/dx"), (d_w, w64, "d/dw")):
        num = numeric_grad(loss64, arr)
        assert_close(got, num, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(num).max()), what=name)


def test_the_method_follows_the_shape():
    x, same = (8, 32, 32, 16), {"padding": "same"}
    assert _core.conv2d_method("conv2d", list(x), [3, 3, 16, 16], same) == "winograd F(4x4,3x3)"
    assert _core.conv2d_method("conv2d", list(x), [5, 5, 16, 16], same) == "winograd F(2x2,5x5)"
    # few channels: the transforms' leftover channels run one at a time
    assert _core.conv2d_method("conv2d", list(x), [3, 3, 16, 8], same) == "im2col"
    assert _core.conv2d_method("conv2d", [8, 28, 28, 1], [3, 3, 1, 32], {}) == "direct"  # test_conv_direct.py
    assert _core.conv2d_method("conv2d_grad_filter", list(x), [3, 3, 16, 8], same) == "im2col"
    # the filter gradient needs 16 output channels only (the MNIST convnet's first convolution)
    assert _core.conv2d_method("conv2d_grad_filter", [8, 28, 28, 1], [3, 3, 1, 32], {}) == "direct"  # test_conv_direct
    assert _core.conv2d_method("conv2d_grad_filter", [8, 28, 28, 4], [3, 3, 4, 32], {}) == "winograd F(4x4,3x3)"
    # the data gradient correlates dy (F channels) into dx (C channels)
    assert _core.conv2d_method("conv2d_grad_input", [8, 28, 28, 1], [3, 3, 1, 32], {}) == "im2col"
    assert _core.conv2d_method("conv2d_grad_input", list(x), [3, 3, 16, 8], same) == "im2col"
    assert _core.conv2d_method("conv2d_grad_input", [8, 32, 32, 20], [3, 3, 20, 16], same) == "winograd F(4x4,3x3)"
    # strides, other kernel sizes, non-square kernels
    assert _core.conv2d_method("conv2d", list(x), [3, 3, 16, 16], {"padding": "same", "strides": [2, 2]}) == "im2col"
    assert _core.conv2d_method("conv2d", list(x), [7, 7, 16, 16], same) == "im2col"
    assert _core.conv2d_method("conv2d", list(x), [3, 5, 16, 16], same) == "im2col"
    assert _core.conv2d_method("conv2d", list(x), [1, 1, 16, 16], same) == "gemm"
