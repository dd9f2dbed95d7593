"""kiln.models: Model (the functional API)."""
from .engine.training import Model  # noqa: F401
from .engine.sequential import Sequential  # noqa: F401,E402
