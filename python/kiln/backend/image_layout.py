"""Image layout: which axis of a 4D image tensor holds the channels.

The rule (docs/guide.md, "Image layout"), chosen so that the guide's channels-first examples,
Keras 2 code and Keras 1.2 code that asks `K.image_dim_ordering()` all run as written:

- Each image tensor carries its layout (`_image_layout`: 'th', 'tf' or None for unknown), set by
  the layer that made it. Elementwise ops, concat and the phase switch pass it on when their
  same-rank operands agree (see `propagate`); anything that moves axes (reshape, transpose,
  a Lambda that permutes) drops it, so nothing reinterprets axes silently.
- Pooling, BatchNormalization and the other image layers follow their input's layout. A conv
  (or pooling) layer on a tensor of unknown layout, a raw `Input`, uses its explicit
  `dim_ordering=` / `data_format=` if given, else the spelling of its call: Keras 2 spellings read
  `image_data_format()`, Keras 1 spellings read `image_dim_ordering()`.
- The user's choice, when there is one, is one setting read by both: `set_image_dim_ordering` /
  `set_image_data_format`, else the environment variable KILN_IMAGE_DIM_ORDERING, else
  `image_dim_ordering` / `image_data_format` in `~/.keras/keras.json` (`$KERAS_HOME/keras.json`).
  With no choice made, Keras 1 spellings default to 'th' (Keras 1.0's default, the guide's
  layout) and Keras 2 spellings to 'channels_last' (Keras 2's default).

Internally every layout is 'th' or 'tf'; 'channels_first' / 'channels_last' are accepted anywhere.
"""
import json
import os

ENV_VAR = "KILN_IMAGE_DIM_ORDERING"
KERAS1_DEFAULT = "th"   # Keras 1.0 (the guide's Keras); Keras 1.1+ defaulted to 'tf' (docs/guide.md)
KERAS2_DEFAULT = "tf"   # Keras 2's 'channels_last'

_NAMES = {"th": "th", "tf": "tf", "channels_first": "th", "channels_last": "tf"}
_explicit = None       # set_image_dim_ordering / set_image_data_format
_configured = False    # environment and keras.json read (once, on first use)
_config = None         # what they say, or None


def normalize(ordering, what="dim_ordering"):
    """'th' or 'tf' for any spelling of a layout; raises on anything else."""
    try:
        return _NAMES[ordering]
    except (KeyError, TypeError):
        raise ValueError("Unknown %s: %r (expected 'th' / 'channels_first' or 'tf' / 'channels_last')"
                         % (what, ordering)) from None


def explicit(dim_ordering=None, data_format=None):
    """The layout a layer's arguments state, or None when they leave it at the default."""
    if data_format is not None:
        return normalize(data_format, "data_format")
    if dim_ordering not in (None, "default"):
        return normalize(dim_ordering)
    return None


def config_path():
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(base, "keras.json")


def _read_config():
    env = os.environ.get(ENV_VAR)
    if env:
        return normalize(env, ENV_VAR)
    path = config_path()
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError("[image layout] cannot read %s: %s. Fix or remove the file, or set %s=th|tf."
                         % (path, e, ENV_VAR)) from None
    if not isinstance(cfg, dict):
        return None
    for key in ("image_dim_ordering", "image_data_format"):
        if key in cfg:
            try:
                return normalize(cfg[key], key)
            except ValueError as e:
                raise ValueError("[image layout] %s in %s" % (e, path)) from None
    return None


def chosen():
    """The user's layout choice ('th' / 'tf'), or None when none was made."""
    global _configured, _config
    if _explicit is not None:
        return _explicit
    if not _configured:
        _config = _read_config()
        _configured = True
    return _config


def reset():
    """Forgets set_* and re-reads the environment and keras.json on next use (for tests)."""
    global _explicit, _configured, _config
    _explicit, _configured, _config = None, False, None


def image_dim_ordering():
    """Keras 1: 'th' (channels first) or 'tf' (channels last). The user's choice, else 'th'."""
    return chosen() or KERAS1_DEFAULT


def set_image_dim_ordering(ordering):
    global _explicit
    if ordering not in ("tf", "th"):
        raise ValueError("Unknown dim_ordering: %r (expected 'tf' or 'th')" % (ordering,))
    _explicit = ordering


def image_data_format():
    """Keras 2: 'channels_first' or 'channels_last'. The user's choice, else 'channels_last'."""
    return "channels_first" if (chosen() or KERAS2_DEFAULT) == "th" else "channels_last"


def set_image_data_format(data_format):
    global _explicit
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Unknown data_format: %r" % (data_format,))
    _explicit = normalize(data_format)


def spelling_default(keras2):
    """The layout of a layer on an input of unknown layout, from its call's spelling."""
    return normalize(image_data_format()) if keras2 else image_dim_ordering()


def layout_of(x):
    """The layout a tensor carries ('th', 'tf'), or None when unknown."""
    return getattr(x, "_image_layout", None)


def tag(x, layout):
    """Marks a tensor as made in `layout`; returns it."""
    x._image_layout = layout
    return x


def resolve(x, stated, fallback):
    """The layout to use on input x: the stated one, else x's, else the fallback."""
    return stated or layout_of(x) or fallback


def of_call(x, dim_ordering=None, data_format=None, keras2=False):
    """The layout a backend function (K.conv2d, K.spatial_2d_padding, ...) reads x in: the one its
    arguments state, else x's, else the default of its spelling (keras2: Keras 2 words used)."""
    return resolve(x, explicit(dim_ordering, data_format), None) or spelling_default(keras2)


# Ops whose result has the layout of their same-rank operands: they neither move nor merge axes.
PRESERVING = frozenset((
    "abs", "add", "bias_add", "clip", "concat", "div", "dropout_mask", "elu", "equal", "exp", "greater",
    "greater_equal", "hard_sigmoid", "identity", "less", "less_equal", "log", "maximum", "minimum", "mul",
    "neg", "not_equal", "pow", "relu", "round", "sigmoid", "sign", "softplus", "softsign", "sqrt", "square",
    "sub", "tanh",
))


def propagate(result, inputs):
    """Gives `result` the layout its same-rank operands agree on (None if they disagree)."""
    found = {layout_of(t) for t in inputs if len(t.shape) == len(result.shape)} - {None}
    if len(found) == 1:
        result._image_layout = found.pop()
    return result
