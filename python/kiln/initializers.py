"""Weight initializers (Keras 2's `keras.initializers`), by Keras 1 name (`init='glorot_uniform'`)
or Keras 2 object (`kernel_initializer=VarianceScaling(2.0)`, `glorot_uniform(seed=1)`); Keras
1.2's functions, which make variables, are kiln.initializations. Values are drawn by the native
core; the seed comes from NumPy's global generator unless given, so `np.random.seed(n)` makes
runs repeatable."""
import numpy as np

from . import _core


def _seed(seed):
    return int(seed) if seed is not None else int(np.random.randint(0, 2**31 - 1))


class Initializer:
    """Base class: `init(shape) -> np.ndarray` (float32)."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _Native(Initializer):
    kind = None

    def __init__(self, seed=None, scale=0.0):
        self.seed = seed
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return _core.initialize(self.kind, list(shape), _seed(self.seed), float(self.scale))

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, np.float32)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, np.float32)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def get_config(self):
        return {"value": self.value}

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, np.float32)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}

    def __call__(self, shape, dtype=None):
        half = (self.maxval - self.minval) / 2.0
        u = _core.initialize("uniform", list(shape), _seed(self.seed), half)
        return (u + np.float32(self.minval + half)).astype(np.float32)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}

    def __call__(self, shape, dtype=None):
        return (_core.initialize("normal", list(shape), _seed(self.seed), self.stddev) + np.float32(self.mean)).astype(
            np.float32)


class GlorotUniform(_Native):
    kind = "glorot_uniform"


class GlorotNormal(_Native):
    kind = "glorot_normal"


class HeUniform(_Native):
    kind = "he_uniform"


class HeNormal(_Native):
    kind = "he_normal"


class LecunUniform(_Native):
    kind = "lecun_uniform"


class Orthogonal(_Native):
    """Keras 1's `orthogonal` has gain 1.1; Keras 2's `Orthogonal()` has gain 1.0."""
    kind = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed, gain)

    def get_config(self):
        return {"gain": self.scale, "seed": self.seed}


class Identity(_Native):
    kind = "identity"

    def __init__(self, gain=1.0):
        super().__init__(0, gain)

    def get_config(self):
        return {"gain": self.scale}


class TruncatedNormal(RandomNormal):
    """Keras 2: N(mean, stddev^2) with every value more than two stddev from the mean drawn again."""

    def __call__(self, shape, dtype=None):
        out = np.empty(int(np.prod(shape, dtype=np.int64)), np.float32)
        todo, seed = np.arange(out.size), _seed(self.seed)
        while todo.size:  # each pass redraws the rejected values from the next seed
            draw = _core.initialize("normal", [int(todo.size)], seed, 1.0)
            keep = np.abs(draw) <= 2.0
            out[todo[keep]] = draw[keep]
            todo, seed = todo[~keep], seed + 1
        return (out.reshape(shape) * np.float32(self.stddev) + np.float32(self.mean)).astype(np.float32)


def fans(shape, channels_first=False):
    """(fan_in, fan_out) of a weight shape, as Keras 2 counts them: (in, out) for a matrix, input
    and output channels times the receptive field for a 2D or 3D kernel, sqrt(size) otherwise."""
    shape = tuple(shape)
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (4, 5):
        if channels_first:
            field = float(np.prod(shape[2:]))
            return shape[1] * field, shape[0] * field
        field = float(np.prod(shape[:-2]))
        return shape[-2] * field, shape[-1] * field
    n = np.sqrt(float(np.prod(shape)))
    return n, n


class VarianceScaling(Initializer):
    """Keras 2: values of variance `scale / n`, n the fan in, out or their mean (`mode`), drawn
    from a truncated normal or a uniform (`distribution`); what Keras 2's glorot_uniform() and
    the other fan-scaled initializers return, and what a Keras 2 config names."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError("`scale` must be a positive float. Got: %s" % (scale,))
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError("Invalid `mode` argument: expected one of {'fan_in', 'fan_out', 'fan_avg'} but got %s"
                             % (mode,))
        if distribution not in ("normal", "uniform"):
            raise ValueError("Invalid `distribution` argument: expected one of {'normal', 'uniform'} but got %s"
                             % (distribution,))
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "normal":
            return TruncatedNormal(0.0, np.sqrt(variance), self.seed)(shape)
        limit = np.sqrt(3.0 * variance)
        return RandomUniform(-limit, limit, self.seed)(shape)


