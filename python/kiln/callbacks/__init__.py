"""Training callbacks with the Keras API (see base.py for how they meet the native loop)."""
from .base import Callback, CallbackList  # noqa: F401
from .checkpoint import ModelCheckpoint  # noqa: F401
from .control import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN  # noqa: F401
from .logging import BaseLogger, CSVLogger, History, LambdaCallback, ProgbarLogger  # noqa: F401
from .remote import RemoteMonitor, TensorBoard  # noqa: F401

__all__ = [
    "Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger",
    "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
    "LambdaCallback", "TerminateOnNaN", "ModelCheckpoint", "RemoteMonitor", "TensorBoard",
]
