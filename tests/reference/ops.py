"""One plain NumPy reference per kiln op, in float64, written to be obviously right rather
than fast (in the spirit of onnx/reference/ops). Each takes the operands as arrays and the
op's attributes as keyword arguments named as in the IR, with the schema's defaults.

Optimizer references do one step and return the new parameter and slots (Keras 1.2
formulas, docs in csrc/kernels/cpu/optimizers.cpp and shared/reference/keras1-api.md §17).
"""
import numpy as np

# ---------------------------------------------------------------- unary math and activations


def identity(x):
    return np.array(x, dtype=np.float64)


def replica_mean(x):
    """Alone (no communicator) the mean over one replica: x. Over ranks it is tested under
    mpiexec (tests/python/distributed)."""
    return np.array(x, dtype=np.float64)


def neg(x):
    return -x


def exp(x):
    return np.exp(x)


def sin(x):
    return np.sin(x)


def cos(x):
    return np.cos(x)


def log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def sqrt(x):
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


def square(x):
    return x * x


def abs(x):  # noqa: A001 - named after the op
    return np.abs(x)


def sign(x):
    return np.sign(x)


def round(x):  # noqa: A001 - named after the op; half to even, as NumPy and K.round
    return np.round(x)


def clip(x, min=-np.inf, max=np.inf):  # noqa: A002
    return np.minimum(np.maximum(x, min), max)


def clip_grad(dy, x, min=-np.inf, max=np.inf):  # noqa: A002
    return np.where((x >= min) & (x <= max), dy, 0.0)


def relu(x):
    return np.where(x > 0, x, 0.0)


def relu_grad(dy, y):
    return np.where(y > 0, dy, 0.0)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1/(1+exp(-x)) without overflow


def sigmoid_grad(dy, y):
    return dy * y * (1.0 - y)


def tanh(x):
    return np.tanh(x)


def tanh_grad(dy, y):
    return dy * (1.0 - y * y)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(dy, y, alpha=1.0):
    # y = alpha*(e^x - 1) for x <= 0, so dy/dx = alpha*e^x = y + alpha
    return np.where(y > 0, dy, dy * (y + alpha))


def softplus(x):
    return np.logaddexp(0.0, x)


def softplus_grad(dy, x):
    return dy * sigmoid(x)


def softsign(x):
    return x / (1.0 + np.abs(x))


def softsign_grad(dy, x):
    return dy / (1.0 + np.abs(x)) ** 2


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def hard_sigmoid_grad(dy, x):
    return np.where((x > -2.5) & (x < 2.5), 0.2 * dy, 0.0)


# ---------------------------------------------------------------- binary, with broadcasting


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def maximum(a, b):
    return np.maximum(a, b)


def minimum(a, b):
    return np.minimum(a, b)


def equal(a, b):
    return (a == b).astype(np.float64)


def not_equal(a, b):
    return (a != b).astype(np.float64)


def greater(a, b):
    return (a > b).astype(np.float64)


def greater_equal(a, b):
    return (a >= b).astype(np.float64)


def less(a, b):
    return (a < b).astype(np.float64)


def less_equal(a, b):
    return (a <= b).astype(np.float64)


def pow(a, b):  # noqa: A001 - named after the op
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.power(a, b)


def pow_log(x):
    """log(x) where x > 0, else 0: the d pow / d b factor (0 where a^b has no real log)."""
    return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)


def constant(value):
    return np.array(value, dtype=np.float64)


def sum_like(x, ref):
    """Sums x down to ref's shape: NumPy broadcasting run backwards."""
    x = np.asarray(x, dtype=np.float64)
    lead = x.ndim - ref.ndim
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, d in enumerate(ref.shape) if d == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


def broadcast_like(x, ref, axes=None):
    """x broadcast to ref's shape; with axes, those (reduced) axes are re-inserted first."""
    if axes is not None:
        x = np.expand_dims(x, tuple(sorted(a % ref.ndim for a in axes)))
    return np.broadcast_to(x, ref.shape).astype(np.float64)


# ---------------------------------------------------------------- reductions


def _axes(x, axes):
    return None if axes is None else tuple(a % x.ndim for a in axes)


def reduce_sum(x, axes=None, keepdims=0):
    return np.sum(x, axis=_axes(x, axes), keepdims=bool(keepdims))


def reduce_mean(x, axes=None, keepdims=0):
    return np.mean(x, axis=_axes(x, axes), keepdims=bool(keepdims))


def reduce_max(x, axes=None, keepdims=0):
    return np.max(x, axis=_axes(x, axes), keepdims=bool(keepdims))


def reduce_min(x, axes=None, keepdims=0):
    return np.min(x, axis=_axes(x, axes), keepdims=bool(keepdims))


