"""Keras 1.2's `keras.engine`, `engine.topology`, `engine.training` and `keras.models` paths:
each name is the one kiln defines, and each is used (a model built from the engine's names
trains; the training helpers are called on data and checked)."""
import json

import numpy as np
import pytest

from kiln import backend as K
import kiln.layers
import kiln.models

ENGINE = ["Input", "InputLayer", "InputSpec", "Layer", "Merge", "merge", "Model", "get_source_inputs"]
TOPOLOGY = ENGINE[:-2] + ["get_source_inputs", "Container", "Node", "to_list", "object_list_uid"]
TRAINING = ["Model", "weighted_objective", "standardize_input_data", "check_array_lengths",
            "check_loss_and_target_compatibility", "standardize_weights", "make_batches", "slice_X", "batch_shuffle",
            "collect_metrics", "collect_trainable_weights"]
MODELS = ["Model", "Sequential", "model_from_json", "model_from_yaml", "model_from_config", "save_model",
          "load_model"]


@pytest.mark.parametrize("path,names", [("engine", ENGINE), ("engine.topology", TOPOLOGY),
                                        ("engine.training", TRAINING), ("models", MODELS)])
def test_every_name_is_on_its_path(path, names):
    import importlib
    module = importlib.import_module("kiln." + path)
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, "kiln.%s lacks %s" % (path, missing)


def test_engine_names_build_a_model_that_trains():
    from kiln.engine import Input, InputLayer, InputSpec, Layer, Merge, Model, get_source_inputs, merge
    from kiln.engine import topology, training
    from user_layers import Gain
    assert issubclass(Gain, Layer) and topology.InputSpec is InputSpec

    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), name="b")
    h = Merge(mode="concat")([Gain()(a), Gain()(b)])
    y = kiln.layers.Dense(1)(merge([h, h], mode="sum"))
    model = Model(input=[a, b], output=y)
    assert Model is training.Model is kiln.models.Model and topology.Input is Input
    assert isinstance(model, topology.Container) and isinstance(model.layers[0], InputLayer)
    assert all(isinstance(n, topology.Node) for layer in model.layers for n in layer.inbound_nodes)
    assert get_source_inputs(y) == [a, b]
    xs = [np.ones((8, 3), np.float32), np.zeros((8, 3), np.float32)]
    model.compile("sgd", "mse")
    first = model.train_on_batch(xs, np.ones((8, 1), np.float32))
    assert model.train_on_batch(xs, np.ones((8, 1), np.float32)) < first


def test_topology_helpers():
    from kiln.engine.topology import object_list_uid, to_list
    a, b = K.placeholder(shape=(None, 2)), K.placeholder(shape=(None, 2))
    assert to_list(a) == [a] and to_list([a, b]) == [a, b]
    assert object_list_uid([a, b]) == "%d, %d" % (abs(id(a)), abs(id(b)))
    assert object_list_uid(a) == str(abs(id(a)))


