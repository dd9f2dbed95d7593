"""Configs in Keras 1.2's layout: every layer class kiln exports round-trips (the registry is
walked, so a new layer without an example here fails), the guide's models round-trip through
JSON with equal predictions, and malformed or unknown configs are clear errors."""
import json
import sys

import numpy as np
import pytest

from kiln import backend as K
from kiln import initializers, optimizers, regularizers
from kiln.layers import (GRU, LSTM, Activation, Add, AveragePooling2D, Average, BatchNormalization, Bidirectional,
                         Concatenate, Convolution2D, Dense, Dot, Dropout, Embedding, Flatten, Input, InputLayer,
                         Lambda, Layer, Maximum, MaxPooling2D, Merge, Minimum, Multiply, Permute, RepeatVector,
                         Reshape, SimpleRNN, Subtract, TimeDistributed, TimeDistributedDense, merge)
from kiln.layers import GaussianDropout, GaussianNoise
from kiln.layers import (AtrousConvolution1D, AtrousConvolution2D, Deconvolution2D, Highway, LocallyConnected1D,
                         LocallyConnected2D, MaxoutDense, SeparableConvolution2D)
from kiln.layers import (ELU, ActivityRegularization, AveragePooling1D, Convolution1D, Cropping1D, Cropping2D,
                         GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                         LeakyReLU, Masking, MaxPooling1D, ParametricSoftplus, PReLU, SpatialDropout1D,
                         SpatialDropout2D, SReLU, ThresholdedReLU, UpSampling1D, UpSampling2D, ZeroPadding1D,
                         ZeroPadding2D)
from kiln.layers import (AveragePooling3D, Convolution3D, Cropping3D, MaxPooling3D, UpSampling3D,  # noqa: E402
                         ZeroPadding3D)
from kiln.layers import GlobalAveragePooling3D, GlobalMaxPooling3D, SpatialDropout3D  # noqa: E402
from kiln.layers import ConvLSTM2D  # noqa: E402
from kiln.layers.serialization import deserialize, layer_classes
from kiln.models import Model, Sequential, model_from_config, model_from_json, model_from_yaml
from kiln.utils.layer_utils import layer_from_config

RNG = np.random.default_rng(0)


def one(layer, shape, dtype="float32"):
    return lambda: ([Input(shape=shape, dtype=dtype)], layer)


def two(layer, shape):
    return lambda: ([Input(shape=shape), Input(shape=shape)], layer)


def small_model():
    x = Input(shape=(5,))
    return Model(x, Dense(3, activation="tanh")(x))


