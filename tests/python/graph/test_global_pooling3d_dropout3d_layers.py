"""GlobalMaxPooling3D, GlobalAveragePooling3D (layers/pooling.py) and SpatialDropout3D
(layers/core.py): the poolings against float64 NumPy in both orderings with their input
gradients by central differences, layer_test, configs, the Keras 2 spellings and the layout
rule; SpatialDropout3D zeroing whole channels at train time only; and a small model that learns
MNIST digits stacked as short volumes through both."""
import json

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import (Convolution3D, Dense, GlobalAveragePooling3D, GlobalAvgPool3D, GlobalMaxPool3D,
                         GlobalMaxPooling3D, Input, SpatialDropout3D, merge)
from kiln.layers import core, pooling
from kiln.models import Model
from kiln.utils.layer_utils import layer_from_config
from kiln.utils.test_utils import layer_test

from numeric import check_layer_gradients
from test_conv3d_layers import learns, volume_shape, volumes

RNG = np.random.default_rng(9)


def spatial_axes(ordering):
    return (2, 3, 4) if ordering == "th" else (1, 2, 3)


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("cls,np_reduce", [(GlobalMaxPooling3D, np.max), (GlobalAveragePooling3D, np.mean)],
                         ids=["max", "avg"])
def test_global_pooling3d_matches_numpy_and_its_input_gradient(ordering, cls, np_reduce):
    shape = volume_shape(ordering, channels=3, spatial=(2, 3, 4))
    x = Input(shape=shape)
    out = cls(dim_ordering=ordering)(x)
    xs = RNG.standard_normal((2,) + shape).astype(np.float32)  # no ties: the max has one winner
    ref = lambda x64: np_reduce(x64, axis=spatial_axes(ordering))  # noqa: E731
    want = ref(xs.astype(np.float64))
    got = Model(x, out).predict(xs)
    assert got.shape == want.shape == (2, 3) and K.int_shape(out) == (None, 3)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    check_layer_gradients(x, out, [], xs, ref, RNG)


def test_global_pooling3d_keras2_spellings_and_the_layout_rule():
    assert GlobalMaxPool3D is GlobalMaxPooling3D and GlobalAvgPool3D is GlobalAveragePooling3D
    assert pooling.GlobalMaxPooling3D is GlobalMaxPooling3D and pooling.GlobalAvgPool3D is GlobalAveragePooling3D
    x = Input(shape=(2, 3, 4, 5))
    assert K.int_shape(GlobalAvgPool3D(data_format="channels_first")(x)) == (None, 2)
    assert K.int_shape(GlobalMaxPool3D(data_format="channels_last")(x)) == (None, 5)
    # unstated after a 'th' convolution: the volume's channels are first
    h = Convolution3D(6, 1, 1, 1, dim_ordering="th")(x)
    layer = GlobalAveragePooling3D()
    assert K.int_shape(layer(h)) == (None, 6) and layer.dim_ordering == "th"


def test_global_pooling3d_follows_image_dim_ordering_unstated():
    K.set_image_dim_ordering("th")
    assert K.int_shape(GlobalMaxPooling3D()(Input(shape=(2, 3, 4, 5)))) == (None, 2)
    K.set_image_dim_ordering("tf")
    assert K.int_shape(GlobalMaxPooling3D()(Input(shape=(2, 3, 4, 5)))) == (None, 5)


def test_layer_test_on_each_layer():
    for cls in (GlobalMaxPooling3D, GlobalAveragePooling3D):
        for ordering in ("th", "tf"):
            data = RNG.standard_normal((2, 3, 2, 4, 5)).astype(np.float32)
            out = layer_test(cls, kwargs={"dim_ordering": ordering}, input_data=data)
            np_reduce = np.max if cls is GlobalMaxPooling3D else np.mean
            np.testing.assert_allclose(out, np_reduce(data, axis=spatial_axes(ordering)), rtol=1e-5, atol=1e-6)
    out = layer_test(SpatialDropout3D, kwargs={"p": 0.5, "dim_ordering": "th"}, input_shape=(2, 3, 2, 4, 2))
    assert out.shape == (2, 3, 2, 4, 2)


