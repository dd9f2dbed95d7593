"""Keras-style text progress bar.

kiln computes running means natively, so a `Progbar` only displays the values
it is given; it never averages them again (Keras 1 did, from per-batch values).

On a terminal (or in a live IPython/Jupyter display) the bar is redrawn in
place with ``\\r``, at most once per ``interval`` seconds. Anywhere else (log
files, CI, pipes) nothing is printed until the bar finishes, and then one line:
a log then holds one line per epoch instead of thousands of partial bars.
Output always goes to the ``sys.stdout`` of the moment of the call, so that
redirection (``contextlib.redirect_stdout``, pytest's capsys) works.
"""
import inspect
import sys
import time

import numpy as np

from .custom_objects import CustomObjectScope, custom_object_scope, get_custom_objects, lookup  # noqa: F401

__all__ = ["Progbar", "get_from_module", "make_tuple", "display_table", "has_arg", "serialize_keras_object",
           "deserialize_keras_object", "CustomObjectScope", "custom_object_scope", "get_custom_objects"]


def _is_dynamic_display():
    """True when output goes to a terminal, where ``\\r`` redraws the bar in place. Logs, CI and
    notebooks (whose cell output keeps every redraw) get one line per epoch instead."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # closed stream
        return False


def _format_value(value):
    """Format one metric like Keras: ``%.4f``, or ``%.4e`` for tiny magnitudes."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        return str(value)
    try:
        arr = np.asarray(value)
    except Exception:  # not array-like
        return str(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        return str(value)
    v = float(arr.reshape(()))
    if v == 0.0 or abs(v) > 1e-3 or not np.isfinite(v):
        return "%.4f" % v
    return "%.4e" % v


def _format_eta(seconds):
    if seconds >= 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds >= 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _format_elapsed(seconds):
    if seconds >= 1:
        return "%ds" % seconds
    return "%dms" % (seconds * 1000)


def _format_rate(rate):
    if rate >= 10:
        return "%d" % round(rate)
    return "%.2f" % rate


class Progbar(object):
    """Displays a progress bar.

    Args:
        target: total number of units expected (samples, steps), or None if
            unknown.
        width: width of the bar in characters.
        verbose: 0 (silent), 1 (bar), 2 (one line at the end, no bar).
        interval: minimum seconds between two redraws on a dynamic display.
        stateful_metrics: accepted for Keras compatibility. Every value is
            already an average and shown as given, so it changes nothing.
        unit_name: name of the unit, for the throughput (``samples/s``).

    Example:

    ```python
    bar = Progbar(60000)
    bar.update(12800, [('loss', 0.4321), ('acc', 0.881)])
    bar.update(60000, {'loss': 0.2345, 'acc': 0.9312}, finalize=True)
    # 60000/60000 [==============================] - 2s - loss: 0.2345 - acc: 0.9312 - 31000 samples/s
    ```
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05,
                 stateful_metrics=None, unit_name="sample"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self.seen_so_far = 0
        self._values = {}  # name -> latest value, in first-seen order
        self._start = time.time()
        self._last_draw = None
        self._drawn_width = 0
        self._finished = False
        self._dynamic = _is_dynamic_display()

    def update(self, current, values=None, finalize=None, force=False):
        """Moves the bar to `current` and shows `values`.

        Args:
            current: units done so far.
            values: dict or list of `(name, value)` pairs; each value is
                displayed as given (already averaged). Names keep the order
                in which they first appeared.
            finalize: True finishes the bar (final line, newline). None
                finishes it when `current >= target`. False never does,
                even at the target (a caller that adds validation values at
                the end of an epoch uses this until then).
            force: redraw now even if `interval` has not passed (Keras 1.2).
        """
        if self._finished:
            return
        if values:
            items = values.items() if hasattr(values, "items") else values
            for name, value in items:
                self._values[name] = value
        self.seen_so_far = current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if finalize:
            self._finished = True
        if self.verbose == 0:
            return
        now = time.time()
        if not finalize:
            if not self._dynamic or self.verbose != 1:
                return
            if not force and self._last_draw is not None and now - self._last_draw < self.interval:
                return
            self._draw("\r", self._line(current, now, final=False), "")
        elif self._dynamic and self.verbose == 1:
            self._draw("\r", self._line(current, now, final=True), "\n")
        else:
            self._draw("", self._line(current, now, final=True), "\n")
        self._last_draw = now

    def add(self, n, values=None):
        """Advances the bar by `n` units (see `update`)."""
        self.update(self.seen_so_far + n, values)

    def _draw(self, prefix, line, suffix):
        # Pad with spaces so a shorter line fully covers the previous one.
        pad = " " * max(0, self._drawn_width - len(line)) if prefix else ""
        self._drawn_width = len(line)
        stream = sys.stdout
        stream.write(prefix + line + pad + suffix)
        stream.flush()

    def _line(self, current, now, final):
        parts = []
        if self.target is None:
            parts.append("%7d/Unknown" % current)
        else:
            digits = len(str(self.target))
            count = "%*d/%d" % (digits, current, self.target)
            if self.verbose == 1:
                parts.append(count + " " + self._bar(current))
            else:
                parts.append(count)
        elapsed = now - self._start
        if final:
            parts.append(_format_elapsed(elapsed))
        elif self.target is not None and current > 0:
            eta = elapsed / current * max(0, self.target - current)
            parts.append("ETA: " + _format_eta(eta))
        for name, value in self._values.items():
            parts.append("%s: %s" % (name, _format_value(value)))
        if elapsed > 0 and current > 0:
            parts.append("%s %ss/s" % (_format_rate(current / elapsed), self.unit_name))
        return " - ".join(parts)

    def _bar(self, current):
        frac = min(max(current / float(self.target), 0.0), 1.0) if self.target else 1.0
        filled = int(self.width * frac)
        bar = ""
        if filled > 0:
            bar = "=" * (filled - 1) + (">" if current < self.target else "=")
        return "[" + bar + "." * (self.width - len(bar)) + "]"


def get_from_module(identifier, module_params, module_name, instantiate=False, kwargs=None):
    """Keras 1.2's lookup of a name in a module's globals (how `optimizers.get`, `activations.get`
    and user code resolve strings).

    Args:
        identifier: a name, a dict `{'name': ..., **arguments}` (a config: the object is made
            with the arguments), or anything else (returned as is).
        module_params: the namespace to look in, usually `globals()`, after the custom objects
            in scope (custom_object_scope, get_custom_objects()).
        module_name: what is looked up, for the error message ('optimizer', 'activation').
        instantiate: for a name, call what it names (with `kwargs` if given).

    Example:

    ```python
    get_from_module('relu', vars(kiln.activations), 'activation')   # the relu function
    ```
    """
    if isinstance(identifier, str):
        res = lookup(identifier) or module_params.get(identifier)  # custom objects first, as Keras 1.2
        if not res:
            raise ValueError("Invalid " + str(module_name) + ": " + str(identifier))
        if instantiate:
            return res(**kwargs) if kwargs else res()
        return res
    if isinstance(identifier, dict):
        identifier = dict(identifier)
        name = identifier.pop("name", None)
        res = (lookup(name) or module_params.get(name)) if name is not None else None
        if not res:
            raise ValueError("Invalid " + str(module_name) + ": " + str(identifier))
        return res(**identifier)
    return identifier


def make_tuple(*args):
    """Keras 1.2: its arguments as a tuple."""
    return args


def table_row(fields, positions):
    """One line of a table: each field cut or padded to end at its position."""
    line = ""
    for f, p in zip(fields, positions):
        line += str(f)
        line = line[:p].ljust(p)
    return line


def display_table(rows, positions, print_fn=print):
    """Keras 1.2: prints rows of fields, each field ending at its column position."""
    for fields in rows:
        print_fn(table_row(fields, positions))


def has_arg(fn, name, accept_all=False):
    """Keras 2: whether `fn` takes an argument `name` by keyword (with `accept_all`, also
    whether it takes **kwargs). False for a callable whose signature cannot be read."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get(name)
    if p is None:
        return accept_all and any(q.kind == inspect.Parameter.VAR_KEYWORD for q in params.values())
    return p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def serialize_keras_object(instance):
    """Keras 2: {class_name, config} for an object with get_config, else its __name__."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": instance.__class__.__name__, "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return instance.__name__
    raise ValueError("Cannot serialize %r" % (instance,))


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None, printable_module_name="object"):
    """Keras 2: the object a {class_name, config} dict or a name describes, found in
    `custom_objects`, the custom objects in scope, then `module_objects`."""
    def find(name):
        found = (custom_objects or {}).get(name) or lookup(name) or (module_objects or {}).get(name)
        if found is None:
            raise ValueError("Unknown " + printable_module_name + ": " + str(name))
        return found
    if isinstance(identifier, dict):
        cls, config = find(identifier.get("class_name")), identifier.get("config") or {}
        if not hasattr(cls, "from_config"):
            return cls(**config)
        if has_arg(cls.from_config, "custom_objects"):
            return cls.from_config(config, custom_objects=custom_objects)
        with custom_object_scope(custom_objects or {}):
            return cls.from_config(config)
    if isinstance(identifier, str):
        return find(identifier)
    raise ValueError("Could not interpret serialized " + printable_module_name + ": " + str(identifier))
