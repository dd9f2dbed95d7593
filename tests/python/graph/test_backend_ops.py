"""The symbolic ops of `kiln.backend` that issue 3 (item 6) names, each against NumPy through
`K.function` (or `K.eval` where no placeholder is involved); gradients of the shape ops, gather,
batch_dot, prod and pow through `K.gradients` against float64 central differences; and each op on
a value that is not a kiln tensor (a string, a list) raising a TypeError that names the op and
the value. Placeholders have a batch dim (None) unless the case says otherwise; values are fed
with batch 2."""
import numpy as np
import pytest

from numeric import central_difference
from kiln import backend as K

_rng = np.random.RandomState(0)
X = _rng.uniform(-2.0, 2.0, size=(2, 3, 4))  # any sign, no ties (max/min/argmax are well defined)
P = _rng.uniform(0.5, 1.5, size=(2, 3, 4))  # positive: log, sqrt, division, powers, prod
Z = _rng.randint(0, 3, size=(2, 3, 4)).astype(np.float64)  # small integers: comparisons with ties
Z2 = _rng.randint(0, 3, size=(2, 3, 4)).astype(np.float64)
VALUES = {"x": X, "p": P, "z": Z, "w": Z2}


def _check(got, expected, rtol=1e-5, atol=1e-6):
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, "shape: expected %s, got %s" % (expected.shape, got.shape)
    assert got.dtype == np.float32, got.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def _run(fn, names="xp", shape=(None, 3, 4)):
    """fn(*placeholders) through K.function, fed with VALUES[name] for each placeholder."""
    phs = [K.placeholder(shape=shape) for _ in names]
    out = fn(*phs)
    got = K.function(phs, [out])([VALUES[n] for n in names])[0]
    return out, got


def _case_ids(cases):
    return [c[0] for c in cases]


def test_every_op_the_issue_names_exists():
    names = ("square sqrt abs exp log pow clip maximum minimum mean sum max min prod std var dot batch_dot "
             "transpose reshape permute_dimensions expand_dims squeeze concatenate stack repeat tile flatten "
             "batch_flatten gather one_hot argmax equal greater less cast sigmoid tanh relu softmax softplus "
             "l2_normalize epsilon int_shape ndim shape variable constant zeros ones repeat_elements "
             "categorical_crossentropy sparse_categorical_crossentropy binary_crossentropy").split()
    assert [n for n in names if not callable(getattr(K, n, None))] == []


# ---------------------------------------------------------------------------------------------
# Arithmetic operators, with numbers on either side.

ARITHMETIC = [
    ("x+p", lambda x, p: x + p, lambda x, p: x + p),
    ("x+2", lambda x, p: x + 2, lambda x, p: x + 2),
    ("2+x", lambda x, p: 2 + x, lambda x, p: 2 + x),
    ("x-p", lambda x, p: x - p, lambda x, p: x - p),
    ("x-2.5", lambda x, p: x - 2.5, lambda x, p: x - 2.5),
    ("2.5-x", lambda x, p: 2.5 - x, lambda x, p: 2.5 - x),
    ("x*p", lambda x, p: x * p, lambda x, p: x * p),
    ("x*3", lambda x, p: x * 3, lambda x, p: x * 3),
    ("3*x", lambda x, p: 3 * x, lambda x, p: 3 * x),
    ("x/p", lambda x, p: x / p, lambda x, p: x / p),
    ("x/4", lambda x, p: x / 4, lambda x, p: x / 4),
    ("4/p", lambda x, p: 4 / p, lambda x, p: 4 / p),
    ("-x", lambda x, p: -x, lambda x, p: -x),
    ("-(x-p)*2", lambda x, p: -(x - p) * 2, lambda x, p: -(x - p) * 2),
    ("np.float32(3)-x", lambda x, p: np.float32(3) - x, lambda x, p: 3 - x),
    ("x*np.float64(0.5)", lambda x, p: x * np.float64(0.5), lambda x, p: x * 0.5),
    ("x**2", lambda x, p: x ** 2, lambda x, p: x ** 2),
    ("p**0.5", lambda x, p: p ** 0.5, lambda x, p: p ** 0.5),
    ("x**3", lambda x, p: x ** 3, lambda x, p: x ** 3),
    ("(x+p)/(p*p)-1", lambda x, p: (x + p) / (p * p) - 1, lambda x, p: (x + p) / (p * p) - 1),
]


