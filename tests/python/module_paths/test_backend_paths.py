"""Keras 1.2's `keras.backend` as Keras code uses it (reference section 24, plus the common
functions beside it): every name is taken from `kiln.backend` and run, each op through
`K.function` against a NumPy reference, the executable side (variables, functions, gradients,
updates, rnn, learning phase) on small programs.

cumsum, cumprod, map_fn, foldl, foldr are tested in graph/test_backend_loops.py, conv3d and
pool3d in graph/test_conv3d.py, ctc_batch_cost and ctc_decode in graph/test_backend_ctc.py. Not
here because they need a native op first: truncated_normal; because kiln has no sparse tensors:
ctc_label_dense_to_sparse; TensorFlow-only: get_session, set_session, manual_variable_initialization."""
import numpy as np
import pytest

from kiln import backend as K

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((3, 4)).astype(np.float32)
P = RNG.uniform(0.05, 0.95, (3, 4)).astype(np.float32)  # probabilities
T = np.eye(4, dtype=np.float32)[[0, 3, 1]]  # one-hot targets
M = RNG.standard_normal((4, 2)).astype(np.float32)
IMG = RNG.standard_normal((2, 5, 5, 3)).astype(np.float32)  # 'tf' images
KER = RNG.standard_normal((3, 3, 3, 2)).astype(np.float32)  # 'tf' kernel
SEQ = RNG.standard_normal((2, 4, 3)).astype(np.float32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def corr_valid(x, k):  # NHWC cross-correlation, 'valid'
    rows, cols = x.shape[1] - k.shape[0] + 1, x.shape[2] - k.shape[1] + 1
    out = np.zeros((x.shape[0], rows, cols, k.shape[3]))
    for i in range(rows):
        for j in range(cols):
            out[:, i, j] = np.tensordot(x[:, i:i + k.shape[0], j:j + k.shape[1]], k, axes=3)
    return out


# name -> (inputs, the kiln expression of placeholders, the NumPy reference of arrays)
OPS = {
    "dot": ([A], lambda a: K.dot(a, K.constant(M)), lambda a: a @ M),
    "batch_dot": ([A, B], lambda a, b: K.batch_dot(a, b, axes=1), lambda a, b: (a * b).sum(1, keepdims=True)),
    "concatenate": ([A, B], lambda a, b: K.concatenate([a, b], axis=-1), lambda a, b: np.concatenate([a, b], -1)),
    "reshape": ([A], lambda a: K.reshape(a, (-1, 2, 2)), lambda a: a.reshape(-1, 2, 2)),
    "expand_dims": ([A], lambda a: K.expand_dims(a, 1), lambda a: a[:, None]),
    "squeeze": ([A[:, :1]], lambda a: K.squeeze(a, 1), lambda a: a[:, 0]),
    "transpose": ([M], lambda m: K.transpose(m), lambda m: m.T),
    "permute_dimensions": ([SEQ], lambda s: K.permute_dimensions(s, (0, 2, 1)), lambda s: s.transpose(0, 2, 1)),
    "flatten": ([M], lambda m: K.flatten(m), lambda m: m.ravel()),
    "batch_flatten": ([SEQ], lambda s: K.batch_flatten(s), lambda s: s.reshape(2, -1)),
    "sum": ([A], lambda a: K.sum(a, axis=1), lambda a: a.sum(1)),
    "prod": ([P], lambda p: K.prod(p, axis=0), lambda p: p.prod(0)),
    "mean": ([A], lambda a: K.mean(a, axis=0, keepdims=True), lambda a: a.mean(0, keepdims=True)),
    "std": ([A], lambda a: K.std(a, axis=1), lambda a: a.std(1)),
    "var": ([A], lambda a: K.var(a, axis=1), lambda a: a.var(1)),
    "max": ([A], lambda a: K.max(a, axis=1), lambda a: a.max(1)),
    "min": ([A], lambda a: K.min(a, axis=1), lambda a: a.min(1)),
    "any": ([A], lambda a: K.any(K.greater(a, 1.0), axis=1), lambda a: (a > 1).any(1)),
    "all": ([A], lambda a: K.all(K.greater(a, -1.0), axis=1), lambda a: (a > -1).all(1)),
    "argmax": ([A], lambda a: K.argmax(a, axis=-1), lambda a: a.argmax(-1)),
    "argmin": ([A], lambda a: K.argmin(a, axis=-1), lambda a: a.argmin(-1)),
    "equal": ([A], lambda a: K.equal(a, a), lambda a: np.ones_like(a)),
    "not_equal": ([A, B], lambda a, b: K.not_equal(a, b), lambda a, b: a != b),
    "greater": ([A, B], lambda a, b: K.greater(a, b), lambda a, b: a > b),
    "greater_equal": ([A, B], lambda a, b: K.greater_equal(a, b), lambda a, b: a >= b),
    "lesser": ([A, B], lambda a, b: K.lesser(a, b), lambda a, b: a < b),
    "lesser_equal": ([A, B], lambda a, b: K.lesser_equal(a, b), lambda a, b: a <= b),
    "less": ([A, B], lambda a, b: K.less(a, b), lambda a, b: a < b),
    "less_equal": ([A, B], lambda a, b: K.less_equal(a, b), lambda a, b: a <= b),
    "maximum": ([A, B], lambda a, b: K.maximum(a, b), np.maximum),
    "minimum": ([A, B], lambda a, b: K.minimum(a, b), np.minimum),
    "square": ([A], K.square, np.square),
    "sqrt": ([P], K.sqrt, np.sqrt),
    "exp": ([A], K.exp, np.exp),
    "log": ([P], K.log, np.log),
    "pow": ([P], lambda p: K.pow(p, 3), lambda p: p ** 3),
    "abs": ([A], K.abs, np.abs),
    "sign": ([A], K.sign, np.sign),
    "round": ([A * 3], K.round, np.round),
    "clip": ([A], lambda a: K.clip(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    "cast": ([A * 3], lambda a: K.cast(a, "int32"), lambda a: np.trunc(a)),
    "switch": ([A, B], lambda a, b: K.switch(K.greater(a, 0.0), a, b), lambda a, b: np.where(a > 0, a, b)),
    "gather": ([np.array([3, 0, 3], np.float32)], lambda i: K.gather(K.constant(M), K.cast(i, "int32")),
               lambda i: M[i.astype(int)]),
    "l2_normalize": ([A], lambda a: K.l2_normalize(a, axis=-1),
                     lambda a: a / np.sqrt((a * a).sum(-1, keepdims=True))),
    "repeat": ([A], lambda a: K.repeat(a, 2), lambda a: np.repeat(a[:, None], 2, 1)),
    "repeat_elements": ([A], lambda a: K.repeat_elements(a, 2, axis=1), lambda a: np.repeat(a, 2, 1)),
    "tile": ([A], lambda a: K.tile(a, (1, 2)), lambda a: np.tile(a, (1, 2))),
    "stack": ([A, B], lambda a, b: K.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1)),
    "reverse": ([A], lambda a: K.reverse(a, 1), lambda a: a[:, ::-1]),
    "one_hot": ([np.array([[1, 0], [2, 3], [0, 0]], np.float32)], lambda i: K.one_hot(K.cast(i, "int32"), 4),
                lambda i: np.eye(4)[i.astype(int)]),
    "ones_like": ([A], K.ones_like, np.ones_like),
    "zeros_like": ([A], K.zeros_like, np.zeros_like),
    "relu": ([A], lambda a: K.relu(a, alpha=0.1, max_value=1.0), lambda a: np.clip(np.where(a > 0, a, 0.1 * a),
                                                                                    None, 1.0)),
    "elu": ([A], lambda a: K.elu(a, 0.5), lambda a: np.where(a > 0, a, 0.5 * (np.exp(a) - 1))),
    "softmax": ([A], K.softmax, softmax),
    "softplus": ([A], K.softplus, lambda a: np.log1p(np.exp(a))),
    "softsign": ([A], K.softsign, lambda a: a / (1 + np.abs(a))),
    "sigmoid": ([A], K.sigmoid, sigmoid),
    "hard_sigmoid": ([A], K.hard_sigmoid, lambda a: np.clip(0.2 * a + 0.5, 0, 1)),
    "tanh": ([A], K.tanh, np.tanh),
    "categorical_crossentropy": ([P, T], lambda p, t: K.categorical_crossentropy(p, t),
                                 lambda p, t: -(t * np.log(p / p.sum(-1, keepdims=True))).sum(-1)),
    "sparse_categorical_crossentropy": ([P, T.argmax(-1)[:, None].astype(np.float32)],
                                        lambda p, t: K.sparse_categorical_crossentropy(p, t),
                                        lambda p, t: -np.log((p / p.sum(-1, keepdims=True))[np.arange(3),
                                                                                            t[:, 0].astype(int)])),
    "binary_crossentropy": ([P, T], lambda p, t: K.binary_crossentropy(p, t),
                            lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p))),
    "in_top_k": ([P, np.array([0, 3, 1], np.float32)], lambda p, t: K.in_top_k(p, K.cast(t, "int32"), 2),
                 lambda p, t: ((p > p[np.arange(3), t.astype(int)][:, None]).sum(1) < 2)),
    "temporal_padding": ([SEQ], lambda s: K.temporal_padding(s, 1), lambda s: np.pad(s, ((0, 0), (1, 1), (0, 0)))),
    "spatial_2d_padding": ([IMG], lambda x: K.spatial_2d_padding(x, (1, 2), dim_ordering="tf"),
                           lambda x: np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0)))),
    "spatial_3d_padding": ([IMG[:, :, :, :, None]], lambda x: K.spatial_3d_padding(x, (1, 0, 1), dim_ordering="tf"),
                           lambda x: np.pad(x, ((0, 0), (1, 1), (0, 0), (1, 1), (0, 0)))),
    "resize_images": ([IMG], lambda x: K.resize_images(x, 2, 1, "tf"), lambda x: np.repeat(x, 2, 1)),
    "resize_volumes": ([IMG[:, :, :, :, None]], lambda x: K.resize_volumes(x, 1, 2, 1, "tf"),
                       lambda x: np.repeat(x, 2, 2)),
    "conv2d": ([IMG], lambda x: K.conv2d(x, K.constant(KER), dim_ordering="tf"), lambda x: corr_valid(x, KER)),
    "conv1d": ([SEQ], lambda s: K.conv1d(s, K.constant(KER[:2, 0])),
               lambda s: corr_valid(s[:, :, None], KER[:2, :1])[:, :, 0]),
    "pool2d": ([IMG[:, :4, :4]], lambda x: K.pool2d(x, (2, 2), (2, 2), dim_ordering="tf", pool_mode="avg"),
               lambda x: x.reshape(2, 2, 2, 2, 2, 3).mean((2, 4))),
    "batch_normalization": ([A], lambda a: K.batch_normalization(a, K.constant(np.ones(4) * 0.5), K.constant(
        np.ones(4) * 2.0), K.constant(np.zeros(4)), K.constant(np.ones(4) * 3.0), epsilon=0.0),
        lambda a: (a - 0.5) / np.sqrt(2.0) * 3.0),
    "dropout": ([A], lambda a: K.dropout(a, 0.0), lambda a: a),
    "in_train_phase": ([A], lambda a: K.in_train_phase(a * 2.0, a), lambda a: a),  # test phase: the alternative
    "in_test_phase": ([A], lambda a: K.in_test_phase(a * 2.0, a), lambda a: a * 2.0),
    "stop_gradient": ([A], K.stop_gradient, lambda a: a),
    "print_tensor": ([A], lambda a: K.print_tensor(a, "a"), lambda a: a),
    "to_dense": ([A], K.to_dense, lambda a: a),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_numpy(name):
    inputs, build, ref = OPS[name]
    phs = [K.placeholder(shape=(None,) + x.shape[1:]) for x in inputs]
    fn = getattr(K, name)
    assert callable(fn)
    got = K.function(phs, [build(*phs)])(inputs)[0]
    want = ref(*[x.astype(np.float64) for x in inputs])
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=name)


