"""Optimizers with Keras 1.2 defaults. An optimizer holds hyper-parameters and two persistent
scalars, `lr` and `iterations` (kiln variables: `K.set_value(opt.lr, x)` takes effect at the
next step). The update itself is an IR op the native core appends to the train graph, one per
parameter (apply_sgd, apply_adam, ...); see docs/optimizers.md for the formulas."""
import weakref

from . import backend as K
from .backend.variables import stores


def _release_state(prefix):
    for store in stores():
        for key in store.names():
            if key.startswith(prefix):
                store.remove(key)


class Optimizer:
    kind = None
    defaults = {}

    def __init__(self, **kwargs):
        hyper = dict(self.defaults)
        for k, v in kwargs.items():
            if k == "learning_rate":
                k = "lr"
            if k not in hyper and k not in ("clipnorm", "clipvalue"):
                raise TypeError("Unexpected keyword argument passed to optimizer: " + str(k))
            hyper[k] = v
        # The name prefixes this optimizer's state in the Store (lr, iterations, one slot set per
        # parameter), so it must be unused there; the state goes when the optimizer goes.
        while True:
            self.name = "%s_%d" % (self.kind, K.get_uid("optimizer_" + self.kind))
            if not any(k.startswith(self.name + ".") for store in stores() for k in store.names()):
                break
        weakref.finalize(self, _release_state, self.name + ".")
        self.lr = K.Variable(float(hyper.pop("lr")), name=self.name + ".lr", trainable=False, key=self.name + ".lr")
        self.iterations = K.Variable(0.0, name=self.name + ".iterations", trainable=False,
                                     key=self.name + ".iterations")
        self.hyper = {k: float(v) for k, v in hyper.items()}

    @property
    def learning_rate(self):
        return self.lr

    def spec(self):
        """(optimizer name, hyper-parameters with the current lr, state prefix) for the core."""
        h = dict(self.hyper)
        h["lr"] = float(K.get_value(self.lr))
        return self.kind, h, self.name

    def get_config(self):
        """Keras 1.2's config: the current lr and the hyper-parameters (booleans as booleans)."""
        c = {k: (bool(v) if isinstance(self.defaults.get(k), bool) else v) for k, v in self.hyper.items()}
        c["lr"] = float(K.get_value(self.lr))
        return c

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SGD(Optimizer):
    kind = "sgd"
    defaults = {"lr": 0.01, "momentum": 0.0, "decay": 0.0, "nesterov": False}


class RMSprop(Optimizer):
    kind = "rmsprop"
    defaults = {"lr": 0.001, "rho": 0.9, "epsilon": 1e-8, "decay": 0.0}


class Adagrad(Optimizer):
    kind = "adagrad"
    defaults = {"lr": 0.01, "epsilon": 1e-8, "decay": 0.0}


class Adadelta(Optimizer):
    kind = "adadelta"
    defaults = {"lr": 1.0, "rho": 0.95, "epsilon": 1e-8, "decay": 0.0}


class Adam(Optimizer):
    kind = "adam"
    defaults = {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "decay": 0.0}


class Adamax(Optimizer):
    kind = "adamax"
    defaults = {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "decay": 0.0}


class Nadam(Optimizer):
    kind = "nadam"
    defaults = {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "schedule_decay": 0.004}


sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam
_BY_NAME = {c.kind: c for c in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)}


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def get(identifier):
    """An optimizer from an instance, a name ('adam'), or a {class_name, config} dict (the
    class name matched case-insensitively, as Keras 1.2's optimizer_from_config)."""
    from .utils.custom_objects import lookup
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict) and "class_name" in identifier:
        name = identifier["class_name"]
        cls = lookup(name) or (_BY_NAME.get(name.lower()) if isinstance(name, str) else None)
        if cls is None:
            raise ValueError("Unknown optimizer class: %r (kiln has %s; pass your own in custom_objects)"
                             % (name, ", ".join(c.__name__ for c in _BY_NAME.values())))
        return cls.from_config(dict(identifier.get("config") or {}))
    custom = lookup(identifier)
    if custom is not None:
        return custom() if isinstance(custom, type) else custom
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError("Invalid optimizer: %r (accepted: an Optimizer or one of %s)"
                     % (identifier, ", ".join(sorted(_BY_NAME))))


def optimizer_from_config(config, custom_objects=None):
    """Keras 1.2: the optimizer of a {class_name, config} dict (class name in any case)."""
    return deserialize(config, custom_objects)


def deserialize(config, custom_objects=None):
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, config, custom_objects)


def clip_norm(g, c, n):
    """Keras 1.2: the gradient g scaled by c / n when the norm n is at least c (c > 0). kiln's
    `clipnorm=` clips inside the native train step; this is the same rule as K ops."""
    return K.switch(n >= c, g * c / n, g) if c > 0 else g