@pytest.mark.parametrize("name,kfn,nfn", ARITHMETIC, ids=_case_ids(ARITHMETIC))
def test_arithmetic_operator(name, kfn, nfn):
    out, got = _run(kfn)
    assert tuple(out.shape) == (None, 3, 4)
    _check(got, nfn(X, P))


def test_arithmetic_broadcasts_a_variable_over_the_batch():
    bias = np.array([1.0, -2.0, 0.5, 3.0])
    full = _rng.randn(3, 4)
    out, got = _run(lambda x: (x + K.variable(bias)) * K.variable(full), names="x")
    assert tuple(out.shape) == (None, 3, 4)
    _check(got, (X + bias) * full)


def test_number_to_the_power_of_a_tensor():
    _, got = _run(lambda x: 2.0 ** x, names="x")
    _check(got, 2.0 ** X)


# ---------------------------------------------------------------------------------------------
# Elementwise functions and comparisons.

ELEMENTWISE = [
    ("square", "x", lambda x: K.square(x), lambda x: x ** 2),
    ("sqrt", "p", lambda p: K.sqrt(p), np.sqrt),
    ("sqrt-negative-is-0", "x", lambda x: K.sqrt(x), lambda x: np.sqrt(np.maximum(x, 0))),  # Keras clips at 0
    ("abs", "x", lambda x: K.abs(x), np.abs),
    ("exp", "x", lambda x: K.exp(x), np.exp),
    ("log", "p", lambda p: K.log(p), np.log),
    ("pow-3", "x", lambda x: K.pow(x, 3), lambda x: x ** 3),
    ("pow-2", "x", lambda x: K.pow(x, 2), lambda x: x ** 2),
    ("pow-0.5", "p", lambda p: K.pow(p, 0.5), np.sqrt),
    ("pow--1.5", "p", lambda p: K.pow(p, -1.5), lambda p: p ** -1.5),
    ("pow-tensor", "px", lambda p, x: K.pow(p, x), lambda p, x: p ** x),
    ("clip", "x", lambda x: K.clip(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0)),
    ("clip-max<min", "x", lambda x: K.clip(x, 0.5, -0.5), lambda x: np.full_like(x, 0.5)),  # Keras: max = min
    ("maximum", "xp", lambda x, p: K.maximum(x, p), np.maximum),
    ("maximum-number", "x", lambda x: K.maximum(x, 0.3), lambda x: np.maximum(x, 0.3)),
    ("minimum", "xp", lambda x, p: K.minimum(x, p), np.minimum),
    ("minimum-number-first", "x", lambda x: K.minimum(0.3, x), lambda x: np.minimum(x, 0.3)),
    ("sigmoid", "x", lambda x: K.sigmoid(x), lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", "x", lambda x: K.tanh(x), np.tanh),
    ("relu", "x", lambda x: K.relu(x), lambda x: np.maximum(x, 0)),
    ("relu-alpha", "x", lambda x: K.relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    ("relu-max_value", "x", lambda x: K.relu(x, max_value=1.0), lambda x: np.clip(x, 0, 1.0)),
    ("relu-alpha-max_value", "x", lambda x: K.relu(x, alpha=0.2, max_value=1.5),
     lambda x: np.minimum(np.where(x > 0, x, 0.2 * x), 1.5)),
    ("softplus", "x", lambda x: K.softplus(x), lambda x: np.log1p(np.exp(x))),
    ("softmax", "x", lambda x: K.softmax(x), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ("l2_normalize-axis=-1", "x", lambda x: K.l2_normalize(x, axis=-1),
     lambda x: x / np.sqrt((x ** 2).sum(-1, keepdims=True))),
    ("l2_normalize-axis=1", "x", lambda x: K.l2_normalize(x, axis=1),
     lambda x: x / np.sqrt((x ** 2).sum(1, keepdims=True))),
    ("equal", "zw", lambda z, w: K.equal(z, w), lambda z, w: (z == w)),
    ("equal-number", "z", lambda z: K.equal(z, 1.0), lambda z: (z == 1.0)),
    ("greater", "zw", lambda z, w: K.greater(z, w), lambda z, w: (z > w)),
    ("greater-number", "x", lambda x: K.greater(x, 0.0), lambda x: (x > 0)),
    ("less", "zw", lambda z, w: K.less(z, w), lambda z, w: (z < w)),
    ("less-number", "x", lambda x: K.less(x, 0.5), lambda x: (x < 0.5)),
    ("cast", "x", lambda x: K.cast(K.greater(x, 0.0), "float32") * 2.0, lambda x: (x > 0) * 2.0),
]


@pytest.mark.parametrize("name,names,kfn,nfn", ELEMENTWISE, ids=_case_ids(ELEMENTWISE))
def test_elementwise_op(name, names, kfn, nfn):
    out, got = _run(kfn, names=names)
    assert tuple(out.shape) == (None, 3, 4)
    _check(got, nfn(*[VALUES[n] for n in names]).astype(np.float64))


def test_softmax_of_a_matrix_and_hostile_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4], [-5.0, 2.0, 0.5]])
    p = K.placeholder(shape=(None, 3))
    got = K.function([p], [K.softmax(p)])([logits])[0]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    _check(got, e / e.sum(-1, keepdims=True))