def test_globals_and_names():
    assert K.backend() == "kiln" and K.floatx() == "float32"
    K.set_floatx("float32")
    with pytest.raises(ValueError, match="float32 only"):
        K.set_floatx("float64")
    old = K.epsilon()
    K.set_epsilon(1e-4)
    try:
        assert K.epsilon() == 1e-4
    finally:
        K.set_epsilon(old)
    assert old == 1e-7
    ordering = K.image_dim_ordering()
    K.set_image_dim_ordering("tf")
    try:
        assert K.image_dim_ordering() == "tf"
    finally:
        K.set_image_dim_ordering(ordering)
    assert K.image_data_format() in ("channels_first", "channels_last")
    K.reset_uids()
    assert (K.get_uid("x"), K.get_uid("x"), K.get_uid("y")) == (1, 2, 1)
    K.clear_session()
    assert K.get_uid("x") == 1
    assert K.legacy_weight_ordering() is False
    K.set_legacy_weight_ordering(False)
    with pytest.raises(ValueError, match="legacy"):
        K.set_legacy_weight_ordering(True)
    x = K.placeholder(ndim=2, sparse=True)
    assert K.ndim(x) == 2 and not K.is_sparse(x) and K.int_shape(K.placeholder(shape=(None, 3))) == (None, 3)
    assert not K.is_keras_tensor(x)
    np.testing.assert_array_equal(K.cast_to_floatx([1, 2]), np.array([1, 2], np.float32))


