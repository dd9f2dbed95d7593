"""Training callbacks with the Keras API.

kiln trains whole epochs natively. Python hears from the loop at train and
epoch boundaries, a few times a second through `CallbackList.progress` (kiln's
own `on_progress(seen, logs)` hook, with running means), and per batch only
when `CallbackList.wants_batch_hooks()` says some callback overrides a batch
hook. The built-in callbacks therefore never override batch hooks: adding
`ProgbarLogger` or `TerminateOnNaN` keeps the loop native.

The learning rate is reached as Keras user code reaches it,
``K.get_value(model.optimizer.lr)`` and ``K.set_value(...)``; `kiln.backend` is
imported inside the methods so that importing this module never loads the
native extension.
"""
import csv
import inspect
import os
import warnings

import numpy as np

from .utils.generic_utils import Progbar

__all__ = [
    "Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger",
    "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
    "LambdaCallback", "TerminateOnNaN",
]

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end",
                "on_train_batch_begin", "on_train_batch_end")


class Callback(object):
    """Base class for callbacks.

    Attributes:
        params: dict set by the fit loop: ``batch_size``, ``epochs`` (and
            ``nb_epoch``), ``samples`` (and ``nb_sample``), ``verbose``,
            ``do_validation``, ``metrics``.
        model: the model being trained.
        validation_data: the validation arrays, when the loop sets them.

    Batch hooks: ``on_batch_begin``/``on_batch_end`` (Keras 1) and
    ``on_train_batch_begin``/``on_train_batch_end`` (Keras 2.3+) are the same
    event; override either. Overriding any of them makes the fit loop call
    Python after every batch, which is slower than kiln's native loop.
    """

    # Class-level defaults: Keras 1 code often skips super().__init__().
    params = None
    model = None
    validation_data = None

    def __init__(self):
        self.params = {}
        self.model = None
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    # The list calls the on_train_batch_* names; by default they forward to
    # the Keras 1 names, so an override of either spelling is reached.
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


def _overrides_batch_hook(callback):
    if not isinstance(callback, Callback):  # duck-typed object: trust what it has
        return any(callable(getattr(callback, name, None)) for name in _BATCH_HOOKS)
    own = vars(callback)
    for name in _BATCH_HOOKS:
        if name in own:  # a function set on the instance (LambdaCallback does this)
            return True
        if getattr(type(callback), name) is not getattr(Callback, name):
            return True
    return False


