"""model.save(path) / load_model(path, custom_objects=): one HDF5 file in Keras 1.2's layout that
a loaded model trains on from exactly where the saved one stopped.

Root attributes:
    keras_version     b"1.2.2" (Keras 2 converts the file as a Keras 1 one); kiln_version
    model_config      JSON {class_name, config} (saving/model_config.py)
    training_config   JSON {optimizer_config {class_name, config}, loss, metrics,
                      sample_weight_mode, loss_weights}: present when the model was compiled;
                      kiln's losses and metrics by name, the user's as {"class_name":
                      "GraphFunction", "config": {name, function: op list (traced.py)}}
    kiln_state        JSON of what else an exact resume needs (Keras ignores it): the train
                      program's run count (the step every dropout mask hashes), the shuffle seed
                      and the number of epochs trained (fit's epoch orders), and the optimizer
                      scalars Keras does not save (RMSprop's iterations, Nadam's m_schedule)
Groups:
    model_weights     as save_weights writes (weights.py); BatchNormalization's moving
                      statistics are weights, so they are here
    optimizer_weights attribute weight_names and one dataset per optimizer weight, in Keras
                      1.2's order: [iterations] (SGD, Adam, Adamax, Nadam) then each slot over
                      the trainable weights sorted by name (Adam: every m, then every v)

A file is untrusted input: loading checks every name and shape before setting anything, and
every problem is a ValueError naming the file and what is wrong in it.
"""
import json
import os
import warnings

import numpy as np

from . import traced
from .model_config import KERAS_VERSION, model_dict
from .weights import _h5py

GRAPH_FUNCTION = "GraphFunction"  # training_config's record of a traced loss or metric

# Slots of each optimizer, in the order of its update op (csrc/passes/train.cpp), and whether
# Keras 1.2 lists `iterations` first among the optimizer's weights.
_SLOTS = {"sgd": (("moment",), True), "rmsprop": (("accumulator",), False), "adagrad": (("accumulator",), False),
          "adadelta": (("accumulator", "delta_accumulator"), False), "adam": (("m", "v"), True),
          "adamax": (("m", "u"), True), "nadam": (("m", "v"), True)}


def _json_attr(value):
    return np.bytes_(json.dumps(value).encode("utf8"))


def _functions(f, kind, calls):
    """A loss or metrics argument of compile as data: names stay names (kiln's functions are
    written by name), a function of the user's becomes its traced op list."""
    if f is None or isinstance(f, (str, int, float, bool)):
        return f
    if isinstance(f, (list, tuple)):
        return [_functions(x, kind, calls) for x in f]
    if isinstance(f, dict):
        return {k: _functions(v, kind, calls) for k, v in f.items()}
    return _function_entry(f, kind, calls)


def _function_entry(f, kind, calls):
    from .. import losses, metrics
    name = getattr(f, "__name__", None)
    if name is not None and (losses._ALL.get(name) is f or metrics._OWN.get(name) is f):
        return name
    named = name is not None and name != "<lambda>"
    try:
        graph = traced.trace(lambda x: f(*x), calls.get(id(f), (None, {}))[1].values(),
                             "the %s %s" % (kind, name if named else repr(f)))
    except traced.TraceError as e:
        if not named:
            raise ValueError("Cannot save the compile arguments: %s" % e) from None
        # as before tracing existed: by name, found again in custom_objects when loaded
        warnings.warn("%s. It is saved by name: load_model will need custom_objects={%r: %s}." % (e, name, name),
                      stacklevel=4)
        return name
    return {"class_name": GRAPH_FUNCTION, "config": {"name": name if named else kind, "function": graph}}


def _rebuilt_functions(v, kind):
    """_functions' inverse: op lists become GraphFunctions; names stay for compile to find."""
    if isinstance(v, list):
        return [_rebuilt_functions(x, kind) for x in v]
    if isinstance(v, dict) and v.get("class_name") == GRAPH_FUNCTION:
        c = v.get("config")
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or set(c) != {"name", "function"}:
            raise ValueError("a %s saved as %s must be {class_name, config: {name, function}}, got %.200r"
                             % (kind, GRAPH_FUNCTION, v))
        return traced.GraphFunction(c["function"], "the %s %r" % (kind, c["name"]), name=c["name"])
    if isinstance(v, dict):
        return {k: _rebuilt_functions(x, kind) for k, x in v.items()}
    return v


