"""Model configs written by real Keras 2 (tf-keras, Keras 2.x) and Keras 3, as kiln configs.

`translate(config, version)` turns `{"class_name", "config"}` of a Keras 2 or 3 model into the
Keras 1.2 layout kiln reads (saving/model_config.py), layer by layer: each class Keras 2 and 3
share with kiln has a translator that reads Keras' arguments and writes kiln's (below; those of
the convolution, pooling, padding, cropping and upsampling layers in keras_config_conv.py; the
helpers they share in keras_args.py); anything without one, or an argument kiln cannot honour
(a constraint, `return_state`, Keras 3's `hard_sigmoid`, a channels-first Conv1D...), is a
ValueError naming the layer, its class and the reason. Initializers are dropped (the file's
weights replace the initial values).

Graph structure: Keras 2 writes a call as `[[layer, node, tensor, kwargs], ...]`, Keras 3 as
`{"args": [keras tensors], "kwargs"}` whose tensors hold `keras_history` [layer, node,
tensor]. kiln, like Keras 1.2 and 2, counts a nested model's own node as 0, so its calls from
outside count from 1; Keras 3 counts them from 0, so references to a nested model gain one.
"""
from .keras_args import Unconvertible, _activation, _common, _fail, _image_ordering, _no, _regularizer
from .keras_config_conv import TRANSLATORS as _CONV

MODEL_CLASSES = ("Functional", "Model", "Sequential")


# ----------------------------------------------------------------------------- one per class

def _dense(layer, c, v):
    out = _common(layer, c)
    out.update(output_dim=int(c["units"]), activation=_activation(layer, c.get("activation"), v),
               bias=bool(c.get("use_bias", True)),
               W_regularizer=_regularizer(layer, c.get("kernel_regularizer"), "kernel_regularizer"),
               b_regularizer=_regularizer(layer, c.get("bias_regularizer"), "bias_regularizer"))
    return "Dense", out


def _embedding(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("sparse", False)])
    out.update(input_dim=int(c["input_dim"]), output_dim=int(c["output_dim"]), mask_zero=bool(c.get("mask_zero")),
               W_regularizer=_regularizer(layer, c.get("embeddings_regularizer"), "embeddings_regularizer"))
    if c.get("input_length") is not None:
        out["input_length"] = c["input_length"] if isinstance(c["input_length"], int) else list(c["input_length"])
    return "Embedding", out


def _recurrent(kind):
    def tr(layer, c, v):
        out = _common(layer, c)
        _no(layer, c, [("return_state", False), ("time_major", False), ("zero_output_for_mask", False)])
        out.update(output_dim=int(c["units"]), activation=_activation(layer, c.get("activation"), v),
                   return_sequences=bool(c.get("return_sequences")), go_backwards=bool(c.get("go_backwards")),
                   stateful=bool(c.get("stateful")), unroll=bool(c.get("unroll")),
                   dropout_W=float(c.get("dropout", 0.0)), dropout_U=float(c.get("recurrent_dropout", 0.0)),
                   W_regularizer=_regularizer(layer, c.get("kernel_regularizer"), "kernel_regularizer"),
                   U_regularizer=_regularizer(layer, c.get("recurrent_regularizer"), "recurrent_regularizer"),
                   b_regularizer=_regularizer(layer, c.get("bias_regularizer"), "bias_regularizer"))
        if kind != "SimpleRNN":
            out["inner_activation"] = _activation(layer, c.get("recurrent_activation", "hard_sigmoid"), v,
                                                  "recurrent_activation")
        if kind == "GRU" and c.get("reset_after", False):
            out["reset_after"] = True
        return kind, out
    return tr


def _batchnorm(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("renorm", False), ("virtual_batch_size", None), ("adjustment", None), ("synchronized", False)])
    axis = c.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            _fail(layer, "axis=%r: kiln normalizes over one feature axis" % (axis,))
        axis = axis[0]
    out.update(axis=int(axis), momentum=float(c.get("momentum", 0.99)), epsilon=float(c.get("epsilon", 1e-3)),
               gamma_regularizer=_regularizer(layer, c.get("gamma_regularizer"), "gamma_regularizer"),
               beta_regularizer=_regularizer(layer, c.get("beta_regularizer"), "beta_regularizer"))
    return "BatchNormalization", out


