"""conv2d {pool}: a max pool2d whose windows tile its input folded into the convolution before it
(passes/fuse_pool.cpp) when nothing else reads the convolution's result, as in every predict
graph of a Conv -> MaxPooling model. The fused kernel pools Winograd output tiles in cache, or
pools a scratch copy of the whole result for the other methods: both must give exactly what the
two unfused kernels give, NaNs included, and match NumPy."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, ref, run  # noqa: E402

from kiln import _core  # noqa: E402

_rng = np.random.default_rng(1618)

# (B, H, W, C, k, F, conv padding, pool): Winograd tiles pooled in place (3x3 with pools dividing
# 4, 5x5 with 2), Winograd through scratch (pools that do not divide the tile), im2col, 1x1
CASES = [
    (2, 12, 12, 16, 3, 16, "valid", (2, 2)),
    (3, 13, 11, 16, 3, 32, "same", (2, 2)),   # odd sizes: the last row and column are dropped
    (1, 18, 18, 16, 3, 16, "valid", (4, 4)),
    (2, 10, 9, 16, 3, 16, "same", (2, 1)),
    (2, 11, 11, 16, 5, 16, "same", (2, 2)),
    (2, 12, 12, 16, 3, 16, "same", (3, 3)),   # 3 does not divide the 4x4 tile
    (2, 9, 9, 1, 3, 8, "valid", (2, 2)),      # im2col
    (2, 6, 8, 4, 1, 5, "valid", (2, 2)),      # 1x1
]


def U(*shape):
    return _rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def graphs(shape):
    B, H, W, C, k, F, padding, pool = shape
    g = Graph()
    g.input("x", (B, H, W, C))
    g.input("w", (k, k, C, F))
    g.input("b", (F,))
    attrs = {"padding": padding, "activation": "relu"}
    fused = g.op("conv2d", "x", "w", "b", attrs=dict(attrs, pool=list(pool)))
    text_fused = g.text(fused)
    g2 = Graph()
    g2.input("x", (B, H, W, C))
    g2.input("w", (k, k, C, F))
    g2.input("b", (F,))
    y = g2.op("pool2d", g2.op("conv2d", "x", "w", "b", attrs=attrs), attrs={"mode": "max", "pool": list(pool)})
    return text_fused, g2.text(y)


@pytest.mark.parametrize("shape", CASES, ids=lambda s: "%dx%d-k%d-%s-pool%dx%d" % (s[1], s[2], s[4], s[6], *s[7]))
def test_a_fused_pool_gives_what_conv_then_pool_gives(shape):
    B, H, W, C, k, F, padding, pool = shape
    x, w, b = U(B, H, W, C), U(k, k, C, F), U(F)
    x[0, 1, 2, 0] = np.nan  # a NaN wins its windows in both
    fused_text, unfused_text = graphs(shape)
    # _core.Program runs a graph as written (no passes): the fused kernel against the two
    (got,) = run(fused_text, [x, w, b])
    (want,) = run(unfused_text, [x, w, b])
    np.testing.assert_array_equal(got, want)
    xc = np.nan_to_num(x, nan=0.0).astype(np.float64)
    x[0, 1, 2, 0] = 0.0
    (clean,) = run(fused_text, [x, w, b])
    expect = ref.pool2d(ref.conv2d(xc, w.astype(np.float64), b.astype(np.float64), padding=padding,
                                   activation="relu"), "max", list(pool), list(pool), "valid")
    assert_close(clean, expect, rtol=1e-4, atol=3e-5 * max(1.0, float(np.abs(expect).max())), what=str(shape))


def conv_pool_text(pool_attrs, extra_output=False):
    g = Graph()
    g.input("x", (None, 10, 10, 16))
    g.input("w", (3, 3, 16, 16))
    c = g.op("relu", g.op("conv2d", "x", "w"))
    y = g.op("pool2d", c, attrs=pool_attrs)
    return g.text(y, c) if extra_output else g.text(y)


def test_the_pass_folds_a_tiling_max_pool_only():
    tiling = {"mode": "max", "pool": [2, 2]}
    out = _core.optimize(conv_pool_text(tiling))
    assert "pool2d" not in out and "pool=[2,2]" in out, out
    assert "pool=[2,2]" in _core.optimize(conv_pool_text(dict(tiling, strides=[2, 2])))
    for attrs in ({"mode": "avg", "pool": [2, 2]}, {"mode": "max", "pool": [2, 2], "strides": [1, 1]},
                  {"mode": "max", "pool": [2, 2], "padding": "same"}):
        assert "pool2d" in _core.optimize(conv_pool_text(attrs)), attrs
    # the convolution's result read elsewhere (here: a graph output) stays as it is
    assert "pool2d" in _core.optimize(conv_pool_text(tiling, extra_output=True))


def test_a_fused_pool_has_no_gradient():
    g = Graph()
    g.input("x", (None, 8, 8, 16))
    g.input("w", (3, 3, 16, 16))
    y = g.op("conv2d", "x", "w", attrs={"pool": [2, 2]})
    loss = g.op("reduce_sum", y)
    with pytest.raises(Exception, match="fused pool has no gradient"):
        _core.gradients(g.text(loss), ["w"])


def test_a_pool_larger_than_the_result_is_refused():
    g = Graph()
    g.input("x", (None, 4, 4, 16))
    g.input("w", (3, 3, 16, 16))
    with pytest.raises(Exception, match="pool is larger than the result"):
        g.op("conv2d", "x", "w", attrs={"pool": [3, 3]})