# One example per layer class: (inputs, layer). A class that kiln.layers exports but that is
# missing here fails test_every_registered_layer_has_an_example.
EXAMPLES = {
    "Layer": one(Layer(), (4,)),
    "Dense": one(Dense(3, init="he_normal", activation="relu", W_regularizer=regularizers.l1l2(0.01, 0.02),
                       b_regularizer="l2", activity_regularizer=regularizers.activity_l1(0.1), bias=True), (4,)),
    "Activation": one(Activation("softplus"), (4,)),
    "Dropout": one(Dropout(0.3), (4,)),
    "Flatten": one(Flatten(), (2, 3)),
    "Reshape": one(Reshape((3, 2)), (6,)),
    "Permute": one(Permute((2, 1)), (2, 3)),
    "RepeatVector": one(RepeatVector(3), (4,)),
    "Embedding": one(Embedding(10, 3, input_length=5, mask_zero=True), (5,), "int32"),
    "BatchNormalization": one(BatchNormalization(epsilon=1e-2, momentum=0.9), (4,)),
    "Convolution2D": one(Convolution2D(2, 3, 3, border_mode="same", subsample=(2, 1), dim_ordering="th"),
                         (1, 6, 5)),
    "MaxPooling2D": one(MaxPooling2D((2, 2), strides=(1, 1), border_mode="same"), (4, 4, 2)),
    "AveragePooling2D": one(AveragePooling2D((2, 2)), (4, 4, 2)),
    "SimpleRNN": one(SimpleRNN(3, return_sequences=True, activation="relu"), (4, 2)),
    "GRU": one(GRU(3, go_backwards=True, inner_activation="sigmoid"), (4, 2)),
    "LSTM": one(LSTM(3, forget_bias_init="zero", inner_init="glorot_normal"), (4, 2)),
    "TimeDistributed": one(TimeDistributed(Dense(2)), (3, 4)),
    "Bidirectional": one(Bidirectional(LSTM(3, return_sequences=True), merge_mode="sum"), (4, 2)),
    # a Merge layer is called once only (Keras 1.2's rule), so each use of the example builds one
    "Merge": lambda: two(Merge(mode="concat", concat_axis=-1), (4,))(),
    "Add": two(Add(), (4,)),
    "Subtract": two(Subtract(), (4,)),
    "Multiply": two(Multiply(), (4,)),
    "Average": two(Average(), (4,)),
    "Maximum": two(Maximum(), (4,)),
    "Minimum": two(Minimum(), (4,)),
    "Concatenate": two(Concatenate(axis=-1), (4,)),
    "Dot": two(Dot(axes=1, normalize=True), (4,)),
    "Model": one(small_model(), (5,)),
    "Sequential": one(Sequential([Dense(3, input_dim=5), Activation("relu")]), (5,)),
    "LeakyReLU": one(LeakyReLU(alpha=0.1), (4,)),
    "ELU": one(ELU(alpha=0.5), (4,)),
    "ThresholdedReLU": one(ThresholdedReLU(theta=0.2), (4,)),
    "PReLU": one(PReLU(init="uniform"), (3, 4)),
    "ParametricSoftplus": one(ParametricSoftplus(alpha_init=0.3, beta_init=2.0), (4,)),
    "SReLU": one(SReLU(a_right_init="uniform"), (4,)),
    "Masking": one(Masking(mask_value=0.5), (3, 4)),
    "SpatialDropout1D": one(SpatialDropout1D(0.3), (3, 4)),
    "SpatialDropout2D": one(SpatialDropout2D(0.3, dim_ordering="th"), (2, 3, 4)),
    "ActivityRegularization": one(ActivityRegularization(l1=0.01, l2=0.02), (4,)),
    "ZeroPadding1D": one(ZeroPadding1D((1, 2)), (3, 4)),
    "ZeroPadding2D": one(ZeroPadding2D((1, 0, 2, 1), dim_ordering="tf"), (3, 4, 2)),
    "Cropping1D": one(Cropping1D((1, 0)), (3, 4)),
    "Cropping2D": one(Cropping2D(((1, 0), (0, 1)), dim_ordering="th"), (2, 3, 4)),
    "UpSampling1D": one(UpSampling1D(3), (3, 4)),
    "UpSampling2D": one(UpSampling2D((2, 1), dim_ordering="tf"), (3, 4, 2)),
    "MaxPooling1D": one(MaxPooling1D(3, stride=1, border_mode="same"), (5, 2)),
    "AveragePooling1D": one(AveragePooling1D(2), (5, 2)),
    "GlobalMaxPooling1D": one(GlobalMaxPooling1D(), (5, 2)),
    "GlobalAveragePooling1D": one(GlobalAveragePooling1D(), (5, 2)),
    "GlobalMaxPooling2D": one(GlobalMaxPooling2D(dim_ordering="th"), (2, 3, 4)),
    "GlobalAveragePooling2D": one(GlobalAveragePooling2D(), (3, 4, 2)),
    "Convolution1D": one(Convolution1D(3, 2, border_mode="same", subsample_length=2, activation="tanh",
                                       W_regularizer="l2", input_dim=2, input_length=5), (5, 2)),
    "Highway": one(Highway(activation="tanh", W_regularizer="l2", input_dim=4), (4,)),
    "MaxoutDense": one(MaxoutDense(3, nb_feature=2, bias=False), (4,)),
    "LocallyConnected1D": one(LocallyConnected1D(3, 2, subsample_length=2, activation="relu"), (5, 2)),
    "LocallyConnected2D": one(LocallyConnected2D(2, 2, 3, subsample=(1, 2), dim_ordering="th"), (1, 4, 5)),
    "AtrousConvolution1D": one(AtrousConvolution1D(3, 2, atrous_rate=2, border_mode="same"), (5, 2)),
    "AtrousConvolution2D": one(AtrousConvolution2D(2, 2, 2, atrous_rate=(2, 1), dim_ordering="tf"), (5, 4, 1)),
    "SeparableConvolution2D": one(SeparableConvolution2D(3, 2, 2, depth_multiplier=2, border_mode="same",
                                                         dim_ordering="th", pointwise_regularizer="l1"), (2, 4, 4)),
    "Deconvolution2D": one(Deconvolution2D(2, 3, 3, output_shape=(None, 7, 9, 2), subsample=(2, 2),
                                           dim_ordering="tf"), (3, 4, 1)),
    "InputLayer": None,  # every example has one
    "Lambda": None,  # its in-process config holds its function: test_traced_functions.py
    "Recurrent": None,  # abstract: SimpleRNN, GRU, LSTM
    "Wrapper": None,  # abstract: TimeDistributed, Bidirectional
    "TimeDistributedDense": one(TimeDistributedDense(3, init="he_normal", input_dim=4, input_length=2), (2, 4)),
    "GaussianNoise": one(GaussianNoise(0.3), (4,)),
    "GaussianDropout": one(GaussianDropout(0.2), (4,)),
}
EXAMPLES.update({
    "Convolution3D": one(Convolution3D(2, 2, 3, 2, border_mode="same", subsample=(2, 1, 1), dim_ordering="th"),
                         (1, 4, 5, 3)),
    "MaxPooling3D": one(MaxPooling3D((2, 2, 1), strides=(1, 2, 1), border_mode="same", dim_ordering="tf"),
                        (4, 3, 4, 2)),
    "AveragePooling3D": one(AveragePooling3D((2, 1, 2), border_mode="same", dim_ordering="th"), (2, 3, 4, 5)),
    "ZeroPadding3D": one(ZeroPadding3D((1, 0, 2), dim_ordering="tf"), (2, 3, 2, 2)),
    "Cropping3D": one(Cropping3D(((1, 0), (0, 1), (1, 1)), dim_ordering="th"), (2, 3, 4, 4)),
    "UpSampling3D": one(UpSampling3D((2, 1, 2), dim_ordering="tf"), (2, 3, 2, 2)),
    "GlobalMaxPooling3D": one(GlobalMaxPooling3D(dim_ordering="th"), (2, 3, 4, 2)),
    "GlobalAveragePooling3D": one(GlobalAveragePooling3D(dim_ordering="tf"), (3, 2, 4, 2)),
    "SpatialDropout3D": one(SpatialDropout3D(0.3, dim_ordering="th"), (2, 3, 2, 4)),
    "ConvLSTM2D": one(ConvLSTM2D(2, 3, 2, border_mode="same", subsample=(1, 2), dim_ordering="tf",
                                 inner_activation="sigmoid", U_regularizer="l2", return_sequences=True), (3, 4, 5, 1)),
    "ConvRecurrent2D": None,  # abstract: ConvLSTM2D
})

