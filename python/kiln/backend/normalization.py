"""Batch normalization in `kiln.backend`, as Keras 1.2's TensorFlow backend writes it:
`normalize_batch_in_training` (batch statistics, then normalize), `batch_normalization`
(normalize by given statistics) and `moving_average_update` (the update a BatchNormalization
layer registers for its moving statistics). Composed of reductions and elementwise ops.
The batch statistics are cross-replica means (the replica_mean op): copies in one process, the
whole global batch's statistics when kiln.distributed trains data-parallel (synchronized batch
normalization, docs/distributed.md).
"""
from .ops import _arg, add, mean, multiply, sqrt, square, subtract
from .tensor import make

__all__ = ["batch_normalization", "moving_average_update", "normalize_batch_in_training"]


def broadcastable(v, ndim, keep):
    """A vector over the axes `keep` of an ndim tensor, reshaped to broadcast against it (a no-op
    when it already does: a vector over the last axis, or a tensor of full rank)."""
    if v is None or len(v.shape) == ndim or list(keep) == [ndim - 1]:
        return v
    shape = [1] * ndim
    for axis, size in zip(keep, v.shape):
        shape[axis] = size
    return make("reshape", [v], {"shape": [int(d) for d in shape]})


def batch_normalization(x, mean, var, beta, gamma, epsilon=1e-3):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta`, each statistic broadcasting against x
    (TensorFlow's tf.nn.batch_normalization; Keras' docstring writes sqrt(var) + epsilon, its
    code computes this). beta or gamma may be None (none added, or a scale of 1)."""
    x = _arg(x, "batch_normalization")
    scale = 1.0 / sqrt(add(var, float(epsilon)))
    if gamma is not None:
        scale = multiply(scale, gamma)
    out = multiply(subtract(x, mean), scale)
    return add(out, beta) if beta is not None else out


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """The batch's mean and variance over `reduction_axes`, and x normalized by them: returns
    (normalized, mean, var), the statistics without the reduced axes. gamma and beta hold one
    value per entry of the axes kept (e.g. the channels)."""
    x = _arg(x, "normalize_batch_in_training")
    ndim = len(x.shape)
    axes = sorted(a % ndim for a in reduction_axes)
    keep = [a for a in range(ndim) if a not in axes]
    if 0 in keep:
        raise ValueError("K.normalize_batch_in_training: the batch axis (0) must be among the reduction axes, got %s"
                         % (list(reduction_axes),))
    replicas = lambda t: make("replica_mean", [t])  # over every rank's rows, data-parallel
    m = replicas(mean(x, axis=axes, keepdims=True))
    v = replicas(mean(square(subtract(x, m)), axis=axes, keepdims=True))
    normed = batch_normalization(x, m, v, broadcastable(beta, ndim, keep), broadcastable(gamma, ndim, keep),
                                 epsilon)
    dropped = lambda t: make("reshape", [t], {"shape": [int(x.shape[a]) for a in keep]})
    return normed, dropped(m), dropped(v)


def moving_average_update(variable, value, momentum):
    """The update (variable, variable * momentum + value * (1 - momentum)), for K.function's
    `updates` or a layer's add_update."""
    return (variable, add(multiply(variable, float(momentum)), multiply(value, 1.0 - float(momentum))))
