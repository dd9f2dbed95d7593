"""Sequential: a linear stack of layers with the Model API."""
import numpy as np
import pytest

from kiln.layers import Activation, Dense, Dropout, Input
from kiln.models import Model, Sequential


def test_sequential_builds_trains_and_matches_the_functional_model(mnist):
    x_train, y_train, x_test, y_test = mnist
    m = Sequential([Dense(64, input_dim=784), Activation("relu"), Dropout(0.1)])
    m.add(Dense(10, activation="softmax"))
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Activation", "Dropout", "Dense"]
    assert m.inputs[0]._keras_history[0].name.startswith("dense_input_")
    assert m.output_shape == (None, 10)
    m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x_train[:20000], y_train[:20000], nb_epoch=2, verbose=0)
    assert m.evaluate(x_test, y_test, verbose=0)[1] > 0.9
    # usable as a layer of a functional model, weights shared
    x = Input(shape=(784,))
    f = Model(input=x, output=m(x))
    np.testing.assert_allclose(f.predict(x_test[:50]), m.predict(x_test[:50]), rtol=1e-6)


def test_pop_and_errors():
    m = Sequential()
    with pytest.raises(ValueError, match="must get an `input_shape` or `batch_input_shape`"):
        m.add(Dense(3))
    m.add(Dense(4, input_shape=(2,)))
    m.add(Dense(5))
    assert m.output_shape == (None, 5)
    m.pop()
    assert m.output_shape == (None, 4) and len(m.layers) == 1
    m.compile("sgd", "mse")
    m.fit(np.random.rand(8, 2), np.random.rand(8, 4), nb_epoch=1, verbose=0)
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        m.add("dense")