# Keras 1.2's config keys (besides name, trainable and the input shape), from its sources.
KERAS_1_2_KEYS = {
    "Dense": {"output_dim", "init", "activation", "W_regularizer", "b_regularizer", "activity_regularizer",
              "W_constraint", "b_constraint", "bias", "input_dim"},
    "Dropout": {"p"},
    "Embedding": {"input_dim", "output_dim", "init", "input_length", "mask_zero", "W_regularizer",
                  "activity_regularizer", "W_constraint", "dropout"},
    "BatchNormalization": {"epsilon", "mode", "axis", "momentum", "gamma_regularizer", "beta_regularizer"},
    "Convolution2D": {"nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample",
                      "dim_ordering", "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint",
                      "b_constraint", "bias"},
    "MaxPooling2D": {"pool_size", "strides", "border_mode", "dim_ordering"},
    "SimpleRNN": {"output_dim", "init", "inner_init", "activation", "W_regularizer", "U_regularizer",
                  "b_regularizer", "dropout_W", "dropout_U", "return_sequences", "go_backwards", "stateful",
                  "unroll", "consume_less", "input_dim", "input_length"},
    "Merge": {"mode", "mode_type", "concat_axis", "dot_axes", "output_shape", "output_shape_type", "output_mask",
              "output_mask_type", "arguments"},
    "TimeDistributed": {"layer"},
    "TimeDistributedDense": {"output_dim", "init", "activation", "W_regularizer", "b_regularizer",
                             "activity_regularizer", "W_constraint", "b_constraint", "bias", "input_dim",
                             "input_length"},
    "GaussianNoise": {"sigma"}, "GaussianDropout": {"p"},
    "LeakyReLU": {"alpha"}, "ELU": {"alpha"}, "ThresholdedReLU": {"theta"}, "PReLU": {"init"},
    "ParametricSoftplus": {"alpha_init", "beta_init"},
    "SReLU": {"t_left_init", "a_left_init", "t_right_init", "a_right_init"},
    "Masking": {"mask_value"}, "SpatialDropout1D": {"p"}, "SpatialDropout2D": {"p", "dim_ordering"},
    "ActivityRegularization": {"l1", "l2"}, "ZeroPadding1D": {"padding"}, "ZeroPadding2D": {"padding", "dim_ordering"},
    "Cropping1D": {"cropping"}, "Cropping2D": {"cropping", "dim_ordering"}, "UpSampling1D": {"length"},
    "UpSampling2D": {"size", "dim_ordering"}, "MaxPooling1D": {"pool_length", "stride", "border_mode"},
    "GlobalMaxPooling2D": {"dim_ordering"},
    "Convolution1D": {"nb_filter", "filter_length", "init", "activation", "border_mode", "subsample_length",
                      "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint",
                      "bias", "input_dim", "input_length"},
}
KERAS_1_2_KEYS.update({
    "Highway": {"init", "activation", "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint",
                "b_constraint", "bias", "input_dim"},
    "MaxoutDense": {"output_dim", "init", "nb_feature", "W_regularizer", "b_regularizer", "activity_regularizer",
                    "W_constraint", "b_constraint", "bias", "input_dim"},
    "LocallyConnected1D": KERAS_1_2_KEYS["Convolution1D"],
    "LocallyConnected2D": KERAS_1_2_KEYS["Convolution2D"],
    "AtrousConvolution1D": KERAS_1_2_KEYS["Convolution1D"] | {"atrous_rate"},
    "AtrousConvolution2D": KERAS_1_2_KEYS["Convolution2D"] | {"atrous_rate"},
    "Deconvolution2D": KERAS_1_2_KEYS["Convolution2D"] | {"output_shape"},
    "SeparableConvolution2D": {"nb_filter", "nb_row", "nb_col", "init", "activation", "border_mode", "subsample",
                               "depth_multiplier", "dim_ordering", "depthwise_regularizer", "pointwise_regularizer",
                               "b_regularizer", "activity_regularizer", "depthwise_constraint",
                               "pointwise_constraint", "b_constraint", "bias"},
})
KERAS_1_2_KEYS.update({
    "Convolution3D": {"nb_filter", "kernel_dim1", "kernel_dim2", "kernel_dim3", "dim_ordering", "init", "activation",
                      "border_mode", "subsample", "W_regularizer", "b_regularizer", "activity_regularizer",
                      "W_constraint", "b_constraint", "bias"},
    "MaxPooling3D": {"pool_size", "strides", "border_mode", "dim_ordering"},
    "AveragePooling3D": {"pool_size", "strides", "border_mode", "dim_ordering"},
    "ZeroPadding3D": {"padding", "dim_ordering"}, "Cropping3D": {"cropping", "dim_ordering"},
    "UpSampling3D": {"size", "dim_ordering"},
    "GlobalMaxPooling3D": {"dim_ordering"}, "GlobalAveragePooling3D": {"dim_ordering"},
    "SpatialDropout3D": {"p", "dim_ordering"},
})
KERAS_1_2_KEYS["ConvLSTM2D"] = {"nb_filter", "nb_row", "nb_col", "init", "inner_init", "forget_bias_init",
                                "activation", "dim_ordering", "border_mode", "inner_activation", "return_sequences",
                                "go_backwards", "stateful"}
