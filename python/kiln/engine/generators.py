"""fit_generator / evaluate_generator / predict_generator (Keras 1 and 2 arguments).

A background thread draws batches from the generator into a bounded queue while the native step
trains on the previous one (train_on_batch releases the GIL), so an epoch takes about
max(produce, train) rather than their sum when the generator keeps up. Batches may differ in
size: each size gets its memory plan once (the runtime caches a bounded number). A generator
that raises, ends early or yields a wrong shape stops training with an error naming the epoch
and batch; the weights are those after the last good step.
"""
import queue
import threading

import numpy as np

from ..callbacks import BaseLogger, CallbackList, History, ProgbarLogger

_END = object()


class GeneratorError(ValueError):
    pass


class _Producer:
    """Pulls from `generator` on a daemon thread into a queue of at most `size` items."""

    def __init__(self, generator, size):
        self.q = queue.Queue(maxsize=max(1, int(size)))
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, args=(generator,), daemon=True)
        self.t.start()

    def _run(self, generator):
        while not self.stop.is_set():
            try:
                item = next(generator)
            except StopIteration:
                item = _END
            except BaseException as e:  # noqa: BLE001 - handed to the consumer, which raises it
                item = e
            while not self.stop.is_set():
                try:
                    self.q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is _END or isinstance(item, BaseException):
                return

    def get(self, where):
        item = self.q.get()
        if item is _END:
            raise GeneratorError("%s: the generator ended (StopIteration) before the epoch was complete" % where)
        if isinstance(item, BaseException):
            raise GeneratorError("%s: the generator raised %s: %s" % (where, type(item).__name__, item)) from item
        return item

    def close(self):
        self.stop.set()


def _unpack(item, where):
    if not isinstance(item, tuple) or len(item) not in (2, 3):
        raise GeneratorError("%s: a generator must yield (x, y) or (x, y, sample_weight), got %s"
                             % (where, type(item).__name__ if not isinstance(item, tuple) else "%d items" % len(item)))
    return item if len(item) == 3 else (item[0], item[1], None)


def _size(x):
    first = x[0] if isinstance(x, (list, tuple)) else (next(iter(x.values())) if isinstance(x, dict) else x)
    return len(first)


def fit_generator(model, generator, samples_per_epoch=None, nb_epoch=None, verbose=1, callbacks=None,
                  validation_data=None, nb_val_samples=None, class_weight=None, max_q_size=10, nb_worker=1,
                  pickle_safe=False, initial_epoch=0, steps_per_epoch=None, epochs=None, validation_steps=None,
                  max_queue_size=None, workers=None, use_multiprocessing=None, shuffle=None):
    """Keras 1: an epoch ends once `samples_per_epoch` samples were seen; Keras 2: after
    `steps_per_epoch` batches. Validation: arrays (x, y[, w]) or a generator, for `nb_val_samples`
    samples or `validation_steps` batches."""
    if samples_per_epoch is None and steps_per_epoch is None:
        raise ValueError("fit_generator needs samples_per_epoch (Keras 1) or steps_per_epoch (Keras 2)")
    epochs = epochs if epochs is not None else (nb_epoch if nb_epoch is not None else 1)
    model._require_compiled()
    model._program("train")
    out_labels = list(model.metrics_names)
    do_val = validation_data is not None
    model.history = History()
    cbs = [BaseLogger()] + ([ProgbarLogger()] if verbose else []) + list(callbacks or []) + [model.history]
    cbl = CallbackList(cbs)
    cbl.set_model(model)
    cbl.set_params({"nb_epoch": epochs, "epochs": epochs, "nb_sample": samples_per_epoch, "samples": samples_per_epoch,
                    "steps": steps_per_epoch, "verbose": verbose, "do_validation": do_val,
                    "metrics": out_labels + (["val_" + m for m in out_labels] if do_val else [])})
    model.stop_training = False
    producer = _Producer(generator, max_queue_size if max_queue_size is not None else max_q_size)
    try:
        cbl.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbl.on_epoch_begin(epoch)
            seen = batch = 0
            totals = None
            while (seen < samples_per_epoch) if steps_per_epoch is None else (batch < steps_per_epoch):
                where = "fit_generator, epoch %d, batch %d" % (epoch, batch)
                x, y, w = _unpack(producer.get(where), where)
                size = _size(x)
                cbl.on_batch_begin(batch, {"batch": batch, "size": size})
                try:
                    values = model.train_on_batch(x, y, sample_weight=w, class_weight=class_weight)
                except (ValueError, TypeError) as e:
                    raise GeneratorError("%s: %s" % (where, e)) from e
                values = values if isinstance(values, list) else [values]
                logs = dict(zip(out_labels, values), batch=batch, size=size)
                cbl.on_batch_end(batch, logs)
                totals = [v * size for v in values] if totals is None else [t + v * size for t, v in zip(totals, values)]
                seen += size
                batch += 1
                if model.stop_training:
                    break
            logs = dict(zip(out_labels, [t / max(seen, 1) for t in (totals or [])]))
            if do_val and not model.stop_training:
                val = _validate(model, validation_data, nb_val_samples, validation_steps, max_q_size)
                logs.update(("val_" + k, v) for k, v in zip(out_labels, val if isinstance(val, list) else [val]))
            cbl.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        cbl.on_train_end()
    finally:
        producer.close()
    return model.history


