"""Sequential: a linear stack of layers with the Model API."""
import numpy as np
import pytest

from kiln.layers import Activation, Dense, Dropout, Input
from kiln.models import Model, Sequential


def test_sequential_builds_trains_and_matches_the_functional_model(mnist):
    x_train, y_train, x_test, y_test = mnist
    m = Sequential([Dense(64, input_dim=784), Activation("relu"), Dropout(0.1)])
    m.add(Dense(10, activation="softmax"))
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Activation", "Dropout", "Dense"]
    assert m.inputs[0]._keras_history[0].name.startswith("dense_input_")
    assert m.output_shape == (None, 10)
    m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x_train[:20000], y_train[:20000], nb_epoch=2, verbose=0)
    assert m.evaluate(x_test, y_test, verbose=0)[1] > 0.9
    # usable as a layer of a functional model, weights shared
    x = Input(shape=(784,))
    f = Model(input=x, output=m(x))
    np.testing.assert_allclose(f.predict(x_test[:50]), m.predict(x_test[:50]), rtol=1e-6)


def test_pop_and_errors():
    m = Sequential()
    with pytest.raises(ValueError, match="must get an `input_shape` or `batch_input_shape`"):
        m.add(Dense(3))
    m.add(Dense(4, input_shape=(2,)))
    m.add(Dense(5))
    assert m.output_shape == (None, 5)
    m.pop()
    assert m.output_shape == (None, 4) and len(m.layers) == 1
    m.compile("sgd", "mse")
    m.fit(np.random.rand(8, 2), np.random.rand(8, 4), nb_epoch=1, verbose=0)
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        m.add("dense")


# Keras 1's Merge([seq_a, seq_b], mode=...) as a Sequential's first layer, nested Sequentials,
# and the Keras 1.2 Sequential methods (predict_classes, predict_proba, build(), .model).
def _relu(v):
    return np.maximum(v, 0)


def _branch(n_in, n_out, seed):
    from kiln.layers import Dense
    s = Sequential([Dense(n_out, input_dim=n_in), Activation("relu")])
    rng = np.random.RandomState(seed)
    s.set_weights([rng.randn(n_in, n_out).astype("float32"), rng.randn(n_out).astype("float32")])
    return s


def _np_branch(s, x):
    w, b = s.get_weights()
    return _relu(x @ w + b)


@pytest.mark.parametrize("mode", ["sum", "concat", "mul", "dot"])
def test_a_merge_of_sequentials_predicts_the_merge_of_their_outputs(mode):
    from kiln.layers import Merge, merge
    left, right = _branch(5, 4, 0), _branch(5, 4, 1)
    kwargs = {"dot_axes": 1} if mode == "dot" else {}
    model = Sequential([Merge([left, right], mode=mode, **kwargs), Dense(3)])
    assert len(model.inputs) == 2 and [type(l).__name__ for l in model.layers] == \
        ["Sequential", "Sequential", "Merge", "Dense"]
    rng = np.random.RandomState(2)
    x1, x2 = rng.rand(6, 5).astype("float32"), rng.rand(6, 5).astype("float32")
    a, b = _np_branch(left, x1), _np_branch(right, x2)
    m = {"sum": a + b, "concat": np.concatenate([a, b], 1), "mul": a * b,
         "dot": (a * b).sum(1, keepdims=True)}[mode]
    w, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(model.predict([x1, x2]), m @ w + bias, rtol=1e-5, atol=1e-5)
    # the functional model built by hand with the same layers predicts the same
    i1, i2 = Input(shape=(5,)), Input(shape=(5,))
    f = Model([i1, i2], model.layers[-1](merge([left(i1), right(i2)], mode=mode, **kwargs)))
    np.testing.assert_allclose(model.predict([x1, x2]), f.predict([x1, x2]), rtol=1e-6)
    # training moves the merged models' own weights
    before = left.get_weights()[0].copy()
    model.compile("sgd", "mse")
    model.fit([x1, x2], rng.rand(6, 3), nb_epoch=1, verbose=0)
    assert not np.allclose(left.get_weights()[0], before)


def test_a_model_merged_with_itself_has_one_input_and_nested_merges_take_the_union():
    from kiln.layers import Merge
    left = _branch(5, 4, 0)
    overlap = Sequential([Merge([left, left], mode="sum")])
    assert len(overlap.inputs) == 1
    x = np.random.RandomState(3).rand(4, 5).astype("float32")
    np.testing.assert_allclose(overlap.predict(x), 2 * _np_branch(left, x), rtol=1e-5)

    right, righter = _branch(5, 4, 1), _branch(5, 4, 2)
    inner = Sequential([Merge([left, right], mode="sum"), Dense(4)])
    outer = Sequential([Merge([inner, righter], mode="concat")])
    assert len(outer.inputs) == 3
    xs = [np.random.RandomState(s).rand(4, 5).astype("float32") for s in (4, 5, 6)]
    w, b = inner.layers[-1].get_weights()
    want = np.concatenate([(_np_branch(left, xs[0]) + _np_branch(right, xs[1])) @ w + b,
                           _np_branch(righter, xs[2])], 1)
    np.testing.assert_allclose(outer.predict(xs), want, rtol=1e-5, atol=1e-5)
    # a model merged with a model that contains it: their shared Input stays one
    both = Sequential([Merge([inner, left], mode="concat")])
    assert len(both.inputs) == 2
    np.testing.assert_allclose(both.predict(xs[:2]), np.concatenate(
        [inner.predict(xs[:2]), _np_branch(left, xs[0])], 1), rtol=1e-5, atol=1e-5)
    overlap.pop()
    assert overlap.layers == [] and overlap.inputs == []


