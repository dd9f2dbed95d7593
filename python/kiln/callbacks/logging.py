"""Callbacks that record or show training: BaseLogger, History, ProgbarLogger, CSVLogger,
LambdaCallback. None overrides a batch hook unless given one (LambdaCallback)."""
import csv
import os

import numpy as np

from ..utils.generic_utils import Progbar
from .base import Callback

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
