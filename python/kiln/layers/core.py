"""Core layers: Dense (and Keras 1.2's deprecated TimeDistributedDense), Activation, Dropout,
SpatialDropout1D/2D/3D, Lambda, Flatten, Reshape, Permute, RepeatVector, Masking,
ActivityRegularization (Keras 1 and Keras 2 spellings); Highway and MaxoutDense are defined in core_dense.py and re-exported here, where Keras 1.2 has them."""
import inspect
import warnings

import numpy as np

from .. import activations, backend as K, constraints, initializers, regularizers
from ..backend import image_layout
from ..backend.tensor import _ids, make
from ..graph.layer import InputSpec, Layer
from ..saving import traced


class Dense(Layer):
    """Densely connected layer: `activation(dot(x, W) + b)` over the last axis.

    Args:
        output_dim / units: number of outputs.
        init / kernel_initializer: initializer of W (default glorot_uniform); b starts at zero
            (bias_initializer).
        activation: name or function (default linear).
        bias / use_bias: whether to add a bias.
        input_dim: shortcut for input_shape=(input_dim,).

    Example:
        y = Dense(64, activation='relu')(x)
    """
    config_keys = ("output_dim", "init", "activation", "W_regularizer", "b_regularizer", "activity_regularizer",
                   "W_constraint", "b_constraint", "bias", "input_dim")

    def __init__(self, output_dim=None, init="glorot_uniform", activation=None, weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 input_dim=None, units=None, kernel_initializer=None, bias_initializer="zero", use_bias=None,
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        if units is not None:
            output_dim = units
        if output_dim is None:
            raise TypeError("Dense needs the number of outputs (output_dim= or units=)")
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        kwargs.pop("input_dim", None)
        super().__init__(weights=weights, **kwargs)
        self.output_dim = int(output_dim)
        self.init = initializers.get(kernel_initializer if kernel_initializer is not None else init)
        self.bias_init = initializers.get(bias_initializer)
        self.activation = activations.get(activation)
        self.bias = bias if use_bias is None else use_bias
        self.input_dim = input_dim
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else kernel_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer if b_regularizer is not None else bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.W_constraint = constraints.get(W_constraint if W_constraint is not None else kernel_constraint)
        self.b_constraint = constraints.get(b_constraint if b_constraint is not None else bias_constraint)
        self.input_spec = [InputSpec(ndim="2+")]

    @property
    def units(self):
        return self.output_dim

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("Layer %s: the last dimension of its input must be known, got shape %s"
                             % (self.name, input_shape))
        self.input_dim = input_dim
        self.input_spec = [InputSpec(min_ndim=2, axes={-1: input_dim})]
        self.W = self.add_weight((input_dim, self.output_dim), initializer=self.init, name="W",
                                 regularizer=self.W_regularizer, constraint=self.W_constraint)
        self.b = self.add_weight((self.output_dim,), initializer=self.bias_init, name="b",
                                 regularizer=self.b_regularizer, constraint=self.b_constraint) if self.bias else None
        self.built = True

    @property
    def kernel(self):
        return self.W

    def call(self, x, mask=None):
        out = K.dot(x, self.W)
        if self.bias:
            out = K.bias_add(out, self.b)
        return self.activation(out)



class TimeDistributedDense(Dense):
    """Keras 1.2's deprecated Dense on each step of a (batch, steps, features) input, as Dense
    itself applies to the last axis: Dense's arguments and weights, plus `input_length` (with
    `input_dim`, the input shape)."""
    config_keys = Dense.config_keys + ("input_length",)

    def __init__(self, output_dim=None, input_dim=None, input_length=None, **kwargs):
        warnings.warn("`TimeDistributedDense` is deprecated, And will be removed on May 1st, 2017. "
                      "Please use a `Dense` layer instead.")
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(output_dim, input_dim=input_dim, **kwargs)
        self.input_length = input_length
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = [InputSpec(ndim=3, axes={-1: self.input_dim})]


class Activation(Layer):
    """Applies an activation function (name or callable) to its input."""
    config_keys = ("activation",)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, x, mask=None):
        return self.activation(x)



