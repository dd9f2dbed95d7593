"""Multi-input, multi-output models (the guide's "Multi-input and multi-output models"
section and reference sections 14-16): data as lists or dicts by layer name, losses and
loss_weights per output, per-output metrics with Keras' names, Keras' error messages,
sample_weight (the weighted-objective formula) and class_weight.

The model reads the left and right halves of an MNIST digit (two inputs) and predicts the
digit (softmax) and whether it is even (sigmoid): two outputs, `dense_3` and `dense_4`."""
import numpy as np
import pytest

from kiln import backend as K
from kiln import optimizers
from kiln.layers import Dense, Input, merge
from kiln.models import Model
from kiln.utils.np_utils import to_categorical

EPS = 1e-7
NAMES = ["loss", "dense_3_loss", "dense_4_loss", "dense_3_acc", "dense_4_acc"]


def build(hidden=32):
    K.reset_uids()
    left = Input(shape=(392,), name="left")
    right = Input(shape=(392,), name="right")
    hl = Dense(hidden, activation="relu")(left)
    hr = Dense(hidden, activation="relu")(right)
    s = merge([hl, hr], mode="sum")
    digit = Dense(10, activation="softmax")(s)
    even = Dense(1, activation="sigmoid")(s)
    model = Model(input=[left, right], output=[digit, even])
    assert model.input_names == ["left", "right"] and model.output_names == ["dense_3", "dense_4"]
    return model


def split(x, y):
    """([left, right], [one-hot digit, even]) from flat MNIST rows and labels."""
    return [x[:, :392], x[:, 392:]], [to_categorical(y, 10), (y % 2 == 0).astype(np.float32)[:, None]]


@pytest.fixture(scope="module")
def data(mnist):
    x_train, y_train, x_test, y_test = mnist
    return split(x_train[:15000], y_train[:15000]) + split(x_test[:2000], y_test[:2000])


def np_forward(model, xs):
    W1, b1, W2, b2, W3, b3, W4, b4 = [w.astype(np.float64) for w in model.get_weights()]
    s = np.maximum(xs[0] @ W1 + b1, 0) + np.maximum(xs[1] @ W2 + b2, 0)
    z = s @ W3 + b3
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), 1 / (1 + np.exp(-(s @ W4 + b4)))


def np_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(p), axis=-1)


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)


def np_mse(y, p):
    return np.mean((p - y) ** 2, axis=-1)


def weighted(score, w):
    """Reference section 16: score * w / mean(w != 0), then the mean; 0 (not NaN) if all w are 0."""
    nz = np.mean(w != 0)
    return 0.0 if nz == 0 else float(np.mean(score * w) / nz)


def small(n=64, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 10, n)
    xs = [rng.rand(n, 392).astype(np.float32), rng.rand(n, 392).astype(np.float32)]
    return xs, [to_categorical(y, 10), (y % 2 == 0).astype(np.float32)[:, None]]


