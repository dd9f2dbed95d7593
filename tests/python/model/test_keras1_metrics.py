"""Every Keras 1.2 metric and loss alias, through `model.compile(metrics=[...])` and `evaluate`,
against its formula in NumPy; `kiln.objectives` and `kiln.losses` as Keras 1 and 2 import them.

The model's output is its input (a linear Activation), so `evaluate(p, t)` reports each metric of
(t, p) as the compiled test program computes it."""
import numpy as np
import pytest

from kiln import backend as K
from kiln import losses, metrics, objectives
from kiln.layers import Activation, Input
from kiln.models import Model

EPS = 1e-7


def evaluate(ms, t, p, loss="mse", batch_size=None):
    x = Input(shape=p.shape[1:])
    model = Model(input=x, output=Activation("linear")(x))
    model.compile(optimizer="sgd", loss=loss, metrics=ms)
    out = model.evaluate(p.astype(np.float32), t.astype(np.float32), batch_size=batch_size or len(p), verbose=0)
    return dict(zip(model.metrics_names, out))


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_counts(t, p):
    pp, tp = np.round(np.clip(p, 0, 1)), np.round(np.clip(t, 0, 1))
    return (tp * pp).sum(), ((1 - tp) * (1 - pp)).sum(), ((1 - tp) * pp).sum(), (tp * (1 - pp)).sum()


def np_precision(t, p):
    return np.round(np.clip(t * p, 0, 1)).sum() / (np.round(np.clip(p, 0, 1)).sum() + EPS)


def np_recall(t, p):
    return np.round(np.clip(t * p, 0, 1)).sum() / (np.round(np.clip(t, 0, 1)).sum() + EPS)


def np_fbeta(t, p, beta=1):
    pr, rc = np_precision(t, p), np_recall(t, p)
    return (1 + beta ** 2) * pr * rc / (beta ** 2 * pr + rc + EPS)


def np_mcc(t, p):
    tp, tn, fp, fn = np_counts(t, p)
    return (tp * tn - fp * fn) / (np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) + EPS)


def np_top_k(labels, p, k):
    score = p[np.arange(len(p)), labels][:, None]
    return np.mean((p > score).sum(-1) < k)


def binary_data(n=200, d=3, seed=0):
    rng = np.random.RandomState(seed)
    t = (rng.rand(n, d) < 0.4).astype(np.float64)
    # predictions that agree with the targets more often than chance, never exactly 0.5
    p = np.clip(0.3 * t + 0.75 * rng.rand(n, d), 0.0, 1.0)
    p[np.abs(p - 0.5) < 1e-3] += 0.01
    return t, p


def categorical_data(n=300, c=7, seed=1):
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, c, n)
    p = np_softmax(rng.randn(n, c) + 1.5 * np.eye(c)[labels])
    return labels, np.eye(c)[labels], p


BINARY = {
    "binary_accuracy": lambda t, p: np.mean(t == np.round(p)),
    "precision": np_precision,
    "recall": np_recall,
    "fbeta_score": np_fbeta,
    "fmeasure": np_fbeta,
    "matthews_correlation": np_mcc,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_metric_matches_numpy(name):
    t, p = binary_data()
    got = evaluate([name], t, p)[name]
    assert abs(got - BINARY[name](t, p)) < 1e-5, (got, BINARY[name](t, p))
    # the function object works the same as its name
    assert abs(evaluate([getattr(metrics, name)], t, p)[name] - got) < 1e-7


def test_batch_level_metrics_average_over_batches_weighted_by_size():
    # Keras 1.2 reports the batches' mean, weighted by batch size, not the whole set's statistic.
    t, p = binary_data(n=250)
    order = np.argsort(p[:, 0])  # batches of different make-up
    t, p = t[order], p[order]
    got = evaluate(["precision", "recall", "matthews_correlation"], t, p, batch_size=100)
    for name, ref in (("precision", np_precision), ("recall", np_recall), ("matthews_correlation", np_mcc)):
        per_batch = [ref(t[i:i + 100], p[i:i + 100]) for i in (0, 100, 200)]
        want = np.average(per_batch, weights=[100, 100, 50])
        assert abs(got[name] - want) < 1e-5, (name, got[name], want)
        assert abs(want - ref(t, p)) > 1e-4  # which differs from the statistic of all 250 rows


def test_fbeta_weights_recall_by_beta_and_is_zero_without_positives():
    t, p = binary_data()

    def f2(y_true, y_pred):
        return metrics.fbeta_score(y_true, y_pred, beta=2)

    got = evaluate([f2, "fbeta_score"], t, p)
    assert abs(got["f2"] - np_fbeta(t, p, beta=2)) < 1e-5
    assert abs(got["f2"] - got["fbeta_score"]) > 1e-3
    none = evaluate(["fmeasure", "recall"], np.zeros_like(t), p)
    assert none["fmeasure"] == 0.0 and none["recall"] == 0.0
    with pytest.raises(ValueError, match="lowest choosable beta is zero"):
        metrics.fbeta_score(K.placeholder(ndim=2), K.placeholder(ndim=2), beta=-1)


def test_matthews_correlation_of_perfect_and_inverted_predictions():
    t, _ = binary_data()
    assert abs(evaluate(["matthews_correlation"], t, t)["matthews_correlation"] - 1.0) < 1e-5
    assert abs(evaluate(["matthews_correlation"], t, 1 - t)["matthews_correlation"] + 1.0) < 1e-5


def test_categorical_metrics_match_numpy():
    labels, onehot, p = categorical_data()
    got = evaluate(["categorical_accuracy", "top_k_categorical_accuracy"], onehot, p, loss="categorical_crossentropy")
    assert abs(got["categorical_accuracy"] - np.mean(p.argmax(-1) == labels)) < 1e-6
    assert abs(got["top_k_categorical_accuracy"] - np_top_k(labels, p, 5)) < 1e-6
    sparse = evaluate(["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"], labels[:, None], p,
                      loss="sparse_categorical_crossentropy")
    assert abs(sparse["sparse_categorical_accuracy"] - got["categorical_accuracy"]) < 1e-6
    assert abs(sparse["sparse_top_k_categorical_accuracy"] - got["top_k_categorical_accuracy"]) < 1e-6


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_top_k_with_any_k_and_ties(k):
    labels, onehot, p = categorical_data(n=120)
    p = np.round(p, 1)  # many ties: classes tied with the k-th count as in, as TensorFlow's in_top_k

    def top_k(y_true, y_pred):
        return metrics.top_k_categorical_accuracy(y_true, y_pred, k=k)

    got = evaluate([top_k], onehot, p)["top_k"]
    assert abs(got - np_top_k(labels, p, k)) < 1e-6
    if k == 7:
        assert got == 1.0


LOSS_ALIASES = {
    "mse": lambda t, p: ((p - t) ** 2).mean(),
    "mae": lambda t, p: np.abs(p - t).mean(),
    "mape": lambda t, p: 100 * np.abs((t - p) / np.clip(np.abs(t), EPS, None)).mean(),
    "msle": lambda t, p: ((np.log(np.clip(p, EPS, None) + 1) - np.log(np.clip(t, EPS, None) + 1)) ** 2).mean(),
    "kld": lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1).mean(),
    "cosine": lambda t, p: -(t / np.linalg.norm(t, axis=-1, keepdims=True)
                             * p / np.linalg.norm(p, axis=-1, keepdims=True)).mean(-1).mean(),
}


