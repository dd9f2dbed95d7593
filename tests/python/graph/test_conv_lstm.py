"""ConvLSTM2D (kiln.layers.convolutional_recurrent, Keras 1.2): forward against a NumPy reference
of Keras 1.2's ConvLSTM equations (float64; 'th' and 'tf', border_mode 'same' and 'valid',
subsample, return_sequences, go_backwards), gradients of every weight and the input against
float64 central differences, weight names and shapes, configs and JSON round trips, stateful
states carried between predict calls and reset, dropout only in the train phase, and a short
fit that lowers the loss."""
import numpy as np
import pytest

from kiln.layers import ConvLSTM2D, Input, convolutional_recurrent
from kiln.models import Model, Sequential, model_from_json
from kiln.optimizers import Adam

from numeric import check_layer_gradients

RNG = np.random.default_rng(0)
GATES = ("i", "c", "f", "o")  # Keras 1.2's weight order


def np_conv(x, k, stride, mode):
    """NHWC x (B, H, W, C), kernel (rows, cols, C, F): TensorFlow's cross-correlation."""
    (r, c), (sr, sc) = k.shape[:2], stride
    H, W = x.shape[1:3]
    if mode == "same":
        R, C = -(-H // sr), -(-W // sc)
        ph, pw = max((R - 1) * sr + r - H, 0), max((C - 1) * sc + c - W, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        R, C = (H - r) // sr + 1, (W - c) // sc + 1
    out = np.zeros((len(x), R, C, k.shape[3]))
    for i in range(r):
        for j in range(c):
            out += x[:, i:i + sr * (R - 1) + 1:sr, j:j + sc * (C - 1) + 1:sc, :] @ k[i, j]
    return out


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_conv_lstm(x, weights, ordering, border_mode="valid", stride=(1, 1), go_backwards=False, inner=hard_sigmoid,
                 states=None):
    """Keras 1.2's ConvLSTM2D step by step: x (B, T, ...) in `ordering`, weights in Keras' order
    and layout. Returns (outputs in processing order, last h, last c), in `ordering`."""
    to_tf = (lambda a: a.transpose(0, 2, 3, 1)) if ordering == "th" else (lambda a: a)
    to_th = (lambda a: a.transpose(0, 3, 1, 2)) if ordering == "th" else (lambda a: a)
    kernel = (lambda k: k.transpose(2, 3, 1, 0)) if ordering == "th" else (lambda k: k)
    w = {g: (kernel(weights[3 * n]), kernel(weights[3 * n + 1]), weights[3 * n + 2]) for n, g in enumerate(GATES)}
    h = c = None
    if states is not None:
        h, c = (to_tf(s) for s in states)
    outs = []
    for t in (range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])):
        xt = to_tf(x[:, t])
        z = {g: np_conv(xt, W, stride, border_mode) + b for g, (W, U, b) in w.items()}
        if h is None:
            h = c = np.zeros_like(z["i"])
        z = {g: z[g] + np_conv(h, w[g][1], (1, 1), "same") for g in GATES}
        i, f, o = inner(z["i"]), inner(z["f"]), inner(z["o"])
        c = f * c + i * np.tanh(z["c"])
        h = o * np.tanh(c)
        outs.append(to_th(h))
    return np.stack(outs, axis=1), to_th(h), to_th(c)


def sequence(ordering, B=2, T=3, C=2, H=5, W=4):
    shape = (T, C, H, W) if ordering == "th" else (T, H, W, C)
    return RNG.standard_normal((B,) + shape).astype(np.float32)


