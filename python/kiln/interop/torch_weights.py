"""PyTorch weights into a kiln model: `load_torch_state_dict(model, state_dict, mapping=None)`.

A state dict's keys are `<module path>.<parameter>`; a *unit* is what fills one kiln layer:
a module's parameters (Linear, Conv2d, Embedding, BatchNorm*d), or one layer of an LSTM / RNN
(`weight_ih_l<k>`, `weight_hh_l<k>`, `bias_ih_l<k>`, `bias_hh_l<k>`, with `_reverse` for the
backward direction of a bidirectional one; unit name `<module>.l<k>`). Units are paired with
kiln's layers that have weights, in order (state-dict order, which is the order the modules were
registered in, against model.layers, nested models flattened in place), unless `mapping`
({unit name: kiln layer or layer name}) pairs them explicitly; then only the mapped pairs load.

Conversions (docs/interop.md): Linear's weight [out, in] is transposed to Dense's W [in, out];
Conv2d's OIHW kernel is kiln's channels-first W as is, and is transposed to (kh, kw, in, out)
for a channels-last layer; Conv1d's (out, in, k) kernel becomes Convolution1D's
(k, 1, in, out); BatchNorm's running_var is kiln's running_std (which holds the variance, as
Keras 1.2's); an LSTM's packed gates i, f, g, o become W_i, W_f, W_c, W_o (each transposed) and
its two biases are summed; nn.RNN's likewise into SimpleRNN's W, U, b. A torch GRU goes into a
kiln GRU(reset_after=True) only, which computes torch's function: its packed gates r, z, n
become W_r, W_z, W_h (and U_*), bias_ih the input biases b_*, bias_hh the recurrent biases
bU_* (kept apart: b_hn sits inside the reset product). A kiln GRU without reset_after (Keras
1.2's, r * h before U_h) is refused. Nothing is loaded unless everything converts: every error
names the torch key and shape and the kiln layer, weight and shape.
"""
import re

import numpy as np

_RNN_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
_LSTM_GATES = ("i", "f", "c", "o")  # torch packs i, f, g, o; kiln's cell input is c
_GRU_GATES = ("r", "z", "h")  # torch packs r, z, n; kiln's candidate is h
_CONV1D = ("Convolution1D", "AtrousConvolution1D")


class TorchWeightsError(ValueError):
    """A state dict that does not fit the model; the message names both sides."""


def _array(v):
    if hasattr(v, "detach"):  # a torch tensor, without importing torch
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=np.float32)


def _units(state_dict):
    """[(unit name, {param: (torch key, array)}, {param: ...} of the reverse direction or None)]."""
    units, order = {}, []
    for key, value in state_dict.items():
        module, _, param = key.rpartition(".")
        if param == "num_batches_tracked":
            continue
        m = _RNN_KEY.match(param)
        name, direction = (module, 0) if m is None else \
            (("%s.l%s" % (module, m.group(2))).lstrip("."), 1 if m.group(3) else 0)
        if m is not None:
            param = m.group(1)
        if name not in units:
            units[name] = [{}, {}]
            order.append(name)
        units[name][direction][param] = (key, _array(value))
    return [(n, units[n][0], units[n][1] or None) for n in order]


def _weighted_layers(model):
    """kiln's layers that own weights, in model.layers order, nested models flattened."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):  # a nested model
            out.extend(_weighted_layers(layer))
        elif layer.weights:
            out.append(layer)
    return out


def _kind(unit, params):
    if "weight_ih" in params:
        rows, hidden = params["weight_ih"][1].shape[0], params["weight_hh"][1].shape[1]
        return {4: "LSTM", 3: "GRU", 1: "RNN"}.get(rows // hidden, "recurrent")
    if "running_mean" in params:
        return "BatchNorm"
    w = params.get("weight")
    if w is None:
        raise TorchWeightsError("torch unit %r has no weight (keys: %s)" % (unit, sorted(k for k, _ in params.values())))
    return {4: "Conv2d", 2: "Linear or Embedding", 3: "Conv1d"}.get(w[1].ndim, "%d-D weight" % w[1].ndim)


class _Target:
    """One kiln layer's weights by suffix (`W`, `b`, `W_i`, ...), set only after every check."""

    def __init__(self, layer):
        self.layer = layer
        self.by_suffix = {}
        for v in layer.weights:
            name = v.name
            suffix = name[len(layer.name) + 1:] if name.startswith(layer.name + "_") else name
            self.by_suffix[suffix] = v
        self.values = []

    def put(self, suffix, value, torch_key, torch_shape):
        v = self.by_suffix.get(suffix)
        if v is None:
            raise TorchWeightsError("torch %s %s has no place in kiln layer %r (%s), which has weights %s"
                                    % (torch_key, tuple(torch_shape), self.layer.name, type(self.layer).__name__,
                                       sorted(self.by_suffix)))
        if tuple(value.shape) != tuple(v.shape):
            raise TorchWeightsError("torch %s %s gives %s %s (after conversion) but kiln layer %r's weight %s is %s"
                                    % (torch_key, tuple(torch_shape), suffix, tuple(value.shape), self.layer.name,
                                       v.name, tuple(v.shape)))
        self.values.append((v, value))

    def check_complete(self, unit):
        missing = sorted(set(self.by_suffix) - {v.name[len(self.layer.name) + 1:] for v, _ in self.values})
        if missing:
            raise TorchWeightsError("torch unit %r leaves kiln layer %r's weights %s unset"
                                    % (unit, self.layer.name, missing))