class CallbackList(object):
    """A list of callbacks, each hook dispatched to all of them in order.

    Args:
        callbacks: list of `Callback` instances.
    """

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def append(self, callback):
        self.callbacks.append(callback)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def wants_batch_hooks(self):
        """True iff some callback overrides a batch hook.

        Only then does the fit loop call Python after every batch.
        """
        return any(_overrides_batch_hook(cb) for cb in self.callbacks)

    def progress(self, seen, logs):
        """Forwards a throttled progress report to every `on_progress` hook.

        Args:
            seen: samples seen so far in this epoch.
            logs: dict of running means, e.g. ``{'loss': 0.31, 'acc': 0.9}``.
        """
        for cb in self.callbacks:
            hook = getattr(cb, "on_progress", None)
            if hook is not None:
                hook(seen, logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            _batch_hook(cb, "begin")(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            _batch_hook(cb, "end")(batch, logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_train_begin(self, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_end(logs)


def _batch_hook(callback, which):
    hook = getattr(callback, "on_train_batch_" + which, None)
    if hook is None:  # duck-typed Keras 1 style object
        hook = getattr(callback, "on_batch_" + which, None)
    return hook if hook is not None else (lambda batch, logs: None)


# --- learning-rate access -----------------------------------------------------

def _lr_variable(model):
    optimizer = getattr(model, "optimizer", None)
    for name in ("lr", "learning_rate"):
        var = getattr(optimizer, name, None)
        if var is not None:
            return var
    raise ValueError('Optimizer must have a "lr" attribute; got %r.' % (optimizer,))


def _lr_value(model):
    """The rate as K.get_value gives it (a numpy scalar: float32 prints as 0.01)."""
    from . import backend as K
    return np.asarray(K.get_value(_lr_variable(model)))[()]


def _get_lr(model):
    return float(_lr_value(model))


def _set_lr(model, value):
    from . import backend as K
    K.set_value(_lr_variable(model), value)


def _monitor_op(monitor, mode, who):
    """Returns ``(better, best_start)``: max mode for accuracies and fmeasure."""
    if mode not in ("auto", "min", "max"):
        warnings.warn("%s mode %s is unknown, fallback to auto mode." % (who, mode),
                      RuntimeWarning)
        mode = "auto"
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
    if mode == "max":
        return np.greater, -np.inf
    return np.less, np.inf


def _is_finite_number(value):
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True  # not a number: nothing to judge


# --- the callbacks ------------------------------------------------------------

class BaseLogger(Callback):
    """Kept for compatibility: the native loop already averages the metrics
    over each epoch (weighted by batch size), which is what Keras' BaseLogger
    did. It changes nothing.
    """

    def __init__(self, stateful_metrics=None):
        super(BaseLogger, self).__init__()
        self.stateful_metrics = stateful_metrics


class History(Callback):
    """Records the epoch logs; `fit` returns it.

    Attributes:
        epoch: list of epoch indices seen.
        history: dict name -> list of one value per epoch.
    """

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        if not hasattr(self, "history"):  # used without on_train_begin
            self.on_train_begin()
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a progress bar with the running metrics.

    Fed by `on_progress`, never per batch. The epoch-end line includes the
    validation values.

    Args:
        count_mode: 'samples' (default) or 'steps' (batches).
    """

    def __init__(self, count_mode="samples"):
        super(ProgbarLogger, self).__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError("Unknown `count_mode`: %r (expected 'samples' or 'steps')."
                             % (count_mode,))
        self.count_mode = count_mode
        self.progbar = None

    def _param(self, *names):
        for name in names:
            if (self.params or {}).get(name) is not None:
                return self.params[name]
        return None

    def _count(self, seen):
        if self.count_mode == "steps":
            batch_size = self._param("batch_size") or 1
            return -(-int(seen) // int(batch_size))
        return seen

    def _ordered(self, logs):
        names = [n for n in (self._param("metrics") or []) if n in logs]
        names += [n for n in logs if n not in names and n not in ("batch", "size")]
        return [(n, logs[n]) for n in names]

    def on_train_begin(self, logs=None):
        self.verbose = self._param("verbose")
        self.epochs = self._param("epochs", "nb_epoch")

    def on_epoch_begin(self, epoch, logs=None):
        verbose = self._param("verbose")
        if not verbose:
            self.progbar = None
            return
        print("Epoch %d/%d" % (epoch + 1, self._param("epochs", "nb_epoch") or 0))
        samples = self._param("samples", "nb_sample")
        target = self._count(samples) if samples is not None else self._param("steps")
        self.progbar = Progbar(target=target, verbose=verbose,
                               unit_name="sample" if self.count_mode == "samples" else "step")

    def on_progress(self, seen, logs):
        if self.progbar is not None:
            self.progbar.update(self._count(seen), self._ordered(logs or {}), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is None:
            return
        current = self.progbar.target
        if current is None or getattr(self.model, "stop_training", False):
            current = self.progbar.seen_so_far  # the epoch may have been cut short
        self.progbar.update(current, self._ordered(logs or {}), finalize=True)
        self.progbar = None


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


class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file: header ``epoch,<sorted names>``,
    then one row per epoch, flushed at once.

    Args:
        filename: path of the CSV file.
        separator: field separator.
        append: append to an existing file (no second header) instead of
            overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super(CSVLogger, self).__init__()
        self.filename = filename
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None
        self._append_header = True

    def on_train_begin(self, logs=None):
        self._append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, "r") as f:
                self._append_header = not bool(f.readline())
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = None
        self.writer = None

    @staticmethod
    def _cell(value):
        if isinstance(value, str):
            return value
        arr = np.asarray(value)
        if arr.ndim == 0:
            return arr[()]  # numpy scalars print short: str(np.float32(0.01)) == '0.01'
        return '"[%s]"' % ", ".join(str(v) for v in arr.ravel())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep, extrasaction="ignore")
            if self._append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:
            row[key] = self._cell(logs[key]) if key in logs else "NA"
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


class LambdaCallback(Callback):
    """Builds a callback from plain functions.

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_batch_begin, on_batch_end: ``f(batch, logs)``. Giving either makes
            the fit loop call Python after every batch.
        on_train_begin, on_train_end: ``f(logs)``.
        **kwargs: other hooks by name, e.g. ``on_progress=f(seen, logs)``.

    Example:

    ```python
    LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs['loss']))
    ```
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super(LambdaCallback, self).__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue  # keep the no-op method: an absent batch hook costs nothing
            if not callable(fn):
                raise TypeError("[LambdaCallback] %s must be callable, got %r." % (name, fn))
            setattr(self, name, fn)


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