def random_weights(layer, scale=0.5):
    layer.set_weights([scale * RNG.standard_normal(w.shape).astype(np.float32) for w in layer.get_weights()])
    return [w.astype(np.float64) for w in layer.get_weights()]


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("border_mode,stride", [("same", (1, 1)), ("valid", (1, 1)), ("valid", (2, 1))])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_conv_lstm_matches_the_keras_equations(ordering, border_mode, stride, go_backwards):
    xs = sequence(ordering)
    x = Input(shape=xs.shape[1:])
    kw = dict(dim_ordering=ordering, border_mode=border_mode, subsample=stride, go_backwards=go_backwards)
    seq_layer = ConvLSTM2D(3, 3, 2, return_sequences=True, **kw)
    seq = Model(x, seq_layer(x))
    weights = random_weights(seq_layer)
    last_layer = ConvLSTM2D(3, 3, 2, **kw)
    last = Model(x, last_layer(x))
    last_layer.set_weights(seq_layer.get_weights())
    want, h, _ = np_conv_lstm(xs.astype(np.float64), weights, ordering, border_mode, stride, go_backwards)
    got = seq.predict(xs)
    assert got.shape == seq_layer.get_output_shape_for(xs.shape) == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(last.predict(xs), h, rtol=1e-4, atol=1e-5)
    assert last_layer.get_output_shape_for(xs.shape) == h.shape


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_any_sequence_length(dropout):
    x = Input(shape=(None, 1, 4, 3))
    layer = ConvLSTM2D(2, 3, 3, dim_ordering="th", border_mode="same", return_sequences=True, dropout_W=dropout,
                       dropout_U=dropout)
    model = Model(x, layer(x))
    weights = random_weights(layer)
    for steps in (2, 5):
        xs = RNG.standard_normal((2, steps, 1, 4, 3)).astype(np.float32)
        want = np_conv_lstm(xs.astype(np.float64), weights, "th", "same")[0]
        np.testing.assert_allclose(model.predict(xs), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_gradients_match_central_differences(ordering):
    xs = sequence(ordering, B=2, T=2, C=1, H=3, W=3)
    x = Input(shape=xs.shape[1:])
    layer = ConvLSTM2D(2, 2, 2, dim_ordering=ordering, border_mode="same", return_sequences=True,
                       inner_activation="sigmoid")
    out = layer(x)
    random_weights(layer)
    params = list(zip(layer.trainable_weights, layer.get_weights()))
    ref = lambda xx, *ws: np_conv_lstm(xx, ws, ordering, "same", inner=sigmoid)[0]  # noqa: E731
    check_layer_gradients(x, out, params, xs, ref, RNG, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("ordering,W_shape,U_shape", [("th", (3, 2, 3, 2), (3, 3, 3, 2)),
                                                      ("tf", (3, 2, 2, 3), (3, 2, 3, 3))])
def test_weights_are_keras_1_2s(ordering, W_shape, U_shape):
    layer = ConvLSTM2D(3, 3, 2, dim_ordering=ordering, name="clstm")
    layer(Input(shape=sequence(ordering).shape[1:]))
    names = ["clstm_%s_%s" % (w, g) for g in GATES for w in "WUb"]
    assert [w.name for w in layer.trainable_weights] == names
    assert [tuple(w.shape) for w in layer.trainable_weights] == [W_shape, U_shape, (3,)] * 4
    b = dict(zip(names, layer.get_weights()))
    assert np.all(b["clstm_b_f"] == 1.0) and np.all(b["clstm_b_i"] == 0.0)  # forget_bias_init='one'


def test_config_and_json_round_trip():
    assert convolutional_recurrent.ConvLSTM2D is ConvLSTM2D
    assert issubclass(ConvLSTM2D, convolutional_recurrent.ConvRecurrent2D)
    xs = sequence("tf")
    layer = ConvLSTM2D(3, 3, 3, dim_ordering="tf", border_mode="same", subsample=(1, 1), return_sequences=True,
                       inner_activation="sigmoid", W_regularizer="l2", dropout_U=0.2, input_shape=xs.shape[1:])
    config = layer.get_config()
    for key, value in dict(nb_filter=3, nb_row=3, nb_col=3, dim_ordering="tf", border_mode="same",
                           return_sequences=True, go_backwards=False, stateful=False, init="glorot_uniform",
                           inner_init="orthogonal", forget_bias_init="one", activation="tanh",
                           inner_activation="sigmoid", dropout_U=0.2).items():
        assert config[key] == value, key
    assert ConvLSTM2D.from_config(config).get_config() == config
    model = Sequential([layer])
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(xs), model.predict(xs), rtol=1e-6)
    assert type(again.layers[0]) is ConvLSTM2D and again.layers[0].dropout_U == 0.2


def test_default_ordering_is_image_dim_ordering():
    from kiln import backend as K
    assert ConvLSTM2D(2, 3, 3).dim_ordering == K.image_dim_ordering()


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_stateful_states_carry_between_calls_and_reset(ordering):
    xs = sequence(ordering, B=2, T=2)
    layer = ConvLSTM2D(2, 3, 3, dim_ordering=ordering, border_mode="same", stateful=True,
                       batch_input_shape=xs.shape)
    model = Sequential([layer])
    weights = random_weights(layer)
    x64 = xs.astype(np.float64)
    _, h1, c1 = np_conv_lstm(x64, weights, ordering, "same")
    _, h2, _ = np_conv_lstm(x64, weights, ordering, "same", states=(h1, c1))
    np.testing.assert_allclose(model.predict(xs), h1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.predict(xs), h2, rtol=1e-4, atol=1e-5)  # carried
    np.testing.assert_allclose(layer.states[0].get_value(), h2, rtol=1e-4, atol=1e-5)
    layer.reset_states()
    np.testing.assert_allclose(model.predict(xs), h1, rtol=1e-4, atol=1e-5)
    model.reset_states()
    np.testing.assert_allclose(model.predict(xs), h1, rtol=1e-4, atol=1e-5)
    assert layer.get_config()["batch_input_shape"] == xs.shape


@pytest.mark.parametrize("rates", [dict(dropout_W=0.5), dict(dropout_U=0.5)])
def test_dropout_draws_masks_in_the_train_phase_only(rates):
    from kiln import backend as K
    xs = sequence("th")
    x = Input(shape=xs.shape[1:])
    f = K.function([x, K.learning_phase()], [ConvLSTM2D(2, 3, 3, dim_ordering="th", **rates)(x)])
    test, train = f([xs, 0])[0], f([xs, 1])[0]
    np.testing.assert_array_equal(f([xs, 0])[0], test)
    assert np.abs(train - test).max() > 1e-3


def test_dropout_applies_in_training_only_and_a_fit_lowers_the_loss():
    xs = sequence("tf", B=8, T=3, C=1, H=4, W=4)
    ys = np.tanh(xs.sum(axis=1))  # (8, 4, 4, 1)
    plain = Sequential([ConvLSTM2D(1, 3, 3, dim_ordering="tf", border_mode="same", input_shape=xs.shape[1:])])
    dropped = Sequential([ConvLSTM2D(1, 3, 3, dim_ordering="tf", border_mode="same", dropout_W=0.3, dropout_U=0.3,
                                     input_shape=xs.shape[1:])])
    dropped.set_weights(plain.get_weights())
    np.testing.assert_allclose(dropped.predict(xs), plain.predict(xs), rtol=1e-6)
    for model in (plain, dropped):
        model.compile(Adam(lr=0.03), "mse")
        before = model.evaluate(xs, ys, verbose=0)
        model.fit(xs, ys, nb_epoch=30, batch_size=8, verbose=0)
        assert model.evaluate(xs, ys, verbose=0) < 0.8 * before
