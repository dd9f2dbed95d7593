"""Hostile values through the ops added after the elementwise family (docs/reliability.md,
numerical guards): conv2d and its gradients with huge and non-finite inputs, the optimizer
updates with extreme gradients, and the recurrent and normalization layers on saturating
inputs. The elementwise, softmax, loss and pooling ops have theirs in test_ops.py (tag
"hostile")."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ophelpers import Graph, assert_close, ref, run  # noqa: E402
from test_optimizers import OPTIMIZERS, build  # noqa: E402

from kiln import _core  # noqa: E402

INF = np.inf
_rng = np.random.default_rng(77)


def U(*shape, lo=-1.0, hi=1.0):
    return _rng.uniform(lo, hi, size=shape).astype(np.float32)


def one_hostile_per_image(shape, values):
    """Image b holds values[b] at one position: windows see at most one hostile element, so
    the float64 reference and float32 GEMMs agree to rounding."""
    x = U(*shape)
    for b, v in enumerate(values):
        x[b, (2 * b + 1) % shape[1], (3 * b) % shape[2], b % shape[3]] = v
    return x


HOSTILE = [1e30, -1e30, INF, -INF, np.nan, 3e38]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_and_its_gradients_keep_ieee_specials_where_numpy_does(padding):
    x = one_hostile_per_image((len(HOSTILE), 6, 6, 2), HOSTILE)
    W = U(3, 3, 2, 3, lo=0.1, hi=1.0)  # nonzero: inf * w stays inf
    attrs = {"padding": padding}
    g = Graph()
    g.input("x", (None,) + x.shape[1:])
    g.param("W", W.shape)
    out = g.op("conv2d", "x", "W", attrs=attrs)
    store = _core.Store()
    store.set("W", W)
    with np.errstate(invalid="ignore", over="ignore"):
        want = ref.conv2d(x.astype(np.float64), W.astype(np.float64), padding=padding)
    (y,) = run(g.text(out), [x], store)
    assert_close(y, want, rtol=1e-5, mag=np.abs(want) + 9.0, what="conv2d")

    dy = one_hostile_per_image(want.shape, HOSTILE)
    for op, feeds, expect in (
            ("conv2d_grad_input", [dy, x], lambda: ref.conv2d_grad_input(dy.astype(np.float64), W.astype(np.float64),
                                                                         x, padding=padding)),
            ("conv2d_grad_filter", [dy, x], lambda: ref.conv2d_grad_filter(dy.astype(np.float64), x.astype(np.float64),
                                                                           W, padding=padding))):
        g = Graph()
        g.input("dy", (None,) + dy.shape[1:])
        g.input("x", (None,) + x.shape[1:])
        g.param("W", W.shape)
        args = ("dy", "W", "x") if op == "conv2d_grad_input" else ("dy", "x", "W")
        out = g.op(op, *args, attrs=attrs)
        with np.errstate(invalid="ignore", over="ignore"):
            e = expect()
        (got,) = run(g.text(out), feeds, store)
        assert_close(got, e, rtol=1e-5, mag=np.abs(e) + 50.0, what=op)


@pytest.mark.parametrize("op", sorted(OPTIMIZERS))
@pytest.mark.parametrize("scale", [1e30, 1e19, 1e-30], ids=["1e30", "1e19", "1e-30"])
def test_optimizers_with_extreme_gradients_match_float32_arithmetic(op, scale):
    """Gradients whose squares overflow float32 (1e30, 1e19) or underflow (1e-30): the update
    is what float32 arithmetic gives (the Keras formulas evaluated in float32, as TensorFlow
    does), and the parameter stays finite."""
    step, slot_names = OPTIMIZERS[op]
    shape = (3, 4)
    store = _core.Store()
    p = U(*shape)
    store.set("p", p)
    lr = np.float32(0.01)
    store.set("lr", np.array(lr, np.float32))
    store.set("it", np.array(0.0, np.float32))
    slots = [np.zeros(shape, np.float32) for _ in slot_names]
    for i, s in enumerate(slots):
        store.set("s%d" % i, s)
    nadam = op == "apply_nadam"
    if nadam:
        store.set("ms", np.array(1.0, np.float32))
    prog = _core.Program(store, build(op, shape, {}, len(slots)))
    w_p, w_slots, w_it, w_ms = p.copy(), [s.copy() for s in slots], np.float32(0), np.float32(1)
    for t in range(3):
        grad = (np.sign(U(*shape)) * np.float32(scale)).astype(np.float32)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            if nadam:
                w_p, *w_slots = step(w_p, grad, lr, w_it, *w_slots, w_ms)
                w_ms = np.float32(ref.nadam_schedule_step(w_ms, w_it))
            else:
                w_p, *w_slots = step(w_p, grad, lr, w_it, *w_slots)
        w_it = np.float32(w_it + 1)
        prog.run([grad])
        got = store.get("p")
        assert np.all(np.isfinite(got)), "%s step %d: the parameter became %s" % (op, t + 1, got)
        assert_close(got, np.asarray(w_p, np.float32), rtol=1e-4, atol=1e-6, what="%s step %d" % (op, t + 1))


def test_recurrent_layers_saturate_instead_of_overflowing():
    """Inputs of +-1e4 and +-1e30 drive every gate to 0 or 1 and every tanh to +-1: the outputs
    are finite and equal the Keras 1.2 equations in float64."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "graph"))
    from test_recurrent import np_rnn  # the float64 reference of the step equations
    from kiln.layers import GRU, LSTM, Input, SimpleRNN
    from kiln.models import Model
    x = U(4, 5, 3)
    x[0, 1, :] = 1e4
    x[1, 2, 0] = -1e4
    x[2, :, 1] = 1e30
    x[3, 4, 2] = -1e30
    for cls in (SimpleRNN, GRU, LSTM):
        np.random.seed(1)
        inp = Input(shape=(5, 3))
        layer = cls(4, return_sequences=True)
        m = Model(inp, layer(inp))
        got = m.predict(x)
        assert np.all(np.isfinite(got)), cls.__name__
        with np.errstate(over="ignore"):
            want = np_rnn(layer, x.astype(np.float64))
        assert_close(got, want, rtol=1e-5, atol=1e-6, what=cls.__name__)


def test_batch_normalization_with_a_huge_constant_feature_stays_finite():
    """A feature of 1e18 in every sample has variance 0 in exact arithmetic but x^2 overflows
    float32: the normalized output stays finite and the other features are untouched."""
    from kiln.layers import BatchNormalization, Input
    from kiln.models import Model
    np.random.seed(2)
    inp = Input(shape=(3,))
    m = Model(inp, BatchNormalization()(inp))
    m.compile(optimizer="sgd", loss="mse")
    x = U(16, 3)
    x[:, 0] = 1e18
    m.fit(x, np.zeros_like(x), nb_epoch=1, batch_size=16, verbose=0)
    out = m.predict(x)
    assert np.all(np.isfinite(out)), out[:2]
    assert np.all(np.isfinite(m.get_weights()[0]))
