"""Keras 1.2/2 `layers.advanced_activations`: LeakyReLU, PReLU, ELU, ThresholdedReLU,
ParametricSoftplus and SReLU, each composed of existing `kiln.backend` ops (no op of its own).

The learned ones (PReLU, ParametricSoftplus, SReLU) hold one parameter per element of the
input's non-batch shape, as Keras 1.2 does, named `<layer>_alphas`, `<layer>_betas`,
`<layer>_t_left` ...; their `shared_axes` (Keras 1.2.1, and Keras 2's PReLU) make the parameters size 1 on those axes.
Every one passes a mask through.
"""
import numpy as np

from .. import backend as K, constraints, initializers, regularizers
from ..graph.layer import Layer


class LeakyReLU(Layer):
    """`x` for x >= 0, `alpha * x` below (Keras 1.2 and 2: `alpha=0.3`)."""
    config_keys = ("alpha",)

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(alpha)

    def call(self, x, mask=None):
        return K.relu(x, alpha=self.alpha)


class ELU(Layer):
    """`x` for x >= 0, `alpha * (exp(x) - 1)` below (`alpha=1.0`)."""
    config_keys = ("alpha",)

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(alpha)

    def call(self, x, mask=None):
        return K.elu(x, self.alpha)


class ThresholdedReLU(Layer):
    """`x` where x > theta, else 0 (`theta=1.0`)."""
    config_keys = ("theta",)

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.theta = float(theta)

    def call(self, x, mask=None):
        return x * K.greater(x, self.theta)


def _param_shape(layer, input_shape):
    """The input's shape without the batch dim, 1 on the layer's shared axes."""
    shape = list(input_shape[1:])
    for ax in layer.shared_axes:
        if not 1 <= ax <= len(shape):
            raise ValueError("Layer %s: shared_axes %s must be axes 1..%d of its input (shape %s)"
                             % (layer.name, list(layer.shared_axes), len(shape), tuple(input_shape)))
        shape[ax - 1] = 1
    if any(d is None for d in shape):
        raise ValueError("Layer %s: its parameters have the input's shape without the batch dim, which must be known "
                         "(got %s); it can share them over an unknown axis with shared_axes="
                         % (layer.name, tuple(input_shape)))
    return tuple(shape)


def _set_shared_axes(layer, shared_axes):
    """Keras 1.2.1's shared_axes (1-based axes sharing one parameter, e.g. [1, 2] for one per
    image channel), in the config when given."""
    if shared_axes is None:
        shared_axes = ()
    layer.shared_axes = tuple(int(a) for a in ([shared_axes] if isinstance(shared_axes, int) else shared_axes))
    if layer.shared_axes:
        layer.config_keys = type(layer).config_keys + ("shared_axes",)


def _filled(value):
    return lambda shape: np.full(shape, value, np.float32)


class PReLU(Layer):
    """Parametric ReLU: `x` for x >= 0, `alphas * x` below, with a learned `alphas` per element of
    the input shape (batch excluded), weight `<layer>_alphas`.

    Args:
        init / alpha_initializer (Keras 2): initializer of alphas (default 'zero').
        alpha_regularizer (Keras 2): regularizer of alphas.
        shared_axes (Keras 2): 1-based axes that share one alpha (e.g. [1, 2] for images, one
            alpha per channel).
    """
    config_keys = ("init",)

    def __init__(self, init="zero", weights=None, alpha_initializer=None, alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(weights=weights, **kwargs)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.supports_masking = True
        self.init = initializers.get(alpha_initializer if alpha_initializer is not None else init)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        _set_shared_axes(self, shared_axes)

    def build(self, input_shape):
        self.alphas = self.add_weight(_param_shape(self, input_shape), initializer=self.init,
                                      name="alphas", regularizer=self.alpha_regularizer,
                                      constraint=self.alpha_constraint)
        self.built = True

    def call(self, x, mask=None):
        return K.relu(x) - self.alphas * K.relu(-x)


class ParametricSoftplus(Layer):
    """`alphas * softplus(betas * x)`, with learned `alphas` and `betas` per element of the input
    shape (weights `<layer>_alphas`, `<layer>_betas`), starting at `alpha_init` and `beta_init`
    (Keras 1.2; Keras 2 dropped this layer); `shared_axes` as PReLU's."""
    config_keys = ("alpha_init", "beta_init")

    def __init__(self, alpha_init=0.2, beta_init=5.0, weights=None, shared_axes=None, **kwargs):
        super().__init__(weights=weights, **kwargs)
        self.supports_masking = True
        _set_shared_axes(self, shared_axes)
        self.alpha_init = float(alpha_init)
        self.beta_init = float(beta_init)

    def build(self, input_shape):
        shape = _param_shape(self, input_shape)
        self.alphas = self.add_weight(shape, initializer=_filled(self.alpha_init), name="alphas")
        self.betas = self.add_weight(shape, initializer=_filled(self.beta_init), name="betas")
        self.built = True

    def call(self, x, mask=None):
        return K.softplus(self.betas * x) * self.alphas


class SReLU(Layer):
    """S-shaped ReLU (Jin et al. 2015), Keras 1.2's: with t_r = t_left + |t_right|,
    `t_left + a_left * (x - t_left)` below t_left, `x` between t_left and t_r, and
    `t_r + a_right * (x - t_r)` above t_r. Four learned parameters per element of the input shape
    (weights `<layer>_t_left`, `_a_left`, `_t_right`, `_a_right`, in that order); `shared_axes`
    as PReLU's."""
    config_keys = ("t_left_init", "a_left_init", "t_right_init", "a_right_init")

    def __init__(self, t_left_init="zero", a_left_init="glorot_uniform", t_right_init="glorot_uniform",
                 a_right_init="one", weights=None, shared_axes=None, **kwargs):
        super().__init__(weights=weights, **kwargs)
        self.supports_masking = True
        _set_shared_axes(self, shared_axes)
        self.t_left_init = initializers.get(t_left_init)
        self.a_left_init = initializers.get(a_left_init)
        self.t_right_init = initializers.get(t_right_init)
        self.a_right_init = initializers.get(a_right_init)

    def build(self, input_shape):
        shape = _param_shape(self, input_shape)
        self.t_left = self.add_weight(shape, initializer=self.t_left_init, name="t_left")
        self.a_left = self.add_weight(shape, initializer=self.a_left_init, name="a_left")
        self.t_right = self.add_weight(shape, initializer=self.t_right_init, name="t_right")
        self.a_right = self.add_weight(shape, initializer=self.a_right_init, name="a_right")
        self.built = True

    def call(self, x, mask=None):
        width = K.abs(self.t_right)  # t_r - t_left, never negative
        shifted = x - self.t_left
        centre = K.minimum(K.relu(shifted), width) - self.a_left * K.relu(-shifted)
        return self.t_left + centre + self.a_right * K.relu(shifted - width)
