"""Lambdas and custom losses and metrics saved as their traced ops (saving/traced.py): they
round-trip through to_json / to_yaml / model.save with bitwise the same predictions and
training, the files hold op lists and no code, what cannot be traced is refused naming it, and
a tampered op list is a clean ValueError naming the layer."""
import copy
import json
import os

import numpy as np
import pytest

from kiln import _core
from kiln import backend as K
from kiln.layers import Dense, Input, Lambda, TimeDistributed
from kiln.layers.serialization import file_config
from kiln.models import Model, load_model, model_from_json, model_from_yaml

RNG = np.random.default_rng(0)
W = (np.arange(12, dtype=np.float32).reshape(6, 2) - 5.0) / 7.0
CAPTURED = K.constant(np.linspace(-1.0, 1.0, 4).astype(np.float32))  # a constant made outside: data


def scaled_square(t, scale):
    return K.square(t) * scale


def lambda_model():
    """Lambdas of one and of several inputs, with arguments, an output_shape function, a shared
    one and one of two outputs, over many K ops."""
    a, b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    sq = Lambda(scaled_square, arguments={"scale": 3.0}, name="sq")(a)
    centred = Lambda(lambda t: t - K.mean(t, axis=-1, keepdims=True) + CAPTURED, name="centred")(sq)
    joined = Lambda(lambda ts: K.concatenate([ts[0], K.exp(-ts[1])], axis=-1), name="joined")([centred, b])
    head = Lambda(lambda t: K.dot(K.slice_axis(t, 1, 1, 7), K.constant(W)), name="head")(joined)
    pair = Lambda(lambda x, y: K.sum(K.abs(x - y), axis=-1, keepdims=True) + K.max(x, axis=-1, keepdims=True),
                  output_shape=lambda shapes: (shapes[0][0], 1), name="pair")([sq, b])
    split = Lambda(lambda t: [K.slice_axis(t, 1, 0, 1), K.tanh(K.slice_axis(t, 1, 1, 2))], name="split")(head)
    shared = Lambda(lambda t: K.sum(K.square(t), axis=-1, keepdims=True), name="shared")
    hidden = Dense(3, activation="relu", name="hidden")(joined)
    out = Dense(2, name="out")(Lambda(lambda ts: K.concatenate(ts, axis=-1), name="cat")(
        [hidden, pair, shared(hidden), shared(joined)] + split))
    return Model([a, b], out, name="lambdas")


def inputs(n=9):
    return [RNG.standard_normal((n, 4)).astype(np.float32) for _ in range(2)]


def lambda_configs(text):
    return {l["name"]: l["config"] for l in json.loads(text)["config"]["layers"] if l["class_name"] == "Lambda"}


