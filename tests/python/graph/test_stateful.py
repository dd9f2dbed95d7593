"""stateful=True (Keras 1): a batch starts from the states the previous batch ended with, so
feeding a long sequence in pieces gives what the whole sequence gives."""
import numpy as np
import pytest

from kiln.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from kiln.models import Model

RNNS = [LSTM, GRU, SimpleRNN]
B, T, D, U = 3, 4, 2, 5


def pair(cls, go_backwards=False, unroll=False):
    """A stateful layer on (B, T, D) pieces and a plain one on the whole (B, 3T, D) sequence,
    with the same weights."""
    x = Input(batch_shape=(B, T, D))
    layer = cls(U, stateful=True, return_sequences=True, go_backwards=go_backwards, unroll=unroll)
    stateful = Model(x, layer(x))
    whole_in = Input(shape=(3 * T, D))
    whole = Model(whole_in, cls(U, return_sequences=True, go_backwards=go_backwards)(whole_in))
    whole.set_weights(stateful.get_weights())
    return stateful, whole, layer


@pytest.mark.parametrize("cls", RNNS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("unroll", [False, True], ids=["fused", "unrolled"])
def test_pieces_of_a_sequence_continue_where_the_last_batch_stopped(cls, unroll):
    stateful, whole, _ = pair(cls, unroll=unroll)
    xs = np.random.default_rng(0).standard_normal((B, 3 * T, D)).astype(np.float32)
    pieces = [stateful.predict(xs[:, k * T:(k + 1) * T], batch_size=B) for k in range(3)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole.predict(xs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", RNNS, ids=lambda c: c.__name__)
def test_going_backwards_the_kept_state_is_the_one_after_the_first_step(cls):
    stateful, whole, _ = pair(cls, go_backwards=True)
    xs = np.random.default_rng(1).standard_normal((B, 3 * T, D)).astype(np.float32)
    pieces = [stateful.predict(xs[:, k * T:(k + 1) * T], batch_size=B) for k in range(3)]
    # Each piece runs from its last step to its first; the whole reversed sequence does the same
    # when the pieces are laid out last to first.
    reordered = np.concatenate([xs[:, 2 * T:], xs[:, T:2 * T], xs[:, :T]], axis=1)
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole.predict(reordered), rtol=1e-4, atol=1e-5)


def test_reset_states_starts_again_from_zeros():
    stateful, _, layer = pair(LSTM)
    xs = np.random.default_rng(2).standard_normal((B, T, D)).astype(np.float32)
    first = stateful.predict(xs, batch_size=B)
    assert np.abs(layer.states[0].get_value()).max() > 0
    second = stateful.predict(xs, batch_size=B)
    assert np.abs(first - second).max() > 1e-4  # the state carried over
    stateful.reset_states()
    assert np.all(layer.states[0].get_value() == 0) and np.all(layer.states[1].get_value() == 0)
    np.testing.assert_allclose(stateful.predict(xs, batch_size=B), first, rtol=1e-6)


def test_masked_steps_carry_the_state_across_batches():
    words = Input(batch_shape=(2, 3), dtype="int32")
    layer = LSTM(4, stateful=True)
    model = Model(words, layer(Embedding(20, 3, mask_zero=True)(words)))
    whole_in = Input(shape=(6,), dtype="int32")
    whole = Model(whole_in, LSTM(4)(Embedding(20, 3, mask_zero=True)(whole_in)))
    whole.set_weights(model.get_weights())
    seq = np.array([[4, 0, 7, 9, 0, 0], [1, 2, 3, 0, 5, 6]])
    model.predict(seq[:, :3], batch_size=2)
    np.testing.assert_allclose(model.predict(seq[:, 3:], batch_size=2), whole.predict(seq), rtol=1e-5, atol=1e-6)


def test_fit_trains_in_order_and_advances_the_states():
    x = Input(batch_shape=(4, T, D))
    layer = GRU(U, stateful=True)
    model = Model(x, Dense(1)(layer(x)))
    model.compile("adam", "mse")
    rng = np.random.default_rng(3)
    xs, ys = rng.standard_normal((16, T, D)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    losses = [model.fit(xs, ys, batch_size=4, nb_epoch=1, shuffle=False, verbose=0).history["loss"][0]
              for _ in range(5)]
    assert losses[-1] < losses[0]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    assert np.abs(layer.states[0].get_value()).max() > 0
    assert layer.states[0] not in model.weights  # states are not weights (Keras 1)
    model.evaluate(xs, ys, batch_size=4, verbose=0)


def test_fit_needs_a_sample_count_the_batch_size_divides():
    x = Input(batch_shape=(4, T, D))
    model = Model(x, LSTM(2, stateful=True)(x))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="In a stateful network, you should only pass inputs with a number of "
                                         "samples that can be divided by the batch size. Found: 10 samples"):
        model.fit(np.zeros((10, T, D)), np.zeros((10, 2)), batch_size=4, verbose=0)


def test_a_batch_of_another_size_is_a_clear_error_and_leaves_the_states():
    stateful, _, layer = pair(SimpleRNN)
    xs = np.ones((B, T, D), np.float32)
    stateful.predict(xs, batch_size=B)
    kept = layer.states[0].get_value().copy()
    with pytest.raises(ValueError, match="batches of exactly 3 rows .* got a batch of 2"):
        stateful.predict(xs[:2], batch_size=B)
    np.testing.assert_array_equal(layer.states[0].get_value(), kept)


def test_a_stateful_layer_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match="If a RNN is stateful, a complete input_shape must be provided"):
        LSTM(2, stateful=True)(Input(shape=(T, D)))
    with pytest.raises(AttributeError, match="not stateful"):
        LSTM(2).reset_states()
