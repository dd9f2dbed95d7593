"""Layers by class name: the one registry that configs, JSON/YAML and model files use.

A layer's config is Keras 1.2's: `{'class_name': 'Dense', 'config': {...}}`, with the values
inside written as Keras 1.2 writes them: activations and initializers by name ('relu',
'glorot_uniform'), regularizers as `{'name': 'L1L2Regularizer', 'l1': .., 'l2': ..}`, nested
layers (wrappers, models) as `{class_name, config}`. `deserialize` finds the class in
`layer_classes()` (every Layer class that `kiln.layers` exports, plus Model, Container and
Sequential), or among the custom objects, and calls its `from_config`.

Configs hold data only. In this process a config may hold code (a Lambda's function, a
callable merge mode); a config made to be written as text (`file_config`: to_json, to_yaml,
model.save) holds a Lambda's function as its traced ops (saving/traced.py), and any other code
is refused with an error naming the layer: loading a file never runs code from it.
"""
import contextlib
import json
import threading

import numpy as np

from .. import constraints, initializers, regularizers
from ..utils.custom_objects import custom_object_scope, known_names, lookup


_writing = threading.local()


def file_config(obj):
    """`obj.get_config()` made to be written to a file: a Lambda's function becomes its traced
    op list (or is refused, naming the layer)."""
    with _for_file():
        return obj.get_config()


@contextlib.contextmanager
def _for_file():
    _writing.depth = getattr(_writing, "depth", 0) + 1
    try:
        yield
    finally:
        _writing.depth -= 1


def for_file():
    """Whether the config being made will be written to a file (see file_config)."""
    return getattr(_writing, "depth", 0) > 0


def layer_classes():
    """{class name: class} for every layer kiln can rebuild from a config (Keras 2 aliases,
    such as Conv2D, name the same class)."""
    from .. import layers
    from ..engine.sequential import Sequential
    from ..engine.training import Model
    from ..graph.layer import Layer
    table = {n: c for n, c in vars(layers).items() if isinstance(c, type) and issubclass(c, Layer)}
    table.update(Model=Model, Container=Model, Sequential=Sequential)
    return table


def get_class(name):
    """The layer class called `name`: a custom object first, then kiln's."""
    cls = lookup(name)
    if cls is None:
        cls = layer_classes().get(name) if isinstance(name, str) else None
    if cls is None:
        custom = known_names()
        raise ValueError("Unknown layer class: %r. It is not one of kiln's layers (%s)%s; if it is a class of your own, "
                         "pass it as custom_objects={%r: %s} to model_from_json / load_model / from_config."
                         % (name, ", ".join(sorted(layer_classes())),
                            " nor among the custom objects (%s)" % ", ".join(custom) if custom else "", name,
                            name if isinstance(name, str) else "YourClass"))
    return cls


def serialize(layer):
    """`{'class_name': ..., 'config': layer.get_config()}`."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """A new layer (or model) from `{'class_name': ..., 'config': ...}` (Keras 1.2's
    layer_from_config, Keras 2's layers.deserialize)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("A layer config is a dict with 'class_name' and 'config', got %s" % (_short(config),))
    with custom_object_scope(custom_objects):
        cls = get_class(config["class_name"])
        inner = config.get("config", {})
        if not isinstance(inner, (dict, list)):
            raise ValueError("The config of a %s layer must be a dict, got %s" % (config["class_name"], _short(inner)))
        try:
            return cls.from_config(inner)
        except TypeError as e:
            raise ValueError("Cannot make a %s layer from its config %s: %s"
                             % (config["class_name"], _short(inner), e)) from e


def config_value(v):
    """A layer attribute as a config value, as Keras 1.2 writes it."""
    from ..graph.layer import Layer
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return tuple(config_value(x) for x in v)
    if isinstance(v, list):
        return [config_value(x) for x in v]
    if isinstance(v, dict):
        return {k: config_value(x) for k, x in v.items()}
    if isinstance(v, Layer):
        return serialize(v)
    if isinstance(v, regularizers.Regularizer):
        return regularizers.serialize(v)
    if isinstance(v, constraints.Constraint):
        return constraints.serialize(v)
    if isinstance(v, initializers.Initializer) or any(v is o for o in initializers._BY_NAME.values()):
        return initializers.serialize(v)
    if hasattr(v, "get_config"):
        return {"class_name": type(v).__name__, "config": v.get_config()}
    if callable(v) and getattr(v, "__name__", "<lambda>") != "<lambda>":
        return v.__name__  # an activation or initializer function: found again by name
    return v  # code (a lambda): dumps refuses it, naming the layer


def _short(v, n=200):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def check_data_only(config, where="the config"):
    """Raises ValueError when the config holds anything but JSON data, naming the layer."""
    if isinstance(config, dict):
        here = where
        inner = config.get("config")
        if "class_name" in config and isinstance(inner, dict) and "name" in inner:
            here = "layer %r (%s)" % (inner["name"], config["class_name"])
        elif "class_name" in config and "name" in config:
            here = "layer %r (%s)" % (config["name"], config["class_name"])
        for k, v in config.items():
            if not isinstance(k, str):
                raise ValueError("%s: config key %r is not a string" % (here, k))
            _check_value(v, here, k)
    elif isinstance(config, (list, tuple)):
        for v in config:
            check_data_only(v, where)


def _check_value(v, where, key):
    if v is None or isinstance(v, (bool, int, float, str)):
        return
    if isinstance(v, (dict, list, tuple)):
        check_data_only(v, where)
        return
    if callable(v):
        raise ValueError("Cannot save %s: its %r is Python code (%s), and kiln never writes code into a config or "
                         "model file (so loading one never runs any). A Lambda's function is saved as the ops it "
                         "builds; this is not a Lambda's function (a callable merge mode?): write it as a Lambda on "
                         "the list of inputs, or rebuild the model in code and restore its weights with save_weights "
                         "/ load_weights." % (where, key, getattr(v, "__name__", type(v).__name__)))
    raise ValueError("Cannot save %s: its %r holds a %s, which is not JSON data" % (where, key, type(v).__name__))


def dumps(config, **kwargs):
    """JSON text of a config, refusing code (see check_data_only)."""
    check_data_only(config)
    return json.dumps(config, **kwargs)