def assert_plain_data(value, path="config"):
    """Nothing but JSON data: dicts, lists, strings, numbers, booleans, null."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), path
            assert_plain_data(v, path + "." + k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain_data(v, "%s[%d]" % (path, i))
    else:
        assert value is None or isinstance(value, (str, int, float, bool)), (path, value)


def assert_op_list(graph, n_inputs):
    assert set(graph) == {"format", "version", "inputs", "constants", "nodes", "outputs"}
    assert (graph["format"], graph["version"]) == ("kiln.ops", 1)
    assert len(graph["inputs"]) == n_inputs
    known = set(_core.op_names()) | {"in_train_phase"}
    for node in graph["nodes"]:
        assert node[0] in known and isinstance(node[1], list) and isinstance(node[2], dict), node


def test_lambdas_round_trip_through_json_and_predict_bitwise_the_same():
    model = lambda_model()
    text = model.to_json()
    rebuilt = model_from_json(text)  # no custom_objects: nothing to look up
    rebuilt.set_weights(model.get_weights())
    xs = inputs()
    np.testing.assert_array_equal(model.predict(xs), rebuilt.predict(xs))
    # saved again, the rebuilt model writes the same text: the op list is a fixed point
    assert rebuilt.to_json() == text
    configs = lambda_configs(text)
    assert sorted(configs) == ["cat", "centred", "head", "joined", "pair", "shared", "split", "sq"]
    for name, c in configs.items():
        assert c["function_type"] == "graph" and c["arguments"] == {} and c["output_shape_type"] == "raw", name
        assert_op_list(c["function"], {"joined": 2, "pair": 2, "cat": 6}.get(name, 1))
    assert configs["pair"]["output_shape"] == [1]  # the output_shape function, evaluated when saved
    sq = configs["sq"]["function"]
    assert sq["nodes"] == [["square", [0], {}], ["constant", [], {"value": 3.0}], ["mul", [1, 2], {}]]
    assert sq["outputs"] == [{"value": 3, "shape": [None, 4]}]  # arguments= baked in
    head = configs["head"]["function"]
    assert head["constants"] == [{"shape": [6, 2], "data": W.ravel().tolist()}]
    assert ["slice", [0], {"axis": 1, "begin": 1, "end": 7}] in head["nodes"]
    assert configs["centred"]["function"]["constants"][0]["data"] == CAPTURED.get_value().tolist()
    assert len(configs["split"]["function"]["outputs"]) == 2
    # the shared Lambda was called on (None, 3) and (None, 8): the dim that differs is written null
    assert configs["shared"]["function"]["inputs"] == [{"shape": [None, None], "dtype": "float32"}]


def test_the_files_hold_op_lists_and_no_code(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = lambda_model()
    model.compile("sgd", "mse")
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        text = bytes(f.attrs["model_config"]).decode("utf8")
    assert json.loads(text) == json.loads(model.to_json())
    config = json.loads(text)
    assert_plain_data(config)
    for word in ("lambda", "def ", "co_code", "marshal", "scaled_square", "__"):
        assert word not in json.dumps(lambda_configs(text)), word
    again = load_model(path)
    xs = inputs()
    np.testing.assert_array_equal(model.predict(xs), again.predict(xs))


def test_yaml_round_trips_a_lambda():
    pytest.importorskip("yaml")
    model = lambda_model()
    rebuilt = model_from_yaml(model.to_yaml())
    rebuilt.set_weights(model.get_weights())
    xs = inputs(4)
    np.testing.assert_array_equal(model.predict(xs), rebuilt.predict(xs))


def test_time_distributed_lambda_and_dynamic_lengths_round_trip():
    x = Input(shape=(None, 3))
    per_step = TimeDistributed(Lambda(lambda t: K.sum(K.square(t), axis=-1, keepdims=True), name="energy"))(x)
    mean = Lambda(lambda t: K.mean(t, axis=1), name="over_time")(x)
    model = Model(x, [per_step, mean])
    rebuilt = model_from_json(model.to_json())
    for steps in (2, 7):
        xs = RNG.standard_normal((3, steps, 3)).astype(np.float32)
        for want, got in zip(model.predict(xs), rebuilt.predict(xs)):
            np.testing.assert_array_equal(want, got)
    inner = json.loads(model.to_json())["config"]["layers"][1]["config"]["layer"]["config"]
    assert inner["function"]["inputs"][0]["shape"] == [None, 3]


def test_a_lambda_on_the_same_tensor_twice_round_trips():
    x = Input(shape=(3,))
    model = Model(x, Lambda(lambda ts: ts[0] * ts[1] - ts[0], name="twice")([x, x]))
    graph = lambda_configs(model.to_json())["twice"]["function"]
    assert graph["nodes"][0] == ["mul", [0, 0], {}]  # both operands are input 0, as in the model
    xs = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(model_from_json(model.to_json()).predict(xs), model.predict(xs))


def halved_mse(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1) * 0.5


def worst_error(y_true, y_pred):
    return K.max(K.abs(y_pred - y_true))


def loss_model(seed=3):
    np.random.seed(seed)
    x = Input(shape=(6,))
    noisy = Lambda(lambda t: K.in_train_phase(K.dropout(t, 0.25, seed=5), t), name="noisy")(x)
    model = Model(x, Dense(3, name="d")(Dense(8, activation="tanh")(noisy)))
    model.compile("adam", halved_mse, metrics=[worst_error, "mae"])
    return model


def loss_data():
    return RNG.standard_normal((64, 6)).astype(np.float32), RNG.standard_normal((64, 3)).astype(np.float32)


def test_custom_loss_and_metric_round_trip_and_training_continues_identically(tmp_path):
    h5py = pytest.importorskip("h5py")
    x, y = loss_data()
    whole = loss_model()  # (each fit right after its build: the shuffle seed is drawn at the first fit)
    whole.fit(x, y, nb_epoch=3, batch_size=16, verbose=0)
    part = loss_model()
    part.fit(x, y, nb_epoch=2, batch_size=16, verbose=0)
    path = str(tmp_path / "m.h5")
    part.save(path)
    with h5py.File(path, "r") as f:
        train = json.loads(bytes(f.attrs["training_config"]).decode("utf8"))
    assert train["loss"]["class_name"] == "GraphFunction" and train["loss"]["config"]["name"] == "halved_mse"
    assert_op_list(train["loss"]["config"]["function"], 2)
    assert train["metrics"][0]["config"]["name"] == "worst_error" and train["metrics"][1] == "mae"  # kiln's: names
    resumed = load_model(path)  # no custom_objects
    assert resumed.metrics_names == part.metrics_names == ["loss", "worst_error", "mean_absolute_error"]
    np.testing.assert_array_equal(resumed.evaluate(x, y, verbose=0), part.evaluate(x, y, verbose=0))
    resumed.fit(x, y, nb_epoch=1, batch_size=16, verbose=0)
    for want, got in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(want, got)
    resumed.save(str(tmp_path / "again.h5"))  # the rebuilt functions trace to the same op lists
    with h5py.File(str(tmp_path / "again.h5"), "r") as f:
        assert json.loads(bytes(f.attrs["training_config"]).decode("utf8")) == train
    uncompiled = load_model(path, compile=False)
    assert uncompiled.optimizer is None
    np.testing.assert_array_equal(uncompiled.predict(x), part.predict(x))


def test_a_loss_per_output_in_a_dict_round_trips(tmp_path):
    pytest.importorskip("h5py")
    x = Input(shape=(4,))
    model = Model(x, [Dense(2, name="left")(x), Dense(5, name="right")(x)])
    model.compile("sgd", {"left": halved_mse, "right": "mse"}, metrics={"right": [worst_error]})
    path = str(tmp_path / "m.h5")
    model.save(path)
    again = load_model(path)
    xs, ys = RNG.standard_normal((8, 4)).astype(np.float32), [RNG.standard_normal((8, k)).astype(np.float32)
                                                               for k in (2, 5)]
    assert again.metrics_names == model.metrics_names
    np.testing.assert_array_equal(again.evaluate(xs, ys, verbose=0), model.evaluate(xs, ys, verbose=0))


def refused(model, match):
    with pytest.raises(ValueError, match=match) as info:
        model.to_json()
    return str(info.value)


def test_a_lambda_reading_a_variable_is_refused_naming_it():
    x = Input(shape=(3,))
    scale = K.variable(np.ones(3, np.float32), name="scale")
    message = refused(Model(x, Lambda(lambda t: t * scale, name="rescale")(x)), "Lambda 'rescale'.*variable 'scale'")
    assert "K.constant" in message  # the hint
    dense = Dense(3)
    h = dense(x)
    refused(Model(x, Lambda(lambda t: K.dot(t, dense.W), name="tied")(h)), "Lambda 'tied'.*variable")


def test_a_lambda_that_cannot_be_traced_is_refused_naming_it():
    x = Input(shape=(3,))
    seen = []

    def once(t):
        seen.append(t)
        if len(seen) > 1:
            raise RuntimeError("called twice")
        return K.exp(t)
    refused(Model(x, Lambda(once, name="flaky")(x)), "Lambda 'flaky'.*cannot be traced.*RuntimeError: called twice")
    # random seeds drawn per call: the traced ops would not be the ones the model runs
    refused(Model(x, Lambda(lambda t: K.dropout(t, 0.5), name="noise")(x)), "Lambda 'noise'.*other ops.*seed=")
    # a tensor from outside its inputs
    refused(Model(x, Lambda(lambda t: t + x, name="closure")(Dense(3)(x))), "Lambda 'closure'.*not one of its inputs")
    # never called: its input shapes are unknown
    with pytest.raises(ValueError, match="Lambda 'idle'.*never been called"):
        file_config(Lambda(K.exp, name="idle"))
    refused(Model(x, Lambda(K.exp, mask=lambda t, m: m, name="masked")(x)), "Lambda 'masked'.*mask=")


def test_a_shared_lambda_whose_ops_depend_on_the_shape_is_refused():
    a, b = Input(shape=(2, 3)), Input(shape=(4, 5))
    flat = Lambda(lambda t: K.batch_flatten(t), name="flat")
    refused(Model([a, b], [flat(a), flat(b)]), "Lambda 'flat'.*different shapes.*different ops")


def test_an_unnamed_loss_that_cannot_be_traced_is_refused(tmp_path):
    """(A named one is saved by name, with a warning: test_model_files.py.)"""
    pytest.importorskip("h5py")
    x = Input(shape=(3,))
    weight = K.variable(2.0, name="w")
    model = Model(x, Dense(3)(x))
    model.compile("sgd", lambda y_true, y_pred: K.mean(K.square(y_true - y_pred) * weight, axis=-1))
    with pytest.raises(ValueError, match="compile arguments.*loss.*variable 'w'"):
        model.save(str(tmp_path / "m.h5"))


def tampered(edit, layer="head"):
    """model_from_json of lambda_model's JSON with `edit` applied to one Lambda's op list."""
    config = json.loads(lambda_model().to_json())
    for l in config["config"]["layers"]:
        if l["name"] == layer:
            edit(l["config"]["function"])
    return json.dumps(config)


def _set(key, value):
    return lambda g: g.__setitem__(key, value)


def _node(k, i, value):
    def edit(g):
        g["nodes"][k][i] = value
    return edit


TAMPERED = [
    ("unknown op", _node(0, 0, "os.system"), "not an op kiln knows"),
    ("side-effect op", _node(0, 0, "assign"), "not an op kiln knows"),
    ("operand out of range", _node(1, 1, [2, 99]), r"node 1 \(matmul\): operands must be indices"),
    ("operand not an int", _node(1, 1, ["0", 1]), "operands must be indices"),
    ("wrong attr kind", _node(0, 2, {"axis": "one", "begin": 1, "end": 7}), r"node 0 \(slice\).*must be an integer"),
    ("unknown attr", _node(0, 2, {"axis": 1, "begin": 1, "end": 7, "stride": 2}), "unknown attribute 'stride'"),
    ("attr not data", _node(0, 2, {"axis": {"x": 1}}), "attrs must be a dict of numbers"),
    ("attr out of range", _node(0, 2, {"axis": 10 ** 30, "begin": 1, "end": 7}), "attrs must be"),
    ("wrong number of results", lambda g: g["nodes"][0].append(3), "gives 1 results, the list says 3"),
    ("no results", lambda g: g["nodes"][0].append(0), "results must be a count"),
    ("no outputs", _set("outputs", []), "no outputs"),
    ("output out of range", _set("outputs", [{"value": 40, "shape": [None, 2]}]), "output 0 must be"),
    ("output shape that lies", _set("outputs", [{"value": 3, "shape": [None, 5]}]), "the list says"),
    ("shape mismatch", _node(0, 2, {"axis": 1, "begin": 0, "end": 4}), r"node 1 \(matmul\)"),
    ("input of another shape", _set("inputs", [{"shape": [None, 9], "dtype": "float32"}]), "traced for inputs"),
    ("two inputs for one", _set("inputs", [{"shape": [None, 8], "dtype": "float32"}] * 2), "takes 2 inputs"),
    ("constant of the wrong size", lambda g: g["constants"][0]["data"].pop(), "constant 0 must be"),
    ("constant holding a string", lambda g: g["constants"][0]["data"].__setitem__(0, "x"), "constant 0 must be"),
    ("newer version", _set("version", 2), "this kiln reads version 1"),
    ("extra key", _set("code", "print(1)"), "its keys are"),
    ("not a dict", lambda g: g.clear(), "expected a dict"),
]


@pytest.mark.parametrize("edit,match", [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED])
def test_a_tampered_op_list_is_a_clean_error_naming_the_layer(edit, match):
    text = tampered(edit)
    with pytest.raises(ValueError, match=match) as info:
        model_from_json(text)
    assert "Lambda 'head'" in str(info.value)


def test_a_tampered_loss_in_a_model_file_names_the_loss(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = loss_model()
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r+") as f:
        train = json.loads(bytes(f.attrs["training_config"]).decode("utf8"))
        bad = copy.deepcopy(train)
        bad["loss"]["config"]["function"]["nodes"][0][0] = "no_such_op"
        f.attrs["training_config"] = np.bytes_(json.dumps(bad).encode("utf8"))
    with pytest.raises(ValueError, match="loss 'halved_mse'.*not an op kiln knows"):
        load_model(path)


def test_fuzzed_op_lists_load_or_fail_cleanly():
    """Random edits of every Lambda's op list: model_from_json builds the model or raises a
    ValueError, quickly and within the fuzz harness's memory cap (tests/python/fuzzing.py)."""
    import random

    from fuzzing import check
    rng = random.Random(11)
    valid = json.loads(lambda_model().to_json())
    ops = sorted(_core.op_names()) + ["in_train_phase", "", "__import__"]
    odd = [-1, 0, 1, 2, 7, 2 ** 31 - 1, 2 ** 40, -2 ** 31, 1.5, float("nan"), "x", [], [1, 2], [2 ** 40] * 3,
           None, True, {"a": 1}]

    def edit(g):
        kind = rng.randrange(8)
        nodes = g["nodes"]
        if kind == 0 and nodes:
            rng.choice(nodes)[0] = rng.choice(ops)
        elif kind == 1 and nodes:
            node = rng.choice(nodes)
            node[1][rng.randrange(len(node[1]))] = rng.choice(odd + list(range(12)))
        elif kind == 2 and nodes:
            node = rng.choice(nodes)
            key = rng.choice(sorted(node[2]) + ["axis", "shape", "perm", "axes", "value", "keepdims"])
            node[2][key] = rng.choice(odd)
        elif kind == 3 and nodes:
            i = rng.randrange(len(nodes))
            nodes.insert(rng.randrange(len(nodes) + 1), copy.deepcopy(nodes[i])) if rng.random() < 0.5 else \
                nodes.pop(i)
        elif kind == 4:
            spec = rng.choice(g["inputs"] + g["outputs"])
            if spec["shape"]:
                spec["shape"][rng.randrange(len(spec["shape"]))] = rng.choice(odd)
        elif kind == 5 and g["constants"]:
            c = rng.choice(g["constants"])
            c["shape"] = [rng.choice([0, 1, 3, 12, 2 ** 40]) for _ in range(rng.randrange(4))]
        elif kind == 6:
            rng.choice(g["outputs"])["value"] = rng.choice(odd + list(range(12)))
        elif nodes:
            rng.choice(nodes).append(rng.choice(odd))

    def cases():
        for i in range(int(os.environ.get("KILN_FUZZ_OPS", 200))):
            config = copy.deepcopy(valid)
            lambdas = [l for l in config["config"]["layers"] if l["class_name"] == "Lambda"]
            for _ in range(rng.randint(1, 3)):
                try:
                    edit(rng.choice(lambdas)["config"]["function"])
                except (TypeError, ValueError, IndexError, KeyError, AttributeError):
                    pass  # an edit that no longer applies (an earlier one changed its target)
            yield i, json.dumps(config)

    out = check(lambda case: model_from_json(case[1]), cases(), (ValueError,), describe=lambda c: "case %d" % c[0])
    assert out.rejected > out.accepted > 0, (out.accepted, out.rejected)