def test_configs_are_keras_1_2s_and_round_trip():
    for layer, want in [(GlobalMaxPooling3D(dim_ordering="th", name="g"),
                         {"name": "g", "trainable": True, "dim_ordering": "th"}),
                        (GlobalAveragePooling3D(data_format="channels_last", name="g"),
                         {"name": "g", "trainable": True, "dim_ordering": "tf"}),
                        (SpatialDropout3D(0.25, dim_ordering="tf", seed=5, name="d"),
                         {"name": "d", "trainable": True, "p": 0.25, "seed": 5, "dim_ordering": "tf"})]:
        config = json.loads(json.dumps(layer.get_config()))
        assert config == want
        again = layer_from_config({"class_name": type(layer).__name__, "config": config})
        assert type(again) is type(layer) and again.get_config() == config


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="ndim"):
        GlobalMaxPooling3D()(Input(shape=(3, 4, 5)))
    with pytest.raises(ValueError, match="ndim"):
        SpatialDropout3D(0.5)(Input(shape=(3, 4, 5)))
    with pytest.raises(ValueError, match="data_format"):
        GlobalAveragePooling3D(data_format="channels_middle")
    with pytest.raises(TypeError, match="rate"):
        SpatialDropout3D()


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_spatial_dropout3d_drops_whole_channels_in_training_only(ordering):
    p = 0.4
    layer = SpatialDropout3D(p, dim_ordering=ordering, seed=11)
    shape = (16, 3, 4, 5) if ordering == "th" else (3, 4, 5, 16)  # 16 channels
    xs = (RNG.random((10,) + shape) + 0.5).astype(np.float32)  # no zeros of its own
    x = Input(shape=shape)
    f = K.function([x, K.learning_phase()], [layer(x)])
    train = f([xs, 1])[0]
    kept = train != 0
    # the noise shape is (batch, channels, 1, 1, 1) / (batch, 1, 1, 1, channels): one draw per map
    per_map = kept.all(axis=spatial_axes(ordering)) | ~kept.any(axis=spatial_axes(ordering))
    assert per_map.all(), "a channel was partly dropped"
    np.testing.assert_allclose(train[kept], xs[kept] / (1 - p), rtol=1e-6)
    dropped = 1 - kept.any(axis=spatial_axes(ordering)).mean()
    assert 0.25 < dropped < 0.55, dropped  # of 160 maps, p = 0.4
    assert not np.array_equal(kept[0], kept[1])  # each sample draws its own
    np.testing.assert_array_equal(f([xs, 0])[0], xs)
    np.testing.assert_array_equal(Model(x, layer(x)).predict(xs), xs)
    assert SpatialDropout3D(rate=0.2).p == 0.2 and core.SpatialDropout3D is SpatialDropout3D


def test_spatial_dropout3d_layout_follows_the_input():
    """Unstated after a 'th' convolution, the draw is per channel of a channels-first volume."""
    x = Input(shape=(2, 3, 4, 5))
    layer = SpatialDropout3D(0.5, seed=2)
    y = layer(Convolution3D(8, 1, 1, 1, dim_ordering="th", bias=False)(x))
    assert layer.dim_ordering == "th"
    train = K.function([x, K.learning_phase()], [y])([np.ones((4, 2, 3, 4, 5), np.float32), 1])[0]
    kept = train != 0
    assert (kept.all(axis=(2, 3, 4)) | ~kept.any(axis=(2, 3, 4))).all()


def test_a_small_3d_model_learns_mnist_volumes_through_global_pooling(mnist):
    xs, ys = volumes(mnist, 200)
    x = Input(shape=xs.shape[1:])
    h = Convolution3D(8, 2, 5, 5, activation="relu", subsample=(1, 2, 2), dim_ordering="tf")(x)
    h = SpatialDropout3D(0.1, seed=3)(h)
    h = Convolution3D(16, 2, 3, 3, activation="relu", dim_ordering="tf")(h)
    pooled = merge([GlobalMaxPooling3D()(h), GlobalAveragePooling3D()(h)], mode="concat")
    learns(Model(x, Dense(10, activation="softmax")(pooled)), xs, ys, epochs=10, loss_ratio=0.5, accuracy=0.8)