def _plain(kind, keys=()):
    def tr(layer, c, v):
        out = _common(layer, c)
        for k in keys:
            if k in c:
                out[k] = c[k]
        return kind, out
    return tr


def _activation_layer(layer, c, v):
    out = _common(layer, c)
    out["activation"] = _activation(layer, c.get("activation"), v)
    return "Activation", out


def _dropout(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("noise_shape", None)])
    out["p"] = float(c.get("rate", 0.0))
    return "Dropout", out


def _spatial_dropout(kind, rank):
    def tr(layer, c, v):
        out = _common(layer, c)
        _no(layer, c, [("noise_shape", None)])
        out["p"] = float(c.get("rate", 0.0))
        # Keras 2's config leaves data_format out (Keras 3's has it): kiln's layer then follows
        # its input's layout, which is what the Keras layer was built on
        if rank > 1 and c.get("data_format") is not None:
            out["dim_ordering"] = _image_ordering(layer, c, v)
        return kind, out
    return tr


def _noise(kind, key, ours):
    """GaussianNoise (stddev) and GaussianDropout (rate): the identity at test time; Keras' seed
    is dropped, as Dropout's (kiln draws its own)."""
    def tr(layer, c, v):
        out = _common(layer, c)
        out[ours] = float(c[key])
        return kind, out
    return tr


def _leaky_relu(layer, c, v):
    out = _common(layer, c)
    out["alpha"] = float(c["negative_slope"] if "negative_slope" in c else c.get("alpha", 0.3))  # Keras 3, 2
    return "LeakyReLU", out


def _relu(layer, c, v):
    """Keras 2/3's ReLU layer as kiln's relu activation, or LeakyReLU with a negative_slope."""
    out = _common(layer, c)
    _no(layer, c, [("max_value", None), ("threshold", 0.0)])
    slope = float(c.get("negative_slope") or 0.0)
    if slope:
        out["alpha"] = slope
        return "LeakyReLU", out
    out["activation"] = "relu"
    return "Activation", out


def _softmax(layer, c, v):
    out = _common(layer, c)
    axis = c.get("axis", -1)
    if axis not in (-1, [-1]):
        _fail(layer, "axis=%r: kiln's softmax activation works on the last axis (axis=-1)" % (axis,))
    out["activation"] = "softmax"
    return "Activation", out


def _prelu(layer, c, v):
    out = _common(layer, c)
    _no(layer, c, [("alpha_constraint", None)])
    out["alpha_regularizer"] = _regularizer(layer, c.get("alpha_regularizer"), "alpha_regularizer")
    if c.get("shared_axes") is not None:
        axes = c["shared_axes"]
        out["shared_axes"] = [int(axes)] if isinstance(axes, int) else [int(a) for a in axes]
    return "PReLU", out


def _flatten(layer, c, v):
    out = _common(layer, c)
    if (c.get("data_format") or "channels_last") != "channels_last":
        _fail(layer, "Flatten(data_format='channels_first') reorders the features to channels last first; kiln's "
                     "Flatten keeps the input's order")
    return "Flatten", out


def _dot(layer, c, v):
    out = _common(layer, c)
    axes = c["axes"]
    out.update(axes=axes if isinstance(axes, int) else list(axes), normalize=bool(c.get("normalize")))
    return "Dot", out


TRANSLATORS = {
    "Dense": _dense, "Embedding": _embedding,
    "LSTM": _recurrent("LSTM"), "GRU": _recurrent("GRU"), "SimpleRNN": _recurrent("SimpleRNN"),
    "BatchNormalization": _batchnorm, "Activation": _activation_layer, "Dropout": _dropout, "Flatten": _flatten,
    "SpatialDropout1D": _spatial_dropout("SpatialDropout1D", 1),
    "SpatialDropout2D": _spatial_dropout("SpatialDropout2D", 2),
    "SpatialDropout3D": _spatial_dropout("SpatialDropout3D", 3),
    "GaussianNoise": _noise("GaussianNoise", "stddev", "sigma"),
    "GaussianDropout": _noise("GaussianDropout", "rate", "p"),
    "Masking": _plain("Masking", ("mask_value",)),
    "LeakyReLU": _leaky_relu, "ReLU": _relu, "Softmax": _softmax, "PReLU": _prelu,
    "ELU": _plain("ELU", ("alpha",)),  # Keras 3 writes no alpha (its ELU has no get_config): 1.0
    "ThresholdedReLU": _plain("ThresholdedReLU", ("theta",)),  # Keras 2 only
    "Reshape": _plain("Reshape", ("target_shape",)), "Permute": _plain("Permute", ("dims",)),
    "RepeatVector": _plain("RepeatVector", ("n",)),
    "Add": _plain("Add"), "Subtract": _plain("Subtract"), "Multiply": _plain("Multiply"),
    "Average": _plain("Average"), "Maximum": _plain("Maximum"), "Minimum": _plain("Minimum"),
    "Concatenate": _plain("Concatenate", ("axis",)), "Dot": _dot,
    **_CONV,
}


