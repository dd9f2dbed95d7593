"""Callbacks driven through a CallbackList by a fake model, epoch by epoch."""
import csv
import math

import numpy as np
import pytest

from kiln.callbacks import (BaseLogger, Callback, CallbackList, CSVLogger, EarlyStopping,
                            History, LambdaCallback, LearningRateScheduler, ProgbarLogger,
                            ReduceLROnPlateau, TerminateOnNaN)


class FakeVar(object):
    """Stands in for an optimizer hyper-parameter variable (K.get_value/set_value)."""

    def __init__(self, value):
        self.value = np.float32(value)
        self.history = []

    def get_value(self):
        return np.float32(self.value)

    def set_value(self, v):
        self.value = np.float32(v)
        self.history.append(float(v))


class FakeOptimizer(object):
    def __init__(self, lr):
        self.lr = FakeVar(lr)


class FakeModel(object):
    def __init__(self, lr=0.01):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.zeros((2, 2), np.float32), np.zeros(2, np.float32)]

    def get_weights(self):
        return self.weights  # the live arrays: callbacks must copy what they keep

    def set_weights(self, weights):
        for w, v in zip(self.weights, weights):
            w[...] = v


def make_params(epochs=10, samples=100, verbose=0, metrics=("loss", "val_loss")):
    return {"batch_size": 10, "epochs": epochs, "nb_epoch": epochs, "samples": samples,
            "nb_sample": samples, "verbose": verbose, "do_validation": True,
            "metrics": list(metrics)}


def run_epochs(callbacks, model, epoch_logs, params=None):
    """Simulates fit: returns the number of epochs run before stop_training."""
    cbks = CallbackList(callbacks)
    cbks.set_model(model)
    cbks.set_params(params or make_params(epochs=len(epoch_logs)))
    cbks.on_train_begin()
    ran = 0
    for epoch, logs in enumerate(epoch_logs):
        cbks.on_epoch_begin(epoch)
        for w in model.weights:  # "training" moves the weights each epoch
            w += 1.0
        cbks.progress(50, {k: v for k, v in logs.items() if not k.startswith("val_")})
        cbks.on_epoch_end(epoch, dict(logs))
        ran += 1
        if model.stop_training:
            break
    cbks.on_train_end()
    return ran


# --- dispatch and batch hooks ------------------------------------------------------

class Recorder(Callback):
    def __init__(self, tag, log):
        super(Recorder, self).__init__()
        self.tag, self.log = tag, log

    def on_epoch_begin(self, epoch, logs=None):
        self.log.append((self.tag, "epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.log.append((self.tag, "epoch_end", epoch))

    def on_train_begin(self, logs=None):
        self.log.append((self.tag, "train_begin"))


def test_hooks_dispatched_to_all_in_order():
    log = []
    model = FakeModel()
    cbks = CallbackList([Recorder("a", log)])
    cbks.append(Recorder("b", log))
    cbks.set_model(model)
    cbks.set_params({"epochs": 1})
    assert all(cb.model is model and cb.params == {"epochs": 1} for cb in cbks)
    cbks.on_train_begin()
    cbks.on_epoch_begin(0)
    cbks.on_epoch_end(0, {"loss": 1.0})
    assert log == [("a", "train_begin"), ("b", "train_begin"),
                   ("a", "epoch_begin", 0), ("b", "epoch_begin", 0),
                   ("a", "epoch_end", 0), ("b", "epoch_end", 0)]


class KerasOneBatch(Callback):
    def __init__(self):
        super(KerasOneBatch, self).__init__()
        self.seen = []

    def on_batch_end(self, batch, logs=None):
        self.seen.append(("end", batch, logs["loss"]))


class KerasTwoBatch(Callback):
    def __init__(self):
        super(KerasTwoBatch, self).__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("begin", batch))


@pytest.mark.parametrize("callbacks,expected", [
    ([], False),
    ([History(), BaseLogger(), ProgbarLogger(), TerminateOnNaN(), EarlyStopping(),
      ReduceLROnPlateau(), LearningRateScheduler(lambda e: 0.1)], False),
    ([LambdaCallback(on_epoch_end=lambda e, l: None)], False),
    ([History(), KerasOneBatch()], True),
    ([KerasTwoBatch()], True),
    ([LambdaCallback(on_batch_end=lambda b, l: None)], True),
    ([LambdaCallback(on_batch_begin=lambda b, l: None)], True),
], ids=["empty", "builtins", "lambda-epoch-only", "on_batch_end", "on_train_batch_begin",
        "lambda-batch-end", "lambda-batch-begin"])
def test_wants_batch_hooks(callbacks, expected):
    assert CallbackList(callbacks).wants_batch_hooks() is expected


def test_batch_hook_spellings_reach_overrides():
    k1, k2 = KerasOneBatch(), KerasTwoBatch()
    seen = []
    lam = LambdaCallback(on_batch_begin=lambda b, l: seen.append(b))
    cbks = CallbackList([k1, k2, lam])
    cbks.on_batch_begin(0, {})           # Keras 1 spelling from the loop
    cbks.on_train_batch_begin(1, {})     # Keras 2.3 spelling
    cbks.on_batch_end(0, {"loss": 0.5})
    cbks.on_train_batch_end(1, {"loss": 0.25})
    assert k1.seen == [("end", 0, 0.5), ("end", 1, 0.25)]
    assert k2.seen == [("begin", 0), ("begin", 1)]
    assert seen == [0, 1]


def test_progress_forwarded_only_to_on_progress():
    got = []

    class Watcher(Callback):
        def on_progress(self, seen, logs):
            got.append((seen, dict(logs)))

    cbks = CallbackList([History(), Watcher(), LambdaCallback(on_progress=lambda s, l: got.append(s))])
    cbks.progress(320, {"loss": 0.5})
    assert got == [(320, {"loss": 0.5}), 320]
    assert not cbks.wants_batch_hooks()


def test_lambda_callback_hooks_called():
    calls = []
    cb = LambdaCallback(on_epoch_begin=lambda e, l: calls.append(("eb", e)),
                        on_epoch_end=lambda e, l: calls.append(("ee", e, l["loss"])),
                        on_train_begin=lambda l: calls.append("tb"),
                        on_train_end=lambda l: calls.append("te"))
    run_epochs([cb], FakeModel(), [{"loss": 1.0}, {"loss": 0.5}])
    assert calls == ["tb", ("eb", 0), ("ee", 0, 1.0), ("eb", 1), ("ee", 1, 0.5), "te"]


def test_history_records_epochs():
    h = History()
    run_epochs([h], FakeModel(), [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}])
    assert h.epoch == [0, 1]
    assert h.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}


