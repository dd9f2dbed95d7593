"""save_weights / load_weights in Keras 1.2's HDF5 layout.

The file's root has the attribute `layer_names` (every layer of `model.layers`, or of a
Sequential's `flattened_layers`, in order, as bytes) and one group per layer whose attribute
`weight_names` lists its weights; each weight is a dataset of that name. `keras_version` is "1.2.2", so real Keras 2 converts the file as one of
Keras 1's; `kiln_version` says which kiln wrote it. A file written by `model.save` keeps the same
layout under its `model_weights` group, and load_weights reads either.

A file is untrusted input: every name, shape and dtype is checked against the model before any
data is read (so a dataset declaring a huge shape is never allocated), and the model is changed
only after every check has passed.
"""
import numpy as np

KERAS_VERSION = b"1.2.2"


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("saving and loading weights needs h5py (pip install h5py, or kiln-nn[h5])")
    return h5py


def _names(attr, path, what):
    try:
        vals = list(np.asarray(attr).ravel())
        return [v.decode("utf8") if isinstance(v, (bytes, np.bytes_)) else str(v) for v in vals]
    except Exception as e:
        raise ValueError("%s: attribute %s cannot be read as a list of names (%s)" % (path, what, e))


def weight_layers(model):
    """The layers a Keras 1.2 file has a group for, in order: model.layers, or a Sequential's
    flattened_layers (for a first Merge of models, Keras 1.2 lists the models' layers)."""
    return getattr(model, "flattened_layers", None) or model.layers


def save_weights(model, filepath, overwrite=True, keras_format=None):
    """Writes every layer's weights, atomically: in Keras 1.2's layout (keras_format None or 1),
    or for real Keras 2 (2: the layer_names layout tf-keras and Keras 3 read from a `.h5`) or
    Keras 3 (3: its `.weights.h5` layout), saving/keras_files.py."""
    import os

    from .. import __version__
    from .atomic import atomic_write
    from .keras_files import check_keras_format, write_keras
    check_keras_format(keras_format)
    h5py = _h5py()
    if not overwrite and os.path.exists(filepath):
        raise IOError("%s exists and overwrite=False" % filepath)
    layers = weight_layers(model)
    values = [(layer.name, [w.name for w in layer.weights], layer.get_weights()) for layer in layers]

    def write(tmp):
        try:
            with h5py.File(tmp, "w") as f:
                if keras_format in (2, 3):
                    write_keras(f, model, keras_format)
                    return
                write_weights_group(f, values)
                f.attrs["keras_version"] = np.bytes_(KERAS_VERSION)  # fixed-length bytes, as Keras reads it
                f.attrs["kiln_version"] = np.bytes_(__version__.encode("utf8"))
        except (OSError, RuntimeError) as e:  # h5py reports a failed write (a full disk) as either
            msg = "cannot write the weights to %s: %s" % (filepath, e)
            raise (OSError(e.errno, msg) if getattr(e, "errno", None) else OSError(msg)) from e

    atomic_write(filepath, write)


def write_weights_group(group, values):
    """values: (layer name, weight names, arrays) per layer."""
    group.attrs["layer_names"] = np.array([n.encode("utf8") for n, _, _ in values], dtype="S")
    for name, wnames, arrays in values:
        g = group.create_group(name)
        g.attrs["weight_names"] = np.array([w.encode("utf8") for w in wnames], dtype="S")
        for wn, a in zip(wnames, arrays):
            g.create_dataset(wn, data=np.asarray(a, dtype=np.float32))


