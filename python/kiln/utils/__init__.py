"""Small pure-Python helpers (Keras' ``keras.utils``): progress bar, label encoding."""
from .generic_utils import Progbar
from .np_utils import to_categorical
from .custom_objects import CustomObjectScope, custom_object_scope, get_custom_objects

__all__ = ["Progbar", "to_categorical", "CustomObjectScope", "custom_object_scope", "get_custom_objects"]