def test_training_helpers_on_data():
    from kiln.engine import training as T
    assert T.make_batches(10, 4) == [(0, 4), (4, 8), (8, 10)]
    x = np.arange(10)
    assert T.slice_X(x, 2, 5).tolist() == [2, 3, 4]
    assert [s.tolist() for s in T.slice_X([x, x * 2], np.array([1, 3]))] == [[1, 3], [2, 6]]
    np.random.seed(0)
    shuffled = T.batch_shuffle(np.arange(10), 3)
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled[-1] == 9  # the partial batch stays last
    assert sorted(tuple(shuffled[i:i + 3]) for i in (0, 3, 6)) == [(0, 1, 2), (3, 4, 5), (6, 7, 8)]

    xs = T.standardize_input_data({"a": np.ones((5, 3))}, ["a"], [(None, 3)])
    assert len(xs) == 1 and xs[0].shape == (5, 3)
    with pytest.raises(ValueError, match="expected a to have shape"):
        T.standardize_input_data(np.ones((5, 4)), ["a"], [(None, 3)])
    with pytest.raises(ValueError, match="same number of samples"):
        T.check_array_lengths([np.ones((5, 1))], [np.ones((4, 1))])
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        T.check_loss_and_target_compatibility([np.ones((5, 1))], ["categorical_crossentropy"], [(None, 1)])

    y = np.eye(3)[[0, 2, 1, 2]]
    np.testing.assert_array_equal(T.standardize_weights(y), np.ones(4))
    np.testing.assert_array_equal(T.standardize_weights(y, class_weight={0: 1.0, 1: 2.0, 2: 3.0}), [1, 3, 2, 3])
    np.testing.assert_array_equal(T.standardize_weights(y, np.arange(4), {0: 1.0, 1: 2.0, 2: 3.0}), np.arange(4))
    with pytest.raises(ValueError, match="sample_weight"):
        T.standardize_weights(y, np.ones((4, 2)))

    assert T.collect_metrics(["acc"], ["o1", "o2"]) == [["acc"], ["acc"]]
    assert T.collect_metrics({"o2": "mae"}, ["o1", "o2"]) == [[], ["mae"]]
    assert T.collect_metrics(None, ["o1"]) == [[]]
    with pytest.raises(TypeError, match="metrics"):
        T.collect_metrics("acc", ["o1"])

    yt, yp, w = K.placeholder(shape=(None, 2)), K.placeholder(shape=(None, 2)), K.placeholder(shape=(None,))
    f = K.function([yt, yp, w], [T.weighted_objective(kiln.losses.mean_absolute_error)(yt, yp, w)])
    got = f([np.zeros((2, 2), np.float32), np.array([[1, 1], [3, 3]], np.float32), np.array([0, 1], np.float32)])
    np.testing.assert_allclose(got[0], 3.0)  # only the second sample counts, its weight over the non-zero mean


def test_sample_weight_wins_over_class_weight_as_in_keras():
    """Keras 1.2's standardize_weights takes sample_weight when both are given; fit uses it."""
    x = kiln.layers.Input(shape=(2,))
    model = kiln.models.Model(x, kiln.layers.Dense(2, activation="softmax")(x))
    model.compile("sgd", "categorical_crossentropy")
    xs, ys = np.ones((4, 2), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    sw = np.array([1, 0, 1, 0], np.float32)
    alone = model.test_on_batch(xs, ys, sample_weight=sw)
    both = model.train_on_batch(xs, ys, sample_weight=sw, class_weight={0: 5.0, 1: 5.0})  # the loss before the step
    assert np.isclose(both, alone, rtol=1e-5)  # the class weights (5) were not applied


def test_collect_trainable_weights_is_sorted_and_honours_trainable():
    from kiln.engine.training import collect_trainable_weights
    x = kiln.layers.Input(shape=(2,))
    shared = kiln.layers.Dense(2, name="dense_z")
    model = kiln.models.Model(x, kiln.layers.Dense(1, name="dense_a")(shared(shared(x))))
    names = [w.name for w in collect_trainable_weights(model)]
    assert names == sorted(names) and len(names) == 4
    shared.trainable = False
    assert [w.name for w in collect_trainable_weights(model)] == ["dense_a_W", "dense_a_b"]
    model.trainable = False
    assert collect_trainable_weights(model) == []


def test_models_path_round_trips_a_sequential(tmp_path):
    from kiln.models import (Model, Sequential, load_model, model_from_config, model_from_json, model_from_yaml,
                             save_model)
    seq = Sequential([kiln.layers.Dense(3, input_dim=2, activation="tanh"), kiln.layers.Dense(1)])
    seq.compile("sgd", "mse")
    xs = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    seq.train_on_batch(xs, np.ones((6, 1), np.float32))
    want = seq.predict(xs)
    for again in (model_from_json(seq.to_json()), model_from_yaml(seq.to_yaml()),
                  model_from_config(json.loads(seq.to_json()))):
        again.set_weights(seq.get_weights())
        np.testing.assert_allclose(again.predict(xs), want, rtol=1e-6)
    save_model(seq, str(tmp_path / "m.h5"))
    loaded = load_model(str(tmp_path / "m.h5"))
    np.testing.assert_allclose(loaded.predict(xs), want, rtol=1e-6)
    assert isinstance(loaded, Model)
