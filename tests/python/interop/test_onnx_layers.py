"""ONNX export, layer by layer: every layer class kiln registers (the config round-trip examples
of tests/python/saving/test_configs.py, which fail when a registered layer lacks one) exports,
passes onnx.checker with shape inference, and gives model.predict's outputs in ONNX Runtime on
real MNIST pixels, at two batch sizes from one file. Then the orderings, opsets, dynamic
lengths and the refusals."""
import sys
from pathlib import Path

import numpy as np
import pytest

from interop.onnx_check import ATOL, RTOL, check, feed, onnx, session

import kiln.onnx
from kiln import backend as K
from kiln.layers import (GRU, LSTM, BatchNormalization, Bidirectional, Convolution2D, Dense, Embedding, Input,
                         Lambda, MaxPooling2D, AveragePooling2D, SimpleRNN, TimeDistributed, merge)
from kiln.models import Model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "saving"))
import test_configs  # noqa: E402  (its EXAMPLES: one per registered layer class)

# Layers whose ops have no ONNX conversion yet (docs/interop.md): each is refused, naming the op.
NOT_EXPORTED = {"ConvLSTM2D": "scan"}
EXAMPLES = sorted(k for k, v in test_configs.EXAMPLES.items() if v is not None and k not in NOT_EXPORTED)


def pixels(mnist, shape, n, offset=0):
    """n samples of `shape` cut from real MNIST test digits (their middle rows, centred and
    scaled so that values of both signs occur)."""
    x = mnist[2][offset:offset + n]
    size = int(np.prod(shape))
    flat = np.concatenate([x[:, 300:], x[:, 150:300], x[:, :150]], axis=1)
    while flat.shape[1] < size:
        flat = np.concatenate([flat, flat[::-1]], axis=1)
    return ((flat[:, :size] - 0.3) * 3.0).reshape((n,) + tuple(shape)).astype(np.float32)


def words(reviews, length, n, vocab):
    """n rows of `length` real word indices from the movie reviews, below `vocab`."""
    x = np.asarray(reviews["x_test"][:n, :length], np.int64)
    return (x % vocab).astype(np.int32)


def example_model(name):
    inputs, layer = test_configs.EXAMPLES[name]()
    out = layer(inputs if len(inputs) > 1 else inputs[0])
    return Model(inputs, out)


