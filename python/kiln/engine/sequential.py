"""Sequential: a linear stack of layers, as a Model whose graph grows with each `add`."""
import warnings

from .. import backend as K
from ..graph.container import Container
from ..graph.input_layer import Input, InputLayer
from ..graph.layer import Layer, to_list
from .training import Model


class Sequential(Model):
    """`Sequential([Dense(64, input_dim=784), Activation('relu'), Dense(10)])`, or `add()` one
    layer at a time; the first layer needs `input_shape`, `input_dim` or `batch_input_shape`."""

    def __init__(self, layers=None, name=None):
        Layer.__init__(self, name=name)
        self.inputs, self.outputs, self.layers = [], [], []
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._programs = {}
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. Found: %r" % (layer,))
        from ..layers.merge import Merge, layer_outputs
        from .topology import get_source_inputs
        first_merge = not self.outputs and isinstance(layer, Merge) and getattr(layer, "layers", None)
        if first_merge:  # Keras 1's Merge([seq_a, seq_b]): already applied; its Inputs are the model's
            out = list(layer.inbound_nodes[0].output_tensors)
            inputs = get_source_inputs(out[0])
        elif not self.outputs and isinstance(layer, Container):  # a model first: on Inputs shaped as its own
            out = layer_outputs([layer])
            inputs = get_source_inputs(out[0])
        elif not self.outputs:
            shape = getattr(layer, "batch_input_shape", None)
            if shape is None:
                raise ValueError("The first layer in a Sequential model must get an `input_shape` or "
                                 "`batch_input_shape` argument.")
            prefix = type(layer).__name__.lower() + "_input_"  # Keras 1: dense_input_1
            x = Input(batch_shape=shape, dtype=getattr(layer, "input_dtype", "float32"),
                      name=prefix + str(K.get_uid(prefix)))
            inputs = [x]
            out = to_list(layer(x))
        else:
            inputs = self.inputs
            out = to_list(layer(self.outputs[0]))
        if len(out) != 1:
            raise TypeError("All layers in a Sequential model should have a single output tensor. For multi-output "
                            "layers, use the functional API.")
        self._set_graph(inputs, out)
        if first_merge:
            self._first_merge = layer
        self.layers = [l for l in self.layers if not isinstance(l, InputLayer)]  # Keras: added layers only
        self._programs = {}

    def pop(self):
        """Removes the last layer: the model's output becomes that layer's input."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        out = self.outputs[0]
        layer, node_index, _ = out._keras_history
        if len(self.layers) == 1 or layer is self._first_merge:
            self.inputs, self.outputs, self.layers = [], [], []
            self._first_merge = None
        else:
            self._set_graph(self.inputs, [layer.inbound_nodes[node_index].input_tensors[0]])
            self.layers = [l for l in self.layers if not isinstance(l, InputLayer)]
        self._programs = {}

    _first_merge = None  # a Merge(layers=[...]) added first: its models come before it in self.layers

    @property
    def model(self):
        """Keras 1.2's inner Model: in kiln the Sequential is that Model itself."""
        return self

    def build(self, input_shape=None):
        """Keras 1.2's `model.build()`: the graph is built as layers are added."""
        if not self.outputs:
            raise TypeError("Sequential model cannot be built: model is empty. Add some layers first.")
        self.built = True

    def predict_proba(self, x, batch_size=32, verbose=1):
        """predict(), with a warning when a value is outside [0, 1] (Keras 1.2)."""
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0. or preds.max() > 1.:
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).")
        return preds

    def predict_classes(self, x, batch_size=32, verbose=1):
        """The argmax over the last axis, or (proba > 0.5) as int32 for one column (Keras 1.2)."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def _after_merge(self):
        """The layers added after a first Merge of models (self.layers has the models first)."""
        merge = self._first_merge
        return [l for l in self.layers if l is not merge and not any(l is m for m in merge.layers)]

    @property
    def flattened_layers(self):
        """Keras 1.2's list for weight files: self.layers, but in place of the models of a first
        Merge, their layers (a Sequential's flattened_layers, a Model's layers), each once."""
        merge = self._first_merge
        if merge is None:
            return list(self.layers)
        out = []
        for m in merge.layers:
            subs = m.flattened_layers if hasattr(m, "flattened_layers") else getattr(m, "layers", [m])
            out += [l for l in subs if not any(l is o for o in out)]
        return out + [merge] + self._after_merge()

    def get_config(self):
        """Keras 1.2's layout: the list of the layers' {class_name, config}, the first with its
        batch_input_shape; a first Merge of models holds their configs under 'layers'."""
        from ..layers.serialization import serialize
        merge = self._first_merge
        if merge is None:
            return [serialize(layer) for layer in self.layers]
        first = serialize(merge)
        first["config"]["layers"] = [serialize(m) for m in merge.layers]
        return [first] + [serialize(layer) for layer in self._after_merge()]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """From Keras 1.2's list of layer configs, or Keras 2.2's {'name', 'layers'}."""
        from ..layers.serialization import deserialize
        from ..utils.custom_objects import custom_object_scope
        name = None
        if isinstance(config, dict):
            name, config = config.get("name"), config.get("layers")
        if not isinstance(config, list):
            raise ValueError("Invalid Sequential config: expected a list of layer configs, got %r" % (config,))
        with custom_object_scope(custom_objects):
            model = cls(name=name)
            for layer_config in config:
                model.add(deserialize(layer_config))
        return model
