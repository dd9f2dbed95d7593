"""Models are layers (the guide's "All models are callable" section): calling a model re-uses
its layers and weights, models nest, a model made from inner tensors of another shares its
layers; plus `model.layers`, `get_layer`, `summary()` of nested models, the construction
errors of Keras 1.2 (reference section 5) and gradients through nested models."""
import numpy as np
import pytest

from numeric import numeric_grad
from kiln import backend as K
from kiln.layers import Dense, Input, Lambda, merge
from kiln.models import Model
from kiln.utils.np_utils import to_categorical


def guide_mnist_model():
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    predictions = Dense(10, activation="softmax")(x)
    return Model(input=inputs, output=predictions)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_calling_a_model_reuses_its_weights_and_training_the_outer_trains_the_inner(mnist):
    x_train, y_train, x_test, y_test = mnist
    model = guide_mnist_model()
    x = Input(shape=(784,))
    y = model(x)  # the guide: "this works, and returns the 10-way softmax we defined above"
    assert tuple(y.shape) == (None, 10)
    outer = Model(input=x, output=y)
    sample = x_test[:300]
    before = model.predict(sample)
    np.testing.assert_array_equal(outer.predict(sample), before)
    # Same weights: the same variables, with the same values.
    assert all(p is q for p, q in zip(outer.weights, model.weights))
    for p, q in zip(outer.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(p, q)

    outer.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    outer.fit(x_train[:20000], to_categorical(y_train[:20000], 10), nb_epoch=1, batch_size=64, verbose=0)
    after = model.predict(sample)
    assert np.abs(after - before).max() > 0.1
    np.testing.assert_allclose(outer.predict(sample), after, rtol=1e-6, atol=1e-7)
    # The inner model, never compiled or trained itself, now classifies MNIST.
    W1, b1, W2, b2 = model.get_weights()
    np.testing.assert_allclose(after, softmax(np.maximum(sample @ W1 + b1, 0) @ W2 + b2), rtol=1e-4, atol=1e-6)
    acc = float(np.mean(model.predict(x_test).argmax(axis=1) == y_test))
    assert acc > 0.85, acc


def test_nesting_three_deep():
    rng = np.random.RandomState(0)
    x1 = Input(shape=(5,))
    m1 = Model(input=x1, output=Dense(4, activation="tanh")(x1))
    x2 = Input(shape=(5,))
    m2 = Model(input=x2, output=Dense(3, activation="tanh")(m1(x2)))
    x3 = Input(shape=(5,))
    m3 = Model(input=x3, output=Dense(2)(m2(x3)))
    assert [type(l).__name__ for l in m3.layers] == ["InputLayer", "Model", "Dense"]
    assert m3.layers[1] is m2 and m2.layers[1] is m1
    assert len(m3.trainable_weights) == 6
    assert m3.count_params() == (5 * 4 + 4) + (4 * 3 + 3) + (3 * 2 + 2)

    def forward(data):
        (a, b), (c, d), (e, f) = m1.get_weights(), m2.layers[2].get_weights(), m3.layers[2].get_weights()
        return np.tanh(np.tanh(data @ a + b) @ c + d) @ e + f

    data = rng.randn(16, 5).astype(np.float32)
    np.testing.assert_allclose(m3.predict(data), forward(data), rtol=1e-5, atol=1e-6)
    inner_before = m1.predict(data)
    m3.compile(optimizer="sgd", loss="mse")
    m3.fit(data, rng.randn(16, 2), nb_epoch=5, batch_size=16, verbose=0)
    assert np.abs(m1.predict(data) - inner_before).max() > 1e-3  # the innermost layer was trained
    np.testing.assert_allclose(m3.predict(data), forward(data), rtol=1e-5, atol=1e-6)

    # A fourth level that uses m3 twice: still one set of weights.
    x4 = Input(shape=(5,))
    m4 = Model(input=x4, output=merge([m3(x4), m3(x4)], mode="sum"))
    assert len(m4.trainable_weights) == 6
    np.testing.assert_allclose(m4.predict(data), 2 * forward(data), rtol=1e-5, atol=1e-5)


def test_model_from_inner_tensors_shares_layers():
    """The guide's `question_embedder = Model(input=question_input, output=encoded_question)`."""
    rng = np.random.RandomState(1)
    question_input = Input(shape=(12,))
    answer_input = Input(shape=(12,))
    embedded_question = Dense(8, activation="tanh")(question_input)
    encoded_question = Dense(4, activation="tanh")(embedded_question)
    encoded_answer = Dense(4, activation="tanh")(answer_input)
    score = Lambda(lambda q, a: K.sum(q * a, axis=-1, keepdims=True))([encoded_question, encoded_answer])
    model = Model(input=[question_input, answer_input], output=score)
    question_embedder = Model(input=question_input, output=encoded_question)

    assert question_embedder.layers[1] is embedded_question._keras_history[0]
    assert all(l in model.layers for l in question_embedder.layers)  # the very same layer objects
    assert [l.name for l in question_embedder.layers] == [question_input._keras_history[0].name,
                                                          embedded_question._keras_history[0].name,
                                                          encoded_question._keras_history[0].name]
    assert set(map(id, question_embedder.weights)) <= set(map(id, model.weights))
    q, a = rng.randn(32, 12), rng.randn(32, 12)
    before = question_embedder.predict(q)
    model.compile(optimizer="sgd", loss="mse")
    model.fit([q, a], rng.randn(32, 1), nb_epoch=3, batch_size=8, verbose=0)
    after = question_embedder.predict(q)
    assert np.abs(after - before).max() > 1e-3
    (w1, b1), (w2, b2) = question_embedder.layers[1].get_weights(), question_embedder.layers[2].get_weights()
    np.testing.assert_allclose(after, np.tanh(np.tanh(q @ w1 + b1) @ w2 + b2), rtol=1e-4, atol=1e-6)


def test_layers_include_inputs_in_depth_order_and_get_layer():
    """Keras 1.2's test_multi_input_layer (merge 'sum' instead of 'concat'): 6 layers."""
    a = Input(shape=(32,), name="input_a")
    b = Input(shape=(32,), name="input_b")
    dense = Dense(16, name="dense_1")
    merged = merge([dense(a), dense(b)], mode="sum", name="merge")
    c = Dense(64, name="dense_2")(merged)
    d = Dense(5, name="dense_3")(c)
    model = Model(input=[a, b], output=[c, d], name="model")
    assert [l.name for l in model.layers] == ["input_a", "input_b", "dense_1", "merge", "dense_2", "dense_3"]
    assert model.inputs == [a, b] and model.outputs == [c, d]
    assert model.input_names == ["input_a", "input_b"] and model.output_names == ["dense_2", "dense_3"]
    assert [l.name for l in model.input_layers] == ["input_a", "input_b"]
    assert model.get_layer("dense_1") is dense
    assert model.get_layer(name="merge") is model.layers[3]
    assert model.get_layer(index=0).name == "input_a"
    assert model.get_layer(index=5).name == "dense_3"
    with pytest.raises(ValueError) as e:
        model.get_layer(index=9)
    assert str(e.value) == "Was asked to retrieve layer at index 9 but model only has 6 layers."
    # Keras 1.2 returns None here (a bug, fixed in Keras 2); kiln raises, naming the layer.
    with pytest.raises(ValueError, match="No such layer: dense_9"):
        model.get_layer("dense_9")


def test_summary_of_nested_model_shows_it_as_one_row(capsys):
    K.reset_uids()
    x = Input(shape=(8,))
    inner = Model(input=x, output=Dense(3, activation="softmax")(Dense(6, activation="tanh")(x)))
    x2 = Input(shape=(8,))
    outer = Model(input=x2, output=Dense(2)(inner(x2)))
    assert inner.name == "model_1" and len(inner.inbound_nodes) == 2
    outer.summary()
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[3:] if line and line[0].isalpha() and "(" in line.split()[1]]
    assert rows == [
        ["input_2", "(InputLayer)", "(None,", "8)", "0"],
        ["model_1", "(Model)", "(None,", "3)", str(8 * 6 + 6 + 6 * 3 + 3), "input_2[0][0]"],
        ["dense_3", "(Dense)", "(None,", "2)", "8", "model_1[1][0]"],  # node 1: node 0 is the model's own
    ]
    assert "Total params: 83" in lines and "Trainable params: 83" in lines


