"""`load_torch_state_dict` without PyTorch: state dicts of NumPy arrays under torch's key names
and in torch's layouts (Linear [out, in]; Conv2d OIHW; Conv1d [out, in, k]; Embedding;
BatchNorm1d/2d; LSTM packed i, f, g, o; GRU packed r, z, n with b_hn inside the reset product;
nn.RNN; `_reverse` for a bidirectional layer), and the expected outputs from NumPy
implementations of torch's module formulas written here (float64), compared with kiln's predict
on real MNIST digits and movie-review words. Weights and biases are random and wide (biases
uniform in [-1, 1]) so that a swapped gate, a missed transpose or a bias in the wrong place
shows; `test_a_wrong_layout_is_seen` checks that it does. The error paths mirror
test_torch_weights.py's. Where torch is installed, `test_the_formulas_are_torchs` checks the
formulas against torch's modules."""
import pathlib
import sys

import numpy as np
import pytest

from kiln.interop import TorchWeightsError, load_torch_state_dict
from kiln.layers import (GRU, LSTM, Activation, BatchNormalization, Bidirectional,
                         Convolution1D, Convolution2D, Dense, Embedding, Flatten, Input, SimpleRNN,
                         TimeDistributed)
from kiln.models import Model
from torch_cases import wordconv_model, words

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from reference import conv as cref  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def uni(rng, shape, a):
    return rng.uniform(-a, a, size=shape).astype(np.float32)


def close(got, want):
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)


def far(got, want):
    """Outside close()'s tolerance by a wide margin."""
    excess = np.abs(got - want) - (ATOL + RTOL * np.abs(want))
    assert excess.max() > 1e-2, excess.max()


# ---- torch's module formulas, in NumPy (float64) ----

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def linear(x, w, b=None):
    """nn.Linear: x @ W.T + b, W [out, in]."""
    y = np.asarray(x, np.float64) @ np.asarray(w, np.float64).T
    return y if b is None else y + b


def conv2d(x, w, b=None, stride=1, padding=0):
    """nn.Conv2d on NCHW with an OIHW kernel (cross-correlation), through the NHWC reference."""
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = cref.conv2d(xp.transpose(0, 2, 3, 1), np.asarray(w, np.float64).transpose(2, 3, 1, 0), b,
                    strides=(stride, stride))
    return y.transpose(0, 3, 1, 2)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """nn.Conv1d on [N, C, L] with a [out, in, k] kernel: the dilated kernel (zeros between the
    taps) as a 1 x k' conv2d over the zero-padded steps."""
    O, C, k = w.shape
    wd = np.zeros((O, C, (k - 1) * dilation + 1))
    wd[:, :, ::dilation] = w
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (padding, padding)))
    y = cref.conv2d(xp.transpose(0, 2, 1)[:, None], wd.transpose(2, 1, 0)[None], b, strides=(1, stride))
    return y[:, 0].transpose(0, 2, 1)


def batchnorm(x, p, axis, eps):
    """nn.BatchNorm*d in eval: (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    shape = [1] * x.ndim
    shape[axis] = -1
    g = lambda k: np.asarray(p[k], np.float64).reshape(shape)
    return (x - g("running_mean")) / np.sqrt(g("running_var") + eps) * g("weight") + g("bias")


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def lstm_dir(x, wih, whh, bih, bhh, reverse=False):
    """One direction of nn.LSTM (batch_first): gates i, f, g, o packed in rows of weight_ih."""
    B, T, _ = x.shape
    u = whh.shape[1]
    h, c, out = np.zeros((B, u)), np.zeros((B, u)), np.zeros((B, T, u))
    for t in _steps(T, reverse):
        z = linear(x[:, t], wih, bih) + linear(h, whh, bhh)
        i, f, g, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def gru_dir(x, wih, whh, bih, bhh, reverse=False):
    """One direction of nn.GRU: r, z, n packed; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h = (1 - z) * n + z * h."""
    B, T, _ = x.shape
    u = whh.shape[1]
    h, out = np.zeros((B, u)), np.zeros((B, T, u))
    for t in _steps(T, reverse):
        gi, gh = linear(x[:, t], wih, bih), linear(h, whh, bhh)
        r = sigmoid(gi[:, :u] + gh[:, :u])
        z = sigmoid(gi[:, u:2 * u] + gh[:, u:2 * u])
        n = np.tanh(gi[:, 2 * u:] + r * gh[:, 2 * u:])
        h = (1 - z) * n + z * h
        out[:, t] = h
    return out


def rnn_dir(x, wih, whh, bih, bhh, reverse=False):
    """nn.RNN (tanh): h = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    B, T, _ = x.shape
    h, out = np.zeros((B, whh.shape[1])), np.zeros((B, T, whh.shape[1]))
    for t in _steps(T, reverse):
        h = np.tanh(linear(x[:, t], wih, bih) + linear(h, whh, bhh))
        out[:, t] = h
    return out