def _validate(model, data, nb_val_samples, validation_steps, q):
    if isinstance(data, tuple):
        return model.evaluate(*data, verbose=0) if len(data) == 2 else \
            model.evaluate(data[0], data[1], sample_weight=data[2], verbose=0)
    return evaluate_generator(model, data, val_samples=nb_val_samples, steps=validation_steps, max_q_size=q)


def evaluate_generator(model, generator, val_samples=None, max_q_size=10, nb_worker=1, pickle_safe=False,
                       steps=None, max_queue_size=None, workers=None, use_multiprocessing=None):
    """Loss (and metrics) averaged over `val_samples` samples (Keras 1) or `steps` batches (Keras 2)."""
    if val_samples is None and steps is None:
        raise ValueError("evaluate_generator needs val_samples (Keras 1) or steps (Keras 2)")
    producer = _Producer(generator, max_queue_size if max_queue_size is not None else max_q_size)
    totals, seen, batch = None, 0, 0
    try:
        while (seen < val_samples) if steps is None else (batch < steps):
            where = "evaluate_generator, batch %d" % batch
            x, y, w = _unpack(producer.get(where), where)
            try:
                values = model.test_on_batch(x, y, sample_weight=w)
            except (ValueError, TypeError) as e:
                raise GeneratorError("%s: %s" % (where, e)) from e
            values = values if isinstance(values, list) else [values]
            size = _size(x)
            totals = [v * size for v in values] if totals is None else [t + v * size for t, v in zip(totals, values)]
            seen += size
            batch += 1
    finally:
        producer.close()
    means = [t / max(seen, 1) for t in totals]
    return means[0] if len(means) == 1 else means


def predict_generator(model, generator, val_samples=None, max_q_size=10, nb_worker=1, pickle_safe=False,
                      steps=None, max_queue_size=None, workers=None, use_multiprocessing=None, verbose=0):
    """Outputs for `val_samples` samples (Keras 1) or `steps` batches (Keras 2) of inputs (a
    generator of x, or of (x, ...) tuples whose first item is x), concatenated."""
    if val_samples is None and steps is None:
        raise ValueError("predict_generator needs val_samples (Keras 1) or steps (Keras 2)")
    producer = _Producer(generator, max_queue_size if max_queue_size is not None else max_q_size)
    outs, seen, batch = [], 0, 0
    try:
        while (seen < val_samples) if steps is None else (batch < steps):
            where = "predict_generator, batch %d" % batch
            item = producer.get(where)
            x = item[0] if isinstance(item, tuple) else item
            try:
                y = model.predict_on_batch(x)
            except (ValueError, TypeError) as e:
                raise GeneratorError("%s: %s" % (where, e)) from e
            outs.append(y if isinstance(y, list) else [y])
            seen += _size(x)
            batch += 1
    finally:
        producer.close()
    joined = [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))]
    return joined[0] if len(joined) == 1 else joined
