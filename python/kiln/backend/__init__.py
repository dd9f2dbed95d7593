"""kiln.backend, imported as K: symbolic ops that build IR, and access to variable values.

    from kiln import backend as K
    y = K.mean(K.square(a - b), axis=-1)   # records ops; compiled later, never run here
"""
from .ops import *  # noqa: F401,F403
from .ops import abs, max, min, pow, round, sum  # noqa: F401  (names shadowing builtins)
from .shape_ops import *  # noqa: F401,F403
from .rnn import rnn  # noqa: F401
from .functions import eval, function, gradients, update, update_add, update_sub  # noqa: F401
from .tensor import PhaseSwitch, Placeholder, Tensor  # noqa: F401
from .variables import Variable, store  # noqa: F401

_uids = {}


def backend():
    return "kiln"


def get_uid(prefix=""):
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def reset_uids():
    _uids.clear()


def clear_session():
    reset_uids()


_image_dim_ordering = "tf"  # Keras 1.1+ default ('th' before 1.0.8: the guide's images are (3, 256, 256))


def image_dim_ordering():
    """'tf' (channels last, the default) or 'th' (channels first), for layers whose
    dim_ordering / data_format is left at 'default'."""
    return _image_dim_ordering


def set_image_dim_ordering(ordering):
    global _image_dim_ordering
    if ordering not in ("tf", "th"):
        raise ValueError("Unknown dim_ordering: %r (expected 'tf' or 'th')" % (ordering,))
    _image_dim_ordering = ordering


def image_data_format():
    return "channels_last" if _image_dim_ordering == "tf" else "channels_first"


def set_image_data_format(data_format):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Unknown data_format: %r" % (data_format,))
    set_image_dim_ordering("tf" if data_format == "channels_last" else "th")


def is_keras_tensor(x):
    return isinstance(x, Tensor) and getattr(x, "_keras_history", None) is not None