def _inner(layer):
    return getattr(layer, "layer", None) if type(layer).__name__ == "TimeDistributed" else layer


def _load_unit(unit, params, reverse, layer):
    """The (variable, value) pairs that put torch unit `unit` into kiln `layer`."""
    kind = _kind(unit, params)
    cls = type(layer).__name__
    if reverse is not None or cls == "Bidirectional":
        if cls != "Bidirectional" or reverse is None:
            raise TorchWeightsError("torch unit %r is %s but kiln layer %r is %s: a bidirectional torch %s goes into "
                                    "a kiln Bidirectional and a one-directional one into the plain layer"
                                    % (unit, "bidirectional" if reverse is not None else "one-directional",
                                       layer.name, cls, kind))
        return (_load_unit(unit, params, None, layer.forward_layer)
                + _load_unit(unit + " (reverse)", reverse, None, layer.backward_layer))
    layer = _inner(layer)
    cls = type(layer).__name__
    t = _Target(layer)
    key = lambda p: params[p][0]
    shape = lambda p: params[p][1].shape
    put = lambda suffix, value, p: t.put(suffix, value, key(p), shape(p))
    want = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "SimpleRNN", "BatchNorm": "BatchNormalization",
            "Conv2d": "Convolution2D", "Conv1d": "Convolution1D"}.get(kind)
    if kind == "Linear or Embedding":
        want = "Embedding" if cls == "Embedding" else "Dense"
    accepted = {"Dense": ("Dense", "TimeDistributedDense"), "Convolution1D": _CONV1D,
                "Convolution2D": ("Convolution2D", "Conv2D")}.get(want, (want,))
    if want is None or cls not in accepted:
        raise TorchWeightsError("torch unit %r (%s: %s) does not go into kiln layer %r (%s)%s"
                                % (unit, kind, ", ".join("%s %s" % (k, tuple(a.shape)) for k, a in params.values()),
                                   layer.name, cls, "; kiln takes it into a %s" % want if want else ""))
    if kind == "GRU" and not getattr(layer, "reset_after", False):
        raise TorchWeightsError(
            "torch unit %r is a GRU, which kiln layer %r (a GRU with reset_after=False) cannot take: torch applies "
            "the reset gate after the recurrent product (n = tanh(W_in x + b_in + r * (W_hn h + b_hn))), Keras "
            "1.2's GRU before it (r * h before U_h); build the kiln layer as GRU(..., reset_after=True, "
            "inner_activation='sigmoid'), which computes torch's function" % (unit, layer.name))
    if kind in ("LSTM", "GRU", "RNN"):
        inner = getattr(layer, "inner_activation", None)
        if inner is not None and inner.__name__ != "sigmoid":
            raise TorchWeightsError("torch unit %r is an %s, whose gates are sigmoids; kiln layer %r has "
                                    "inner_activation=%r: build it with inner_activation='sigmoid'"
                                    % (unit, kind, layer.name, inner.__name__))
        if kind != "RNN" and layer.activation.__name__ != "tanh":
            raise TorchWeightsError("torch unit %r is an %s (tanh); kiln layer %r has activation=%r"
                                    % (unit, kind, layer.name, layer.activation.__name__))
        if "bias_ih" not in params:
            raise TorchWeightsError("torch unit %r has no biases (bias=False); kiln layer %r needs them: load "
                                    "zeros for bias_ih and bias_hh" % (unit, layer.name))
        wi, wh = params["weight_ih"][1], params["weight_hh"][1]
        bi, bh = params["bias_ih"][1], params["bias_hh"][1]
        u = wh.shape[1]
        gates = {"LSTM": _LSTM_GATES, "GRU": _GRU_GATES}.get(kind, ("",))
        for g, name in enumerate(gates):
            sfx = "_" + name if name else ""
            rows = slice(g * u, (g + 1) * u)
            t.put("W" + sfx, wi[rows].T, key("weight_ih"), wi.shape)
            t.put("U" + sfx, wh[rows].T, key("weight_hh"), wh.shape)
            if kind == "GRU":  # b_hn is inside r * (...): the recurrent biases stay apart, as bU_*
                t.put("b" + sfx, bi[rows], key("bias_ih"), bi.shape)
                t.put("bU" + sfx, bh[rows], key("bias_hh"), bh.shape)
            else:
                t.put("b" + sfx, (bi + bh)[rows], key("bias_ih") + " + " + key("bias_hh"), bi.shape)
    elif kind == "BatchNorm":
        for p, suffix in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"),
                          ("running_var", "running_std")):
            if p not in params:
                raise TorchWeightsError("torch unit %r lacks %s (affine=False or track_running_stats=False); kiln "
                                        "layer %r needs %s" % (unit, p, layer.name, suffix))
            put(suffix, params[p][1], p)
    elif kind == "Conv2d":
        w = params["weight"][1]
        ordering = getattr(layer, "dim_ordering", "th")
        put("W", w if ordering == "th" else np.transpose(w, (2, 3, 1, 0)), "weight")
        if "bias" in params:
            put("b", params["bias"][1], "bias")
    elif kind == "Conv1d":
        w = params["weight"][1]  # (out, in, k) -> kiln's (k, 1, in, out); both cross-correlate
        put("W", np.ascontiguousarray(np.transpose(w, (2, 1, 0))[:, None]), "weight")
        if "bias" in params:
            put("b", params["bias"][1], "bias")
    elif want == "Embedding":
        put("W", params["weight"][1], "weight")
    else:  # Linear
        put("W", params["weight"][1].T, "weight")
        if "bias" in params:
            put("b", params["bias"][1], "bias")
    extra = sorted(set(params) - {"weight", "bias", "running_mean", "running_var", "weight_ih", "weight_hh",
                                  "bias_ih", "bias_hh"})
    if extra:
        raise TorchWeightsError("torch unit %r has parameters kiln has no place for: %s"
                                % (unit, [params[p][0] for p in extra]))
    t.check_complete(unit)
    return t.values