# ------------------------------------------------------------------------------- the graph

def _input_layer(layer, c):
    shape = c.get("batch_input_shape", c.get("batch_shape"))
    if shape is None:
        _fail(layer, "an InputLayer without batch_input_shape / batch_shape")
    _no(layer, c, [("sparse", False), ("ragged", False)])
    dtype = c.get("dtype") or "float32"
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    return {"batch_input_shape": list(shape), "input_dtype": dtype, "sparse": False, "name": layer["name"]}


def _tensors(args):
    """Keras 3's call arguments: every keras tensor's history, in order."""
    if isinstance(args, dict):
        if args.get("class_name") == "__keras_tensor__":
            return [list(args["config"]["keras_history"])]
        return []
    if isinstance(args, (list, tuple)):
        return [h for a in args for h in _tensors(a)]
    return []


def _nodes(layer, version, models, masks=None):
    """kiln's inbound_nodes: [[[name, node, tensor], ...] per call]. masks: {NotEqual layer:
    (the Embedding whose zeros it tests)}: Keras 3 records an Embedding(mask_zero=True)'s mask
    as that op and passes it as `mask=`; kiln passes the Embedding's mask itself."""
    out = []
    for node in layer.get("inbound_nodes") or []:
        if version == 3 and isinstance(node, dict):
            kwargs = dict(node.get("kwargs") or {})
            refs = _tensors(node.get("args", []))
            mask = _tensors(kwargs.get("mask"))
            if mask and len(mask) == 1 and (masks or {}).get(mask[0][0]) in [r[0] for r in refs]:
                kwargs.pop("mask")  # the mask kiln's Embedding gives anyway
            if kwargs.get("training") in (False, None):  # kiln picks the phase itself
                kwargs.pop("training", None)
            if _tensors(kwargs):
                _fail(layer, "it is called with tensors as keyword arguments (%s)" % sorted(kwargs))
        else:
            refs, kwargs = [], {}
            for ref in node:
                refs.append(list(ref[:3]))
                kwargs.update(ref[3] if len(ref) > 3 and isinstance(ref[3], dict) else {})
        extra = {k: val for k, val in kwargs.items() if not (k == "mask" and val is None)}
        if extra:
            _fail(layer, "it is called with arguments kiln does not take (%s)" % ", ".join(sorted(extra)))
        out.append([_ref(r, version, models) for r in refs])
    return out


def _ref(ref, version, models):
    name, node, tensor = ref[0], int(ref[1]), int(ref[2])
    if version == 3 and name in models:  # Keras 3 counts a nested model's calls from 0
        node += 1
    return [name, node, tensor]


def _refs(v, version, models):
    if v and not isinstance(v[0], (list, tuple)):
        v = [v]
    return [_ref(r, version, models) for r in v]


def _layer(layer, version):
    """(class_name, config) of kiln for one Keras layer entry (a model nests)."""
    cls, c = layer.get("class_name"), layer.get("config") or {}
    if not isinstance(cls, str):
        _fail(layer, "no class_name")
    layer = dict(layer, name=layer.get("name", c.get("name")))
    if cls in MODEL_CLASSES:
        return _model(cls, c, version)
    if cls == "InputLayer":
        return "InputLayer", _input_layer(layer, c)
    if cls not in TRANSLATORS:
        _fail(layer, "kiln has no %s; it converts %s" % (cls, ", ".join(sorted(TRANSLATORS))))
    try:
        return TRANSLATORS[cls](layer, c, version)
    except Unconvertible:
        raise
    except (KeyError, TypeError, ValueError) as e:
        _fail(layer, "its config is malformed (%s: %s)" % (type(e).__name__, e))


