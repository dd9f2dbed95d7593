"""What the Keras 2/3 config translators share (keras_config.py, keras_config_conv.py): the error
that names a layer, and Keras' arguments read as kiln's (activations, regularizers, options that
must be off, int tuples, the image ordering). Every refusal is an Unconvertible naming the
layer, its class and the reason."""
import numbers

_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax", "softplus", "softsign", "elu", "hard_sigmoid")


class Unconvertible(ValueError):
    pass


def _fail(layer, why):
    raise Unconvertible("layer %r (%s) cannot be converted to kiln: %s"
                        % (layer.get("name"), layer.get("class_name"), why))


def _activation(layer, value, version, what="activation"):
    if value is None:
        return "linear"
    if not isinstance(value, str):
        _fail(layer, "its %s is %.120r, not one of Keras' named activations" % (what, value))
    if value == "hard_sigmoid" and version == 3:
        _fail(layer, "Keras 3's hard_sigmoid is relu6(x + 3) / 6, not Keras 1 and 2's clip(0.2 x + 0.5, 0, 1) "
                     "that kiln's hard_sigmoid computes")
    if value not in _ACTIVATIONS:
        _fail(layer, "its %s %r is not one kiln has (%s)" % (what, value, ", ".join(_ACTIVATIONS)))
    return value


def _regularizer(layer, value, what):
    if value is None:
        return None
    if isinstance(value, dict) and value.get("class_name") in ("L1L2", "L1", "L2", "l1_l2", "L1L2Regularizer"):
        c = value.get("config") or {}
        return {"name": "L1L2Regularizer", "l1": float(c.get("l1", 0.0) or 0.0), "l2": float(c.get("l2", 0.0) or 0.0)}
    _fail(layer, "its %s %.120r is not an L1/L2 regularizer" % (what, value))


def _no(layer, c, keys):
    """Arguments that must be absent or off: anything else is named in the error."""
    for key, off in keys:
        v = c.get(key, off)
        if v != off and not (off is None and v in (None, {}, [])):
            _fail(layer, "%s=%.120r is not supported (kiln has only %s=%r)" % (key, v, key, off))


def _common(layer, c):
    _no(layer, c, [("kernel_constraint", None), ("bias_constraint", None), ("recurrent_constraint", None),
                   ("embeddings_constraint", None), ("beta_constraint", None), ("gamma_constraint", None)])
    out = {"name": layer["name"], "trainable": bool(c.get("trainable", True))}
    if c.get("activity_regularizer") is not None:
        out["activity_regularizer"] = _regularizer(layer, c["activity_regularizer"], "activity_regularizer")
    return out


def _tuple(v, n):
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    return tuple(int(a) for a in v)


def _ones(layer, c, key, n):
    """An argument such as dilation_rate that kiln's layer has only at 1 on each of n axes."""
    if _tuple(c.get(key, 1), n) != (1,) * n:
        _fail(layer, "%s=%r is not supported (kiln's %s has only %r)" % (key, c[key], layer.get("class_name"),
                                                                          (1,) * n))


def _image_ordering(layer, c, version):
    fmt = c.get("data_format") or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        _fail(layer, "data_format %r" % (fmt,))
    return "th" if fmt == "channels_first" else "tf"


def _only_last(layer, c):
    if (c.get("data_format") or "channels_last") != "channels_last":
        _fail(layer, "data_format=%r: kiln's 1D layers work on (batch, steps, features)" % c.get("data_format"))
