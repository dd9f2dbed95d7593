"""The Layer base class: weights, building on first call, and node bookkeeping.

A layer's `call(x)` is written with `kiln.backend` ops on symbolic tensors. Calling the layer
builds it (creating its weights from the input shape), records a Node, and returns tensors
whose shapes the native core inferred. Keras 1.2's names, properties and messages are kept
(see ../shared/reference/keras1-api.md, section 2).
"""
import inspect

import numpy as np

from .. import backend as K
from .. import constraints, initializers, regularizers
from ..backend.tensor import Tensor, _ids
from ..lower import name_new_tensors
from ..utils.generic_utils import has_arg
from .node import Node

_ALLOWED_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "input_dtype", "dtype", "name", "trainable",
                   "weights", "input_dim", "input_length"}


# A weight above this many elements (16 GiB of float32) is refused before anything is allocated.
MAX_WEIGHT_ELEMENTS = 1 << 32


class LayerNodeError(AttributeError, AssertionError):
    """A layer property that is ill-defined because the layer has several inbound nodes (or
    none). Keras 1.2 raises AttributeError (so `hasattr(layer, 'output')` is False for a shared
    layer) while the guide shows AssertionError: this is both, so either `except` works."""


def to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def unpack(xs):
    return xs[0] if len(xs) == 1 else xs


def initial_value(init, shape, name):
    """init(shape) as an array. Keras 1.2 calls `init(shape, name=name)` and gets a variable: a
    function with a `name` parameter gets the weight's name, and a variable gives its value."""
    value = init(shape, name=name) if has_arg(init, "name") else init(shape)
    return value.get_value() if isinstance(value, K.Variable) else value