class Dropout(Layer):
    """Sets a fraction `p` (Keras 2: `rate`) of inputs to 0 at train time, scaling the rest by
    1/(1-p) (inverted dropout); the identity at test time.

    The mask of each training step hashes (seed, step, element), so it is repeatable. Without a
    `seed`, one is drawn from NumPy's global generator when the layer is made (np.random.seed
    makes runs repeatable) and kept in the config, so a reloaded model draws the same masks.
    The k-th call of a shared layer uses a seed derived from (seed, k): its masks differ.
    """
    config_keys = ("p", "seed")

    def __init__(self, p=None, noise_shape=None, seed=None, rate=None, **kwargs):
        super().__init__(**kwargs)
        p = rate if rate is not None else p
        if p is None:
            raise TypeError("Dropout needs a rate (p= or rate=)")
        self.noise_shape = None if noise_shape is None else tuple(None if d is None else int(d) for d in noise_shape)
        self.p = float(p)
        self.seed = int(seed) if seed is not None else int(np.random.randint(0, 2**31 - 1))
        self._calls = 0
        self.supports_masking = True
        if 0.0 < self.p < 1.0:
            self.uses_learning_phase = True

    @property
    def rate(self):
        return self.p

    def get_config(self):
        config = super().get_config()
        if self.noise_shape is not None:  # Keras 2's key; Keras 1.2 left it out of the config
            config["noise_shape"] = list(self.noise_shape)
        return config

    def _noise_axes(self, x):
        """The axes one draw is shared over: those where noise_shape is 1 (None, or any size on an
        axis of unknown size such as the batch: one draw per entry)."""
        if self.noise_shape is None:
            return ()
        if len(self.noise_shape) != len(x.shape) or any(
                n not in (None, 1, d) and d is not None for n, d in zip(self.noise_shape, x.shape)):
            raise ValueError("Dropout %s: noise_shape %s does not fit an input of shape %s (each entry is the "
                             "input's dim, None, or 1 to share one draw along that axis)"
                             % (self.name, self.noise_shape, tuple(x.shape)))
        return tuple(i for i, (n, d) in enumerate(zip(self.noise_shape, x.shape)) if n == 1 and d != 1)

    def call(self, x, mask=None):
        if not 0.0 < self.p < 1.0:
            return x
        seed = self.seed if self._calls == 0 else call_seed(self.seed, self._calls)
        self._calls += 1
        axes = self._noise_axes(x)
        if not axes:
            return K.in_train_phase(K.dropout(x, self.p, seed=seed), x)
        one = x
        for ax in axes:  # a slice of size 1 on every axis the draw is shared over
            one = K.slice_axis(one, ax, 0, 1)
        keep = make("dropout_mask", [one], {"rate": self.p, "seed": int(seed)})
        return K.in_train_phase(x * keep, x)



class SpatialDropout1D(Dropout):
    """Dropout of whole feature maps: on (batch, steps, features), one draw per (sample,
    feature), kept or zeroed at every step alike (Keras 1.2 `SpatialDropout1D(p)`, Keras 2
    `rate`); the identity at test time."""

    def __init__(self, p=None, seed=None, rate=None, **kwargs):
        super().__init__(p=p, seed=seed, rate=rate, **kwargs)
        self.input_spec = [InputSpec(ndim=3)]

    def _noise_axes(self, x):
        return (1,)


class SpatialDropout2D(SpatialDropout1D):
    """Dropout of whole channels of images: one draw per (sample, channel), shared by every pixel.
    The channel axis follows the input's layout (else `dim_ordering` / Keras 2 `data_format`,
    else image_dim_ordering())."""
    config_keys = ("p", "seed", "dim_ordering")
    rank = 2  # the number of spatial axes, which share one draw

    def __init__(self, p=None, dim_ordering="default", seed=None, rate=None, data_format=None, **kwargs):
        super(SpatialDropout1D, self).__init__(p=p, seed=seed, rate=rate, **kwargs)
        self._stated_ordering = image_layout.explicit(dim_ordering, data_format)
        self.dim_ordering = self._stated_ordering or image_layout.spelling_default(rate is not None)
        self.input_spec = [InputSpec(ndim=self.rank + 2)]

    def __call__(self, x, mask=None, **kwargs):
        if not self.inbound_nodes:  # the layout of the first call, for the config
            self.dim_ordering = image_layout.resolve(x, self._stated_ordering, self.dim_ordering)
        return super().__call__(x, mask, **kwargs)

    def _noise_axes(self, x):
        first = 2 if image_layout.resolve(x, self._stated_ordering, self.dim_ordering) == "th" else 1
        return tuple(range(first, first + self.rank))

    def call(self, x, mask=None):
        return image_layout.tag(super().call(x, mask), image_layout.resolve(x, self._stated_ordering,
                                                                            self.dim_ordering))


