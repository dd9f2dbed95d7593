"""Callbacks that steer training: EarlyStopping, LearningRateScheduler, ReduceLROnPlateau,
TerminateOnNaN."""
import inspect
import warnings

import numpy as np

from .base import Callback, _get_lr, _is_finite_number, _lr_value, _monitor_op, _set_lr

class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    Args:
        monitor: quantity to monitor, e.g. 'val_loss'.
        min_delta: minimum change that counts as an improvement.
        patience: number of epochs without improvement after which training
            stops (0: at the first epoch that does not improve).
        verbose: 1 prints a line when stopping.
        mode: 'min', 'max' or 'auto' (max when the name contains 'acc' or
            starts with 'fmeasure', else min).
        baseline: value the quantity must beat; epochs that do not count as
            without improvement.
        restore_best_weights: when stopping, set the weights of the best epoch
            back on the model.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0,
                 mode="auto", baseline=None, restore_best_weights=False):
        super(EarlyStopping, self).__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.monitor_op, _ = _monitor_op(monitor, mode, "EarlyStopping")
        self.min_delta = abs(min_delta) if self.monitor_op is np.greater else -abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = None
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = -np.inf if self.monitor_op is np.greater else np.inf

    def on_epoch_end(self, epoch, logs=None):
        if not hasattr(self, "best"):
            self.on_train_begin()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn("Early stopping conditioned on metric `%s` which is not available. "
                          "Available metrics are: %s"
                          % (self.monitor, ",".join(sorted(logs or {}))), RuntimeWarning)
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch (%d)."
                          % (self.best_epoch + 1))
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print("Epoch %05d: early stopping" % (self.stopped_epoch + 1))


def _accepts_two_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    try:
        sig.bind(0, 0.0)
        return True
    except TypeError:
        return False


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch.

    Args:
        schedule: ``schedule(epoch)`` or ``schedule(epoch, lr)`` (epoch from 0,
            lr the current rate) returning the new rate as a float.
        verbose: 1 prints the new rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super(LearningRateScheduler, self).__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if _accepts_two_args(self.schedule):
            lr = self.schedule(epoch, _get_lr(self.model))
        else:
            lr = self.schedule(epoch)
        if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (float, np.floating)):
            raise ValueError('The output of the "schedule" function should be float. '
                             "Got %r (%s) at epoch %d." % (lr, type(lr).__name__, epoch))
        _set_lr(self.model, float(lr))
        if self.verbose > 0:
            print("\nEpoch %05d: LearningRateScheduler setting learning rate to %s."
                  % (epoch + 1, float(lr)))


class ReduceLROnPlateau(Callback):
    """Reduces the learning rate when a metric has stopped improving.

    Args:
        monitor: quantity to monitor.
        factor: new_lr = lr * factor (must be < 1).
        patience: epochs without improvement after which the rate is reduced.
        verbose: 1 prints a line on each reduction.
        mode: 'min', 'max' or 'auto' (as `EarlyStopping`).
        epsilon: threshold for an improvement (Keras 1 name).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.
        min_delta: Keras 2 name of `epsilon`; wins when given.

    Adds ``logs['lr']`` (the rate used during the epoch), as Keras does.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0,
                 mode="auto", epsilon=1e-4, cooldown=0, min_lr=0, min_delta=None):
        super(ReduceLROnPlateau, self).__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0 "
                             "(got factor=%r)." % (factor,))
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = epsilon if min_delta is None else min_delta
        self.epsilon = self.min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        better, self.best = _monitor_op(self.monitor, self.mode, "ReduceLROnPlateau")
        delta = abs(self.min_delta)
        if better is np.greater:
            self.monitor_op = lambda a, b: np.greater(a, b + delta)
        else:
            self.monitor_op = lambda a, b: np.less(a, b - delta)
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["lr"] = _lr_value(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn("Reduce LR on plateau conditioned on metric `%s` which is not "
                          "available. Available metrics are: %s"
                          % (self.monitor, ",".join(sorted(logs))), RuntimeWarning)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = _get_lr(self.model)
        # Compare with a relative tolerance: the rate is stored as float32.
        if old_lr > self.min_lr * (1 + 1e-4) and old_lr > 0:
            new_lr = max(old_lr * self.factor, self.min_lr)
            _set_lr(self.model, new_lr)
            if self.verbose > 0:
                print("\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s."
                      % (epoch + 1, new_lr))
            self.cooldown_counter = self.cooldown
            self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite.

    Watches the throttled progress reports (the fit loop sends one right after
    any batch with a non-finite loss) and the epoch logs, so that it never
    forces per-batch Python calls.
    """

    def __init__(self):
        super(TerminateOnNaN, self).__init__()
        self._terminated = False

    def on_train_begin(self, logs=None):
        self._terminated = False

    def _check(self, where, logs):
        loss = (logs or {}).get("loss")
        if loss is None or self._terminated or _is_finite_number(loss):
            return
        print("Batch %d: Invalid loss, terminating training" % where)
        self._terminated = True
        self.model.stop_training = True

    def on_progress(self, seen, logs):
        self._check(seen, logs)

    def on_epoch_end(self, epoch, logs=None):
        params = self.params or {}
        samples = params.get("samples", params.get("nb_sample"))
        self._check(samples if samples is not None else 0, logs)
