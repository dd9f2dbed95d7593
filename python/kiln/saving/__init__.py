"""Files: atomic writes and Keras 1.2's HDF5 weight layout (docs/persistence.md)."""
from .atomic import atomic_write  # noqa: F401
from .weights import load_weights, save_weights  # noqa: F401
