"""Keras 1.2's (and Keras 2's) modules of functions: objectives / losses, metrics, activations,
regularizers, constraints and optimizers. Every name each module has in Keras 1.2 (and the
obvious Keras 2 ones) is imported from its kiln path and used: evaluated against a NumPy
reference, or trained with in a model. The lists are the contract: a name without its check
fails test_every_name_is_checked."""
import numpy as np
import pytest

from kiln import activations, backend as K, constraints, losses, metrics, objectives, optimizers, regularizers
from kiln.layers import Dense, Input
from kiln.models import Model

EPS = 1e-7
RNG = np.random.default_rng(1)
N, C = 6, 4


def l2n(x):
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), 1e-12))


def cce(t, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), -1)


def bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p), -1)


# Loss name -> NumPy reference of the per-sample loss (float64), with its targets' kind.
LOSSES = {
    "mean_squared_error": lambda t, p: np.mean((p - t) ** 2, -1),
    "mean_absolute_error": lambda t, p: np.mean(np.abs(p - t), -1),
    "mean_absolute_percentage_error": lambda t, p: 100 * np.mean(np.abs((t - p) / np.clip(np.abs(t), EPS, None)), -1),
    "mean_squared_logarithmic_error": lambda t, p: np.mean(
        (np.log(np.clip(p, EPS, None) + 1) - np.log(np.clip(t, EPS, None) + 1)) ** 2, -1),
    "squared_hinge": lambda t, p: np.mean(np.maximum(1 - t * p, 0) ** 2, -1),
    "hinge": lambda t, p: np.mean(np.maximum(1 - t * p, 0), -1),
    "categorical_crossentropy": cce,
    "binary_crossentropy": bce,
    "kullback_leibler_divergence": lambda t, p: np.sum(
        np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1)), -1),
    "poisson": lambda t, p: np.mean(p - t * np.log(p + EPS), -1),
    "cosine_proximity": lambda t, p: -np.mean(l2n(t) * l2n(p), -1),
}
KERAS2_LOSSES = {
    "categorical_hinge": lambda t, p: np.maximum(np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0),
    "logcosh": lambda t, p: np.mean(np.log(np.cosh(p - t)), -1),
}
ALIASES = {"mse": "mean_squared_error", "MSE": "mean_squared_error", "mae": "mean_absolute_error",
           "MAE": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
           "MAPE": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
           "MSLE": "mean_squared_logarithmic_error", "kld": "kullback_leibler_divergence",
           "KLD": "kullback_leibler_divergence", "cosine": "cosine_proximity"}


def data():
    """One-hot targets and positive predictions of N rows over C classes."""
    t = np.eye(C)[RNG.integers(0, C, N)]
    p = RNG.uniform(0.05, 1.0, (N, C))
    return t.astype(np.float32), p.astype(np.float32)


def evaluate(fn, *arrays):
    ph = [K.placeholder(shape=(None,) + a.shape[1:]) for a in arrays]
    return K.function(ph, [fn(*ph)])(list(arrays))[0]


LOSS_CASES = [(module, name) for module in (objectives, losses, metrics)
              for name in sorted(LOSSES) + sorted(ALIASES) + ([] if module is objectives else sorted(KERAS2_LOSSES))]


@pytest.mark.parametrize("module,name", LOSS_CASES, ids=["%s.%s" % (m.__name__.split(".")[-1], n) for m, n in LOSS_CASES])
def test_each_loss_on_each_path_matches_numpy(module, name):
    fn = getattr(module, name)
    assert module.get(name) is fn
    ref = {**LOSSES, **KERAS2_LOSSES}[ALIASES.get(name, name)]
    t, p = data()
    if name in ("hinge", "squared_hinge"):
        t = 2 * t - 1
    want = ref(t.astype(np.float64), p.astype(np.float64))
    if module is metrics:  # Keras 1.2's metrics: the batch mean of the loss (the loss defined once)
        assert fn is metrics.get(getattr(losses, name).__name__)
        want = np.mean(want)
    else:
        assert fn is getattr(losses, name)  # one implementation
    np.testing.assert_allclose(evaluate(fn, t, p), want, rtol=2e-5, atol=2e-6)


