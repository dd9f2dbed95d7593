"""conv2d and pool2d in whole graphs: the golden tests/ir/conv.kir (conv -> bias_add -> relu ->
max pool) run and differentiated end to end, and both ops on a folded batch ?*T (the
TimeDistributed(Convolution2D) shape). Per-op forward and gradient cases live in test_ops.py
and test_grads.py; this file checks that the pieces compose."""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, ref, run  # noqa: E402

from numeric import numeric_grad  # noqa: E402
from kiln import _core  # noqa: E402

GOLDEN_CONV = pathlib.Path(__file__).resolve().parents[2] / "ir" / "conv.kir"
_rng = np.random.default_rng(4242)


def U(*shape, lo=-1.0, hi=1.0):
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def _conv_numpy(image, W, b):
    """tests/ir/conv.kir in NumPy."""
    z = np.maximum(ref.conv2d(image, W, strides=(1, 1), padding="same") + b, 0.0)
    return ref.pool2d(z, "max", [2, 2], [2, 2], "valid")




def test_golden_conv_graph_runs_and_differentiates():
    text = GOLDEN_CONV.read_text()
    image, W, b = U(3, 9, 8, 1), U(3, 3, 1, 4), U(4, lo=0.1, hi=0.3)
    store = _core.Store()
    store.set("conv_W", W)
    store.set("conv_b", b)
    (pool,) = run(text, [image], store)
    img64, W64, b64 = image.astype(np.float64), W.astype(np.float64), b.astype(np.float64)
    assert pool.shape == (3, 4, 4, 4)
    assert_close(pool, _conv_numpy(img64, W64, b64), rtol=1e-5, atol=1e-6, what="%pool")

    c = U(3, 4, 4, 4)
    loss_text = text.replace("  param %conv_W", "  input %cot : f32[?,4,4,4]\n  param %conv_W").replace(
        "  output %pool\n",
        "  %pc = mul(%pool, %cot) : f32[?,4,4,4]\n  %loss = reduce_sum(%pc) : f32[]\n  output %loss\n")
    loss, d_image, d_W, d_b = run(_core.gradients(loss_text, ["image", "conv_W", "conv_b"]), [image, c], store)

    def loss64():
        return float(np.sum(_conv_numpy(img64, W64, b64) * c))

    assert_close(loss, loss64(), rtol=1e-5, what="loss")
    for got, arr, name in ((d_image, img64, "d/dimage"), (d_W, W64, "d/dconv_W"), (d_b, b64, "d/dconv_b")):
        num = numeric_grad(loss64, arr)
        assert_close(got, num, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(num).max()), what=name)


def _folded_graph(T, attrs_conv, attrs_pool):
    """[?, T, H, W, C] -> merge_batch -> conv2d -> pool2d -> split_batch -> [?, T, ...] (loss)."""
    g = Graph()
    g.input("x", (None, T, 6, 7, 3))
    g.input("W", (3, 3, 3, 5))
    m = g.op("merge_batch", "x")
    y = g.op("pool2d", g.op("conv2d", m, "W", attrs=attrs_conv), attrs=attrs_pool)
    out = g.op("split_batch", y, attrs={"size": T})
    g.input("c", g.types[out][1])
    loss = g.op("reduce_sum", g.op("mul", out, "c"))
    return g, m, out, loss


def test_conv_and_pool_on_a_folded_batch():
    T = 2
    attrs_conv = {"strides": [2, 1], "padding": "same"}
    attrs_pool = {"mode": "avg", "pool": [2, 3], "padding": "same"}
    g, m, out, loss = _folded_graph(T, attrs_conv, attrs_pool)
    assert g.types[m][1][0] == -T, "merge_batch should give ?*%d, got %s" % (T, g.types[m])
    x, W = U(3, T, 6, 7, 3), U(3, 3, 3, 5)

    def forward(x64, W64):
        y = ref.pool2d(ref.conv2d(x64.reshape((-1,) + x64.shape[2:]), W64, **attrs_conv), **attrs_pool)
        return y.reshape((x64.shape[0], T) + y.shape[1:])

    want = forward(x.astype(np.float64), W.astype(np.float64))
    c = U(*want.shape)
    (got,) = run(g.text(out), [x, W, c])
    assert_close(got, want, rtol=1e-5, atol=1e-6, what="folded forward")

    _, d_x, d_W = run(_core.gradients(g.text(loss), ["x", "W"]), [x, W, c])
    x64, W64 = x.astype(np.float64), W.astype(np.float64)

    def loss64():
        return float(np.sum(forward(x64, W64) * c))

    for got, arr, name in ((d_x, x64, "d/dx"), (d_W, W64, "d/dW")):
        num = numeric_grad(loss64, arr)
        assert_close(got, num, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(num).max()), what=name)