KERAS_1_2_KEYS["GRU"] = KERAS_1_2_KEYS["SimpleRNN"] | {"inner_activation"}
KERAS_1_2_KEYS["LSTM"] = KERAS_1_2_KEYS["SimpleRNN"] | {"inner_activation", "forget_bias_init"}


def classes():
    seen, out = set(), []
    for name, cls in sorted(layer_classes().items()):
        if id(cls) not in seen:
            seen.add(id(cls))
            out.append(cls.__name__)
    return out


def test_every_registered_layer_has_an_example():
    missing = [n for n in classes() if n not in EXAMPLES]
    assert not missing, "add a config round-trip example for: %s" % missing


def data_for(inputs):
    out = []
    for x in inputs:
        shape = (7,) + tuple(x.shape[1:])
        out.append(RNG.integers(1, 10, shape).astype(np.float32) if "int" in str(getattr(x, "dtype", ""))
                   or x._keras_history[0].input_dtype == "int32" else RNG.standard_normal(shape).astype(np.float32))
    return out


def as_json(config):
    return json.dumps(config, sort_keys=True)


@pytest.mark.parametrize("name", [n for n in sorted(EXAMPLES) if EXAMPLES[n] is not None])
def test_layer_config_round_trips_and_predicts_the_same(name):
    inputs, layer = EXAMPLES[name]()
    out = layer(inputs[0] if len(inputs) == 1 else inputs)
    model = Model(inputs, out)
    config = json.loads(json.dumps({"class_name": type(layer).__name__, "config": layer.get_config()}))
    assert config["class_name"] == name
    keys = KERAS_1_2_KEYS.get(name)
    if keys is not None:
        missing = keys - set(config["config"])
        assert not missing, "%s config lacks Keras 1.2 keys %s" % (name, missing)
    # the config is a fixed point: rebuilt, the layer describes itself the same way
    again = layer_from_config(config)
    assert type(again) is type(layer)
    assert as_json(again.get_config()) == as_json(config["config"])
    # the whole model through JSON, with the weights copied, computes the same
    rebuilt = model_from_json(model.to_json())
    assert as_json(rebuilt.get_config()) == as_json(model.get_config())
    rebuilt.set_weights(model.get_weights())
    xs = data_for(inputs)
    want, got = model.predict(xs), rebuilt.predict(xs)
    for w, g in zip(want if isinstance(want, list) else [want], got if isinstance(got, list) else [got]):
        np.testing.assert_array_equal(w, g)