def test_sparse_categorical_crossentropy_and_loss_get_serialize():
    t, p = data()
    labels = t.argmax(-1)[:, None].astype(np.float32)
    for module in (objectives, losses, metrics):
        got = evaluate(module.sparse_categorical_crossentropy, labels, p)
        want = cce(t, p.astype(np.float64))
        np.testing.assert_allclose(got, np.mean(want) if module is metrics else want, rtol=2e-5)
    assert losses.deserialize(losses.serialize(losses.mse)) is losses.mean_squared_error
    with pytest.raises(ValueError, match="Invalid objective"):
        objectives.get("no_such_loss")


def precision_recall(t, p):
    pred = np.round(np.clip(p, 0, 1))
    tp = np.sum(np.round(np.clip(t * p, 0, 1)))
    return tp / (pred.sum() + EPS), tp / (np.round(np.clip(t, 0, 1)).sum() + EPS)


def fbeta(t, p, beta):
    pr, rc = precision_recall(t, p)
    return (1 + beta ** 2) * pr * rc / (beta ** 2 * pr + rc + EPS)


def mcc(t, p):
    yp, yt = np.round(np.clip(p, 0, 1)), np.round(np.clip(t, 0, 1))
    tp, tn = np.sum(yt * yp), np.sum((1 - yt) * (1 - yp))
    fp, fn = np.sum((1 - yt) * yp), np.sum(yt * (1 - yp))
    return (tp * tn - fp * fn) / (np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) + EPS)


def top_k(t, p, k):
    ranks = (p > p[np.arange(len(p)), t.argmax(-1)][:, None]).sum(-1)
    return np.mean(ranks < k)


METRICS = {
    "binary_accuracy": lambda t, p: np.mean(t == np.round(p)),
    "categorical_accuracy": lambda t, p: np.mean(t.argmax(-1) == p.argmax(-1)),
    "top_k_categorical_accuracy": lambda t, p: top_k(t, p, 5),
    "precision": lambda t, p: precision_recall(t, p)[0],
    "recall": lambda t, p: precision_recall(t, p)[1],
    "fbeta_score": lambda t, p: fbeta(t, p, 1),
    "fmeasure": lambda t, p: fbeta(t, p, 1),
    "fscore": lambda t, p: fbeta(t, p, 1),
    "f1score": lambda t, p: fbeta(t, p, 1),
    "matthews_correlation": mcc,
}


