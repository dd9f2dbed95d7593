"""The executable side of `kiln.backend` that user code relies on: K.function (the Keras FAQ's
way to read an intermediate layer, with the learning phase as an input), K.gradients against
NumPy, K.eval, variables and placeholders, and the error for an op on a non-kiln value."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, Dropout, Input
from kiln.models import Model


def _dropout_model():
    a = Input(shape=(6,))
    hidden = Dense(16, activation="relu")
    h = hidden(a)
    dropout = Dropout(0.5)
    d = dropout(h)
    out = Dense(2)(d)
    return Model(input=a, output=out), hidden, dropout


def test_faq_intermediate_layer_output_with_learning_phase():
    model, hidden, dropout = _dropout_model()
    x = np.random.RandomState(0).rand(32, 6).astype(np.float32)
    W, b = hidden.get_weights()
    expected = np.maximum(x @ W + b, 0)

    # The Keras FAQ: K.function([model.layers[0].input, K.learning_phase()], [model.layers[k].output])
    get_hidden = K.function([model.layers[0].input, K.learning_phase()], [model.layers[1].output])
    np.testing.assert_allclose(get_hidden([x, 0])[0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(get_hidden([x, 1])[0], expected, rtol=1e-5, atol=1e-6)  # no dropout before it

    get_dropped = K.function([model.input, K.learning_phase()], [dropout.output])
    test_phase = get_dropped([x, 0])[0]
    train_phase = get_dropped([x, 1])[0]
    np.testing.assert_allclose(test_phase, expected, rtol=1e-5, atol=1e-6)  # identity at test time
    # Train time: inverted dropout, every unit is 0 or doubled, about half are dropped.
    kept = train_phase != 0
    np.testing.assert_allclose(train_phase[kept], 2 * expected[kept], rtol=1e-5)
    positive = expected > 0
    frac = np.mean(~kept[positive])
    assert 0.35 < frac < 0.65, frac

    # The model output through the same function agrees with predict() in the test phase.
    f = K.function([model.input, K.learning_phase()], [model.output])
    np.testing.assert_allclose(f([x, 0])[0], model.predict(x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(f([x, 1])[0], model.predict(x))
    with pytest.raises(ValueError, match="learning phase must be 0 or 1"):
        f([x, 2])


def test_function_without_learning_phase_runs_the_test_phase():
    model, hidden, dropout = _dropout_model()
    x = np.random.RandomState(1).rand(8, 6).astype(np.float32)
    f = K.function([model.input], [dropout.output, model.output])
    d, out = f([x])
    W, b = hidden.get_weights()
    np.testing.assert_allclose(d, np.maximum(x @ W + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expects shape"):
        f([np.zeros((8, 5), np.float32)])
    with pytest.raises(ValueError, match="depend on placeholders that are not inputs"):
        K.function([], [model.output])


def test_function_of_placeholders_and_backend_ops():
    p = K.placeholder(shape=(None, 3))
    q = K.placeholder(ndim=2)
    assert p.shape == (None, 3) and q.shape == (None, None) and K.ndim(q) == 2
    out = K.sum(K.square(p) * 2.0, axis=1, keepdims=True) - K.mean(p, axis=-1, keepdims=True)
    f = K.function([p], [out, K.exp(p), K.max(p, axis=0)])
    x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], np.float32)
    r = f([x])
    np.testing.assert_allclose(r[0], (2 * x ** 2).sum(1, keepdims=True) - x.mean(-1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(r[1], np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(r[2], x.max(0), rtol=1e-6)


def test_variables_eval_get_and_set_value():
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    v = K.variable(value, name="my_var")
    np.testing.assert_array_equal(K.get_value(v), value)
    np.testing.assert_array_equal(K.eval(v), value)
    assert K.int_shape(v) == (2, 3)
    K.set_value(v, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 3)))
    # eval of an expression of variables: computed by the runtime, with the new value.
    np.testing.assert_allclose(K.eval(K.sum(v * 3.0) + K.mean(K.square(v))), 19.0)
    w = K.variable(np.array([1.0, -2.0, 4.0]))
    np.testing.assert_allclose(K.eval(K.sqrt(K.abs(w)) * w), np.sqrt([1.0, 2.0, 4.0]) * [1.0, -2.0, 4.0],
                               rtol=1e-6)
    # Layer weights are variables: set_value is seen by the next predict.
    a = Input(shape=(3,))
    layer = Dense(2)
    model = Model(input=a, output=layer(a))
    W, b = layer.trainable_weights
    K.set_value(W, np.ones((3, 2)))
    K.set_value(b, np.array([0.5, -0.5]))
    np.testing.assert_allclose(model.predict(np.array([[1.0, 2.0, 3.0]])), [[6.5, 5.5]], rtol=1e-6)
    with pytest.raises(ValueError, match="cannot set variable"):
        K.set_value(W, np.ones((2, 3)))


def test_gradients_wrt_variables_and_placeholder_match_numpy():
    rng = np.random.RandomState(0)
    w0 = rng.randn(3, 2).astype(np.float32)
    c0 = rng.randn(2).astype(np.float32)
    W = K.variable(w0)
    c = K.variable(c0)
    x = K.placeholder(shape=(None, 3))
    loss = K.mean(K.square(K.tanh(K.dot(x, W) + c) - 0.25))
    gW, gc, gx = K.gradients(loss, [W, c, x])
    assert gW.shape == (3, 2) and gc.shape == (2,) and tuple(gx.shape) == (None, 3)
    data = rng.randn(5, 3).astype(np.float32)
    got = K.function([x], [gW, gc, gx])([data])

    xd, wd, cd = data.astype(np.float64), w0.astype(np.float64), c0.astype(np.float64)
    t = np.tanh(xd @ wd + cd)
    dz = 2 * (t - 0.25) / t.size * (1 - t ** 2)
    np.testing.assert_allclose(got[0], xd.T @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[1], dz.sum(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[2], dz @ wd.T, rtol=1e-4, atol=1e-6)
    # Gradients are tensors: they compose with other ops (here: a gradient-norm penalty).
    norm = K.function([x], [K.sum(K.square(gW))])([data])[0]
    np.testing.assert_allclose(norm, np.sum((xd.T @ dz) ** 2), rtol=1e-3)


def test_gradients_of_a_model_loss_wrt_its_weights():
    rng = np.random.RandomState(4)
    a = Input(shape=(4,))
    layer = Dense(3, activation="sigmoid")
    out = layer(a)
    model = Model(input=a, output=out)
    loss = K.sum(K.mean(out, axis=0) * K.variable(np.array([1.0, -2.0, 0.5])))
    grads = K.gradients(loss, model.trainable_weights)
    data = rng.randn(6, 4)
    gW, gb = K.function([model.input], grads)([data])
    W, b = [p.astype(np.float64) for p in layer.get_weights()]
    s = 1 / (1 + np.exp(-(data @ W + b)))
    dz = s * (1 - s) * np.array([1.0, -2.0, 0.5]) / len(data)
    np.testing.assert_allclose(gW, data.T @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gb, dz.sum(0), rtol=1e-4, atol=1e-6)


def test_gradient_errors():
    x = K.placeholder(shape=(None, 3))
    v = K.variable(np.ones(3))
    with pytest.raises(ValueError, match="the loss must be a scalar"):
        K.gradients(x * v, [v])
    with pytest.raises(ValueError, match="does not depend on"):
        K.gradients(K.sum(x), [v])


@pytest.mark.parametrize("op,args", [
    ("square", ("a",)), ("exp", ([1.0, 2.0],)), ("sum", (None,)), ("dot", ("x", "y")),
    ("maximum", ({"k": 1}, 1.0)),
])
def test_op_on_a_non_kiln_value_names_the_op_and_the_value(op, args):
    with pytest.raises(TypeError) as e:
        getattr(K, op)(*args)
    msg = str(e.value)
    assert msg.startswith("K.%s:" % op), msg
    assert repr(args[0]) in msg, msg
