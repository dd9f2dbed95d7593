"""Files of real Keras 2 and 3 in, and weights files for them out (docs/interop.md, "Keras files").

Read:
    Keras 2 (tf-keras, Keras 2.x) `model.save('m.h5')` / `save_weights('w.h5')`, and Keras 3's
    legacy `.h5` (the same layout): root attributes `keras_version` (2.x, 3.x), `backend`,
    `model_config`; group `model_weights` (or the root) with `layer_names`, one group per layer
    whose `weight_names` are `layer/kernel:0`-style paths (a nested model's group holds every
    weight of its layers, each under its own layer's name).
    Keras 3 `.keras` (a zip of config.json, metadata.json, model.weights.h5) and
    `.weights.h5`: `layers/<class in snake case, numbered>/vars/<i>` (a recurrent layer's under
    `.../cell/vars`, a nested model's under `.../layers/...`), each `vars` group naming its layer
    in the attribute `name`.
Write (`save_weights(path, keras_format=2 | 3)`):
    2: Keras 2's layout above (keras_version "2.0.0", backend "tensorflow"), which tf-keras and
       Keras 3 read with `load_weights('w.h5')`; 3: Keras 3's `.weights.h5` layout.

Models come back uncompiled: a Keras training_config (optimizer state, losses) is not read.
"""
import io
import json
import warnings
import zipfile

import numpy as np

from . import keras_config, keras_weights
from .keras_weights import Unconvertible
from .weights import _h5py, _names

KERAS2_VERSION = b"2.0.0"  # the layout's version, written with kiln_version


def _version(attrs):
    v = attrs.get("keras_version")
    if v is None:
        return None
    v = v.decode("utf8") if isinstance(v, (bytes, np.bytes_)) else str(v)
    major = v.split(".")[0]
    return int(major) if major in ("2", "3") else None


def h5_keras_version(f):
    """2 or 3 for a file Keras 2 or 3 wrote in the layer_names layout, 3 for Keras 3's
    `.weights.h5` layout, None for Keras 1.2's (and kiln's)."""
    group = f["model_weights"] if "model_weights" in f else f
    v = _version(f.attrs) or _version(group.attrs)
    if v is None and "layer_names" not in group.attrs and "layers" in f and "vars" in f:
        return 3
    return v


def is_native_keras3(f):
    return "layer_names" not in f.attrs and "model_weights" not in f and "layers" in f


# ------------------------------------------------------------------------------- reading

def _legacy_entries(group, path):
    """{layer name: [(weight path, dataset)]} of a Keras 2 layout group, in layer_names order."""
    h5py = _h5py()
    out = {}
    for lname in _names(group.attrs["layer_names"], path, "layer_names"):
        if lname not in group or not isinstance(group[lname], h5py.Group):
            raise ValueError("%s: layer_names lists %r but the file has no group of that name" % (path, lname))
        g = group[lname]
        wnames = _names(g.attrs["weight_names"], path, "weight_names of %r" % lname) \
            if "weight_names" in g.attrs and len(g.attrs["weight_names"]) else []
        entries = []
        for wn in wnames:
            if wn not in g or not isinstance(g[wn], h5py.Dataset):
                raise ValueError("%s: layer %r lists weight %r but has no dataset of that name" % (path, lname, wn))
            entries.append((wn, g[wn]))
        out[lname] = entries
    return out


def _short(wname):
    return wname.split("/")[-1].split(":")[0]


def _by_leaf(layer, entries, path):
    """[(leaf layer, {Keras name: dataset})] for one kiln layer and its file entries."""
    from ..graph.container import Container
    if not isinstance(layer, Container):
        d = {}
        for wn, ds in entries:
            if _short(wn) in d:
                raise ValueError("%s: layer %r holds two weights named %s" % (path, layer.name, _short(wn)))
            d[_short(wn)] = ds
        return [(layer, d)]
    leaves = keras_weights.leaves(layer)
    names = {l.name for l in leaves}
    groups = {n: [] for n in names}
    for wn, ds in entries:
        parts = wn.split("/")
        owner = next((p for p in parts[:-1] if p in names), None)
        if owner is None:
            raise ValueError("%s: the nested model %r holds weight %r, which belongs to none of its layers (%s)"
                             % (path, layer.name, wn, sorted(names)))
        groups[owner].append((wn, ds))
    return [(leaf, _by_leaf(leaf, groups[leaf.name], path)[0][1]) for leaf in leaves]


def _legacy_plan(model, group, path, by_name, theano):
    """(variable, value) for every weight of a Keras 2 layout group, all checked first."""
    entries = _legacy_entries(group, path)
    if by_name:
        by = {l.name: l for l in model.layers}
        pairs = [(by[n], e) for n, e in entries.items() if n in by]
    else:
        model_layers = [l for l in model.layers if l.weights]
        file_layers = [n for n, e in entries.items() if e]
        if len(file_layers) != len(model_layers):
            raise ValueError("%s: the file has %d layers with weights (%s) but the model has %d (%s)"
                             % (path, len(file_layers), file_layers, len(model_layers),
                                [l.name for l in model_layers]))
        pairs = list(zip(model_layers, [entries[n] for n in file_layers]))
    out = []
    for layer, e in pairs:
        for leaf, arrays in _by_leaf(layer, e, path):
            values = keras_weights.from_keras(leaf, arrays, path)
            if theano:
                values = keras_weights.theano_flip(leaf, values)
            out += list(zip(leaf.weights, values))
    return out


