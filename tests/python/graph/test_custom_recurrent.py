"""A user's own recurrent layer, written as for Keras 1.2: a `Recurrent` subclass with `step()`,
run over the sequence by `K.rnn`: a native `scan` over a nested step graph (any length, also one
that changes between calls), or unrolled over the known timesteps with unroll=True. Both paths
are checked against the step equations and against each other."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, Embedding, Input, Recurrent
from kiln.models import Model

from cells import MinimalRNN  # noqa: F401  (the cell these tests exercise)
from numeric import numeric_grad


class ProjectedRNN(MinimalRNN):
    """The same cell with Keras 1.2's hooks: the input projection of every step at once
    (preprocess_input) and a constant scale passed to each step (get_constants)."""

    def preprocess_input(self, x):
        return K.dot(x, self.W)

    def get_constants(self, x):
        return [K.constant(np.float32(1.0))]

    def step(self, xw, states):
        h_prev, scale = states
        h = K.tanh(xw * scale + K.dot(h_prev, self.U))
        return h, [h]


def reference(x, W, U, mask=None, go_backwards=False, h0=None):
    """Step by step in float64, as K.rnn defines it: a masked step repeats the previous output
    (zeros before the first kept step) and keeps the state."""
    B, T, _ = x.shape
    h = np.zeros((B, U.shape[0])) if h0 is None else h0
    outs, prev = [], np.zeros((B, U.shape[0]))
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        new = np.tanh(x[:, t] @ W + h @ U)
        keep = np.ones((B, 1)) if mask is None else mask[:, t:t + 1]
        out = np.where(keep != 0, new, prev)
        h = np.where(keep != 0, new, h)
        outs.append(out)
        prev = out
    return np.stack(outs, axis=1), h


@pytest.mark.parametrize("unroll", [False, True], ids=["scan", "unrolled"])
@pytest.mark.parametrize("cls", [MinimalRNN, ProjectedRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_custom_cell_computes_its_step_equations(cls, go_backwards, unroll):
    x = Input(shape=(5, 3))
    layer = cls(4, return_sequences=True, go_backwards=go_backwards, unroll=unroll)
    model = Model(x, layer(x))
    xs = np.random.default_rng(0).standard_normal((6, 5, 3)).astype(np.float32)
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    want, _ = reference(xs.astype(np.float64), W, U, go_backwards=go_backwards)
    np.testing.assert_allclose(model.predict(xs), want, rtol=1e-5, atol=1e-6)
    assert ("scan(" in model.ir()) != unroll
    last = Model(x, cls(4, go_backwards=go_backwards, unroll=unroll)(x))
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last.predict(xs), want[:, -1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("unroll", [False, True], ids=["scan", "unrolled"])
def test_masked_steps_repeat_the_output_and_keep_the_state(unroll):
    words = Input(shape=(6,), dtype="int32")
    emb = Embedding(20, 3, mask_zero=True)
    layer = MinimalRNN(4, return_sequences=True, unroll=unroll)
    model = Model(words, layer(emb(words)))
    seq = np.array([[0, 0, 3, 5, 0, 7], [1, 2, 3, 4, 5, 6]])
    E = emb.get_weights()[0].astype(np.float64)
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    want, _ = reference(E[seq], W, U, mask=(seq != 0).astype(np.float64))
    np.testing.assert_allclose(model.predict(seq), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("unroll", [False, True], ids=["scan", "unrolled"])
def test_gradients_through_the_loop_match_central_differences(unroll):
    x = Input(shape=(4, 2))
    layer = MinimalRNN(3, unroll=unroll)
    out = layer(x)
    loss = K.sum(out * out)
    grads = K.gradients(loss, [layer.W, layer.U])
    f = K.function([x], [loss] + grads)
    xs = np.random.default_rng(1).standard_normal((2, 4, 2)).astype(np.float32)
    _, dW, dU = f([xs])
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    ref = lambda: float(np.sum(reference(xs.astype(np.float64), W, U)[0][:, -1] ** 2))
    np.testing.assert_allclose(dW, numeric_grad(ref, W, 1e-6), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dU, numeric_grad(ref, U, 1e-6), rtol=1e-4, atol=1e-5)


def test_a_stateful_custom_cell_continues_across_batches():
    x = Input(batch_shape=(2, 3, 2))
    layer = MinimalRNN(4, stateful=True, return_sequences=True)
    model = Model(x, layer(x))
    xs = np.random.default_rng(2).standard_normal((2, 6, 2)).astype(np.float32)
    pieces = np.concatenate([model.predict(xs[:, :3], batch_size=2), model.predict(xs[:, 3:], batch_size=2)], axis=1)
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    np.testing.assert_allclose(pieces, reference(xs.astype(np.float64), W, U)[0], rtol=1e-5, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(xs[:, :3], batch_size=2), pieces[:, :3], rtol=1e-6)


def test_a_custom_cell_trains_on_real_reviews(reviews):
    vocab, n = 2000, 1500
    clip = lambda a: np.where(a >= vocab, 1, a)
    x, y = clip(reviews["x_train"][:n, :20]), reviews["y_train"][:n]
    np.random.seed(4)
    words = Input(shape=(20,), dtype="int32")
    h = ProjectedRNN(16)(Embedding(vocab, 16, mask_zero=True)(words))
    model = Model(words, Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, nb_epoch=3, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


@pytest.mark.parametrize("unroll", [False, True], ids=["scan", "unrolled"])
def test_k_rnn_returns_keras_1_results(unroll):
    x = K.placeholder(shape=(None, 3, 2))
    step = lambda x_t, states: (x_t * 2.0, [states[0] + x_t])
    zero = K.sum(x, axis=1) * 0.0
    last, outputs, states = K.rnn(step, x, [zero], unroll=unroll)
    f = K.function([x], [last, outputs, states[0]])
    xs = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    got_last, got_outputs, got_state = f([xs])
    np.testing.assert_allclose(got_outputs, 2 * xs)
    np.testing.assert_allclose(got_last, 2 * xs[:, -1])
    np.testing.assert_allclose(got_state, xs.sum(axis=1))


def test_k_rnn_loops_over_a_length_known_only_at_run_time():
    x = K.placeholder(shape=(None, None, 2))
    step = lambda x_t, states: (x_t * states[1], [states[0] + x_t])  # states[1] is a constant
    zero, scale = K.sum(x, axis=1) * 0.0, K.constant(np.float32(3.0))
    last, outputs, states = K.rnn(step, x, [zero], constants=[scale], go_backwards=True)
    f = K.function([x], [last, outputs, states[0]])
    for T in (3, 7):
        xs = np.arange(2 * T * 2, dtype=np.float32).reshape(2, T, 2)
        got_last, got_outputs, got_state = f([xs])
        np.testing.assert_allclose(got_outputs, 3 * xs[:, ::-1])  # processing order
        np.testing.assert_allclose(got_last, 3 * xs[:, 0])
        np.testing.assert_allclose(got_state, xs.sum(axis=1))
    with pytest.raises(ValueError, match="Cannot unroll a RNN if the time dimension is undefined"):
        K.rnn(step, x, [zero], constants=[scale], unroll=True)
    with pytest.raises(NotImplementedError, match="must define step"):
        Recurrent()(Input(shape=(3, 2)))


def test_a_step_reading_the_learning_phase_gets_each_graphs_branch():
    x = Input(shape=(4, 2))

    class Halving(MinimalRNN):
        def step(self, x_t, states):
            h, new = super().step(K.in_train_phase(x_t * 0.0, x_t), states)
            return h, new

    layer = Halving(3, return_sequences=True)
    out = layer(x)
    f = K.function([x, K.learning_phase()], [out])
    xs = np.random.default_rng(5).standard_normal((2, 4, 2)).astype(np.float32)
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    np.testing.assert_allclose(f([xs, 0])[0], reference(xs.astype(np.float64), W, U)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f([xs, 1])[0], reference(0 * xs.astype(np.float64), W, U)[0], rtol=1e-5, atol=1e-6)


def test_scan_and_unrolled_paths_train_alike():
    """Same weights and data: the per-epoch losses of the two paths agree to float32 rounding."""
    rng = np.random.default_rng(6)
    xs = rng.standard_normal((64, 6, 3)).astype(np.float32)
    ys = (xs.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    histories, weights = [], None
    for unroll in (False, True):
        x = Input(shape=(6, 3))
        model = Model(x, Dense(1, activation="sigmoid")(ProjectedRNN(5, unroll=unroll)(x)))
        model.compile("rmsprop", "binary_crossentropy")
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        histories.append(model.fit(xs, ys, nb_epoch=4, batch_size=16, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-4)
    assert histories[0][-1] < histories[0][0]


def test_a_custom_cell_fits_sequences_whose_length_changes():
    """Input(shape=(None, d)): fit and predict on lengths that differ between calls, and a
    generator whose batches differ in length (bucketing); one program, a plan per length."""
    x = Input(shape=(None, 3))
    model = Model(x, Dense(1, activation="sigmoid")(MinimalRNN(4)(x)))
    model.compile("adam", "binary_crossentropy")
    rng = np.random.default_rng(7)
    data = {T: rng.standard_normal((32, T, 3)).astype(np.float32) for T in (2, 5, 9)}
    label = lambda a: (a[:, -1].sum(axis=1) > 0).astype(np.float32)[:, None]
    for T, a in data.items():
        model.fit(a, label(a), nb_epoch=1, batch_size=16, verbose=0)

    def buckets():
        while True:
            for a in data.values():
                yield a[:16], label(a[:16])

    hist = model.fit_generator(buckets(), samples_per_epoch=48, nb_epoch=6, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    layer = model.layers[1]
    W, U = (w.astype(np.float64) for w in layer.get_weights())
    probe = Model(x, layer(x))
    for T, a in data.items():
        np.testing.assert_allclose(probe.predict(a), reference(a.astype(np.float64), W, U)[0][:, -1],
                                   rtol=1e-5, atol=1e-6)
