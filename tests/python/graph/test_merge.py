"""Merging tensors (reference section 6): every Keras 1 `merge(mode=...)` mode, the Keras 2 merge
layers and their functional forms, and callable modes, each against NumPy through a Model's
predict; output shapes as Keras gives them; the Keras error messages; the guide's residual slip
`merge([x, layer])`; gradients through concat and dot merges against float64 central
differences; and the guide's shared-layer model (a shared stand-in for its LSTM) trained on pairs
of real movie reviews."""
import re

import numpy as np
import pytest

from numeric import central_difference
from kiln import backend as K
from kiln.layers import (Add, Average, Concatenate, Dense, Dot, Input, Lambda, Maximum, Merge, Minimum,
                         Multiply, Subtract, add, average, concatenate, dot, maximum, merge, minimum, multiply,
                         subtract)
from kiln.models import Model


def _data(shapes, seed=0, batch=5):
    rng = np.random.RandomState(seed)
    return [rng.randn(batch, *s).astype(np.float32) for s in shapes]


def _predict(inputs, output, arrays):
    return Model(input=inputs, output=output).predict(arrays)


def _shape_id(shapes):
    return "+".join("(%s)" % ",".join(str(d) for d in s) for s in shapes)


# ---------------------------------------------------------------------------------------------
# Elementwise modes: sum, mul, ave, max (Keras 1) on 2 and 3 inputs.

ELEMENTWISE = {
    "sum": lambda xs: np.sum(xs, axis=0),
    "mul": lambda xs: np.prod(xs, axis=0),
    "ave": lambda xs: np.mean(xs, axis=0),
    "max": lambda xs: np.max(xs, axis=0),
}


