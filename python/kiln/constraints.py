"""Weight constraints (Keras 1.2 `keras.constraints`, Keras 2 names too): projections applied to a
weight right after each optimizer update, inside the native train step. A layer given
`W_constraint=maxnorm(2)` (Keras 2: `kernel_constraint=max_norm(2)`) has its weight declared
with the constraint, and the train graph gets an `apply_constraint` op after the weight's update
(ops/constraints.cpp holds the formulas), so an exported train program keeps it.

Calling a constraint on a tensor gives the projected tensor, as in Keras (for use in a model's
own code).

Axes are those of the weight as the layer stores it, which is Keras 1.2's layout: Dense's W is
(input_dim, output_dim); a Convolution2D kernel (rows, cols, channels, filters) for 'tf' and
(filters, channels, rows, cols) for 'th', so Keras' advice (axis=[0, 1, 2] for 'tf', [1, 2, 3]
for 'th') carries over.
"""
from . import backend as K


class Constraint:
    kind = None

    def __call__(self, p):
        return p

    def ir_attrs(self):
        """apply_constraint's attributes for this constraint."""
        return {"kind": self.kind}

    def get_config(self):
        """Keras 1.2's layout: the class name under 'name', beside the arguments."""
        return {"name": self.__class__.__name__}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _axes(axis):
    return [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]


def _norms(p, axis):
    return K.sqrt(K.sum(K.square(p), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Scales each weight vector (over `axis`) down to norm `m` when it is longer."""
    kind = "max_norm"

    def __init__(self, m=2, axis=0, max_value=None):
        self.m = float(m if max_value is None else max_value)
        self.axis = axis

    def __call__(self, p):
        norms = _norms(p, self.axis)
        return p * (K.clip(norms, 0.0, self.m) / (K.epsilon() + norms))

    def ir_attrs(self):
        return {"kind": self.kind, "max_value": self.m, "axes": _axes(self.axis)}

    def get_config(self):
        return {"name": self.__class__.__name__, "m": self.m, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""
    kind = "non_neg"

    def __call__(self, p):
        return p * K.cast(K.greater_equal(p, 0.0), "float32")


class UnitNorm(Constraint):
    """Scales each weight vector (over `axis`) to norm 1."""
    kind = "unit_norm"

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, p):
        return p / (K.epsilon() + _norms(p, self.axis))

    def ir_attrs(self):
        return {"kind": self.kind, "axes": _axes(self.axis)}

    def get_config(self):
        return {"name": self.__class__.__name__, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keras 2: moves each weight vector's norm into [min_value, max_value], by `rate`."""
    kind = "min_max_norm"

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = float(min_value), float(max_value), float(rate), axis

    def __call__(self, p):
        norms = _norms(p, self.axis)
        desired = self.rate * K.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return p * (desired / (K.epsilon() + norms))

    def ir_attrs(self):
        return {"kind": self.kind, "min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axes": _axes(self.axis)}

    def get_config(self):
        return {"name": self.__class__.__name__, "min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


maxnorm = max_norm = MaxNorm
nonneg = non_neg = NonNeg
unitnorm = unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_CLASSES = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
            "MinMaxNorm": MinMaxNorm}
_BY_NAME = {"maxnorm": MaxNorm, "max_norm": MaxNorm, "nonneg": NonNeg, "non_neg": NonNeg, "unitnorm": UnitNorm,
            "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}


def serialize(constraint):
    return None if constraint is None else constraint.get_config()


def get(identifier):
    """A constraint from an instance, a name ('maxnorm', 'max_norm', ...), or a config dict
    (Keras 1.2 {'name': ...} or Keras 2 {'class_name': ..., 'config': ...})."""
    from .utils.custom_objects import lookup
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        if name is None and "class_name" in config:
            name, config = config["class_name"], dict(config.get("config") or {})
        cls = lookup(name) or _CLASSES.get(name) or _BY_NAME.get(name)
        if cls is None:
            raise ValueError("Unknown constraint: %r (kiln has %s; pass your own in custom_objects)"
                             % (name, ", ".join(sorted(_CLASSES))))
        return cls.from_config(config)
    if isinstance(identifier, str):
        cls = lookup(identifier) or _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError("Unknown constraint: %r (kiln has %s)" % (identifier, ", ".join(sorted(_BY_NAME))))
        return cls() if isinstance(cls, type) else cls
    raise ValueError("Could not interpret constraint identifier: %r" % (identifier,))


def deserialize(config, custom_objects=None):
    """Keras 2: the constraint a config describes ({class_name, config} or Keras 1.2's {name})."""
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, config, custom_objects)
