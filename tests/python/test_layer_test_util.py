"""kiln.utils.test_utils: layer_test passes a sound layer and catches a layer whose stated output
shape, config or weights= argument is wrong; keras_test clears the layer-name counters."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, Layer
from kiln.utils import test_utils
from kiln.utils.test_utils import keras_test, layer_test


def test_a_sound_layer_passes_and_its_prediction_is_returned():
    out = layer_test(Dense, kwargs={"output_dim": 3}, input_shape=(2, 4))
    assert out.shape == (2, 3)
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    got = layer_test(Dense, kwargs={"output_dim": 2, "init": "one", "bias": False}, input_data=data,
                     expected_output=data.sum(1, keepdims=True).repeat(2, 1))
    np.testing.assert_allclose(got, [[6, 6], [22, 22]])
    assert layer_test(Dense, kwargs={"output_dim": 1}, input_shape=(3, 2), fixed_batch_size=True).shape == (3, 1)


def test_a_wrong_expected_output_fails():
    with pytest.raises(AssertionError):
        layer_test(Dense, kwargs={"output_dim": 2, "init": "one"}, input_data=np.ones((1, 3), np.float32),
                   expected_output=np.full((1, 2), 4.0))


class _LyingShape(Layer):
    def get_output_shape_for(self, input_shape):
        return (input_shape[0], 99)


class _ForgetfulConfig(Dense):
    config_keys = ("init",)  # drops output_dim: from_config cannot make the same layer


class _IgnoresWeights(Dense):
    def __init__(self, output_dim, weights=None, **kwargs):
        super().__init__(output_dim, **kwargs)  # drops weights=


def test_a_layer_that_misstates_its_output_shape_fails():
    with pytest.raises(AssertionError, match="expected an output of shape"):
        layer_test(_LyingShape, input_shape=(2, 4))


def test_a_layer_whose_config_does_not_rebuild_it_fails():
    with pytest.raises(ValueError, match="needs the number of outputs"):
        layer_test(_ForgetfulConfig, kwargs={"output_dim": 3}, input_shape=(2, 4))


def test_a_layer_that_drops_its_weights_argument_fails():
    with pytest.raises(AssertionError, match="weights="):
        layer_test(_IgnoresWeights, kwargs={"output_dim": 3}, input_shape=(2, 4))


def test_keras_test_resets_the_name_counters():
    @keras_test
    def make():
        return Dense(2).name

    make()  # whatever the counters were, they are cleared after it
    assert make() == "dense_1" and Dense(2).name == "dense_1"
    K.clear_session()
    assert test_utils.__all__ == ["get_test_data", "keras_test", "layer_test"]