@pytest.mark.parametrize("shapes", [[(5,), (5,)], [(4, 5)] * 3, [(2, 3, 4)] * 2], ids=_shape_id)
@pytest.mark.parametrize("mode", list(ELEMENTWISE))
def test_elementwise_mode_matches_numpy(mode, shapes):
    ins = [Input(shape=s) for s in shapes]
    out = merge(ins, mode=mode)
    layer = out._keras_history[0]
    assert isinstance(layer, Merge) and layer.mode == mode
    assert tuple(out.shape) == (None,) + shapes[0]
    assert layer.output_shape == (None,) + shapes[0]
    assert layer.input_shape == [(None,) + s for s in shapes]
    data = _data(shapes)
    got = _predict(ins, out, data)
    assert got.shape == data[0].shape
    np.testing.assert_allclose(got, ELEMENTWISE[mode](np.stack(data).astype(np.float64)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# concat with several concat_axis values, negative ones and axis 1 on 3D inputs.

CONCAT_CASES = [
    ([(3,), (4,)], -1, (None, 7)),
    ([(3,), (4,)], 1, (None, 7)),
    ([(3, 4), (5, 4)], 1, (None, 8, 4)),
    ([(3, 4), (5, 4)], -2, (None, 8, 4)),
    ([(3, 4), (3, 2), (3, 1)], -1, (None, 3, 7)),
    ([(3, 4), (3, 2), (3, 1)], 2, (None, 3, 7)),
    ([(2, 3, 4), (2, 1, 4)], 2, (None, 2, 4, 4)),
    ([(2, 3, 4), (2, 3, 4)], -3, (None, 4, 3, 4)),
]


@pytest.mark.parametrize("shapes,axis,expected", CONCAT_CASES,
                         ids=["%s-axis=%d" % (_shape_id(s), a) for s, a, _ in CONCAT_CASES])
def test_concat_mode_matches_numpy(shapes, axis, expected):
    ins = [Input(shape=s) for s in shapes]
    out = merge(ins, mode="concat", concat_axis=axis)
    assert tuple(out.shape) == expected
    assert out._keras_history[0].output_shape == expected
    data = _data(shapes, seed=1)
    got = _predict(ins, out, data)
    assert got.shape == (5,) + expected[1:]
    np.testing.assert_array_equal(got, np.concatenate(data, axis=axis))


# ---------------------------------------------------------------------------------------------
# dot with dot_axes an int, a negative int or a list; 2D and 3D inputs. `axes` are the axes that
# Keras 1.2 contracts (a negative int a means [a % n1, a % n2]); the reference is a per-sample
# tensordot, with a trailing 1 when the result is a scalar per sample (Keras's (None, 1)).

DOT_CASES = [
    ([(4,), (4,)], -1, (1, 1), (None, 1)),
    ([(4,), (4,)], 1, (1, 1), (None, 1)),
    ([(4,), (4,)], [1, 1], (1, 1), (None, 1)),
    ([(3, 4), (5, 4)], 2, (2, 2), (None, 3, 5)),
    ([(3, 4), (5, 4)], -1, (2, 2), (None, 3, 5)),
    ([(3, 4), (3, 5)], 1, (1, 1), (None, 4, 5)),
    ([(3, 4), (4, 5)], [2, 1], (2, 1), (None, 3, 5)),
    ([(3, 4), (5, 3)], [1, 2], (1, 2), (None, 4, 5)),
    ([(4,), (5, 4)], [1, 2], (1, 2), (None, 5)),
    ([(3, 4), (4,)], [2, 1], (2, 1), (None, 3)),
]


def _np_batch_dot(a, b, axes):
    return np.stack([np.atleast_1d(np.tensordot(x, y, axes=(axes[0] - 1, axes[1] - 1)))
                     for x, y in zip(a.astype(np.float64), b.astype(np.float64))])


@pytest.mark.parametrize("shapes,dot_axes,axes,expected", DOT_CASES,
                         ids=["%s-dot_axes=%s" % (_shape_id(s), str(d).replace(" ", "")) for s, d, _, _ in DOT_CASES])
def test_dot_mode_matches_numpy(shapes, dot_axes, axes, expected):
    a, b = Input(shape=shapes[0]), Input(shape=shapes[1])
    out = merge([a, b], mode="dot", dot_axes=dot_axes)
    assert tuple(out.shape) == expected
    assert out._keras_history[0].output_shape == expected
    data = _data(shapes, seed=2)
    got = _predict([a, b], out, data)
    assert got.shape == (5,) + expected[1:]
    np.testing.assert_allclose(got, _np_batch_dot(data[0], data[1], axes), rtol=1e-5, atol=1e-5)


def test_dot_of_two_vectors_is_none_1_as_in_keras():
    a, b = Input(shape=(6,)), Input(shape=(6,))
    layer = Merge(mode="dot")
    out = layer([a, b])
    assert tuple(out.shape) == (None, 1) and layer.output_shape == (None, 1)
    # The shape rule alone, for shapes the layer has not seen.
    assert layer.get_output_shape_for([(None, 3, 4), (None, 5, 4)]) == (None, 3, 5)
    assert Merge(mode="concat", concat_axis=1).get_output_shape_for([(None, 3, 4), (None, 5, 4)]) == (None, 8, 4)
    assert Merge(mode="sum").get_output_shape_for([(None, 7), (None, 7)]) == (None, 7)


def _np_cos(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))[:, None]


def test_cos_mode_matches_numpy():
    a, b = Input(shape=(6,)), Input(shape=(6,))
    out = merge([a, b], mode="cos")
    # kiln returns the declared (None, 1) (Keras 1.2's tensor has an extra dim, see reference 6).
    assert tuple(out.shape) == (None, 1) and out._keras_history[0].output_shape == (None, 1)
    xa, xb = _data([(6,), (6,)], seed=3)
    xb[0] = 3.0 * xa[0]  # parallel: 1
    xb[1] = -0.5 * xa[1]  # antiparallel: -1
    got = _predict([a, b], out, [xa, xb])
    expected = _np_cos(xa, xb)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[:2, 0], [1.0, -1.0], rtol=1e-5)
    # Scale does not matter.
    np.testing.assert_allclose(_predict([a, b], out, [10.0 * xa, 0.1 * xb]), expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Keras 2 merge layers and their functional forms.

KERAS2 = [
    ("Add", Add, add, 3, lambda xs: xs[0] + xs[1] + xs[2]),
    ("Subtract", Subtract, subtract, 2, lambda xs: xs[0] - xs[1]),
    ("Multiply", Multiply, multiply, 3, lambda xs: xs[0] * xs[1] * xs[2]),
    ("Average", Average, average, 3, lambda xs: (xs[0] + xs[1] + xs[2]) / 3.0),
    ("Maximum", Maximum, maximum, 3, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    ("Minimum", Minimum, minimum, 2, lambda xs: np.minimum(xs[0], xs[1])),
]


@pytest.mark.parametrize("name,cls,fn,n,ref", KERAS2, ids=[k[0] for k in KERAS2])
def test_keras2_elementwise_layer_and_function(name, cls, fn, n, ref):
    ins = [Input(shape=(3, 4)) for _ in range(n)]
    layer = cls(name="my_" + name.lower())
    by_layer = layer(ins)
    by_fn = fn(ins)
    assert layer.name == "my_" + name.lower() and type(by_fn._keras_history[0]) is cls
    assert tuple(by_layer.shape) == tuple(by_fn.shape) == (None, 3, 4)
    assert layer.output_shape == (None, 3, 4)
    data = _data([(3, 4)] * n, seed=4)
    got_layer, got_fn = Model(input=ins, output=[by_layer, by_fn]).predict(data)
    expected = ref([d.astype(np.float64) for d in data])
    np.testing.assert_allclose(got_layer, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_fn, expected, rtol=1e-5, atol=1e-6)


def test_keras2_concatenate_layer_and_function():
    a, b = Input(shape=(3, 4)), Input(shape=(5, 4))
    layer = Concatenate(axis=1)
    assert layer.axis == 1
    o1 = layer([a, b])
    o2 = concatenate([a, b], axis=-2)
    c, d = Input(shape=(3, 4)), Input(shape=(3, 2))
    o3 = Concatenate()([c, d])  # axis=-1 by default
    o4 = concatenate([c, d])
    assert [tuple(t.shape) for t in (o1, o2, o3, o4)] == [(None, 8, 4), (None, 8, 4), (None, 3, 6), (None, 3, 6)]
    xa, xb, xc, xd = _data([(3, 4), (5, 4), (3, 4), (3, 2)], seed=5)
    got = Model(input=[a, b, c, d], output=[o1, o2, o3, o4]).predict([xa, xb, xc, xd])
    np.testing.assert_array_equal(got[0], np.concatenate([xa, xb], axis=1))
    np.testing.assert_array_equal(got[1], np.concatenate([xa, xb], axis=1))
    np.testing.assert_array_equal(got[2], np.concatenate([xc, xd], axis=-1))
    np.testing.assert_array_equal(got[3], np.concatenate([xc, xd], axis=-1))


def test_keras2_dot_layer_and_function_with_normalize():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    p, q = Input(shape=(3, 4)), Input(shape=(5, 4))
    layer = Dot(axes=1)
    assert layer.axes == 1 and not layer.normalize
    outs = [layer([a, b]), dot([a, b], axes=-1), Dot(axes=1, normalize=True)([a, b]),
            Dot(axes=2)([p, q]), dot([p, q], axes=(2, 2)), dot([p, q], axes=[-1, -1], normalize=True)]
    assert [tuple(t.shape) for t in outs] == [(None, 1)] * 3 + [(None, 3, 5)] * 3
    xa, xb, xp, xq = _data([(4,), (4,), (3, 4), (5, 4)], seed=6)
    got = Model(input=[a, b, p, q], output=outs).predict([xa, xb, xp, xq])
    vec = _np_batch_dot(xa, xb, (1, 1))
    mat = _np_batch_dot(xp, xq, (2, 2))
    unit = lambda x: x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(got[0], vec, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], vec, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], _np_cos(xa, xb), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[3], mat, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[4], mat, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[5], np.einsum("bik,bjk->bij", unit(xp), unit(xq)), rtol=1e-5, atol=1e-6)