# ---------------------------------------------------------------------------------------------
# Reductions: axis None / int / negative / list, keepdims.

REDUCTIONS = {
    "mean": (K.mean, np.mean), "sum": (K.sum, np.sum), "max": (K.max, np.max), "min": (K.min, np.min),
    "prod": (K.prod, np.prod), "std": (K.std, np.std), "var": (K.var, np.var),
}
AXES = [None, 1, -1, 2, [1, 2], [-1, 1], 0]


@pytest.mark.parametrize("keepdims", [False, True], ids=["keepdims=0", "keepdims=1"])
@pytest.mark.parametrize("axis", AXES, ids=["axis=%s" % str(a).replace(" ", "") for a in AXES])
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_reduction(op, axis, keepdims):
    kop, nop = REDUCTIONS[op]
    data = P if op == "prod" else X
    x = K.placeholder(shape=(None, 3, 4))
    out = kop(x, axis=axis, keepdims=keepdims)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = nop(data, axis=np_axis, keepdims=keepdims)
    got = K.function([x], [out])([data])[0]
    _check(got, expected, rtol=1e-5, atol=1e-5)
    # The static shape: the batch dim stays None unless the batch axis is reduced.
    reduces_batch = axis is None or axis == 0
    assert tuple(out.shape) == (expected.shape if reduces_batch else (None,) + expected.shape[1:])


def test_reductions_of_a_variable_with_k_eval():
    value = np.arange(1.0, 7.0).reshape(2, 3)
    v = K.variable(value)
    _check(K.eval(K.sum(v)), value.sum())
    _check(K.eval(K.mean(v, axis=0)), value.mean(0))
    _check(K.eval(K.prod(v, axis=-1, keepdims=True)), value.prod(-1, keepdims=True))
    _check(K.eval(K.std(v, axis=1)), value.std(1))
    _check(K.eval(K.var(v)), value.var())
    _check(K.eval(K.max(v, axis=[0, 1])), value.max())


# ---------------------------------------------------------------------------------------------
# dot and batch_dot.

def test_dot_of_2d_and_3d_x_with_a_matrix():
    W = _rng.randn(4, 5)
    w = K.variable(W)
    a = K.placeholder(shape=(None, 4))
    b = K.placeholder(shape=(None, 3, 4))
    out2, out3 = K.dot(a, w), K.dot(b, w)
    assert tuple(out2.shape) == (None, 5) and tuple(out3.shape) == (None, 3, 5)
    A = X[:, 0, :]
    got2, got3 = K.function([a, b], [out2, out3])([A, X])
    _check(got2, A @ W, atol=1e-5)
    _check(got3, X @ W, atol=1e-5)
    M = _rng.randn(3, 4)
    _check(K.eval(K.dot(K.variable(M), w)), M @ W, atol=1e-5)


