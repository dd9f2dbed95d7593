"""<act>_grad(d, x) folded into the pool2d_grad or conv2d_grad_input that made d from the same x
(passes/fuse_grad.cpp): {activation=act}, the derivative applied to each image or row of dx
while it is in cache. In a Conv(relu) -> Conv(relu) -> MaxPool training graph both relu
gradients fold. The fused graph must give what the unfused one gives (relu exactly), and the
fused kernels match NumPy (test_ops.py's "through-*" cases)."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, run  # noqa: E402

from kiln import _core  # noqa: E402

_rng = np.random.default_rng(2718)


def U(*shape):
    return _rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def loss_graph(act, C):
    """x -> conv 3x3 (act) -> conv 3x3 (act) -> 2x2 max pool -> sum(pool * c): C channels in, 16
    filters each (16+ input channels: both data gradients take the Winograd path; 3: im2col)."""
    g = Graph()
    g.input("x", (None, 12, 12, C))
    g.input("w1", (3, 3, C, 16))
    g.input("w2", (3, 3, 16, 16))
    g.input("c", (None, 4, 4, 16))
    h = g.op(act, g.op("conv2d", "x", "w1"))
    h = g.op(act, g.op("conv2d", h, "w2"))
    p = g.op("pool2d", h, attrs={"mode": "max", "pool": [2, 2]})
    return g.text(g.op("reduce_sum", g.op("mul", p, "c")))


@pytest.mark.parametrize("C", [16, 3])
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_both_activation_gradients_fold_and_give_the_unfused_result(act, C):
    text = _core.gradients(loss_graph(act, C), ["x", "w1", "w2"])
    fused = _core.optimize(text)
    assert act + "_grad" not in fused, fused
    assert 'pool2d_grad(' in fused and 'conv2d_grad_input(' in fused
    for line in fused.splitlines():
        if "pool2d_grad(" in line or ("conv2d_grad_input(" in line and "%w2" in line):
            assert 'activation="%s"' % act in line, line
    feeds = [U(4, 12, 12, C), U(3, 3, C, 16) * 0.5, U(3, 3, 16, 16) * 0.3, U(4, 4, 4, 16)]
    want = run(text, feeds)
    got = run(fused, feeds)
    assert len(got) == len(want) == 4
    for name, a, b in zip(("loss", "dx", "dw1", "dw2"), got, want):
        if act == "relu":
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:  # the same formula in another loop: an ulp apart (an FMA contraction), then
            # carried through the next layer's gradients
            assert_close(a, b, rtol=1e-5, atol=2e-5 * max(1.0, float(np.abs(b).max())), what=name)


def test_it_folds_only_the_gradient_of_the_same_x():
    g = Graph()
    g.input("x", (None, 6, 6, 4))
    g.input("z", (None, 6, 6, 4))
    g.input("dy", (None, 3, 3, 4))
    y = g.op("pool2d", "x", attrs={"mode": "max", "pool": [2, 2]})
    d = g.op("pool2d_grad", "dy", "x", y, attrs={"mode": "max", "pool": [2, 2]})
    other = g.op("relu_grad", d, "z")  # the derivative of another tensor's activation: stays
    assert "relu_grad" in _core.optimize(g.text(other))
    same = g.op("relu_grad", d, "x")
    # d read twice (by both relu_grads): the unscaled gradient is still needed, nothing folds
    out = _core.optimize(g.text(other, same))
    assert out.count("relu_grad") == 2, out
    g2 = Graph()
    g2.input("x", (None, 6, 6, 4))
    g2.input("dy", (None, 3, 3, 4))
    y2 = g2.op("pool2d", "x", attrs={"mode": "max", "pool": [2, 2]})
    d2 = g2.op("pool2d_grad", "dy", "x", y2, attrs={"mode": "max", "pool": [2, 2]})
    assert "relu_grad" not in _core.optimize(g2.text(g2.op("relu_grad", d2, "x")))
    # a graph output is never absorbed
    assert "relu_grad" in _core.optimize(g2.text(g2.op("relu_grad", d2, "x"), d2))


@pytest.mark.parametrize("op", ["pool2d_grad", "conv2d_grad_input"])
def test_softmax_or_an_unknown_activation_is_refused(op):
    g = Graph()
    g.input("x", (None, 6, 6, 4))
    if op == "pool2d_grad":
        g.input("dy", (None, 3, 3, 4))
        y = g.op("pool2d", "x", attrs={"mode": "max", "pool": [2, 2]})
        args, attrs = ("dy", "x", y), {"mode": "max", "pool": [2, 2]}
    else:
        g.input("dy", (None, 4, 4, 2))
        g.input("w", (3, 3, 4, 2))
        args, attrs = ("dy", "w", "x"), {}
    for act in ("softmax", "elu"):
        with pytest.raises(Exception, match="unsupported activation '%s' for a gradient taken through it" % act):
            g.op(op, *args, attrs=dict(attrs, activation=act))
