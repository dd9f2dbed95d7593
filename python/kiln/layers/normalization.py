"""BatchNormalization (Keras 1.2, modes 0, 1 and 2).

- mode 0: feature-wise, batch statistics while training, moving averages otherwise. The moving
  averages are updated by `assign` nodes of the train program, so they move once per training
  step, natively, like every other piece of state.
- mode 2: feature-wise with the batch's statistics in training and in test alike. As in Keras
  1.2.2's code, no moving averages are updated (running_mean / running_std keep their values).
- mode 1: sample-wise: each sample over its last axis, `(x - m) / (sqrt(var + eps) + eps)`
  (Keras 1.2's double epsilon), then gamma and beta; the same in training and test.

Without a stated `axis`, the features of modes 0 and 2 are the channels of the input's layout
(axis 1 of a 'th' image, backend/image_layout.py), else the last axis, as Keras' default; mode 1
(which Keras meant for 2D input) keeps the last axis."""
from .. import backend as K, initializers, regularizers
from ..backend import image_layout
from ..backend.normalization import broadcastable
from ..graph.layer import Layer


class BatchNormalization(Layer):
    """Normalizes over every axis but `axis`: `(x - mean) / sqrt(var + epsilon) * gamma + beta`.

    Weights: gamma, beta (trainable), running_mean, running_std (which, as in Keras 1.2, holds the
    moving *variance*). Moving averages: `running = running * momentum + batch * (1 - momentum)`.
    """
    config_keys = ("epsilon", "mode", "axis", "momentum", "gamma_regularizer", "beta_regularizer", "beta_init",
                   "gamma_init")
    mode = 0
    MODES = (0, 1, 2)

    def __init__(self, epsilon=1e-3, mode=0, axis=None, momentum=0.99, weights=None, beta_init="zero",
                 gamma_init="one", gamma_regularizer=None, beta_regularizer=None, beta_initializer=None,
                 gamma_initializer=None, **kwargs):
        if mode not in self.MODES:
            raise ValueError("BatchNormalization: mode must be 0, 1 or 2 (Keras 1.2), got %r" % (mode,))
        super().__init__(weights=weights, **kwargs)
        self.mode = int(mode)
        self.epsilon = float(epsilon)
        self._axis_stated = axis is not None
        self.axis = -1 if axis is None else int(axis)
        self.momentum = float(momentum)
        self.beta_init = initializers.get(beta_initializer if beta_initializer is not None else beta_init)
        self.gamma_init = initializers.get(gamma_initializer if gamma_initializer is not None else gamma_init)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.uses_learning_phase = True
        self.supports_masking = True

    def __call__(self, x, mask=None, **kwargs):
        if not self.built and not self._axis_stated and self.mode != 1 and image_layout.layout_of(x) == "th":
            self.axis = 1  # the channels of a channels-first image
        return super().__call__(x, mask, **kwargs)

    def build(self, input_shape):
        if not isinstance(self.axis, int) or not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError("Layer %s: axis %r is not an axis of its input of shape %s"
                             % (self.name, self.axis, tuple(input_shape)))
        axis = self.axis % len(input_shape)
        n = input_shape[axis]
        if n is None:
            raise ValueError("Layer %s: axis %d of its input must be known, got %s" % (self.name, self.axis,
                                                                                      input_shape))
        self._axis = axis
        self.gamma = self.add_weight((n,), self.gamma_init, "gamma", regularizer=self.gamma_regularizer)
        self.beta = self.add_weight((n,), self.beta_init, "beta", regularizer=self.beta_regularizer)
        self.running_mean = self.add_weight((n,), "zero", "running_mean", trainable=False)
        self.running_std = self.add_weight((n,), "one", "running_std", trainable=False)
        self.built = True

    def call(self, x, mask=None):
        ndim = len(x.shape)
        b = lambda v: broadcastable(v, ndim, [self._axis % ndim])
        if self.mode == 1:
            m = K.mean(x, axis=-1, keepdims=True)
            std = K.sqrt(K.var(x, axis=-1, keepdims=True) + self.epsilon)
            return b(self.gamma) * ((x - m) / (std + self.epsilon)) + b(self.beta)
        axes = [a for a in range(ndim) if a != self._axis]
        train, mean, var = K.normalize_batch_in_training(x, self.gamma, self.beta, axes, self.epsilon)
        if self.mode == 2:
            return train
        test = K.batch_normalization(x, b(self.running_mean), b(self.running_std), b(self.beta), b(self.gamma),
                                     self.epsilon)
        self.add_update([K.moving_average_update(self.running_mean, mean, self.momentum),
                         K.moving_average_update(self.running_std, var, self.momentum)])
        return K.in_train_phase(train, test)
