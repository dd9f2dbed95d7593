"""Input checks of fit/evaluate/predict, with Keras 1.2's messages."""
import re

import numpy as np
import pytest

from kiln.engine.data import (check_array_lengths, check_finite,
                              check_loss_and_target_compatibility, check_not_empty,
                              standardize_input_data)
from kiln.utils.np_utils import to_categorical


def test_single_array_list_and_dict_give_ordered_float32_list():
    a = np.ones((4, 3))  # float64 in
    b = np.arange(8, dtype=np.int64).reshape(4, 2)
    names, shapes = ["input_a", "input_b"], [(None, 3), (None, 2)]
    out = standardize_input_data([a, b], names, shapes)
    assert [x.dtype for x in out] == [np.float32, np.int64]  # ids stay integers
    out = standardize_input_data({"input_b": b, "input_a": a}, names, shapes)
    assert out[0].shape == (4, 3) and out[1] is not None and np.array_equal(out[1], b)
    (single,) = standardize_input_data(a, ["input_a"], [(None, 3)])
    assert single.dtype == np.float32 and single.flags.c_contiguous
    assert a.dtype == np.float64  # the caller's array is untouched


def test_one_dimensional_becomes_column_only_for_rank_two():
    (x,) = standardize_input_data(np.arange(5.0), ["in"], [(None, 1)])
    assert x.shape == (5, 1)
    (x,) = standardize_input_data(np.arange(5), ["ids"], [(None,)])
    assert x.shape == (5,)
    (x,) = standardize_input_data(np.arange(5.0), ["in"], None)
    assert x.shape == (5, 1)


def test_wrong_number_of_arrays():
    msg = ("Error when checking model input: the list of Numpy arrays that you are passing to "
           "your model is not the size the model expected. Expected to see 2 arrays but instead "
           "got the following list of 1 arrays: ")
    with pytest.raises(ValueError, match=re.escape(msg)):
        standardize_input_data([np.ones((3, 2))], ["a", "b"], [(None, 2), (None, 2)])
    with pytest.raises(ValueError, match="The model expects 2 input arrays, but only received "
                                         r"one array. Found: array with shape \(3, 2\)"):
        standardize_input_data(np.ones((3, 2)), ["a", "b"], [(None, 2), (None, 2)])


def test_missing_dict_key():
    with pytest.raises(ValueError, match=re.escape(
            'No data provided for "input_b". Need data for each key in: '
            "['input_a', 'input_b']")):
        standardize_input_data({"input_a": np.ones((2, 1))}, ["input_a", "input_b"], None)


def test_shape_and_rank_mismatch():
    with pytest.raises(ValueError, match=re.escape(
            "Error when checking model input: expected input_1 to have shape (None, 784) but "
            "got array with shape (32, 10)")):
        standardize_input_data(np.ones((32, 10)), ["input_1"], [(None, 784)])
    with pytest.raises(ValueError, match=re.escape(
            "Error when checking model target: expected dense_1 to have 3 dimensions, but got "
            "array with shape (32, 10)")):
        standardize_input_data(np.ones((32, 10)), ["dense_1"], [[None, 5, 10]],
                               exception_prefix="model target")


def test_batch_dim_checked_only_when_asked():
    standardize_input_data(np.ones((3, 2)), ["a"], [(4, 2)], check_batch_dim=False)
    with pytest.raises(ValueError, match=r"expected a to have shape \(4, 2\)"):
        standardize_input_data(np.ones((3, 2)), ["a"], [(4, 2)], check_batch_dim=True)


def test_not_arrays_is_type_error():
    with pytest.raises(TypeError, match="data should be a Numpy array"):
        standardize_input_data("hello", ["a"], None)


