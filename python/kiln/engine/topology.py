"""Keras 1.2's `keras.engine.topology` names, re-exported from where kiln defines them (the
standard import of a custom layer: `from kiln.engine.topology import Layer`)."""
from ..graph.container import Container  # noqa: F401
from ..graph.input_layer import Input, InputLayer  # noqa: F401
from ..graph.layer import InputSpec, Layer, to_list  # noqa: F401
from ..graph.node import Node  # noqa: F401
from ..layers.merge import Merge, merge  # noqa: F401


def object_list_uid(object_list):
    """Keras 1.2's key for a list of objects (tensors): their ids, joined by ', '."""
    return ", ".join(str(abs(id(x))) for x in to_list(object_list))


def get_source_inputs(tensor, layer=None, node_index=None):
    """The input tensors (of InputLayers) that `tensor` is computed from, in order of first
    appearance, as Keras 1.2's engine.topology.get_source_inputs."""
    if not hasattr(tensor, "_keras_history") or tensor._keras_history is None:
        raise ValueError("get_source_inputs: %r was not made by a layer" % (tensor,))
    if layer is None or node_index is None:
        layer, node_index, _ = tensor._keras_history
    node = layer.inbound_nodes[node_index]
    if not node.inbound_layers:
        return list(node.input_tensors)
    out = []
    for t, l, n in zip(node.input_tensors, node.inbound_layers, node.node_indices):
        for s in get_source_inputs(t, l, n):
            if not any(s is o for o in out):
                out.append(s)
    return out
