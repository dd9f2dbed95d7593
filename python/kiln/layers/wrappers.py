"""TimeDistributed: applies a layer, or a whole model, to every timestep of its input.

Lowered as one batched call: the time axis is folded into the batch (`merge_batch`: [?, T, ...]
-> [?*T, ...]), the wrapped layer runs once on all batch x time rows with its own weights,
and `split_batch` restores [?, T, ...]. No Python loop over time, and every op inside sees the
sample layout it was written for (axes keep their meaning).
"""
from .. import backend as K
from ..graph.container import Container
from ..graph.layer import InputSpec, Layer


class TimeDistributed(Layer):
    """Example: `TimeDistributed(Dense(8))(Input(shape=(20, 16)))` has shape (None, 20, 8)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError("TimeDistributed wraps a layer or a model, got %r" % (layer,))
        self.layer = layer
        self.input_spec = [InputSpec(min_ndim=3)]

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError("TimeDistributed %s needs an input of rank >= 3 (batch, time, ...), got %s"
                             % (self.name, input_shape))
        if input_shape[1] is None:
            raise ValueError("TimeDistributed %s needs a known number of timesteps, got input shape %s"
                             % (self.name, input_shape))
        inner = (input_shape[0],) + tuple(input_shape[2:])
        if not self.layer.built:
            self.layer.build(inner)
            self.layer.built = True
        self.built = True

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @trainable_weights.setter
    def trainable_weights(self, value):
        pass

    @property
    def non_trainable_weights(self):
        w = self.layer.non_trainable_weights
        return w if self.trainable else self.layer.trainable_weights + w

    @non_trainable_weights.setter
    def non_trainable_weights(self, value):
        pass

    def call(self, x, mask=None):
        steps = x.shape[1]
        flat = K.merge_batch(x)
        if isinstance(self.layer, Container):
            out = self.layer.run_internal_graph([flat])[0]
        else:
            self.layer.assert_input_compatibility([flat])
            out = self.layer.call(flat)
        return K.split_batch(out, steps)

    def get_config(self):
        c = {"layer": {"class_name": self.layer.__class__.__name__, "config": self.layer.get_config()}}
        c.update(super().get_config())
        return c
