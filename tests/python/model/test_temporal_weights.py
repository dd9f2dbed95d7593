"""Keras 1.2's per-timestep loss weighting: sample_weight_mode='temporal', the output mask in the
loss (masked timesteps count nothing), and a metric that returns several values as a dict.
Each loss is checked against the formula written out in NumPy."""
import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Dense, Input, Masking, TimeDistributed
from kiln.models import Model, Sequential


def _seq_model(mask_value=None):
    x = Input(shape=(4, 3))
    h = Masking(mask_value=mask_value)(x) if mask_value is not None else x
    y = TimeDistributed(Dense(2))(h)
    return Model(input=x, output=y)


def _data(rng):
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    y = rng.standard_normal((6, 4, 2)).astype(np.float32)
    return x, y


def _predict(model, x):
    w, b = model.get_weights()
    return x.astype(np.float64) @ w + b


def test_temporal_sample_weights_follow_keras_formula():
    rng = np.random.default_rng(3)
    x, y = _data(rng)
    model = _seq_model()
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    sw = rng.uniform(0, 2, (6, 4)).astype(np.float32)
    sw[0, :2] = 0
    sw[3, 1] = 0
    got = model.test_on_batch(x, y, sample_weight=sw)
    score = ((_predict(model, x) - y) ** 2).mean(axis=-1)  # (6, 4): one per sample and timestep
    want = (score * sw).mean() / (sw != 0).mean()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # without weights: all ones, the plain mean
    np.testing.assert_allclose(model.test_on_batch(x, y), score.mean(), rtol=1e-5)
    # fit and evaluate take (samples, timesteps) weights too, batched along the samples
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=6, verbose=0, sample_weight=sw), want, rtol=1e-5)
    hist = model.fit(x, y, batch_size=2, nb_epoch=1, verbose=0, sample_weight=sw)
    assert np.isfinite(hist.history["loss"][0])


def test_temporal_weights_with_zero_timesteps_do_not_train_on_them():
    rng = np.random.default_rng(4)
    x, y = _data(rng)
    model = _seq_model()
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    sw = np.zeros((6, 4), np.float32)
    sw[:, 0] = 1
    before = model.get_weights()
    y2 = y.copy()
    y2[:, 1:] += 100.0  # targets of the zero-weight timesteps changed: the step must not see them
    model.train_on_batch(x, y, sample_weight=sw)
    after_a = model.get_weights()
    model.set_weights(before)
    model.train_on_batch(x, y2, sample_weight=sw)
    for a, b in zip(after_a, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_temporal_mode_errors_name_the_problem():
    model = _seq_model()
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    x, y = _data(np.random.default_rng(0))
    with pytest.raises(ValueError, match="2D sample_weight"):
        model.train_on_batch(x, y, sample_weight=np.ones(6, np.float32))
    with pytest.raises(ValueError, match="first 2 dimension"):
        model.train_on_batch(x, y, sample_weight=np.ones((6, 3), np.float32))
    with pytest.raises(ValueError, match="None or \"temporal\""):
        model.compile("sgd", "mse", sample_weight_mode="timestep")
    flat = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="3 or more dimensions"):
        flat.compile("sgd", "mse", sample_weight_mode="temporal")
    # an unweighted model refuses 2D weights with the hint
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="sample_weight_mode=\"temporal\""):
        model.train_on_batch(x, y, sample_weight=np.ones((6, 4), np.float32))


def test_masked_timesteps_count_nothing_in_the_loss():
    rng = np.random.default_rng(5)
    x, y = _data(rng)
    x[1, 2:] = 0.0  # masked: every feature equals mask_value
    x[4, 0] = 0.0
    model = _seq_model(mask_value=0.0)
    model.compile("sgd", "mse")
    mask = (x != 0).any(axis=-1).astype(np.float64)
    score = ((_predict(model, x) - y) ** 2).mean(axis=-1) * mask / mask.mean()
    np.testing.assert_allclose(model.test_on_batch(x, y), score.mean(), rtol=1e-5)
    y2 = y.copy()
    y2[1, 2:] = 1e3  # a masked step's target cannot change the loss
    np.testing.assert_allclose(model.test_on_batch(x, y2), score.mean(), rtol=1e-5)


def test_keras1_masked_sequence_loss_is_zero_when_unmasked_steps_fit():
    # Keras 1.2's tests/test_loss_masking.py::test_masking, as kiln's test
    from kiln.layers.core import TimeDistributedDense
    with pytest.warns(UserWarning, match="deprecated"):
        model = Sequential([Masking(mask_value=0, input_shape=(2, 1)), TimeDistributedDense(1, init="one")])
    model.compile(loss="mse", optimizer="sgd")
    x = np.array([[[1], [1]], [[0], [0]]], np.float32)
    y = np.ones((2, 2, 1), np.float32)
    assert model.train_on_batch(x, y) == 0


def test_a_metric_returning_a_dict_gives_one_value_per_key():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    model = Sequential([Dense(2, input_shape=(3,))])

    def powers(y_true, y_pred):
        m = K.mean(K.square(y_true - y_pred))
        return {"mse_squared": K.pow(m, 2), "mse_cubed": K.pow(m, 3)}

    model.compile("sgd", "mse", metrics=[powers, "mae"])
    assert model.metrics_names == ["loss", "mse_squared", "mse_cubed", "mean_absolute_error"]
    loss, sq, cube, mae = model.test_on_batch(x, y)
    w, b = model.get_weights()
    err = x.astype(np.float64) @ w + b - y
    m = (err ** 2).mean()
    np.testing.assert_allclose([loss, sq, cube, mae], [m, m ** 2, m ** 3, np.abs(err).mean()], rtol=1e-5)