def _model(cls, c, version):
    layers = c.get("layers")
    if not isinstance(layers, list):
        raise Unconvertible("model %r (%s) has no list of layers" % (c.get("name"), cls))
    if cls == "Sequential":
        out, first_shape = [], None
        for entry in layers:
            entry = dict(entry, name=entry.get("name", (entry.get("config") or {}).get("name")))
            kc, kconf = _layer(entry, version)
            if kc == "InputLayer":
                first_shape = kconf
                continue
            if first_shape is not None and not out:
                kconf = dict(kconf, batch_input_shape=first_shape["batch_input_shape"],
                             input_dtype=first_shape["input_dtype"])
            elif not out and (entry.get("config") or {}).get("batch_input_shape"):
                kconf = dict(kconf, batch_input_shape=list(entry["config"]["batch_input_shape"]),
                             input_dtype=entry["config"].get("dtype") or "float32")
            out.append({"class_name": kc, "config": kconf})
        return "Sequential", {"name": c.get("name"), "layers": out}
    models = {l.get("name") for l in layers if l.get("class_name") in MODEL_CLASSES}
    masks = _zero_masks(layers) if version == 3 else {}
    out = []
    for entry in layers:
        if entry.get("name") in masks:
            continue
        kc, kconf = _layer(entry, version)
        out.append({"name": entry["name"], "class_name": kc, "config": kconf,
                    "inbound_nodes": _nodes(entry, version, models, masks)})
    return "Model", {"name": c.get("name"), "layers": out,
                     "input_layers": _refs(c.get("input_layers", []), version, models),
                     "output_layers": _refs(c.get("output_layers", []), version, models)}


def _zero_masks(layers):
    """{NotEqual layer name: Embedding name} for Keras 3's `x != 0` beside an
    Embedding(mask_zero=True) of the same x, whose only use is as a mask."""
    embedded = {}
    for l in layers:
        c = l.get("config") or {}
        if l.get("class_name") == "Embedding" and c.get("mask_zero"):
            for node in l.get("inbound_nodes") or []:
                if isinstance(node, dict) and len(_tensors(node.get("args"))) == 1:
                    embedded[tuple(_tensors(node["args"])[0])] = l["name"]
    out = {}
    for l in layers:
        nodes = l.get("inbound_nodes") or []
        if l.get("class_name") == "NotEqual" and len(nodes) == 1 and isinstance(nodes[0], dict):
            args = nodes[0].get("args") or []
            src = _tensors(args)
            if len(args) == 2 and args[1] == 0 and len(src) == 1 and tuple(src[0]) in embedded:
                out[l["name"]] = embedded[tuple(src[0])]
    used = {r[0] for l in layers if l.get("name") not in out for node in l.get("inbound_nodes") or []
            if isinstance(node, dict) for r in _tensors(node.get("args"))}
    return {k: v for k, v in out.items() if k not in used}


def translate(config, version):
    """kiln's {class_name, config} for a Keras 2 or 3 model config."""
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        raise Unconvertible("the file's model is a %r, not a Functional model or Sequential"
                            % (config.get("class_name") if isinstance(config, dict) else type(config).__name__))
    cls, conf = _model(config["class_name"], config.get("config") or {}, version)
    return {"class_name": cls, "config": conf}


def keras3_paths(config):
    """{layer name: path of its variables} in a Keras 3 weights file, for every layer of the
    model config (Keras 3 names each layer of a model's `layers` by its class in snake case,
    numbered in order: dense, dense_1, ...; a Sequential's layers leave out its InputLayer;
    a recurrent layer's variables are its cell's), nested models opened."""
    import re

    def snake(name):
        name = re.sub(r"\W+", "", name)
        name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
        return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    out = {}

    def walk(c, cls, prefix):
        used = {}
        for entry in c.get("layers") or []:
            k = entry.get("class_name")
            if cls == "Sequential" and k == "InputLayer":
                continue
            base = snake(k)
            if base in used:
                used[base] += 1
                base = "%s_%d" % (base, used[base])
            else:
                used[base] = 0
            path = "%s/layers/%s" % (prefix, base) if prefix else "layers/" + base
            name = entry.get("name") or (entry.get("config") or {}).get("name")
            if k in MODEL_CLASSES:
                walk(entry.get("config") or {}, k, path)
            else:
                out[name] = path + ("/cell" if k in ("LSTM", "GRU", "SimpleRNN") else "")
    walk(config.get("config") or {}, config.get("class_name"), "")
    return out