def reduce_count(x, axes=None, keepdims=0):
    """How many elements reduce_mean with these attributes averages over (f32[])."""
    ax = range(x.ndim) if axes is None else _axes(x, axes)
    return np.array(float(np.prod([x.shape[a] for a in ax])))


def reduce_prod(x, axes=None, keepdims=0):
    return np.prod(x, axis=_axes(x, axes), keepdims=bool(keepdims))


def reduce_prod_grad(dy, x, axes=None, keepdims=0):
    """dy times the product of the other elements of each reduced group (no division by x)."""
    red = list(range(x.ndim)) if axes is None else sorted(set(_axes(x, axes)))
    kept = [i for i in range(x.ndim) if i not in red]
    if x.size == 0:
        return np.zeros_like(x, dtype=np.float64)
    xt = np.transpose(x, kept + red)  # each group's elements last
    n = int(np.prod([x.shape[i] for i in red]))
    groups = xt.reshape(-1, n)
    others = np.stack([np.prod(np.delete(groups, j, axis=1), axis=1) for j in range(n)], axis=1)
    d = (others * np.reshape(dy, (-1, 1))).reshape(xt.shape)
    return np.transpose(d, np.argsort(kept + red))


def argmax(x, axis=-1):
    return np.argmax(x, axis=axis).astype(np.float64)  # first maximum wins


# ---------------------------------------------------------------- shape ops


def reshape(x, shape, batched=False):
    """batched: x's first dim is the batch dim `?` (the IR knows it from x's type, a test says
    it), and `shape` lists the dims of one sample; otherwise `shape` is the whole shape."""
    return np.reshape(x, ([x.shape[0]] if batched else []) + list(shape)).astype(np.float64)


def transpose(x, perm):
    return np.transpose(x, perm).astype(np.float64)


def concat(*xs, axis=-1):
    return np.concatenate(xs, axis=axis).astype(np.float64)


def _range(n, begin, end):
    b = begin + n if begin < 0 else begin
    e = n if end is None else (end + n if end < 0 else end)
    assert 0 <= b <= e <= n, "not a slice: begin=%s, end=%s of %d" % (begin, end, n)
    return b, e


def reverse(x, axis):
    return np.flip(x, axis=axis)


def slice(x, axis, begin=0, end=None):  # noqa: A001 - named after the op
    b, e = _range(x.shape[axis], begin, end)
    return np.take(x, np.arange(b, e), axis=axis).astype(np.float64)


def slice_grad(dy, x, axis, begin=0, end=None):
    b, e = _range(x.shape[axis], begin, end)
    dx = np.zeros(x.shape)
    index = [np.s_[:]] * x.ndim
    index[axis] = np.s_[b:e]
    dx[tuple(index)] = dy
    return dx


def _indices(indices, n):
    idx = np.asarray(indices).astype(np.int64)
    assert np.all(idx == indices) and np.all((idx >= 0) & (idx < n)), "bad index"
    return idx


def gather(params, indices):
    return params[_indices(indices, params.shape[0])].astype(np.float64)


def gather_grad(dy, indices, params):
    """Scatter-add: a row gathered k times gets the sum of its k cotangents."""
    dp = np.zeros(params.shape)
    np.add.at(dp, _indices(indices, params.shape[0]), dy)
    return dp


def one_hot(indices, depth):
    return np.eye(depth)[_indices(indices, depth)]


def tile(x, reps):
    assert len(reps) == x.ndim
    return np.tile(x, reps).astype(np.float64)


def tile_grad(dy, x, reps):
    """dy seen as [reps0, d0, reps1, d1, ...], summed over the reps axes."""
    split = [n for r, d in zip(reps, x.shape) for n in (r, d)]
    return np.reshape(dy, split).sum(axis=tuple(range(0, len(split), 2))).astype(np.float64)


def repeat(x, axis, repeats):
    return np.repeat(x, repeats, axis=axis).astype(np.float64)


def repeat_grad(dy, x, axis, repeats):
    """dy seen as [..., A, repeats, ...], summed over the repeats axis."""
    ax = axis % x.ndim
    return np.reshape(dy, x.shape[:ax] + (x.shape[ax], repeats) + x.shape[ax + 1:]).sum(axis=ax + 1)


# ---------------------------------------------------------------- softmax


def softmax(x, axis=-1):
    with np.errstate(invalid="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # a row of -inf gives NaN
        return e / np.sum(e, axis=axis, keepdims=True)


def softmax_grad(dy, y, axis=-1):
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


# ---------------------------------------------------------------- linear algebra


def matmul(a, b, transpose_a=0, transpose_b=0):
    if transpose_a:  # [P..., M]^T @ [P..., N], summed over every leading dim
        return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])
    return a @ (b.T if transpose_b else b)


def bias_add(x, bias):
    return x + bias


_DENSE_ACT = {
    "linear": lambda z: z,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": lambda z: softmax(z, axis=-1),
}