def training_config(model):
    from ..optimizers import serialize
    calls = getattr(model, "_function_calls", {})
    return {"optimizer_config": serialize(model.optimizer), "loss": _functions(model.loss, "loss", calls),
            "metrics": _functions(getattr(model, "metrics", None), "metric", calls),
            "sample_weight_mode": getattr(model, "sample_weight_mode", None),
            "loss_weights": list(getattr(model, "loss_weights", None) or []) or None}


def optimizer_weights(model):
    """[(name, store key, shape)] of the optimizer's saved weights, in Keras 1.2's order."""
    opt = model.optimizer
    slots, with_iterations = _SLOTS[opt.kind]
    params = sorted(getattr(model, "_compiled_trainable", []), key=lambda w: w.name)
    out = [("iterations", opt.iterations.key, ())] if with_iterations else []
    used = {n for n, _, _ in out}
    for slot in slots:
        for w in params:
            name = "%s.%s" % (w.name, slot)
            k = 1
            while name in used:
                k += 1
                name = "%s.%s_%d" % (w.name, slot, k)
            used.add(name)
            out.append((name, "%s.%s.%s" % (opt.name, w.key, slot), tuple(w.shape)))
    return out


def _state(model):
    from .. import backend as K
    program = getattr(model, "_programs", {}).get("train")
    state = {"train_runs": int(program.runs()) if program is not None else int(getattr(model, "_resume_runs", 0)),
             "shuffle_seed": getattr(model, "_shuffle_seed", None),
             "epochs_trained": int(getattr(model, "_epochs_trained", 0))}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        state["iterations"] = float(K.get_value(opt.iterations))
        if opt.kind == "nadam":
            from ..backend.variables import store_for
            key, store = opt.name + ".m_schedule", store_for(model.device)
            if store.has(key):
                state["m_schedule"] = float(store.get(key))
    return state


def save_model(model, filepath, overwrite=True):
    """Writes the model to one HDF5 file (layout above), atomically: a temporary file in the same
    folder, fsynced, renamed over `filepath`. Lambdas and the user's losses and metrics are
    written as their traced ops; one that cannot be is refused with an error naming it, before
    anything is written."""
    from .. import __version__
    from ..backend.variables import store_for
    from .atomic import atomic_write
    from .weights import weight_layers, write_weights_group
    h5py = _h5py()
    if not overwrite and os.path.exists(filepath):
        raise IOError("%s exists and overwrite=False" % filepath)
    config = model_dict(model)
    compiled = getattr(model, "optimizer", None) is not None
    train = training_config(model) if compiled else None
    weights = [(l.name, [w.name for w in l.weights], l.get_weights()) for l in weight_layers(model)]
    opt_weights = []
    if compiled:
        expected, store = optimizer_weights(model), store_for(model.device)
        # The slots exist once the train program has been made (or a file loaded); before, the
        # group is left out, as Keras leaves it out before its train function is built.
        if all(store.has(key) for _, key, _ in expected):
            opt_weights = [(name, np.asarray(store.get(key), np.float32).reshape(shape))
                           for name, key, shape in expected]
    state = _state(model)
    attrs = {"model_config": _json_attr(config), "kiln_state": _json_attr(state)}
    if train is not None:
        attrs["training_config"] = _json_attr(train)
    # An HDF5 attribute over 64 KiB (the config of a model of a few hundred layers) needs the
    # dense attribute storage of the 1.8 file format; smaller files keep the oldest format.
    names = sum(len(n) + 1 for n, _, _ in weights)
    big = max(len(v) for v in attrs.values()) > 60000 or names > 60000

    def write(tmp):
        try:
            with h5py.File(tmp, "w", **({"libver": "v108"} if big else {})) as f:
                f.attrs["keras_version"] = np.bytes_(KERAS_VERSION.encode("utf8"))
                f.attrs["kiln_version"] = np.bytes_(__version__.encode("utf8"))
                for k, v in attrs.items():
                    f.attrs[k] = v
                write_weights_group(f.create_group("model_weights"), weights)
                if opt_weights:
                    g = f.create_group("optimizer_weights")
                    g.attrs["weight_names"] = np.array([n.encode("utf8") for n, _ in opt_weights], dtype="S")
                    for n, v in opt_weights:
                        g.create_dataset(n, data=v)
        except (OSError, RuntimeError) as e:
            msg = "cannot write the model to %s: %s" % (filepath, e)
            raise (OSError(e.errno, msg) if getattr(e, "errno", None) else OSError(msg)) from e

    atomic_write(filepath, write)


