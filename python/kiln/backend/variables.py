"""Variables: persistent tensors whose values live in the native Store.

One Store per process holds every weight and optimizer slot by key, so every compiled program
(train, test, predict, of any model) reads and writes the same memory: layers shared between
models share weights, and `K.set_value(model.optimizer.lr, x)` is seen by the very next step.
"""
import re
import weakref

import numpy as np

from .. import _core
from .tensor import Tensor

store = _core.Store()
_keys = set()


def _unique_key(name):
    base = re.sub(r"[^A-Za-z0-9_.]", "_", name) or "variable"
    key, n = base, 0
    while key in _keys or store.has(key):
        n += 1
        key = "%s_%d" % (base, n)
    _keys.add(key)
    return key


def _release(key):
    _keys.discard(key)
    store.remove(key)


class Variable(Tensor):
    """A named persistent tensor. `trainable` variables are `param`s of the train graph (the
    optimizer updates them); others are `state` (read as is)."""

    def __init__(self, value, name=None, trainable=True, key=None):
        value = np.asarray(value, dtype=np.float32)
        super().__init__(None, [], {}, "float32", value.shape, name or "variable")
        self.key = key if key is not None and key not in _keys else _unique_key(name or "variable")
        _keys.add(self.key)
        self.trainable = trainable
        store.set(self.key, np.array(value, dtype=np.float32, order="C"))
        weakref.finalize(self, _release, self.key)

    def get_value(self):
        v = store.get(self.key)
        return v[()] if v.ndim == 0 else v

    def set_value(self, value):
        value = np.asarray(value, dtype=np.float32)
        if value.shape != self.shape:
            if value.size == int(np.prod(self.shape)) and value.ndim == 0 or self.shape == ():
                value = value.reshape(self.shape)
            else:
                raise ValueError("cannot set variable %s of shape %s to a value of shape %s"
                                 % (self.name, self.shape, value.shape))
        store.set(self.key, np.array(value, dtype=np.float32, order="C"))

    def __repr__(self):
        return "<kiln.Variable %s shape=%s>" % (self.name, self.shape)