def test_dense_config_is_keras_1_2s():
    x = Input(shape=(4,))
    d = Dense(3, activation="relu", W_regularizer=regularizers.l2(0.5), name="d")
    d(x)
    c = d.get_config()
    assert c == {"name": "d", "trainable": True, "output_dim": 3, "init": "glorot_uniform", "activation": "relu",
                 "W_regularizer": {"name": "L1L2Regularizer", "l1": 0.0, "l2": 0.5}, "b_regularizer": None,
                 "activity_regularizer": None, "W_constraint": None, "b_constraint": None, "bias": True,
                 "input_dim": 4}
    first = Dense(2, input_shape=(4,)).get_config()
    assert first["batch_input_shape"] == (None, 4) and first["input_dtype"] == "float32"


def test_keras2_spellings_are_written_in_keras1_names():
    c = Dense(units=3, kernel_initializer="he_uniform", use_bias=False).get_config()
    assert (c["output_dim"], c["init"], c["bias"]) == (3, "he_uniform", False)
    assert "units" not in c and "kernel_initializer" not in c


def test_initializer_objects_and_custom_functions_round_trip():
    d = Dense(3, init=initializers.Orthogonal(gain=2.0, seed=3))
    c = json.loads(json.dumps(d.get_config()))
    assert c["init"] == {"class_name": "Orthogonal", "config": {"gain": 2.0, "seed": 3}}
    again = Dense.from_config(c)
    np.testing.assert_array_equal(again.init((3, 3)), d.init((3, 3)))

    def my_init(shape, name=None):
        return np.full(shape, 0.25, np.float32)
    c = Dense(3, init=my_init, activation=K.tanh).get_config()
    assert c["init"] == "my_init"
    with pytest.raises(ValueError, match="my_init"):
        Dense.from_config(c)
    x = Input(shape=(2,))
    d = deserialize({"class_name": "Dense", "config": c}, custom_objects={"my_init": my_init})
    d(x)
    np.testing.assert_array_equal(d.get_weights()[0], np.full((2, 3), 0.25, np.float32))


