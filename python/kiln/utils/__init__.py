"""Small pure-Python helpers (Keras' ``keras.utils``): progress bar, label encoding, custom
objects by name. Keras 1.2 paths: ``kiln.utils.np_utils``, ``generic_utils``, ``layer_utils``
(not imported here: it reaches the layers, which import this package)."""
from . import generic_utils, np_utils  # noqa: F401
from .custom_objects import CustomObjectScope, custom_object_scope, get_custom_objects
from .generic_utils import Progbar, get_from_module
from .np_utils import convert_kernel, normalize, to_categorical

__all__ = ["Progbar", "to_categorical", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_from_module", "convert_kernel", "normalize"]
