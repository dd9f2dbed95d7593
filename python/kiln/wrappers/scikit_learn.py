"""Keras 1.2's `keras.wrappers.scikit_learn`: KerasClassifier and KerasRegressor, estimators with
scikit-learn's interface (fit, predict, score, get_params, set_params) around a function that
builds and compiles a model. scikit-learn itself is not needed: the classes only follow its
conventions, so GridSearchCV and cross_val_score can use them where it is installed.

    def make(hidden=16):
        model = Sequential([Dense(hidden, input_dim=4, activation='relu'), Dense(3, activation='softmax')])
        model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
        return model
    clf = KerasClassifier(make, hidden=32, nb_epoch=5, batch_size=16, verbose=0)
    clf.fit(x, labels)       # integer labels are one-hot encoded for categorical_crossentropy
    clf.score(x, labels)     # the accuracy

`build_fn` is a function, an object with `__call__`, or None in a subclass that defines
`__call__`. Each keyword given to the constructor goes to whichever of build_fn, fit, predict,
predict_classes, predict_proba and evaluate takes a keyword of that name.
"""
import copy
import inspect
import types

import numpy as np

from ..engine.sequential import Sequential
from ..utils.np_utils import to_categorical


def _arg_names(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


class BaseWrapper:
    """The part both estimators share: parameters, building the model, fitting it."""

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_target(self):
        """The function that builds the model, as Keras 1.2 finds it."""
        if self.build_fn is None:
            return self.__call__
        if isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn
        return self.build_fn.__call__

    def check_params(self, params):
        """Every parameter must be a keyword of build_fn or of the model's fit/predict/evaluate."""
        legal = [Sequential.fit, Sequential.predict, Sequential.predict_classes, Sequential.evaluate]
        if self.build_fn is None:
            legal.append(self.__call__)
        elif not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            legal.append(self.build_fn.__call__)
        else:
            legal.append(self.build_fn)
        names = {n for fn in legal for n in _arg_names(fn)}
        for name in params:
            if name not in names:
                raise ValueError("{} is not a legal parameter".format(name))

    def get_params(self, deep=True):
        """The estimator's parameters: build_fn and every keyword given (scikit-learn's API)."""
        res = copy.deepcopy(self.sk_params)
        res.update({"build_fn": self.build_fn})
        return res

    def set_params(self, **params):
        """Changes parameters for the next fit (scikit-learn's API); returns the estimator."""
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The parameters that `fn` takes, updated with `override`."""
        names = _arg_names(fn)
        res = {k: v for k, v in self.sk_params.items() if k in names}
        res.update(override or {})
        return res

    def _one_hot_if_needed(self, y):
        loss = getattr(self.model.loss, "__name__", self.model.loss)
        y = np.asarray(y)
        if loss == "categorical_crossentropy" and y.ndim != 2:
            return to_categorical(y)
        return y

    def fit(self, x, y, **kwargs):
        """Builds a new model with build_fn and fits it; returns the History. Integer labels
        are one-hot encoded when the loss is categorical_crossentropy."""
        self.model = self._build_target()(**self.filter_sk_params(self._build_target()))
        y = self._one_hot_if_needed(y)
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)


class KerasClassifier(BaseWrapper):
    """scikit-learn's classifier interface on a model of class probabilities."""

    def predict(self, x, **kwargs):
        """The class of each sample (Sequential.predict_classes)."""
        return self.model.predict_classes(x, **self.filter_sk_params(Sequential.predict_classes, kwargs))

    def predict_proba(self, x, **kwargs):
        """The class probabilities; a single sigmoid column becomes [1 - p, p]."""
        probs = self.model.predict_proba(x, **self.filter_sk_params(Sequential.predict_proba, kwargs))
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The accuracy on (x, y); the model must be compiled with metrics=['accuracy']."""
        y = self._one_hot_if_needed(y)
        outputs = self.model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs))
        if not isinstance(outputs, list):
            outputs = [outputs]
        for name, output in zip(self.model.metrics_names, outputs):
            if name == "acc":
                return output
        raise ValueError("The model is not configured to compute accuracy. You should pass "
                         '`metrics=["accuracy"]` to the `model.compile()` method.')


class KerasRegressor(BaseWrapper):
    """scikit-learn's regressor interface."""

    def predict(self, x, **kwargs):
        """The predictions, one value per sample for a single output column."""
        return np.squeeze(self.model.predict(x, **self.filter_sk_params(Sequential.predict, kwargs)))

    def score(self, x, y, **kwargs):
        """The loss on (x, y). (scikit-learn maximizes scores; Keras 1.2 returns the loss as is,
        so does this: negate it for a search that maximizes.)"""
        loss = self.model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs))
        return loss[0] if isinstance(loss, list) else loss
