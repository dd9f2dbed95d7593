"""Bad input to fit gives a clear error naming the problem and leaves the weights unchanged."""
import numpy as np
import pytest

from kiln.layers import Dense, Input
from kiln.models import Model


@pytest.fixture
def model():
    a = Input(shape=(8,), name="features")
    h = Dense(4, activation="relu")(a)
    out = Dense(3, activation="softmax", name="probs")(h)
    m = Model(input=a, output=out)
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def _data(n=20):
    x = np.random.rand(n, 8).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.random.randint(0, 3, n)]
    return x, y


CASES = {
    "wrong-input-shape": (lambda x, y: (np.random.rand(20, 7), y), "expected features to have shape (None, 8)"),
    "wrong-target-shape": (lambda x, y: (x, np.random.rand(20, 4)), "expected probs to have shape (None, 3)"),
    "too-many-arrays": (lambda x, y: ([x, x], y), "Expected to see 1 arrays"),
    "nan-labels": (lambda x, y: (x, np.where(np.arange(60).reshape(20, 3) == 17, np.nan, y)), "NaN"),
    "nan-inputs": (lambda x, y: (np.where(np.arange(160).reshape(20, 8) == 3, np.nan, x), y), "NaN"),
    "empty-arrays": (lambda x, y: (x[:0], y[:0]), "features has no samples"),
    "mismatched-lengths": (lambda x, y: (x, y[:19]), "Found 20 input samples and 19 target samples"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_fit_input_is_rejected_and_weights_stay(model, case):
    make, fragment = CASES[case]
    x, y = _data()
    before = model.get_weights()
    bad_x, bad_y = make(x, y)
    with pytest.raises(ValueError) as e:
        model.fit(bad_x, bad_y, nb_epoch=1, verbose=0)
    assert fragment.lower() in str(e.value).lower(), str(e.value)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    # The model still trains afterwards.
    model.fit(x, y, nb_epoch=1, verbose=0)
    assert any(not np.array_equal(w0, w1) for w0, w1 in zip(before, model.get_weights()))


def test_fit_before_compile_says_so():
    a = Input(shape=(2,))
    m = Model(input=a, output=Dense(1)(a))
    with pytest.raises(RuntimeError, match="You must compile a model before training/testing"):
        m.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)


def test_unknown_loss_and_optimizer_are_named():
    a = Input(shape=(2,))
    m = Model(input=a, output=Dense(1)(a))
    with pytest.raises(ValueError, match="Invalid objective: mean_cubed_error"):
        m.compile(optimizer="sgd", loss="mean_cubed_error")
    with pytest.raises(ValueError, match="Invalid optimizer: 'sgdd'"):
        m.compile(optimizer="sgdd", loss="mse")


def test_categorical_crossentropy_with_integer_targets_suggests_sparse(model):
    x, _ = _data()
    with pytest.raises(ValueError) as e:
        model.fit(x, np.random.randint(0, 3, (20, 1)).astype(np.float32), verbose=0)
    assert "(None, 3)" in str(e.value) or "sparse_categorical_crossentropy" in str(e.value)


def test_sparse_target_out_of_range_is_reported():
    a = Input(shape=(4,))
    m = Model(input=a, output=Dense(3, activation="softmax")(a))
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"target 7.* is not a class index in \[0, 3\)"):
        m.fit(np.random.rand(8, 4), np.array([0, 1, 2, 7, 0, 1, 2, 0]), verbose=0, batch_size=8)