# --- EarlyStopping ----------------------------------------------------------------

def test_early_stopping_patience_and_restore_best_weights():
    model = FakeModel()
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    val = [1.0, 0.5, 0.7, 0.6, 0.1, 0.1]
    ran = run_epochs([es], model, [{"loss": v, "val_loss": v} for v in val])
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert ran == 4
    assert model.stop_training is True
    assert es.stopped_epoch == 3
    # weights are +1 per epoch: the best epoch (1) left them at 2
    assert all(np.all(w == 2.0) for w in model.weights)


def test_early_stopping_patience_zero_and_min_delta():
    model = FakeModel()
    es = EarlyStopping(monitor="val_loss", min_delta=0.1, patience=0)
    # 0.95 improves on 1.0 by less than min_delta: not an improvement
    ran = run_epochs([es], model, [{"val_loss": 1.0}, {"val_loss": 0.95}, {"val_loss": 0.1}])
    assert ran == 2 and es.best == 1.0
    assert all(np.all(w == 2.0) for w in model.weights)  # no restore unless asked


def test_early_stopping_auto_mode_max_for_acc():
    model = FakeModel()
    es = EarlyStopping(monitor="val_acc", patience=1)
    ran = run_epochs([es], model, [{"val_acc": a} for a in (0.5, 0.6, 0.7, 0.65, 0.9)])
    assert ran == 4  # epoch 3 drops; patience 1 stops there
    es2 = EarlyStopping(monitor="fmeasure", patience=0)
    assert run_epochs([es2], FakeModel(), [{"fmeasure": a} for a in (0.5, 0.6, 0.7)]) == 3


def test_early_stopping_baseline_never_beaten():
    es = EarlyStopping(monitor="val_loss", patience=2, baseline=0.1)
    assert run_epochs([es], FakeModel(), [{"val_loss": 0.5}] * 5) == 2


def test_early_stopping_warns_on_missing_key():
    es = EarlyStopping(monitor="val_loss")
    with pytest.warns(RuntimeWarning, match=r"val_loss.*Available metrics are: acc,loss"):
        ran = run_epochs([es], FakeModel(), [{"loss": 1.0, "acc": 0.5}] * 3)
    assert ran == 3


# --- learning rate ----------------------------------------------------------------

def test_learning_rate_scheduler_one_and_two_args():
    model = FakeModel(lr=0.1)
    sched = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    run_epochs([sched], model, [{"loss": 1.0}] * 3)
    assert model.optimizer.lr.history == pytest.approx([0.1, 0.05, 0.1 / 3])

    model = FakeModel(lr=1.0)
    halve = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    run_epochs([halve], model, [{"loss": 1.0}] * 3)
    assert model.optimizer.lr.history == pytest.approx([0.5, 0.25, 0.125])


def test_learning_rate_scheduler_requires_float():
    sched = LearningRateScheduler(lambda epoch: 1)
    with pytest.raises(ValueError, match='The output of the "schedule" function should be float.'):
        run_epochs([sched], FakeModel(), [{"loss": 1.0}])


def test_learning_rate_scheduler_accepts_numpy_float():
    model = FakeModel()
    run_epochs([LearningRateScheduler(lambda e: np.float32(0.25))], model, [{"loss": 1.0}])
    assert model.optimizer.lr.history == [0.25]