def _read_json(f, key, path, required):
    if key not in f.attrs:
        if required:
            raise ValueError("%s has no %s attribute: not a model file written by model.save (a weights-only file "
                             "loads with model.load_weights)" % (path, key))
        return None
    raw = f.attrs[key]
    if isinstance(raw, (bytes, np.bytes_)):
        raw = bytes(raw).decode("utf8", errors="replace")
    try:
        return json.loads(str(raw))
    except (ValueError, RecursionError) as e:
        raise ValueError("%s: the %s attribute is not valid JSON (%s)" % (path, key, e)) from None


def load_model(filepath, custom_objects=None, compile=True):
    """The model saved by `model.save(filepath)`: rebuilt from its config, with its weights and,
    when it was compiled, compiled again with its optimizer state, so that `fit` continues
    exactly where the saved model stopped.

    Args:
        filepath: the HDF5 file.
        custom_objects: {name: class or function} for the user's own layers, losses, metrics,
            activations, initializers or regularizers (a Lambda, loss or metric saved as its
            traced ops needs none).
        compile: False loads the model uncompiled (no optimizer state), as Keras 2.
    Raises:
        ValueError: a malformed file (naming the file and what is wrong), an unknown class
            (naming it and pointing at custom_objects), a weight of the wrong shape (naming
            the layer and both shapes).
    """
    from .model_config import model_from_config
    from .weights import _plan
    from ..utils.custom_objects import custom_object_scope
    h5py = _h5py()
    path = os.fspath(filepath)
    from . import keras_files
    if _is_keras_file(path, h5py, keras_files):
        try:
            return keras_files.load_model(path, custom_objects=custom_objects, compile=compile)
        except (KeyError, TypeError, AttributeError, RuntimeError, OSError, IndexError) as e:
            raise ValueError("%s: malformed Keras file (%s: %s)" % (path, type(e).__name__, e)) from e
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise IOError("%s: no such file" % path) from None
    except OSError as e:
        raise ValueError("%s is not an HDF5 file kiln can read (%s)" % (path, e)) from None
    with f, custom_object_scope(custom_objects):
        try:
            config = _read_json(f, "model_config", path, required=True)
            train = _read_json(f, "training_config", path, required=False)
            state = _read_json(f, "kiln_state", path, required=False) or {}
            if not isinstance(state, dict):
                raise ValueError("%s: kiln_state must be a JSON object" % path)
            if "model_weights" not in f or not isinstance(f["model_weights"], h5py.Group):
                raise ValueError("%s has no model_weights group" % path)
            try:
                model = model_from_config(config)
            except ValueError as e:
                raise ValueError("%s: %s" % (path, e)) from e
            _check_state(state, path)
            assignments = _plan(model, f["model_weights"], path, by_name=False)
            if train is not None and compile:
                _compile(model, train, path)
                assignments += _optimizer_plan(model, f, path, state)
        except (KeyError, TypeError, AttributeError, RuntimeError, OSError, IndexError) as e:  # RecursionError too
            raise ValueError("%s: malformed model file (%s: %s)" % (path, type(e).__name__, e)) from e
    _restore(model, assignments, state)
    return model


