"""Keras 1.2's `keras.objectives`: the losses, under their Keras 1 module name (one implementation,
in kiln.losses)."""
from .losses import *  # noqa: F401,F403
from .losses import get  # noqa: F401
