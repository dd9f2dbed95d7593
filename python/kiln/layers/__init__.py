"""Layers, in Keras 1 and Keras 2 spellings."""
from ..graph.input_layer import Input, InputLayer  # noqa: F401
from ..graph.layer import InputSpec, Layer  # noqa: F401
from .core import Activation, Dense, Dropout  # noqa: F401
