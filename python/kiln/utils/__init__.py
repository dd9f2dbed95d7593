"""Small pure-Python helpers (Keras' ``keras.utils``): progress bar, label encoding."""
from .generic_utils import Progbar
from .np_utils import to_categorical

__all__ = ["Progbar", "to_categorical"]
