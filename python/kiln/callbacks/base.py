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
import warnings

import numpy as np

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

    def __new__(cls, *args, **kwargs):
        # The constructor's arguments, so that one get_config serves every callback.
        obj = super().__new__(cls)
        obj._init_args = (args, dict(kwargs))
        return obj

    def get_config(self):
        """The constructor's arguments by name, defaults included (Keras callbacks have no
        config of their own; `from_config(get_config())` makes an equal callback)."""
        import inspect
        args, kwargs = getattr(self, "_init_args", ((), {}))
        try:
            bound = inspect.signature(type(self).__init__).bind(None, *args, **kwargs)
        except (TypeError, ValueError):
            return dict(kwargs)
        bound.apply_defaults()
        config = dict(bound.arguments)
        config.pop(next(iter(config)))  # self
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if p.kind == p.VAR_KEYWORD and name in config:
                config.update(config.pop(name))
            elif p.kind == p.VAR_POSITIONAL:
                config.pop(name, None)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

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
    from .. import backend as K
    return np.asarray(K.get_value(_lr_variable(model)))[()]


def _get_lr(model):
    return float(_lr_value(model))


def _set_lr(model, value):
    from .. import backend as K
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