BATCH_DOT = [
    ("2D.2D-default", (4,), (4,), None, (None, 1), lambda a, b: (a * b).sum(-1, keepdims=True)),
    ("2D.2D-axes=1", (4,), (4,), 1, (None, 1), lambda a, b: (a * b).sum(-1, keepdims=True)),
    ("3D.3D-axes=(2,2)", (3, 4), (5, 4), (2, 2), (None, 3, 5), lambda a, b: np.einsum("bik,bjk->bij", a, b)),
    ("3D.3D-axes=(1,1)", (3, 4), (3, 5), (1, 1), (None, 4, 5), lambda a, b: np.einsum("bki,bkj->bij", a, b)),
    ("3D.3D-default", (3, 4), (4, 5), None, (None, 3, 5), lambda a, b: a @ b),
    ("3D.3D-axes=[2,1]", (3, 4), (4, 5), [2, 1], (None, 3, 5), lambda a, b: a @ b),
    ("3D.3D-axes=(-1,-1)", (3, 4), (5, 4), (-1, -1), (None, 3, 5), lambda a, b: np.einsum("bik,bjk->bij", a, b)),
    ("3D.2D-default", (3, 4), (4,), None, (None, 3), lambda a, b: np.einsum("bik,bk->bi", a, b)),
    ("3D.2D-axes=(1,1)", (3, 4), (3,), (1, 1), (None, 4), lambda a, b: np.einsum("bki,bk->bi", a, b)),
]


@pytest.mark.parametrize("name,sa,sb,axes,shape,ref", BATCH_DOT, ids=_case_ids(BATCH_DOT))
def test_batch_dot(name, sa, sb, axes, shape, ref):
    a, b = K.placeholder(shape=(None,) + sa), K.placeholder(shape=(None,) + sb)
    out = K.batch_dot(a, b) if axes is None else K.batch_dot(a, b, axes=axes)
    assert tuple(out.shape) == shape
    va, vb = _rng.randn(2, *sa), _rng.randn(2, *sb)
    _check(K.function([a, b], [out])([va, vb])[0], ref(va, vb), atol=1e-5)


def test_batch_dot_dimension_mismatch_names_both_shapes():
    a, b = K.placeholder(shape=(None, 3, 4)), K.placeholder(shape=(None, 5, 6))
    with pytest.raises(ValueError, match=r"K\.batch_dot.*4 != 6"):
        K.batch_dot(a, b, axes=(2, 2))


# ---------------------------------------------------------------------------------------------
# Shape ops.

SHAPE_OPS = [
    ("reshape-(-1,12)", lambda x: K.reshape(x, (-1, 12)), lambda x: x.reshape(2, 12), (None, 12)),
    ("reshape-(-1,2,6)", lambda x: K.reshape(x, (-1, 2, 6)), lambda x: x.reshape(2, 2, 6), (None, 2, 6)),
    ("reshape-(None,6,-1)", lambda x: K.reshape(x, (None, 6, -1)), lambda x: x.reshape(2, 6, 2), (None, 6, 2)),
    ("permute_dimensions-(0,2,1)", lambda x: K.permute_dimensions(x, (0, 2, 1)), lambda x: x.transpose(0, 2, 1),
     (None, 4, 3)),
    ("expand_dims-1", lambda x: K.expand_dims(x, 1), lambda x: x[:, None], (None, 1, 3, 4)),
    ("expand_dims-default", lambda x: K.expand_dims(x), lambda x: x[..., None], (None, 3, 4, 1)),
    ("expand_dims--2", lambda x: K.expand_dims(x, -2), lambda x: x[:, :, None], (None, 3, 1, 4)),
    ("squeeze-2", lambda x: K.squeeze(K.reshape(x, (-1, 3, 1, 4)), 2), lambda x: x, (None, 3, 4)),
    ("squeeze--1", lambda x: K.squeeze(K.expand_dims(x), -1), lambda x: x, (None, 3, 4)),
    ("concatenate-axis=-1", lambda x: K.concatenate([x, 2 * x, -x], axis=-1),
     lambda x: np.concatenate([x, 2 * x, -x], axis=-1), (None, 3, 12)),
    ("concatenate-axis=1", lambda x: K.concatenate([x, 2 * x]), lambda x: np.concatenate([x, 2 * x], axis=-1),
     (None, 3, 8)),
    ("concatenate-axis=-2", lambda x: K.concatenate([x, K.square(x)], axis=-2),
     lambda x: np.concatenate([x, x ** 2], axis=-2), (None, 6, 4)),
    ("stack-axis=1", lambda x: K.stack([x, -x], axis=1), lambda x: np.stack([x, -x], axis=1), (None, 2, 3, 4)),
    ("stack-axis=-1", lambda x: K.stack([x, -x, x], axis=-1), lambda x: np.stack([x, -x, x], axis=-1),
     (None, 3, 4, 3)),
    ("repeat_elements-axis=1", lambda x: K.repeat_elements(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1),
     (None, 6, 4)),
    ("repeat_elements-axis=-1", lambda x: K.repeat_elements(x, 3, axis=-1), lambda x: np.repeat(x, 3, axis=-1),
     (None, 3, 12)),
    ("tile-(1,2,3)", lambda x: K.tile(x, (1, 2, 3)), lambda x: np.tile(x, (1, 2, 3)), (None, 6, 12)),
    ("batch_flatten", lambda x: K.batch_flatten(x), lambda x: x.reshape(2, 12), (None, 12)),
    ("flatten", lambda x: K.flatten(x), lambda x: x.reshape(-1), (None,)),
    ("argmax", lambda x: K.argmax(x), lambda x: x.argmax(-1), (None, 3)),
    ("argmax-axis=1", lambda x: K.argmax(x, axis=1), lambda x: x.argmax(1), (None, 4)),
]


