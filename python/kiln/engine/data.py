"""Checks on the arrays given to fit / evaluate / predict, before any reaches C++.

Messages follow Keras 1.2 (``engine/training.py``) so that code and tests
written against Keras recognise them; a few add the detail Keras left out.
Every check raises ValueError (TypeError for data that is not arrays at all)
and never modifies the caller's arrays.
"""
import numpy as np

__all__ = [
    "standardize_input_data", "check_array_lengths",
    "check_loss_and_target_compatibility", "check_finite", "check_not_empty",
    "standardize_weights", "make_batches", "slice_X", "batch_shuffle",
]


def _shape_str(shape):
    return str(tuple(shape))


def _as_array(x):
    """float data -> float32, integers stay integers (embedding ids), C order."""
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return np.ascontiguousarray(a, dtype=np.float32)
    if a.dtype.kind in "iu":
        return np.ascontiguousarray(a)
    if a.dtype.kind == "b":
        return np.ascontiguousarray(a, dtype=np.float32)
    try:
        return np.ascontiguousarray(a, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError("Data should be numeric Numpy arrays; got an array of dtype %s."
                        % a.dtype)


def standardize_input_data(data, names, shapes, check_batch_dim=True,
                           exception_prefix="model input"):
    """Normalizes user data to a list of arrays in the order of `names`.

    Args:
        data: one array, a list of arrays, or a dict keyed by name.
        names: names of the expected inputs (or outputs).
        shapes: expected shape for each name, None for unknown dims (the
            batch dim is usually None); or None / a None entry to skip checks.
        check_batch_dim: also compare the first axis when it is known.
        exception_prefix: 'model input' or 'model target', for messages.

    Returns:
        list of C-contiguous arrays: float data as float32, integer data
        unchanged. A 1-D array becomes ``(n, 1)`` when a rank-2 shape is
        expected (or nothing is known about the shape).
    """
    names = list(names)
    where = "Error when checking " + exception_prefix
    if data is None:
        if names:
            raise ValueError("%s: expected %d array(s) (%s) but got None."
                             % (where, len(names), ", ".join(names)))
        return []
    if isinstance(data, dict):
        arrays = []
        for name in names:
            if name not in data:
                raise ValueError('No data provided for "%s". Need data for each key in: %s'
                                 % (name, names))
            arrays.append(data[name])
    elif isinstance(data, (list, tuple)):
        data = list(data)
        if len(data) != len(names):
            if data and hasattr(data[0], "shape"):
                raise ValueError(
                    "%s: the list of Numpy arrays that you are passing to your model is not "
                    "the size the model expected. Expected to see %d arrays but instead got "
                    "the following list of %d arrays: %s..."
                    % (where, len(names), len(data), _describe_list(data)))
            if len(names) == 1:  # a plain Python list of values for one input
                data = [np.asarray(data)]
            else:
                raise ValueError(
                    "%s: you are passing a list as input to your model, but the model "
                    "expects a list of %d Numpy arrays instead. The list you passed was: %s"
                    % (where, len(names), str(data)[:200]))
        arrays = data
    else:
        if not hasattr(data, "shape"):
            raise TypeError("%s: data should be a Numpy array, or list/dict of Numpy arrays. "
                            "Found: %s..." % (where, str(data)[:200]))
        if len(names) != 1:
            raise ValueError("The model expects %d %s arrays, but only received one array. "
                             "Found: array with shape %s"
                             % (len(names), exception_prefix.split()[-1], _shape_str(data.shape)))
        arrays = [data]

    arrays = [_as_array(a) for a in arrays]
    for i, a in enumerate(arrays):
        expected = shapes[i] if shapes else None
        if a.ndim == 1 and (expected is None or len(expected) == 2):
            arrays[i] = a.reshape(-1, 1)

    if not shapes:
        return arrays
    for i, (name, a) in enumerate(zip(names, arrays)):
        expected = shapes[i]
        if expected is None:
            continue
        expected = tuple(expected)
        if a.ndim != len(expected):
            raise ValueError("%s: expected %s to have %d dimensions, but got array with shape %s"
                             % (where, name, len(expected), _shape_str(a.shape)))
        for axis, (dim, want) in enumerate(zip(a.shape, expected)):
            if axis == 0 and not check_batch_dim:
                continue
            if want is not None and dim != want:
                raise ValueError("%s: expected %s to have shape %s but got array with shape %s"
                                 % (where, name, _shape_str(expected), _shape_str(a.shape)))
    return arrays


def _describe_list(arrays):
    text = "[" + ", ".join("array with shape %s" % _shape_str(np.shape(a)) for a in arrays) + "]"
    return text[:200]


def _lengths(arrays):
    return [int(np.shape(a)[0]) for a in arrays if a is not None]


def check_array_lengths(inputs, targets, weights=None):
    """Checks that all arrays hold the same number of samples.

    Args:
        inputs: list of input arrays.
        targets: list of target arrays (may be empty or None).
        weights: list of sample-weight arrays (None entries are skipped).
    """
    x = _lengths(inputs or [])
    y = _lengths(targets or [])
    w = _lengths(weights or [])
    if len(set(x)) > 1:
        raise ValueError("All input arrays (x) should have the same number of samples. "
                         "Got array lengths: %s" % x)
    if len(set(y)) > 1:
        raise ValueError("All target arrays (y) should have the same number of samples. "
                         "Got array lengths: %s" % y)
    if len(set(w)) > 1:
        raise ValueError("All sample_weight arrays should have the same number of samples. "
                         "Got array lengths: %s" % w)
    if x and y and x[0] != y[0]:
        raise ValueError("Input arrays should have the same number of samples as target "
                         "arrays. Found %d input samples and %d target samples." % (x[0], y[0]))
    if x and w and x[0] != w[0]:
        raise ValueError("Sample_weight arrays should have the same number of samples as "
                         "input arrays. Found %d input samples and %d sample_weight samples."
                         % (x[0], w[0]))


def standardize_weights(y, sample_weight=None, class_weight=None, sample_weight_mode=None, output_name="output"):
    """Keras 1.2's weights of a target array: `sample_weight` when given (it wins over
    `class_weight`, as in Keras), else `class_weight[c]` for each row's class c (the argmax of a
    one-hot row, else the row's value), else ones. float32, one per sample, or with
    sample_weight_mode='temporal' one per (sample, timestep) of a target of 3 or more dims."""
    n = int(np.shape(y)[0])
    if sample_weight_mode not in (None, "temporal"):
        raise ValueError('"sample_weight_mode" should be None or "temporal". Found: %r' % (sample_weight_mode,))
    temporal = sample_weight_mode == "temporal"
    if temporal and np.ndim(y) < 3:
        raise ValueError('Found a sample_weight array for an input with shape %s (output "%s"). Timestep-wise '
                         'sample weighting (use of sample_weight_mode="temporal") is restricted to outputs that '
                         "are at least 3D, i.e. that have a time dimension." % (np.shape(y), output_name))
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float32)
        if not temporal and sw.ndim == 2 and sw.shape[1] == 1:
            sw = sw[:, 0]
        if sw.ndim != (2 if temporal else 1):
            if temporal:
                raise ValueError('Found a sample_weight array with shape %s for output "%s". In order to use '
                                 "timestep-wise sample weighting, you should pass a 2D sample_weight array."
                                 % (sw.shape, output_name))
            raise ValueError('Found a sample_weight array with shape %s for output "%s". In order to use '
                             'timestep-wise sample weighting, you should pass a 2D sample_weight array and '
                             'specify sample_weight_mode="temporal" in compile(). '
                             "Otherwise pass a 1D array of one weight per sample." % (sw.shape, output_name))
        if sw.shape != tuple(np.shape(y)[:sw.ndim]):
            raise ValueError('Found a sample_weight array of shape %s for output "%s", but its targets have shape '
                             "%s: the weights must match the targets' first %d dimension(s)."
                             % (sw.shape, output_name, np.shape(y), sw.ndim))
        return sw
    if isinstance(class_weight, dict):
        y = np.asarray(y)
        if y.ndim > 2:
            raise ValueError("class_weight not supported for 3+ dimensional targets.")
        classes = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else np.round(y.reshape(n)).astype(int)
        missing = sorted(set(classes.tolist()) - set(class_weight))
        if missing:
            raise ValueError('class_weight for output "%s" has no weight for class(es) %s' % (output_name, missing))
        return np.array([class_weight[c] for c in classes.tolist()], np.float32)
    return np.ones(tuple(np.shape(y)[:2]) if temporal else n, np.float32)


