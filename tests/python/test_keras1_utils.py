"""kiln.utils as Keras 1.2 code uses it: np_utils (to_categorical, normalize, convert_kernel and
the small helpers), generic_utils (get_from_module, Progbar), layer_utils (print_summary,
count_total_params, convert_all_kernels_in_model)."""
import numpy as np
import pytest

import kiln
from kiln import activations, optimizers
from kiln.layers import Convolution2D, Dense, Flatten, Input
from kiln.models import Model
from kiln.utils import generic_utils, layer_utils, np_utils
from kiln.utils.np_utils import to_categorical


def test_to_categorical_keras1_and_keras2_names():
    y = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(to_categorical(y, 3), np.eye(3)[y])
    np.testing.assert_array_equal(np_utils.to_categorical(y, nb_classes=4), np.eye(4)[y])
    assert to_categorical(y[:, None], num_classes=3).shape == (4, 3)


def test_normalize_matches_numpy():
    x = np.random.RandomState(0).randn(5, 4)
    x[2] = 0
    got = np_utils.normalize(x)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    np.testing.assert_allclose(got, x / np.where(norms == 0, 1, norms))
    np.testing.assert_allclose(np_utils.normalize(x, axis=0, order=1), x / np.abs(x).sum(0))
    assert np.all(got[2] == 0)


@pytest.mark.parametrize("ordering", ["th", "tf", "channels_first", "channels_last"])
def test_convert_kernel_turns_convolution_into_cross_correlation(ordering):
    rng = np.random.RandomState(1)
    th = ordering in ("th", "channels_first")
    kernel = rng.randn(*((4, 2, 3, 3) if th else (3, 3, 2, 4)))
    flipped = np_utils.convert_kernel(kernel, ordering)
    assert flipped.shape == kernel.shape and flipped is not kernel
    np.testing.assert_array_equal(np_utils.convert_kernel(flipped, ordering), kernel)  # its own inverse
    # a true convolution (the kernel flipped, as Theano computes it) equals cross-correlation with
    # the converted kernel, at one output position
    patch = rng.randn(2, 3, 3) if th else rng.randn(3, 3, 2)
    w = kernel[0] if th else kernel[..., 0]  # filter 0
    conv = np.sum(patch * (w[:, ::-1, ::-1] if th else w[::-1, ::-1, :]))
    f = flipped[0] if th else flipped[..., 0]
    assert abs(np.sum(patch * f) - conv) < 1e-12
    with pytest.raises(ValueError, match="Invalid kernel shape"):
        np_utils.convert_kernel(np.zeros((3, 3)), ordering)


def test_convert_kernel_default_reads_image_dim_ordering():
    kernel = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(np_utils.convert_kernel(kernel), kernel[:, :, ::-1, ::-1])  # 'th' default
    kiln.backend.set_image_dim_ordering("tf")
    np.testing.assert_array_equal(np_utils.convert_kernel(kernel), kernel[::-1, ::-1, :, :])


def test_conv_lengths_and_class_helpers():
    assert np_utils.conv_output_length(28, 3, "valid", 1) == 26
    assert np_utils.conv_output_length(28, 3, "same", 2) == 14
    assert np_utils.conv_output_length(28, 3, "full", 1) == 30
    assert np_utils.conv_output_length(None, 3, "valid", 1) is None
    assert np_utils.conv_output_length(10, 3, "valid", 1, dilation=2) == 6
    for mode in ("valid", "same", "full"):
        assert np_utils.conv_input_length(np_utils.conv_output_length(27, 3, mode, 1), 3, mode, 1) == 27
    with pytest.raises(ValueError, match="border_mode"):
        np_utils.conv_output_length(28, 3, "wrap", 1)
    np.testing.assert_array_equal(np_utils.probas_to_classes(np.array([[0.2, 0.8], [0.9, 0.1]])), [1, 0])
    np.testing.assert_array_equal(np_utils.probas_to_classes(np.array([[0.7], [0.2]])), [1, 0])
    np.testing.assert_array_equal(np_utils.categorical_probas_to_classes(np.eye(3)[[2, 0]]), [2, 0])
    assert np_utils.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75


def test_get_from_module_as_keras1():
    assert generic_utils.get_from_module("relu", vars(activations), "activation") is activations.relu
    sgd = generic_utils.get_from_module("SGD", vars(optimizers), "optimizer", instantiate=True, kwargs={"lr": 0.5})
    assert isinstance(sgd, optimizers.SGD) and abs(float(kiln.backend.get_value(sgd.lr)) - 0.5) < 1e-7
    assert isinstance(generic_utils.get_from_module("Adam", vars(optimizers), "optimizer", instantiate=True),
                      optimizers.Adam)
    config = {"name": "SGD", "lr": 0.25}
    made = generic_utils.get_from_module(config, vars(optimizers), "optimizer")
    assert isinstance(made, optimizers.SGD) and config == {"name": "SGD", "lr": 0.25}  # not consumed
    assert generic_utils.get_from_module(len, {}, "thing") is len
    with pytest.raises(ValueError, match="Invalid activation: nope"):
        generic_utils.get_from_module("nope", vars(activations), "activation")
    assert generic_utils.make_tuple(1, "a") == (1, "a")


def test_progbar_from_keras1_loop(capsys):
    bar = generic_utils.Progbar(target=4)
    for i in range(3):
        bar.add(1, values=[("loss", 0.5)])
    bar.update(4, [("loss", 0.5)], force=True)  # Keras 1.2's keyword
    out = capsys.readouterr().out
    assert "4/4" in out and "loss: 0.5000" in out


def _small_model():
    x = Input(shape=(1, 6, 6))
    h = Convolution2D(3, 3, 3)(x)
    shared = Dense(5)
    y = shared(Flatten()(h))
    return Model(input=x, output=y)


def test_print_summary_of_a_model_and_of_a_list_of_layers():
    model = _small_model()
    lines = []
    layer_utils.print_summary(model, print_fn=lines.append)
    printed = []
    from kiln.engine.summary import print_summary
    print_summary(model, print_fn=printed.append)  # the table of model.summary()
    assert lines == printed and any("convolution2d" in l for l in lines)
    assert any("Total params: {:,}".format(model.count_params()) == l for l in lines)
    keras1 = []
    layer_utils.print_summary(model.layers, print_fn=keras1.append)  # Keras 1.2's call
    assert keras1 == lines
    only_conv = []
    conv = model.layers[1]
    layer_utils.print_summary([conv], relevant_nodes=["%s_ib-0" % conv.name], print_fn=only_conv.append)
    assert any(conv.name in l for l in only_conv) and "Total params: 30" in only_conv


def test_count_total_params_counts_shared_weights_once():
    model = _small_model()
    conv, dense = model.layers[1], model.layers[-1]
    assert layer_utils.count_total_params(model.layers) == (3 * 9 + 3 + 48 * 5 + 5, 0)
    dense.trainable = False
    assert layer_utils.count_total_params(model.layers + [dense]) == (30, 245)


def test_convert_all_kernels_in_model_flips_every_conv_kernel():
    model = _small_model()
    before = model.layers[1].get_weights()
    dense_before = model.layers[-1].get_weights()
    layer_utils.convert_all_kernels_in_model(model)
    after = model.layers[1].get_weights()
    np.testing.assert_array_equal(after[0], before[0][:, :, ::-1, ::-1])
    np.testing.assert_array_equal(after[1], before[1])
    for a, b in zip(model.layers[-1].get_weights(), dense_before):
        np.testing.assert_array_equal(a, b)
