"""The Keras API of the first example: names, summary, weights, *_on_batch, callbacks in the
native loop, optimizers by name and object, seeds, dropout phases."""
import numpy as np
import pytest

import kiln
from kiln import backend as K
from kiln import callbacks, optimizers
from kiln.engine import training
from kiln.layers import Activation, Dense, Dropout, Input
from kiln.models import Model


def small_model(optimizer="rmsprop", hidden=16, dropout=None, n_in=10):
    a = Input(shape=(n_in,))
    h = Dense(hidden, activation="relu")(a)
    if dropout:
        h = Dropout(dropout)(h)
    out = Dense(3, activation="softmax")(h)
    m = Model(input=a, output=out)
    m.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def blobs(n=300, n_in=10):
    """Three separable Gaussian blobs."""
    y = np.random.randint(0, 3, n)
    centers = np.random.RandomState(0).randn(3, n_in) * 3
    x = (centers[y] + np.random.randn(n, n_in)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[y]


def test_layer_names_and_summary(capsys):
    K.reset_uids()
    a = Input(shape=(784,))
    h = Dense(64, activation="relu")(a)
    out = Dense(10, activation="softmax")(h)
    m = Model(input=a, output=out)
    assert [l.name for l in m.layers] == ["input_1", "dense_1", "dense_2"]
    assert [w.name for w in m.layers[1].weights] == ["dense_1_W", "dense_1_b"]
    m.summary()
    text = capsys.readouterr().out
    assert "dense_1 (Dense)                  (None, 64)            50240       input_1[0][0]" in text
    assert "Total params: 50,890" in text and "Non-trainable params: 0" in text


def test_keras2_spellings():
    a = Input(shape=(5,))
    out = Dense(units=2, kernel_initializer="he_normal", use_bias=False)(a)
    m = Model(inputs=a, outputs=out)
    assert len(m.get_weights()) == 1 and m.get_weights()[0].shape == (5, 2)
    m.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    h = m.fit(np.random.rand(32, 5), np.random.rand(32, 2), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2


def test_get_set_weights_round_trip_and_errors():
    m = small_model()
    ws = m.get_weights()
    assert [w.shape for w in ws] == [(10, 16), (16,), (16, 3), (3,)]
    new = [np.full_like(w, i + 1) for i, w in enumerate(ws)]
    m.set_weights(new)
    for w, n in zip(m.get_weights(), new):
        np.testing.assert_array_equal(w, n)
    layer = m.layers[1]
    with pytest.raises(ValueError, match="was expecting 2 weights"):
        layer.set_weights([ws[0]])
    with pytest.raises(ValueError, match=r"Layer weight shape \(10, 16\) not compatible with provided weight shape"):
        layer.set_weights([np.zeros((16, 10)), ws[1]])


def test_on_batch_methods_agree_with_numpy():
    m = small_model(optimizer="sgd")
    x, y = blobs(64)
    w = m.get_weights()
    h = np.maximum(x @ w[0] + w[1], 0)
    z = h @ w[2] + w[3]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(m.predict_on_batch(x), p, rtol=1e-4, atol=1e-6)
    loss = float(np.mean(-np.sum(y * np.log(np.clip(p, 1e-7, 1 - 1e-7)), axis=1)))
    acc = float(np.mean(p.argmax(1) == y.argmax(1)))
    tl, ta = m.test_on_batch(x, y)
    assert abs(tl - loss) < 1e-5 and abs(ta - acc) < 1e-6
    bl, ba = m.train_on_batch(x, y)  # reports the loss before the update
    assert abs(bl - loss) < 1e-5
    assert m.test_on_batch(x, y)[0] < bl


@pytest.mark.parametrize("opt", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam",
                                 optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True)],
                         ids=lambda o: o if isinstance(o, str) else "SGD-nesterov")
def test_every_optimizer_trains(opt):
    m = small_model(optimizer=opt)
    x, y = blobs()
    first = m.evaluate(x, y, verbose=0)[0]
    m.fit(x, y, nb_epoch=5, batch_size=16, verbose=0)
    assert m.evaluate(x, y, verbose=0)[0] < 0.7 * first


