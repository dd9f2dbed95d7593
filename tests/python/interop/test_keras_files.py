"""Files written by real Keras 2 (tf-keras) and Keras 3 load in kiln and predict what Keras
predicted; kiln's keras_format weights files have the layouts Keras reads (docs/interop.md,
"Keras files"). The fixtures come from fixtures/make_keras_fixtures.py, run by hand with real
Keras; their sha256s are in fixtures/SHA256SUMS. No Keras is needed here."""
import hashlib
import json
import os
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras files need h5py")

import kiln  # noqa: E402
from kiln.layers import GRU, Dense, Input  # noqa: E402
from kiln.models import Model, load_model  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
TOL = 1e-5  # float32 kernels in a different order


def fixtures(sub, ext):
    d = os.path.join(HERE, sub)
    return sorted(f[:-len(ext)] for f in os.listdir(d) if f.endswith(ext) and not f.endswith("weights.h5"))


def inputs(sub, name):
    data = np.load(os.path.join(HERE, sub, name + ".npz"))
    xs = [data[k] for k in sorted(k for k in data.files if k.startswith("x"))]
    return (xs if len(xs) > 1 else xs[0]), data["y"], json.loads(str(data["versions"]))


def test_checksums_match():
    lines = open(os.path.join(HERE, "SHA256SUMS")).read().split("\n")
    listed = set()
    for line in filter(None, lines):
        digest, rel = line.split("  ")
        with open(os.path.join(HERE, rel), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, rel
        listed.add(rel)
    present = {"%s/%s" % (s, f) for s in ("keras1", "keras2", "keras3") for f in os.listdir(os.path.join(HERE, s))}
    assert present == listed
    assert sum(os.path.getsize(os.path.join(HERE, r)) for r in listed) < 1 << 20


@pytest.mark.parametrize("name", fixtures("keras2", ".h5"))
def test_keras2_model_file(name):
    x, y, versions = inputs("keras2", name)
    assert versions["keras"].startswith("2.")
    model = load_model(os.path.join(HERE, "keras2", name + ".h5"))
    np.testing.assert_allclose(model.predict(x), y, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", fixtures("keras3", ".keras"))
def test_keras3_model_file(name):
    x, y, versions = inputs("keras3", name)
    assert versions["keras"].startswith("3.")
    model = load_model(os.path.join(HERE, "keras3", name + ".keras"))
    np.testing.assert_allclose(model.predict(x), y, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", fixtures("keras3", ".h5"))
def test_keras3_legacy_h5(name):
    x, y, _ = inputs("keras3", name)
    np.testing.assert_allclose(load_model(os.path.join(HERE, "keras3", name + ".h5")).predict(x), y, atol=TOL, rtol=0)


@pytest.mark.parametrize("sub,model_ext,weights_ext", [("keras2", ".h5", "_weights.h5"),
                                                       ("keras3", ".keras", ".weights.h5")])
@pytest.mark.parametrize("name", ["dense", "nested"])
def test_weights_only_files(sub, model_ext, weights_ext, name):
    x, y, _ = inputs(sub, name)
    model = load_model(os.path.join(HERE, sub, name + model_ext))
    for w in model.weights:  # scramble, then read the weights file alone
        w.set_value(np.zeros(w.shape, np.float32))
    model.load_weights(os.path.join(HERE, sub, name + weights_ext))
    np.testing.assert_allclose(model.predict(x), y, atol=TOL, rtol=0)


def test_keras2_weights_into_a_kiln_built_model():
    """load_weights by position into a model built in kiln (names differ) with Keras 2 spellings."""
    x, y, _ = inputs("keras2", "dense")
    i = Input(shape=(4,))
    m = Model(i, Dense(3, activation="softmax")(Dense(5, activation="relu")(i)))
    m.load_weights(os.path.join(HERE, "keras2", "dense_weights.h5"))
    np.testing.assert_allclose(m.predict(x), y, atol=TOL, rtol=0)


def test_keras1_theano_model_file():
    """Keras 1.2's layout (written by h5py: no Keras 1.2 runs here) with Theano-flipped kernels."""
    x, y, _ = inputs("keras1", "conv2d_theano")
    path = os.path.join(HERE, "keras1", "conv2d_theano.h5")
    model = load_model(path)
    assert not np.allclose(model.predict(x), y, atol=1e-3)  # as stored: Theano's convolution
    model.load_weights(os.path.join(HERE, "keras1", "conv2d_theano.weights.h5"), theano_kernels=True)
    np.testing.assert_allclose(model.predict(x), y, atol=TOL, rtol=0)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_v1", "conv1d", "conv2d_last", "batchnorm", "nested"])
def test_keras_format_round_trip(tmp_path, version, name):
    """kiln writes keras_format=2/3 and reads its own file back (real Keras reading them is
    checked by make_keras_fixtures.py); the files have Keras' layout."""
    sub = "keras%d" % version
    x, y, _ = inputs(sub, name)
    model = load_model(os.path.join(HERE, sub, name + (".h5" if version == 2 else ".keras")))
    path = str(tmp_path / ("w.h5" if version == 2 else "w.weights.h5"))
    model.save_weights(path, keras_format=version)
    with h5py.File(path, "r") as f:
        if version == 2:
            assert f.attrs["keras_version"].startswith(b"2.") and "layer_names" in f.attrs
        else:
            assert "layers" in f and "layer_names" not in f.attrs
    for w in model.weights:
        w.set_value(np.zeros(w.shape, np.float32))
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x), y, atol=TOL, rtol=0)


def test_keras3_file_matches_what_kiln_writes(tmp_path):
    """The paths and variables kiln writes for Keras 3 are those Keras 3 itself wrote."""
    path = str(tmp_path / "w.weights.h5")
    load_model(os.path.join(HERE, "keras3", "nested.keras")).save_weights(path, keras_format=3)
    mine = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: mine.setdefault(n, tuple(o.shape)) if isinstance(o, h5py.Dataset) else None)
    theirs = {}
    with h5py.File(os.path.join(HERE, "keras3", "nested.weights.h5"), "r") as f:
        f.visititems(lambda n, o: theirs.setdefault(n, tuple(o.shape)) if isinstance(o, h5py.Dataset) else None)
    assert mine == theirs