def dense(x, W, b=None, activation="linear"):
    z = x @ W
    if b is not None:
        z = z + b
    return _DENSE_ACT[activation](z)


# ---------------------------------------------------------------- convolution and pooling (conv.py)

from .conv import conv2d, conv2d_grad_filter, conv2d_grad_input, pool2d, pool2d_grad  # noqa: E402,F401


# ---------------------------------------------------------------- losses (Keras 1 semantics)


def categorical_crossentropy(target, output, epsilon=1e-7):
    q = output / np.sum(output, axis=-1, keepdims=True)
    p = np.clip(q, epsilon, 1.0 - epsilon)
    return -np.sum(target * np.log(p), axis=-1)


def categorical_crossentropy_grad(dy, target, output, epsilon=1e-7):
    """d loss / d output by the chain rule through q = o / sum(o) and the clip."""
    S = np.sum(output, axis=-1, keepdims=True)
    q = output / S
    inside = (q >= epsilon) & (q <= 1.0 - epsilon)
    dq = np.where(inside, -target / np.where(inside, q, 1.0), 0.0)  # d loss / d q
    # d q_i / d o_j = (delta_ij - q_i) / S
    return dy[..., None] * (dq - np.sum(dq * q, axis=-1, keepdims=True)) / S


def _one_hot(target, output):
    idx = np.asarray(target).reshape(output.shape[:-1]).astype(np.int64)
    return np.eye(output.shape[-1])[idx]


def sparse_categorical_crossentropy(target, output, epsilon=1e-7):
    return categorical_crossentropy(_one_hot(target, output), output, epsilon)


def sparse_categorical_crossentropy_grad(dy, target, output, epsilon=1e-7):
    return categorical_crossentropy_grad(dy, _one_hot(target, output), output, epsilon)


# ---------------------------------------------------------------- random


def dropout_mask(x, rate=0.5, seed=0):
    """The mask is random; its reference is its expectation, 1 everywhere (inverted dropout:
    0 with probability rate, else 1/(1-rate)). See dropout_mask_support."""
    return np.ones_like(x, dtype=np.float64)


def _mix64(z):
    """splitmix64's finalizer on uint64 arrays (NumPy wraps mod 2^64, as C++ does)."""
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def dropout_values(n, rate, seed, step):
    """The exact values of dropout_mask's first n elements in run `step` (kernels/cpu/random.h):
    0 where the top 24 bits of hash(seed, step, i), as a fraction of 2^24, are below rate."""
    base = _mix64(np.uint64(seed) ^ _mix64(np.uint64(step)))
    with np.errstate(over="ignore"):
        r = _mix64(base + np.arange(n, dtype=np.uint64)) >> np.uint64(40)
    return np.where(r >= np.uint64(int(rate * 16777216.0)), 1.0 / (1.0 - rate), 0.0)


def uniform_values(n, seed, step):
    """random_uniform's uniforms in (0, 1) (kernels/cpu/random.h UniformStream): element i is
    (top 24 bits of hash(seed, step, i) + 0.5) / 2^24."""
    base = _mix64(np.uint64(seed) ^ _mix64(np.uint64(step)))
    with np.errstate(over="ignore"):
        r = _mix64(base + np.arange(n, dtype=np.uint64)) >> np.uint64(40)
    return (r.astype(np.float64) + 0.5) / 16777216.0


def random_uniform(n, seed, step, low=0.0, high=1.0):
    return low + (high - low) * uniform_values(n, seed, step)


def random_normal(n, seed, step, mean=0.0, stddev=1.0):
    """Box-Muller on uniforms 2i and 2i+1."""
    u = uniform_values(2 * n, seed, step)
    return mean + stddev * np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2 * np.pi * u[1::2])


def random_binomial(n, seed, step, p=0.5):
    return (uniform_values(n, seed, step) < p).astype(np.float64)


def dropout_mask_support(rate=0.5):
    return (0.0, 1.0 / (1.0 - rate))


# ---------------------------------------------------------------- optimizer updates (one step)


def _prepare(g, lr, iterations, clipvalue=0.0, decay=0.0):
    if clipvalue > 0:
        g = np.clip(g, -clipvalue, clipvalue)
    if decay > 0:
        lr = lr / (1.0 + decay * iterations)
    return g, lr, iterations + 1.0


def sgd_step(p, g, lr, iterations, moment, momentum=0.0, nesterov=0, clipvalue=0.0, decay=0.0):
    g, lr, _ = _prepare(g, lr, iterations, clipvalue, decay)
    v = momentum * moment - lr * g
    new_p = p + momentum * v - lr * g if nesterov else p + v
    return new_p, v


