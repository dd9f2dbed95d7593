"""Keras 1.2's (and Keras 2's) `keras.layers.*` import paths: every layer name each module has
in Keras 1.2, imported from the kiln module of the same path, is the one class kiln.layers
exports, and is built into a model that predicts and (when it has weights) trains a step.
A name listed here without an example fails, as does a path that lacks the name."""
import importlib
import warnings

import numpy as np
import pytest

from kiln import backend as K
import kiln.layers
from kiln.models import Model

RNG = np.random.default_rng(0)

# Keras 1.2's names per module (Keras 2 aliases kiln has beside them), with one example each:
# (input shape without the batch, constructor arguments).
POOLING = {
    "MaxPooling1D": ((4, 3), dict(pool_length=2)),
    "AveragePooling1D": ((4, 3), dict(pool_length=2)),
    "MaxPooling2D": ((1, 4, 4), dict(pool_size=(2, 2))),
    "AveragePooling2D": ((1, 4, 4), dict(pool_size=(2, 2))),
    "GlobalMaxPooling1D": ((4, 3), {}),
    "GlobalAveragePooling1D": ((4, 3), {}),
    "GlobalMaxPooling2D": ((1, 4, 4), {}),
    "GlobalAveragePooling2D": ((1, 4, 4), {}),
    **{alias: ((4, 3), {}) for alias in ("MaxPool1D", "AvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool1D")},
    **{alias: ((1, 4, 4), {}) for alias in ("MaxPool2D", "AvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool2D")},
    "MaxPooling3D": ((1, 4, 4, 4), dict(pool_size=(2, 2, 2))),
    "AveragePooling3D": ((1, 4, 4, 4), dict(pool_size=(2, 2, 2))),
    "GlobalMaxPooling3D": ((1, 3, 4, 4), {}),
    "GlobalAveragePooling3D": ((1, 3, 4, 4), {}),
    **{alias: ((1, 4, 4, 4), {}) for alias in ("MaxPool3D", "AvgPool3D", "GlobalMaxPool3D", "GlobalAvgPool3D")},
}
PATHS = {
    "layers.core": {
        "Masking": ((3, 4), dict(mask_value=0.0)),
        "Dropout": ((4,), dict(p=0.5)),
        "SpatialDropout1D": ((3, 4), dict(p=0.5)),
        "SpatialDropout2D": ((2, 4, 4), dict(p=0.5)),
        "SpatialDropout3D": ((2, 3, 4, 4), dict(p=0.5)),
        "Activation": ((4,), dict(activation="tanh")),
        "Reshape": ((4,), dict(target_shape=(2, 2))),
        "Permute": ((3, 4), dict(dims=(2, 1))),
        "Flatten": ((3, 4), {}),
        "RepeatVector": ((4,), dict(n=2)),
        "Lambda": ((4,), dict(function=lambda x: x * 2.0)),
        "Dense": ((4,), dict(output_dim=3)),
        "ActivityRegularization": ((4,), dict(l1=0.1, l2=0.1)),
        "MaxoutDense": ((4,), dict(output_dim=3, nb_feature=2)),
        "Highway": ((4,), {}),
        "TimeDistributedDense": ((3, 4), dict(output_dim=2)),
    },
    "layers.convolutional": {
        "Convolution1D": ((6, 4), dict(nb_filter=2, filter_length=3)),
        "Conv1D": ((6, 4), dict(nb_filter=2, filter_length=3)),
        "AtrousConvolution1D": ((7, 4), dict(nb_filter=2, filter_length=3, atrous_rate=2)),
        "AtrousConv1D": ((7, 4), dict(nb_filter=2, filter_length=3, atrous_rate=2)),
        "Convolution2D": ((1, 5, 5), dict(nb_filter=2, nb_row=3, nb_col=3)),
        "Conv2D": ((1, 5, 5), dict(nb_filter=2, nb_row=3, nb_col=3)),
        "AtrousConvolution2D": ((1, 7, 7), dict(nb_filter=2, nb_row=3, nb_col=3, atrous_rate=(2, 2))),
        "AtrousConv2D": ((1, 7, 7), dict(nb_filter=2, nb_row=3, nb_col=3, atrous_rate=(2, 2))),
        "Deconvolution2D": ((1, 5, 5), dict(nb_filter=2, nb_row=3, nb_col=3, output_shape=(None, 2, 7, 7))),
        "Deconv2D": ((1, 5, 5), dict(nb_filter=2, nb_row=3, nb_col=3, output_shape=(None, 2, 7, 7))),
        "Conv2DTranspose": ((5, 5, 1), dict(filters=2, kernel_size=(3, 3))),
        "SeparableConvolution2D": ((2, 5, 5), dict(nb_filter=3, nb_row=3, nb_col=3)),
        "SeparableConv2D": ((2, 5, 5), dict(nb_filter=3, nb_row=3, nb_col=3)),
        "UpSampling1D": ((3, 4), dict(length=2)),
        "UpSampling2D": ((1, 3, 3), dict(size=(2, 2))),
        "ZeroPadding1D": ((3, 4), dict(padding=1)),
        "ZeroPadding2D": ((1, 3, 3), dict(padding=(1, 1))),
        "Cropping1D": ((5, 2), dict(cropping=(1, 1))),
        "Cropping2D": ((1, 5, 5), dict(cropping=((1, 1), (1, 1)))),
        "Convolution3D": ((1, 4, 4, 4), dict(nb_filter=2, kernel_dim1=2, kernel_dim2=2, kernel_dim3=2)),
        "Conv3D": ((1, 4, 4, 4), dict(nb_filter=2, kernel_dim1=2, kernel_dim2=2, kernel_dim3=2)),
        "UpSampling3D": ((1, 2, 3, 3), dict(size=(2, 2, 2))),
        "ZeroPadding3D": ((1, 2, 3, 3), dict(padding=(1, 1, 1))),
        "Cropping3D": ((1, 4, 5, 5), dict(cropping=((1, 1), (1, 1), (1, 1)))),
        # Keras 1.2 imports the pooling layers here too, for old code's paths.
        **{n: POOLING[n] for n in ("MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D",
                                   "MaxPooling3D", "AveragePooling3D")},
    },
    "layers.pooling": POOLING,
    "layers.recurrent": {
        "SimpleRNN": ((4, 2), dict(output_dim=3)),
        "GRU": ((4, 2), dict(output_dim=3, return_sequences=True)),
        "LSTM": ((4, 2), dict(output_dim=3)),
    },
    "layers.embeddings": {"Embedding": ((4,), dict(input_dim=10, output_dim=3, input_length=4))},
    "layers.normalization": {"BatchNormalization": ((4,), {})},
    "layers.advanced_activations": {
        "LeakyReLU": ((4,), dict(alpha=0.1)),
        "PReLU": ((4,), {}),
        "ELU": ((4,), dict(alpha=0.5)),
        "ParametricSoftplus": ((4,), {}),
        "ThresholdedReLU": ((4,), dict(theta=0.5)),
        "SReLU": ((4,), {}),
    },
    "layers.noise": {
        "GaussianNoise": ((4,), dict(sigma=0.1)),
        "GaussianDropout": ((4,), dict(p=0.1)),
    },
    "layers.wrappers": {
        "TimeDistributed": ((3, 4), dict(layer=lambda: kiln.layers.Dense(2))),
        "Bidirectional": ((3, 4), dict(layer=lambda: kiln.layers.LSTM(2))),
    },
    "layers.local": {
        "LocallyConnected1D": ((5, 4), dict(nb_filter=2, filter_length=3)),
        "LocallyConnected2D": ((1, 5, 5), dict(nb_filter=2, nb_row=3, nb_col=3)),
    },
    "layers.convolutional_recurrent": {
        "ConvLSTM2D": ((2, 1, 4, 4), dict(nb_filter=2, nb_row=3, nb_col=3, border_mode="same")),
    },
}