def _is_keras_file(path, h5py, keras_files):
    """A file of real Keras 2 or 3 (converted by saving/keras_files.py), not Keras 1.2's layout."""
    import zipfile
    if not os.path.isfile(path):
        return False
    if zipfile.is_zipfile(path):
        return True
    try:
        with h5py.File(path, "r") as f:
            return keras_files.h5_keras_version(f) is not None
    except OSError:
        return False


def _compile(model, train, path):
    from .. import optimizers
    if not isinstance(train, dict) or "optimizer_config" not in train or "loss" not in train:
        raise ValueError("%s: training_config must hold optimizer_config and loss, got %r" % (path, train))
    try:
        opt = optimizers.get(train["optimizer_config"])
        model.compile(optimizer=opt, loss=_rebuilt_functions(train["loss"], "loss"),
                      metrics=_rebuilt_functions(train.get("metrics"), "metric"),
                      loss_weights=train.get("loss_weights"), sample_weight_mode=train.get("sample_weight_mode"))
    except (ValueError, TypeError, NotImplementedError) as e:
        raise ValueError("%s: cannot compile the model from its training_config (%s); a loss or metric of your own "
                         "must be passed as custom_objects={name: function}" % (path, e)) from e


def _optimizer_plan(model, f, path, state):
    """(store key, value) for the optimizer's weights in the file, all checked first."""
    if "optimizer_weights" not in f:
        return []
    g = f["optimizer_weights"]
    from .weights import _names
    names = _names(g.attrs["weight_names"], path, "weight_names of optimizer_weights") \
        if "weight_names" in g.attrs else []
    expected = optimizer_weights(model)
    if len(names) != len(expected):
        raise ValueError("%s: optimizer_weights holds %d weights but the model's %s optimizer has %d (%s): the file "
                         "belongs to another model or optimizer" % (path, len(names), type(model.optimizer).__name__,
                                                                   len(expected), [n for n, _, _ in expected]))
    out = []
    for fname, (name, key, shape) in zip(names, expected):
        if fname not in g or not isinstance(g[fname], _h5py().Dataset):
            raise ValueError("%s: optimizer_weights lists %r but has no dataset of that name" % (path, fname))
        ds = g[fname]
        if tuple(ds.shape) != shape:
            raise ValueError("%s: optimizer weight %s (%s in the model) has shape %s in the file but %s in the model"
                             % (path, fname, name, tuple(ds.shape), shape))
        if ds.dtype.kind not in "fiu":
            raise ValueError("%s: optimizer weight %s has dtype %s, not a number" % (path, fname, ds.dtype))
        out.append((key, np.asarray(ds[()], dtype=np.float32)))
    return out


def _restore(model, assignments, state):
    """Sets everything once every check has passed."""
    from ..backend.variables import Variable, store_for
    store = store_for(model.device)  # where the model's train program will look for its slots
    for target, value in assignments:
        if isinstance(target, Variable):
            target.set_value(value)
        else:  # an optimizer slot: the train program made later finds it in the store
            store.set(target, np.array(value, dtype=np.float32, order="C"))  # (ascontiguousarray makes 0-d 1-d)
    opt = getattr(model, "optimizer", None)
    if opt is not None and "iterations" in state:
        opt.iterations.set_value(float(state["iterations"]))
    if opt is not None and opt.kind == "nadam" and "m_schedule" in state:
        store.set(opt.name + ".m_schedule", np.asarray(float(state["m_schedule"]), np.float32))
    model._resume_runs = state.get("train_runs", 0)
    model._shuffle_seed = state.get("shuffle_seed")
    model._epochs_trained = state.get("epochs_trained", 0)


def _check_state(state, path):
    def count(key):
        v = state.get(key, 0)
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63
    seed = state.get("shuffle_seed")
    ok = count("train_runs") and count("epochs_trained") and \
        (seed is None or isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63)
    for key in ("iterations", "m_schedule"):
        v = state.get(key, 0.0)
        ok = ok and isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
    if not ok:
        raise ValueError("%s: kiln_state holds values of the wrong kind or out of range: %r" % (path, state))