def make_batches(size, batch_size):
    """Keras 1.2: the (start, stop) of each batch of `size` samples; the last may be smaller."""
    return [(i, min(size, i + batch_size)) for i in range(0, size, batch_size)]


def slice_X(X, start=None, stop=None):
    """Keras 1.2: rows start:stop of an array or of each array of a list; `start` may be a list
    or array of row indices instead."""
    def rows(x):
        if hasattr(start, "__len__"):
            return x[start.tolist() if hasattr(start, "shape") else start]
        return x[start:stop]
    return [rows(x) for x in X] if isinstance(X, list) else rows(X)


def batch_shuffle(index_array, batch_size):
    """Keras 1.2's shuffle='batch': whole batches of `index_array` in a random order (NumPy's
    global generator), a last partial batch kept at the end."""
    whole = len(index_array) // batch_size * batch_size
    blocks = np.asarray(index_array[:whole]).reshape(-1, batch_size)
    np.random.shuffle(blocks)
    return np.append(blocks.flatten(), index_array[whole:])


# Losses whose targets must have the output's shape, by every accepted spelling.
_SAME_SHAPE_LOSSES = {
    "mean_squared_error": "mean_squared_error", "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "binary_crossentropy": "binary_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
}


def _loss_name(loss):
    if loss is None or isinstance(loss, str):
        return loss
    return getattr(loss, "__name__", None)