def recurrent(cell, x, sd, prefix, layers, bidirectional):
    """A stacked (bidirectional: [forward, backward] concatenated per step) torch RNN module."""
    h = np.asarray(x, np.float64)
    for k in range(layers):
        dirs = ["", "_reverse"] if bidirectional else [""]
        h = np.concatenate([cell(h, *(sd["%s%s_l%d%s" % (prefix, p, k, d)] for p in
                                      ("weight_ih", "weight_hh", "bias_ih", "bias_hh")), reverse=bool(d))
                            for d in dirs], axis=-1)
    return h


# ---- torch-shaped state dicts of NumPy arrays ----

def linear_sd(rng, sd, name, n_in, n_out, bias=True):
    sd[name + ".weight"] = uni(rng, (n_out, n_in), 1.0 / np.sqrt(n_in) * 2)
    if bias:
        sd[name + ".bias"] = uni(rng, (n_out,), 1.0)


def batchnorm_sd(rng, sd, name, n):
    sd[name + ".weight"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
    sd[name + ".bias"] = uni(rng, (n,), 0.5)
    sd[name + ".running_mean"] = uni(rng, (n,), 0.5)
    sd[name + ".running_var"] = rng.uniform(0.5, 2.0, n).astype(np.float32)
    sd[name + ".num_batches_tracked"] = np.array(3, np.int64)


def recurrent_sd(rng, sd, prefix, gates, n_in, units, layers=1, bidirectional=False, scale=0.6):
    for k in range(layers):
        width = n_in if k == 0 else units * (2 if bidirectional else 1)
        for d in (["", "_reverse"] if bidirectional else [""]):
            sd["%sweight_ih_l%d%s" % (prefix, k, d)] = uni(rng, (gates * units, width), scale)
            sd["%sweight_hh_l%d%s" % (prefix, k, d)] = uni(rng, (gates * units, units), scale)
            sd["%sbias_ih_l%d%s" % (prefix, k, d)] = uni(rng, (gates * units,), 1.0)
            sd["%sbias_hh_l%d%s" % (prefix, k, d)] = uni(rng, (gates * units,), 1.0)


# ---- loading, compared with the formulas ----

def test_mlp_by_default_order(mnist, rng):
    sd = {}
    linear_sd(rng, sd, "0", 784, 32)
    linear_sd(rng, sd, "2", 32, 10)
    x = Input(shape=(784,))
    model = Model(x, Dense(10)(Dense(32, activation="relu")(x)))
    assert list(load_torch_state_dict(model, sd)) == ["0", "2"]
    xs = mnist[2][:64]
    want = linear(np.maximum(linear(xs, sd["0.weight"], sd["0.bias"]), 0), sd["2.weight"], sd["2.bias"])
    close(model.predict(xs), want)


def test_float64_arrays_and_a_mapping_to_a_layer_object(mnist, rng):
    sd = {"fc.weight": rng.normal(0, 0.1, (10, 784)), "fc.bias": rng.uniform(-1, 1, 10)}  # float64
    x = Input(shape=(784,))
    dense = Dense(10, name="d")
    model = Model(x, dense(x))
    assert load_torch_state_dict(model, sd, mapping={"fc": dense}) == {"fc": "d"}
    assert dense.get_weights()[0].dtype == np.float32
    xs = mnist[2][:32]
    close(model.predict(xs), linear(xs, sd["fc.weight"], sd["fc.bias"]))


def test_mlp_with_batchnorm1d(mnist, rng):
    sd = {}
    linear_sd(rng, sd, "0", 784, 24)
    batchnorm_sd(rng, sd, "1", 24)
    linear_sd(rng, sd, "3", 24, 5)
    x = Input(shape=(784,))
    h = Activation("relu")(BatchNormalization(epsilon=1e-5)(Dense(24)(x)))
    model = Model(x, Dense(5)(h))
    assert list(load_torch_state_dict(model, sd)) == ["0", "1", "3"]
    xs = mnist[2][:32]
    h = np.maximum(batchnorm(linear(xs, sd["0.weight"], sd["0.bias"]), {k[2:]: v for k, v in sd.items()
                                                                        if k.startswith("1.")}, 1, 1e-5), 0)
    close(model.predict(xs), linear(h, sd["3.weight"], sd["3.bias"]))


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_convnet_with_batchnorm2d(ordering, mnist, rng):
    sd = {"0.weight": uni(rng, (6, 1, 3, 3), 0.6), "0.bias": uni(rng, (6,), 1.0)}
    batchnorm_sd(rng, sd, "1", 6)
    sd["3.weight"], sd["3.bias"] = uni(rng, (4, 6, 3, 3), 0.3), uni(rng, (4,), 1.0)
    shape = (1, 28, 28) if ordering == "th" else (28, 28, 1)
    x = Input(shape=shape)
    h = Convolution2D(6, 3, 3, border_mode="same", dim_ordering=ordering)(x)
    h = BatchNormalization(axis=1 if ordering == "th" else -1, epsilon=1e-3)(h)
    h = Convolution2D(4, 3, 3, subsample=(2, 2), activation="relu", dim_ordering=ordering)(Activation("relu")(h))
    model = Model(x, h)
    load_torch_state_dict(model, sd)
    xs = mnist[2][:16].reshape(16, 1, 28, 28)
    bn = {k[2:]: v for k, v in sd.items() if k.startswith("1.")}
    h = np.maximum(batchnorm(conv2d(xs, sd["0.weight"], sd["0.bias"], padding=1), bn, 1, 1e-3), 0)
    want = np.maximum(conv2d(h, sd["3.weight"], sd["3.bias"], stride=2), 0)
    got = model.predict(xs if ordering == "th" else np.ascontiguousarray(xs.transpose(0, 2, 3, 1)))
    close(got if ordering == "th" else got.transpose(0, 3, 1, 2), want)


def tagger_sd(rng, kind, bidirectional):
    gates = {"lstm": 4, "gru": 3}[kind]
    sd = {"embed.weight": rng.normal(0, 1, (1000, 16)).astype(np.float32)}
    recurrent_sd(rng, sd, kind + ".", gates, 16, 12, layers=2, bidirectional=bidirectional)
    linear_sd(rng, sd, "out", 12 * (2 if bidirectional else 1), 3)
    return sd


def tagger_want(sd, kind, ids, bidirectional):
    cell = {"lstm": lstm_dir, "gru": gru_dir}[kind]
    seq = recurrent(cell, sd["embed.weight"][ids], sd, kind + ".", 2, bidirectional)
    return linear(seq, sd["out.weight"], sd["out.bias"])


def tagger_model(kind, bidirectional):
    ids = Input(shape=(30,), dtype="int32")
    h = Embedding(1000, 16, input_length=30)(ids)
    for _ in range(2):
        if kind == "lstm":
            rnn = LSTM(12, return_sequences=True, inner_activation="sigmoid")
        else:
            rnn = GRU(12, return_sequences=True, reset_after=True, inner_activation="sigmoid")
        h = Bidirectional(rnn, merge_mode="concat")(h) if bidirectional else rnn(h)
    return Model(ids, TimeDistributed(Dense(3))(h))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_embedding_stacked_recurrent_and_linear(kind, bidirectional, reviews, rng):
    sd = tagger_sd(rng, kind, bidirectional)
    model = tagger_model(kind, bidirectional)
    assert list(load_torch_state_dict(model, sd)) == ["embed", kind + ".l0", kind + ".l1", "out"]
    x = words(reviews)
    close(model.predict(x.astype(np.float32)), tagger_want(sd, kind, x, bidirectional))


def test_rnn_by_names_into_a_simple_rnn(mnist, rng):
    sd = {}
    recurrent_sd(rng, sd, "", 1, 28, 10, scale=0.3)
    x = Input(shape=(28, 28))
    model = Model(x, SimpleRNN(10, name="rows", return_sequences=True)(x))
    assert load_torch_state_dict(model, sd, mapping={"l0": "rows"}) == {"l0": "rows"}
    xs = mnist[2][:8].reshape(8, 28, 28)
    close(model.predict(xs), recurrent(rnn_dir, xs, sd, "", 1, False))


def test_gru_last_state_by_names(mnist, rng):
    sd = {}
    recurrent_sd(rng, sd, "", 3, 28, 10)
    x = Input(shape=(28, 28))
    model = Model(x, GRU(10, name="rows", reset_after=True, recurrent_activation="sigmoid")(x))
    assert load_torch_state_dict(model, sd, mapping={"l0": "rows"}) == {"l0": "rows"}
    xs = mnist[2][:8].reshape(8, 28, 28)
    close(model.predict(xs), recurrent(gru_dir, xs, sd, "", 1, False)[:, -1])


def wordconv_sd(rng, stride, dilation):
    sd = {"embed.weight": rng.normal(0, 1, (1000, 16)).astype(np.float32),
          "conv1.weight": uni(rng, (8, 16, 5), 0.3), "conv1.bias": uni(rng, (8,), 1.0),
          "conv2.weight": uni(rng, (6, 8, 3), 0.4), "conv2.bias": uni(rng, (6,), 1.0)}
    steps = (30 - dilation * 2 - 1) // stride + 1
    linear_sd(rng, sd, "out", 6 * steps, 2)
    return sd, steps


@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2)])
def test_embedding_conv1d_and_linear(stride, dilation, reviews, rng):
    sd, steps = wordconv_sd(rng, stride, dilation)
    model, model_steps = wordconv_model(stride, dilation)
    assert model_steps == steps
    assert list(load_torch_state_dict(model, sd)) == ["embed", "conv1", "conv2", "out"]
    x = words(reviews)
    e = sd["embed.weight"][x].transpose(0, 2, 1)  # torch's [N, C, L]
    h = np.maximum(conv1d(e, sd["conv1.weight"], sd["conv1.bias"], padding=2), 0)
    h = np.tanh(conv1d(h, sd["conv2.weight"], sd["conv2.bias"], stride=stride, dilation=dilation))
    want = linear(h.transpose(0, 2, 1).reshape(len(x), -1), sd["out.weight"], sd["out.bias"])
    close(model.predict(x.astype(np.float32)), want)


