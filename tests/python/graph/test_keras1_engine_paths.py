"""Keras 1.2's engine import paths work and reach the one implementation: `from kiln.engine
import Input, Model, merge`, a custom layer from `kiln.engine.topology.Layer`, Container, Node,
InputSpec, Merge and get_source_inputs."""
import numpy as np

from kiln import backend as K
from kiln.engine import Input, InputLayer, InputSpec, Layer, Merge, Model, get_source_inputs, merge
from kiln.engine.topology import Container, Node
from kiln.layers import Dense


class Scale(Layer):
    """The shape of a Keras 1 custom layer: build creates a weight, call uses K ops."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [InputSpec(ndim=2)]

    def build(self, input_shape):
        self.w = self.add_weight((input_shape[1],), initializer="one", name="w")
        self.built = True

    def call(self, x, mask=None):
        return x * self.w

    def get_output_shape_for(self, input_shape):
        return input_shape


def test_a_keras1_program_on_the_engine_paths_trains(mnist):
    x, labels = mnist[0][:3000], mnist[1][:3000]
    y = np.eye(10, dtype=np.float32)[labels]
    left, right = Input(shape=(392,)), Input(shape=(392,))
    h = merge([Scale()(left), Scale()(right)], mode="concat")
    out = Dense(10, activation="softmax")(Dense(32, activation="relu")(h))
    model = Model(input=[left, right], output=out)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit([x[:, :392], x[:, 392:]], y, nb_epoch=3, batch_size=64, verbose=0)
    assert hist.history["acc"][-1] > 0.85, hist.history
    assert isinstance(model, Container) and isinstance(model.layers[0], InputLayer)
    assert all(isinstance(n, Node) for l in model.layers for n in l.inbound_nodes)
    assert any(isinstance(l, Scale) and not np.allclose(l.get_weights()[0], 1.0) for l in model.layers)


def test_get_source_inputs_and_merge_layer():
    a, b, c = Input(shape=(3,)), Input(shape=(3,)), Input(shape=(3,))
    ab = merge([a, b], mode="sum")
    y = Merge(mode="concat")([Dense(2)(ab), Dense(2)(c)])
    assert get_source_inputs(y) == [a, b, c]
    assert get_source_inputs(ab) == [a, b]
    assert get_source_inputs(a) == [a]
    m = Model(input=[a, b, c], output=y)
    out = m.predict([np.ones((2, 3), np.float32)] * 3)
    assert out.shape == (2, 4)


def test_more_keras1_module_paths(mnist):
    from kiln.engine.training import weighted_objective
    from kiln.layers.core import Merge as CoreMerge
    from kiln.layers.pooling import MaxPooling2D
    from kiln import metrics, objectives
    assert CoreMerge is Merge and MaxPooling2D.__name__ == "MaxPooling2D"
    yt, yp = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    w = K.placeholder(shape=(None,))
    f = K.function([yt, yp, w], [weighted_objective(objectives.mean_squared_error)(yt, yp, w),
                                 objectives.mse(yt, yp), metrics.mse(yt, yp)])
    a, b = np.zeros((4, 3), np.float32), np.array([[1, 1, 1], [2, 2, 2], [1, 1, 1], [0, 0, 0]], np.float32)
    weighted, per_sample, metric = f([a, b, np.array([1, 0, 1, 0], np.float32)])
    np.testing.assert_allclose(weighted, 1.0, rtol=1e-6)  # weights 1,0,1,0: the mean over the weighted ones
    np.testing.assert_allclose(per_sample, [1, 4, 1, 0], rtol=1e-6)  # an objective: one value per sample
    assert np.shape(metric) == ()  # Keras 1.2's metrics are the batch mean
    np.testing.assert_allclose(metric, 1.5, rtol=1e-6)