def test_keras2_merge_layers_can_be_called_again():
    """Unlike Keras 1's Merge, a Keras 2 merge layer is an ordinary (reusable) layer."""
    a, b, c = Input(shape=(3,)), Input(shape=(3,)), Input(shape=(3,))
    layer = Add()
    ab = layer([a, b])
    bc = layer([b, c])
    assert len(layer.inbound_nodes) == 2
    assert layer.get_output_at(0) is ab and layer.get_output_at(1) is bc
    xa, xb, xc = _data([(3,)] * 3, seed=7)
    got_ab, got_bc = Model(input=[a, b, c], output=[ab, bc]).predict([xa, xb, xc])
    np.testing.assert_allclose(got_ab, xa + xb, rtol=1e-6)
    np.testing.assert_allclose(got_bc, xb + xc, rtol=1e-6)


def test_subtract_takes_exactly_two_inputs():
    a = Input(shape=(3,))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()([a, a, a])


# ---------------------------------------------------------------------------------------------
# mode= a callable.

def test_callable_mode_without_output_shape_is_traced():
    a, b, c = Input(shape=(4,)), Input(shape=(4,)), Input(shape=(4,))
    out = merge([a, b, c], mode=lambda xs: xs[0] * xs[1] - xs[2])
    assert tuple(out.shape) == (None, 4) and out._keras_history[0].output_shape == (None, 4)

    def pairwise_sum(xs):  # a named function, changing the shape
        return K.sum(xs[0] + xs[1], axis=-1, keepdims=True)

    s = merge([a, b], mode=pairwise_sum)
    assert tuple(s.shape) == (None, 1)
    xa, xb, xc = _data([(4,)] * 3, seed=8)
    got, got_s = Model(input=[a, b, c], output=[out, s]).predict([xa, xb, xc])
    np.testing.assert_allclose(got, xa * xb - xc, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_s, (xa + xb).sum(-1, keepdims=True), rtol=1e-5, atol=1e-5)


