"""Weight and activity regularizers add Keras 1's penalties to the training loss."""
import numpy as np
import pytest

from kiln import regularizers
from kiln.layers import Dense, Embedding, Input
from kiln.models import Model
from kiln.optimizers import SGD


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


def test_l2_training_reaches_the_optimum_of_the_regularized_problem():
    """Full-batch gradient descent on mse + l * |W|^2 converges to the ridge solution, which
    solves (X'X/n + l I) W + mean(x) b = X'y/n, mean(x) W + b = mean(y) (b is not penalized).
    Here it is about half the unregularized solution (all ones); without the penalty in the
    gradient training would reach all ones, and untrained weights are glorot_uniform draws."""
    lam, n = 1.0, 64
    a = Input(shape=(4,))
    dense = Dense(1, W_regularizer=regularizers.l2(lam))
    m = Model(input=a, output=dense(a))
    m.compile(optimizer=SGD(lr=0.1), loss="mse")
    x = np.random.randn(n, 4)
    y = x @ np.ones((4, 1)) + 0.5
    m.fit(x.astype(np.float32), y.astype(np.float32), nb_epoch=100, batch_size=n, verbose=0)

    lhs = np.block([[x.T @ x / n + lam * np.eye(4), x.mean(0)[:, None]], [x.mean(0)[None, :], np.ones((1, 1))]])
    rhs = np.concatenate([x.T @ y / n, y.mean(0, keepdims=True)])
    optimum = np.linalg.solve(lhs, rhs).ravel()
    W, b = dense.get_weights()
    np.testing.assert_allclose(np.concatenate([W.ravel(), b]), optimum, rtol=0, atol=1e-4)
    assert np.all(np.abs(optimum[:4] - 1) > 0.3), optimum  # the penalty matters: far from all ones


def test_embedding_regularizer_and_bad_name():
    x = Input(shape=(2,))
    emb = Embedding(5, 3, W_regularizer="l1")
    m = Model(input=x, output=emb(x))
    assert len(m.losses) == 1
    with pytest.raises(ValueError, match="Invalid regularizer: 'l3'"):
        Dense(2, W_regularizer="l3")