def _find_layer(model, name):
    todo = list(model.layers)
    while todo:
        layer = todo.pop(0)
        if layer.name == name:
            return layer
        todo.extend(getattr(layer, "layers", []))
    raise TorchWeightsError("mapping names kiln layer %r, which the model lacks" % (name,))


def load_torch_state_dict(model, state_dict, mapping=None):
    """Sets `model`'s weights from a PyTorch state dict (tensors or arrays); returns the
    {torch unit: kiln layer name} pairs it loaded. See the module docstring for the mapping."""
    units = _units(state_dict)
    by_name = {u[0]: u for u in units}
    if mapping is None:
        layers = _weighted_layers(model)
        if len(layers) != len(units):
            raise TorchWeightsError(
                "the state dict has %d units with weights %s but the model has %d layers with weights %s; pass "
                "mapping={torch unit: kiln layer name} to pair them" % (len(units), [u[0] for u in units],
                                                                        len(layers), [l.name for l in layers]))
        pairs = list(zip(units, layers))
    else:
        pairs = []
        for unit, target in mapping.items():
            if unit not in by_name:
                raise TorchWeightsError("mapping names torch unit %r, which the state dict lacks (it has %s)"
                                        % (unit, [u[0] for u in units]))
            layer = _find_layer(model, target) if isinstance(target, str) else target
            pairs.append((by_name[unit], layer))
    values = []
    for (unit, params, reverse), layer in pairs:
        values += _load_unit(unit, params, reverse, layer)
    for v, value in values:  # only now: a failed check leaves the model as it was
        v.set_value(value)
    return {u[0]: layer.name for u, layer in pairs}