def test_graph_disconnected_names_the_tensor_and_layer():
    a = Input(shape=(3,), name="in_a")
    b = Input(shape=(3,), name="in_b")
    s = Lambda(lambda x, y: x + y, name="adder")([a, b])
    with pytest.raises(RuntimeError) as e:
        Model(input=a, output=s)
    msg = str(e.value)
    assert msg.startswith("Graph disconnected: cannot obtain value for tensor ")
    assert "in_b" in msg and 'at layer "adder"' in msg
    assert "The following previous layers were accessed without issue" in msg


def test_model_whose_output_does_not_depend_on_its_input():
    a = Input(shape=(3,), name="used")
    b = Input(shape=(3,), name="other")
    out = Dense(2, name="head")(b)
    with pytest.raises(RuntimeError, match=r'Graph disconnected: .*other.* at layer "head"'):
        Model(input=a, output=out)


def test_redundant_inputs():
    a = Input(shape=(3,))
    with pytest.raises(ValueError) as e:
        Model(input=[a, a], output=Dense(1)(a))
    assert str(e.value).startswith("The list of inputs passed to the model is redundant. All inputs should only "
                                   "appear once. Found: ")


def test_duplicate_layer_names():
    a = Input(shape=(3,))
    out = Dense(2, name="twin")(Dense(2, name="twin")(a))
    with pytest.raises(RuntimeError) as e:
        Model(input=a, output=out)
    assert str(e.value) == 'The name "twin" is used 2 times in the model. All layer names should be unique.'