def test_reduce_lr_on_plateau_after_patience_with_cooldown():
    model = FakeModel(lr=1.0)
    rl = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=2, min_lr=0.2)
    h = History()
    run_epochs([rl, h], model, [{"val_loss": 1.0}] * 12)
    # Epochs 1, 2 do not improve: reduce at 2. Cooldown: epoch 3 is skipped and
    # (as in Keras) counting resumes in the epoch where the counter reaches 0.
    # The third reduction is clipped to min_lr, then nothing goes below it.
    assert model.optimizer.lr.history == pytest.approx([0.5, 0.25, 0.2])
    # logs['lr'] is the rate used during the epoch; History records it.
    assert h.history["lr"] == pytest.approx([1, 1, 1, .5, .5, .5, .25, .25, .25, .2, .2, .2])


def test_reduce_lr_on_plateau_improvement_resets_wait():
    model = FakeModel(lr=1.0)
    rl = ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=2)
    run_epochs([rl], model, [{"val_loss": v} for v in (1.0, 1.0, 0.5, 0.5, 0.4, 0.4)])
    assert model.optimizer.lr.history == []
    rl = ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=2, min_delta=0.2)
    run_epochs([rl], model, [{"val_loss": v} for v in (1.0, 0.9, 0.85)])
    assert model.optimizer.lr.history == pytest.approx([0.1])


def test_reduce_lr_on_plateau_rejects_factor_one():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# --- CSVLogger ----------------------------------------------------------------------

def test_csv_logger_writes_rows_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "val_loss": 0.75, "acc": 0.25}, {"loss": 0.25, "val_loss": 0.5, "acc": 0.5}]
    run_epochs([CSVLogger(str(path))], FakeModel(), logs)
    rows = list(csv.reader(path.open()))
    assert rows == [["epoch", "acc", "loss", "val_loss"],
                    ["0", "0.25", "0.5", "0.75"],
                    ["1", "0.5", "0.25", "0.5"]]
    run_epochs([CSVLogger(str(path), append=True)], FakeModel(), logs[:1])
    rows = list(csv.reader(path.open()))
    assert len(rows) == 4 and rows[3] == ["0", "0.25", "0.5", "0.75"]
    run_epochs([CSVLogger(str(path), separator=";")], FakeModel(), logs[:1])
    assert path.read_text().splitlines() == ["epoch;acc;loss;val_loss", "0;0.25;0.5;0.75"]


def test_csv_logger_flushes_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    cb = CSVLogger(str(path))
    cbks = CallbackList([cb])
    cbks.set_model(FakeModel())
    cbks.on_train_begin()
    cbks.on_epoch_end(0, {"loss": np.float32(0.5), "lr": np.float32(0.01)})
    # written before on_train_end; a float32 rate is written as 0.01, not 0.009999999776...
    assert path.read_text().splitlines() == ["epoch,loss,lr", "0,0.5,0.01"]
    cbks.on_train_end()


# --- TerminateOnNaN -------------------------------------------------------------------

def test_terminate_on_nan_from_progress(capsys):
    model = FakeModel()
    cbks = CallbackList([TerminateOnNaN()])
    cbks.set_model(model)
    cbks.set_params(make_params())
    cbks.on_train_begin()
    cbks.on_epoch_begin(0)
    cbks.progress(30, {"loss": 0.5})
    assert model.stop_training is False
    cbks.progress(40, {"loss": float("nan")})
    assert model.stop_training is True
    cbks.on_epoch_end(0, {"loss": float("nan")})
    out = capsys.readouterr().out
    assert out.count("Invalid loss, terminating training") == 1
    assert "Batch 40: Invalid loss, terminating training" in out


def test_terminate_on_nan_at_epoch_end_inf(capsys):
    model = FakeModel()
    ran = run_epochs([TerminateOnNaN()], model, [{"loss": 1.0}, {"loss": math.inf}, {"loss": 1.0}])
    assert ran == 2 and model.stop_training
    assert "Invalid loss, terminating training" in capsys.readouterr().out


# --- ProgbarLogger --------------------------------------------------------------------

def test_progbar_logger_prints_epochs_and_final_lines(capsys):
    logs = [{"loss": 0.5, "acc": 0.75, "val_loss": 0.625, "val_acc": 0.7},
            {"loss": 0.25, "acc": 0.875, "val_loss": 0.5, "val_acc": 0.8}]
    params = make_params(epochs=2, samples=100, verbose=1,
                         metrics=["loss", "acc", "val_loss", "val_acc"])
    run_epochs([ProgbarLogger()], FakeModel(), logs, params)
    lines = capsys.readouterr().out.splitlines()
    # not a tty: no partial bars, one line per epoch
    assert len(lines) == 4
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("100/100 [==============================] - ")
    assert " - loss: 0.5000 - acc: 0.7500 - val_loss: 0.6250 - val_acc: 0.7000 - " in lines[1]
    assert lines[1].endswith(" samples/s")
    assert " - loss: 0.2500 - acc: 0.8750 - val_loss: 0.5000 - val_acc: 0.8000 - " in lines[3]


def test_progbar_logger_silent_when_not_verbose(capsys):
    run_epochs([ProgbarLogger()], FakeModel(), [{"loss": 0.5}], make_params(epochs=1, verbose=0))
    assert capsys.readouterr().out == ""