def test_seed_makes_runs_repeatable():
    x, y = blobs()
    results = []
    for _ in range(2):
        np.random.seed(7)
        m = small_model(dropout=0.3)
        m.fit(x, y, nb_epoch=2, batch_size=32, verbose=0)
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_dropout_only_in_training():
    m = small_model(dropout=0.5)
    x, _ = blobs(50)
    p1, p2 = m.predict(x), m.predict(x)
    np.testing.assert_array_equal(p1, p2)
    assert "dropout_mask" in m.ir("train") and "dropout_mask" not in m.ir("predict")


def test_lr_change_from_a_batch_callback_takes_effect_at_once():
    m = small_model(optimizer=optimizers.SGD(lr=0.0))
    x, y = blobs(64)
    snapshots = []

    def on_batch_end(batch, logs):
        snapshots.append(m.get_weights()[0].copy())
        if batch == 1:
            K.set_value(m.optimizer.lr, 0.5)

    m.fit(x, y, nb_epoch=1, batch_size=16, shuffle=False, verbose=0,
          callbacks=[callbacks.LambdaCallback(on_batch_end=on_batch_end)])
    assert len(snapshots) == 4
    np.testing.assert_array_equal(snapshots[0], snapshots[1])  # lr 0: nothing moves
    assert not np.array_equal(snapshots[1], snapshots[2])      # the very next batch uses lr 0.5
    assert abs(float(K.get_value(m.optimizer.lr)) - 0.5) < 1e-7


def test_epoch_runs_natively_without_per_batch_python(monkeypatch):
    """Without a callback that overrides a batch hook, fit calls Python only for the throttled
    progress reports. With the throttle made infinite that is once per epoch (the last batch)
    however many batches there are; a batch-hook callback gets every batch. No clock involved."""
    monkeypatch.setattr(training, "PROGRESS_INTERVAL_S", float("inf"))
    reports = []
    real = callbacks.CallbackList.progress

    def counting(self, seen, logs):
        reports.append(seen)
        return real(self, seen, logs)

    monkeypatch.setattr(callbacks.CallbackList, "progress", counting)
    m = small_model()
    x, y = blobs(4000)
    m.fit(x, y, nb_epoch=2, batch_size=4, verbose=0, callbacks=[callbacks.History()])
    assert reports == [4000, 4000]  # 1000 batches an epoch, one report each
    del reports[:]
    batches = []
    m.fit(x, y, nb_epoch=1, batch_size=4, verbose=0,
          callbacks=[callbacks.LambdaCallback(on_batch_end=lambda batch, logs: batches.append(batch))])
    assert batches == list(range(1000)) and reports == list(range(4, 4001, 4))


@pytest.mark.parametrize("interval,every_batch,want", [
    (float("inf"), False, [4, 9]),         # the last batch, and at once after the non-finite one
    (0.0, False, list(range(10))),         # an interval every batch exceeds
    (float("inf"), True, list(range(10))),
], ids=["throttled", "interval-0", "every-batch"])
def test_native_loop_reports_progress(interval, every_batch, want):
    from kiln import _core
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,1]\n  %s = reduce_sum(%x) : f32[]\n  output %s\n}\n")
    p = _core.Program(_core.Store(), text)
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    x[4] = np.nan
    reported, begun = [], []
    p.run_epoch([x], 1, np.arange(10, dtype=np.int64), every_batch, interval,
                (lambda b, size: begun.append(b) or False) if every_batch else None,
                lambda b, size, n, vals, means: reported.append(b) or False)
    assert reported == want and begun == (list(range(10)) if every_batch else [])


