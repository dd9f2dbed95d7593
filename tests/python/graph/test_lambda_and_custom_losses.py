"""Lambda layers (reference section 7) and custom losses and metrics written with
`kiln.backend`, including the guide's question/answer model built with stand-in layers."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, Input, Lambda, merge
from kiln.models import Model


def _predict(inputs, output, *arrays):
    return Model(input=inputs, output=output).predict(list(arrays) if len(arrays) > 1 else arrays[0])


def test_lambda_on_one_tensor():
    a = Input(shape=(5,))
    y = Lambda(lambda x: K.square(x) - 2.0 * x)(a)
    assert tuple(y.shape) == (None, 5)
    data = np.random.RandomState(0).randn(7, 5).astype(np.float32)
    np.testing.assert_allclose(_predict(a, y, data), data ** 2 - 2 * data, rtol=1e-6, atol=1e-6)


def test_lambda_on_a_list_with_a_function_of_the_list_and_of_two_arguments():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    of_list = Lambda(lambda xs: xs[0] * xs[1] - xs[1])([a, b])
    of_args = Lambda(lambda x, y: K.square(x - y))([a, b])  # the guide's form

    def named(x, y):
        return K.maximum(x, y)

    of_def = Lambda(named)([a, b])
    rng = np.random.RandomState(1)
    xa, xb = rng.randn(6, 4).astype(np.float32), rng.randn(6, 4).astype(np.float32)
    m = Model(input=[a, b], output=[of_list, of_args, of_def])
    got = m.predict([xa, xb])
    np.testing.assert_allclose(got[0], xa * xb - xb, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], (xa - xb) ** 2, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got[2], np.maximum(xa, xb))
    # A Lambda on a list is one node with two inbound tensors.
    layer = of_args._keras_history[0]
    assert layer.get_input_at(0) == [a, b]
    assert layer.input_shape == [(None, 4), (None, 4)]


def test_lambda_arguments():
    a = Input(shape=(3,))
    y = Lambda(lambda x, scale, shift: x * scale + shift, arguments={"scale": 3.0, "shift": -1.0})(a)
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(_predict(a, y, data), data * 3 - 1, rtol=1e-6)


def test_lambda_on_a_list_with_arguments_gets_the_list():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    z = Lambda(lambda xs, k: (xs[0] - xs[1]) * k, arguments={"k": 0.5})([a, b])
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(_predict([a, b], z, data, 2 * data), -0.5 * data, rtol=1e-6)


def test_lambda_of_two_arguments_with_arguments():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    z = Lambda(lambda x, y, k: (x - y) * k, arguments={"k": 0.5})([a, b])
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(_predict([a, b], z, data, 2 * data), -0.5 * data, rtol=1e-6)


def test_output_shape_tuple_and_function_agree_with_the_traced_shape():
    a = Input(shape=(6,))
    total = lambda x: K.sum(x, axis=-1, keepdims=True)  # noqa: E731
    t = Lambda(total, output_shape=(1,))
    assert tuple(t(a).shape) == (None, 1) and t.output_shape == (None, 1)
    f = Lambda(total, output_shape=lambda s: (s[0], 1))
    assert tuple(f(a).shape) == (None, 1) and f.get_output_shape_for((None, 6)) == (None, 1)
    b = Input(shape=(6,))
    g = Lambda(lambda x, y: x - y, output_shape=lambda shapes: shapes[0])
    assert tuple(g([a, b]).shape) == (None, 6)
    lst = Lambda(lambda x, y: K.sum(x * y, axis=-1, keepdims=True), output_shape=[1])
    assert tuple(lst([a, b]).shape) == (None, 1)


def test_output_shape_that_disagrees_raises_naming_both_shapes():
    a = Input(shape=(6,))
    with pytest.raises(ValueError) as e:
        Lambda(lambda x: K.sum(x, axis=-1, keepdims=True), output_shape=(6,), name="bad_shape")(a)
    msg = str(e.value)
    assert "bad_shape" in msg and "(None, 6)" in msg and "(None, 1)" in msg
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 6\)"):
        Lambda(lambda x: x * 2.0, output_shape=lambda s: (s[0], 3))(a)
    with pytest.raises(ValueError, match="output_shape function must return a tuple"):
        Lambda(lambda x: x, output_shape=lambda s: 6)(a)
    with pytest.raises(TypeError, match="In Lambda, `output_shape` must be a list, a tuple, or a function."):
        Lambda(lambda x: x, output_shape=6)


def test_output_shape_inferred_from_the_traced_ops():
    a = Input(shape=(4, 6))  # 3D: reductions over different axes give different shapes
    assert tuple(Lambda(lambda x: K.mean(x, axis=1))(a).shape) == (None, 6)
    assert tuple(Lambda(lambda x: K.max(x, axis=-1, keepdims=True))(a).shape) == (None, 4, 1)
    layer = Lambda(lambda x: K.sum(x, axis=[1, 2], keepdims=True))
    out = layer(a)
    assert tuple(out.shape) == (None, 1, 1) and layer.output_shape == (None, 1, 1)
    # ... and the next layer builds on that inferred shape.
    d = Dense(3)(Lambda(lambda x: K.mean(x, axis=1))(a))
    assert d._keras_history[0].get_weights()[0].shape == (6, 3)
    data = np.random.RandomState(2).rand(5, 4, 6).astype(np.float32)
    np.testing.assert_allclose(_predict(a, out, data), data.sum(axis=(1, 2), keepdims=True), rtol=1e-5)


# The guide's custom losses, one per output (the guide leaves them to the reader).
def custom_loss_1(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1)


def custom_loss_2(y_true, y_pred):  # the good answer's score should reach the target margin
    return K.mean(K.maximum(y_true - y_pred, 0.0), axis=-1)


def custom_loss_3(y_true, y_pred):  # the bad answer's score should fall below the target
    return K.mean(K.maximum(y_pred - y_true, 0.0), axis=-1)


def score_gap(y_true, y_pred):
    """A custom metric: returns a scalar (reduced over the batch)."""
    return K.mean(K.abs(y_pred - y_true))


def build_question_answer_model():
    """The guide's Q&A model. Stand-ins: questions and answers are float vectors of shape
    (100,) and Dense layers take the place of Embedding + LSTM; the scores are the guide's
    `merge([...], mode='dot')`."""
    question_input = Input(shape=(100,))
    good_answer_input = Input(shape=(100,))
    bad_answer_input = Input(shape=(100,))

    embedded_question = Dense(32, activation="tanh")(question_input)  # Embedding(output_dim=1024)
    encoded_question = Dense(16, activation="tanh")(embedded_question)  # LSTM(512)

    # the two layers below will be shared across the two answer inputs
    answer_embedding = Dense(32, activation="tanh")
    answer_lstm = Dense(16, activation="tanh")
    encoded_good_answer = answer_lstm(answer_embedding(good_answer_input))
    encoded_bad_answer = answer_lstm(answer_embedding(bad_answer_input))

    # let's take the dot product between the question embedding
    # and the embedding of the answers
    good_answer_score = merge([encoded_question, encoded_good_answer], mode='dot')
    bad_answer_score = merge([encoded_question, encoded_bad_answer], mode='dot')

    output = Lambda(lambda x, y: K.square(x - y))([good_answer_score, bad_answer_score])
    model = Model(input=[question_input, good_answer_input, bad_answer_input],
                  output=[output, good_answer_score, bad_answer_score])
    return model, locals()


def np_encode(dense_layers, x):
    for layer in dense_layers:
        W, b = layer.get_weights()
        x = np.tanh(x @ W + b)
    return x


def test_question_answer_model_trains_with_custom_losses_and_metrics():
    model, g = build_question_answer_model()
    assert len(model.inputs) == 3 and len(model.outputs) == 3
    assert [tuple(t.shape) for t in model.outputs] == [(None, 1)] * 3
    assert [g[k]._keras_history[0].mode for k in ("good_answer_score", "bad_answer_score")] == ["dot", "dot"]
    # The shared answer layers are each one layer (two nodes) with one set of weights.
    assert len(g["answer_lstm"].inbound_nodes) == 2 and len(g["answer_embedding"].inbound_nodes) == 2
    assert len(model.trainable_weights) == 8
    out_names = model.output_names
    model.compile(optimizer="rmsprop", loss=[custom_loss_1, custom_loss_2, custom_loss_3],
                  metrics={out_names[1]: [score_gap], out_names[2]: score_gap})
    assert model.metrics_names == ["loss"] + [n + "_loss" for n in out_names] + \
        [out_names[1] + "_score_gap", out_names[2] + "_score_gap"]

    rng = np.random.RandomState(0)
    n = 256
    q_data, good_ans_data, bad_ans_data = (rng.rand(n, 100).astype(np.float32) for _ in range(3))
    custom_target_1 = np.full((n, 1), 4.0, np.float32)  # squared gap between the two scores
    custom_target_2 = np.full((n, 1), 1.0, np.float32)
    custom_target_3 = np.full((n, 1), -1.0, np.float32)
    h = model.fit([q_data, good_ans_data, bad_ans_data], [custom_target_1, custom_target_2, custom_target_3],
                  nb_epoch=2, batch_size=32, verbose=0)
    assert sorted(h.history) == sorted(model.metrics_names)
    assert len(h.history["loss"]) == 2
    assert h.history["loss"][1] < h.history["loss"][0], h.history["loss"]

    out, good, bad = model.predict([q_data, good_ans_data, bad_ans_data])
    assert out.shape == good.shape == bad.shape == (n, 1)
    np.testing.assert_allclose(out, (good - bad) ** 2, rtol=1e-4, atol=1e-5)
    # Each reported per-output figure is that custom function on predict's outputs.
    res = model.evaluate([q_data, good_ans_data, bad_ans_data], [custom_target_1, custom_target_2,
                                                                  custom_target_3], batch_size=n, verbose=0)
    expected = [np.mean((out - 4.0) ** 2), np.mean(np.maximum(1.0 - good, 0)), np.mean(np.maximum(bad + 1.0, 0)),
                np.mean(np.abs(good - 1.0)), np.mean(np.abs(bad + 1.0))]
    np.testing.assert_allclose(res[1:], expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(res[0], sum(expected[:3]), rtol=1e-4)

    # The guide's embedders: separate models over the same (trained) layers.
    question_embedder = Model(input=g["question_input"], output=g["encoded_question"])
    embedded_qs = question_embedder.predict(q_data)
    q_layers = [g["embedded_question"]._keras_history[0], g["encoded_question"]._keras_history[0]]
    np.testing.assert_allclose(embedded_qs, np_encode(q_layers, q_data), rtol=1e-4, atol=1e-5)
    answer_embedder = Model(input=g["good_answer_input"], output=g["encoded_good_answer"])
    embedded_ans = answer_embedder.predict(bad_ans_data)  # any answer: the layers are shared
    a_layers = [g["answer_embedding"], g["answer_lstm"]]
    np.testing.assert_allclose(embedded_ans, np_encode(a_layers, bad_ans_data), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.sum(embedded_qs * embedded_ans, axis=1, keepdims=True), bad,
                               rtol=1e-4, atol=1e-5)


def test_custom_metric_names_in_history_single_output():
    a = Input(shape=(8,))
    model = Model(input=a, output=Dense(1)(a))

    def max_abs_error(y_true, y_pred):
        return K.max(K.abs(y_pred - y_true))

    model.compile(optimizer="sgd", loss=custom_loss_1, metrics=[max_abs_error, "mae"])
    assert model.metrics_names == ["loss", "max_abs_error", "mean_absolute_error"]
    rng = np.random.RandomState(0)
    x, y = rng.rand(40, 8), rng.rand(40, 1)
    h = model.fit(x, y, nb_epoch=1, batch_size=40, verbose=0, validation_data=(x, y))
    assert list(h.history) == ["loss", "max_abs_error", "mean_absolute_error",
                               "val_loss", "val_max_abs_error", "val_mean_absolute_error"]
    p = model.predict(x)
    np.testing.assert_allclose(h.history["val_max_abs_error"][0], np.max(np.abs(p - y)), rtol=1e-5)
    np.testing.assert_allclose(h.history["val_loss"][0], np.mean((p - y) ** 2), rtol=1e-5)


def test_custom_loss_that_reduces_to_a_scalar():
    """A loss that already averages over the batch is used as is (no per-sample weighting)."""
    a = Input(shape=(4,))
    model = Model(input=a, output=Dense(2)(a))

    def batch_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true))

    model.compile(optimizer="sgd", loss=batch_mse)
    rng = np.random.RandomState(1)
    x, y = rng.rand(16, 4), rng.rand(16, 2)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=16, verbose=0),
                               np.mean((model.predict(x) - y) ** 2), rtol=1e-5)
    h = model.fit(x, y, nb_epoch=5, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
