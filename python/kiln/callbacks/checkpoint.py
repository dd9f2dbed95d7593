"""ModelCheckpoint: saves the model (model.save) or its weights at the end of epochs."""
import warnings

from .. import distributed
from .base import Callback, _monitor_op


class ModelCheckpoint(Callback):
    """Saves the model after every `period` epochs (Keras 1.2).

    Args:
        filepath: where to save; formatted with the epoch index and the epoch's logs, e.g.
            'weights.{epoch:02d}-{val_loss:.2f}.hdf5'. As in Keras 1.2, `epoch` counts from 0
            (the first epoch writes weights.00-...).
        monitor: the quantity save_best_only compares, e.g. 'val_loss' or 'acc'.
        verbose: 1 prints a line at each save (or each skipped save).
        save_best_only: save only when `monitor` improves on the best so far.
        save_weights_only: write model.save_weights(filepath) instead of model.save(filepath).
        mode: 'min', 'max' or 'auto' (max when the name contains 'acc' or starts with
            'fmeasure', else min).
        period: epochs between checks.

    Every file is written atomically (a temporary file in the same folder, renamed once
    whole), so a crash mid-save leaves the previous checkpoint as it was. A full model file
    (save_weights_only=False) resumes training exactly with kiln.models.load_model.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", period=1):
        super(ModelCheckpoint, self).__init__()
        self.filepath = str(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = int(period)
        if self.period < 1:
            raise ValueError("ModelCheckpoint: period must be at least 1, got %r" % (period,))
        self.monitor_op, self.best = _monitor_op(monitor, mode, "ModelCheckpoint")
        self.epochs_since_last_save = 0

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch, **logs)
        except KeyError as e:
            raise KeyError("ModelCheckpoint: filepath %r names {%s}, which the logs of epoch %d do not have (they have: "
                           "epoch, %s)" % (self.filepath, e.args[0], epoch, ", ".join(sorted(logs)))) from None
        except (ValueError, IndexError) as e:
            raise ValueError("ModelCheckpoint: cannot format filepath %r with the logs of epoch %d (%s)"
                             % (self.filepath, epoch, e)) from None

    def _save(self, filepath):
        """Data-parallel (kiln.distributed), rank 0 writes (atomically) and every rank waits
        for it, so no rank goes on while the file is half there."""
        if distributed.is_chief():
            if self.save_weights_only:
                self.model.save_weights(filepath, overwrite=True)
            else:
                self.model.save(filepath, overwrite=True)
        distributed.barrier()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        filepath = self._path(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0 and distributed.is_chief():
                print("Epoch %05d: saving model to %s" % (epoch, filepath))
            self._save(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn("Can save best model only with %s available, skipping." % self.monitor, RuntimeWarning)
            return
        if self.monitor_op(current, self.best):
            if self.verbose > 0 and distributed.is_chief():
                print("Epoch %05d: %s improved from %0.5f to %0.5f, saving model to %s"
                      % (epoch, self.monitor, self.best, current, filepath))
            self.best = current
            self._save(filepath)
        elif self.verbose > 0 and distributed.is_chief():
            print("Epoch %05d: %s did not improve" % (epoch, self.monitor))
