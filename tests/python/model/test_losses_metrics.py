"""Every named loss and metric against its Keras 1.2 formula in NumPy, and the initializers'
distributions. Losses are built with kiln.backend exactly as a user's custom loss would be."""
import numpy as np
import pytest

from kiln import _core, backend as K, initializers, losses, metrics
from kiln.backend.variables import store
from kiln.lower import lower

EPS = 1e-7


def run(fn, y_true, y_pred):
    t = K.placeholder(shape=(None,) + y_true.shape[1:], name="y_true")
    p = K.placeholder(shape=(None,) + y_pred.shape[1:], name="y_pred")
    text, _ = lower([fn(t, p)], [t, p], training=False)
    return _core.Program(store, text).run([y_true.astype(np.float32), y_pred.astype(np.float32)])[0]


def softmax_rows(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def l2n(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))


REFERENCE = {
    "mean_squared_error": lambda t, p: ((p - t) ** 2).mean(-1),
    "mean_absolute_error": lambda t, p: np.abs(p - t).mean(-1),
    "mean_absolute_percentage_error": lambda t, p: 100 * np.abs((t - p) / np.clip(np.abs(t), EPS, None)).mean(-1),
    "mean_squared_logarithmic_error": lambda t, p: ((np.log(np.clip(p, EPS, None) + 1)
                                                     - np.log(np.clip(t, EPS, None) + 1)) ** 2).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1),
    "hinge": lambda t, p: np.maximum(1 - t * p, 0).mean(-1),
    "categorical_crossentropy": lambda t, p: -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1),
    "binary_crossentropy": lambda t, p: (-(t * np.log(np.clip(p, EPS, 1 - EPS))
                                           + (1 - t) * np.log(1 - np.clip(p, EPS, 1 - EPS)))).mean(-1),
    "kullback_leibler_divergence": lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1)
                                                                             / np.clip(p, EPS, 1))).sum(-1),
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "cosine_proximity": lambda t, p: -(l2n(t) * l2n(p)).mean(-1),
}


def data(name, shape=(6, 5)):
    rng = np.random.RandomState(3)
    if name in ("categorical_crossentropy", "kullback_leibler_divergence"):
        return np.eye(shape[1])[rng.randint(0, shape[1], shape[0])], softmax_rows(rng.randn(*shape))
    if name in ("binary_crossentropy", "poisson", "mean_squared_logarithmic_error"):
        return rng.randint(0, 2, shape).astype(float), rng.uniform(0.01, 0.99, shape)
    if name in ("hinge", "squared_hinge"):
        return rng.choice([-1.0, 1.0], shape), rng.randn(*shape)
    return rng.randn(*shape), rng.randn(*shape)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_loss_matches_keras_formula(name):
    t, p = data(name)
    got = run(losses.get(name), t, p)
    assert got.shape == (6,)
    np.testing.assert_allclose(got, REFERENCE[name](t, p), rtol=2e-5, atol=2e-6)


def test_losses_reduce_only_the_last_axis():
    t, p = data("mean_squared_error", (4, 3, 5))
    got = run(losses.mse, t, p)
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, ((p - t) ** 2).mean(-1), rtol=1e-5)


def test_sparse_categorical_crossentropy_and_aliases():
    rng = np.random.RandomState(0)
    p = softmax_rows(rng.randn(8, 4))
    y = rng.randint(0, 4, (8, 1)).astype(float)
    got = run(losses.sparse_categorical_crossentropy, y, p)
    np.testing.assert_allclose(got, -np.log(np.clip(p[np.arange(8), y[:, 0].astype(int)], EPS, 1 - EPS)), rtol=1e-5)
    assert losses.get("mse") is losses.mean_squared_error and losses.get("kld") is losses.kullback_leibler_divergence
    assert losses.get("cosine") is losses.cosine_proximity and losses.get("MAPE") is losses.mape


