"""model.save / load_model: Keras 1.2's HDF5 layout, predictions and training that continue
exactly (bitwise) after a reload, and clear errors for files that are not what they claim."""
import json
import os

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="model.save needs h5py (pip install h5py)")

from kiln import backend as K  # noqa: E402
from kiln.layers import BatchNormalization, Dense, Dropout, Input, Lambda, merge  # noqa: E402
from kiln.models import Model, Sequential, load_model  # noqa: E402


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def build(optimizer="adam", seed=7):
    """Shuffled batches, Dropout, BatchNormalization and a nested model: every piece of state."""
    np.random.seed(seed)
    x = Input(shape=(6,), name="x")
    h = Dense(16, activation="relu", name="hidden")(x)
    h = BatchNormalization(name="bn")(h)
    h = Dropout(0.3, name="drop")(h)
    head_in = Input(shape=(16,))
    head = Model(head_in, Dense(3, activation="softmax", name="probs")(head_in), name="head")
    m = Model(x, head(h), name="net")
    m.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["acc"])
    return m


def fit(m, epochs, **kw):
    x, y = data()
    m.fit(x, y, nb_epoch=epochs, batch_size=16, verbose=0, **kw)


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"])
def test_two_epochs_save_load_one_more_is_bitwise_three_epochs(tmp_path, optimizer):
    whole = build(optimizer)
    fit(whole, 3)
    part = build(optimizer)
    fit(part, 2)
    part.save(str(tmp_path / "m.h5"))
    resumed = load_model(str(tmp_path / "m.h5"))
    fit(resumed, 1)
    assert_same_weights(whole, resumed)


def test_resume_is_exact_with_batch_shuffling_and_validation(tmp_path):
    whole = build()
    fit(whole, 3, shuffle="batch", validation_split=0.25)
    part = build()
    fit(part, 2, shuffle="batch", validation_split=0.25)
    part.save(str(tmp_path / "m.h5"))
    resumed = load_model(str(tmp_path / "m.h5"))
    fit(resumed, 1, shuffle="batch", validation_split=0.25)
    assert_same_weights(whole, resumed)


@pytest.mark.parametrize("drop", ["train_runs", "shuffle_seed", "epochs_trained", "optimizer_weights"])
def test_each_piece_of_saved_state_is_needed(tmp_path, drop):
    """The exact-resume test can fail: without any one piece of state, the weights differ."""
    whole = build()
    fit(whole, 3)
    part = build()
    fit(part, 2)
    path = str(tmp_path / "m.h5")
    part.save(path)
    with h5py.File(path, "r+") as f:
        if drop == "optimizer_weights":
            del f["optimizer_weights"]
        else:
            state = json.loads(f.attrs["kiln_state"])
            state[drop] = {"train_runs": 0, "shuffle_seed": 12345, "epochs_trained": 0}[drop]
            f.attrs["kiln_state"] = np.bytes_(json.dumps(state).encode())
    resumed = load_model(path)
    fit(resumed, 1)
    assert any(not np.array_equal(u, v) for u, v in zip(whole.get_weights(), resumed.get_weights()))


def test_file_layout_is_keras_1_2s(tmp_path):
    m = build()
    fit(m, 1)
    path = str(tmp_path / "m.h5")
    m.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"] == b"1.2.2"
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Model" and config["config"]["name"] == "net"
        train = json.loads(f.attrs["training_config"])
        assert train["optimizer_config"]["class_name"] == "Adam"
        assert train["loss"] == "categorical_crossentropy" and train["metrics"] == ["acc"]
        assert train["sample_weight_mode"] is None and train["loss_weights"] == [1.0]
        names = [n.decode() for n in f["model_weights"].attrs["layer_names"]]
        assert names == [l.name for l in m.layers]
        bn = [n.decode() for n in f["model_weights"]["bn"].attrs["weight_names"]]
        assert bn == ["bn_gamma", "bn_beta", "bn_running_mean", "bn_running_std"]
        np.testing.assert_array_equal(f["model_weights"]["bn"]["bn_running_std"][()],
                                      m.get_layer("bn").get_weights()[3])
        opt = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
        trainable = sorted(w.name for w in m.trainable_weights)
        assert opt == ["iterations"] + [w + ".m" for w in trainable] + [w + ".v" for w in trainable]
        assert f["optimizer_weights"]["iterations"][()] == 6.0  # 96 rows / 16
        state = json.loads(f.attrs["kiln_state"])
        assert state["train_runs"] == 6 and state["epochs_trained"] == 1