def test_history_and_validation_split():
    m = small_model()
    x, y = blobs()
    h = m.fit(x, y, nb_epoch=3, batch_size=32, validation_split=0.2, verbose=0)
    assert sorted(h.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert all(len(v) == 3 for v in h.history.values())
    assert h.params["samples"] == 240


def _early_stopping_run(restore):
    """Training on (x, y) while validating on the same x with the classes rotated: every epoch
    fits y better, so val_loss is best after the first epoch and rises after it."""
    m = small_model(optimizer=optimizers.SGD(lr=0.1))
    x, y = blobs(64)
    snapshots = []  # weights at each epoch end, taken before EarlyStopping acts
    keep = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(m.get_weights()))
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=restore)
    h = m.fit(x, y, nb_epoch=20, batch_size=16, verbose=0, validation_data=(x, np.roll(y, 1, axis=1)),
              callbacks=[keep, stop])
    return m, h, stop, snapshots


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    m, h, stop, snapshots = _early_stopping_run(restore=True)
    val = h.history["val_loss"]
    assert len(val) == 3 and val[0] < val[1] < val[2], val  # best at epoch 0, two epochs worse
    assert stop.best_epoch == 0 and stop.stopped_epoch == 2
    for got, best, last in zip(m.get_weights(), snapshots[0], snapshots[-1]):
        np.testing.assert_array_equal(got, best)
        assert not np.array_equal(best, last)  # restoring changed the weights
    # Without restore_best_weights the model keeps the last epoch's weights.
    m, h, stop, snapshots = _early_stopping_run(restore=False)
    assert len(h.history["val_loss"]) == 3
    for got, last in zip(m.get_weights(), snapshots[-1]):
        np.testing.assert_array_equal(got, last)


def test_progress_bar_prints_one_line_per_epoch_when_not_a_tty(capsys):
    m = small_model()
    x, y = blobs()
    m.fit(x, y, nb_epoch=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert out.count("300/300") == 2 and "samples/s" in out and "\r" not in out


def test_threads_and_build_info():
    info = kiln.build_info()
    assert info["blas"] in ("scipy-openblas32", "system", "none")
    # The reported flag agrees with the behaviour: only an OpenMP build takes a thread count.
    assert type(info["openmp"]) is bool, info
    n = kiln.get_num_threads()
    try:
        kiln.set_num_threads(3)
        assert kiln.get_num_threads() == (3 if info["openmp"] else 1), info
        kiln.set_num_threads(1)
        assert kiln.get_num_threads() == 1
    finally:
        kiln.set_num_threads(n)


def test_activation_layer_and_layer_on_non_tensor():
    a = Input(shape=(3,))
    out = Activation("tanh")(Dense(2)(a))
    m = Model(input=a, output=out)
    assert np.all(np.abs(m.predict(np.random.randn(5, 3) * 10)) <= 1)
    with pytest.raises(TypeError, match="isn't a symbolic tensor"):
        Dense(2)(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="Invalid activation function: swish2"):
        Activation("swish2")


def test_native_shuffle_visits_every_row_once_and_follows_the_seed():
    from kiln import _core
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,1]\n  %s = reduce_sum(%x) : f32[]\n  output %s\n}\n")
    p = _core.Program(_core.Store(), text)
    x = np.arange(100, dtype=np.float32).reshape(100, 1)

    def visit(seed):
        seen = []
        p.run_epoch([x], 1, seed, True, 0.0, None, lambda b, size, n, vals, means: seen.append(vals[0]) or False)
        return seen

    a, b, c = visit(7), visit(7), visit(8)
    assert sorted(a) == list(range(100))      # a permutation: every row exactly once
    assert a == b and a != c                  # repeatable for a seed, different for another
    assert a != list(range(100))              # actually shuffled


@pytest.mark.parametrize("clipnorm", [0.05, 100.0], ids=["clipped", "below-the-norm"])
def test_clipnorm_scales_all_gradients_by_their_global_norm(clipnorm):
    a = Input(shape=(3,))
    dense = Dense(2)
    m = Model(input=a, output=dense(a))
    m.compile(optimizer=optimizers.SGD(lr=1.0, clipnorm=clipnorm), loss="mse")
    x = np.random.randn(8, 3).astype(np.float32)
    y = np.random.randn(8, 2).astype(np.float32)
    W, b = [w.astype(np.float64) for w in dense.get_weights()]
    err = x @ W + b - y                       # mse = mean over samples and outputs of err^2
    gW = x.T @ err * 2 / err.size
    gb = err.sum(0) * 2 / err.size
    norm = np.sqrt((gW ** 2).sum() + (gb ** 2).sum())
    scale = clipnorm / max(norm, clipnorm)
    m.train_on_batch(x, y)
    W1, b1 = dense.get_weights()
    np.testing.assert_allclose(W1, W - scale * gW, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b1, b - scale * gb, rtol=1e-4, atol=1e-6)
    if clipnorm < norm:
        assert abs(np.sqrt(((W - W1) ** 2).sum() + ((b - b1) ** 2).sum()) - clipnorm) < 1e-4
