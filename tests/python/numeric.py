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


def check_layer_gradients(x, out, params, xs, ref, rng, rtol=1e-4, atol=1e-4):
    """The gradients of sum(tanh(out) * R) (R random) with respect to each weight in `params`
    (pairs of a variable and its float64 value) and to the input x, through kiln (fed xs),
    against central differences of `ref(x, *values)`, the layer written in float64 NumPy."""
    from kiln import backend as K

    values = [np.array(v, dtype=np.float64) for _, v in params]
    x64 = xs.astype(np.float64)
    R = rng.standard_normal(ref(x64, *values).shape)
    r = K.placeholder(shape=(None,) + R.shape[1:])
    grads = K.gradients(K.sum(K.tanh(out) * r), [p for p, _ in params] + [x])
    got = K.function([x, r], grads)([xs, R.astype(np.float32)])
    f = lambda: float(np.sum(np.tanh(ref(x64, *values)) * R))  # noqa: E731
    for g, a in zip(got, values + [x64]):
        np.testing.assert_allclose(g, numeric_grad(f, a), rtol=rtol, atol=atol)