# ---- the comparisons above see a wrong layout ----

def _swap_rows(a, u, g1, g2):
    a = a.copy()
    a[g1 * u:(g1 + 1) * u], a[g2 * u:(g2 + 1) * u] = a[g2 * u:(g2 + 1) * u].copy(), a[g1 * u:(g1 + 1) * u].copy()
    return a


def _corrupt(sd, kind, how):
    bad = dict(sd)
    p = kind + "."
    if how == "bias_hn_outside":  # torch's b_hn moved out of the reset product, into b_in
        for k in range(2):
            bi, bh = bad["%sbias_ih_l%d" % (p, k)].copy(), bad["%sbias_hh_l%d" % (p, k)].copy()
            bi[24:] += bh[24:]
            bh[24:] = 0
            bad["%sbias_ih_l%d" % (p, k)], bad["%sbias_hh_l%d" % (p, k)] = bi, bh
        return bad
    if how == "linear_transposed":
        bad["out.weight"] = np.ascontiguousarray(sd["out.weight"][:, ::-1])  # same shape, columns reversed
        return bad
    g1, g2 = {"i_f": (0, 1), "g_o": (2, 3), "r_z": (0, 1), "z_n": (1, 2)}[how]
    for key in [k for k in sd if k.startswith(p) and "_l0" in k]:
        bad[key] = _swap_rows(sd[key], 12, g1, g2)
    return bad