class SpatialDropout3D(SpatialDropout2D):
    """Dropout of whole channels of volumes: one draw per (sample, channel), shared by every voxel
    (the noise shape is (batch, 1, 1, 1, channels) for 'tf', (batch, channels, 1, 1, 1) for 'th');
    Keras 1.2 `SpatialDropout3D(p, dim_ordering)`, Keras 2 `rate`, `data_format`."""
    rank = 3


class ActivityRegularization(Layer):
    """The identity, adding `l1 * sum(|x|) + l2 * sum(x^2)` of its output to the training loss."""
    config_keys = ("l1", "l2")

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2Regularizer(l1=self.l1, l2=self.l2)


class Masking(Layer):
    """Masks the timesteps whose features all equal `mask_value`: the output mask is
    any(x != mask_value) over the last axis, and those steps of the output are zeroed.

    Example:
        x = Input(shape=(10, 8)); y = LSTM(16)(Masking(mask_value=0.)(x))
    """
    config_keys = ("mask_value",)

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = float(mask_value)

    def compute_mask(self, x, mask=None):
        return K.max(K.not_equal(x, self.mask_value), axis=-1)

    def call(self, x, mask=None):
        return x * K.max(K.not_equal(x, self.mask_value), axis=-1, keepdims=True)


def call_seed(seed, k):
    """The seed of the k-th call (k >= 1) of a layer seeded `seed`: a hash of both."""
    return int(np.random.SeedSequence([int(seed), int(k)]).generate_state(1)[0]) & 0x7FFFFFFF


