"""Shape ops of `kiln.backend`: reshaping, transposing, joining, indexing, repeating, and the
batch-dim plumbing (merge_batch / split_batch / flatten / shape). A leading batch dim (None)
always stays the leading batch dim."""
import numpy as np

from .ops import _arg, _reduce, multiply, sum
from .tensor import Tensor, make


def _batched(x):
    return len(x.shape) > 0 and x.shape[0] is None


def reshape(x, shape):
    """Keras `K.reshape`: `shape` is the full shape; for a batched tensor its first entry must be
    -1 or None (the batch)."""
    x = _arg(x, "reshape")
    shape = [(-1 if d is None else int(d)) for d in shape]
    if _batched(x):
        if not shape or shape[0] != -1:
            raise ValueError("K.reshape: the first dim of the new shape %s must be -1 (the batch) for the batched "
                             "tensor %r" % (tuple(shape), x))
        shape = shape[1:]
    return make("reshape", [x], {"shape": shape})


def _reshape_rest(x, rest):
    """Reshape keeping the first dim (the batch): `rest` are the other dims. A tensor of a fixed
    batch size (Input(batch_shape=...)) has no batch dim in the IR: its size leads the shape."""
    lead = [] if _batched(x) else [int(x.shape[0])]
    return make("reshape", [x], {"shape": lead + [int(d) for d in rest]})


def expand_dims(x, dim=-1):
    x = _arg(x, "expand_dims")
    nd = len(x.shape)
    dim = dim + nd + 1 if dim < 0 else dim
    if _batched(x) and dim == 0:
        raise ValueError("K.expand_dims: cannot insert a dim before the batch dim of %r" % (x,))
    shape = list(x.shape)
    shape.insert(dim, 1)
    return _reshape_rest(x, shape[1:]) if _batched(x) else make("reshape", [x], {"shape": shape})


def squeeze(x, axis):
    x = _arg(x, "squeeze")
    nd = len(x.shape)
    axis = axis + nd if axis < 0 else axis
    if x.shape[axis] != 1:
        raise ValueError("K.squeeze: dim %d of %r is not 1" % (axis, x))
    shape = list(x.shape)
    del shape[axis]
    return _reshape_rest(x, shape[1:]) if _batched(x) else make("reshape", [x], {"shape": shape})


def batch_flatten(x):
    x = _arg(x, "batch_flatten")
    if any(d is None for d in x.shape[1:]):
        raise ValueError("K.batch_flatten: the non-batch dims of %r must be known" % (x,))
    return _reshape_rest(x, [int(np.prod(x.shape[1:]))])


def permute_dimensions(x, pattern):
    return make("transpose", [_arg(x, "permute_dimensions")], {"perm": [int(p) for p in pattern]})


def transpose(x):
    x = _arg(x, "transpose")
    return permute_dimensions(x, list(range(len(x.shape)))[::-1])


def concatenate(tensors, axis=-1):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError("K.concatenate: expected a non-empty list of tensors, got %r" % (tensors,))
    ts = [_arg(t, "concatenate") for t in tensors]
    return make("concat", ts, {"axis": int(axis)})


def stack(tensors, axis=0):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError("K.stack: expected a non-empty list of tensors, got %r" % (tensors,))
    return concatenate([expand_dims(_arg(t, "stack"), axis) for t in tensors], axis=axis)


def reverse(x, axes):
    """x with the order along `axes` (an int or a list; not the batch axis) reversed, as Keras'
    K.reverse."""
    x = _arg(x, "reverse")
    for ax in ([axes] if isinstance(axes, int) else list(axes)):
        x = make("reverse", [x], {"axis": int(ax)})
    return x


def slice_axis(x, axis, begin, end):
    return make("slice", [_arg(x, "slice")], {"axis": int(axis), "begin": int(begin), "end": int(end)})


def repeat_elements(x, rep, axis):
    return make("repeat", [_arg(x, "repeat_elements")], {"axis": int(axis), "repeats": int(rep)})


def repeat(x, n):
    """(batch, dim) -> (batch, n, dim)."""
    x = _arg(x, "repeat")
    if len(x.shape) != 2:
        raise ValueError("K.repeat: expected a 2D tensor, got %r" % (x,))
    return repeat_elements(expand_dims(x, 1), n, axis=1)


def tile(x, n):
    x = _arg(x, "tile")
    reps = [int(n)] * len(x.shape) if isinstance(n, int) else [int(r) for r in n]
    return make("tile", [x], {"reps": reps})