def test_two_inputs_two_outputs_learn_on_mnist_with_keras_names(data):
    xs, ys, vx, vy = data
    model = build()
    model.compile(optimizer="rmsprop", loss=["categorical_crossentropy", "binary_crossentropy"],
                  metrics=["accuracy"])
    assert model.metrics_names == NAMES
    h = model.fit(xs, ys, nb_epoch=2, batch_size=64, verbose=0, validation_data=(vx, vy))
    assert list(h.history) == NAMES + ["val_" + n for n in NAMES]
    assert all(len(v) == 2 for v in h.history.values())
    assert h.history["loss"][1] < h.history["loss"][0]
    res = model.evaluate(vx, vy, verbose=0)
    assert len(res) == 5
    loss, l3, l4, acc3, acc4 = res
    assert acc3 > 0.85 and acc4 > 0.85, res
    np.testing.assert_allclose(res, [h.history["val_" + n][-1] for n in NAMES], rtol=1e-6)
    np.testing.assert_allclose(loss, l3 + l4, rtol=1e-6)
    # The reported figures are the NumPy formulas on predict's outputs.
    p3, p4 = model.predict(vx, batch_size=500)
    assert p3.shape == (2000, 10) and p4.shape == (2000, 1)
    np.testing.assert_allclose(l3, np.mean(np_cce(vy[0], p3)), rtol=1e-4)
    np.testing.assert_allclose(l4, np.mean(np_bce(vy[1], p4)), rtol=1e-4)
    np.testing.assert_allclose(acc3, np.mean(p3.argmax(1) == vy[0].argmax(1)), atol=1e-6)
    np.testing.assert_allclose(acc4, np.mean(np.round(p4) == vy[1]), atol=1e-6)
    n3, n4 = np_forward(model, vx)
    np.testing.assert_allclose(p3, n3, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(p4, n4, rtol=1e-4, atol=1e-6)


def test_dicts_by_layer_name_equal_lists():
    xs, ys = small()
    model = build()
    model.compile(optimizer="sgd", loss="mse")
    init = model.get_weights()
    xd = {"left": xs[0], "right": xs[1]}
    yd = {"dense_3": ys[0], "dense_4": ys[1]}
    np.testing.assert_array_equal(model.evaluate(xd, yd, verbose=0), model.evaluate(xs, ys, verbose=0))
    for a, b in zip(model.predict(xd), model.predict(xs)):
        np.testing.assert_array_equal(a, b)
    # Dict order does not matter: keys are matched to names.
    p = model.predict({"right": xs[1], "left": xs[0]})
    np.testing.assert_array_equal(p[0], model.predict(xs)[0])
    h1 = model.fit(xs, ys, nb_epoch=3, batch_size=16, shuffle=False, verbose=0)
    w_lists = model.get_weights()
    model.set_weights(init)
    model.compile(optimizer="sgd", loss="mse")
    h2 = model.fit(xd, yd, nb_epoch=3, batch_size=16, shuffle=False, verbose=0)
    assert h1.history == h2.history
    for a, b in zip(w_lists, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(w_lists[0], init[0])


def test_one_loss_a_list_or_a_dict_of_losses():
    xs, ys = small()
    model = build()
    p3, p4 = np_forward(model, xs)
    expected = {"mse": [np.mean(np_mse(ys[0], p3)), np.mean(np_mse(ys[1], p4))],
                "mixed": [np.mean(np_cce(ys[0], p3)), np.mean(np_bce(ys[1], p4))]}
    cases = [("mse", "mse"), (["mse", "mse"], "mse"),
             (["categorical_crossentropy", "binary_crossentropy"], "mixed"),
             ({"dense_4": "binary_crossentropy", "dense_3": "categorical_crossentropy"}, "mixed")]
    for loss, key in cases:
        model.compile(optimizer="sgd", loss=loss)
        assert model.metrics_names == ["loss", "dense_3_loss", "dense_4_loss"]
        total, l3, l4 = model.evaluate(xs, ys, batch_size=64, verbose=0)
        np.testing.assert_allclose([l3, l4], expected[key], rtol=1e-4, err_msg=str(loss))
        np.testing.assert_allclose(total, sum(expected[key]), rtol=1e-4, err_msg=str(loss))


@pytest.mark.parametrize("loss_weights", [[0.3, 2.0], {"dense_3": 0.3, "dense_4": 2.0}, {"dense_4": 2.0}])
def test_loss_weights_give_the_weighted_sum(loss_weights):
    xs, ys = small()
    model = build()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"],
                  loss_weights=loss_weights)
    w3 = 1.0 if isinstance(loss_weights, dict) and "dense_3" not in loss_weights else 0.3
    total, l3, l4 = model.evaluate(xs, ys, batch_size=20, verbose=0)
    np.testing.assert_allclose(total, w3 * l3 + 2.0 * l4, rtol=1e-5)
    # History reports the same decomposition, and the unweighted per-output losses.
    h = model.fit(xs, ys, nb_epoch=1, batch_size=64, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"][0],
                               w3 * h.history["dense_3_loss"][0] + 2.0 * h.history["dense_4_loss"][0], rtol=1e-5)


def test_loss_weights_steer_training():
    """With the digit loss weighted 0, training moves only what the parity loss needs: the digit
    head does not change."""
    xs, ys = small()
    model = build()
    model.compile(optimizer=optimizers.SGD(lr=0.5), loss=["categorical_crossentropy", "binary_crossentropy"],
                  loss_weights=[0.0, 1.0])
    w = model.get_weights()
    model.fit(xs, ys, nb_epoch=2, batch_size=16, verbose=0)
    w2 = model.get_weights()
    np.testing.assert_array_equal(w2[4], w[4])  # dense_3 W
    assert not np.allclose(w2[6], w[6])  # dense_4 W


def test_metrics_per_output_list_and_dict():
    xs, ys = small()
    model = build()
    p3, p4 = np_forward(model, xs)
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"],
                  metrics={"dense_3": "accuracy", "dense_4": ["accuracy", "mae"]})
    assert model.metrics_names == ["loss", "dense_3_loss", "dense_4_loss", "dense_3_acc", "dense_4_acc",
                                   "dense_4_mean_absolute_error"]
    res = model.evaluate(xs, ys, batch_size=64, verbose=0)
    np.testing.assert_allclose(res[3], np.mean(p3.argmax(1) == ys[0].argmax(1)), atol=1e-6)
    np.testing.assert_allclose(res[4], np.mean(np.round(p4) == ys[1]), atol=1e-6)
    np.testing.assert_allclose(res[5], np.mean(np.abs(p4 - ys[1])), rtol=1e-4)

    model.compile(optimizer="sgd", loss="mse", metrics=["mse", "accuracy"])
    assert model.metrics_names == ["loss", "dense_3_loss", "dense_4_loss",
                                   "dense_3_mean_squared_error", "dense_3_acc",
                                   "dense_4_mean_squared_error", "dense_4_acc"]
    res = model.evaluate(xs, ys, batch_size=64, verbose=0)
    np.testing.assert_allclose(res[3], res[1], rtol=1e-6)  # the mse metric is the mse loss here
    np.testing.assert_allclose(res[4], np.mean(p3.argmax(1) == ys[0].argmax(1)), atol=1e-6)  # categorical
    np.testing.assert_allclose(res[6], np.mean(np.round(p4) == ys[1]), atol=1e-6)  # binary: 1 unit
    h = model.fit(xs, ys, nb_epoch=1, verbose=0, validation_data=(xs, ys))
    assert list(h.history) == model.metrics_names + ["val_" + n for n in model.metrics_names]


