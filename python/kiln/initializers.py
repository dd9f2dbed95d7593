"""Weight initializers, by Keras 1 name (`init='glorot_uniform'`) or Keras 2 object
(`kernel_initializer=GlorotUniform(seed=1)`). Values are drawn by the native core; the seed
comes from NumPy's global generator unless given, so `np.random.seed(n)` makes runs repeatable."""
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


def _named(kind, scale=0.0):
    def init(shape, name=None, dtype=None, seed=None):
        return _core.initialize(kind, list(shape), _seed(seed), scale)
    init.__name__ = kind
    return init


# Keras 1 function names (and their Keras 2 lower-case aliases).
zero = zeros = Zeros()
one = ones = Ones()
uniform = _named("uniform", 0.05)
normal = _named("normal", 0.05)
glorot_uniform = _named("glorot_uniform")
glorot_normal = _named("glorot_normal")
he_uniform = _named("he_uniform")
he_normal = _named("he_normal")
lecun_uniform = _named("lecun_uniform")
orthogonal = _named("orthogonal", 1.1)
identity = _named("identity", 1.0)
random_uniform = RandomUniform()
random_normal = RandomNormal()

_BY_NAME = {
    "zero": zero, "zeros": zeros, "one": one, "ones": ones, "uniform": uniform, "normal": normal,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal, "he_uniform": he_uniform,
    "he_normal": he_normal, "lecun_uniform": lecun_uniform, "orthogonal": orthogonal, "identity": identity,
    "random_uniform": random_uniform, "random_normal": random_normal,
}
_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomUniform, RandomNormal, GlorotUniform, GlorotNormal,
                                    HeUniform, HeNormal, LecunUniform, Orthogonal, Identity)}


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
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret initializer identifier: %r" % (identifier,))
