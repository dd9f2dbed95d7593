"""Merging several tensors: Keras 1's `merge(mode=...)`/`Merge` and Keras 2's `Add`, `Subtract`,
`Multiply`, `Average`, `Maximum`, `Minimum`, `Concatenate`, `Dot` with their functional forms.
Shapes are checked when the layer is called and errors name every input shape."""
import inspect
import warnings

from .. import backend as K
from ..backend.tensor import Tensor
from ..graph.layer import Layer

_ELEMENTWISE = {"sum", "mul", "ave", "max", "min", "sub"}


def _shapes(inputs):
    return [tuple(t.shape) for t in inputs]


class Merge(Layer):
    """Keras 1 merge layer. `mode` is 'sum', 'mul', 'concat', 'ave', 'max', 'dot', 'cos' (and
    kiln's 'min', 'sub'), or a function of the list of tensors (then `output_shape` is needed
    when it cannot be traced: kiln traces it, so it is optional and checked when given)."""

    def __init__(self, layers=None, mode="sum", concat_axis=-1, dot_axes=-1, output_shape=None, output_mask=None,
                 arguments=None, node_indices=None, tensor_indices=None, name=None):
        super().__init__(name=name)
        if not callable(mode) and mode not in _ELEMENTWISE | {"concat", "dot", "cos"}:
            raise ValueError("Invalid merge mode: " + str(mode))
        self.mode = mode
        self.concat_axis = concat_axis
        self.dot_axes = dot_axes
        self._output_shape = output_shape
        self._output_mask = output_mask
        self.arguments = arguments or {}
        self.supports_masking = True
        if layers:
            # Keras 1's `Sequential([Merge([seq_a, seq_b], mode=...)])`: the merge is applied
            # at once to the layers' outputs (each model called on new Inputs), and a
            # Sequential that gets it as first layer takes those Inputs as its own.
            if not isinstance(layers, (list, tuple)) or len(layers) < 2:
                raise TypeError("A Merge should only be applied to a list of layers with at least 2 elements. "
                                "Found: %r" % (layers,))
            self.layers = list(layers)
            self(layer_outputs(self.layers, node_indices, tensor_indices))

    def __call__(self, inputs, mask=None, **kwargs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise TypeError("A Merge should only be applied to a list of layers with at least 2 elements. Found: %r"
                            % (inputs,))
        if self.inbound_nodes and not isinstance(self, _Keras2Merge):
            raise RuntimeError('A Merge layer cannot be used more than once, please use the "merge" function '
                               "instead: `merged_tensor = merge([tensor_1, tensor2])`.")
        out = super().__call__(list(inputs), mask, **kwargs)
        if callable(self.mode) and self._output_shape is not None:
            shapes = _shapes(inputs)
            if callable(self._output_shape):
                declared = tuple(self._output_shape(shapes))
            else:
                declared = (shapes[0][0],) + tuple(self._output_shape)
            got = tuple(out.shape)
            if len(declared) != len(got) or any(d is not None and g is not None and d != g
                                                for d, g in zip(declared, got)):
                raise ValueError("Merge %s: output_shape %s does not match the shape %s that its mode computes"
                                 % (self.name, declared, got))
        return out

    def _check(self, inputs):
        shapes = _shapes(inputs)
        mode = self.mode
        if mode in _ELEMENTWISE:
            if mode == "sub" and len(inputs) != 2:
                raise ValueError("Subtract (sub mode) takes exactly 2 inputs, got %d: %s" % (len(inputs), shapes))
            if len(set(shapes)) != 1:
                raise ValueError("Only layers of same output shape can be merged using %s mode. Layer shapes: %s"
                                 % (mode, shapes))
        elif mode == "concat":
            axis = self.concat_axis
            ranks = {len(s) for s in shapes}
            bad = len(ranks) != 1
            if not bad:
                r = ranks.pop()
                a = axis % r
                bad = len({s[:a] + s[a + 1:] for s in shapes}) != 1
            if bad:
                raise ValueError('"concat" mode can only merge layers with matching output shapes except for the '
                                 "concat axis. Layer shapes: %s" % (shapes,))
        elif mode in ("dot", "cos"):
            if len(inputs) != 2:
                raise ValueError("%s merge takes exactly 2 inputs, got %d: %s" % (mode, len(inputs), shapes))
            if mode == "cos" and shapes[0] != shapes[1] and not isinstance(self, _Keras2Merge):
                raise ValueError("Only layers of same output shape can be merged using cos mode. Layer shapes: %s"
                                 % (shapes,))
            a1, a2 = self._axes(shapes)
            if shapes[0][a1] != shapes[1][a2]:
                raise ValueError("Dimension incompatibility using dot mode: %s != %s. Layer shapes: %s, %s"
                                 % (shapes[0][a1], shapes[1][a2], shapes[0], shapes[1]))

    def _axes(self, shapes):
        a = self.dot_axes
        if isinstance(a, int):
            return (a % len(shapes[0]), a % len(shapes[1])) if a < 0 else (a, a)
        return tuple(x % len(s) if x < 0 else x for x, s in zip(a, shapes))

    def compute_mask(self, inputs, mask=None):
        """Keras 1.2's merged mask: for sum, mul, ave (and max, min, sub) a position is kept where
        every masked input keeps it; for concat each mask is brought to its input's shape (an
        unmasked input keeps everything), the masks are joined like the inputs and a position is
        kept where all its features are (Keras 1.2 fails when the join is not on the last axis
        with an unmasked input; this does not); dot and cos give none; a callable mode gives
        `output_mask` (a function of the masks, or a value)."""
        masks = [None] * len(inputs) if mask is None else list(mask)
        if callable(self.mode):
            if callable(self._output_mask):  # Keras 1.2 calls it with the masks alone
                return self._output_mask(mask)
            return self._output_mask
        if all(m is None for m in masks) or self.mode in ("dot", "cos"):
            return None
        if self.mode == "concat":
            full = []
            for x, m in zip(inputs, masks):
                if m is None:
                    full.append(K.ones_like(x))
                    continue
                while len(m.shape) < len(x.shape):
                    m = K.expand_dims(m)
                full.append(m * K.ones_like(x))
            return K.all(K.concatenate(full, axis=self.concat_axis), axis=-1)
        out = None
        for m in masks:
            if m is not None:
                m = K.cast(K.not_equal(m, 0.0), "float32")
                out = m if out is None else out * m
        return out

    def call(self, inputs, mask=None):
        if callable(self.mode):
            if "mask" in inspect.signature(self.mode).parameters:
                return self.mode(inputs, mask=mask, **self.arguments)
            return self.mode(inputs, **self.arguments)
        self._check(inputs)
        mode = self.mode
        if mode in ("sum", "ave"):
            out = inputs[0]
            for t in inputs[1:]:
                out = out + t
            return out / float(len(inputs)) if mode == "ave" else out
        if mode == "mul":
            out = inputs[0]
            for t in inputs[1:]:
                out = out * t
            return out
        if mode in ("max", "min"):
            f = K.maximum if mode == "max" else K.minimum
            out = inputs[0]
            for t in inputs[1:]:
                out = f(out, t)
            return out
        if mode == "sub":
            return inputs[0] - inputs[1]
        if mode == "concat":
            return K.concatenate(inputs, axis=self.concat_axis)
        axes = self._axes(_shapes(inputs))
        if mode == "dot":
            return K.batch_dot(inputs[0], inputs[1], list(axes))
        # cos: the dot product of the l2-normalized inputs, shape (batch, 1) for vectors. (Keras
        # 1.2 adds a dim here that its declared shape lacks; kiln returns the declared shape.)
        a = K.l2_normalize(inputs[0], axis=axes[0])
        b = K.l2_normalize(inputs[1], axis=axes[1])
        return K.batch_dot(a, b, list(axes))

    def __repr__(self):
        return "<%s %s mode=%s>" % (type(self).__name__, self.name, self.mode)

    def get_config(self):
        """Keras 1.2's Merge config. A callable mode or output_shape stays a Python object: usable
        in this process, refused when written to a file (serialization.dumps)."""
        def kind(v):
            return "raw" if not callable(v) else "lambda"
        return {"name": self.name, "mode": self.mode, "mode_type": kind(self.mode), "concat_axis": self.concat_axis,
                "dot_axes": self.dot_axes, "output_shape": self._output_shape,
                "output_shape_type": kind(self._output_shape), "output_mask": self._output_mask, "output_mask_type": kind(self._output_mask),
                "arguments": dict(self.arguments)}

    @classmethod
    def from_config(cls, config):
        """Keras 1.2's config; with `layers` (a Sequential's first layer, Sequential.get_config),
        the merged models' {class_name, config}, rebuilt first: identical entries, which
        Merge([seq, seq]) writes, give one model, so its Inputs stay shared."""
        config = dict(config)
        if config.get("layers"):
            from .serialization import deserialize
            built = []
            for entry in config["layers"]:
                if isinstance(entry, dict):
                    same = [m for c, m in built if c == entry]
                    built.append((entry, same[0] if same else deserialize(entry)))
                else:
                    built.append((None, entry))
            config["layers"] = [m for _, m in built]
        for key in ("mode", "output_shape", "output_mask"):
            kind = config.pop(key + "_type", "raw")
            if kind != "raw" and not callable(config.get(key)):
                raise ValueError("Merge %s: its %s is %s Python code, which kiln does not load (loading a file never "
                                 "runs code from it)" % (config.get("name"), key, kind))
        config.pop("trainable", None)
        return cls(**config)


def layer_outputs(layers, node_indices=None, tensor_indices=None):
    """The tensor each of `layers` gives, for Keras 1's Merge(layers=[...]): a model (Sequential
    or Model, one output) is called on new Inputs shaped as its own, one model call and one
    Input per distinct model input however often they recur (Merge([seq, seq]) has one Input,
    a model merged twice over nested Sequentials too); another layer gives the output of its
    node node_indices[i] (default 0), tensor tensor_indices[i] (default 0)."""
    from ..graph.container import Container
    from ..graph.input_layer import Input
    from ..graph.layer import to_list
    new_inputs, called, out = {}, {}, []

    def stand_in(x):
        origin = getattr(x, "_kiln_stands_for", x)  # the Input a previous merge replaced
        if id(origin) not in new_inputs:
            layer = x._keras_history[0]
            t = Input(batch_shape=getattr(x, "_keras_shape", tuple(x.shape)), dtype=x.dtype,
                      name=layer.name if not layer.inbound_nodes[0].inbound_layers else None)
            t._kiln_stands_for = origin
            new_inputs[id(origin)] = t
        return new_inputs[id(origin)]

    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError("Merge(layers=[...]) takes layers or models; item %d is %r" % (i, layer))
        if isinstance(layer, Container):
            if id(layer) not in called:
                xs = [stand_in(x) for x in layer.inputs]
                called[id(layer)] = to_list(layer(xs if len(xs) > 1 else xs[0]))
            outs = called[id(layer)]
        else:
            node_index = node_indices[i] if node_indices else 0
            if node_index >= len(layer.inbound_nodes):
                raise ValueError("Merge: layer %s has no node %d (it is connected %d times); give layers that were "
                                 "called on inputs, or models" % (layer.name, node_index, len(layer.inbound_nodes)))
            outs = layer.inbound_nodes[node_index].output_tensors
        tensor_index = tensor_indices[i] if tensor_indices and tensor_indices[i] is not None else 0
        out.append(outs[tensor_index])
    return out


def merge(inputs, mode="sum", concat_axis=-1, dot_axes=-1, output_shape=None, output_mask=None, arguments=None,
          name=None):
    """Keras 1 functional merge: `merge([a, b], mode='concat', concat_axis=-1)`.

    An element that is a layer rather than a tensor is called on the first tensor of the list
    (the guide's residual example writes `merge([x, y])` with `y` a Convolution2D layer).
    """
    if isinstance(inputs, (list, tuple)):
        first = next((t for t in inputs if isinstance(t, Tensor)), None)
        fixed = []
        for t in inputs:
            if isinstance(t, Layer) and first is not None:
                warnings.warn("merge(): %s is a layer, not a tensor; calling it on %r" % (t.name, first))
                t = t(first)
            fixed.append(t)
        inputs = fixed
    layer = Merge(mode=mode, concat_axis=concat_axis, dot_axes=dot_axes, output_shape=output_shape,
                  output_mask=output_mask, arguments=arguments, name=name)
    return layer(inputs)


class _Keras2Merge(Merge):
    mode = None

    def __init__(self, **kwargs):
        Layer.__init__(self, **kwargs)
        self.concat_axis, self.dot_axes, self._output_shape, self.arguments = -1, -1, None, {}

    get_config = Layer.get_config  # Keras 2's layout: the base keys and config_keys
    from_config = classmethod(Layer.from_config.__func__)


class Add(_Keras2Merge):
    mode = "sum"


class Subtract(_Keras2Merge):
    mode = "sub"


class Multiply(_Keras2Merge):
    mode = "mul"


class Average(_Keras2Merge):
    mode = "ave"


class Maximum(_Keras2Merge):
    mode = "max"


class Minimum(_Keras2Merge):
    mode = "min"


class Concatenate(_Keras2Merge):
    mode = "concat"
    config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.concat_axis = axis

    @property
    def axis(self):
        return self.concat_axis


class Dot(_Keras2Merge):
    mode = "dot"
    config_keys = ("axes", "normalize")

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.dot_axes = axes
        self.normalize = normalize
        if normalize:
            self.mode = "cos"

    @property
    def axes(self):
        return self.dot_axes


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
