"""NumPy references of the fused recurrent ops (csrc/ops/recurrent.cpp), step by step in
float64, written from Keras 1.2's equations. Weights are packed gate by gate (lstm: i f c o;
gru: z r h). Each returns the op's results in order. The *_grad references differentiate the
forward reference by central differences (obvious, independent of the kernels' BPTT)."""
import numpy as np

from numeric import numeric_grad  # tests/python/numeric.py: the one central-difference helper

from .ops import dropout_values, elu, hard_sigmoid, relu, sigmoid, softplus, softsign

ACT = {"linear": lambda x: x, "relu": relu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": np.tanh,
       "softsign": softsign, "softplus": softplus, "elu": elu}


def _steps(T, go_backwards):
    return range(T - 1, -1, -1) if go_backwards else range(T)


def _output(hs, order, return_sequences):
    return hs[:, list(order)] if return_sequences else hs[:, list(order)[-1]]


def lstm(x, W, U, b, mask=None, h0=None, c0=None, activation="tanh", inner_activation="hard_sigmoid",
         go_backwards=0, return_sequences=0, z_offset=None, dropout_W=0.0, dropout_U=0.0, seed=0, step=1):
    """z_offset [B, T, 4u], added to the pre-activations (the grad reference's probe of dz).
    step: the run whose dropout masks to draw (a fresh program's first run is 1)."""
    act, inner = ACT[activation], ACT[inner_activation]
    B, T, D = x.shape
    u = U.shape[0]
    mW, mU = _dropout(B, 4, D, u, dropout_W, dropout_U, seed, step)
    h = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    c = np.zeros((B, u)) if c0 is None else np.array(c0, np.float64)
    hs, cs, gates = np.zeros((B, T, u)), np.zeros((B, T, u)), np.zeros((B, T, 4 * u))
    order = _steps(T, go_backwards)
    for t in order:
        z = _by_gate(x[:, t], mW, W) + b + _by_gate(h, mU, U) + (0 if z_offset is None else z_offset[:, t])
        i, f, g, o = inner(z[:, :u]), inner(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), inner(z[:, 3 * u:])
        gates[:, t] = np.concatenate([i, f, g, o], axis=1)
        c_new = f * c + i * g
        h_new = o * act(c_new)
        keep = np.ones((B, 1)) if mask is None else mask[:, t:t + 1]
        c = np.where(keep != 0, c_new, c)
        h = np.where(keep != 0, h_new, h)
        hs[:, t], cs[:, t] = h, c
    return _output(hs, order, return_sequences), hs, cs, gates


def _dropout(B, G, D, u, dropout_W, dropout_U, seed, step):
    """Keras 1's per-sequence, per-gate masks [B, G, D] on x and [B, G, u] on h_prev (ones without
    dropout), drawn as the kernels draw them: dropout_mask's values for seeds seed and seed + 1."""
    ones = lambda n: np.ones((B, G, n))
    mW = dropout_values(B * G * D, dropout_W, seed, step).reshape(B, G, D) if dropout_W else ones(D)
    mU = dropout_values(B * G * u, dropout_U, seed + 1, step).reshape(B, G, u) if dropout_U else ones(u)
    return mW, mU


def _by_gate(v, m, M):
    """[v * m_g @ M_g for each gate g], side by side: v [B, n], m [B, G, n], M [n, G*u]."""
    G = m.shape[1]
    u = M.shape[1] // G
    return np.concatenate([(v * m[:, g]) @ M[:, g * u:(g + 1) * u] for g in range(G)], axis=1)


def _previous_states(hs, h0, go_backwards):
    B, T, u = hs.shape
    order = list(_steps(T, go_backwards))
    prev = np.zeros_like(hs)
    for k, t in enumerate(order):
        prev[:, t] = (np.zeros((B, u)) if h0 is None else h0) if k == 0 else hs[:, order[k - 1]]
    return prev


def _numeric(f, arrays, eps=1e-6):
    """Gradients of f() (a scalar) with respect to each array, perturbed in place."""
    return [numeric_grad(f, a, eps) for a in arrays]


