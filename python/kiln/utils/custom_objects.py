"""User classes and functions by name, for loading configs (Keras 2's `custom_object_scope`).

A config names everything it holds (layers, activations, initializers, losses, ...). The
`get` function of each kind looks a name up in kiln's own table and, when it is not there, in
the custom objects in scope: those passed as `custom_objects=` to `model_from_json`,
`load_model` or `from_config` (in scope while that call runs), then the global ones of
`get_custom_objects()`. Custom objects win over kiln's names, as in Keras.
"""
import contextlib
import threading
from collections.abc import MutableMapping

_GLOBAL = {}
_local = threading.local()


class _CustomObjects(MutableMapping):
    """What get_custom_objects() returns: Keras' global dict, seen from this thread. Reading it
    sees the scopes this thread is in too (as Keras 1.2's, whose scopes write into the global
    dict); writing, deleting and clear() change the process-wide entries only, so one thread's
    scope never shows in another's."""

    def __getitem__(self, name):
        found = lookup(name)
        if found is None and name not in _GLOBAL:
            raise KeyError(name)
        return found

    def __setitem__(self, name, value):
        _GLOBAL[name] = value

    def __delitem__(self, name):
        del _GLOBAL[name]

    def __iter__(self):
        return iter(known_names())

    def __len__(self):
        return len(known_names())

    def clear(self):
        _GLOBAL.clear()

    def __repr__(self):
        return repr({k: self[k] for k in self})


_VIEW = _CustomObjects()


def get_custom_objects():
    """The custom objects (a dict-like view): add to it to make a name known everywhere."""
    return _VIEW


@contextlib.contextmanager
def custom_object_scope(*dicts):
    """`with custom_object_scope({'MyLayer': MyLayer}): model = model_from_json(s)`."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    merged = {}
    for d in dicts:
        merged.update(d or {})
    stack.append(merged)
    try:
        yield merged
    finally:
        stack.pop()


CustomObjectScope = custom_object_scope


def deserialize_with(get, config, custom_objects=None):
    """`get(config)` with `custom_objects` in scope: Keras 2's `deserialize(config,
    custom_objects)` of each kind (activations, initializers, regularizers, ...)."""
    with custom_object_scope(custom_objects or {}):
        return get(config)


def lookup(name):
    """The custom object called `name` (innermost scope first, then the global dict), or None."""
    if not isinstance(name, str):
        return None
    for scope in reversed(getattr(_local, "stack", None) or []):
        if name in scope:
            return scope[name]
    return _GLOBAL.get(name)


def known_names():
    names = set(_GLOBAL)
    for scope in getattr(_local, "stack", None) or []:
        names.update(scope)
    return sorted(names)