@pytest.mark.parametrize("alias", sorted(LOSS_ALIASES))
def test_loss_aliases_as_metrics_and_as_losses(alias):
    rng = np.random.RandomState(4)
    _, t, _ = categorical_data(n=64, c=5)
    p = np_softmax(rng.randn(64, 5))
    if alias in ("mse", "mae", "mape", "msle"):
        t, p = rng.rand(64, 5) + 0.1, rng.rand(64, 5)
    want = LOSS_ALIASES[alias](t, p)
    got = evaluate([alias], t, p, loss=alias)
    name = getattr(metrics, alias).__name__
    assert abs(got["loss"] - want) < 1e-4 * max(1.0, abs(want)), (got, want)
    assert abs(got[name] - want) < 1e-4 * max(1.0, abs(want))


def test_keras2_losses_match_numpy():
    rng = np.random.RandomState(5)
    labels, t, _ = categorical_data(n=40, c=4)
    p = rng.randn(40, 4) * 3
    pos, neg = (t * p).sum(-1), ((1 - t) * p).max(-1)
    got = evaluate(["categorical_hinge", "logcosh"], t, p, loss="categorical_hinge")
    assert abs(got["loss"] - np.maximum(neg - pos + 1, 0).mean()) < 1e-5
    big = np.array([[0.0, 100.0, -100.0]])  # large errors: no overflow
    want = np.log(np.cosh(p - t)).mean()
    assert abs(got["logcosh"] - want) < 1e-5
    assert abs(evaluate(["logcosh"], np.zeros_like(big), big)["logcosh"] - (200 - 2 * np.log(2)) / 3) < 1e-4


def test_objectives_and_losses_modules_are_keras1_and_keras2_paths():
    import kiln
    from kiln.objectives import categorical_crossentropy, cosine, kld, mae, mape, mse, msle  # noqa: F401

    assert kiln.objectives is objectives and objectives.get("mse") is losses.mean_squared_error
    assert mse is losses.mse and kld is losses.kullback_leibler_divergence and cosine is losses.cosine_proximity
    for name in ("mse", "mae", "mape", "msle", "kld", "cosine", "hinge", "poisson", "binary_crossentropy"):
        assert getattr(objectives, name) is getattr(losses, name)
        # Keras 1.2's metrics module defines each loss again as its batch mean: one function per name
        metric = getattr(metrics, name)
        assert metric is metrics.get(name) and metric.__name__ == getattr(losses, name).__name__
        yt, yp = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
        a = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], np.float32)
        b = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
        per_sample, mean = K.function([yt, yp], [getattr(losses, name)(yt, yp), metric(yt, yp)])([b, a])
        assert per_sample.shape == (2,) and np.shape(mean) == ()
        np.testing.assert_allclose(mean, per_sample.mean(), rtol=1e-6)
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize("mean_squared_error") is losses.mse
    assert losses.deserialize("mine", custom_objects={"mine": len}) is len
    assert metrics.get("fmeasure") is metrics.fmeasure and metrics.get("mae") is metrics.mae
    with pytest.raises(ValueError, match="Invalid metric: nope"):
        metrics.get("nope")


def test_in_top_k_backend_op():
    p = K.placeholder(shape=(None, 4))
    i = K.placeholder(shape=(None,))
    f = K.function([p, i], [K.in_top_k(p, i, 2)])
    preds = np.array([[0.1, 0.5, 0.3, 0.1], [0.4, 0.4, 0.1, 0.1], [0.9, 0.0, 0.05, 0.05]], np.float32)
    got = f([preds, np.array([2, 1, 1], np.float32)])[0]
    np.testing.assert_array_equal(got, [1.0, 1.0, 0.0])
    # a class tied with the k-th is in
    np.testing.assert_array_equal(f([preds, np.array([0, 0, 3], np.float32)])[0], [0.0, 1.0, 1.0])