@pytest.mark.parametrize("name,kfn,nfn,shape", SHAPE_OPS, ids=_case_ids(SHAPE_OPS))
def test_shape_op(name, kfn, nfn, shape):
    out, got = _run(kfn, names="x")
    assert tuple(out.shape) == shape
    _check(got, nfn(X))


def test_transpose():
    M = _rng.randn(3, 4)
    _check(K.eval(K.transpose(K.variable(M))), M.T)
    a = K.placeholder(shape=(None, 4))
    t = K.transpose(a)
    assert tuple(t.shape) == (4, None)
    _check(K.function([a], [t])([X[:, 0]])[0], X[:, 0].T)
    _check(K.eval(K.transpose(K.variable(X))), X.transpose(2, 1, 0))


def test_repeat_makes_a_time_axis():
    a = K.placeholder(shape=(None, 4))
    out = K.repeat(a, 3)
    assert tuple(out.shape) == (None, 3, 4)
    _check(K.function([a], [out])([X[:, 0]])[0], np.repeat(X[:, 0][:, None], 3, axis=1))


def test_stack_and_reshape_of_variables():
    a, b = np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)
    _check(K.eval(K.stack([K.variable(a), K.variable(b)])), np.stack([a, b]))
    _check(K.eval(K.reshape(K.variable(a), (3, -1))), a.reshape(3, 2))
    _check(K.eval(K.flatten(K.variable(a))), a.ravel())


def test_gather_and_one_hot():
    W = _rng.randn(6, 5)
    idx = np.array([[0, 5, 2], [3, 3, 1]], dtype=np.float64)
    i = K.placeholder(shape=(None, 3))
    rows = K.gather(K.variable(W), i)
    hot = K.one_hot(i, 6)
    assert tuple(rows.shape) == (None, 3, 5) and tuple(hot.shape) == (None, 3, 6)
    got_rows, got_hot = K.function([i], [rows, hot])([idx])
    _check(got_rows, W[idx.astype(int)])
    _check(got_hot, np.eye(6)[idx.astype(int)])
    _check(K.eval(K.gather(K.variable(W), K.variable(np.array([4.0, 0.0])))), W[[4, 0]])
    _check(K.eval(K.one_hot(K.variable(np.array([2.0, 0.0])), nb_classes=3)), np.eye(3)[[2, 0]])


def test_gather_and_one_hot_with_int32_indices():
    W = _rng.randn(6, 5)
    i = K.placeholder(shape=(None, 3), dtype="int32")
    rows, hot = K.gather(K.variable(W), i), K.one_hot(i, 6)
    idx = np.array([[0, 5, 2], [3, 3, 1]], dtype=np.int32)
    got_rows, got_hot = K.function([i], [rows, hot])([idx])
    _check(got_rows, W[idx])
    _check(got_hot, np.eye(6)[idx])


def test_cast_of_an_int32_tensor_to_float32():
    i = K.placeholder(shape=(None, 3), dtype="int32")
    out = K.cast(i, "float32") * 2.0
    assert out.dtype == "float32"
    _check(K.function([i], [out])([np.array([[1, 2, 3]], np.int32)])[0], [[2.0, 4.0, 6.0]])