def _native_plan(model, f, path, paths=None):
    """(variable, value) for every weight of a Keras 3 `.weights.h5` layout file. paths: {layer
    name: group path} from the model's config; else the `name` attributes of the vars groups."""
    h5py = _h5py()
    if paths is None:
        paths = {}

        def visit(name, obj):
            if isinstance(obj, h5py.Group) and (name == "vars" or name.endswith("/vars")) and "name" in obj.attrs:
                n = obj.attrs["name"]
                n = n.decode("utf8") if isinstance(n, bytes) else str(n)
                parent = name[:-len("/vars")] if name != "vars" else ""
                paths.setdefault(n, []).append(parent)
        f.visititems(visit)
        paths = {n: p for n, p in paths.items()}
    else:
        paths = {n: [p] for n, p in paths.items()}
    out = []
    for leaf in keras_weights.leaves(model):
        found = paths.get(leaf.name, [])
        # a recurrent layer's variables are its cell's; its own vars group is empty
        found = sorted({p + "/cell" if p + "/cell/vars" in f else p for p in found})
        found = [p for p in found if p + "/vars" in f and len(f[p + "/vars"])] or found
        if len(found) != 1:
            raise ValueError("%s: %s layer %r of the model in the Keras 3 weights file%s"
                             % (path, "no variables for" if not found else "several groups hold", leaf.name,
                                "" if found else " (a file without the vars groups' name attributes, written "
                                "by an older Keras 3, loads from its .keras file)"))
        g = f[found[0] + "/vars"] if found[0] + "/vars" in f else {}
        names = keras_weights.keras_names(leaf)
        n = len(g)
        if type(leaf).__name__ == "BatchNormalization" and n < len(names):
            raise ValueError("%s: layer %r: the Keras BatchNormalization has %d of gamma, beta, moving_mean, "
                             "moving_variance (center or scale off); which ones only its config says: load the "
                             ".keras file" % (path, leaf.name, n))
        if n == len(names) - 1 and names[-1] == "bias":
            names = names[:-1]  # use_bias=False
        if n != len(names):
            raise ValueError("%s: layer %r (%s) has %d variables in the file, kiln expects %d (%s)"
                             % (path, leaf.name, type(leaf).__name__, n, len(names), ", ".join(names)))
        arrays = {k: g[str(i)] for i, k in enumerate(names)}
        out += list(zip(leaf.weights, keras_weights.from_keras(leaf, arrays, path)))
    return out


def _absent(config):
    """{layer name: the Keras weights it lacks} from a Keras 2/3 model config: gamma / beta of a
    BatchNormalization without scale / center, the bias of a recurrent layer without use_bias
    (kiln's layers have them: ones and zeros)."""
    out = {}

    def walk(c):
        for entry in (c.get("config") or {}).get("layers") or []:
            k, lc = entry.get("class_name"), entry.get("config") or {}
            name = entry.get("name", lc.get("name"))
            if k in keras_config.MODEL_CLASSES:
                walk(entry)
            elif k == "BatchNormalization":
                out[name] = {n for n, on in (("gamma", lc.get("scale", True)), ("beta", lc.get("center", True)))
                             if not on}
            elif k in ("LSTM", "GRU", "SimpleRNN") and not lc.get("use_bias", True):
                out[name] = {"bias"}
    walk(config)
    return {n: a for n, a in out.items() if a}


def _remember_absent(model, config):
    """Marks each layer with the Keras weights its Keras layer lacks, so that save_weights(...,
    keras_format=) leaves them out again."""
    absent = _absent(config)
    for leaf in keras_weights.leaves(model):
        if leaf.name in absent:
            leaf._keras_absent = frozenset(absent[leaf.name])


def _set(assignments):
    for variable, value in assignments:
        variable.set_value(value)


def load_weights(model, f, path, by_name=False, theano_kernels=None):
    """Weights of a Keras 2 or 3 file into model (called by saving.load_weights)."""
    if is_native_keras3(f):
        _set(_native_plan(model, f, path))
        return
    group = f["model_weights"] if "model_weights" in f else f
    _set(_legacy_plan(model, group, path, by_name, _theano(f, theano_kernels)))


def _theano(f, stated):
    if stated is not None:
        return bool(stated)
    b = f.attrs.get("backend")
    return (b.decode() if isinstance(b, bytes) else b) == "theano"


