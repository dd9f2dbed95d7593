"""Sequences of any length: Input(shape=(None, d)) lowers to a named dynamic dim (?t), so one
model fits and predicts on data whose length changes between calls and between batches."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import GRU, LSTM, Bidirectional, Dense, Embedding, Input, SimpleRNN, TimeDistributed
from kiln.models import Model
from kiln.optimizers import RMSprop

RNNS = [LSTM, GRU, SimpleRNN]


def twin(cls, steps, **kw):
    x = Input(shape=(steps, 3))
    return Model(x, cls(5, **kw)(x))


@pytest.mark.parametrize("cls", RNNS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kw", [{}, {"return_sequences": True}, {"go_backwards": True}], ids=["last", "seq", "back"])
def test_a_dynamic_time_axis_computes_what_a_fixed_one_does(cls, kw):
    any_length = twin(cls, None, **kw)
    rng = np.random.default_rng(0)
    for T in (1, 4, 9):
        fixed = twin(cls, T, **kw)
        fixed.set_weights(any_length.get_weights())
        x = rng.standard_normal((6, T, 3)).astype(np.float32)
        np.testing.assert_allclose(any_length.predict(x), fixed.predict(x), rtol=1e-5, atol=1e-6)


def test_the_lowered_ir_is_version_2_with_a_named_time_axis():
    from kiln.lower import lower
    x = Input(shape=(None, 3))
    text = lower([LSTM(2)(x)], [x], training=False)[0]
    assert text.startswith("kiln 2\n")
    assert "input %input_" in text and ",?t" in text


def test_fit_takes_data_whose_length_differs_between_calls():
    x = Input(shape=(None, 4))
    y = TimeDistributed(Dense(2, activation="softmax"))(LSTM(8, return_sequences=True)(x))
    model = Model(x, y)
    model.compile(RMSprop(lr=0.01), "categorical_crossentropy")
    rng = np.random.default_rng(1)
    for T in (5, 12, 5, 30):
        xs = rng.standard_normal((40, T, 4)).astype(np.float32)
        ys = np.eye(2)[(xs[..., 0] > 0).astype(int)]  # the label is the sign of the step's first feature
        model.fit(xs, ys, nb_epoch=2, batch_size=8, verbose=0)
        assert model.predict(xs).shape == (40, T, 2)
    loss = model.evaluate(xs, ys, verbose=0)
    assert loss < 0.4, loss  # it learned the per-step rule, whatever the length
    assert model._program("train").cached_plans() <= 16


def test_time_distributed_over_a_dynamic_axis_applies_the_layer_at_every_step():
    x = Input(shape=(None, 3))
    dense = Dense(2)
    model = Model(x, TimeDistributed(dense)(x))
    W, b = dense.get_weights()
    xs = np.random.default_rng(2).standard_normal((3, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), xs @ W + b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_over_a_dynamic_axis(merge_mode):
    x = Input(shape=(None, 3))
    model = Model(x, Bidirectional(LSTM(4, return_sequences=True), merge_mode=merge_mode)(x))
    fixed_in = Input(shape=(6, 3))
    fixed = Model(fixed_in, Bidirectional(LSTM(4, return_sequences=True), merge_mode=merge_mode)(fixed_in))
    fixed.set_weights(model.get_weights())
    xs = np.random.default_rng(3).standard_normal((2, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), fixed.predict(xs), rtol=1e-5, atol=1e-6)


def masked_model():
    words = Input(shape=(None,), dtype="int32")
    h = LSTM(6)(Embedding(50, 4, mask_zero=True)(words))
    return Model(words, Dense(1, activation="sigmoid")(h))


def test_masks_over_a_dynamic_axis_ignore_padding_on_either_side():
    model = masked_model()
    seq = np.array([[5, 9, 2, 7]])
    plain = model.predict(seq)
    left = model.predict(np.array([[0, 0, 0, 5, 9, 2, 7]]))
    right = model.predict(np.array([[5, 9, 2, 7, 0, 0]]))
    np.testing.assert_allclose(left, plain, rtol=1e-5)
    np.testing.assert_allclose(right, plain, rtol=1e-5)


def bucketed(x, lengths, y, batch_size):
    """Batches of similar length, each cut to its longest sentence (right padding kept)."""
    order = np.argsort(lengths, kind="stable")
    while True:
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            T = max(1, int(lengths[rows].max()))
            yield x[rows, :T], y[rows].reshape(-1, 1)


def test_fit_generator_over_batches_of_different_lengths_learns_real_reviews(reviews):
    n = 2000
    vocab = 2000
    clip = lambda a: np.where(a >= vocab, 1, a)
    x, lengths, y = clip(reviews["x_train"][:n]), reviews["len_train"][:n], reviews["y_train"][:n]
    np.random.seed(7)
    words = Input(shape=(None,), dtype="int32")
    h = LSTM(16)(Embedding(vocab, 16, mask_zero=True)(words))
    model = Model(words, Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    batches = bucketed(x, lengths, y, 64)
    shapes = {next(bucketed(x, lengths, y, 64))[0].shape[1]}
    hist = model.fit_generator(batches, samples_per_epoch=n, nb_epoch=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    lengths_seen = {b[0].shape[1] for b, _ in zip(bucketed(x, lengths, y, 64), range(n // 64))}
    assert len(lengths_seen | shapes) > 5  # many lengths, one model
    assert model._program("train").cached_plans() <= 16
    xt, yt = clip(reviews["x_test"][:500]), reviews["y_test"][:500]
    acc = np.mean((model.predict(xt)[:, 0] > 0.5) == yt)
    assert acc > 0.6, acc


def test_a_placeholder_with_several_unknown_dims_takes_any_lengths():
    p = K.placeholder(ndim=2)
    f = K.function([p], [K.sum(p * 2.0, axis=1)])
    np.testing.assert_allclose(f([np.ones((1, 5), np.float32)])[0], [10.0])
    np.testing.assert_allclose(f([np.ones((3, 2), np.float32)])[0], [4.0, 4.0, 4.0])


def test_unrolling_needs_a_known_length():
    with pytest.raises(ValueError, match="unroll=True needs a known number of timesteps"):
        LSTM(2, unroll=True)(Input(shape=(None, 3)))