def test_static_and_runtime_shapes():
    x = K.placeholder(shape=(None, 3, 4))
    assert K.int_shape(x) == (None, 3, 4) and K.ndim(x) == 3
    assert K.int_shape(K.variable(np.zeros((2, 5)))) == (2, 5) and K.ndim(K.variable(np.zeros((2, 5)))) == 2
    assert K.int_shape(K.sum(x, axis=1)) == (None, 4)
    assert K.ndim(K.placeholder(ndim=4)) == 4
    s = K.shape(x)  # the run-time shape, batch included
    assert K.ndim(s) == 1
    _check(K.function([x], [s])([X])[0], [2, 3, 4])
    _check(K.eval(K.shape(K.variable(np.zeros((2, 5))))), [2, 5])


def test_variable_constant_zeros_ones_epsilon():
    value = _rng.randn(2, 3)
    v = K.variable(value, name="my_variable")
    assert K.int_shape(v) == (2, 3) and v.name == "my_variable"
    _check(K.eval(v), value)
    _check(K.eval(K.constant(2.5)), 2.5)
    _check(K.eval(K.constant([1.0, 2.0, 3.0])), [1.0, 2.0, 3.0])
    _check(K.eval(K.constant(7.0, shape=(2, 2))), np.full((2, 2), 7.0))
    _check(K.eval(K.constant(value) * 2.0 + K.zeros((2, 3)) - K.ones((2, 3))), 2 * value - 1)
    assert K.int_shape(K.zeros((4, 2))) == (4, 2) and K.int_shape(K.ones((3,))) == (3,)
    _check(K.eval(K.zeros((4, 2))), np.zeros((4, 2)))
    _check(K.eval(K.ones((3,))), np.ones(3))
    assert K.epsilon() == 1e-7
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)


def test_losses_with_keras1_argument_order():
    probs = _rng.dirichlet(np.ones(4), size=5)
    labels = np.array([0, 3, 1, 2, 3])
    onehot = np.eye(4)[labels]
    p, t, s = K.placeholder(shape=(None, 4)), K.placeholder(shape=(None, 4)), K.placeholder(shape=(None,))
    cce = K.categorical_crossentropy(p, t)
    scce = K.sparse_categorical_crossentropy(p, s)
    bce = K.binary_crossentropy(p, t)
    got = K.function([p, t, s], [cce, scce, bce])([probs, onehot, labels.astype(np.float64)])
    _check(got[0], -np.log(probs[np.arange(5), labels]), rtol=1e-5)
    _check(got[1], -np.log(probs[np.arange(5), labels]), rtol=1e-5)
    _check(got[2], -(onehot * np.log(probs) + (1 - onehot) * np.log(1 - probs)), rtol=1e-5)
    assert [f.__name__ for f in (K.categorical_crossentropy, K.sparse_categorical_crossentropy,
                                 K.binary_crossentropy)] == ["categorical_crossentropy",
                                                             "sparse_categorical_crossentropy", "binary_crossentropy"]


# ---------------------------------------------------------------------------------------------
# Gradients: K.gradients of sum(op(inputs) * c), c a random cotangent fed as a placeholder,
# against central differences of the NumPy reference in float64.



GRADIENTS = [
    ("reshape", [(3, 4)], lambda x: K.reshape(x, (-1, 2, 6)), lambda x: x.reshape(len(x), 2, 6)),
    ("permute_dimensions", [(3, 4)], lambda x: K.permute_dimensions(x, (0, 2, 1)), lambda x: x.transpose(0, 2, 1)),
    ("concatenate-axis=1", [(3, 4), (2, 4)], lambda a, b: K.concatenate([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], axis=1)),
    ("concatenate-axis=-1", [(3, 4), (3, 2)], lambda a, b: K.concatenate([a, b]),
     lambda a, b: np.concatenate([a, b], axis=-1)),
    ("batch_dot-(2,2)", [(3, 4), (5, 4)], lambda a, b: K.batch_dot(a, b, axes=(2, 2)),
     lambda a, b: np.einsum("bik,bjk->bij", a, b)),
    ("batch_dot-(1,1)", [(3, 4), (3, 2)], lambda a, b: K.batch_dot(a, b, axes=(1, 1)),
     lambda a, b: np.einsum("bki,bkj->bij", a, b)),
    ("batch_dot-2D", [(4,), (4,)], lambda a, b: K.batch_dot(a, b, axes=1), lambda a, b: (a * b).sum(-1, keepdims=True)),
    ("prod-axis=1", [(3, 4)], lambda x: K.prod(x, axis=1), lambda x: x.prod(axis=1)),
    ("prod-axis=[1,2]-keepdims", [(3, 4)], lambda x: K.prod(x, axis=[1, 2], keepdims=True),
     lambda x: x.prod(axis=(1, 2), keepdims=True)),
    ("pow-number", [(3, 4)], lambda x: K.pow(x, 3.5), lambda x: x ** 3.5),
    ("pow-tensor", [(3, 4), (3, 4)], lambda x, y: K.pow(x, y), lambda x, y: x ** y),
    ("repeat_elements", [(3, 4)], lambda x: K.repeat_elements(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1)),
    ("tile", [(3, 4)], lambda x: K.tile(x, (1, 2, 1)), lambda x: np.tile(x, (1, 2, 1))),
]