def test_variables_and_values():
    v = K.variable(A, name="v")
    assert K.dtype(v) == "float32" and K.count_params(v) == 12 and K.get_variable_shape(v) == (3, 4)
    np.testing.assert_array_equal(K.get_value(v), A)
    K.set_value(v, B)
    np.testing.assert_array_equal(K.eval(v), B)
    w = K.zeros((2, 2))
    K.batch_set_value([(v, A), (w, np.ones((2, 2)))])
    got = K.batch_get_value([v, w])
    np.testing.assert_array_equal(got[0], A)
    np.testing.assert_array_equal(got[1], np.ones((2, 2)))
    np.testing.assert_array_equal(K.eval(K.ones((2, 3))), np.ones((2, 3)))
    np.testing.assert_array_equal(K.eval(K.eye(3)), np.eye(3))
    np.testing.assert_array_equal(K.eval(K.constant(2.0, shape=(2,))), [2.0, 2.0])
    np.testing.assert_array_equal(K.eval(K.arange(1, 7, 2)), [1, 3, 5])
    u = K.get_value(K.random_uniform_variable((100,), -1, 1, seed=1))
    assert u.min() >= -1 and u.max() <= 1
    n = K.get_value(K.random_normal_variable((2000,), 3.0, 0.5, seed=1))
    assert abs(n.mean() - 3.0) < 0.05 and abs(n.std() - 0.5) < 0.05
    assert K.int_shape(K.shape(K.placeholder(shape=(None, 3)))) == (2,)


