"""kiln.backend, imported as K: symbolic ops that build IR, and access to variable values.

    from kiln import backend as K
    y = K.mean(K.square(a - b), axis=-1)   # records ops; compiled later, never run here
"""
from .ops import *  # noqa: F401,F403
from .ops import abs, all, any, max, min, pow, round, sum  # noqa: F401  (names shadowing builtins)
from .shape_ops import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .values import *  # noqa: F401,F403
from .rnn import rnn  # noqa: F401
from .folds import cumprod, cumsum, foldl, foldr, map_fn  # noqa: F401
from .ctc import ctc_batch_cost, ctc_decode  # noqa: F401
from .random_ops import random_binomial, random_normal, random_uniform, stop_gradient  # noqa: F401
from .functions import eval, function, gradients, update, update_add, update_sub  # noqa: F401
from .tensor import PhaseSwitch, Placeholder, Tensor  # noqa: F401
from .variables import Variable, store  # noqa: F401

_uids = {}
_BACKEND = "kiln"  # Keras 1.2's module attribute, read by code that branches on the backend


def backend():
    return _BACKEND


def get_uid(prefix=""):
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def reset_uids():
    _uids.clear()


def clear_session():
    reset_uids()


# Image layout: Keras 1's image_dim_ordering() and Keras 2's image_data_format() (rule in
# image_layout.py and docs/guide.md).
from .image_layout import (image_data_format, image_dim_ordering, set_image_data_format,  # noqa: E402,F401
                           set_image_dim_ordering)


def is_keras_tensor(x):
    return isinstance(x, Tensor) and getattr(x, "_keras_history", None) is not None


def is_sparse(tensor):
    """kiln tensors are dense (an `Input(sparse=True)` is fed dense arrays)."""
    return False


def to_dense(tensor):
    return tensor


def legacy_weight_ordering():
    """Keras 1.2's flag for ordering a model's layers by name; kiln keeps Keras 1.2's default
    (False), the traversal order."""
    return False


def set_legacy_weight_ordering(value):
    if value:
        raise ValueError("kiln orders a model's layers as Keras 1.2 does by default; the legacy ordering by name "
                         "(set_legacy_weight_ordering(True)) is not supported")