@pytest.mark.parametrize("kind,how", [("lstm", "i_f"), ("lstm", "g_o"), ("gru", "r_z"), ("gru", "z_n"),
                                      ("gru", "bias_hn_outside"), ("lstm", "linear_transposed")])
def test_a_wrong_layout_is_seen(kind, how, reviews, rng):
    """A state dict whose gates are packed in another order (or whose b_hn is outside the reset
    product, or whose Linear weight is laid out otherwise) loads, but kiln's output is then far
    from the formulas' on the true state dict: the tests above would catch the loader doing it."""
    sd = tagger_sd(rng, kind, False)
    model = tagger_model(kind, False)
    x = words(reviews)
    want = tagger_want(sd, kind, x, False)
    load_torch_state_dict(model, sd)
    close(model.predict(x.astype(np.float32)), want)
    load_torch_state_dict(model, _corrupt(sd, kind, how))
    far(model.predict(x.astype(np.float32)), want)


def test_a_transposed_square_linear_is_seen(mnist, rng):
    sd = {}
    linear_sd(rng, sd, "0", 784, 16)
    linear_sd(rng, sd, "1", 16, 16)
    x = Input(shape=(784,))
    model = Model(x, Dense(16)(Dense(16, activation="tanh")(x)))
    xs = mnist[2][:16]
    want = linear(np.tanh(linear(xs, sd["0.weight"], sd["0.bias"])), sd["1.weight"], sd["1.bias"])
    load_torch_state_dict(model, sd)
    close(model.predict(xs), want)
    load_torch_state_dict(model, dict(sd, **{"1.weight": np.ascontiguousarray(sd["1.weight"].T)}))
    far(model.predict(xs), want)