def test_random_tensors_in_a_function():
    x = K.placeholder(shape=(None, 5))
    f = K.function([x], [K.random_uniform(K.shape(x), 0.0, 2.0, seed=1), K.random_normal((1000,), 1.0, 0.5, seed=2),
                         K.random_binomial((1000,), 0.3, seed=3)])
    u, n, b = f([np.zeros((4, 5), np.float32)])
    assert u.shape == (4, 5) and u.min() >= 0 and u.max() <= 2
    assert abs(n.mean() - 1.0) < 0.1 and set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.1


def test_function_updates_gradients_and_learning_phase():
    x = K.placeholder(shape=(None, 3))
    w = K.variable(np.ones((3, 1), np.float32))
    counter = K.variable(0.0)
    loss = K.mean(K.square(K.dot(x, w)))
    grads = K.gradients(loss, [w])
    step = K.function([x], [loss], updates=[K.update(w, w - 0.1 * grads[0]), K.update_add(counter, 1.0)])
    xs = RNG.standard_normal((5, 3)).astype(np.float32)
    first = step([xs])[0]
    assert step([xs])[0] < first and K.get_value(counter) == 2.0
    g = K.function([x], grads)([xs])[0]
    np.testing.assert_allclose(g, 2 * xs.T @ (xs @ K.get_value(w)) / 5, rtol=1e-4)  # d mean((xw)^2) / dw
    K.function([], [], updates=[K.update_sub(counter, 2.0)])([])
    assert K.get_value(counter) == 0.0
    dropped = K.dropout(x, 0.5, seed=1)
    f = K.function([x, K.learning_phase()], [K.in_train_phase(dropped, x)])
    ones = np.ones((4, 3), np.float32)
    assert set(np.unique(f([ones, 1])[0])) <= {0.0, 2.0} and np.array_equal(f([ones, 0])[0], ones)