def test_non_keras_tensors_as_inputs_or_outputs():
    a = Input(shape=(3,))
    h = Dense(2)(a)
    raw = K.placeholder(shape=(None, 3))
    with pytest.raises(TypeError, match=r"^Input tensors to a Model must be Keras tensors\. Found: .*"
                                        r"\(missing Keras metadata\)\.$"):
        Model(input=raw, output=h)
    with pytest.raises(TypeError, match=r"^Output tensors to a Model must be Keras tensors\. Found: "):
        Model(input=a, output=K.square(h))  # a backend op, not a layer: no Keras history
    with pytest.raises(TypeError, match="must be Keras tensors"):
        Model(input=np.zeros((2, 3)), output=h)


def test_input_that_is_not_an_input_layer_warns_then_is_disconnected():
    """As in Keras 1.2: a warning, then the walk back from the outputs reaches the real Input."""
    a = Input(shape=(3,), name="real_input")
    h = Dense(4)(a)
    with pytest.warns(UserWarning, match="Model inputs must come from a Keras Input layer"):
        with pytest.raises(RuntimeError, match="Graph disconnected: .*real_input"):
            Model(input=h, output=Dense(2)(h))


def test_calling_a_layer_or_model_on_a_non_tensor():
    K.reset_uids()
    with pytest.raises(TypeError) as e:
        Dense(2)(np.zeros((4, 3), np.float32))
    assert "Layer dense_1 was called with an input that isn't a symbolic tensor" in str(e.value)
    assert "numpy.ndarray" in str(e.value)
    a = Input(shape=(3,))
    model = Model(input=a, output=Dense(2)(a))
    with pytest.raises(TypeError, match="isn't a symbolic tensor"):
        model(np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="isn't a symbolic tensor"):
        Dense(2)([a, 3.0])




def test_gradients_through_a_nested_model_used_twice():
    rng = np.random.RandomState(5)
    x = Input(shape=(3,))
    inner = Model(input=x, output=Dense(2, activation="sigmoid")(Dense(4, activation="tanh")(x)))
    a, b = Input(shape=(3,)), Input(shape=(3,))
    top = Dense(1)
    out = top(merge([inner(a), inner(b)], mode="mul"))
    loss = K.mean(K.square(out - 0.3))
    weights = inner.trainable_weights + top.trainable_weights
    xa, xb = rng.randn(4, 3), rng.randn(4, 3)
    got = K.function([a, b], K.gradients(loss, weights))([xa, xb])

    params = [w.astype(np.float64) for w in inner.get_weights() + top.get_weights()]
    W1, b1, W2, b2, W3, b3 = params

    def f():
        def enc(v):
            return 1.0 / (1.0 + np.exp(-(np.tanh(v @ W1 + b1) @ W2 + b2)))
        return np.mean(((enc(xa) * enc(xb)) @ W3 + b3 - 0.3) ** 2)

    for g, p in zip(got, params):
        np.testing.assert_allclose(g, numeric_grad(f, p), rtol=2e-3, atol=2e-6)


def test_frozen_nested_model_is_not_trained():
    x = Input(shape=(3,))
    inner = Model(input=x, output=Dense(2)(x))
    inner.trainable = False
    x2 = Input(shape=(3,))
    outer = Model(input=x2, output=Dense(1)(inner(x2)))
    assert len(outer.trainable_weights) == 2 and len(outer.non_trainable_weights) == 2
    outer.compile(optimizer="sgd", loss="mse")
    before = inner.get_weights()
    top_before = outer.layers[2].get_weights()
    rng = np.random.RandomState(0)
    outer.fit(rng.rand(16, 3), rng.rand(16, 1), nb_epoch=2, batch_size=8, verbose=0)
    assert not np.allclose(outer.layers[2].get_weights()[0], top_before[0])  # the top layer trains
    for p, q in zip(before, inner.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_frozen_layer_is_not_trained():
    a = Input(shape=(3,))
    frozen = Dense(2, trainable=False)
    model = Model(input=a, output=Dense(1)(frozen(a)))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    model.compile(optimizer="sgd", loss="mse")
    before = frozen.get_weights()
    rng = np.random.RandomState(0)
    model.fit(rng.rand(16, 3), rng.rand(16, 1), nb_epoch=2, batch_size=8, verbose=0)
    for p, q in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_deep_residual_chain_orders_layers_by_depth():
    """60 residual blocks: 2^60 paths from output to input, so topology must be linear-time."""
    x = a = Input(shape=(4,))
    denses = []
    for _ in range(60):
        d = Dense(4, init="zero")
        denses.append(d)
        x = merge([x, d(x)], mode="sum")
    m = Model(input=a, output=x)
    assert len(m.layers) == 121
    assert m.layers[0] is a._keras_history[0] and m.layers[-1] is x._keras_history[0]
    depth = {id(l): d for d, ls in m.layers_by_depth.items() for l in ls}
    assert all(depth[id(d1)] > depth[id(d2)] for d1, d2 in zip(denses, denses[1:]))
    data = np.random.randn(3, 4).astype(np.float32)
    np.testing.assert_allclose(m.predict(data), data, rtol=1e-6)  # zero Dense: identity blocks
