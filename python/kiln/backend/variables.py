"""Variables: persistent tensors whose values live in the native Store of their device.

One Store per device per process holds every weight and optimizer slot by key, so every compiled
program (train, test, predict, of any model) on that device reads and writes the same memory:
layers shared between models share weights, and `K.set_value(model.optimizer.lr, x)` is seen by
the very next step. A variable starts in the CPU Store and is placed on a device by the first
program that uses it (`compile_program`); from then on it lives there, and a program for another
device that uses it is refused, naming it (a layer's weights are on one device, so one layer
cannot be shared between a CPU model and a CUDA model).
"""
import re
import weakref

import numpy as np

from .. import _core
from .tensor import Tensor

_stores = {"cpu": _core.Store()}
store = _stores["cpu"]  # the CPU Store: unplaced variables, and every CPU program's tensors
_keys = set()


def store_for(device):
    """The Store of `device` ('cpu' or 'cuda'), made on first use."""
    if device not in _stores:
        _stores[device] = _core.Store(device=device)
    return _stores[device]


def stores():
    return list(_stores.values())


def holder(key):
    """The Store holding `key`, or None."""
    return next((s for s in _stores.values() if s.has(key)), None)


def _unique_key(name):
    base = re.sub(r"[^A-Za-z0-9_.]", "_", name) or "variable"
    key, n = base, 0
    while key in _keys or holder(key) is not None:
        n += 1
        key = "%s_%d" % (base, n)
    _keys.add(key)
    return key


def _release(key):
    _keys.discard(key)
    for s in _stores.values():
        s.remove(key)


def check_placement(variables, device):
    """A ValueError naming the first variable already placed on a device other than `device`."""
    for v in variables:
        if v.device not in (None, device):
            raise ValueError("variable %s is on %s, so a program for %s cannot use it: a layer's weights "
                             "live on one device (a layer shared between models on different devices is "
                             "not supported; copy its weights with get_weights/set_weights into a "
                             "layer of its own)" % (v.name, v.device, device))


def place(variables, device):
    """Puts every variable in `variables` on `device`, all checked first (nothing moves when one
    is on another device)."""
    check_placement(variables, device)
    for v in variables:
        if v.device is None:
            if device != "cpu":
                value = store.get(v.key)
                store_for(device).set(v.key, np.array(value, dtype=np.float32, order="C"))
                store.remove(v.key)
            v.device = device


def compile_program(text, variables, device, **options):
    """The native program for IR `text` on `device`, its variables placed there first."""
    place(variables, device)
    return _core.compile(store_for(device), text, device=device, **options)


class Variable(Tensor):
    """A named persistent tensor. `trainable` variables are `param`s of the train graph (the
    optimizer updates them); others are `state` (read as is)."""

    def __init__(self, value, name=None, trainable=True, key=None):
        value = np.asarray(value, dtype=np.float32)
        super().__init__(None, [], {}, "float32", value.shape, name or "variable")
        self.key = key if key is not None and key not in _keys else _unique_key(name or "variable")
        _keys.add(self.key)
        self.trainable = trainable
        self.device = None  # unplaced: in the CPU Store until a program uses it (place)
        store.set(self.key, np.array(value, dtype=np.float32, order="C"))
        weakref.finalize(self, _release, self.key)

    def get_value(self):
        v = store_for(self.device or "cpu").get(self.key)
        return v[()] if v.ndim == 0 else v

    def set_value(self, value):
        value = np.asarray(value, dtype=np.float32)
        if value.shape != self.shape:
            if value.size == int(np.prod(self.shape)) and value.ndim == 0 or self.shape == ():
                value = value.reshape(self.shape)
            else:
                raise ValueError("cannot set variable %s of shape %s to a value of shape %s"
                                 % (self.name, self.shape, value.shape))
        store_for(self.device or "cpu").set(self.key, np.array(value, dtype=np.float32, order="C"))

    def __repr__(self):
        return "<kiln.Variable %s shape=%s>" % (self.name, self.shape)
