"""Wrappers, on Keras 1.2's base class Wrapper. TimeDistributed: applies a layer, or a whole
model, to every timestep of its input. Bidirectional: runs a recurrent layer forwards and a copy
of it backwards, and merges the two.

Lowered as one batched call: the time axis is folded into the batch (`merge_batch`: [?, T, ...]
-> [?*T, ...]), the wrapped layer runs once on all batch x time rows with its own weights,
and `split_batch` restores [?, T, ...]. No Python loop over time, and every op inside sees the
sample layout it was written for (axes keep their meaning).
"""
from .. import backend as K
from ..graph.container import Container
from ..graph.layer import InputSpec, Layer


class Wrapper(Layer):
    """Keras 1.2's base of a layer that wraps another (`self.layer`): the weights are the wrapped
    layer's, `build` builds it on the input shape when it is not built yet, and the config holds
    it as {class_name, config}. Subclass it for a wrapper of your own."""

    config_keys = ("layer",)  # {class_name, config}: a layer or a whole model

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError("%s wraps a layer or a model, got %r" % (type(self).__name__, layer))
        self.layer = layer
        super().__init__(**kwargs)

    def build(self, input_shape=None):
        if not self.layer.built and input_shape is not None:
            self.layer.build(input_shape)
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

    def _wrapped_layers(self):
        return [self.layer]

    # The wrapped layers' penalties and updates are the wrapper's too, so that a model, which
    # sees the wrapper only, trains with them (TimeDistributed(Dense(W_regularizer=...)),
    # TimeDistributed(BatchNormalization())).
    @property
    def losses(self):
        out = list(self._losses)
        for layer in self._wrapped_layers():
            out += [l for l in layer.losses if not any(l is o for o in out)]
        return out

    @losses.setter
    def losses(self, value):
        self._losses = list(value)

    @property
    def updates(self):
        out = list(self._updates)
        for layer in self._wrapped_layers():
            out += [u for u in layer.updates if not any(u is o for o in out)]
        return out

    @updates.setter
    def updates(self, value):
        self._updates = list(value)

    @classmethod
    def from_config(cls, config):
        from .serialization import deserialize
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Example: `TimeDistributed(Dense(8))(Input(shape=(20, 16)))` has shape (None, 20, 8)."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.input_spec = [InputSpec(min_ndim=3)]
        self.supports_masking = True  # a timestep mask passes through: each step is mapped alone

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError("TimeDistributed %s needs an input of rank >= 3 (batch, time, ...), got %s"
                             % (self.name, input_shape))
        super().build((input_shape[0],) + tuple(input_shape[2:]))

    def call(self, x, mask=None):
        steps = x.shape[1] if x.shape[1] is not None else x  # x gives a dynamic time axis (?t)
        flat = K.merge_batch(x)
        if isinstance(self.layer, Container):
            out = self.layer.run_internal_graph([flat])[0]
        else:
            self.layer.assert_input_compatibility([flat])
            out = self.layer.call(flat)
        return K.split_batch(out, steps)


class Bidirectional(Wrapper):
    """`Bidirectional(LSTM(64), merge_mode='concat')` (Keras 2): the layer reads the sequence
    forwards, a copy of it (same arguments, `go_backwards` flipped; its own weights) backwards,
    and the results are merged by `merge_mode`: 'concat' (default), 'sum', 'mul', 'ave', or None
    for the list of both. With `return_sequences` the backward sequence is reversed back, so step
    t of both halves reads the same timestep. Weights: the forward layer's, then the backward's."""

    MODES = ("sum", "mul", "ave", "concat", None)

    def __init__(self, layer, merge_mode="concat", weights=None, **kwargs):
        if merge_mode not in self.MODES:
            raise ValueError('Invalid merge mode. Merge mode should be one of {"sum", "mul", "ave", "concat", None}')
        if not hasattr(layer, "go_backwards") or not hasattr(layer, "return_sequences"):
            raise TypeError("Bidirectional wraps a recurrent layer (SimpleRNN, GRU, LSTM), got %r" % (layer,))
        super().__init__(layer, **kwargs)
        args, kw = layer._init_args
        kw = dict(kw, go_backwards=not layer.go_backwards, name="backward_" + layer.name)
        self.forward_layer = layer
        self.backward_layer = type(layer)(*args, **kw)
        self._layer_name = layer.name  # the config holds the layer as it was given
        layer.name = "forward_" + layer.name
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.supports_masking = True
        self._initial_weights = weights

    def _wrapped_layers(self):
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        for l in (self.forward_layer, self.backward_layer):
            if not l.built:
                l.build(input_shape)
                l.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @trainable_weights.setter
    def trainable_weights(self, value):
        pass

    @property
    def non_trainable_weights(self):
        w = self.forward_layer.non_trainable_weights + self.backward_layer.non_trainable_weights
        if not self.trainable:
            w = self.forward_layer.trainable_weights + self.backward_layer.trainable_weights + w
        return w

    @non_trainable_weights.setter
    def non_trainable_weights(self, value):
        pass

    def compute_mask(self, x, mask=None):
        m = mask if self.return_sequences else None
        return [m, m] if self.merge_mode is None else m

    def call(self, x, mask=None):
        y = self.forward_layer.call(x, mask)
        y_rev = self.backward_layer.call(x, mask)
        if self.return_sequences:
            y_rev = K.reverse(y_rev, 1)
        if self.merge_mode == "concat":
            return K.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * 0.5
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def get_config(self):
        c = super().get_config()
        layer = self.forward_layer.get_config()
        layer["name"] = self._layer_name
        c.update(layer={"class_name": type(self.forward_layer).__name__, "config": layer}, merge_mode=self.merge_mode)
        return c
