"""Keras 1.2's `keras.utils.layer_utils`: `layer_from_config` (one registry of layer classes:
kiln/layers/serialization.py), the summary table, parameter counts, and converting a model's conv
kernels between Theano and TensorFlow conventions. The table itself is engine/summary.py's (the
one `model.summary()` prints)."""
import numpy as np

from ..engine.summary import print_summary as _print_model_summary
from ..layers.serialization import deserialize, get_class, layer_classes  # noqa: F401
from .np_utils import convert_kernel

__all__ = ["layer_from_config", "print_summary", "count_total_params", "convert_all_kernels_in_model"]


def layer_from_config(config, custom_objects=None):
    """A layer or model from `{'class_name': ..., 'config': ...}`."""
    return deserialize(config, custom_objects=custom_objects)


class _Layers:
    """A list of layers seen as a model by the summary: all their nodes, all their weights."""

    def __init__(self, layers, relevant_nodes):
        self.layers = list(layers)
        self.container_nodes = set(
            relevant_nodes if relevant_nodes is not None else
            ("%s_ib-%d" % (l.name, i) for l in self.layers for i in range(len(l.inbound_nodes))))
        self.weights = _unique(w for l in self.layers for w in l.weights)
        self.trainable_weights = _unique(w for l in self.layers for w in l.trainable_weights)


def _unique(weights):
    out, seen = [], set()
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def print_summary(layers, relevant_nodes=None, line_length=100, positions=None, print_fn=print):
    """Prints the summary table of a model (Keras 2: `print_summary(model)`) or of a list of
    layers (Keras 1.2: `print_summary(model.layers, relevant_nodes)`, where `relevant_nodes`
    names the nodes to list as `'<layer>_ib-<index>'`; default all)."""
    target = layers if hasattr(layers, "container_nodes") else _Layers(layers, relevant_nodes)
    _print_model_summary(target, line_length=line_length, positions=positions, print_fn=print_fn)


def count_total_params(layers, layer_set=None):
    """Keras 1.2: (trainable, non-trainable) parameter counts of a list of layers, each weight
    counted once even when layers share it."""
    layers = list(layers)
    trainable = _unique(w for l in layers for w in l.trainable_weights)
    non_trainable = _unique(w for l in layers for w in l.non_trainable_weights)
    size = lambda ws: int(sum(int(np.prod(w.shape)) for w in ws))
    return size(trainable), size(non_trainable)


def convert_all_kernels_in_model(model):
    """Flips the spatial axes of every conv kernel in `model`, in place (Theano-trained weights
    to TensorFlow's cross-correlation, or back); see np_utils.convert_kernel."""
    from ..layers.convolutional import Convolution2D

    for layer in model.layers:
        if isinstance(layer, Convolution2D):
            weights = layer.get_weights()
            weights[0] = convert_kernel(weights[0], layer.dim_ordering)
            layer.set_weights(weights)