def test_metrics_match_keras():
    rng = np.random.RandomState(1)
    p = softmax_rows(rng.randn(50, 4))
    t = np.eye(4)[rng.randint(0, 4, 50)]
    acc = float(np.mean(p.argmax(-1) == t.argmax(-1)))
    assert abs(float(run(metrics.categorical_accuracy, t, p)) - acc) < 1e-6
    sparse = t.argmax(-1)[:, None].astype(float)
    assert abs(float(run(metrics.sparse_categorical_accuracy, sparse, p)) - acc) < 1e-6
    pb = rng.uniform(0, 1, (50, 1))
    tb = rng.randint(0, 2, (50, 1)).astype(float)
    assert abs(float(run(metrics.binary_accuracy, tb, pb)) - float(np.mean(tb == np.round(pb)))) < 1e-6
    # Any loss is a metric: its batch mean (Keras 1.2's metrics.mean_absolute_error).
    assert metrics.get("mae") is metrics.mean_absolute_error is metrics.mae
    np.testing.assert_allclose(float(run(metrics.mae, tb, pb)), np.abs(pb - tb).mean(), rtol=1e-5)


FI, FO = 200, 300  # fans of a (200, 300) kernel, as Keras 1 counts them


# (name, half-width of the uniform range or None for a normal, the variance Keras 1's formula gives)
SPREADS = [
    ("glorot_uniform", np.sqrt(6 / (FI + FO)), 2 / (FI + FO)),
    ("he_uniform", np.sqrt(6 / FI), 2 / FI),
    ("lecun_uniform", np.sqrt(3 / FI), 1 / FI),
    ("uniform", 0.05, 0.05 ** 2 / 3),
    ("glorot_normal", None, 2 / (FI + FO)),
    ("he_normal", None, 2 / FI),
    ("normal", None, 0.05 ** 2),
]


@pytest.mark.parametrize("name,half_width,var", SPREADS, ids=[c[0] for c in SPREADS])
def test_initializer_spread_matches_the_formula(name, half_width, var):
    """Mean 0 and the formula's variance within 5 standard errors (60,000 draws: about 2% of the
    variance for a uniform, 3% for a normal), and a uniform fills its whole range: all-zero or
    wrongly scaled weights fail."""
    w = initializers.get(name)((FI, FO))
    assert w.shape == (FI, FO) and w.dtype == np.float32
    w = w.astype(np.float64).ravel()
    n = w.size
    fourth = half_width ** 4 / 5 if half_width is not None else 3 * var ** 2  # E[w^4]
    assert abs(w.mean()) < 5 * np.sqrt(var / n), (w.mean(), var)
    assert abs(np.mean(w ** 2) - var) < 5 * np.sqrt((fourth - var ** 2) / n), (np.mean(w ** 2), var)
    if half_width is not None:
        assert half_width * 0.999 < np.abs(w).max() <= half_width, (np.abs(w).max(), half_width)


@pytest.mark.parametrize("name,value", [("zero", 0.0), ("one", 1.0)])
def test_constant_initializers(name, value):
    w = initializers.get(name)((FI, FO))
    assert w.shape == (FI, FO) and w.dtype == np.float32
    assert np.all(w == value)


def test_orthogonal_and_identity_and_seeds():
    w = initializers.get("orthogonal")((30, 50)).astype(np.float64)
    np.testing.assert_allclose(w @ w.T, 1.1 ** 2 * np.eye(30), atol=1e-5)  # Keras 1 gain 1.1
    w2 = initializers.Orthogonal(seed=3)((50, 30)).astype(np.float64)
    np.testing.assert_allclose(w2.T @ w2, np.eye(30), atol=1e-5)
    np.testing.assert_array_equal(initializers.GlorotUniform(seed=5)((4, 4)), initializers.GlorotUniform(seed=5)((4, 4)))
    assert not np.array_equal(initializers.GlorotUniform(seed=5)((4, 4)), initializers.GlorotUniform(seed=6)((4, 4)))
    np.testing.assert_array_equal(initializers.get("identity")((3, 3)), np.eye(3))
    r = initializers.RandomUniform(2.0, 3.0, seed=1)((1000,))
    assert r.min() >= 2.0 and r.max() <= 3.0
    with pytest.raises(ValueError, match="Invalid initialization: glorot_unifrom"):
        initializers.get("glorot_unifrom")