def load_model(path, custom_objects=None, compile=True):
    """A kiln model from a Keras 2 `.h5` or Keras 3 `.keras` / legacy `.h5` model file."""
    from .model_config import model_from_config
    from ..utils.custom_objects import custom_object_scope
    h5py = _h5py()
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "config.json" not in names or "model.weights.h5" not in names:
                    raise ValueError("%s: a .keras file holds config.json and model.weights.h5; this one has %s"
                                     % (path, sorted(names)[:10]))
                if z.getinfo("config.json").file_size > 64 << 20:
                    raise ValueError("%s: config.json is larger than 64 MiB" % path)
                config = json.loads(z.read("config.json"))
                blob = io.BytesIO(z.read("model.weights.h5"))
        except (zipfile.BadZipFile, ValueError, KeyError, UnicodeDecodeError) as e:
            raise ValueError("%s is not a .keras file kiln can read (%s)" % (path, e)) from None
        with h5py.File(blob, "r") as f, custom_object_scope(custom_objects):
            model = _build(config, 3, path, model_from_config)
            _remember_absent(model, config)
            _set(_native_plan(model, f, path, keras_config.keras3_paths(config)))
        return model
    with h5py.File(path, "r") as f, custom_object_scope(custom_objects):
        version = h5_keras_version(f)
        if "model_config" not in f.attrs:
            raise ValueError("%s has no model_config: a weights file (use model.load_weights)" % path)
        raw = f.attrs["model_config"]
        config = json.loads(raw.decode("utf8") if isinstance(raw, bytes) else str(raw))
        model = _build(config, version, path, model_from_config)
        _remember_absent(model, config)
        if "model_weights" not in f:
            raise ValueError("%s has no model_weights group" % path)
        _set(_legacy_plan(model, f["model_weights"], path, True, _theano(f, None)))
        if compile and "training_config" in f.attrs:
            warnings.warn("%s: kiln does not read a Keras %d training_config; the model is returned uncompiled"
                          % (path, version), stacklevel=3)
    return model


def _build(config, version, path, model_from_config):
    try:
        return model_from_config(keras_config.translate(config, version))
    except Unconvertible as e:
        raise ValueError("%s: %s" % (path, e)) from None


# ------------------------------------------------------------------------------- writing

_KERAS3_CLASS = {"Convolution2D": "conv2d", "AtrousConvolution2D": "conv2d", "Convolution1D": "conv1d",
                 "AtrousConvolution1D": "conv1d", "Convolution3D": "conv3d", "Deconvolution2D": "conv2d_transpose",
                 "SeparableConvolution2D": "separable_conv2d", "PReLU": "p_re_lu", "Dense": "dense",
                 "Embedding": "embedding", "LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn",
                 "BatchNormalization": "batch_normalization", "Model": "functional", "Sequential": "sequential"}


def write_keras(f, model, version):
    """Writes model's weights to the open h5py file f in Keras `version`'s layout."""
    from .. import __version__
    from ..graph.container import Container
    if version == 2:
        f.attrs["layer_names"] = np.array([l.name.encode("utf8") for l in model.layers], dtype="S")
        f.attrs["keras_version"] = np.bytes_(KERAS2_VERSION)
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["kiln_version"] = np.bytes_(__version__.encode("utf8"))
        for layer in model.layers:
            g = f.create_group(layer.name)
            trainable, frozen = [], []
            for leaf in keras_weights.leaves(layer) if isinstance(layer, Container) else [layer]:
                for k, a in keras_weights.to_keras(leaf):
                    (trainable if leaf.trainable and k not in ("moving_mean", "moving_variance") else frozen).append(
                        ("%s/%s:0" % (leaf.name, k), a))
            ws = trainable + frozen
            g.attrs["weight_names"] = np.array([n.encode("utf8") for n, _ in ws], dtype="S")
            for n, a in ws:
                g.create_dataset(n, data=a)
        return
    f.create_group("vars").attrs["name"] = model.name

    def walk(m, prefix):
        used = {}
        for layer in m.layers:
            if type(layer).__name__ == "InputLayer":
                continue
            base = _KERAS3_CLASS.get(type(layer).__name__)
            if base is None:
                if layer.weights:
                    raise ValueError("layer %r (%s) has no Keras 3 counterpart kiln writes" % (layer.name,
                                                                                        type(layer).__name__))
                continue
            if base in used:
                used[base] += 1
                base = "%s_%d" % (base, used[base])
            else:
                used[base] = 0
            p = "%s/layers/%s" % (prefix, base) if prefix else "layers/" + base
            if isinstance(layer, Container):
                f.create_group(p + "/vars").attrs["name"] = layer.name
                walk(layer, p)
                continue
            arrays = keras_weights.to_keras(layer)
            g = f.create_group(p + "/vars")
            g.attrs["name"] = layer.name
            if base.split("_")[0] in ("lstm", "gru", "simple"):  # the variables are the cell's
                g = f.create_group(p + "/cell/vars")
                g.attrs["name"] = _KERAS3_CLASS[type(layer).__name__] + "_cell"
            for i, (_, a) in enumerate(arrays):
                g.create_dataset(str(i), data=a)
    walk(model, "")


def check_keras_format(keras_format):
    if keras_format not in (None, 1, 2, 3):
        raise ValueError("keras_format must be 1 (Keras 1.2's layout, the default), 2 or 3, got %r" % (keras_format,))


__all__ = ["load_model", "load_weights", "write_keras", "h5_keras_version", "is_native_keras3"]
