"""Keras 1.2's `keras.engine`: `from kiln.engine import Input, Model, merge` and friends, re-exported
from the one implementation."""
from .topology import Input, InputLayer, InputSpec, Layer, Merge, get_source_inputs, merge  # noqa: F401
from .training import Model  # noqa: F401
