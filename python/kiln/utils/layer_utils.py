"""Keras 1.2's `keras.utils.layer_utils`: `layer_from_config` (one registry of layer classes:
kiln/layers/serialization.py) and `print_summary`."""
from ..engine.summary import print_summary  # noqa: F401
from ..layers.serialization import deserialize, get_class, layer_classes  # noqa: F401


def layer_from_config(config, custom_objects=None):
    """A layer or model from `{'class_name': ..., 'config': ...}`."""
    return deserialize(config, custom_objects=custom_objects)
