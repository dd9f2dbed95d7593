"""The kiln side of the torch-weights tests, shared by test_torch_weights.py (against real torch
modules) and test_torch_weights_numpy.py (against NumPy versions of torch's formulas)."""
import numpy as np

from kiln.layers import AtrousConvolution1D, Conv1D, Convolution1D, Dense, Embedding, Flatten, Input
from kiln.models import Model


def words(reviews, n=8, length=30):
    """n real movie reviews cut to `length` words, ids folded under 1000."""
    return (np.asarray(reviews["x_test"][:n, :length]) % 1000).astype(np.int64)


def wordconv_model(stride, dilation):
    """Embedding(1000, 16) -> Conv1D 8x5 same relu -> Conv1D 6x3 (stride or dilation) tanh ->
    Dense(2) on the flattened steps; with its number of steps after the second convolution."""
    ids = Input(shape=(30,), dtype="int32")
    h = Embedding(1000, 16, input_length=30)(ids)
    h = Convolution1D(8, 5, border_mode="same", activation="relu")(h)
    if dilation > 1:
        h = AtrousConvolution1D(6, 3, atrous_rate=dilation, activation="tanh")(h)
    else:
        h = Conv1D(filters=6, kernel_size=3, strides=stride, activation="tanh")(h)
    return Model(ids, Dense(2)(Flatten()(h))), h.shape[1]