class InputSpec:
    """What a layer accepts: dtype, full shape (None = any) or ndim ('2+' = at least 2)."""

    def __init__(self, dtype=None, shape=None, ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = shape
        self.axes = axes or {}  # {axis: required size}, e.g. {-1: 784}
        self.ndim = len(shape) if shape is not None else ndim
        if isinstance(ndim, str) and ndim.endswith("+"):
            min_ndim, self.ndim = int(ndim[:-1]), None
        self.min_ndim = min_ndim


class Layer:
    """Base class of every layer (Keras 1 `Layer`)."""

    def __new__(cls, *args, **kwargs):
        # The constructor's arguments, so that a wrapper can make a twin of a layer
        # (Bidirectional's backward copy) without each layer listing its own.
        obj = super().__new__(cls)
        obj._init_args = (args, dict(kwargs))
        return obj

    def __init__(self, **kwargs):
        for k in kwargs:
            if k not in _ALLOWED_KWARGS:
                raise TypeError("Keyword argument not understood:", k)
        self.inbound_nodes = []
        self.outbound_nodes = []
        self._trainable_weights = []
        self._non_trainable_weights = []
        self.constraints = {}
        self._losses = []
        self._updates = []
        self.input_spec = None
        self.supports_masking = False
        self.uses_learning_phase = False
        self.built = False
        self._trainable = kwargs.get("trainable", True)
        name = kwargs.get("name")
        if not name:
            prefix = self.__class__.__name__.lower()
            name = prefix + "_" + str(K.get_uid(prefix))
        self.name = name
        if "input_shape" in kwargs or "batch_input_shape" in kwargs:
            if "batch_input_shape" in kwargs:
                self.batch_input_shape = tuple(kwargs["batch_input_shape"])
            else:
                self.batch_input_shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        self.input_dtype = kwargs.get("input_dtype", kwargs.get("dtype", "float32"))
        self.initial_weights = kwargs.get("weights")

    # Weights.
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    # A layer's weights are created trainable or not; `layer.trainable = False` freezes them all.
    # Models read these lists when compiled, as Keras does (toggle, then recompile).
    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @trainable_weights.setter
    def trainable_weights(self, weights):  # Keras 1 style: `self.trainable_weights = [W, b]` in build
        self._trainable_weights = list(weights)

    @property
    def non_trainable_weights(self):
        frozen = [] if self.trainable else list(self._trainable_weights)
        return frozen + list(self._non_trainable_weights)

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = list(weights)

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    def add_weight(self, shape, initializer="glorot_uniform", name=None, trainable=True, regularizer=None,
                   constraint=None):
        """Creates a weight variable named `<layer>_<name>` (Keras 1: `dense_1_W`)."""
        if isinstance(shape, str) and not isinstance(initializer, str):  # Keras 2 order: (name, shape, ...)
            shape, name = initializer, shape
            initializer = "glorot_uniform"
        shape = tuple(int(d) for d in shape)
        if constraint is None:  # Keras 1.2's attribute for the weight: W_constraint for W, b_constraint for b
            constraint = getattr(self, "%s_constraint" % name, None)
        if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.float64)) > MAX_WEIGHT_ELEMENTS:
            raise ValueError("%s: weight %r of shape %s is not one kiln makes (negative, or more than 2^32 elements)"
                             % (self.name, name, shape))
        full_name = "%s_%s" % (self.name, name)
        value = initial_value(initializers.get(initializer), shape, full_name)
        v = K.Variable(value, name=full_name, trainable=trainable)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(v)
        if regularizer is not None:
            self.add_loss(regularizers.get(regularizer)(v))
        if constraint is not None:
            self.constraints[v] = constraints.get(constraint)
        return v

    # The layer's penalties and (variable, value) updates; Keras 1 layers also assign or append
    # to these lists themselves (`self.updates = [...]` in build).
    @property
    def losses(self):
        return self._losses

    @losses.setter
    def losses(self, value):
        self._losses = list(value)

    @property
    def updates(self):
        return self._updates

    @updates.setter
    def updates(self, value):
        self._updates = list(value)

    def add_update(self, updates, inputs=None):
        """Adds (variable, new value) pairs that the train program assigns after each step (e.g.
        BatchNormalization's moving averages). `inputs` says which call's they are (Keras 1.2's
        get_updates_for); None for updates that do not depend on the inputs."""
        updates = updates if isinstance(updates, list) else [updates]
        self._updates.extend(updates)
        self._conditional("_updates_by_inputs", inputs).extend(updates)

    def add_loss(self, losses, inputs=None):
        """Adds scalar penalty tensors (a regularizer's) that models add to their training loss;
        `inputs` as for add_update."""
        losses = list(losses) if isinstance(losses, (list, tuple)) else [losses]
        self._losses.extend(losses)
        self._conditional("_losses_by_inputs", inputs).extend(losses)

    def _conditional(self, attr, inputs):
        if not hasattr(self, attr):
            setattr(self, attr, {})
        key = None if inputs is None else tuple(id(x) for x in to_list(inputs))
        return getattr(self, attr).setdefault(key, [])

    def get_updates_for(self, inputs):
        """The updates added with these inputs (None: those added without inputs)."""
        return list(self._conditional("_updates_by_inputs", inputs))

    def get_losses_for(self, inputs):
        """The losses added with these inputs (None: those added without inputs)."""
        return list(self._conditional("_losses_by_inputs", inputs))

    def get_weights(self):
        return [w.get_value().copy() if np.ndim(w.get_value()) else np.array(w.get_value()) for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError("You called `set_weights(weights)` on layer \"%s\" with a  weight list of length %d, "
                             "but the layer was expecting %d weights. Provided weights: %s..."
                             % (self.name, len(weights), len(params), str(weights)[:50]))
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape) != w.shape:
                raise ValueError("Layer weight shape %s not compatible with provided weight shape %s"
                                 % (tuple(p.shape), w.shape))
        for p, w in zip(params, weights):
            p.set_value(w)

    def count_params(self):
        if not self.built:
            raise RuntimeError("You tried to call `count_params` on %s, but the layer isn't built. "
                               "You can build it manually via: `%s.build(batch_input_shape)`." % (self.name, self.name))
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # To override.
    def build(self, input_shape):
        self.built = True

    def call(self, x, mask=None):
        return x

    def compute_mask(self, x, mask=None):
        """The mask of the output: by default the input's, passed through (layers that support
        masking) or none."""
        return mask if self.supports_masking else None

    def get_output_shape_for(self, input_shape):
        """The output shape for an input shape, found by tracing `call` on placeholders."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        phs = [K.placeholder(shape=tuple(s)) for s in shapes]
        out = self.call(unpack(phs))
        return unpack([tuple(o.shape) for o in to_list(out)])

    def compute_output_shape(self, input_shape):
        return self.get_output_shape_for(input_shape)

    # Calling.
    def assert_input_compatibility(self, inputs):
        if self.input_spec is None:
            return
        specs = to_list(self.input_spec)
        if len(specs) != len(inputs):
            raise ValueError("Layer %s expects %d inputs, but it received %d input tensors."
                             % (self.name, len(specs), len(inputs)))
        for i, (spec, x) in enumerate(zip(specs, inputs)):
            if spec is None:
                continue
            nd = len(x.shape)
            if spec.ndim is not None and nd != spec.ndim:
                raise ValueError("Input %d is incompatible with layer %s: expected ndim=%d, found ndim=%d"
                                 % (i, self.name, spec.ndim, nd))
            if spec.min_ndim is not None and nd < spec.min_ndim:
                raise ValueError("Input %d is incompatible with layer %s: expected ndim >= %d, found ndim=%d"
                                 % (i, self.name, spec.min_ndim, nd))
            for axis, size in spec.axes.items():
                if -nd <= axis < nd and x.shape[axis] is not None and x.shape[axis] != size:
                    raise ValueError("Input %d is incompatible with layer %s: expected axis %d of input shape to have "
                                     "value %d but got shape %s" % (i, self.name, axis, size, tuple(x.shape)))
            if spec.shape is not None:
                for want, got in zip(spec.shape, x.shape):
                    if want is not None and got is not None and want != got:
                        raise ValueError("Input %d is incompatible with layer %s: expected shape=%s, found shape=%s"
                                         % (i, self.name, spec.shape, tuple(x.shape)))

    def __call__(self, x, mask=None, **kwargs):
        inputs = to_list(x)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError("Layer %s was called with an input that isn't a symbolic tensor. Received type: %s. "
                                "Full input: %r. All inputs to the layer should be tensors (the output of `Input()` "
                                "or of another layer)." % (self.name, type(t), x))
        self.assert_input_compatibility(inputs)
        if not self.built:
            shapes = [tuple(t.shape) for t in inputs]
            self.build(unpack(shapes))
            self.built = True
            if self.initial_weights is not None:
                self.set_weights(self.initial_weights)
                self.initial_weights = None
        if mask is None:
            masks = [getattr(t, "_keras_mask", None) for t in inputs]
            mask = None if all(m is None for m in masks) else unpack(masks)
        if mask is not None and not self.supports_masking:
            raise ValueError("Layer %s does not support masking, but was passed an input_mask: %r"
                             % (self.name, mask))
        first_id = next(_ids)
        call_args = inspect.signature(self.call).parameters
        if "mask" in call_args and mask is not None:
            kwargs["mask"] = mask
        out = self.call(unpack(inputs), **kwargs)
        if out is None:
            raise TypeError('The `call` method of layer "%s" should return a tensor. Found: None' % self.name)
        outputs = to_list(out)
        for o in outputs:
            if not isinstance(o, Tensor):
                raise TypeError("The `call` method of layer %s returned %r, which is not a kiln tensor"
                                % (self.name, o))
        connected = all(getattr(t, "_keras_history", None) is not None for t in inputs)
        if connected:  # a layer that passes a tensor through still gets an output of its own
            outputs = [o if o.id >= first_id else K.identity(o) for o in outputs]
        out_masks = to_list(self.compute_mask(unpack(inputs), mask))
        for o, m in zip(outputs, out_masks * len(outputs) if len(out_masks) == 1 else out_masks):
            o._keras_mask = m
        name_new_tensors(outputs, first_id, self.name)
        if connected:
            self._add_inbound_node(inputs, outputs, kwargs, mask, out_masks)
        if getattr(self, "activity_regularizer", None) is not None:
            for o in outputs:
                self.add_loss(self.activity_regularizer(o))
        return unpack(outputs)

    def _add_inbound_node(self, inputs, outputs, arguments=None, mask=None, out_masks=None):
        layers, node_idx, tensor_idx = [], [], []
        for t in inputs:
            layer, n, i = t._keras_history
            layers.append(layer)
            node_idx.append(n)
            tensor_idx.append(i)
        in_masks = [None] * len(inputs) if mask is None else to_list(mask)
        out_masks = [o._keras_mask for o in outputs] if out_masks is not None else [None] * len(outputs)
        Node(self, layers, node_idx, tensor_idx, inputs, outputs, in_masks, out_masks,
             [tuple(t.shape) for t in inputs], [tuple(o.shape) for o in outputs], arguments)
        index = len(self.inbound_nodes) - 1
        for i, o in enumerate(outputs):
            o._keras_history = (self, index, i)
            o._keras_shape = tuple(o.shape)
            o._uses_learning_phase = o._uses_learning_phase or self.uses_learning_phase

    # Node accessors (Keras 1 names and messages).
    def _node_attr(self, index, attr, what):
        if not self.inbound_nodes:
            raise RuntimeError("The layer has never been called and thus has no defined %s." % what)
        if not -len(self.inbound_nodes) <= index < len(self.inbound_nodes):
            raise ValueError("Asked to get %s at node %d, but the layer has only %d inbound nodes."
                             % (what, index, len(self.inbound_nodes)))
        return unpack(getattr(self.inbound_nodes[index], attr))

    def get_input_at(self, node_index):
        return self._node_attr(node_index, "input_tensors", "input")

    def get_output_at(self, node_index):
        return self._node_attr(node_index, "output_tensors", "output")

    def get_input_shape_at(self, node_index):
        return self._node_attr(node_index, "input_shapes", "input shape")

    def get_output_shape_at(self, node_index):
        return self._node_attr(node_index, "output_shapes", "output shape")

    def get_input_mask_at(self, node_index):
        return self._node_attr(node_index, "input_masks", "input mask")

    def get_output_mask_at(self, node_index):
        return self._node_attr(node_index, "output_masks", "output mask")

    def _single_node_attr(self, attr, what, getter):
        if len(self.inbound_nodes) > 1:
            raise LayerNodeError('Layer %s has multiple inbound nodes, hence the notion of "layer %s" is '
                                 "ill-defined. Use `%s(node_index)` instead." % (self.name, what, getter))
        if not self.inbound_nodes:
            raise LayerNodeError("Layer %s is not connected, no %s to return." % (self.name, what))
        return self._node_attr(0, attr, what)

    @property
    def input_mask(self):
        return self._single_node_attr("input_masks", "input mask", "get_input_mask_at")

    @property
    def output_mask(self):
        return self._single_node_attr("output_masks", "output mask", "get_output_mask_at")

    @property
    def input(self):
        if len(self.inbound_nodes) > 1:
            raise LayerNodeError('Layer %s has multiple inbound nodes, hence the notion of "layer input" is '
                                 "ill-defined. Use `get_input_at(node_index)` instead." % self.name)
        if not self.inbound_nodes:
            raise LayerNodeError("Layer %s is not connected, no input to return." % self.name)
        return self.get_input_at(0)

    @property
    def output(self):
        if not self.inbound_nodes:
            raise LayerNodeError("Layer %s has no inbound nodes." % self.name)
        if len(self.inbound_nodes) > 1:
            raise LayerNodeError('Layer %s has multiple inbound nodes, hence the notion of "layer output" is '
                                 "ill-defined. Use `get_output_at(node_index)` instead." % self.name)
        return self.get_output_at(0)

    def _common_shape(self, attr, what, getter):
        if not self.inbound_nodes:
            raise LayerNodeError("The layer has never been called and thus has no defined %s." % what)
        shapes = {str(getattr(n, attr)) for n in self.inbound_nodes}
        if len(shapes) == 1:
            return unpack(getattr(self.inbound_nodes[0], attr))
        raise LayerNodeError('The layer "%s has multiple inbound nodes, with different %ss. Hence the notion of '
                             '"%s" is ill-defined for the layer. Use `%s(node_index)` instead.'
                             % (self.name, what, what, getter))

    @property
    def input_shape(self):
        return self._common_shape("input_shapes", "input shape", "get_input_shape_at")

    @property
    def output_shape(self):
        return self._common_shape("output_shapes", "output shape", "get_output_shape_at")

    # Configs (Keras 1.2 layout). A layer lists the attributes its config holds, each named as
    # its Keras 1.2 constructor argument, so one generic get_config serves every layer and the
    # config is exactly what from_config (cls(**config)) takes back.
    config_keys = ()

    def get_config(self):
        """The layer's config: `name`, `trainable`, `batch_input_shape` and `input_dtype` (when
        the constructor was given an input shape), and the arguments in `config_keys`, with
        objects written as Keras 1.2 does (activations and initializers by name, regularizers as
        dicts)."""
        from ..layers.serialization import config_value
        config = {"name": self.name, "trainable": self.trainable}
        given = self._init_args[1] if hasattr(self, "_init_args") else {}
        # Only a shape the caller gave: one a layer derives (Dense's input_dim, Embedding's
        # input_length) comes back from those arguments, so the config stays a fixed point.
        if hasattr(self, "batch_input_shape") and ("batch_input_shape" in given or "input_shape" in given):
            config["batch_input_shape"] = tuple(self.batch_input_shape)
            config["input_dtype"] = self.input_dtype
        for key in self.config_keys:
            config[key] = config_value(getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config):
        """The layer that get_config describes (Keras: `cls(**config)`); names of custom
        objects are found through `kiln.utils.custom_objects`."""
        return cls(**config)