# Keras 2's lower-case names: the classes, and functions of a seed returning a VarianceScaling.
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal


def _scaling(name, scale, mode, distribution):
    def make(seed=None):
        return VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=seed)
    make.__name__ = name
    make.__doc__ = "Keras 2: VarianceScaling(scale=%s, mode=%r, distribution=%r, seed=seed)." % (
        scale, mode, distribution)
    return make


lecun_uniform = _scaling("lecun_uniform", 1.0, "fan_in", "uniform")
lecun_normal = _scaling("lecun_normal", 1.0, "fan_in", "normal")
glorot_uniform = _scaling("glorot_uniform", 1.0, "fan_avg", "uniform")
glorot_normal = _scaling("glorot_normal", 1.0, "fan_avg", "normal")
he_uniform = _scaling("he_uniform", 2.0, "fan_in", "uniform")
he_normal = _scaling("he_normal", 2.0, "fan_in", "normal")


def _named(kind, scale=0.0):
    def init(shape, name=None, dtype=None, seed=None):
        return _core.initialize(kind, list(shape), _seed(seed), scale)
    init.__name__ = kind
    return init


# A name in a layer's arguments or a Keras 1 config ('glorot_uniform') means what it means in
# Keras 1.2 (orthogonal's gain is 1.1): one array function each, drawn by the native core.
_zero, _one = Zeros(), Ones()
_BY_NAME = {
    "zero": _zero, "zeros": _zero, "one": _one, "ones": _one,
    "random_uniform": RandomUniform(), "random_normal": RandomNormal(),
}
_BY_NAME.update((kind, _named(kind, scale)) for kind, scale in (
    ("uniform", 0.05), ("normal", 0.05), ("glorot_uniform", 0.0), ("glorot_normal", 0.0), ("he_uniform", 0.0),
    ("he_normal", 0.0), ("lecun_uniform", 0.0), ("orthogonal", 1.1), ("identity", 1.0)))
_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal,
                                    VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
                                    Orthogonal, Identity)}


def serialize(init):
    """Keras 1.2 writes an initializer as its name ('glorot_uniform'); an Initializer object
    that is not one of the named ones becomes {class_name, config} (Keras 2), and any other
    callable its __name__ (found again through custom_objects)."""
    for name, obj in _BY_NAME.items():
        if obj is init:
            return name
    if isinstance(init, Initializer):
        return {"class_name": type(init).__name__, "config": init.get_config()}
    return getattr(init, "__name__", None) or type(init).__name__


def get(identifier):
    """An initializer from a name, a {class_name, config} dict, an Initializer object or any
    callable `f(shape)`."""
    from .utils.custom_objects import lookup
    if identifier is None:
        return Zeros()
    if isinstance(identifier, dict) and "class_name" in identifier:
        name = identifier["class_name"]
        cls = lookup(name) or _CLASSES.get(name)
        if cls is None:
            raise ValueError("Unknown initializer class: %s (kiln has %s; pass your own in custom_objects)"
                             % (name, ", ".join(sorted(_CLASSES))))
        return cls.from_config(dict(identifier.get("config") or {})) if hasattr(cls, "from_config") \
            else cls(**(identifier.get("config") or {}))
    if isinstance(identifier, str):
        custom = lookup(identifier)
        if custom is not None:
            return custom() if isinstance(custom, type) else custom
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError("Invalid initialization: %s (accepted: %s)" % (identifier, ", ".join(sorted(_BY_NAME))))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()  # Keras 2's lower-case names are classes: `init=initializers.zeros`
    if getattr(identifier, "__module__", None) == "kiln.initializations" and identifier.__name__ in _BY_NAME:
        return _BY_NAME[identifier.__name__]  # a Keras 1 function (it makes a variable): its array twin
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret initializer identifier: %r" % (identifier,))


def deserialize(config, custom_objects=None):
    """Keras 2: the initializer a config (a name or {class_name, config}) describes."""
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, config, custom_objects)