def test_a_merge_of_sequentials_round_trips_through_its_config_json_and_weight_file(tmp_path):
    from kiln.layers import Merge
    from kiln.models import model_from_json
    left, right = _branch(5, 4, 0), _branch(5, 4, 1)
    model = Sequential([Merge([left, right], mode="concat", name="m")])
    model.add(Dense(2))
    config = model.get_config()
    assert [c["class_name"] for c in config] == ["Merge", "Dense"]
    assert [c["class_name"] for c in config[0]["config"]["layers"]] == ["Sequential", "Sequential"]
    xs = [np.random.RandomState(s).rand(3, 5).astype("float32") for s in (7, 8)]
    for copy in (Sequential.from_config(config), model_from_json(model.to_json())):
        assert len(copy.inputs) == 2 and copy.get_config() == config
        copy.set_weights(model.get_weights())
        np.testing.assert_allclose(copy.predict(xs), model.predict(xs), rtol=1e-6)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    # Keras 1.2's file lists the merged models' layers (Sequential.flattened_layers), not the models
    import h5py
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
    assert names == [l.name for l in left.layers + right.layers] + ["m", model.layers[-1].name]
    copy = Sequential.from_config(config)
    copy.load_weights(path)
    np.testing.assert_array_equal(copy.predict(xs), model.predict(xs))
    copy = Sequential.from_config(config)
    copy.load_weights(path, by_name=True)
    np.testing.assert_array_equal(copy.predict(xs), model.predict(xs))
    from kiln.models import load_model
    model.compile("sgd", "mse")
    model.save(str(tmp_path / "m.h5"))
    np.testing.assert_array_equal(load_model(str(tmp_path / "m.h5")).predict(xs), model.predict(xs))
    # Merge([seq, seq]) comes back with its one model and one Input
    overlap = Sequential([Merge([left, left], mode="sum")])
    again = model_from_json(overlap.to_json())
    assert len(again.inputs) == 1 and len(again.layers) == 2


def test_a_sequential_first_in_a_sequential_takes_its_input_shape():
    inner = Sequential([Dense(3, input_dim=4), Activation("relu")])
    middle = Sequential([inner])
    outer = Sequential([middle, Dense(2)])
    assert outer.input_shape == (None, 4) and len(outer.layers) == 2
    x = np.random.RandomState(0).rand(5, 4).astype("float32")
    w, b = outer.layers[-1].get_weights()
    np.testing.assert_allclose(outer.predict(x), inner.predict(x) @ w + b, rtol=1e-5, atol=1e-6)
    assert outer.trainable_weights[:2] == inner.trainable_weights
    inner.trainable = False
    assert outer.trainable_weights == outer.layers[-1].trainable_weights
    copy = Sequential.from_config(outer.get_config())
    copy.set_weights(outer.get_weights())
    np.testing.assert_allclose(copy.predict(x), outer.predict(x), rtol=1e-6)


def test_predict_classes_and_predict_proba_keras_1_2():
    m = Sequential([Dense(3, input_dim=4)])
    x = np.random.RandomState(0).randn(10, 4).astype("float32")
    p = m.predict(x)
    np.testing.assert_array_equal(m.predict_classes(x, verbose=0), p.argmax(-1))
    with pytest.warns(UserWarning, match="invalid probability values"):
        np.testing.assert_array_equal(m.predict_proba(x, verbose=0), p)
    one = Sequential([Dense(1, input_dim=4, activation="sigmoid")])
    q = one.predict(x)
    classes = one.predict_classes(x, verbose=0)
    assert classes.dtype == np.int32 and classes.shape == (10, 1)
    np.testing.assert_array_equal(classes, (q > 0.5).astype("int32"))


def test_build_without_arguments_and_the_model_attribute(tmp_path):
    from kiln.models import load_model
    m = Sequential()
    with pytest.raises(TypeError, match="model is empty"):
        m.build()
    m.add(Dense(4, input_dim=3))
    m.add(Dense(2))
    m.build()
    assert m.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert m.model is m
    m.compile("sgd", "mse")
    m.model._make_train_function()
    m.model._make_test_function()
    m.model._make_predict_function()
    path = str(tmp_path / "m.h5")
    m.save(path)
    x = np.random.RandomState(0).rand(3, 3).astype("float32")
    np.testing.assert_allclose(load_model(path).predict(x), m.predict(x), rtol=1e-6)