def test_compile_errors_have_keras_messages():
    model = build()
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="sgd", loss=["mse"])
    assert str(e.value).startswith("When passing a list as loss, it should have one entry per model outputs. "
                                   "The model has 2 outputs, but you passed loss=")
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="sgd", loss={"dense_3": "mse", "dense_4": "mse", "dense_9": "mse"})
    assert str(e.value) == ('Unknown entry in loss dictionary: "dense_9". Only expected the following keys: '
                            "['dense_3', 'dense_4']")
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="sgd", loss={"dense_3": "mse"})
    assert str(e.value) == 'Output "dense_4" missing from loss dictionary.'
    with pytest.raises(ValueError, match='Unknown entry in loss_weights dictionary: "dense_9"'):
        model.compile(optimizer="sgd", loss="mse", loss_weights={"dense_9": 1.0})
    with pytest.raises(ValueError, match="When passing a list as loss_weights, it should have one entry per"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=[1.0])
    with pytest.raises(ValueError, match='Unknown entry in metrics dictionary: "dense_9"'):
        model.compile(optimizer="sgd", loss="mse", metrics={"dense_9": ["acc"]})


def test_data_errors_have_keras_messages():
    xs, ys = small(10)
    model = build()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError) as e:
        model.fit([xs[0]], ys, verbose=0)
    assert ("the list of Numpy arrays that you are passing to your model is not the size the model expected. "
            "Expected to see 2 arrays but instead got the following list of 1 arrays: [array with shape (10, 392)]"
            in str(e.value))
    with pytest.raises(ValueError) as e:
        model.fit(xs, [ys[0], ys[1], ys[1]], verbose=0)
    assert "Error when checking model target" in str(e.value) and "Expected to see 2 arrays" in str(e.value)
    with pytest.raises(ValueError) as e:
        model.fit(xs[0], ys, verbose=0)
    assert str(e.value) == ("The model expects 2 input arrays, but only received one array. "
                            "Found: array with shape (10, 392)")
    with pytest.raises(ValueError) as e:
        model.fit({"left": xs[0]}, ys, verbose=0)
    assert str(e.value) == "No data provided for \"right\". Need data for each key in: ['left', 'right']"
    with pytest.raises(ValueError) as e:
        model.evaluate(xs, {"dense_3": ys[0]}, verbose=0)
    assert str(e.value) == "No data provided for \"dense_4\". Need data for each key in: ['dense_3', 'dense_4']"
    with pytest.raises(ValueError) as e:
        model.predict({"right": xs[1]})
    assert str(e.value).startswith('No data provided for "left"')
    with pytest.raises(ValueError) as e:
        model.fit(xs, [ys[0][:9], ys[1][:9]], verbose=0)
    assert str(e.value) == ("Input arrays should have the same number of samples as target arrays. "
                            "Found 10 input samples and 9 target samples.")