def test_regularizer_optimizer_and_initializer_configs():
    r = regularizers.get({"name": "L1L2Regularizer", "l1": 0.1, "l2": 0.2})
    assert (r.l1, r.l2) == (0.1, 0.2) and r.get_config() == {"name": "L1L2Regularizer", "l1": 0.1, "l2": 0.2}
    for cls in (optimizers.SGD, optimizers.RMSprop, optimizers.Adagrad, optimizers.Adadelta, optimizers.Adam,
                optimizers.Adamax, optimizers.Nadam):
        opt = cls(lr=0.125)
        again = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
        assert type(again) is cls and again.get_config() == opt.get_config()
    assert optimizers.SGD(nesterov=True).get_config()["nesterov"] is True
    assert type(optimizers.get({"class_name": "adam", "config": {}})) is optimizers.Adam  # case-insensitive
    for name in ("zero", "one", "uniform", "glorot_uniform", "orthogonal"):
        assert initializers.serialize(initializers.get(name)) == name
    for init in (initializers.RandomUniform(-1, 2, seed=4), initializers.Constant(3.0), initializers.Identity(2.0)):
        again = initializers.get(initializers.serialize(init))
        assert type(again) is type(init) and again.get_config() == init.get_config()


def test_shared_layers_nested_models_and_multi_io_round_trip():
    # a model nested in a model nested in a model, each called twice; a layer shared between
    # depths (A(B(A(x)))), and two outputs
    a = Input(shape=(4,), name="a")
    inner = Model(a, Dense(4, activation="tanh", name="inner_dense")(a), name="inner")
    b = Input(shape=(4,), name="b")
    middle = Model(b, merge([inner(b), inner(inner(b))], mode="sum", name="m_sum"), name="middle")
    x, y = Input(shape=(4,), name="x"), Input(shape=(4,), name="y")
    shared = Dense(4, name="shared")
    h = shared(middle(shared(x)))
    out1 = Dense(2, activation="softmax", name="out1")(merge([h, middle(y)], mode="concat"))
    out2 = Dense(1, name="out2")(h)
    model = Model([x, y], [out1, out2])
    config = model.get_config()
    entry = next(l for l in config["layers"] if l["name"] == "middle")
    assert entry["inbound_nodes"] == [[["shared", 0, 0]], [["y", 0, 0]]]  # outside calls count from 1
    assert "m_sum" not in [l["name"] for l in config["layers"]]  # inside middle's own config
    shared_entry = next(l for l in config["layers"] if l["name"] == "shared")
    assert shared_entry["inbound_nodes"] == [[["x", 0, 0]], [["middle", 1, 0]]]
    rebuilt = model_from_json(model.to_json())
    assert as_json(rebuilt.get_config()) == as_json(config)
    rebuilt.set_weights(model.get_weights())
    xs = [RNG.standard_normal((5, 4)).astype(np.float32) for _ in range(2)]
    for w, g in zip(model.predict(xs), rebuilt.predict(xs)):
        np.testing.assert_array_equal(w, g)


def test_time_distributed_model_and_masks_round_trip():
    frame = Input(shape=(3,))
    encoder = Model(frame, Dense(4, activation="relu")(frame))
    words = Input(shape=(6,), dtype="int32")
    e = Embedding(12, 3, mask_zero=True)(words)
    seq = LSTM(4, return_sequences=True)(e)  # masked: padded steps repeat the previous output
    frames = Input(shape=(6, 3))
    merged = merge([LSTM(5)(TimeDistributed(encoder)(frames)), LSTM(5)(seq)], mode="concat")
    model = Model([frames, words], Dense(2)(merged))
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    w = RNG.integers(1, 12, (4, 6)).astype(np.float32)
    w[:, 4:] = 0
    xs = [RNG.standard_normal((4, 6, 3)).astype(np.float32), w]
    np.testing.assert_array_equal(model.predict(xs), rebuilt.predict(xs))
    assert [type(l) for l in rebuilt.layers] == [type(l) for l in model.layers]


def test_sequential_config_is_a_list_and_round_trips():
    m = Sequential()
    m.add(Dense(4, input_dim=3, activation="relu"))
    m.add(Dropout(0.5))
    m.add(Dense(2))
    config = m.get_config()
    assert isinstance(config, list) and config[0]["class_name"] == "Dense"
    assert json.loads(m.to_json())["class_name"] == "Sequential"
    again = Sequential.from_config(json.loads(json.dumps(config)))
    again.set_weights(m.get_weights())
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(m.predict(x), again.predict(x))
    assert [type(l) for l in again.layers] == [Dense, Dropout, Dense]
    also = Sequential.from_config({"name": "s", "layers": config})  # Keras 2.2's layout
    assert also.name == "s" and len(also.layers) == 3