def example_inputs(model, mnist, n):
    xs = []
    for k, t in enumerate(model.inputs):
        if model.input_layers[k].input_dtype == "int32":
            xs.append((np.arange(n * int(np.prod(t.shape[1:]))).reshape((n,) + t.shape[1:]) * 7 % 9 + 1)
                      .astype(np.int32))
        else:
            xs.append(pixels(mnist, t.shape[1:], n, offset=50 * k))
    return xs


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_layer_exports_and_matches_predict(name, mnist, tmp_path):
    model = example_model(name)
    sess = check(model, example_inputs(model, mnist, 7), tmp_path)
    one = example_inputs(model, mnist, 1)  # the batch is dynamic: the same file at batch 1
    got = sess.run(None, feed(sess, one))
    want = model.predict(one if len(one) > 1 else one[0])
    np.testing.assert_allclose(got[0], want, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("name", sorted(NOT_EXPORTED))
def test_layers_without_a_conversion_are_refused_by_name(name, tmp_path):
    model = example_model(name)
    with pytest.raises(kiln.onnx.ExportError, match="layer '%s'.*op %s .*has no ONNX conversion"
                       % (model.layers[-1].name, NOT_EXPORTED[name])):
        kiln.onnx.to_onnx(model)


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_conv_and_pooling_in_both_orderings(ordering, mnist, tmp_path):
    shape = (1, 28, 28) if ordering == "th" else (28, 28, 1)
    x = Input(shape=shape)
    h = Convolution2D(4, 3, 3, border_mode="same", subsample=(2, 2), activation="relu", dim_ordering=ordering)(x)
    h = MaxPooling2D((3, 3), strides=(2, 2), border_mode="same", dim_ordering=ordering)(h)
    h = Convolution2D(3, 2, 2, border_mode="valid", dim_ordering=ordering)(h)
    h = AveragePooling2D((2, 2), border_mode="same", dim_ordering=ordering)(h)
    h = BatchNormalization(axis=1 if ordering == "th" else -1)(h)
    model = Model(x, h)
    model.compile("sgd", "mse")
    xs = mnist[2][:16].reshape((16,) + shape)
    model.fit(xs, model.predict(xs) + 0.5, nb_epoch=1, verbose=0)  # moving averages away from 0 and 1
    sess = check(model, xs, tmp_path)
    ops = [n.op_type for n in onnx.load(str(tmp_path / ("%s.onnx" % model.name))).graph.node]
    assert ops.count("Conv") == 2 and "MaxPool" in ops and "AveragePool" in ops
    if ordering == "th":  # channels first: kiln's transposes around its NHWC ops cancel out
        assert "Transpose" not in ops, ops
    assert sess.get_inputs()[0].shape[0] == "batch"


@pytest.mark.parametrize("opset", [13, 17, 18, 21])
def test_opsets(opset, mnist, tmp_path):
    x = Input(shape=(6, 4))
    h = Lambda(lambda t: K.mean(t, axis=1) + K.max(t, axis=1) - K.min(K.permute_dimensions(t, (0, 2, 1)), axis=-1)
               + K.sum(K.square(t), axis=1) * K.prod(t, axis=1))(x)
    model = Model(x, Dense(3, activation="softmax")(h))
    check(model, pixels(mnist, (6, 4), 5), tmp_path, opset=opset)
    assert onnx.load(str(tmp_path / ("%s.onnx" % model.name))).opset_import[0].version == opset


def test_an_opset_out_of_range_is_refused(tmp_path):
    x = Input(shape=(3,))
    with pytest.raises(ValueError, match="opset must be between 13 and"):
        kiln.onnx.export(Model(x, Dense(2)(x)), tmp_path / "m.onnx", opset=9)


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("backwards", [False, True])
def test_recurrent_ops_over_a_dynamic_length(cls, backwards, mnist, tmp_path):
    """Input(shape=(None, 28)): MNIST rows as steps, the file run at two lengths and batches."""
    x = Input(shape=(None, 28))
    seq = cls(5, return_sequences=True, go_backwards=backwards, activation="tanh")(x)
    last = cls(4, inner_activation="sigmoid", go_backwards=not backwards)(seq) if cls is not SimpleRNN \
        else cls(4, activation="relu")(seq)
    model = Model(x, [seq, last])
    sess = session(model, tmp_path)
    assert sess.get_inputs()[0].shape[:2] == ["batch", sess.get_inputs()[0].shape[1]]
    assert isinstance(sess.get_inputs()[0].shape[1], str)  # the time axis is a named dim
    ops = [n.op_type for n in onnx.load(str(tmp_path / ("%s.onnx" % model.name))).graph.node]
    assert ops.count({LSTM: "LSTM", GRU: "GRU", SimpleRNN: "RNN"}[cls]) == 2
    for n, steps in ((6, 28), (2, 9)):
        xs = mnist[2][:n].reshape(n, 28, 28)[:, :steps]
        got = sess.run(None, feed(sess, [xs]))
        for g, w in zip(got, model.predict(xs)):
            np.testing.assert_allclose(g, w, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("mode", ["sum", "mul", "concat", "ave", "max", "dot", "cos"])
def test_merge_modes(mode, mnist, tmp_path):
    a, b = Input(shape=(12,)), Input(shape=(12,))
    da, db = Dense(6, activation="tanh")(a), Dense(6, activation="tanh")(b)
    kw = {"dot_axes": 1} if mode in ("dot", "cos") else {}
    model = Model([a, b], merge([da, db], mode=mode, **kw))
    check(model, [pixels(mnist, (12,), 9), pixels(mnist, (12,), 9, offset=20)], tmp_path)


def test_bidirectional_timedistributed_and_nested_models(mnist, tmp_path):
    frame = Input(shape=(28,))
    encoder = Model(frame, Dense(8, activation="relu")(frame))
    x = Input(shape=(28, 28))
    h = TimeDistributed(encoder)(x)
    for mode in ("concat", "sum", "mul", "ave"):
        h = Bidirectional(GRU(4, return_sequences=True), merge_mode=mode)(h)
    model = Model(x, Bidirectional(LSTM(3))(h))
    check(model, mnist[2][:5].reshape(5, 28, 28), tmp_path)


def test_embedding_takes_integer_inputs(reviews, tmp_path):
    q = Input(shape=(30,), dtype="int32")
    model = Model(q, LSTM(6)(Embedding(1000, 8, input_length=30)(q)))
    sess = check(model, words(reviews, 30, 11, 1000), tmp_path)
    assert sess.get_inputs()[0].type == "tensor(int32)"


def test_a_masked_recurrent_layer_is_refused_naming_it(tmp_path):
    q = Input(shape=(10,), dtype="int32")
    model = Model(q, LSTM(3, name="masked_lstm")(Embedding(50, 4, mask_zero=True)(q)))
    with pytest.raises(kiln.onnx.ExportError, match="layer 'masked_lstm'.*masked sequence"):
        kiln.onnx.export(model, tmp_path / "m.onnx")


def test_a_stateful_layer_is_refused_naming_it(tmp_path):
    x = Input(batch_shape=(2, 5, 3))
    model = Model(x, LSTM(3, stateful=True, name="remembers")(x))
    with pytest.raises(kiln.onnx.ExportError, match="remembers.*stateful"):
        kiln.onnx.export(model, tmp_path / "m.onnx")


def test_a_lambda_drawing_random_numbers_is_refused_naming_it(tmp_path):
    x = Input(shape=(3,))
    model = Model(x, Lambda(lambda t: t + K.random_normal(shape=(3,)), name="noisy")(x))
    with pytest.raises(kiln.onnx.ExportError, match="noisy.*random"):
        kiln.onnx.export(model, tmp_path / "m.onnx")


def test_a_loaded_model_exports_its_lambda_from_the_traced_ops(mnist, tmp_path):
    pytest.importorskip("h5py", reason="model files need h5py")
    from kiln.models import load_model
    x = Input(shape=(784,))
    h = Dense(16, activation="tanh")(x)
    model = Model(x, Lambda(lambda t: K.exp(-K.square(t)) * 2.0 - K.sqrt(K.abs(t) + 1.0), name="bump")(h))
    model.save(str(tmp_path / "m.h5"))
    loaded = load_model(str(tmp_path / "m.h5"), compile=False)
    check(loaded, mnist[2][:32], tmp_path)
    np.testing.assert_allclose(loaded.predict(mnist[2][:32]), model.predict(mnist[2][:32]), atol=1e-6)