def test_sample_weight_follows_the_weighted_objective_formula():
    xs, ys = small(40)
    model = build()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"])
    p3, p4 = np_forward(model, xs)
    s3, s4 = np_cce(ys[0], p3), np_bce(ys[1], p4)
    rng = np.random.RandomState(7)
    w3 = rng.rand(40) * 3
    w3[::4] = 0.0
    w4 = rng.rand(40)
    ones = np.ones(40)
    for sample_weight, (e3, e4) in [([w3, w4], (w3, w4)),
                                    ({"dense_3": w3, "dense_4": w4}, (w3, w4)),
                                    ({"dense_4": w4}, (ones, w4))]:
        total, l3, l4 = model.evaluate(xs, ys, batch_size=40, verbose=0, sample_weight=sample_weight)
        np.testing.assert_allclose([l3, l4], [weighted(s3, e3), weighted(s4, e4)], rtol=1e-4)
        np.testing.assert_allclose(total, l3 + l4, rtol=1e-5)
    # Unweighted differs (so the weights were used), and several batches average by batch size.
    assert abs(model.evaluate(xs, ys, batch_size=40, verbose=0)[1] - weighted(s3, w3)) > 1e-3
    _, l3, _ = model.evaluate(xs, ys, batch_size=16, verbose=0, sample_weight=[w3, w4])
    batches = [slice(0, 16), slice(16, 32), slice(32, 40)]
    expect = sum((b.stop - b.start) * weighted(s3[b], w3[b]) for b in batches) / 40
    np.testing.assert_allclose(l3, expect, rtol=1e-4)


def test_all_zero_weights_in_a_batch_give_zero_not_nan():
    """Keras 1.2 divides by mean(w != 0) = 0 and reports NaN; kiln reports 0 for such a batch."""
    xs, ys = small(32)
    model = build()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"])
    p3, _ = np_forward(model, xs)
    s3 = np_cce(ys[0], p3)
    w = np.ones(32)
    w[:16] = 0.0  # the whole first batch
    total, l3, l4 = model.evaluate(xs, ys, batch_size=16, verbose=0, sample_weight=[w, np.zeros(32)])
    assert np.isfinite([total, l3, l4]).all()
    assert l4 == 0.0
    np.testing.assert_allclose(l3, (16 * 0.0 + 16 * weighted(s3[16:], w[16:])) / 32, rtol=1e-4)
    # Training on all-zero weights changes nothing.
    before = model.get_weights()
    model.fit(xs, ys, nb_epoch=1, batch_size=32, verbose=0, sample_weight=[np.zeros(32), np.zeros(32)])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_sample_weighted_zero_does_not_influence_training():
    xs, ys = small(48)
    rng = np.random.RandomState(3)
    # A garbage sample: huge inputs, wrong labels on both outputs.
    gx = [np.full((1, 392), 50.0, np.float32), -np.full((1, 392), 50.0, np.float32)]
    gy = [np.full((1, 10), 1.0, np.float32), np.array([[1.0]], np.float32)]
    at = 20
    xs_g = [np.insert(x, at, g, axis=0) for x, g in zip(xs, gx)]
    ys_g = [np.insert(y, at, g, axis=0) for y, g in zip(ys, gy)]
    w = rng.rand(49) + 0.5
    w_zero = w.copy()
    w_zero[at] = 0.0
    model = build()
    init = model.get_weights()

    def train(x, y, sample_weight):
        model.set_weights(init)
        model.compile(optimizer=optimizers.SGD(lr=0.1), loss=["categorical_crossentropy", "binary_crossentropy"])
        model.fit(x, y, nb_epoch=4, batch_size=len(x[0]), shuffle=False, verbose=0, sample_weight=sample_weight)
        return model.get_weights()

    with_zero = train(xs_g, ys_g, [w_zero, w_zero])
    without = train(xs, ys, [np.delete(w, at), np.delete(w, at)])
    with_one = train(xs_g, ys_g, [w, w])
    for a, b in zip(with_zero, without):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert max(np.abs(a - b).max() for a, b in zip(with_one, without)) > 1e-2  # the sample matters if weighted