@pytest.mark.parametrize("name", sorted(METRICS))
def test_each_metric_matches_numpy_and_is_a_scalar(name):
    t, p = data()
    fn = getattr(metrics, name)
    assert metrics.get(name) is fn and metrics.deserialize(metrics.serialize(fn)) in (fn, metrics.fmeasure)
    got = evaluate(fn, t, p)
    assert np.shape(got) == ()
    np.testing.assert_allclose(got, METRICS[name](t.astype(np.float64), p.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_metric_arguments_and_sparse_forms():
    t, p = data()
    labels = t.argmax(-1)[:, None].astype(np.float32)
    np.testing.assert_allclose(evaluate(lambda a, b: metrics.top_k_categorical_accuracy(a, b, k=2), t, p),
                               top_k(t, p, 2))
    np.testing.assert_allclose(evaluate(lambda a, b: metrics.sparse_top_k_categorical_accuracy(a, b, k=2), labels, p),
                               top_k(t, p, 2))
    np.testing.assert_allclose(evaluate(metrics.sparse_categorical_accuracy, labels, p),
                               np.mean(t.argmax(-1) == p.argmax(-1)))
    np.testing.assert_allclose(evaluate(lambda a, b: metrics.fbeta_score(a, b, beta=2), t, p),
                               fbeta(t.astype(np.float64), p.astype(np.float64), 2), rtol=1e-5)


def test_metrics_by_name_in_a_compiled_model():
    """Every Keras 1.2 metric name compiles into a model's test program."""
    x = Input(shape=(3,))
    model = Model(x, Dense(C, activation="softmax")(x))
    names = sorted(METRICS) + ["mse", "kld"]
    model.compile("sgd", "categorical_crossentropy", metrics=names)
    t, _ = data()
    xs = RNG.standard_normal((N, 3)).astype(np.float32)
    results = model.evaluate(xs, t, verbose=0)
    assert model.metrics_names == ["loss"] + [metrics.get(n).__name__ for n in names]
    assert len(results) == 1 + len(names) and np.all(np.isfinite(results))


ACTIVATIONS = {
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "linear": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_by_function_and_by_name_in_a_layer(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn and activations.deserialize(activations.serialize(fn)) is fn
    xs = RNG.standard_normal((N, C)).astype(np.float32) * 3
    want = ACTIVATIONS[name](xs.astype(np.float64))
    np.testing.assert_allclose(evaluate(fn, xs), want, rtol=1e-5, atol=1e-6)
    x = Input(shape=(C,))
    layer = Dense(C, activation=name, init="identity")
    model = Model(x, layer(x))
    np.testing.assert_allclose(model.predict(xs), want, rtol=1e-5, atol=1e-6)
    assert layer.get_config()["activation"] == name


REGULARIZERS = ["Regularizer", "L1L2Regularizer", "WeightRegularizer", "ActivityRegularizer",
                "EigenvalueRegularizer", "L1L2", "l1", "l2", "l1l2", "l1_l2", "activity_l1", "activity_l2",
                "activity_l1l2", "get", "serialize", "deserialize"]


def test_weight_regularizers_match_numpy_and_train():
    w = RNG.standard_normal((3, 2)).astype(np.float32)
    v = K.variable(w)
    l1, l2 = np.abs(w).sum(), (w ** 2).sum()
    cases = [(regularizers.l1(0.1), 0.1 * l1), (regularizers.l2(0.2), 0.2 * l2),
             (regularizers.l1l2(0.1, 0.2), 0.1 * l1 + 0.2 * l2), (regularizers.l1_l2(0.1, 0.2), 0.1 * l1 + 0.2 * l2),
             (regularizers.WeightRegularizer(l1=0.3), 0.3 * l1), (regularizers.L1L2(l2=0.3), 0.3 * l2),
             (regularizers.L1L2Regularizer(0.1, 0.1), 0.1 * (l1 + l2)),
             (regularizers.EigenvalueRegularizer(0.5), 0.5 * np.sqrt(np.linalg.eigvalsh(w.T @ w).max())),
             (regularizers.get("l2"), 0.01 * l2), (regularizers.get({"name": "L1L2Regularizer", "l1": 1.0}), l1),
             (regularizers.deserialize({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 2.0}}), 2 * l2)]
    for reg, want in cases:
        np.testing.assert_allclose(K.eval(reg(v)), want, rtol=1e-5, err_msg=type(reg).__name__)
    assert K.eval(K.constant(0.0) + regularizers.Regularizer()(v)) == 0.0
    again = regularizers.get(regularizers.serialize(regularizers.EigenvalueRegularizer(0.25)))
    assert isinstance(again, regularizers.EigenvalueRegularizer) and again.k == 0.25
    x = Input(shape=(3,))
    layer = Dense(2, W_regularizer=regularizers.EigenvalueRegularizer(0.1))
    model = Model(x, layer(x))
    model.compile("sgd", "mse")
    model.train_on_batch(np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32))
    assert len(model.losses) == 1


@pytest.mark.parametrize("make", [regularizers.activity_l1, regularizers.activity_l2, regularizers.activity_l1l2,
                                  regularizers.ActivityRegularizer])
def test_activity_regularizers_add_their_penalty_to_the_loss(make):
    reg = make(0.5) if make is not regularizers.ActivityRegularizer else make(l1=0.5)
    x = Input(shape=(3,))
    layer = Dense(2, activity_regularizer=reg, init="one")
    model = Model(x, layer(x))
    model.compile("sgd", "mse")
    xs = RNG.standard_normal((4, 3)).astype(np.float32)
    out = model.predict(xs).astype(np.float64)
    penalty = reg.l1 * np.abs(out).sum() + reg.l2 * (out ** 2).sum()  # summed over the batch, as Keras 1
    np.testing.assert_allclose(model.evaluate(xs, out, verbose=0), penalty, rtol=1e-4)


CONSTRAINTS = {
    "MaxNorm": lambda: constraints.MaxNorm(m=1.0), "maxnorm": lambda: constraints.maxnorm(1.0),
    "max_norm": lambda: constraints.max_norm(1.0), "NonNeg": constraints.NonNeg, "nonneg": constraints.nonneg,
    "non_neg": constraints.non_neg, "UnitNorm": constraints.UnitNorm, "unitnorm": constraints.unitnorm,
    "unit_norm": constraints.unit_norm, "MinMaxNorm": lambda: constraints.MinMaxNorm(0.5, 0.8),
    "min_max_norm": lambda: constraints.min_max_norm(0.5, 0.8),
}


def satisfied(kind, w):
    norms = np.sqrt((w ** 2).sum(0))
    if kind in ("MaxNorm", "maxnorm", "max_norm"):
        return np.all(norms <= 1.0 + 1e-5)
    if kind in ("NonNeg", "nonneg", "non_neg"):
        return np.all(w >= 0)
    if kind in ("UnitNorm", "unitnorm", "unit_norm"):
        return np.allclose(norms, 1.0, atol=1e-5)
    return np.all((norms >= 0.5 - 1e-5) & (norms <= 0.8 + 1e-5))


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_each_constraint_projects_a_tensor_and_a_trained_weight(name):
    c = CONSTRAINTS[name]()
    assert isinstance(c, constraints.Constraint)
    assert type(constraints.get(constraints.serialize(c))) is type(c)
    assert type(constraints.deserialize({"class_name": type(c).__name__, "config": {}})) is type(c)
    w = RNG.standard_normal((3, 2)).astype(np.float32) * 3
    assert satisfied(name, K.eval(c(K.variable(w))))
    x = Input(shape=(3,))
    layer = Dense(2, W_constraint=c, init="uniform")
    model = Model(x, layer(x))
    model.compile(optimizers.SGD(lr=1.0), "mse")
    model.train_on_batch(RNG.standard_normal((8, 3)).astype(np.float32), w[:1].repeat(8, 0) * 10)
    assert satisfied(name, layer.get_weights()[0])
    assert K.eval(constraints.Constraint()(K.variable(w))).tolist() == w.tolist()


OPTIMIZERS = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"]


@pytest.mark.parametrize("name", OPTIMIZERS + [n.lower() for n in OPTIMIZERS])
def test_each_optimizer_trains(name):
    cls = getattr(optimizers, name)
    canonical = next(n for n in OPTIMIZERS if n.lower() == name.lower())
    assert issubclass(cls, optimizers.Optimizer) and cls is getattr(optimizers, canonical)  # 'adam' is Adam
    opt = cls()
    again = optimizers.optimizer_from_config(optimizers.serialize(opt))
    assert type(again) is cls and again.get_config() == opt.get_config()
    assert type(optimizers.deserialize({"class_name": cls.__name__, "config": {}})) is cls
    assert type(optimizers.get(name)) is cls
    x = Input(shape=(3,))
    model = Model(x, Dense(1)(x))
    model.compile(opt, "mse")
    xs = RNG.standard_normal((32, 3)).astype(np.float32)
    ys = xs @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    first = model.evaluate(xs, ys, verbose=0)
    model.fit(xs, ys, nb_epoch=20, batch_size=8, verbose=0)
    assert model.evaluate(xs, ys, verbose=0) < first


def test_clip_norm_is_keras_rule():
    g = K.variable(np.array([3.0, 4.0], np.float32))
    n = K.sqrt(K.sum(K.square(g)))
    np.testing.assert_allclose(K.eval(optimizers.clip_norm(g, 1.0, n)), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(K.eval(optimizers.clip_norm(g, 10.0, n)), [3.0, 4.0])
    assert optimizers.clip_norm(g, 0, n) is g


def test_every_name_is_checked():
    checked = {
        objectives: set(LOSSES) | set(ALIASES) | {"sparse_categorical_crossentropy", "get"},
        losses: set(LOSSES) | set(ALIASES) | set(KERAS2_LOSSES) | {"sparse_categorical_crossentropy", "get",
                                                                      "serialize", "deserialize"},
        metrics: set(METRICS) | set(LOSSES) | set(ALIASES) | set(KERAS2_LOSSES) | {
            "sparse_categorical_crossentropy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
            "get", "serialize", "deserialize"},
        activations: set(ACTIVATIONS) | {"get", "serialize", "deserialize"},
        regularizers: set(REGULARIZERS),
        constraints: set(CONSTRAINTS) | {"Constraint", "get", "serialize", "deserialize"},
        optimizers: set(OPTIMIZERS) | {n.lower() for n in OPTIMIZERS} | {
            "Optimizer", "get", "serialize", "deserialize", "optimizer_from_config", "clip_norm"},
    }
    for module, names in checked.items():
        missing = sorted(n for n in names if not hasattr(module, n))
        assert not missing, "%s lacks %s" % (module.__name__, missing)