CASES = [(path, name) for path, names in PATHS.items() for name in names]


def data(shape, n=4, ints=False):
    if ints:
        return RNG.integers(1, 10, (n,) + shape).astype(np.int32)
    return RNG.standard_normal((n,) + shape).astype(np.float32)


def build_and_run(cls, shape, kwargs, dtype="float32"):
    """A model of one layer of `cls` on an Input of `shape`: predicts with the shape the layer
    states, and one SGD step changes its weights when it has trainable ones."""
    kwargs = {k: (v() if k == "layer" else v) for k, v in kwargs.items()}
    x = kiln.layers.Input(shape=shape, dtype=dtype)
    layer = cls(**kwargs)
    y = layer(x)
    model = Model(x, y)
    xs = data(shape, ints=dtype == "int32")
    out = model.predict(xs)
    assert out.shape == (len(xs),) + tuple(y.shape[1:]), (out.shape, y.shape)
    assert np.all(np.isfinite(out))
    if model.trainable_weights:
        before = [w.copy() for w in layer.get_weights()]
        model.compile("sgd", "mse")
        model.train_on_batch(xs, out + 1.0)
        assert any(not np.array_equal(a, b) for a, b in zip(before, layer.get_weights())), cls.__name__
    return layer, model, xs


@pytest.mark.parametrize("path,name", CASES, ids=["%s.%s" % c for c in CASES])
def test_layer_on_its_keras_path_is_kilns_and_runs(path, name):
    cls = getattr(importlib.import_module("kiln." + path), name)
    assert cls is getattr(kiln.layers, name)  # one implementation, re-exported
    shape, kwargs = PATHS[path][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TimeDistributedDense's deprecation
        build_and_run(cls, shape, kwargs, "int32" if name == "Embedding" else "float32")


def test_time_distributed_dense_warns_as_keras_and_keeps_its_config():
    from kiln.layers.core import TimeDistributedDense
    with pytest.warns(UserWarning, match="TimeDistributedDense` is deprecated"):
        layer = TimeDistributedDense(3, input_dim=4, input_length=2)
    assert layer.batch_input_shape == (None, 2, 4)
    config = layer.get_config()
    assert (config["output_dim"], config["input_dim"], config["input_length"]) == (3, 4, 2)
    with pytest.raises(ValueError, match="ndim"):
        layer(kiln.layers.Input(shape=(4,)))


class Doubled(kiln.layers.wrappers.Wrapper):
    """A user's wrapper written on Keras 1.2's base: the wrapped layer's output, twice."""

    def build(self, input_shape):
        super().build(input_shape)

    def call(self, x, mask=None):
        return self.layer.call(x) * 2.0

    def get_output_shape_for(self, input_shape):
        return self.layer.get_output_shape_for(input_shape)


def test_wrapper_is_the_base_of_a_users_wrapper():
    from kiln.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
    assert issubclass(TimeDistributed, Wrapper) and issubclass(Bidirectional, Wrapper)
    inner = kiln.layers.Dense(3)
    layer, model, xs = build_and_run(Doubled, (4,), dict(layer=lambda: inner))
    assert layer.trainable_weights == inner.trainable_weights
    w, b = inner.get_weights()
    np.testing.assert_allclose(model.predict(xs), 2.0 * (xs @ w + b), rtol=1e-5, atol=1e-5)
    again = Doubled.from_config(layer.get_config())
    assert isinstance(again.layer, kiln.layers.Dense) and again.layer.output_dim == 3


class PreprocessedRNN(kiln.layers.recurrent.Recurrent):
    """A Keras 1.2 cell whose input projection runs over the whole sequence before the loop,
    with Keras 1.2's time_distributed_dense."""

    def __init__(self, output_dim, dropout=0.0, **kwargs):
        self.output_dim, self.dropout = output_dim, dropout
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.states = [None]
        self.W = self.add_weight((input_shape[2], self.output_dim), "glorot_uniform", name="W")
        self.b = self.add_weight((self.output_dim,), "one", name="b")
        self.U = self.add_weight((self.output_dim, self.output_dim), "orthogonal", name="U")

    def preprocess_input(self, x):
        from kiln.layers.recurrent import time_distributed_dense
        return time_distributed_dense(x, self.W, self.b, self.dropout, input_dim=int(x.shape[2]),
                                      output_dim=self.output_dim, timesteps=x.shape[1])

    def step(self, x, states):
        h = K.tanh(x + K.dot(states[0], self.U))
        return h, [h]


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_recurrent_base_and_time_distributed_dense(dropout):
    layer, model, xs = build_and_run(PreprocessedRNN, (5, 3), dict(output_dim=4, dropout=dropout))
    w, b, u = layer.get_weights()
    h = np.zeros((len(xs), 4))
    for t in range(5):
        h = np.tanh(xs[:, t] @ w + b + h @ u)
    np.testing.assert_allclose(model.predict(xs), h, rtol=1e-4, atol=1e-5)  # dropout only when training


def test_layers_package_names():
    """`from kiln.layers import Input, InputLayer, InputSpec, Layer, Merge, merge` (Keras 1.2)
    and the Keras 2 merge layers and functions, all in one model that trains."""
    from kiln.layers import (Add, Average, Concatenate, Dot, Input, InputLayer, InputSpec, Layer, Maximum, Merge,
                             Minimum, Multiply, Subtract, add, average, concatenate, dot, maximum, merge, minimum,
                             multiply, subtract)
    from kiln.engine import topology
    from user_layers import Gain
    assert Layer is topology.Layer and InputSpec is topology.InputSpec and issubclass(Gain, Layer)

    a, b = Input(shape=(3,)), Input(shape=(3,))
    a2, b2 = Gain()(a), Gain()(b)
    outs = [merge([a2, b2], mode="sum"), Merge(mode="mul")([a2, b2])]
    outs += [cls()([a2, b2]) for cls in (Add, Average, Maximum, Minimum, Multiply, Subtract, Concatenate)]
    outs += [Dot(axes=1)([a2, b2])]
    outs += [fn([a2, b2]) for fn in (add, average, maximum, minimum, multiply, subtract, concatenate)]
    outs += [dot([a2, b2], axes=1)]
    model = Model([a, b], concatenate(outs))
    assert isinstance(model.layers[0], InputLayer)
    xa, xb = data((3,)), data((3,))
    got = model.predict([xa, xb])
    want = np.concatenate([xa + xb, xa * xb, xa + xb, (xa + xb) / 2, np.maximum(xa, xb), np.minimum(xa, xb),
                           xa * xb, xa - xb, np.concatenate([xa, xb], 1), (xa * xb).sum(1, keepdims=True),
                           xa + xb, (xa + xb) / 2, np.maximum(xa, xb), np.minimum(xa, xb), xa * xb, xa - xb,
                           np.concatenate([xa, xb], 1), (xa * xb).sum(1, keepdims=True)], 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    model.compile("sgd", "mse")
    model.train_on_batch([xa, xb], got + 1.0)
    assert not np.allclose(model.layers[2].get_weights()[0], 1.0)