def test_class_weight_equals_the_equivalent_sample_weights():
    xs, ys = small(64)
    K.reset_uids()
    a = Input(shape=(392,))
    out = Dense(10, activation="softmax")(Dense(16, activation="tanh")(a))
    model = Model(input=a, output=out)
    init = model.get_weights()
    labels = ys[0].argmax(1)
    class_weight = {c: 0.5 + 0.25 * c for c in range(10)}
    sw = np.array([class_weight[c] for c in labels])

    def train(**kw):
        model.set_weights(init)
        model.compile(optimizer=optimizers.SGD(lr=0.2), loss="categorical_crossentropy")
        h = model.fit(xs[0], ys[0], nb_epoch=3, batch_size=16, shuffle=False, verbose=0, **kw)
        return h.history["loss"], model.get_weights()

    loss_cw, w_cw = train(class_weight=class_weight)
    loss_sw, w_sw = train(sample_weight=sw)
    loss_none, w_none = train()
    np.testing.assert_allclose(loss_cw, loss_sw, rtol=1e-6)
    for p, q in zip(w_cw, w_sw):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
    assert not np.allclose(w_cw[0], w_none[0]) and not np.allclose(loss_cw, loss_none)
    # train_on_batch takes class_weight too: its loss (before the step) is the weighted formula.
    model.set_weights(init)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    got = model.train_on_batch(xs[0], ys[0], class_weight=class_weight)
    model.set_weights(init)
    np.testing.assert_allclose(got, model.evaluate(xs[0], ys[0], batch_size=64, verbose=0, sample_weight=sw),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="no weight for class"):
        model.fit(xs[0], ys[0], verbose=0, class_weight={0: 1.0})


def test_class_weight_by_output_name_weights_that_output_only():
    xs, ys = small(40)
    model = build()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"])
    p3, p4 = np_forward(model, xs)
    cw = {0: 3.0, 1: 0.5}
    init = model.get_weights()
    h = model.fit(xs, ys, nb_epoch=1, batch_size=40, verbose=0, class_weight={"dense_4": cw})
    w4 = np.array([cw[int(v)] for v in ys[1][:, 0]])
    np.testing.assert_allclose(h.history["dense_4_loss"][0], weighted(np_bce(ys[1], p4), w4), rtol=1e-4)
    np.testing.assert_allclose(h.history["dense_3_loss"][0], np.mean(np_cce(ys[0], p3)), rtol=1e-4)
    assert not np.allclose(model.get_weights()[0], init[0])


def test_validation_data_with_sample_weights():
    xs, ys = small(60)
    vx, vy = small(30, seed=1)
    rng = np.random.RandomState(2)
    vw = [rng.rand(30) * 2, rng.rand(30)]
    model = build()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "binary_crossentropy"], metrics=["acc"])
    h = model.fit(xs, ys, nb_epoch=2, batch_size=20, verbose=0, validation_data=(vx, vy, vw))
    weighted_eval = model.evaluate(vx, vy, batch_size=20, verbose=0, sample_weight=vw)
    plain_eval = model.evaluate(vx, vy, batch_size=20, verbose=0)
    got = [h.history["val_" + n][-1] for n in NAMES]
    np.testing.assert_allclose(got, weighted_eval, rtol=1e-6)
    assert abs(got[1] - plain_eval[1]) > 1e-4  # the validation weights were applied
    with pytest.raises(ValueError, match="it must contain 2 .* or 3 .* items, however it contains 4 items"):
        model.fit(xs, ys, verbose=0, validation_data=(vx, vy, vw, vw))


def test_duplicated_output_keeps_both_losses_in_history():
    K.reset_uids()
    a = Input(shape=(3,))
    h = Dense(2)(a)
    model = Model(input=a, output=[h, h])  # duplicate outputs are allowed (reference section 5)
    model.compile(optimizer="sgd", loss="mse")
    assert model.metrics_names == ["loss", "dense_1_loss", "dense_1_loss"]
    x = np.random.RandomState(0).rand(8, 3)
    ys = [np.ones((8, 2)), np.zeros((8, 2))]
    _, l1, l2 = model.evaluate(x, ys, batch_size=8, verbose=0)
    assert abs(l1 - l2) > 1e-3
    model.compile(optimizer=optimizers.SGD(lr=0.0), loss="mse")  # lr 0: the logs are the evaluate figures
    h = model.fit(x, ys, nb_epoch=1, batch_size=8, verbose=0)
    assert list(h.history) == ["loss", "dense_1_loss_1", "dense_1_loss_2"]
    np.testing.assert_allclose([h.history["dense_1_loss_1"][0], h.history["dense_1_loss_2"][0]], [l1, l2],
                               rtol=1e-6)
