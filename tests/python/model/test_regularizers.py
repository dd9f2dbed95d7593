"""Weight and activity regularizers add Keras 1's penalties to the training loss."""
import numpy as np
import pytest

from kiln import regularizers
from kiln.layers import Dense, Embedding, Input
from kiln.models import Model


def test_weight_penalties_are_added_to_the_loss():
    a = Input(shape=(3,))
    dense = Dense(2, W_regularizer=regularizers.l2(0.1), b_regularizer=regularizers.l1(0.5))
    m = Model(input=a, output=dense(a))
    m.compile(optimizer="sgd", loss="mse")
    x = np.random.randn(5, 3).astype(np.float32)
    y = np.random.randn(5, 2).astype(np.float32)
    dense.set_weights([np.random.randn(3, 2), np.random.randn(2)])
    W, b = [w.astype(np.float64) for w in dense.get_weights()]
    mse = np.mean((x @ W + b - y) ** 2)
    want = mse + 0.1 * np.sum(W ** 2) + 0.5 * np.sum(np.abs(b))
    assert len(m.losses) == 2
    assert abs(m.evaluate(x, y, verbose=0) - want) < 1e-4 * want


def test_keras2_names_and_activity_penalty_summed_over_the_batch():
    a = Input(shape=(3,))
    dense = Dense(2, kernel_regularizer="l2", activity_regularizer=regularizers.activity_l1(0.01))
    m = Model(inputs=a, outputs=dense(a))
    m.compile(optimizer="sgd", loss="mse")
    x = np.random.randn(4, 3).astype(np.float32)
    y = np.zeros((4, 2), np.float32)
    W, b = [w.astype(np.float64) for w in dense.get_weights()]
    out = x @ W + b
    want = np.mean(out ** 2) + 0.01 * np.sum(W ** 2) + 0.01 * np.sum(np.abs(out))
    assert abs(m.evaluate(x, y, verbose=0, batch_size=4) - want) < 1e-4 * want


def test_l2_shrinks_weights_towards_zero():
    a = Input(shape=(4,))
    dense = Dense(1, W_regularizer=regularizers.l2(1.0))
    m = Model(input=a, output=dense(a))
    m.compile(optimizer="sgd", loss="mse")
    x = np.random.randn(64, 4).astype(np.float32)
    y = (x @ np.ones((4, 1))).astype(np.float32)
    m.fit(x, y, nb_epoch=30, verbose=0)
    # the penalty pulls the fitted weights well below the unregularized solution (all ones)
    assert np.all(np.abs(dense.get_weights()[0]) < 0.8)


def test_embedding_regularizer_and_bad_name():
    x = Input(shape=(2,))
    emb = Embedding(5, 3, W_regularizer="l1")
    m = Model(input=x, output=emb(x))
    assert len(m.losses) == 1
    with pytest.raises(ValueError, match="Invalid regularizer: 'l3'"):
        Dense(2, W_regularizer="l3")
