"""Metrics f(y_true, y_pred) -> a scalar for the batch, Keras 1.2's definitions written with
kiln.backend, so they compile into the test and train programs. Any loss is also a metric
(averaged over the batch). `evaluate` and `fit` report each metric's mean over batches weighted
by batch size, as Keras 1.2 does; for the batch-level ones (precision, recall, fbeta_score,
fmeasure, matthews_correlation) that differs from the statistic of the whole set, as in Keras."""
from . import backend as K
from . import losses


def _batch_mean(loss):
    """The loss as a metric: its mean over the batch, a scalar, as Keras 1.2's metrics module
    defines each loss again (`keras.metrics.mean_squared_error` is K.mean(K.square(p - y)))."""
    def metric(y_true, y_pred):
        return K.mean(loss(y_true, y_pred))
    metric.__name__ = metric.__qualname__ = loss.__name__
    metric.__doc__ = "%s, averaged over the batch (a scalar)." % loss.__name__
    return metric


# The losses are metrics too, under the same names and aliases (mse, MSE, ...), each one function.
_LOSS_METRICS = {}
for _name, _loss in losses._ALL.items():
    if _loss.__name__ not in _LOSS_METRICS:
        _LOSS_METRICS[_loss.__name__] = _batch_mean(_loss)
    globals()[_name] = _LOSS_METRICS[_loss.__name__]
del _name, _loss


def binary_accuracy(y_true, y_pred):
    return K.mean(K.equal(y_true, K.round(y_pred)))


def categorical_accuracy(y_true, y_pred):
    return K.mean(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    return K.mean(K.equal(K.max(y_true, axis=-1), K.argmax(y_pred, axis=-1)))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """The fraction of rows whose true class (argmax of the one-hot y_true) is among the k
    highest scores (ties with the k-th count as in)."""
    return K.mean(K.in_top_k(y_pred, K.argmax(y_true, axis=-1), k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """top_k_categorical_accuracy for integer targets (Keras 2)."""
    return K.mean(K.in_top_k(y_pred, K.max(y_true, axis=-1), k))


def precision(y_true, y_pred):
    """Of the predictions rounded to 1, the fraction that are 1 in y_true (over the batch)."""
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    predicted_positives = K.sum(K.round(K.clip(y_pred, 0, 1)))
    return true_positives / (predicted_positives + K.epsilon())


def recall(y_true, y_pred):
    """Of the 1s in y_true, the fraction predicted (rounded) as 1 (over the batch)."""
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    possible_positives = K.sum(K.round(K.clip(y_true, 0, 1)))
    return true_positives / (possible_positives + K.epsilon())


def fbeta_score(y_true, y_pred, beta=1):
    """The weighted harmonic mean of precision and recall; beta > 1 favours recall.

    Keras 1.2 returns 0 when y_true has no positives; here recall is then 0, so the score is 0
    too, without a branch in the graph."""
    if beta < 0:
        raise ValueError("The lowest choosable beta is zero (only precision).")
    p = precision(y_true, y_pred)
    r = recall(y_true, y_pred)
    bb = beta ** 2
    return (1 + bb) * (p * r) / (bb * p + r + K.epsilon())


def fmeasure(y_true, y_pred):
    """fbeta_score with beta = 1 (the F1 score)."""
    return fbeta_score(y_true, y_pred, beta=1)


def matthews_correlation(y_true, y_pred):
    """The Matthews correlation coefficient of the rounded predictions (over the batch)."""
    y_pred_pos = K.round(K.clip(y_pred, 0, 1))
    y_pred_neg = 1 - y_pred_pos
    y_pos = K.round(K.clip(y_true, 0, 1))
    y_neg = 1 - y_pos
    tp = K.sum(y_pos * y_pred_pos)
    tn = K.sum(y_neg * y_pred_neg)
    fp = K.sum(y_neg * y_pred_pos)
    fn = K.sum(y_pos * y_pred_neg)
    numerator = tp * tn - fp * fn
    denominator = K.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return numerator / (denominator + K.epsilon())


fscore = f1score = fmeasure  # Keras 1.2's aliases

_OWN = {f.__name__: f for f in (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, precision, recall,
                                fbeta_score, fmeasure, matthews_correlation)}
_OWN.update(fscore=fmeasure, f1score=fmeasure)


def serialize(metric):
    """Keras 2: the name a metric function is saved under."""
    return metric.__name__


def deserialize(name, custom_objects=None):
    """Keras 2: the metric function of a name (custom_objects first)."""
    from .utils.custom_objects import deserialize_with
    return deserialize_with(get, name, custom_objects)


def get(identifier):
    """A metric function from its name (or the function itself); any loss name works too."""
    if callable(identifier):
        return identifier
    from .utils.custom_objects import lookup
    fn = lookup(identifier) or _OWN.get(identifier)
    if fn is not None:
        return fn
    try:
        loss = losses.get(identifier)
    except ValueError:
        raise ValueError("Invalid metric: %s" % (identifier,)) from None
    return _LOSS_METRICS.get(getattr(loss, "__name__", None), loss)
