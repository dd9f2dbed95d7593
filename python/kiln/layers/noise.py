"""Noise layers (Keras 1.2 `keras.layers.noise`): active at train time only, the identity at
test time. The noise is drawn afresh at every training step by the native random_normal op;
without a `seed`, one is drawn from NumPy's global generator when the layer is made and kept in
its config, as Dropout does (np.random.seed makes runs repeatable)."""
import numpy as np

from .. import backend as K
from ..backend.random_ops import random_normal_like
from ..graph.layer import Layer
from .core import call_seed


class _Noise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed) if seed is not None else int(np.random.randint(0, 2**31 - 1))
        self._calls = 0
        self.supports_masking = True
        self.uses_learning_phase = True

    def _next_seed(self):
        seed = self.seed if self._calls == 0 else call_seed(self.seed, self._calls)
        self._calls += 1
        return seed


class GaussianNoise(_Noise):
    """Adds zero-centred normal noise of standard deviation `sigma` (Keras 2: `stddev`)."""
    config_keys = ("sigma", "seed")

    def __init__(self, sigma=None, stddev=None, **kwargs):
        sigma = stddev if stddev is not None else sigma
        if sigma is None:
            raise TypeError("GaussianNoise needs a standard deviation (sigma= or stddev=)")
        self.sigma = float(sigma)
        super().__init__(**kwargs)

    @property
    def stddev(self):
        return self.sigma

    def call(self, x, mask=None):
        return K.in_train_phase(x + random_normal_like(x, 0.0, self.sigma, self._next_seed()), x)


class GaussianDropout(_Noise):
    """Multiplies by normal noise of mean 1 and standard deviation sqrt(p / (1 - p)) (Keras 2: `rate`)."""
    config_keys = ("p", "seed")

    def __init__(self, p=None, rate=None, **kwargs):
        p = rate if rate is not None else p
        if p is None:
            raise TypeError("GaussianDropout needs a rate (p= or rate=)")
        if not 0.0 <= float(p) < 1.0:
            raise ValueError("GaussianDropout: p must be in [0, 1), got %r" % (p,))
        self.p = float(p)
        super().__init__(**kwargs)

    @property
    def rate(self):
        return self.p

    def call(self, x, mask=None):
        if self.p == 0.0:
            return x
        std = float(np.sqrt(self.p / (1.0 - self.p)))
        return K.in_train_phase(x * random_normal_like(x, 1.0, std, self._next_seed()), x)
