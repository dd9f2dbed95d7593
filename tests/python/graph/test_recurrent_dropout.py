"""dropout_W / dropout_U (Keras 1; Keras 2's dropout / recurrent_dropout): one mask per sequence
and gate, in the train phase only. The fused kernels draw the masks themselves; the unrolled
layer draws the same ones with dropout_mask ops, so the two paths train identically."""
import numpy as np
import pytest

from kiln.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from kiln.models import Model

RNNS = [LSTM, GRU, SimpleRNN]


def model(cls, steps=5, name="rnn", **kw):
    x = Input(shape=(steps, 3))
    m = Model(x, Dense(1)(cls(4, name=name, **kw)(x)))
    m.compile("sgd", "mse")
    return m


def data(seed=0, n=6, steps=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, steps, 3)).astype(np.float32), rng.standard_normal((n, 1)).astype(np.float32)


@pytest.mark.parametrize("cls", RNNS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("rates", [(0.3, 0.4), (0.5, 0.0), (0.0, 0.5)], ids=["both", "W", "U"])
def test_the_fused_and_unrolled_layers_drop_the_same_units(cls, rates):
    fused = model(cls, dropout_W=rates[0], dropout_U=rates[1])
    unrolled = model(cls, dropout_W=rates[0], dropout_U=rates[1], unroll=True)
    unrolled.set_weights(fused.get_weights())
    x, y = data()
    for _ in range(3):  # three runs: three draws of the masks
        assert fused.train_on_batch(x, y) == pytest.approx(unrolled.train_on_batch(x, y), rel=1e-5)
    for a, b in zip(fused.get_weights(), unrolled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cls", RNNS, ids=lambda c: c.__name__)
def test_dropout_acts_in_training_only(cls):
    dropped = model(cls, dropout_W=0.5, dropout_U=0.5)
    plain = model(cls)
    plain.set_weights(dropped.get_weights())
    x, y = data(1)
    np.testing.assert_allclose(dropped.predict(x), plain.predict(x), rtol=1e-6)
    assert dropped.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0), rel=1e-6)
    assert dropped.train_on_batch(x, y) != pytest.approx(plain.train_on_batch(x, y), rel=1e-4)


def test_keras_2_names_and_checked_rates():
    layer = LSTM(units=3, dropout=0.2, recurrent_dropout=0.1)
    assert (layer.dropout_W, layer.dropout_U) == (0.2, 0.1)
    assert layer.uses_learning_phase
    with pytest.raises(ValueError, match=r"dropout_U must be in \[0, 1\), got 1.0"):
        GRU(3, dropout_U=1.0)


def test_dropout_with_masks_and_a_dynamic_length_trains_on_real_reviews(reviews):
    vocab, n = 2000, 1500
    clip = lambda a: np.where(a >= vocab, 1, a)
    x, y = clip(reviews["x_train"][:n, :40]), reviews["y_train"][:n]
    np.random.seed(3)
    words = Input(shape=(None,), dtype="int32")
    h = LSTM(16, dropout_W=0.2, dropout_U=0.2)(Embedding(vocab, 16, mask_zero=True)(words))
    m = Model(words, Dense(1, activation="sigmoid")(h))
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    hist = m.fit(x, y, nb_epoch=3, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    xt, yt = clip(reviews["x_test"][:500, :40]), reviews["y_test"][:500]
    assert m.evaluate(xt, yt, verbose=0)[1] > 0.6