def test_callable_mode_with_output_shape_tuple_or_function_and_arguments():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    score = lambda xs: K.sum(xs[0] * xs[1], axis=-1, keepdims=True)  # noqa: E731
    by_tuple = merge([a, b], mode=score, output_shape=(1,))  # excludes the batch (Keras 1)
    by_fn = merge([a, b], mode=score, output_shape=lambda shapes: (shapes[0][0], 1))  # includes it
    scaled = merge([a, b], mode=lambda xs, scale: (xs[0] - xs[1]) * scale, arguments={"scale": 0.5},
                   output_shape=(4,))
    for t, shape in ((by_tuple, (None, 1)), (by_fn, (None, 1)), (scaled, (None, 4))):
        assert tuple(t.shape) == shape and t._keras_history[0].output_shape == shape
    xa, xb = _data([(4,), (4,)], seed=9)
    got = Model(input=[a, b], output=[by_tuple, by_fn, scaled]).predict([xa, xb])
    np.testing.assert_allclose(got[0], (xa * xb).sum(-1, keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], (xa * xb).sum(-1, keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], 0.5 * (xa - xb), rtol=1e-6, atol=1e-6)


def test_callable_mode_output_shape_that_disagrees_raises():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    with pytest.raises(ValueError, match=r"\(None, 7\).*\(None, 1\)|\(None, 1\).*\(None, 7\)"):
        merge([a, b], mode=lambda xs: K.sum(xs[0] * xs[1], axis=-1, keepdims=True), output_shape=(7,))


# ---------------------------------------------------------------------------------------------
# Errors, with Keras 1.2's messages (engine/topology.py:1305-1371, 1424-1463).

