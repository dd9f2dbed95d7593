"""Weight and activity regularizers (Keras 1.2): penalties added to the training loss.

A weight regularizer gives `l1 * sum(|W|) + l2 * sum(W^2)` for its weight; an activity
regularizer the same over a layer's output, summed over the whole batch (Keras 1). A model's
`losses` collects them and `compile` adds them to the total loss.
"""
import numpy as np

from . import backend as K


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self):
        """Keras 1.2's layout: the class name under 'name', beside the arguments."""
        return {"name": self.__class__.__name__}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2Regularizer(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x):
        terms = []
        if self.l1:
            terms.append(K.sum(K.abs(x)) * self.l1)
        if self.l2:
            terms.append(K.sum(K.square(x)) * self.l2)
        if not terms:
            return K.constant(0.0)
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out

    def get_config(self):
        return {"name": self.__class__.__name__, "l1": self.l1, "l2": self.l2}


WeightRegularizer = ActivityRegularizer = L1L2 = L1L2Regularizer


class EigenvalueRegularizer(Regularizer):
    """Keras 1.2: k times the square root of the dominant eigenvalue of W^T W (W a matrix), the
    eigenvector approximated by nine steps of the power method from ones."""

    def __init__(self, k):
        self.k = float(k)

    def __call__(self, x):
        if len(x.shape) != 2:
            raise ValueError("EigenvalueRegularizer is only available for tensors of rank 2.")
        covariance = K.dot(K.transpose(x), x)
        v = K.dot(covariance, K.constant(np.ones((x.shape[1], 1), np.float32)))
        for _ in range(8):
            v = K.dot(covariance, v)
        eigenvalue = K.dot(K.transpose(K.dot(covariance, v)), v) / K.dot(K.transpose(v), v)
        return K.sum(K.sqrt(eigenvalue) * self.k)

    def get_config(self):
        return {"name": self.__class__.__name__, "k": self.k}


def l1(l=0.01):
    return L1L2Regularizer(l1=l)


def l2(l=0.01):
    return L1L2Regularizer(l2=l)


def l1l2(l1=0.01, l2=0.01):
    return L1L2Regularizer(l1=l1, l2=l2)


l1_l2 = l1l2
activity_l1, activity_l2, activity_l1l2 = l1, l2, l1l2

_BY_NAME = {"l1": l1, "l2": l2, "l1l2": l1l2, "l1_l2": l1l2, "activity_l1": l1, "activity_l2": l2,
            "activity_l1l2": l1l2}


_CLASSES = {"Regularizer": Regularizer, "L1L2Regularizer": L1L2Regularizer, "WeightRegularizer": L1L2Regularizer,
            "ActivityRegularizer": L1L2Regularizer, "L1L2": L1L2Regularizer,
            "EigenvalueRegularizer": EigenvalueRegularizer}


def serialize(regularizer):
    """A regularizer as a config value: its get_config() dict ({'name': 'L1L2Regularizer', 'l1':
    ..., 'l2': ...}, as Keras 1.2), or a function's name; None stays None."""
    if regularizer is None:
        return None
    if isinstance(regularizer, Regularizer) or hasattr(regularizer, "get_config"):
        return regularizer.get_config()
    return getattr(regularizer, "__name__", type(regularizer).__name__)


def get(identifier):
    from .utils.custom_objects import lookup
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier) and \
            not isinstance(identifier, str):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        if name is None and "class_name" in config:  # Keras 2: {class_name, config}
            name, config = config["class_name"], dict(config.get("config") or {})
        cls = lookup(name) or _CLASSES.get(name)
        if cls is None:
            raise ValueError("Unknown regularizer: %r (kiln has %s; pass your own in custom_objects)"
                             % (name, ", ".join(sorted(_CLASSES))))
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    custom = lookup(identifier)
    if custom is not None:
        return custom() if isinstance(custom, type) else custom
    if identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError("Invalid regularizer: %r (accepted: %s)" % (identifier, ", ".join(sorted(_BY_NAME))))


def deserialize(config, custom_objects=None):
    """Keras 2: the regularizer a config describes ({class_name, config} or Keras 1.2's {name})."""
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, config, custom_objects)