def test_rnn_normalize_batch_and_moving_average():
    steps = K.placeholder(shape=(None, 4, 3))
    w = K.constant(M[:3])

    def step(x, states):
        h = K.tanh(K.dot(x, w) + states[0])
        return h, [h]

    last, outputs, states = K.rnn(step, steps, [K.zeros_like(K.dot(K.sum(steps, axis=1), w))])
    got_last, got_out = K.function([steps], [last, outputs])([SEQ])
    h = np.zeros((2, 2))
    for t in range(4):
        h = np.tanh(SEQ[:, t] @ M[:3] + h)
    np.testing.assert_allclose(got_last, h, rtol=1e-5, atol=1e-6)
    assert got_out.shape == (2, 4, 2)
    x = K.placeholder(shape=(None, 4))
    normed, mean, var = K.normalize_batch_in_training(x, K.constant(np.ones(4)), K.constant(np.zeros(4)), [0],
                                                      epsilon=0.0)
    n, m, v = K.function([x], [normed, mean, var])([A])
    np.testing.assert_allclose(m, A.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(n, (A - A.mean(0)) / A.std(0), rtol=1e-4, atol=1e-5)
    moving = K.variable(np.zeros(4, np.float32))
    K.function([x], [], updates=[K.moving_average_update(moving, K.mean(x, axis=0), 0.9)])([A])
    np.testing.assert_allclose(K.get_value(moving), 0.1 * A.mean(0), rtol=1e-5, atol=1e-6)


def test_every_reference_name_is_checked():
    """The backend surface of keras1-api.md section 24 and the functions above."""
    section_24 = ("backend floatx epsilon image_dim_ordering set_image_dim_ordering get_uid reset_uids clear_session "
                  "placeholder variable eval get_value set_value batch_get_value batch_set_value function "
                  "learning_phase set_learning_phase in_train_phase int_shape ndim dtype count_params gradients dot "
                  "batch_dot concatenate reshape expand_dims squeeze sum mean std var max min any all argmax equal "
                  "not_equal maximum minimum square sqrt exp log pow abs clip cast round switch gather l2_normalize "
                  "repeat tile ones_like zeros_like zeros ones random_uniform random_normal random_binomial dropout "
                  "rnn conv2d pool2d relu elu softmax softplus softsign sigmoid hard_sigmoid tanh "
                  "categorical_crossentropy sparse_categorical_crossentropy binary_crossentropy "
                  "normalize_batch_in_training batch_normalization moving_average_update update update_add").split()
    others = ("set_floatx set_epsilon cast_to_floatx set_image_data_format image_data_format is_keras_tensor is_sparse "
              "to_dense legacy_weight_ordering set_legacy_weight_ordering constant eye arange get_variable_shape "
              "random_uniform_variable random_normal_variable update_sub shape").split()
    names = set(section_24) | set(others) | set(OPS)
    assert not sorted(n for n in names if not hasattr(K, n))


def test_set_learning_phase_fixes_the_phase(monkeypatch):
    from kiln.backend import ops
    monkeypatch.setattr(ops, "_learning_phase", None)  # restored after the test
    K.set_learning_phase(0)
    assert K.learning_phase() == 0
    f = K.function([K.placeholder(shape=(None, 1))], [K.in_train_phase(K.constant(1.0), K.constant(0.0))])
    assert f([np.zeros((1, 1), np.float32)])[0] == 0.0
