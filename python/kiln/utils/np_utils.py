"""NumPy helpers (Keras 1.2's ``keras.utils.np_utils``): label encoding, normalization, kernel
flipping, convolution lengths."""
import numpy as np

__all__ = ["to_categorical", "normalize", "convert_kernel", "conv_output_length", "conv_input_length",
           "categorical_probas_to_classes", "probas_to_classes", "accuracy", "binary_logloss", "multiclass_logloss"]


def to_categorical(y, nb_classes=None, num_classes=None):
    """Converts integer class labels to one-hot rows (float32).

    Args:
        y: array-like of integer labels in ``[0, classes)``. A trailing axis of
            size 1 is dropped first, so ``(n,)`` and ``(n, 1)`` both give
            ``(n, classes)``; ``(n, t)`` gives ``(n, t, classes)``.
        nb_classes: number of classes (Keras 1 name); default ``max(y) + 1``.
        num_classes: the same, Keras 2 name.

    Returns:
        float32 array of shape ``y.shape + (classes,)``.

    Example:

    ```python
    to_categorical([0, 2, 1], 3)
    # array([[1., 0., 0.], [0., 0., 1.], [0., 1., 0.]], dtype=float32)
    ```
    """
    if nb_classes is not None and num_classes is not None and nb_classes != num_classes:
        raise ValueError("[to_categorical] nb_classes=%r and num_classes=%r disagree; "
                         "pass only one of them." % (nb_classes, num_classes))
    classes = nb_classes if nb_classes is not None else num_classes
    y = np.asarray(y)
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("[to_categorical] labels must be integers; got non-integral "
                             "values such as %r." % (y[y != np.round(y)].ravel()[:1].tolist(),))
    elif y.dtype.kind not in "biu":
        raise ValueError("[to_categorical] labels must be integers; got dtype %s." % y.dtype)
    flat = y.astype(np.int64).ravel()
    if classes is None:
        classes = int(flat.max()) + 1 if flat.size else 0
    classes = int(classes)
    if flat.size and (flat.min() < 0 or flat.max() >= classes):
        raise ValueError("[to_categorical] labels must lie in [0, %d); got min %d, max %d."
                         % (classes, flat.min(), flat.max()))
    out = np.zeros((flat.size, classes), dtype=np.float32)
    out[np.arange(flat.size), flat] = 1.0
    return out.reshape(tuple(shape) + (classes,))


def normalize(x, axis=-1, order=2):
    """`x` divided by its `order`-norm along `axis` (rows of norm 0 are left as they are).

    Example:

    ```python
    normalize([[3.0, 4.0]])   # array([[0.6, 0.8]])
    ```
    """
    x = np.asarray(x)
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)


def convert_kernel(kernel, dim_ordering=None):
    """Flips a convolution kernel's spatial axes: Theano's convolution <-> TensorFlow's
    cross-correlation (its own inverse). Keras 1.2's function, for weights trained with Theano.

    Args:
        kernel: a 4D (2D conv) or 5D (3D conv) NumPy kernel.
        dim_ordering: 'th' (kernel (filters, channels, rows, cols)) or 'tf' (rows, cols,
            channels, filters); `channels_first` / `channels_last` too; default
            `K.image_dim_ordering()`.

    Returns:
        A new array of the same shape.
    """
    from ..backend import image_layout

    ordering = image_layout.image_dim_ordering() if dim_ordering in (None, "default") \
        else image_layout.normalize(dim_ordering)
    kernel = np.asarray(kernel)
    if not 4 <= kernel.ndim <= 5:
        raise ValueError("[convert_kernel] Invalid kernel shape: %s (expected a 4D or 5D kernel)" % (kernel.shape,))
    flip = [slice(None, None, -1)] * kernel.ndim
    keep = [slice(None)] * 2
    if ordering == "th":  # (filters, channels, spatial...)
        flip[:2] = keep
    else:                 # (spatial..., channels, filters)
        flip[-2:] = keep
    return np.copy(kernel[tuple(flip)])


def conv_output_length(input_length, filter_size, border_mode, stride, dilation=1):
    """Keras 1.2: the length of a convolution's output along one axis (None stays None)."""
    if input_length is None:
        return None
    if border_mode not in ("same", "valid", "full"):
        raise ValueError("[conv_output_length] border_mode must be 'same', 'valid' or 'full', got %r"
                         % (border_mode,))
    size = filter_size + (filter_size - 1) * (dilation - 1)
    length = {"same": input_length, "valid": input_length - size + 1, "full": input_length + size - 1}[border_mode]
    return (length + stride - 1) // stride


def conv_input_length(output_length, filter_size, border_mode, stride):
    """Keras 1.2: the input length that gives `output_length` (the inverse of conv_output_length)."""
    if output_length is None:
        return None
    if border_mode not in ("same", "valid", "full"):
        raise ValueError("[conv_input_length] border_mode must be 'same', 'valid' or 'full', got %r"
                         % (border_mode,))
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[border_mode]
    return (output_length - 1) * stride - 2 * pad + filter_size


def categorical_probas_to_classes(p):
    """Keras 1.2: the class of each row of probabilities (argmax)."""
    return np.argmax(p, axis=1)


def probas_to_classes(y_pred):
    """Keras 1.2: argmax over classes, or for one probability per row, 1 above 0.5 else 0."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim > 1 and y_pred.shape[1] > 1:
        return categorical_probas_to_classes(y_pred)
    return (y_pred.reshape(len(y_pred), -1)[:, 0] > 0.5).astype(np.int64)


def accuracy(p, y):
    """Keras 1.2: the fraction of positions where two label sequences agree."""
    return np.mean([a == b for a, b in zip(p, y)])


def binary_logloss(p, y):
    """Keras 1.2: the mean log loss of probabilities p (clipped to [1e-15, 1 - 1e-15]) against
    0/1 labels y."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    y = np.asarray(y, dtype=np.float64)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=0) / len(y)


def multiclass_logloss(P, Y):
    """Keras 1.2: the mean negative log of each row's probability of its class, Y holding
    classes numbered from 1."""
    return -np.mean(np.log([P[i][Y[i] - 1] for i in range(len(Y))]))
