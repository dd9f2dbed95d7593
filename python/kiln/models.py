"""kiln.models: Model (the functional API), Sequential, and models from configs and files."""
from .engine.training import Model  # noqa: F401
from .engine.sequential import Sequential  # noqa: F401,E402
from .saving.model_config import model_from_config, model_from_json, model_from_yaml  # noqa: F401,E402
from .saving.model_file import load_model, save_model  # noqa: F401,E402