def test_guide_mlp_on_mnist_round_trips(mnist):
    x_train, y_train, x_test, _ = mnist
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    predictions = Dense(10, activation="softmax")(x)
    model = Model(input=inputs, output=predictions)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:2000], np.eye(10, dtype=np.float32)[y_train[:2000]], nb_epoch=1, verbose=0)
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(model.predict(x_test[:500]), rebuilt.predict(x_test[:500]))


def test_guide_multi_input_multi_output_on_reviews_round_trips(reviews):
    x = np.minimum(reviews["x_test"][:200, :40], 999).astype(np.float32)
    main_input = Input(shape=(40,), dtype="int32", name="main_input")
    e = Embedding(output_dim=16, input_dim=1000, input_length=40)(main_input)
    lstm_out = LSTM(8)(e)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = Input(shape=(5,), name="aux_input")
    h = merge([lstm_out, auxiliary_input], mode="concat")
    h = Dense(16, activation="relu")(h)
    main_output = Dense(1, activation="sigmoid", name="main_output")(h)
    model = Model(input=[main_input, auxiliary_input], output=[main_output, auxiliary_output])
    aux = RNG.standard_normal((200, 5)).astype(np.float32)
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    for w, g in zip(model.predict([x, aux]), rebuilt.predict([x, aux])):
        np.testing.assert_array_equal(w, g)
    assert rebuilt.output_names == ["main_output", "aux_output"]


def test_guide_shared_vision_model_and_residual_round_trip():
    digit_input = Input(shape=(1, 8, 8))
    x = Convolution2D(4, 3, 3, dim_ordering="th")(digit_input)
    x = Convolution2D(4, 3, 3, dim_ordering="th")(x)
    x = MaxPooling2D((2, 2), dim_ordering="th")(x)
    out = Flatten()(x)
    vision_model = Model(digit_input, out)
    digit_a, digit_b = Input(shape=(1, 8, 8)), Input(shape=(1, 8, 8))
    concatenated = merge([vision_model(digit_a), vision_model(digit_b)], mode="concat")
    out = Dense(1, activation="sigmoid")(concatenated)
    classification_model = Model([digit_a, digit_b], out)
    # residual connection: y = x + conv(x)
    img = Input(shape=(5, 5, 3))
    y = Convolution2D(3, 3, 3, border_mode="same", dim_ordering="tf")(img)  # channels last, stated
    residual = Model(img, merge([img, y], mode="sum"))
    for model in (classification_model, residual):
        rebuilt = model_from_json(model.to_json())
        rebuilt.set_weights(model.get_weights())
        xs = [RNG.standard_normal((3,) + tuple(i.shape[1:])).astype(np.float32) for i in model.inputs]
        np.testing.assert_array_equal(model.predict(xs), rebuilt.predict(xs))


def test_a_callable_merge_mode_is_refused_naming_the_layer():
    x = Input(shape=(3,))
    cb = merge([x, x], mode=lambda ts: ts[0] + ts[1], name="fn_merge")
    with pytest.raises(ValueError, match="fn_merge.*Python code.*Lambda on the list"):
        Model(x, cb).to_json()
    assert Model(x, Dense(2)(x)).to_json()  # the same input without the merge is fine
    # in this process, a Lambda's config holds its function (written to a file, its traced ops:
    # test_traced_functions.py)
    y = Lambda(lambda t: t * 2.0, name="doubler")(Dense(3)(x))
    again = Lambda.from_config(y._keras_history[0].get_config())
    assert again.function is y._keras_history[0].function


def test_keras_1_2_lambda_config_with_bytecode_is_not_loaded():
    config = {"class_name": "Lambda", "config": {"name": "l", "trainable": True, "function": ["e30AAAA", None, None],
                                                  "function_type": "lambda", "output_shape": None,
                                                  "output_shape_type": "raw", "arguments": {}}}
    with pytest.raises(ValueError, match="bytecode"):
        deserialize(config)

    def double(t):
        return t * 2.0
    config["config"].update(function="double", function_type="function")
    layer = deserialize(config, custom_objects={"double": double})
    assert layer.function is double


