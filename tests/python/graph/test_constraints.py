"""Weight constraints (kiln.constraints, Keras 1.2 names and Keras 2's): applied inside the
native train step right after each weight's update, on every layer that takes them; kept by an
exported train program; configs round-trip; calling one on a tensor projects it."""
import pathlib
import sys

import numpy as np
import pytest

import kiln
from kiln import backend as K
from kiln import constraints
from kiln.layers import Convolution2D, Dense, Embedding, Flatten, Input, PReLU
from kiln.models import Model, model_from_json

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from reference import ops as ref  # noqa: E402

rng = np.random.default_rng(21)


def data(n=64, d=5, k=2):
    return rng.standard_normal((n, d)).astype(np.float32) * 3, rng.standard_normal((n, k)).astype(np.float32)


def test_with_a_zero_learning_rate_one_step_is_exactly_the_projection():
    """The update (lr 0: none) comes first, then the constraint: one step projects the weight."""
    x = Input(shape=(5,))
    layer = Dense(4, init="uniform", W_constraint=constraints.maxnorm(0.02), b_constraint=constraints.nonneg())
    model = Model(x, layer(x))
    model.compile(kiln.optimizers.SGD(lr=0.0), "mse")
    model.set_weights([np.full((5, 4), 0.5, np.float32), np.array([-1, 2, -3, 4], np.float32)])
    W, b = model.get_weights()
    model.train_on_batch(*data(8, 5, 4))
    W1, b1 = model.get_weights()
    np.testing.assert_allclose(W1, ref.apply_constraint(W, "max_norm", max_value=0.02), rtol=1e-6)
    np.testing.assert_array_equal(b1, [0, 2, 0, 4])


@pytest.mark.parametrize("make,check", [
    (lambda: constraints.MaxNorm(m=1.0), lambda W: np.linalg.norm(W, axis=0).max() <= 1.0 + 1e-5),
    (lambda: constraints.max_norm(max_value=1.0, axis=[0]), lambda W: np.linalg.norm(W, axis=0).max() <= 1.0 + 1e-5),
    (lambda: constraints.unitnorm(), lambda W: np.allclose(np.linalg.norm(W, axis=0), 1.0, atol=1e-5)),
    (lambda: constraints.non_neg(), lambda W: W.min() >= 0),
    (lambda: constraints.MinMaxNorm(0.5, 0.8), lambda W: (np.linalg.norm(W, axis=0) >= 0.5 - 1e-5).all()
     and (np.linalg.norm(W, axis=0) <= 0.8 + 1e-5).all()),
], ids=["maxnorm", "max_norm", "unitnorm", "non_neg", "min_max_norm"])
def test_fit_keeps_a_dense_kernel_inside_its_constraint(make, check):
    x = Input(shape=(5,))
    model = Model(x, Dense(2, kernel_constraint=make())(Dense(6, activation="tanh")(x)))
    model.compile("adam", "mse")
    xs, ys = data()
    hist = model.fit(xs, ys, nb_epoch=5, batch_size=16, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    assert check(model.layers[2].get_weights()[0].astype(np.float64))


def test_conv_embedding_and_prelu_take_their_constraints():
    img = Input(shape=(6, 6, 2))
    conv = Convolution2D(3, 3, 3, dim_ordering="tf", W_constraint=constraints.maxnorm(0.3, axis=[0, 1, 2]))
    prelu = PReLU(alpha_constraint=constraints.nonneg(), init="uniform")
    model = Model(img, Dense(1)(Flatten()(prelu(conv(img)))))
    model.compile("sgd", "mse")
    model.fit(rng.standard_normal((16, 6, 6, 2)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32),
              nb_epoch=2, verbose=0)
    assert np.sqrt((conv.get_weights()[0].astype(np.float64) ** 2).sum(axis=(0, 1, 2))).max() <= 0.3 + 1e-5
    assert prelu.get_weights()[0].min() >= 0
    words = Input(shape=(4,), dtype="int32")
    emb = Embedding(10, 3, W_constraint=constraints.unitnorm(axis=1))
    m2 = Model(words, Dense(1)(Flatten()(emb(words))))
    m2.compile("sgd", "mse")
    m2.train_on_batch(rng.integers(0, 10, (8, 4)).astype(np.float32), np.ones((8, 1), np.float32))
    # w / (eps + |w|): within eps / |w| of norm 1 (Keras' formula, eps = 1e-7; rows start near 0.05)
    np.testing.assert_allclose(np.linalg.norm(emb.get_weights()[0], axis=1), 1.0, rtol=1e-4)


def test_the_exported_train_program_keeps_the_constraints(tmp_path):
    x = Input(shape=(5,))
    model = Model(x, Dense(3, W_constraint=constraints.maxnorm(0.4))(x))
    model.compile("rmsprop", "mse")
    assert "apply_constraint(%" in model.ir("train")
    model.export(tmp_path / "b")
    b = kiln.load_bundle(tmp_path / "b")
    xs, ys = data(32, 5, 3)
    for i in range(3):
        assert b.train_on_batch(xs[8 * i:8 * i + 8], ys[8 * i:8 * i + 8]) == \
            model.train_on_batch(xs[8 * i:8 * i + 8], ys[8 * i:8 * i + 8])
    W = next(v for k, v in b.get_weights().items() if k.endswith("_W") and "." not in k)
    assert np.linalg.norm(W, axis=0).max() <= 0.4 + 1e-5


def test_configs_round_trip_in_keras_1_layout():
    x = Input(shape=(5,))
    model = Model(x, Dense(3, W_constraint=constraints.maxnorm(1.5, axis=1), b_constraint="nonneg")(x))
    config = model.get_config()["layers"][1]["config"]
    assert config["W_constraint"] == {"name": "MaxNorm", "m": 1.5, "axis": 1}
    assert config["b_constraint"] == {"name": "NonNeg"}
    again = model_from_json(model.to_json())
    assert isinstance(again.layers[1].W_constraint, constraints.MaxNorm) and again.layers[1].W_constraint.axis == 1
    assert isinstance(constraints.get({"class_name": "UnitNorm", "config": {"axis": 0}}), constraints.UnitNorm)
    with pytest.raises(ValueError, match="Unknown constraint: 'clip'"):
        constraints.get("clip")


def test_calling_a_constraint_on_a_tensor_projects_it():
    p = K.placeholder(shape=(4, 3))
    w = rng.standard_normal((4, 3)).astype(np.float32) * 2
    for c, kind, attrs in ((constraints.MaxNorm(1.0), "max_norm", {"max_value": 1.0}),
                           (constraints.UnitNorm(), "unit_norm", {}), (constraints.NonNeg(), "non_neg", {}),
                           (constraints.MinMaxNorm(0.5, 1.5, 0.5), "min_max_norm",
                            {"min_value": 0.5, "max_value": 1.5, "rate": 0.5})):
        (got,) = K.function([p], [c(p)])([w])
        np.testing.assert_allclose(got, ref.apply_constraint(w, kind, **attrs), rtol=1e-5, atol=1e-6)
