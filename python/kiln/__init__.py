"""kiln: the Keras functional API, compiled.

    from kiln.layers import Input, Dense
    from kiln.models import Model
    x = Input(shape=(784,)); y = Dense(10, activation='softmax')(x)
    model = Model(input=x, output=y)

Models lower to a text IR that the native runtime verifies, optimizes and executes.
"""
try:
    from . import _core
except ImportError as e:  # editable layouts: let scipy_openblas32 load libscipy_openblas first
    if "openblas" not in str(e):
        raise
    import scipy_openblas32  # noqa: F401
    from . import _core

__version__ = "0.1.0"

from . import backend  # noqa: E402,F401
from . import activations, constraints, initializations, initializers, losses, metrics, objectives  # noqa: E402,F401
from . import optimizers, regularizers  # noqa: E402,F401
from . import layers, models  # noqa: E402,F401
from .layers import Input  # noqa: E402,F401
from .models import Model  # noqa: E402,F401
from .device import devices, get_device, set_device  # noqa: E402,F401
from .saving.bundle import load_bundle  # noqa: E402,F401


def set_num_threads(n):
    """Threads for kiln's kernels (OpenMP) and its BLAS."""
    _core.set_num_threads(int(n))


def get_num_threads():
    return _core.get_num_threads()


def build_info():
    """What this build has: BLAS library, OpenMP, CUDA."""
    return dict(_core.build_info())


def cuda_status():
    """'cuda: ...' when a GPU is usable, else 'no CUDA device: <reason>'. Never raises."""
    return _core.cuda_status()