def lstm_grad(dy, x, W, U, b, hs, cs, gates, mask=None, h0=None, c0=None, input_grad=1, **attrs):
    x, W, U, b = (np.array(a, np.float64) for a in (x, W, U, b))
    B, T, _ = x.shape
    u = U.shape[0]
    h0 = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    c0 = np.zeros((B, u)) if c0 is None else np.array(c0, np.float64)
    probe = np.zeros((B, T, 4 * u))
    loss = lambda: float(np.sum(lstm(x, W, U, b, mask, h0, c0, z_offset=probe, **attrs)[0] * dy))
    dx, dW, dU, db, dh0, dc0, dz = _numeric(loss, [x, W, U, b, h0, c0, probe])
    return dx if input_grad else np.float64(0), dW, dU, db, dh0, dc0, dz, _previous_states(hs, h0, attrs.get("go_backwards", 0))


def gru(x, W, U, b, mask=None, h0=None, activation="tanh", inner_activation="hard_sigmoid", go_backwards=0,
        return_sequences=0, z_offset=None, dropout_W=0.0, dropout_U=0.0, seed=0, step=1):
    act, inner = ACT[activation], ACT[inner_activation]
    B, T, D = x.shape
    u = U.shape[0]
    mW, mU = _dropout(B, 3, D, u, dropout_W, dropout_U, seed, step)
    h = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    hs, gates, rh = np.zeros((B, T, u)), np.zeros((B, T, 3 * u)), np.zeros((B, T, u))
    order = _steps(T, go_backwards)
    for t in order:
        off = 0 if z_offset is None else z_offset[:, t]
        zx = _by_gate(x[:, t], mW, W) + b + off
        zr = zx[:, :2 * u] + _by_gate(h, mU[:, :2], U[:, :2 * u])
        z, r = inner(zr[:, :u]), inner(zr[:, u:])
        rh[:, t] = r * h * mU[:, 2]
        hh = act(zx[:, 2 * u:] + rh[:, t] @ U[:, 2 * u:])
        gates[:, t] = np.concatenate([z, r, hh], axis=1)
        keep = np.ones((B, 1)) if mask is None else mask[:, t:t + 1]
        h = np.where(keep != 0, z * h + (1 - z) * hh, h)
        hs[:, t] = h
    return _output(hs, order, return_sequences), hs, gates, rh


def gru_grad(dy, x, W, U, b, hs, gates, rh, mask=None, h0=None, input_grad=1, **attrs):
    x, W, U, b = (np.array(a, np.float64) for a in (x, W, U, b))
    B, T, _ = x.shape
    u = U.shape[0]
    h0 = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    probe = np.zeros((B, T, 3 * u))
    loss = lambda: float(np.sum(gru(x, W, U, b, mask, h0, z_offset=probe, **attrs)[0] * dy))
    dx, dW, dU, db, dh0, dz = _numeric(loss, [x, W, U, b, h0, probe])
    return dx if input_grad else np.float64(0), dW, dU, db, dh0, dz, _previous_states(hs, h0, attrs.get("go_backwards", 0))


def simple_rnn(x, W, U, b, mask=None, h0=None, activation="tanh", go_backwards=0, return_sequences=0, z_offset=None,
               dropout_W=0.0, dropout_U=0.0, seed=0, step=1):
    act = ACT[activation]
    B, T, D = x.shape
    u = U.shape[0]
    mW, mU = _dropout(B, 1, D, u, dropout_W, dropout_U, seed, step)
    h = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    hs = np.zeros((B, T, u))
    order = _steps(T, go_backwards)
    for t in order:
        z = _by_gate(x[:, t], mW, W) + b + _by_gate(h, mU, U) + (0 if z_offset is None else z_offset[:, t])
        keep = np.ones((B, 1)) if mask is None else mask[:, t:t + 1]
        h = np.where(keep != 0, act(z), h)
        hs[:, t] = h
    return _output(hs, order, return_sequences), hs


def simple_rnn_grad(dy, x, W, U, b, hs, mask=None, h0=None, input_grad=1, **attrs):
    x, W, U, b = (np.array(a, np.float64) for a in (x, W, U, b))
    B, T, _ = x.shape
    u = U.shape[0]
    h0 = np.zeros((B, u)) if h0 is None else np.array(h0, np.float64)
    probe = np.zeros((B, T, u))
    loss = lambda: float(np.sum(simple_rnn(x, W, U, b, mask, h0, z_offset=probe, **attrs)[0] * dy))
    dx, dW, dU, db, dh0, dz = _numeric(loss, [x, W, U, b, h0, probe])
    return dx if input_grad else np.float64(0), dW, dU, db, dh0, dz, _previous_states(hs, h0, attrs.get("go_backwards", 0))