def test_array_lengths():
    x, y = [np.ones((10, 2)), np.ones((10, 3))], [np.ones((9, 1))]
    with pytest.raises(ValueError, match=re.escape(
            "Input arrays should have the same number of samples as target arrays. "
            "Found 10 input samples and 9 target samples.")):
        check_array_lengths(x, y)
    with pytest.raises(ValueError, match=r"All input arrays \(x\) should have the same number "
                                         r"of samples. Got array lengths: \[10, 9\]"):
        check_array_lengths([np.ones(10), np.ones(9)], [])
    with pytest.raises(ValueError, match="Sample_weight arrays should have"):
        check_array_lengths(x, [np.ones(10)], [np.ones(8)])
    check_array_lengths(x, [np.ones(10)], [None])  # fine
    check_array_lengths(x, None)  # predict: no targets


def test_categorical_crossentropy_with_integer_targets():
    y = np.zeros((7, 1))
    with pytest.raises(ValueError) as e:
        check_loss_and_target_compatibility([y], ["categorical_crossentropy"], [(None, 10)])
    text = str(e.value)
    assert text.startswith("You are passing a target array of shape (7, 1) while using as "
                           "loss `categorical_crossentropy`.")
    assert "from kiln.utils.np_utils import to_categorical" in text
    assert "`sparse_categorical_crossentropy`" in text
    # sparse CE expects exactly that shape
    check_loss_and_target_compatibility([y], ["sparse_categorical_crossentropy"], [(None, 10)])


@pytest.mark.parametrize("loss", ["mse", "mean_squared_error", "binary_crossentropy",
                                  "categorical_crossentropy"])
def test_target_shape_must_match_output(loss):
    with pytest.raises(ValueError, match=re.escape(
            "A target array with shape (5, 3) was passed for an output of shape (None, 4) "
            "while using as loss `")):
        check_loss_and_target_compatibility([np.ones((5, 3))], [loss], [(None, 4)])
    check_loss_and_target_compatibility([np.ones((5, 4))], [loss], [(None, 4)])


def test_loss_given_as_function_and_unchecked_losses():
    def categorical_crossentropy(y_true, y_pred):
        return None
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        check_loss_and_target_compatibility([np.ones((5, 3))], [categorical_crossentropy],
                                            [(None, 4)])
    check_loss_and_target_compatibility([np.ones((5, 3))], ["mae"], [(None, 4)])


def test_check_finite_names_array_count_and_first_sample():
    y = np.zeros((40, 2), np.float32)
    y[17, 1] = y[20, 0] = y[33, 1] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "Error when checking model target: dense_3 contains 3 NaN value(s) "
            "(first at sample 17).")):
        check_finite([np.ones((40, 1)), y], ["dense_1", "dense_3"], "model target")
    x = np.zeros((6, 2, 2))
    x[4, 1, 1] = np.inf
    x[5, 0, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "input_1 contains 1 NaN and 1 infinite value(s) (first at sample 4).")):
        check_finite([x], ["input_1"], "model input")


def test_check_finite_accepts_finite_and_integer_data():
    big = np.full((4, 2), 1e308)  # the float64 fast-path sum overflows; still finite
    check_finite([big, np.arange(5), None, np.zeros((3, 3), np.float32)],
                 ["a", "b", "c", "d"], "model input")


def test_check_not_empty():
    with pytest.raises(ValueError, match=r"model input: input_2 has no samples "
                                         r"\(array with shape \(0, 784\)\)"):
        check_not_empty([np.ones((2, 1)), np.ones((0, 784))], ["input_1", "input_2"],
                        "model input")
    check_not_empty([np.ones((1, 1))], ["input_1"], "model input")


def test_to_categorical_both_spellings():
    y = np.array([0, 2, 1, 2])
    one_hot = to_categorical(y, 3)
    assert one_hot.dtype == np.float32 and one_hot.shape == (4, 3)
    assert np.array_equal(one_hot.argmax(1), y) and np.all(one_hot.sum(1) == 1)
    assert np.array_equal(to_categorical(y, nb_classes=4), to_categorical(y, num_classes=4))
    assert to_categorical(y, nb_classes=4).shape == (4, 4)
    assert to_categorical(y.reshape(4, 1)).shape == (4, 3)  # classes inferred
    assert to_categorical([[1, 0], [0, 1]], 2).shape == (2, 2, 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        to_categorical(y, 2)
    with pytest.raises(ValueError, match="integers"):
        to_categorical([0.5, 1.0])
