"""NumPy helpers for preparing targets (Keras' ``keras.utils.np_utils``)."""
import numpy as np

__all__ = ["to_categorical"]


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
