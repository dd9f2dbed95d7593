"""Central differences in float64, shared by the gradient tests."""
import numpy as np


def numeric_grad(f, value, eps=1e-6):
    """d f() / d value, by perturbing `value` (a float64 array) in place, element by element."""
    g = np.zeros_like(value)
    for idx in np.ndindex(*value.shape):
        old = value[idx]
        value[idx] = old + eps
        up = f()
        value[idx] = old - eps
        down = f()
        value[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


def central_difference(f, arrays, i, eps=1e-6):
    """d f(*arrays) / d arrays[i] in float64."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    return numeric_grad(lambda: f(*arrays), arrays[i], eps)