# ---- errors: nothing loads, both sides are named ----

def test_a_shape_mismatch_names_both_sides_and_loads_nothing(rng):
    sd = {}
    linear_sd(rng, sd, "0", 5, 4)
    linear_sd(rng, sd, "1", 4, 3)
    x = Input(shape=(5,))
    first = Dense(4, name="first")
    model = Model(x, Dense(2, name="second")(first(x)))
    before = first.get_weights()[0].copy()
    with pytest.raises(TorchWeightsError, match=r"torch 1\.weight \(3, 4\) gives W \(4, 3\).*'second'.*second_W "
                                                r"is \(4, 2\)"):
        load_torch_state_dict(model, sd)
    np.testing.assert_array_equal(first.get_weights()[0], before)


def test_the_wrong_module_kind_and_counts_are_named(rng):
    x = Input(shape=(5,))
    model = Model(x, Dense(2, name="d")(x))
    two = {}
    linear_sd(rng, two, "0", 5, 4)
    linear_sd(rng, two, "1", 4, 2)
    with pytest.raises(TorchWeightsError, match="2 units.*1 layers"):
        load_torch_state_dict(model, two)
    with pytest.raises(TorchWeightsError, match="'0' .*Conv2d.*'d' \\(Dense\\)"):
        load_torch_state_dict(model, {"0.weight": uni(rng, (2, 1, 3, 3), 1), "0.bias": uni(rng, (2,), 1)})
    one = {}
    linear_sd(rng, one, "0", 5, 2)
    with pytest.raises(TorchWeightsError, match=r"mapping names torch unit 'fc', which the state dict lacks"):
        load_torch_state_dict(model, one, mapping={"fc": "d"})
    with pytest.raises(TorchWeightsError, match=r"mapping names kiln layer 'nope'"):
        load_torch_state_dict(model, one, mapping={"0": "nope"})


def test_missing_keys_are_named(rng):
    x = Input(shape=(5,))
    model = Model(x, Dense(2, name="d")(x))
    with pytest.raises(TorchWeightsError, match=r"torch unit '0' has no weight \(keys: \['0\.bias'\]\)"):
        load_torch_state_dict(model, {"0.bias": uni(rng, (2,), 1)})
    with pytest.raises(TorchWeightsError, match=r"leaves kiln layer 'd''s weights \['b'\] unset"):
        load_torch_state_dict(model, {"0.weight": uni(rng, (2, 5), 1)})
    bn_model = Model(x, BatchNormalization(name="bn")(x))
    with pytest.raises(TorchWeightsError, match=r"'1' lacks weight \(affine=False.*'bn' needs gamma"):
        load_torch_state_dict(bn_model, {"1.running_mean": np.zeros(5), "1.running_var": np.ones(5)})
    r = Input(shape=(4, 3))
    rnn_model = Model(r, SimpleRNN(5, name="s")(r))
    with pytest.raises(TorchWeightsError, match=r"'l0' has no biases \(bias=False\); kiln layer 's' needs them"):
        load_torch_state_dict(rnn_model, {"weight_ih_l0": uni(rng, (5, 3), 1), "weight_hh_l0": uni(rng, (5, 5), 1)})


def test_bidirectional_and_one_directional_do_not_mix(rng):
    x = Input(shape=(4, 3))
    bi = {}
    recurrent_sd(rng, bi, "", 4, 3, 5, bidirectional=True)
    with pytest.raises(TorchWeightsError, match=r"'l0' is bidirectional but kiln layer 'plain' is LSTM"):
        load_torch_state_dict(Model(x, LSTM(5, name="plain", inner_activation="sigmoid")(x)), bi)
    one = {}
    recurrent_sd(rng, one, "", 4, 3, 5)
    with pytest.raises(TorchWeightsError, match=r"'l0' is one-directional but kiln layer 'both' is Bidirectional"):
        load_torch_state_dict(Model(x, Bidirectional(LSTM(5, inner_activation="sigmoid"), name="both")(x)), one)


