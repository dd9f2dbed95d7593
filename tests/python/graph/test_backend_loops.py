"""K.cumsum, K.cumprod, K.map_fn, K.foldl, K.foldr (backend/folds.py): values against NumPy and
gradients against float64 central differences, through the triangular matmul and the scan op."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Input

from numeric import central_difference

_rng = np.random.RandomState(3)


def _grads(kfn, nfn, values):
    """d sum(f(x) * c) / d x for each value, kiln against central differences (batched placeholders)."""
    phs = [K.placeholder(shape=(None,) + v.shape[1:]) for v in values]
    out = kfn(*phs)
    cv = _rng.randn(*nfn(*values).shape)
    c = K.placeholder(shape=(None,) + cv.shape[1:]) if cv.ndim else K.placeholder(shape=())
    got = K.function(phs + [c], K.gradients(K.sum(out * c), phs))(list(values) + [cv])
    for i, g in enumerate(got):
        np.testing.assert_allclose(g, central_difference(lambda *xs: np.sum(nfn(*xs) * cv), values, i),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_cumsum_and_cumprod_along_an_axis_of_a_batched_tensor(axis):
    x = _rng.uniform(-1.5, 1.5, size=(2, 3, 4))
    x[0, 1, 2] = 0.0  # a zero in the product: exact, no log
    ph = K.placeholder(shape=(None, 3, 4))
    s, p = K.function([ph], [K.cumsum(ph, axis), K.cumprod(ph, axis)])([x])
    np.testing.assert_allclose(s, np.cumsum(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p, np.cumprod(x, axis), rtol=1e-5, atol=1e-6)
    assert K.int_shape(K.cumprod(ph, axis)) == (None, 3, 4)
    _grads(lambda t: K.cumsum(t, axis), lambda t: np.cumsum(t, axis), [x])
    _grads(lambda t: K.cumprod(t, axis), lambda t: np.cumprod(t, axis), [x])


def test_cumsum_and_cumprod_of_variables_default_to_axis_0():
    v = np.arange(1.0, 13.0).reshape(3, 4) / 4
    np.testing.assert_allclose(K.eval(K.cumsum(K.variable(v))), np.cumsum(v, 0), rtol=1e-6)
    np.testing.assert_allclose(K.eval(K.cumprod(K.variable(v))), np.cumprod(v, 0), rtol=1e-6)
    np.testing.assert_allclose(K.eval(K.cumprod(K.variable(v[0]))), np.cumprod(v[0]), rtol=1e-6)
    with pytest.raises(ValueError, match="must be known"):
        K.cumsum(K.placeholder(shape=(None, 3)), 0)  # the batch


def test_map_fn_over_a_known_axis_reads_captured_weights_and_differentiates():
    w = np.array([[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]])
    W = K.variable(w)
    elems = _rng.randn(5, 2, 3)  # five (2, 3) elements
    ph = K.placeholder(shape=(None, 5, 3))
    out = K.map_fn(lambda e: K.tanh(K.dot(e, W)), K.variable(elems))
    np.testing.assert_allclose(K.eval(out), np.tanh(elems @ w), rtol=1e-5, atol=1e-6)
    g, = K.gradients(K.sum(K.map_fn(lambda e: K.sum(K.square(K.dot(e, W))), K.variable(elems))), [W])
    np.testing.assert_allclose(K.eval(g), 2 * sum(e.T @ (e @ w) for e in elems), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="is the batch"):
        K.map_fn(lambda e: e, ph)


def test_foldl_and_foldr_with_and_without_an_initializer():
    v = _rng.uniform(0.5, 1.5, size=(4, 3))
    V = K.variable(v)
    np.testing.assert_allclose(K.eval(K.foldl(lambda a, e: a + e, V)), v.sum(0), rtol=1e-5)
    np.testing.assert_allclose(K.eval(K.foldr(lambda a, e: a + e, V)), v.sum(0), rtol=1e-5)
    # order matters for a * 2 + e: foldl weights elems[0] most, foldr elems[-1]
    left = np.zeros(3)
    for row in v:
        left = left * 2 + row
    right = np.zeros(3)
    for row in v[::-1]:
        right = right * 2 + row
    np.testing.assert_allclose(K.eval(K.foldl(lambda a, e: a * 2 + e, V, K.zeros((3,)))), left, rtol=1e-5)
    np.testing.assert_allclose(K.eval(K.foldr(lambda a, e: a * 2 + e, V, K.zeros((3,)))), right, rtol=1e-5)
    np.testing.assert_allclose(K.eval(K.foldr(lambda a, e: a * 2 + e, V)),
                               ((v[3] * 2 + v[2]) * 2 + v[1]) * 2 + v[0], rtol=1e-5)
    # the accumulator may differ in shape from the elements: a scalar running product of row sums
    np.testing.assert_allclose(K.eval(K.foldl(lambda a, e: a * K.sum(e), V, K.variable(1.0))),
                               np.prod(v.sum(1)), rtol=1e-5)


def test_foldl_gradients_reach_the_elements_and_the_initializer():
    def k(elems, init):
        return K.foldl(lambda a, e: K.tanh(a * e + e), elems, init)

    def n(elems, init):
        a = init
        for e in elems:
            a = np.tanh(a * e + e)
        return a

    elems, init = _rng.randn(4, 3), _rng.randn(3)
    E, I = K.variable(elems), K.variable(init)
    c = _rng.randn(3)
    gE, gI = K.gradients(K.sum(k(E, I) * K.variable(c)), [E, I])
    f = lambda e, i: np.sum(n(e, i) * c)  # noqa: E731
    np.testing.assert_allclose(K.eval(gE), central_difference(f, [elems, init], 0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(K.eval(gI), central_difference(f, [elems, init], 1), rtol=1e-4, atol=1e-5)


def test_loops_over_the_batch_axis_are_refused_naming_the_shape():
    for loop in (lambda x: K.map_fn(lambda e: e, x), lambda x: K.foldl(lambda a, e: a + e, x),
                 lambda x: K.foldr(lambda a, e: a + e, x)):
        with pytest.raises(ValueError, match=r"the batch in \(None, 4\)"):
            loop(Input(batch_shape=(3, 4)))