def load_weights(model, filepath, by_name=False, theano_kernels=None):
    """Reads weights written by save_weights or model.save (Keras 1.2 layout), or by real Keras
    2 or 3 (converted: saving/keras_files.py): by position over the layers that have weights, or,
    with by_name, into the layers of the same name (the others keep their values). Raises
    ValueError naming the file, the layer and both shapes on any mismatch, leaving the model as
    it was.

    theano_kernels: the file's conv kernels were saved by Keras on Theano, which convolves
    (flips the kernel): each is flipped back, as Keras 1.2's convert_kernel does. None: only when
    the file's `backend` attribute says theano (Keras 1.2 files do not record it)."""
    h5py = _h5py()
    path = str(filepath)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise IOError("%s: no such file" % path)
    except OSError as e:
        raise ValueError("%s is not an HDF5 file kiln can read (%s)" % (path, e))
    with f:
        from .keras_files import h5_keras_version, load_weights as load_keras_weights
        from .keras_weights import theano_flip
        try:
            if h5_keras_version(f) is not None:
                return load_keras_weights(model, f, path, by_name, theano_kernels)
            group = f["model_weights"] if "model_weights" in f else f
            if "layer_names" not in group.attrs:
                if "nb_layers" in group.attrs:
                    raise ValueError("%s is in the pre-1.0 Keras weight layout (nb_layers), which kiln does not read"
                                     % path)
                raise ValueError("%s has no layer_names attribute: not a Keras weight file" % path)
            theano = theano_kernels or (theano_kernels is None and _attr(f, "backend") == "theano")
            assignments = _plan(model, group, path, by_name, theano_flip if theano else None)
        except (KeyError, TypeError, AttributeError, RuntimeError, OSError) as e:
            raise ValueError("%s: malformed weight file (%s)" % (path, e))
    for variable, value in assignments:
        variable.set_value(value)


def _attr(f, key):
    v = f.attrs.get(key)
    return v.decode("utf8") if isinstance(v, (bytes, np.bytes_)) else v


def _read_layer(group, lname, path):
    """[(weight name, dataset)] of one layer group; checks names and kinds, reads no data."""
    if lname not in group or not isinstance(group[lname], _h5py().Group):
        raise ValueError("%s: layer_names lists %r but the file has no group of that name" % (path, lname))
    g = group[lname]
    wnames = _names(g.attrs["weight_names"], path, "weight_names of layer %r" % lname) \
        if "weight_names" in g.attrs else []
    out = []
    for wn in wnames:
        if wn not in g or not isinstance(g[wn], _h5py().Dataset):
            raise ValueError("%s: layer %r lists weight %r but has no dataset of that name" % (path, lname, wn))
        out.append((wn, g[wn]))
    return out


def _layer_values(layer, saved, path, lname):
    """The arrays for layer.weights from its saved datasets, after checking count, shape, dtype."""
    weights = layer.weights
    if len(saved) != len(weights):
        raise ValueError('%s: layer "%s" of the model expects %d weights, but the saved layer %s has %d.'
                         % (path, layer.name, len(weights), lname, len(saved)))
    out = []
    for w, (wn, ds) in zip(weights, saved):
        if tuple(ds.shape) != tuple(w.shape):
            raise ValueError("%s: layer \"%s\", weight %s: the model's shape is %s but the file's %s is %s"
                             % (path, layer.name, w.name, tuple(w.shape), wn, tuple(ds.shape)))
        if ds.dtype.kind not in "fiu":
            raise ValueError("%s: layer \"%s\", weight %s has dtype %s, not a number" % (path, layer.name, wn, ds.dtype))
        out.append((w, np.asarray(ds[()], dtype=np.float32)))
    return out


def _plan(model, group, path, by_name, flip=None):
    """(variable, value) for every weight to set, all checked before any is set."""
    file_layers = _names(group.attrs["layer_names"], path, "layer_names")
    if len(set(file_layers)) != len(file_layers):
        raise ValueError("%s: layer_names repeats a name" % path)
    saved = {n: _read_layer(group, n, path) for n in file_layers}
    out = []

    def _values(layer, saved_layer, path, n):
        pairs = _layer_values(layer, saved_layer, path, n)
        if flip is None:
            return pairs
        return list(zip([w for w, _ in pairs], flip(layer, [a for _, a in pairs])))
    if by_name:
        by = {l.name: l for l in weight_layers(model)}
        for n in file_layers:
            if n in by:
                out += _values(by[n], saved[n], path, n)
        return out
    model_layers = [l for l in weight_layers(model) if l.weights]
    file_layers = [n for n in file_layers if saved[n]]
    if len(file_layers) != len(model_layers):
        raise ValueError("You are trying to load a weight file containing %d layers into a model with %d layers. (%s)"
                         % (len(file_layers), len(model_layers), path))
    for layer, n in zip(model_layers, file_layers):
        out += _values(layer, saved[n], path, n)
    return out