def gather(reference, indices):
    return make("gather", [_arg(reference, "gather"), _arg(indices, "gather")])


def one_hot(indices, nb_classes=None, num_classes=None):
    depth = nb_classes if nb_classes is not None else num_classes
    return make("one_hot", [_arg(indices, "one_hot")], {"depth": int(depth)})


def in_top_k(predictions, targets, k):
    """1.0 where the target class (an index per row) is among the k highest predictions of its
    row, else 0.0; as TensorFlow's in_top_k, classes tied with the k-th all count as in. Composed:
    the target is in the top k when fewer than k classes score strictly higher."""
    predictions, targets = _arg(predictions, "in_top_k"), _arg(targets, "in_top_k")
    if len(predictions.shape) != 2 or predictions.shape[-1] is None:
        raise ValueError("K.in_top_k: predictions must be (batch, classes) with known classes, got %r"
                         % (predictions,))
    hot = one_hot(targets, predictions.shape[-1])
    target_score = sum(multiply(hot, predictions), axis=-1, keepdims=True)
    higher = sum(make("greater", [predictions, target_score]), axis=-1)
    return make("less", [higher, _arg(float(k), "in_top_k")])


def prod(x, axis=None, keepdims=False):
    return _reduce("reduce_prod", x, axis, keepdims, "prod")


def batch_dot(x, y, axes=None):
    """Keras `K.batch_dot`: per sample, the tensor product of x and y over axes[0] of x and axes[1]
    of y (dim 0 is the batch of both). Two 2D inputs give shape (batch, 1)."""
    x, y = _arg(x, "batch_dot"), _arg(y, "batch_dot")
    rx, ry = len(x.shape), len(y.shape)
    if axes is None:
        axes = [rx - 1, ry - 2 if ry > 2 else ry - 1]
    if isinstance(axes, int):
        axes = [axes, axes]
    ax, ay = [a + r if a < 0 else a for a, r in zip(axes, (rx, ry))]
    if ax == 0 or ay == 0:
        raise ValueError("K.batch_dot cannot contract the batch axis (axes=%s)" % (list(axes),))
    if x.shape[ax] != y.shape[ay]:
        raise ValueError("K.batch_dot: dimension incompatibility %s != %s (x %s axis %d, y %s axis %d)"
                         % (x.shape[ax], y.shape[ay], x.shape, ax, y.shape, ay))
    # Move the contracted axes last, broadcast x's and y's other dims against each other, multiply
    # and sum the contracted axis: [b, xr..., 1.., K] * [b, 1.., yr..., K] -> [b, xr..., yr...].
    px = [0] + [i for i in range(1, rx) if i != ax] + [ax]
    py = [0] + [i for i in range(1, ry) if i != ay] + [ay]
    xt = permute_dimensions(x, px) if px != list(range(rx)) else x
    yt = permute_dimensions(y, py) if py != list(range(ry)) else y
    xr, yr, k = list(xt.shape[1:-1]), list(yt.shape[1:-1]), xt.shape[-1]
    xe = _reshape_rest(xt, xr + [1] * len(yr) + [k]) if yr else xt
    ye = _reshape_rest(yt, [1] * len(xr) + yr + [k]) if xr else yt
    out = sum(multiply(xe, ye), axis=-1)
    if len(out.shape) == 1:
        out = expand_dims(out, 1)
    return out


def merge_batch(x):
    """[?, T, ...] -> [?*T, ...]: the second axis folded into the batch (a view; no data moves)."""
    x = _arg(x, "merge_batch")
    return make("merge_batch", [x])


def split_batch(x, size):
    """[?*T, ...] -> [?, T, ...]: the inverse of merge_batch. `size` is T as an int, or a tensor
    [?, T, ...] whose T (static or a dynamic dim) is taken."""
    if isinstance(size, Tensor):
        return make("split_batch", [_arg(x, "split_batch"), size])
    return make("split_batch", [_arg(x, "split_batch")], {"size": int(size)})


def flatten(x):
    """Keras `K.flatten`: every element in one dim, the batch included ([?, a, b] -> [?*(a*b)])."""
    x = _arg(x, "flatten")
    if not _batched(x):
        return make("reshape", [x], {"shape": [-1]})
    while len(x.shape) > 1:
        x = merge_batch(x)
    return x


def shape(x):
    """The run-time shape of x as a 1-D float tensor (the batch size included); use
    int_shape(x) for the static shape."""
    return make("shape_of", [_arg(x, "shape")])