# ------------------------------------------------------------------ what cannot be converted

def _edit_keras3(tmp_path, name, edit):
    src = os.path.join(HERE, "keras3", name + ".keras")
    dst = str(tmp_path / (name + ".keras"))
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for item in z.namelist():
            data = z.read(item)
            if item == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            out.writestr(item, data)
    return dst


def _layer(config, name):
    return next(l for l in config["config"]["layers"] if l["name"] == name)


@pytest.mark.parametrize("name,layer,edit,words", [
    ("lstm", "lstm_a", lambda c: c.update(recurrent_activation="hard_sigmoid"), ["lstm_a", "LSTM", "hard_sigmoid"]),
    ("lstm", "lstm_b", lambda c: c.update(return_state=True), ["lstm_b", "return_state"]),
    ("dense", "hidden", lambda c: c.update(activation="gelu"), ["hidden", "Dense", "gelu"]),
    ("dense", "hidden", lambda c: c.update(kernel_constraint={"class_name": "MaxNorm", "config": {}}),
     ["hidden", "kernel_constraint"]),
    ("conv1d", "conv_a", lambda c: c.update(data_format="channels_first"), ["conv_a", "Conv1D", "channels_first"]),
    ("conv2d_last", "flat", lambda c: c.update(data_format="channels_first"), ["flat", "Flatten"]),
    ("conv2d_last", "conv_a", lambda c: c.update(groups=2), ["conv_a", "groups"]),
])
def test_unconvertible_layer_is_named(tmp_path, name, layer, edit, words):
    path = _edit_keras3(tmp_path, name, lambda config: edit(_layer(config, layer)["config"]))
    with pytest.raises(ValueError) as e:
        load_model(path)
    for w in words:
        assert w in str(e.value)
    assert path in str(e.value)


def test_unknown_class_is_named(tmp_path):
    def edit(config):
        _layer(config, "hidden")["class_name"] = "EinsumDense"
    with pytest.raises(ValueError, match="'hidden' \\(EinsumDense\\).*kiln has no EinsumDense"):
        load_model(_edit_keras3(tmp_path, "dense", edit))


def test_gru_reset_after_mismatch_is_named():
    """A Keras GRU with reset_after=True into kiln's GRU without it: the error says what to do."""
    i = Input(shape=(5, 3))
    m = Model(i, GRU(4, recurrent_activation="sigmoid")(i))
    with pytest.raises(ValueError, match="reset_after=True"):
        m.load_weights(os.path.join(HERE, "keras2", "gru.h5"))


def test_wrong_shape_names_layer_and_shapes():
    i = Input(shape=(4,))
    m = Model(i, Dense(3)(Dense(6, name="wide")(i)))
    with pytest.raises(ValueError, match="'wide'.*kernel has shape \\(4, 5\\).*needs \\(4, 6\\)"):
        m.load_weights(os.path.join(HERE, "keras2", "dense_weights.h5"))


def test_gru_reset_after_needs_known_length():
    i = Input(shape=(None, 3))
    with pytest.raises(ValueError, match="reset_after=True.*known number of timesteps"):
        GRU(4, reset_after=True)(i)


def test_keras_format_argument_checked(tmp_path):
    i = Input(shape=(4,))
    with pytest.raises(ValueError, match="keras_format"):
        Model(i, Dense(2)(i)).save_weights(str(tmp_path / "w.h5"), keras_format=4)
