"""kiln.wrappers.scikit_learn (Keras 1.2's KerasClassifier / KerasRegressor) on real MNIST:
parameters routed to build_fn and fit/predict/evaluate by name, integer labels one-hot encoded
for categorical_crossentropy, predictions and scores checked against the model itself."""
import numpy as np
import pytest

from kiln.layers import Dense
from kiln.models import Sequential
from kiln.wrappers.scikit_learn import KerasClassifier, KerasRegressor


def build_classifier(hidden=32, loss="categorical_crossentropy"):
    model = Sequential([Dense(hidden, input_dim=784, activation="relu"), Dense(10, activation="softmax")])
    model.compile("adam", loss, metrics=["accuracy"])
    return model


def test_classifier_fits_scores_and_predicts_real_digits(mnist):
    x_train, y_train, x_test, y_test = mnist
    clf = KerasClassifier(build_classifier, hidden=48, nb_epoch=2, batch_size=64, verbose=0)
    assert clf.get_params()["hidden"] == 48 and clf.get_params()["build_fn"] is build_classifier
    hist = clf.fit(x_train[:3000], y_train[:3000])  # integer labels: one-hot encoded for the loss
    assert len(hist.history["loss"]) == 2 and clf.model.layers[0].output_dim == 48
    acc = clf.score(x_test[:1000], y_test[:1000])
    assert acc > 0.8
    proba = clf.predict_proba(x_test[:1000])
    pred = clf.predict(x_test[:1000])
    np.testing.assert_array_equal(pred, proba.argmax(axis=1))
    np.testing.assert_allclose(acc, (pred == y_test[:1000]).mean(), atol=1e-6)
    np.testing.assert_allclose(proba, clf.model.predict(x_test[:1000]), rtol=1e-4, atol=1e-6)
    assert clf.set_params(hidden=8) is clf
    clf.fit(x_train[:500], y_train[:500], nb_epoch=1)  # a new model each fit, fit's kwargs win
    assert clf.model.layers[0].output_dim == 8


def test_class_build_fn_and_subclass_call(mnist):
    x_train, y_train, _, _ = mnist

    class Builder:
        def __call__(self, hidden=16):
            return build_classifier(hidden)

    class Mine(KerasClassifier):
        def __call__(self, hidden=16):
            return build_classifier(hidden)

    for clf in (KerasClassifier(Builder(), hidden=12, nb_epoch=1, verbose=0), Mine(hidden=12, nb_epoch=1, verbose=0)):
        clf.fit(x_train[:256], y_train[:256])
        assert clf.model.layers[0].output_dim == 12


def test_binary_probabilities_get_two_columns_and_parameters_are_checked(mnist):
    x_train, y_train, x_test, _ = mnist

    def binary():
        model = Sequential([Dense(1, input_dim=784, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    clf = KerasClassifier(binary, nb_epoch=1, verbose=0)
    clf.fit(x_train[:500], (y_train[:500] == 0).astype(np.float32))
    proba = clf.predict_proba(x_test[:50])
    assert proba.shape == (50, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="hiden is not a legal parameter"):
        KerasClassifier(build_classifier, hiden=3)
    with pytest.raises(ValueError, match="not a legal parameter"):
        KerasClassifier(build_classifier).set_params(epochz=3)

    def no_accuracy():
        model = Sequential([Dense(10, input_dim=784, activation="softmax")])
        model.compile("sgd", "categorical_crossentropy")
        return model
    clf = KerasClassifier(no_accuracy, nb_epoch=1, verbose=0)
    clf.fit(x_train[:100], y_train[:100])
    with pytest.raises(ValueError, match="not configured to compute accuracy"):
        clf.score(x_train[:100], y_train[:100])


def test_regressor_predicts_and_scores_with_the_loss(mnist):
    x_train, _, x_test, _ = mnist
    target = lambda x: x.mean(axis=1)  # each image's mean intensity: a real regression target

    def build(hidden=16):
        model = Sequential([Dense(hidden, input_dim=784, activation="relu"), Dense(1)])
        model.compile("adam", "mse")
        return model

    reg = KerasRegressor(build, hidden=16, nb_epoch=3, batch_size=32, verbose=0)
    reg.fit(x_train[:2000], target(x_train[:2000]))
    pred = reg.predict(x_test[:200])
    assert pred.shape == (200,)
    mse = ((pred - target(x_test[:200])) ** 2).mean()
    np.testing.assert_allclose(reg.score(x_test[:200], target(x_test[:200])), mse, rtol=1e-4)
    assert mse < np.var(target(x_test[:200]))  # it learned something
