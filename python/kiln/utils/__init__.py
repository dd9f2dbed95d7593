"""Small pure-Python helpers (Keras' ``keras.utils``): progress bar, label encoding, the summary
table. Keras 1.2 paths: ``kiln.utils.np_utils``, ``generic_utils``, ``layer_utils``."""
from . import generic_utils, layer_utils, np_utils  # noqa: F401
from .generic_utils import Progbar, get_from_module
from .layer_utils import print_summary
from .np_utils import convert_kernel, normalize, to_categorical

__all__ = ["Progbar", "get_from_module", "print_summary", "convert_kernel", "normalize", "to_categorical"]