def test_load_model_predicts_the_same_and_is_compiled(tmp_path):
    m = build()
    fit(m, 1)
    path = str(tmp_path / "m.h5")
    m.save(path)
    again = load_model(path)
    x, y = data(40, seed=3)
    np.testing.assert_array_equal(m.predict(x), again.predict(x))
    assert again.metrics_names == m.metrics_names
    np.testing.assert_allclose(again.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0), rtol=1e-6)
    assert float(K.get_value(again.optimizer.lr)) == float(K.get_value(m.optimizer.lr))


def test_an_uncompiled_model_loads_uncompiled(tmp_path):
    x = Input(shape=(3,))
    m = Model(x, Dense(2)(x))
    m.save(str(tmp_path / "m.h5"))
    again = load_model(str(tmp_path / "m.h5"))
    assert again.optimizer is None
    v = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(m.predict(v), again.predict(v))


def test_sequential_saves_and_loads(tmp_path):
    np.random.seed(3)
    m = Sequential([Dense(8, input_dim=6, activation="tanh"), Dropout(0.2), Dense(3, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    fit(m, 1)
    m.save(str(tmp_path / "s.h5"))
    again = load_model(str(tmp_path / "s.h5"))
    assert isinstance(again, Sequential)
    x, _ = data(10)
    np.testing.assert_array_equal(m.predict(x), again.predict(x))


def test_a_loss_reading_a_variable_is_saved_by_name_and_needs_custom_objects(tmp_path):
    weight = K.variable(0.5, name="loss_weight")  # state a callback may change: not data for an op list

    def halved_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1) * weight

    x = Input(shape=(6,))
    m = Model(x, Dense(3)(x))
    m.compile("sgd", halved_mse)
    path = str(tmp_path / "m.h5")
    with pytest.warns(UserWarning, match="halved_mse.*loss_weight.*saved by name"):
        m.save(path)
    with pytest.raises(ValueError, match="halved_mse.*custom_objects"):
        load_model(path)
    again = load_model(path, custom_objects={"halved_mse": halved_mse})
    assert again.loss_functions[0] is halved_mse


def test_a_lambda_is_refused_before_anything_is_written(tmp_path):
    path = str(tmp_path / "m.h5")
    good = build()
    good.save(path)
    before = open(path, "rb").read()
    x = Input(shape=(6,))
    scale = K.variable(2.0)
    bad = Model(x, Lambda(lambda t: t * scale, name="twice")(x))
    with pytest.raises(ValueError, match="twice"):
        bad.save(path)
    assert open(path, "rb").read() == before
    assert os.listdir(str(tmp_path)) == ["m.h5"]  # no temporary file left behind


def test_a_save_that_fails_midway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    from kiln.saving import weights
    path = str(tmp_path / "m.h5")
    m = build()
    m.save(path)
    before = open(path, "rb").read()

    def boom(group, values):
        group.attrs["layer_names"] = np.array([b"partly"], dtype="S")
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(weights, "write_weights_group", boom)
    with pytest.raises(OSError, match="disk on fire"):
        m.save(path)
    assert open(path, "rb").read() == before
    assert os.listdir(str(tmp_path)) == ["m.h5"]
    load_model(path)


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    path = str(tmp_path / "m.h5")
    m = build()
    m.save(path)
    with pytest.raises(IOError, match="exists"):
        m.save(path, overwrite=False)


def _saved(tmp_path):
    path = str(tmp_path / "m.h5")
    m = build()
    fit(m, 1)
    m.save(path)
    return path


def _edit(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)


def _set_config(f, edit):
    config = json.loads(f.attrs["model_config"])
    edit(config)
    f.attrs["model_config"] = np.bytes_(json.dumps(config).encode())


def _rename_class(config):
    config["config"]["layers"][1]["class_name"] = "FancyDense"


def _bad_shape(f):
    del f["model_weights"]["hidden"]["hidden_W"]
    f["model_weights"]["hidden"].create_dataset("hidden_W", data=np.zeros((6, 17), np.float32))


def _bad_slot(f):
    g = f["optimizer_weights"]
    name = [n.decode() for n in g.attrs["weight_names"]][1]
    del g[name]
    g.create_dataset(name, data=np.zeros((2, 2), np.float32))


def _drop_slot(f):
    names = list(f["optimizer_weights"].attrs["weight_names"])
    f["optimizer_weights"].attrs["weight_names"] = np.array(names[:-1], dtype="S")


def _set_attr(key, value):
    def edit(f):
        f.attrs[key] = np.bytes_(value)
    return edit


@pytest.mark.parametrize("edit, match", [
    (_set_attr("model_config", b"{not json"), "model_config attribute is not valid JSON"),
    (lambda f: _set_config(f, _rename_class), r"Unknown layer class: 'FancyDense'.*custom_objects"),
    (_bad_shape, r"layer \"hidden\".*\(6, 16\).*\(6, 17\)"),
    (lambda f: f.__delitem__("model_weights"), "no model_weights group"),
    (lambda f: f.attrs.__delitem__("model_config"), "no model_config attribute"),
    (_set_attr("training_config", b"[1]"), "training_config must hold"),
    (_bad_slot, r"optimizer weight .* has shape \(2, 2\) in the file but"),
    (_drop_slot, "optimizer_weights holds"),
    (_set_attr("kiln_state", b'{"train_runs": -4}'), "kiln_state"),
    (lambda f: _set_config(f, lambda c: c["config"].update(layers=[{"name": 1}])), "Invalid model config"),
])
def test_malformed_model_files_are_clear_errors_and_stay_unchanged(tmp_path, edit, match):
    path = _saved(tmp_path)
    _edit(path, edit)
    before = open(path, "rb").read()
    with pytest.raises(ValueError, match=match) as e:
        load_model(path)
    assert path in str(e.value)
    assert open(path, "rb").read() == before


def test_files_that_are_not_model_files(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"this is not HDF5")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        load_model(str(junk))
    with pytest.raises(IOError, match="no such file"):
        load_model(str(tmp_path / "missing.h5"))
    x = Input(shape=(3,))
    m = Model(x, Dense(2)(x))
    m.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match="weights-only file loads with model.load_weights"):
        load_model(str(tmp_path / "w.h5"))


def test_load_weights_reads_a_model_file(tmp_path):
    path = _saved(tmp_path)
    other = build(seed=99)
    other.load_weights(path)
    assert_same_weights(load_model(path), other)


def test_multi_output_model_with_loss_weights_round_trips(tmp_path):
    x = Input(shape=(6,))
    h = Dense(8, activation="relu")(x)
    a = Dense(3, activation="softmax", name="a")(h)
    b = Dense(1, name="b")(merge([h, x], mode="concat"))
    m = Model(x, [a, b])
    m.compile("rmsprop", {"a": "categorical_crossentropy", "b": "mse"}, metrics={"a": "acc"},
              loss_weights={"a": 1.0, "b": 0.25})
    xs, ys = data(32)
    m.fit(xs, [ys, xs[:, :1]], nb_epoch=1, verbose=0)
    m.save(str(tmp_path / "m.h5"))
    again = load_model(str(tmp_path / "m.h5"))
    assert again.metrics_names == m.metrics_names and again.loss_weights == [1.0, 0.25]
    for u, v in zip(m.predict(xs), again.predict(xs)):
        np.testing.assert_array_equal(u, v)


def test_a_model_whose_config_is_over_64k_saves(tmp_path):
    x = Input(shape=(4,))
    h = x
    for _ in range(250):
        h = Dense(4, activation="tanh")(h)
    m = Model(x, h)
    assert len(m.to_json()) > 65536  # past HDF5's compact attribute limit
    m.save(str(tmp_path / "big.h5"))
    again = load_model(str(tmp_path / "big.h5"))
    v = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(m.predict(v), again.predict(v))