@pytest.mark.parametrize("mode", ["sum", "mul", "ave", "max"])
def test_mismatched_shapes_name_every_shape(mode):
    a, b, c = Input(shape=(4,)), Input(shape=(4,)), Input(shape=(5,))
    with pytest.raises(ValueError) as e:
        merge([a, b, c], mode=mode)
    assert str(e.value) == ("Only layers of same output shape can be merged using %s mode. "
                            "Layer shapes: [(None, 4), (None, 4), (None, 5)]" % mode)


def test_concat_shapes_that_differ_off_the_concat_axis():
    a, b = Input(shape=(3, 4)), Input(shape=(3, 5))
    msg = ('"concat" mode can only merge layers with matching output shapes except for the concat axis. '
           "Layer shapes: %s")
    with pytest.raises(ValueError) as e:
        merge([a, b], mode="concat", concat_axis=1)
    assert str(e.value) == msg % "[(None, 3, 4), (None, 3, 5)]"
    with pytest.raises(ValueError) as e:
        concatenate([a, Input(shape=(3,))], axis=1)  # different ranks
    assert str(e.value) == msg % "[(None, 3, 4), (None, 3)]"
    merge([a, b], mode="concat", concat_axis=-1)  # the same shapes are fine on the last axis


def test_invalid_mode():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    with pytest.raises(ValueError) as e:
        merge([a, b], mode="concatenate")
    assert str(e.value) == "Invalid merge mode: concatenate"
    with pytest.raises(ValueError, match="^Invalid merge mode: foo$"):
        Merge(mode="foo")


def test_fewer_than_two_inputs():
    a = Input(shape=(4,))
    prefix = "A Merge should only be applied to a list of layers with at least 2 elements. Found: "
    for bad in ([a], []):
        with pytest.raises(TypeError) as e:
            merge(bad, mode="sum")
        assert str(e.value).startswith(prefix), str(e.value)
    with pytest.raises(TypeError) as e:
        merge([], mode="concat")
    assert str(e.value) == prefix + "[]"
    with pytest.raises(TypeError):
        Merge(mode="sum")(a)  # not a list


DOT_INCOMPATIBLE = "Dimension incompatibility using dot mode: 4 != 5. Layer shapes: "


def test_dot_dimension_incompatibility_names_both_dims_and_shapes():
    a, b = Input(shape=(4,)), Input(shape=(5,))
    with pytest.raises(ValueError) as e:
        merge([a, b], mode="dot")
    msg = str(e.value)
    assert msg.startswith(DOT_INCOMPATIBLE) and "(None, 4)" in msg and "(None, 5)" in msg, msg
    p, q = Input(shape=(3, 4)), Input(shape=(3, 5))
    with pytest.raises(ValueError, match=re.escape("Dimension incompatibility using dot mode: 4 != 5.")):
        merge([p, q], mode="dot", dot_axes=2)
    with pytest.raises(ValueError, match=re.escape("Dimension incompatibility using dot mode: 3 != 5.")):
        dot([p, q], axes=[1, 2])
    with pytest.raises(ValueError, match="dot merge takes exactly 2"):
        merge([a, a, a], mode="dot")


def test_dot_dimension_incompatibility_exact_keras_text():
    a, b = Input(shape=(4,)), Input(shape=(5,))
    with pytest.raises(ValueError) as e:
        merge([a, b], mode="dot")
    assert str(e.value) == DOT_INCOMPATIBLE + "(None, 4), (None, 5)"


MERGE_TWICE = 'A Merge layer cannot be used more than once, please use the "merge" function instead: '


def test_a_merge_instance_used_twice():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    layer = Merge(mode="sum", name="summer")
    layer([a, b])
    with pytest.raises(RuntimeError) as e:
        layer([b, a])
    assert str(e.value).startswith(MERGE_TWICE), str(e.value)
    assert len(layer.inbound_nodes) == 1


