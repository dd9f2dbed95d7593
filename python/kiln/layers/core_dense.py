"""Highway and MaxoutDense: the two dense layers of Keras 1.2's `layers.core` beside Dense (Keras 2
dropped both), re-exported from core.py. Keras 1.2's arguments, defaults, config keys and weight
order; compositions of K.dot, elementwise ops and a max.
"""
import warnings

from .. import activations, backend as K, constraints, initializers, regularizers
from ..graph.layer import InputSpec, Layer


class _Dense2D(Layer):
    """What the two share: a 2D input, Keras 1.2's weight arguments and the input_dim shortcut."""
    config_keys = ("init", "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint",
                   "bias", "input_dim")

    def __init__(self, init="glorot_uniform", weights=None, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True, input_dim=None, **kwargs):
        self.W_constraint, self.b_constraint = constraints.get(W_constraint), constraints.get(b_constraint)
        if input_dim is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(weights=weights, **kwargs)
        self.init = initializers.get(init)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.bias = bias
        self.input_dim = input_dim
        self.input_spec = [InputSpec(ndim=2)]

    def _input_dim(self, input_shape):
        if input_shape[1] is None:
            raise ValueError("Layer %s: the last dimension of its input must be known, got %s"
                             % (self.name, input_shape))
        self.input_spec = [InputSpec(ndim=2, axes={-1: input_shape[1]})]
        return input_shape[1]


class Highway(_Dense2D):
    """Densely connected highway layer: `t * activation(x W + b) + (1 - t) * x`, with the transform
    gate `t = sigmoid(x W_carry + b_carry)`; the output has the input's size.

    `Highway(init='glorot_uniform', activation=None, W_regularizer, b_regularizer,
    activity_regularizer, bias=True, input_dim=None)`. Weights `[W, W_carry, b, b_carry]`
    (input_dim x input_dim each, then input_dim each); b starts at 0, b_carry at 1. The
    regularizers apply to W and b only, as Keras 1.2's. `transform_bias` (deprecated in Keras
    1.2.2: b_carry starts at 1, whatever it is given) is accepted, with Keras 1.2.2's warning,
    and ignored.
    """
    config_keys = ("init", "activation") + _Dense2D.config_keys[1:]

    def __init__(self, init="glorot_uniform", activation=None, weights=None, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True, input_dim=None,
                 transform_bias=None, **kwargs):
        if transform_bias is not None:
            warnings.warn("`transform_bias` argument is deprecated and will be removed after 5/2017.")
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape):
        n = self._input_dim(input_shape)
        self.W = self.add_weight((n, n), initializer=self.init, name="W", regularizer=self.W_regularizer)
        self.W_carry = self.add_weight((n, n), initializer=self.init, name="W_carry")
        if self.bias:
            self.b = self.add_weight((n,), initializer="zero", name="b", regularizer=self.b_regularizer)
            self.b_carry = self.add_weight((n,), initializer="one", name="b_carry")
        else:
            self.b = self.b_carry = None
        self.built = True

    def call(self, x, mask=None):
        carry, h = K.dot(x, self.W_carry), K.dot(x, self.W)
        if self.bias:
            carry, h = carry + self.b_carry, h + self.b
        transform = K.sigmoid(carry)
        return self.activation(h) * transform + (1.0 - transform) * x


class MaxoutDense(_Dense2D):
    """The elementwise max of `nb_feature` linear Dense layers: `max_k (x W[k] + b[k])` (no
    activation: the max is the nonlinearity).

    `MaxoutDense(output_dim, nb_feature=4, init='glorot_uniform', W_regularizer, b_regularizer,
    activity_regularizer, bias=True, input_dim=None)`. Weights `[W (nb_feature, input_dim,
    output_dim), b (nb_feature, output_dim)]`.
    """
    config_keys = ("output_dim", "init", "nb_feature") + _Dense2D.config_keys[1:]

    def __init__(self, output_dim, nb_feature=4, init="glorot_uniform", weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 input_dim=None, **kwargs):
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.output_dim, self.nb_feature = int(output_dim), int(nb_feature)

    def build(self, input_shape):
        n = self._input_dim(input_shape)
        self.W = self.add_weight((self.nb_feature, n, self.output_dim), initializer=self.init, name="W",
                                 regularizer=self.W_regularizer)
        self.b = self.add_weight((self.nb_feature, self.output_dim), initializer="zero", name="b",
                                 regularizer=self.b_regularizer) if self.bias else None
        self.built = True

    def call(self, x, mask=None):
        y = K.dot(x, self.W)  # (batch, nb_feature, output_dim)
        return K.max(y + self.b if self.bias else y, axis=1)