@pytest.mark.parametrize("name,shapes,kfn,nfn", GRADIENTS, ids=_case_ids(GRADIENTS))
def test_gradient_matches_central_differences(name, shapes, kfn, nfn):
    rng = np.random.RandomState(1)
    phs = [K.placeholder(shape=(None,) + s) for s in shapes]
    vals = [rng.uniform(0.5, 1.5, size=(2,) + s) for s in shapes]  # positive: pow, prod
    out = kfn(*phs)
    c = K.placeholder(shape=out.shape)
    cv = rng.randn(2, *out.shape[1:])
    grads = K.gradients(K.sum(out * c), phs)
    assert [tuple(g.shape) for g in grads] == [(None,) + s for s in shapes]
    got = K.function(phs + [c], grads)(vals + [cv])
    loss = lambda *xs: np.sum(nfn(*xs) * cv)  # noqa: E731
    for i, g in enumerate(got):
        np.testing.assert_allclose(g, central_difference(loss, vals, i), rtol=1e-4, atol=1e-5)


def test_gradient_of_transpose():
    x = K.placeholder(shape=(3, 4))
    c = K.placeholder(shape=(4, 3))
    g, = K.gradients(K.sum(K.transpose(x) * c), [x])
    assert tuple(g.shape) == (3, 4)
    xv, cv = _rng.randn(3, 4), _rng.randn(4, 3)
    got = K.function([x, c], [g])([xv, cv])[0]
    np.testing.assert_allclose(got, central_difference(lambda a: np.sum(a.T * cv), [xv], 0), rtol=1e-4, atol=1e-6)


def test_gradient_of_gather_wrt_the_table():
    W0 = _rng.randn(5, 3)
    W = K.variable(W0)
    i = K.placeholder(shape=(None, 4))
    idx = np.array([[0, 4, 4, 1], [2, 0, 4, 3]], dtype=np.float64)  # repeated rows accumulate
    rows = K.gather(W, i)
    c = K.placeholder(shape=rows.shape)
    cv = _rng.randn(2, 4, 3)
    g, = K.gradients(K.sum(rows * c), [W])
    got = K.function([i, c], [g])([idx, cv])[0]
    expected = central_difference(lambda w: np.sum(w[idx.astype(int)] * cv), [W0], 0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[4], cv[0, 1] + cv[0, 2] + cv[1, 2], rtol=1e-5)  # three uses of row 4


# ---------------------------------------------------------------------------------------------
# An op on a value that is not a kiln tensor: a TypeError that starts with "K.<op>:" and shows
# the value. Each case is a function of the bad value.

_t = K.placeholder(shape=(None, 3))
_W = K.variable(np.ones((3, 2)))


