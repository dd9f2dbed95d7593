"""Sequential: a linear stack of layers, as a Model whose graph grows with each `add`."""
from .. import backend as K
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
        if not self.outputs:
            shape = getattr(layer, "batch_input_shape", None)
            if shape is None:
                raise ValueError("The first layer in a Sequential model must get an `input_shape` or "
                                 "`batch_input_shape` argument.")
            prefix = type(layer).__name__.lower() + "_input_"  # Keras 1: dense_input_1
            x = Input(batch_shape=shape, dtype=getattr(layer, "input_dtype", "float32"),
                      name=prefix + str(K.get_uid(prefix)))
            inputs = [x]
        else:
            x, inputs = self.outputs[0], self.inputs
        out = to_list(layer(x))
        if len(out) != 1:
            raise TypeError("All layers in a Sequential model should have a single output tensor. For multi-output "
                            "layers, use the functional API.")
        self._set_graph(inputs, out)
        self.layers = [l for l in self.layers if not isinstance(l, InputLayer)]  # Keras: added layers only
        self._programs = {}

    def pop(self):
        """Removes the last layer: the model's output becomes that layer's input."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        out = self.outputs[0]
        layer, node_index, _ = out._keras_history
        if len(self.layers) == 1:
            self.inputs, self.outputs, self.layers = [], [], []
        else:
            self._set_graph(self.inputs, [layer.inbound_nodes[node_index].input_tensors[0]])
            self.layers = [l for l in self.layers if not isinstance(l, InputLayer)]
        self._programs = {}

    def get_config(self):
        """Keras 1.2's layout: the list of the layers' {class_name, config}, the first with its
        batch_input_shape."""
        from ..layers.serialization import serialize
        return [serialize(layer) for layer in self.layers]

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
