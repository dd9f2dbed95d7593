"""Nodes: the record of one call of a layer.

Calling a layer on tensors adds a Node to the layer's `inbound_nodes`, linking the input
tensors (and the layers and node indices that made them) to the output tensors. Every output
tensor remembers `_keras_history = (layer, node_index, tensor_index)`, so any tensor can be
traced back to the inputs of the graph; a model is the walk from its outputs to its inputs.
"""


class Node:
    """One call of `outbound_layer`. All attributes are lists, as in Keras 1.

    Invariant: input_tensors[i] == inbound_layers[i].inbound_nodes[node_indices[i]]
    .output_tensors[tensor_indices[i]].
    """

    def __init__(self, outbound_layer, inbound_layers, node_indices, tensor_indices,
                 input_tensors, output_tensors, input_masks, output_masks, input_shapes, output_shapes,
                 arguments=None):
        self.outbound_layer = outbound_layer
        self.inbound_layers = list(inbound_layers)
        self.node_indices = list(node_indices)
        self.tensor_indices = list(tensor_indices)
        self.input_tensors = list(input_tensors)
        self.output_tensors = list(output_tensors)
        self.input_masks = list(input_masks)
        self.output_masks = list(output_masks)
        self.input_shapes = list(input_shapes)
        self.output_shapes = list(output_shapes)
        self.arguments = arguments or {}
        for layer in self.inbound_layers:
            if layer is not None:
                layer.outbound_nodes.append(self)
        outbound_layer.inbound_nodes.append(self)

    def get_config(self):
        return {
            "outbound_layer": self.outbound_layer.name,
            "inbound_layers": [l.name for l in self.inbound_layers],
            "node_indices": self.node_indices,
            "tensor_indices": self.tensor_indices,
        }
