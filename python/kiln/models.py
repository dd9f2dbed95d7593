"""kiln.models: Model (the functional API)."""
from .engine.training import Model  # noqa: F401