def _positional_arity(fn, supplied=()):
    """Number of positional parameters without defaults that `supplied` keyword arguments do
    not fill (None when the function takes *args)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty and p.name not in supplied:
            n += 1
    return n


class Lambda(Layer):
    """Wraps a function of tensors written with kiln.backend as a layer.

    The function is traced once per call on symbolic tensors; its ops become the layer's IR.
    On a list of inputs it receives the list, or, when it takes one positional parameter per
    input (`lambda x, y: ...`, as the guide writes it), the inputs as separate arguments.

    Args:
        function: f(x, **arguments) -> tensor.
        output_shape: optional; a tuple (without the batch dim) or a function of the input
            shape(s). The traced shape is always known; a given output_shape must agree with it.
        arguments: extra keyword arguments for the function.

    Saved (to_json, model.save) as the ops its function builds, traced again on stand-ins of
    the inputs it was called with, with `arguments` baked in (saving/traced.py); a function
    that reads a variable made outside it, or cannot be traced, is refused, naming the layer.
    """

    def __init__(self, function, output_shape=None, arguments=None, mask=None, **kwargs):
        super().__init__(**kwargs)
        if output_shape is not None and not callable(output_shape) and not isinstance(output_shape, (tuple, list)):
            raise TypeError("In Lambda, `output_shape` must be a list, a tuple, or a function.")
        self.function = function
        self._output_shape = output_shape
        self.arguments = arguments or {}
        self.mask = mask  # Keras 2's output mask: kept, not applied; refused when saved
        self._calls = {}  # the first call per input signature, traced again when saved

    def call(self, x, mask=None):
        first = next(_ids)
        out = self._apply(x)
        traced.record(self._calls, first, x, out)
        return out

    def _apply(self, x):
        args = dict(self.arguments)
        if isinstance(x, list):
            arity = _positional_arity(self.function, args)
            if arity is None or (arity == len(x) and arity > 1):
                return self.function(*x, **args)
        return self.function(x, **args)

    def __call__(self, x, mask=None, **kwargs):
        out = super().__call__(x, mask, **kwargs)
        if self._output_shape is not None:
            shapes = [tuple(t.shape) for t in (x if isinstance(x, list) else [x])]
            declared = self.get_output_shape_for(shapes if isinstance(x, list) else shapes[0])
            got = tuple(out.shape) if not isinstance(out, list) else tuple(out[0].shape)
            declared = tuple(declared)
            if len(declared) != len(got) or any(d is not None and g is not None and d != g
                                                for d, g in zip(declared, got)):
                raise ValueError("Lambda %s: output_shape %s does not match the shape %s that its function computes"
                                 % (self.name, declared, got))
        return out

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return super().get_output_shape_for(input_shape)
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
            if not isinstance(shape, (tuple, list)):
                raise ValueError("output_shape function must return a tuple")
            return tuple(shape)
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def get_config(self):
        """Keras 1.2's keys. In this process the function stays a Python object; in a config
        made for a file (serialization.file_config) it is its traced op list, `function_type`
        "graph", with `arguments` baked in and an `output_shape` function evaluated."""
        from .serialization import for_file
        c = super().get_config()
        if for_file():
            c.update(self._file_config())
            return c
        c.update(function=self.function, function_type="lambda", output_shape=self._output_shape,
                 output_shape_type="raw" if not callable(self._output_shape) else "lambda",
                 arguments=dict(self.arguments))
        return c

    def _file_config(self):
        where = "Lambda %r" % self.name
        if self.mask is not None:
            raise traced.TraceError("Cannot save %s: it was given mask=%r, which kiln does not apply (a Lambda's "
                                    "output has no mask) and so does not save either: leave it out"
                                    % (where, self.mask))
        graph = traced.trace(self._apply, self._calls.values(), where)
        shape = self._output_shape
        if callable(shape):  # evaluated for the shapes it was called on: one answer, or the traced shape rules
            shapes = set()
            for _, x, _ in self._calls.values():
                s = [tuple(t.shape) for t in x] if isinstance(x, list) else tuple(x.shape)
                try:
                    s = self.get_output_shape_for(s)
                except Exception as e:  # the user's function
                    raise traced.TraceError("Cannot save %s: its output_shape function raised %s: %s on %s"
                                            % (where, type(e).__name__, e, s)) from e
                shapes.add(tuple(s[1:]) if all(d is None or isinstance(d, int) for d in s) else None)
            shape = shapes.pop() if len(shapes) == 1 else None
        return dict(function=graph, function_type="graph", output_shape=shape, output_shape_type="raw",
                    arguments={})

    @classmethod
    def from_config(cls, config):
        from ..utils.custom_objects import lookup
        config = dict(config)
        for k in ("function_type", "output_shape_type"):
            kind, key = config.pop(k, None), k[:-len("_type")]
            value = config.get(key)
            if kind in (None, "raw") or callable(value):
                continue
            if kind == "graph" and key == "function":  # an op list: replayed, never run (saving/traced.py)
                config[key] = traced.GraphFunction(value, "Lambda %r" % (config.get("name"),))
                continue
            if kind == "function" and isinstance(value, str) and callable(lookup(value)):
                config[key] = lookup(value)  # a named function of the user's, from custom_objects
                continue
            raise ValueError("Lambda %s: its %s is %s, which kiln does not load: loading a file never runs code from "
                             "it. A named function can be passed as custom_objects={name: function}."
                             % (config.get("name"), key, "serialized bytecode" if kind == "lambda" else
                                "the function %r, not among the custom objects" % (value,)))
        return cls(**config)


class Flatten(Layer):
    """Flattens every non-batch dim: (None, 3, 4) -> (None, 12)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [InputSpec(min_ndim=3)]

    def call(self, x, mask=None):
        if any(d is None for d in x.shape[1:]):
            raise ValueError('The shape of the input to "Flatten" is not fully defined (got %s. Make sure to pass a '
                             'complete "input_shape" or "batch_input_shape" argument to the first layer in your '
                             "model." % (tuple(x.shape[1:]),))
        return K.batch_flatten(x)


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (batch dim excluded; one -1 is inferred)."""
    config_keys = ("target_shape",)

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, x, mask=None):
        batch = -1 if x.shape[0] is None else x.shape[0]  # a fixed batch size stays; -1 is then the target's
        return K.reshape(x, (batch,) + self.target_shape)



class Permute(Layer):
    """Permutes the non-batch dims: `dims` is 1-based, e.g. Permute((2, 1)) swaps the two."""
    config_keys = ("dims",)

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Permute: dims must be a permutation of 1..%d (1-based, batch excluded), got %s"
                             % (len(self.dims), self.dims))

    def call(self, x, mask=None):
        if len(self.dims) != len(x.shape) - 1:
            raise ValueError("Permute %s: dims %s do not match an input of shape %s" % (self.name, self.dims, x.shape))
        return K.permute_dimensions(x, (0,) + self.dims)



class RepeatVector(Layer):
    """Repeats a vector n times: (None, f) -> (None, n, f)."""
    config_keys = ("n",)

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)
        self.input_spec = [InputSpec(ndim=2)]

    def call(self, x, mask=None):
        return K.repeat(x, self.n)



# Keras 1.2 code imports Merge from here (`from keras.layers.core import Merge`).
from .merge import Merge, merge  # noqa: E402,F401
from .core_dense import Highway, MaxoutDense  # noqa: E402,F401