def rmsprop_step(p, g, lr, iterations, acc, rho=0.9, epsilon=1e-8, clipvalue=0.0, decay=0.0):
    g, lr, _ = _prepare(g, lr, iterations, clipvalue, decay)
    acc = rho * acc + (1 - rho) * g * g
    return p - lr * g / (np.sqrt(acc) + epsilon), acc


def adagrad_step(p, g, lr, iterations, acc, epsilon=1e-8, clipvalue=0.0, decay=0.0):
    g, lr, _ = _prepare(g, lr, iterations, clipvalue, decay)
    acc = acc + g * g
    return p - lr * g / (np.sqrt(acc) + epsilon), acc


def adadelta_step(p, g, lr, iterations, acc, delta_acc, rho=0.95, epsilon=1e-8, clipvalue=0.0, decay=0.0):
    g, lr, _ = _prepare(g, lr, iterations, clipvalue, decay)
    acc = rho * acc + (1 - rho) * g * g
    update = g * np.sqrt(delta_acc + epsilon) / np.sqrt(acc + epsilon)
    new_p = p - lr * update
    delta_acc = rho * delta_acc + (1 - rho) * update * update
    return new_p, acc, delta_acc


def adam_step(p, g, lr, iterations, m, v, beta_1=0.9, beta_2=0.999, epsilon=1e-8, clipvalue=0.0, decay=0.0):
    g, lr, t = _prepare(g, lr, iterations, clipvalue, decay)
    lr_t = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return p - lr_t * m / (np.sqrt(v) + epsilon), m, v


def adamax_step(p, g, lr, iterations, m, u, beta_1=0.9, beta_2=0.999, epsilon=1e-8, clipvalue=0.0, decay=0.0):
    g, lr, t = _prepare(g, lr, iterations, clipvalue, decay)
    lr_t = lr / (1 - beta_1 ** t)
    m = beta_1 * m + (1 - beta_1) * g
    u = np.maximum(beta_2 * u, np.abs(g))
    return p - lr_t * m / (u + epsilon), m, u


def _momentum_cache(beta_1, schedule_decay, t):
    return beta_1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))


def nadam_step(p, g, lr, iterations, m, v, m_schedule, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
               schedule_decay=0.004, clipvalue=0.0, decay=0.0):
    """One Nadam step reading the running schedule product m_schedule (not advanced here:
    nadam_schedule_step does that)."""
    g, lr, t = _prepare(g, lr, iterations, clipvalue, decay)
    mc_t = _momentum_cache(beta_1, schedule_decay, t)
    mc_t1 = _momentum_cache(beta_1, schedule_decay, t + 1)
    sched_new = m_schedule * mc_t
    sched_next = m_schedule * mc_t * mc_t1
    g_prime = g / (1 - sched_new)
    m = beta_1 * m + (1 - beta_1) * g
    m_prime = m / (1 - sched_next)
    v = beta_2 * v + (1 - beta_2) * g * g
    v_prime = v / (1 - beta_2 ** t)
    m_bar = (1 - mc_t) * g_prime + mc_t1 * m_prime
    return p - lr * m_bar / (np.sqrt(v_prime) + epsilon), m, v


def nadam_schedule_step(m_schedule, iterations, beta_1=0.9, schedule_decay=0.004):
    return m_schedule * _momentum_cache(beta_1, schedule_decay, iterations + 1.0)


def increment(x, by=1.0):
    return x + by


def merge_batch(x):
    """[B, T, ...] -> [B*T, ...]: the time axis folded into the batch."""
    return np.reshape(x, (x.shape[0] * x.shape[1],) + x.shape[2:]).astype(np.float64)


def split_batch(x, like=None, size=None):
    """[B*T, ...] -> [B, T, ...] with T = size, or like's second dim."""
    size = like.shape[1] if size is None else size
    return np.reshape(x, (x.shape[0] // size, size) + x.shape[1:]).astype(np.float64)


def fix_batch(x, size):
    """The same elements, the batch dim fixed to `size` (checked)."""
    assert x.shape[0] == size
    return x.astype(np.float64)


def free_batch(x):
    return x.astype(np.float64)


def assign(dst, src):
    return np.array(src, dtype=np.float64)


def shape_of(x):
    return np.array(x.shape, dtype=np.float64)


# ---------------------------------------------------------------- weight constraints


def apply_constraint(w, kind, max_value=2.0, min_value=0.0, rate=1.0, axes=(0,)):
    """ops/constraints.cpp's projection of w (float64)."""
    w = np.asarray(w, dtype=np.float64)
    if kind == "non_neg":
        return w * (w >= 0)
    n = np.sqrt(np.sum(w * w, axis=tuple(axes), keepdims=True))
    eps = 1e-7
    if kind == "unit_norm":
        return w / (eps + n)
    if kind == "max_norm":
        return w * (np.clip(n, 0.0, max_value) / (eps + n))
    return w * ((rate * np.clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n))