def test_a_torch_gru_into_a_keras1_gru_is_refused_saying_use_reset_after(rng):
    sd = {}
    recurrent_sd(rng, sd, "", 3, 3, 5)
    x = Input(shape=(4, 3))
    model = Model(x, GRU(5, name="g", inner_activation="sigmoid")(x))
    with pytest.raises(TorchWeightsError, match=r"'g'.*reset_after=False.*reset gate after.*"
                                                r"GRU\(\.\.\., reset_after=True"):
        load_torch_state_dict(model, sd)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_hard_sigmoid_gates_are_refused(kind, rng):
    sd = {}
    recurrent_sd(rng, sd, "", {"gru": 3, "lstm": 4}[kind], 3, 5)
    x = Input(shape=(4, 3))
    layer = GRU(5, name="hs", reset_after=True) if kind == "gru" else LSTM(5, name="hs")
    with pytest.raises(TorchWeightsError, match="%s, whose gates are sigmoids.*'hs' has inner_activation="
                                                "'hard_sigmoid'" % kind.upper()):
        load_torch_state_dict(Model(x, layer(x)), sd)


def test_conv1d_shapes_and_biases_are_checked(rng):
    x = Input(shape=(10, 4))
    model = Model(x, Convolution1D(3, 5, name="c")(x))
    with pytest.raises(TorchWeightsError, match=r"torch 0\.weight \(3, 4, 2\) gives W \(2, 1, 4, 3\).*'c'.*"
                                                r"c_W is \(5, 1, 4, 3\)"):
        load_torch_state_dict(model, {"0.weight": uni(rng, (3, 4, 2), 1), "0.bias": uni(rng, (3,), 1)})
    with pytest.raises(TorchWeightsError, match=r"leaves kiln layer 'c''s weights \['b'\] unset"):
        load_torch_state_dict(model, {"0.weight": uni(rng, (3, 4, 5), 1)})
    with pytest.raises(TorchWeightsError, match=r"'0' \(Conv1d.*'c' \(Dense\); kiln takes it into a Convolution1D"):
        load_torch_state_dict(Model(x, Dense(2, name="c")(Flatten()(x))),
                              {"0.weight": uni(rng, (3, 4, 5), 1), "0.bias": uni(rng, (3,), 1)})


# ---- where torch is installed: the formulas are torch's ----

def test_the_formulas_are_torchs(rng):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    nn = torch.nn
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    ok = lambda got, want: np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-5, rtol=1e-4)

    def loaded(module, sd):
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()})
        return module.eval()

    x = rng.normal(size=(3, 7, 5)).astype(np.float32)
    for cls, cell, gates in ((nn.LSTM, lstm_dir, 4), (nn.GRU, gru_dir, 3), (nn.RNN, rnn_dir, 1)):
        sd = {}
        recurrent_sd(rng, sd, "", gates, 5, 4, layers=2, bidirectional=True)
        m = loaded(cls(5, 4, num_layers=2, batch_first=True, bidirectional=True), sd)
        ok(recurrent(cell, x, sd, "", 2, True), m(t(x))[0])
    sd = {}
    linear_sd(rng, sd, "", 5, 3)
    sd = {k.lstrip("."): v for k, v in sd.items()}
    ok(linear(x, sd["weight"], sd["bias"]), loaded(nn.Linear(5, 3), sd)(t(x)))
    img = rng.normal(size=(2, 3, 9, 8)).astype(np.float32)
    w, b = uni(rng, (4, 3, 3, 3), 0.5), uni(rng, (4,), 1)
    ok(conv2d(img, w, b, stride=2, padding=1), loaded(nn.Conv2d(3, 4, 3, stride=2, padding=1),
                                                      {"weight": w, "bias": b})(t(img)))
    sig = rng.normal(size=(2, 3, 20)).astype(np.float32)
    w1 = uni(rng, (4, 3, 3), 0.5)
    for stride, dilation in ((1, 1), (2, 1), (1, 2)):
        ok(conv1d(sig, w1, b, stride=stride, dilation=dilation),
           loaded(nn.Conv1d(3, 4, 3, stride=stride, dilation=dilation), {"weight": w1, "bias": b})(t(sig)))
    ok(conv1d(sig, w1, b, padding=1),
       loaded(nn.Conv1d(3, 4, 3, padding=1), {"weight": w1, "bias": b})(t(sig)))
    bn = {}
    batchnorm_sd(rng, bn, "", 3)
    bn = {k.lstrip("."): v for k, v in bn.items()}
    ok(batchnorm(img.astype(np.float64), bn, 1, 1e-3), loaded(nn.BatchNorm2d(3, eps=1e-3), bn)(t(img)))