def check_loss_and_target_compatibility(targets, loss_names, output_shapes):
    """Catches targets that cannot match their loss before training starts.

    Args:
        targets: list of target arrays.
        loss_names: one loss per output: a name or a function (its __name__).
        output_shapes: the model's output shapes (None for unknown dims).
    """
    for y, loss, shape in zip(targets, loss_names, output_shapes):
        name = _SAME_SHAPE_LOSSES.get(_loss_name(loss))
        if name is None or y is None:
            continue
        y_shape = tuple(np.shape(y))
        if name == "categorical_crossentropy" and y_shape[-1:] == (1,):
            raise ValueError(
                "You are passing a target array of shape %s while using as loss "
                "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be "
                "binary matrices (1s and 0s) of shape (samples, classes). If your targets are "
                "integer classes, you can convert them to the expected format via:\n"
                "```\nfrom kiln.utils.np_utils import to_categorical\n"
                "y_binary = to_categorical(y_int)\n```\n\n"
                "Alternatively, you can use the loss function `sparse_categorical_crossentropy` "
                "instead, which does expect integer targets." % _shape_str(y_shape))
        if shape is None:
            continue
        for target_dim, out_dim in zip(y_shape[1:], tuple(shape)[1:]):
            if out_dim is not None and target_dim != out_dim:
                raise ValueError(
                    "A target array with shape %s was passed for an output of shape %s while "
                    "using as loss `%s`. This loss expects targets to have the same shape as "
                    "the output." % (_shape_str(y_shape), _shape_str(shape), name))


def check_finite(arrays, names, what="model input"):
    """Rejects NaN and infinite values in float arrays.

    Args:
        arrays: list of arrays (None entries and integer arrays are skipped).
        names: a name per array, for the message.
        what: 'model input', 'model target' or 'sample weight'.
    """
    for i, a in enumerate(arrays):
        if a is None:
            continue
        a = np.asarray(a)
        if a.dtype.kind not in "fc" or a.size == 0:
            continue
        # Fast path: summing in float64 cannot overflow for float32 data, and a
        # NaN or inf anywhere makes the sum non-finite.
        with np.errstate(over="ignore", invalid="ignore"):
            total = a.sum(dtype=np.float64 if a.dtype.kind == "f" else None)
        if np.isfinite(total):
            continue
        bad = ~np.isfinite(a)
        if not bad.any():
            continue  # the sum overflowed (huge float64 values) but all are finite
        n_nan = int(np.isnan(a).sum())
        n_inf = int(bad.sum()) - n_nan
        kinds = []
        if n_nan:
            kinds.append("%d NaN" % n_nan)
        if n_inf:
            kinds.append("%d infinite" % n_inf)
        first = int(np.argmax(bad.reshape(a.shape[0], -1).any(axis=1))) if a.ndim else 0
        name = names[i] if names is not None and i < len(names) else "array %d" % i
        raise ValueError("Error when checking %s: %s contains %s value(s) (first at sample %d)."
                         % (what, name, " and ".join(kinds), first))


def check_not_empty(arrays, names, what="model input"):
    """Rejects arrays with 0 samples (an empty fit would silently do nothing)."""
    for i, a in enumerate(arrays):
        if a is None:
            continue
        shape = np.shape(a)
        if len(shape) == 0 or shape[0] == 0:
            name = names[i] if names is not None and i < len(names) else "array %d" % i
            raise ValueError("Error when checking %s: %s has no samples (array with shape %s). "
                             "Pass at least one sample." % (what, name, _shape_str(shape)))