def test_unknown_class_names_it_and_points_at_custom_objects():
    class Scale(Layer):
        config_keys = ("factor",)

        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x, mask=None):
            return x * self.factor

    x = Input(shape=(3,))
    model = Model(x, Scale(3.0, name="scale")(x))
    text = model.to_json()
    with pytest.raises(ValueError, match=r"Unknown layer class: 'Scale'.*custom_objects=\{'Scale'"):
        model_from_json(text)
    again = model_from_json(text, custom_objects={"Scale": Scale})
    assert again.get_layer("scale").factor == 3.0
    v = RNG.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(again.predict(v), 3.0 * v, rtol=1e-6)


@pytest.mark.parametrize("text, match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "a dict"),
    ('{"config": {}}', "class_name"),
    ('{"class_name": "Model", "config": {"layers": 3, "input_layers": [], "output_layers": []}}', "'layers' must"),
    ('{"class_name": "Model", "config": {"layers": [{"name": "d", "class_name": "Dense", "config": {"output_dim": 2},'
     ' "inbound_nodes": [[["nowhere", 0, 0]]]}], "input_layers": [], "output_layers": []}}', "nowhere"),
    ('{"class_name": "Dense", "config": {"output_dim": 2, "bogus": 1}}', "bogus"),
    ('{"class_name": "Model", "config": {"layers": [{"name": "i", "class_name": "InputLayer", "config": '
     '{"batch_input_shape": [null, 2]}, "inbound_nodes": []}], "input_layers": [["i", 5, 0]], "output_layers": []}}',
     "node 5"),
])
def test_malformed_configs_are_clear_errors(text, match):
    with pytest.raises(ValueError, match=match):
        model_from_json(text)


def test_model_from_config_and_yaml():
    x = Input(shape=(3,))
    model = Model(x, Dense(2, activation="sigmoid")(x))
    again = model_from_config({"class_name": "Model", "config": model.get_config()})
    assert as_json(again.get_config()) == as_json(model.get_config())
    pytest.importorskip("yaml", reason="to_yaml needs PyYAML (pip install pyyaml)")
    text = model.to_yaml()
    assert "class_name: Model" in text
    again = model_from_yaml(text)
    assert as_json(again.get_config()) == as_json(model.get_config())
    with pytest.raises(ValueError, match="not valid YAML"):
        model_from_yaml("a: [")
    with pytest.raises(ValueError):  # safe_load: no Python objects from the text
        model_from_yaml("!!python/object/apply:os.system ['true']")


def test_yaml_without_pyyaml_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    x = Input(shape=(3,))
    with pytest.raises(ImportError, match=r"pyyaml.*kiln-nn\[yaml\]"):
        Model(x, Dense(2)(x)).to_yaml()
    with pytest.raises(ImportError, match="pyyaml"):
        model_from_yaml("a: 1")


def test_input_layer_config_is_keras_1_2s():
    layer = InputLayer(batch_input_shape=(None, 3), input_dtype="int32", name="ids")
    assert layer.get_config() == {"batch_input_shape": (None, 3), "input_dtype": "int32", "sparse": False,
                                  "name": "ids"}


def test_callback_configs_round_trip(tmp_path):
    from kiln import callbacks
    made = [callbacks.EarlyStopping(monitor="loss", patience=3, restore_best_weights=True),
            callbacks.ReduceLROnPlateau(factor=0.5), callbacks.CSVLogger(str(tmp_path / "log.csv")),
            callbacks.ModelCheckpoint(str(tmp_path / "m.h5"), save_best_only=True), callbacks.TerminateOnNaN(),
            callbacks.History(), callbacks.BaseLogger(), callbacks.ProgbarLogger(),
            callbacks.LearningRateScheduler(float), callbacks.LambdaCallback(on_epoch_end=print),
            callbacks.RemoteMonitor(root="http://localhost:9001", field="logs")]
    names = {type(c).__name__ for c in made} | {"TensorBoard"}  # which cannot be made here (Keras 1.2: TF only)
    exported = {n for n in callbacks.__all__ if n not in ("Callback", "CallbackList")}
    assert exported <= names, "add a config example for %s" % (exported - names)
    for cb in made:
        config = cb.get_config()
        again = type(cb).from_config(config)
        assert again.get_config() == config
    assert made[0].get_config()["patience"] == 3