def test_a_merge_instance_used_twice_exact_keras_text():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    layer = Merge(mode="sum", name="summer")
    layer([a, b])
    with pytest.raises(RuntimeError) as e:
        layer([b, a])
    assert str(e.value) == MERGE_TWICE + "`merged_tensor = merge([tensor_1, tensor2])`."


# ---------------------------------------------------------------------------------------------
# The guide's residual slip: merge([x, y]) with y a layer.

def test_merge_with_a_layer_calls_it_on_the_first_tensor_with_a_warning():
    x = Input(shape=(3,))
    y = Dense(3, name="residual_dense")
    with pytest.warns(UserWarning, match="residual_dense is a layer, not a tensor"):
        z = merge([x, y], mode="sum")  # the guide: "this returns x + y."
    assert len(y.inbound_nodes) == 1 and y.get_input_at(0) is x
    assert tuple(z.shape) == (None, 3)
    merge_layer = z._keras_history[0]
    assert merge_layer.get_input_at(0) == [x, y.get_output_at(0)]
    data = _data([(3,)], seed=10)[0]
    W, b = y.get_weights()
    np.testing.assert_allclose(_predict(x, z, data), data + data @ W + b, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Gradients through concat and dot merges: K.gradients of sum(merged * c) with a random
# cotangent c, against central differences of the NumPy reference in float64.



GRAD_CASES = [
    ("concat-axis=1", [(3, 4), (2, 4)], dict(mode="concat", concat_axis=1),
     lambda a, b: np.concatenate([a, b], axis=1)),
    ("concat-axis=-1", [(3,), (5,)], dict(mode="concat", concat_axis=-1),
     lambda a, b: np.concatenate([a, b], axis=-1)),
    ("dot-2D", [(4,), (4,)], dict(mode="dot"), lambda a, b: _np_batch_dot(a, b, (1, 1))),
    ("dot-3D-dot_axes=2", [(3, 4), (5, 4)], dict(mode="dot", dot_axes=2), lambda a, b: _np_batch_dot(a, b, (2, 2))),
    ("dot-3D-dot_axes=[2,1]", [(3, 4), (4, 2)], dict(mode="dot", dot_axes=[2, 1]),
     lambda a, b: _np_batch_dot(a, b, (2, 1))),
    ("cos-2D", [(4,), (4,)], dict(mode="cos"), _np_cos),
]


@pytest.mark.parametrize("name,shapes,kwargs,ref", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_through_merge_match_central_differences(name, shapes, kwargs, ref):
    a, b = Input(shape=shapes[0]), Input(shape=shapes[1])
    merged = merge([a, b], **kwargs)
    c = K.placeholder(shape=merged.shape)
    ga, gb = K.gradients(K.sum(merged * c), [a, b])
    assert tuple(ga.shape) == (None,) + shapes[0] and tuple(gb.shape) == (None,) + shapes[1]
    rng = np.random.RandomState(11)
    xa, xb = [rng.uniform(-1, 1, size=(3,) + s) for s in shapes]
    cv = rng.randn(*((3,) + tuple(merged.shape[1:])))
    got = K.function([a, b, c], [ga, gb])([xa, xb, cv])
    loss = lambda u, v: np.sum(ref(u, v) * cv)  # noqa: E731
    for k, g in enumerate(got):
        np.testing.assert_allclose(g, central_difference(loss, [xa, xb], k), rtol=1e-4, atol=1e-5)


def test_gradient_of_a_weight_before_a_dot_merge():
    q, ans = Input(shape=(5,)), Input(shape=(3,))
    layer = Dense(3, activation="tanh")
    score = merge([layer(q), ans], mode="dot")
    W, bias = layer.trainable_weights
    gW, gb = K.gradients(K.mean(K.square(score - 0.5)), [W, bias])
    rng = np.random.RandomState(12)
    xq, xa = rng.randn(4, 5), rng.randn(4, 3)
    got = K.function([q, ans], [gW, gb])([xq, xa])
    w0, b0 = [p.astype(np.float64) for p in layer.get_weights()]
    loss = lambda w, b: np.mean((np.sum(np.tanh(xq @ w + b) * xa, axis=1) - 0.5) ** 2)  # noqa: E731
    np.testing.assert_allclose(got[0], central_difference(loss, [w0, b0], 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[1], central_difference(loss, [w0, b0], 1), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# The guide's shared-layer model, trained. Its "tweets" become real movie-review sentences: each
# is a (T, V) binary matrix, one row per token from a V-word vocabulary (the guide: (140, 256),
# a row per character). The task: of two reviews, one positive and one negative, is the first
# the positive one? Balanced, so chance is 0.5. The guide's shared LSTM is replaced by a shared
# model: mean over time (a bag of words) then Dense(64).

T, V = 12, 256


def _review_pairs(d):
    x, y = d["x_train"], d["y_train"]
    rng = np.random.RandomState(0)
    perm = rng.permutation(len(x))
    train, test = perm[:6000], perm[6000:]
    # Vocabulary: the V-1 words (seen at least 10 times) whose class log-odds on the training
    # part, weighted by sqrt(count), are largest; every other token is dropped. Row 0 unused.
    n = int(x.max()) + 1
    pos = np.bincount(x[train][y[train] == 1].ravel(), minlength=n).astype(np.float64)
    neg = np.bincount(x[train][y[train] == 0].ravel(), minlength=n).astype(np.float64)
    log_odds = np.log((pos + 1) / (pos.sum() + n)) - np.log((neg + 1) / (neg.sum() + n))
    rank = np.where((pos + neg >= 10) & (np.arange(n) >= 2), np.abs(log_odds) * np.sqrt(pos + neg), -1.0)
    word = np.zeros(n, np.int64)
    word[np.argsort(-rank)[:V - 1]] = np.arange(1, V)
    ids = word[x]

    def matrices(rows):
        out = np.zeros((len(rows), T, V), np.float32)
        for i, r in enumerate(ids[rows]):
            r = r[r > 0][:T]
            out[i, np.arange(len(r)), r] = 1.0
        return out

    def pairs(idx, m):
        p = rng.choice(idx[y[idx] == 1], m)
        q = rng.choice(idx[y[idx] == 0], m)
        first_pos = rng.rand(m) < 0.5
        return (matrices(np.where(first_pos, p, q)), matrices(np.where(first_pos, q, p)),
                first_pos.astype(np.float32)[:, None])

    return pairs(train, 3000), pairs(test, 1000)


def test_shared_layer_model_with_a_concat_merge_learns_which_review_is_positive(reviews):
    (data_a, data_b, labels), (test_a, test_b, test_labels) = _review_pairs(reviews)

    tweet_a = Input(shape=(T, V))
    tweet_b = Input(shape=(T, V))

    # this model takes a matrix and returns a vector of size 64 (stands in for LSTM(64))
    review = Input(shape=(T, V))
    shared_encoder = Model(input=review,
                           output=Dense(64, activation="relu")(Lambda(lambda t: K.mean(t, axis=1))(review)))

    # when we reuse the same layer instance multiple times, the weights of the layer are also
    # being reused (it is effectively *the same* layer)
    encoded_a = shared_encoder(tweet_a)
    encoded_b = shared_encoder(tweet_b)

    # we can then concatenate the two vectors:
    merged_vector = merge([encoded_a, encoded_b], mode='concat', concat_axis=-1)

    # and add a logistic regression on top
    predictions = Dense(1, activation='sigmoid')(merged_vector)

    # we define a trainable model linking the tweet inputs to the predictions
    model = Model(input=[tweet_a, tweet_b], output=predictions)

    model.compile(optimizer='rmsprop',
                  loss='binary_crossentropy',
                  metrics=['accuracy'])
    assert tuple(merged_vector.shape) == (None, 128)
    assert len(model.trainable_weights) == 4  # the shared encoder's W, b and the top W, b
    h = model.fit([data_a, data_b], labels, nb_epoch=25, batch_size=64, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0] - 0.1, h.history["loss"]

    loss, acc = model.evaluate([test_a, test_b], test_labels, batch_size=250, verbose=0)
    assert acc > 0.70, (acc, loss)  # chance is 0.5; 1000 held-out pairs of held-out reviews

    # predict is the guide's model computed in NumPy with the trained weights.
    (W, b), (W2, b2) = [layer.get_weights() for layer in (shared_encoder.layers[-1], predictions._keras_history[0])]
    enc = lambda m: np.maximum(m.mean(axis=1) @ W + b, 0)  # noqa: E731
    p = 1 / (1 + np.exp(-(np.concatenate([enc(test_a), enc(test_b)], axis=1) @ W2 + b2)))
    np.testing.assert_allclose(model.predict([test_a, test_b], batch_size=250), p, rtol=1e-4, atol=1e-5)


def _mask_of(model_inputs, tensor, arrays):
    return K.function(model_inputs, [tensor._keras_mask])(arrays)[0]


def test_merged_masks_follow_keras1():
    from kiln.layers import Embedding, Masking
    a, b = Input(shape=(4,), dtype="int32"), Input(shape=(4,), dtype="int32")
    emb = Embedding(5, 3, mask_zero=True)
    ea, eb = emb(a), emb(b)
    ia = np.array([[1, 2, 0, 0], [3, 0, 4, 1]], np.int32)
    ib = np.array([[1, 0, 2, 0], [1, 1, 1, 1]], np.int32)
    ma, mb = (ia != 0).astype(np.float32), (ib != 0).astype(np.float32)
    for mode in ("sum", "mul", "ave", "max"):
        np.testing.assert_array_equal(_mask_of([a, b], merge([ea, eb], mode=mode), [ia, ib]), ma * mb)
    # concat on features: every input's mask must hold; an unmasked input holds everywhere
    np.testing.assert_array_equal(_mask_of([a, b], merge([ea, eb], mode="concat"), [ia, ib]), ma * mb)
    dense = Dense(3)(Input(shape=(4, 3)))
    c = dense._keras_history[0].inbound_nodes[0].input_tensors[0]
    mixed = merge([ea, dense], mode="concat")
    np.testing.assert_array_equal(_mask_of([a, c], mixed, [ia, np.ones((2, 4, 3), np.float32)]), ma)
    # concat along time: the masks are joined like the inputs (Keras 1.2 fails on this one)
    joined = merge([ea, dense], mode="concat", concat_axis=1)
    np.testing.assert_array_equal(_mask_of([a, c], joined, [ia, np.ones((2, 4, 3), np.float32)]),
                                  np.concatenate([ma, np.ones((2, 4), np.float32)], axis=1))
    assert merge([ea, eb], mode="dot", dot_axes=2)._keras_mask is None
    # a callable mode: output_mask is called with the masks
    m = merge([ea, eb], mode=lambda xs: xs[0] - xs[1], output_mask=lambda masks: masks[0])
    np.testing.assert_array_equal(_mask_of([a, b], m, [ia, ib]), ma)
    # Masking on 2D inputs gives one mask entry per sample; sum ANDs them, and the model trains
    x, y = Input(shape=(3,)), Input(shape=(3,))
    s = merge([Masking(0.0)(x), Masking(0.0)(y)], mode="sum")
    xs = np.array([[0, 0, 0], [1, 2, 3]], np.float32)
    np.testing.assert_array_equal(_mask_of([x, y], s, [xs, np.ones((2, 3), np.float32)]), [0, 1])
    model = Model([x, y], s)
    model.compile("sgd", "mse")
    # the masked sample counts nothing: its loss term is 0, the other's is rescaled by 1/mean(mask)
    t = np.zeros((2, 3), np.float32)
    want = (((xs + 1) - t) ** 2).mean(axis=-1) * np.array([0, 1]) / 0.5
    np.testing.assert_allclose(model.test_on_batch([xs, np.ones((2, 3), np.float32)], t), want.mean(), rtol=1e-6)
