"""ONNX export of what the other interop paths bring in: GRU(reset_after=True) (Keras 2's and
torch's GRU, which kiln composes of backend ops unrolled over the steps, so it exports as those
ops), a model given torch weights, and the models loaded from the real Keras 2 and Keras 3
files in fixtures/. Each runs in ONNX Runtime and is compared with model.predict
(onnx_check.py's tolerance) on real data from kiln.datasets, and the Keras files also with
the outputs Keras itself recorded."""
import os
import warnings

import numpy as np
import pytest

from interop.onnx_check import ATOL, RTOL, check, feed, onnx

import kiln.onnx
from kiln.layers import GRU, Bidirectional, Dense, Embedding, Input, TimeDistributed
from kiln.models import Model, load_model

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
MODEL_FILES = [("keras2", n + ".h5") for n in ("batchnorm", "conv1d", "conv2d_last", "dense", "gru", "lstm", "merge",
                                               "nested", "rnn_v1", "sequential")] + \
              [("keras3", n + ".keras") for n in ("batchnorm", "conv1d", "conv2d_first", "conv2d_last", "dense", "gru",
                                                  "lstm", "merge", "nested", "rnn_v1", "sequential")] + \
              [("keras3", "lstm.h5")]


def words(reviews, n, length, vocab):
    return (np.asarray(reviews["x_test"][:n, :length], np.int64) % vocab).astype(np.int32)


def pixels(mnist, shape, n, offset=0):
    """n samples of `shape` from real MNIST test digits, centred so that both signs occur."""
    size = int(np.prod(shape))
    flat = mnist[2][offset:offset + n, 200:]
    while flat.shape[1] < size:
        flat = np.concatenate([flat, flat[:, ::-1]], axis=1)
    return ((flat[:, :size] - 0.3) * 3.0).reshape((n,) + tuple(shape)).astype(np.float32)


def op_types(model, tmp_path):
    return [n.op_type for n in onnx.load(str(tmp_path / ("%s.onnx" % model.name))).graph.node]


def spread(model, seed=0, scale=0.8):
    """Weights drawn wider than the initializers (the biases start at zero), so that every
    weight, bU_* included, changes the outputs."""
    rng = np.random.RandomState(seed)
    for w in model.weights:
        w.set_value(rng.uniform(-scale, scale, w.shape).astype(np.float32))
    return model


def test_gru_reset_after_exports_as_its_ops(reviews, tmp_path):
    ids = Input(shape=(25,), dtype="int32")
    h = Embedding(1000, 8, input_length=25)(ids)
    h = GRU(6, return_sequences=True, reset_after=True)(h)  # hard_sigmoid gates: ONNX HardSigmoid
    h = GRU(5, return_sequences=True, reset_after=True, inner_activation="sigmoid", go_backwards=True)(h)
    h = Bidirectional(GRU(4, return_sequences=True, reset_after=True, activation="relu"), merge_mode="concat")(h)
    model = spread(Model(ids, TimeDistributed(Dense(3, activation="softmax"))(h)))
    x = words(reviews, 9, 25, 1000)
    sess = check(model, x, tmp_path)
    ops = op_types(model, tmp_path)
    assert "GRU" not in ops and "HardSigmoid" in ops and "Sigmoid" in ops and "Relu" in ops
    one = x[4:5]  # one file, any batch
    np.testing.assert_allclose(sess.run(None, feed(sess, [one]))[0], model.predict(one), atol=ATOL, rtol=RTOL)


def test_gru_reset_after_last_output_bidirectional(mnist, tmp_path):
    x = Input(shape=(28, 28))  # MNIST rows as steps
    h = Bidirectional(GRU(7, reset_after=True, inner_activation="sigmoid"), merge_mode="ave")(x)
    model = spread(Model(x, Dense(10, activation="softmax")(h)), seed=1, scale=0.4)
    check(model, mnist[2][:12].reshape(12, 28, 28), tmp_path)


def test_torch_gru_weights_through_kiln_to_onnx(reviews, tmp_path):
    """torch's nn.GRU -> load_torch_state_dict -> kiln.onnx: ONNX Runtime gives torch's outputs."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    from kiln.interop import load_torch_state_dict

    torch.manual_seed(0)
    embed, gru = torch.nn.Embedding(1000, 16), torch.nn.GRU(16, 12, batch_first=True)
    for p in gru.parameters():
        p.data.uniform_(-0.5, 0.5)
    ids = Input(shape=(30,), dtype="int32")
    h = GRU(12, return_sequences=True, reset_after=True, inner_activation="sigmoid")(
        Embedding(1000, 16, input_length=30)(ids))
    model = Model(ids, h)
    load_torch_state_dict(model, {"embed.weight": embed.weight, **{"gru." + k: v for k, v in
                                                                   gru.state_dict().items()}})
    x = words(reviews, 8, 30, 1000)
    sess = check(model, x, tmp_path)
    with torch.no_grad():
        want = gru(embed(torch.from_numpy(x.astype(np.int64))))[0].numpy()
    np.testing.assert_allclose(sess.run(None, feed(sess, [x]))[0], want, atol=ATOL, rtol=RTOL)


def fixture_inputs(sub, name):
    data = np.load(os.path.join(HERE, sub, name + ".npz"))
    return [data[k] for k in sorted(k for k in data.files if k.startswith("x"))], data["y"]


def loaded(sub, filename):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "uncompiled: training_config not read"
        return load_model(os.path.join(HERE, sub, filename))


@pytest.mark.parametrize("sub,filename", MODEL_FILES, ids=["%s/%s" % f for f in MODEL_FILES])
def test_a_keras_file_model_exports(sub, filename, mnist, tmp_path):
    """The Keras file's model in ONNX Runtime: on the inputs Keras recorded, Keras' own outputs
    and predict's; on real MNIST pixels (another batch size, the same file), predict's."""
    model = loaded(sub, filename)
    xs, y = fixture_inputs(sub, filename.rsplit(".", 1)[0])
    sess = check(model, xs, tmp_path)
    np.testing.assert_allclose(sess.run(None, feed(sess, xs))[0], y, atol=1e-5, rtol=0)
    real = [pixels(mnist, x.shape[1:], 11, offset=40 * k) for k, x in enumerate(xs)]
    got = sess.run(None, feed(sess, real))[0]
    np.testing.assert_allclose(got, model.predict(real if len(real) > 1 else real[0]), atol=ATOL, rtol=RTOL)
    if filename.startswith("gru."):  # tf-keras' and Keras 3's default GRU is reset_after=True
        assert any(getattr(layer, "reset_after", False) for layer in model.layers)
        assert "GRU" not in op_types(model, tmp_path)


@pytest.mark.parametrize("sub,filename", [("keras2", "embedding_lstm.h5"), ("keras3", "embedding_lstm.keras")])
def test_a_keras_file_with_a_masked_lstm_is_refused(sub, filename, tmp_path):
    """Embedding(mask_zero=True) before an LSTM: ONNX's LSTM has no per-step mask."""
    model = loaded(sub, filename)
    with pytest.raises(kiln.onnx.ExportError, match="layer 'lstm'.*masked sequence"):
        kiln.onnx.export(model, tmp_path / "m.onnx")