NON_KILN = [
    pytest.param("square", lambda v: K.square(v), id="square(v)"),
    pytest.param("sqrt", lambda v: K.sqrt(v), id="sqrt(v)"),
    pytest.param("abs", lambda v: K.abs(v), id="abs(v)"),
    pytest.param("exp", lambda v: K.exp(v), id="exp(v)"),
    pytest.param("log", lambda v: K.log(v), id="log(v)"),
    pytest.param("pow", lambda v: K.pow(v, 3), id="pow(v,3)"),
    pytest.param("pow", lambda v: K.pow(v, 2), id="pow(v,2)"),
    pytest.param("pow", lambda v: K.pow(_t, v), id="pow(_t,v)"),
    pytest.param("clip", lambda v: K.clip(v, 0.0, 1.0), id="clip(v,0.0,1.0)"),
    pytest.param("maximum", lambda v: K.maximum(v, _t), id="maximum(v,_t)"),
    pytest.param("minimum", lambda v: K.minimum(_t, v), id="minimum(_t,v)"),
    pytest.param("mean", lambda v: K.mean(v, axis=1), id="mean(v,axis=1)"),
    pytest.param("sum", lambda v: K.sum(v), id="sum(v)"),
    pytest.param("max", lambda v: K.max(v), id="max(v)"),
    pytest.param("min", lambda v: K.min(v, axis=-1), id="min(v,axis=-1)"),
    pytest.param("prod", lambda v: K.prod(v), id="prod(v)"),
    pytest.param("std", lambda v: K.std(v), id="std(v)"),
    pytest.param("var", lambda v: K.var(v), id="var(v)"),
    pytest.param("dot", lambda v: K.dot(v, _W), id="dot(v,_W)"),
    pytest.param("dot", lambda v: K.dot(_t, v), id="dot(_t,v)"),
    pytest.param("batch_dot", lambda v: K.batch_dot(_t, v), id="batch_dot(_t,v)"),
    pytest.param("transpose", lambda v: K.transpose(v), id="transpose(v)"),
    pytest.param("reshape", lambda v: K.reshape(v, (-1,)), id="reshape(v,(-1,))"),
    pytest.param("permute_dimensions", lambda v: K.permute_dimensions(v, (0,)), id="permute_dimensions(v,(0,))"),
    pytest.param("expand_dims", lambda v: K.expand_dims(v), id="expand_dims(v)"),
    pytest.param("squeeze", lambda v: K.squeeze(v, 0), id="squeeze(v,0)"),
    pytest.param("concatenate", lambda v: K.concatenate([_t, v]), id="concatenate([_t,v])"),
    pytest.param("stack", lambda v: K.stack([_t, v], axis=1),
                 id="stack([_t,v],axis=1)"),
    pytest.param("repeat", lambda v: K.repeat(v, 2), id="repeat(v,2)"),
    pytest.param("repeat_elements", lambda v: K.repeat_elements(v, 2, axis=1), id="repeat_elements(v,2,axis=1)"),
    pytest.param("tile", lambda v: K.tile(v, 2), id="tile(v,2)"),
    pytest.param("flatten", lambda v: K.flatten(v), id="flatten(v)"),
    pytest.param("batch_flatten", lambda v: K.batch_flatten(v), id="batch_flatten(v)"),
    pytest.param("gather", lambda v: K.gather(v, _t), id="gather(v,_t)"),
    pytest.param("gather", lambda v: K.gather(_W, v), id="gather(_W,v)"),
    pytest.param("one_hot", lambda v: K.one_hot(v, 3), id="one_hot(v,3)"),
    pytest.param("argmax", lambda v: K.argmax(v), id="argmax(v)"),
    pytest.param("equal", lambda v: K.equal(v, _t), id="equal(v,_t)"),
    pytest.param("greater", lambda v: K.greater(_t, v), id="greater(_t,v)"),
    pytest.param("less", lambda v: K.less(v, 0.0), id="less(v,0.0)"),
    pytest.param("cast", lambda v: K.cast(v, "float32"), id="cast(v,float32)"),
    pytest.param("sigmoid", lambda v: K.sigmoid(v), id="sigmoid(v)"),
    pytest.param("tanh", lambda v: K.tanh(v), id="tanh(v)"),
    pytest.param("relu", lambda v: K.relu(v, alpha=0.1), id="relu(v,alpha=0.1)"),
    pytest.param("softmax", lambda v: K.softmax(v), id="softmax(v)"),
    pytest.param("softplus", lambda v: K.softplus(v), id="softplus(v)"),
    pytest.param("l2_normalize", lambda v: K.l2_normalize(v, axis=-1), id="l2_normalize(v,axis=-1)"),
    pytest.param("int_shape", lambda v: K.int_shape(v), id="int_shape(v)"),
    pytest.param("ndim", lambda v: K.ndim(v), id="ndim(v)"),
    pytest.param("shape", lambda v: K.shape(v), id="shape(v)"),
]


@pytest.mark.parametrize("value", ["abc", [1.0, 2.0]], ids=["str", "list"])
@pytest.mark.parametrize("op,call", NON_KILN)
def test_op_on_a_non_kiln_value_raises_naming_the_op(op, call, value):
    with pytest.raises(TypeError) as e:
        call(value)
    msg = str(e.value)
    assert msg.startswith("K.%s:" % op), msg
    assert repr(value) in msg, msg
