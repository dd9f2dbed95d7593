"""fit_generator / evaluate_generator / predict_generator on real MNIST: Keras 1 and 2
arguments, batches of varying size, the producer overlapping the native step, and errors that
name the batch and leave the weights of the last good step."""
import re
import time

import numpy as np
import pytest

from kiln.engine.generators import GeneratorError
from kiln.layers import Dense, Input
from kiln.models import Model, Sequential


def mlp(seed=0):
    np.random.seed(seed)
    x = Input(shape=(784,))
    m = Model(x, Dense(10, activation="softmax")(Dense(64, activation="relu")(x)))
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def batches(x, y, sizes, sleep=0.0):
    """Endless (x, y) batches of the given sizes, in turn, optionally slow to produce."""
    i, k = 0, 0
    while True:
        n = sizes[k % len(sizes)]
        if i + n > len(x):
            i = 0
        if sleep:
            time.sleep(sleep)
        yield x[i:i + n], y[i:i + n]
        i, k = i + n, k + 1


def test_keras1_and_keras2_arguments_train_and_evaluate(mnist):
    x, labels, xt, lt = mnist
    y, yt = np.eye(10, dtype=np.float32)[labels], np.eye(10, dtype=np.float32)[lt]
    m = mlp()
    h = m.fit_generator(batches(x, y, [32, 17, 64]), samples_per_epoch=12000, nb_epoch=2, verbose=0,
                        validation_data=(xt[:2000], yt[:2000]))
    assert len(h.history["loss"]) == 2 and h.history["val_acc"][-1] > 0.85, h.history
    loss, acc = m.evaluate_generator(batches(xt, yt, [100]), val_samples=2000)
    assert acc > 0.85
    m2 = mlp()
    h2 = m2.fit_generator(batches(x, y, [32]), steps_per_epoch=300, epochs=1, verbose=0,
                          validation_data=batches(xt, yt, [50]), validation_steps=20)
    assert h2.history["val_acc"][-1] > 0.8
    p = m2.predict_generator((xt[i:i + 25] for i in range(0, 100, 25)), steps=4)
    np.testing.assert_array_equal(p, m2.predict(xt[:100], batch_size=25))


def test_sequential_has_fit_generator(mnist):
    x, labels = mnist[0][:2000], mnist[1][:2000]
    y = np.eye(10, dtype=np.float32)[labels]
    m = Sequential()
    m.add(Dense(10, input_dim=784, activation="softmax"))
    m.compile(optimizer="sgd", loss="categorical_crossentropy")
    h = m.fit_generator(batches(x, y, [40]), samples_per_epoch=2000, nb_epoch=2, verbose=0)
    assert h.history["loss"][1] < h.history["loss"][0]


def test_the_producer_runs_ahead_of_the_native_step(mnist):
    """The generator is drawn on a background thread: while batch k trains, batches after it are
    already being produced (up to the queue size). A callback checks, at the start of each batch,
    that the generator has produced more batches than training has taken, waiting up to 5 s for
    the thread; a generator drawn in the training loop itself could never be ahead."""
    import threading
    from kiln.callbacks import Callback
    x, labels = mnist[0][:1000], mnist[1][:1000]
    y = np.eye(10, dtype=np.float32)[labels]
    produced = [0]
    cond = threading.Condition()

    def gen():
        while True:
            with cond:
                produced[0] += 1
                cond.notify_all()
            yield x[:100], y[:100]

    ahead = []

    class Watch(Callback):
        def on_batch_begin(self, batch, logs=None):
            with cond:
                cond.wait_for(lambda: produced[0] > batch + 1, timeout=5)
                ahead.append(produced[0] - (batch + 1))

    mlp().fit_generator(gen(), steps_per_epoch=10, epochs=1, verbose=0, max_q_size=3, callbacks=[Watch()])
    assert len(ahead) == 10 and min(ahead) >= 1, ahead


def test_errors_name_the_batch_and_keep_the_last_good_weights(mnist):
    x, labels = mnist[0][:1000], mnist[1][:1000]
    y = np.eye(10, dtype=np.float32)[labels]

    def bad_shape():
        yield x[:32], y[:32]
        yield x[:32, :700], y[:32]

    def raises():
        yield x[:32], y[:32]
        raise RuntimeError("disk went away")

    def short():
        yield x[:32], y[:32]

    for gen, fragment in ((bad_shape, "epoch 0, batch 1"), (raises, "raised RuntimeError: disk went away"),
                          (short, "ended (StopIteration) before the epoch was complete")):
        m = mlp(3)
        m.train_on_batch(x[:32], y[:32])
        after_one = [w.copy() for w in m.get_weights()]
        ref = mlp(3)
        ref.train_on_batch(x[:32], y[:32])
        ref.train_on_batch(x[:32], y[:32])
        with pytest.raises(GeneratorError, match=re.escape(fragment)):
            m.fit_generator(gen(), steps_per_epoch=5, epochs=1, verbose=0)
        for a, b in zip(m.get_weights(), ref.get_weights()):  # exactly the one good step more
            np.testing.assert_array_equal(a, b)
        assert any(not np.array_equal(a, b) for a, b in zip(after_one, m.get_weights()))
