"""The replica_mean op and the replicated train graph in one process (no MPI needed): the
gradients go through one replica_mean, which alone is a copy, so a replicated program trains to
the same bits as the plain one; BatchNormalization's statistics go through it too. The
cross-rank weighting itself is tested under mpiexec (test_distributed.py)."""
import numpy as np

from kiln import _core
from kiln.backend.variables import store
from kiln.datasets import mnist
from kiln.layers import BatchNormalization, Dense, Input
from kiln.models import Model
from kiln.utils import np_utils


def model(seed):
    np.random.seed(seed)
    x = Input(shape=(784,))
    h = BatchNormalization()(Dense(32, activation="relu")(x))
    m = Model(input=x, output=Dense(10, activation="softmax")(h))
    m.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return m


def data(n=512):
    (x, y), _ = mnist.load_data()
    return x[:n].reshape(n, 784).astype("float32") / 255, np_utils.to_categorical(y[:n], 10).astype("float32")


def replicated_program(m):
    from kiln.lower import lower
    text, _ = lower(m._metric_tensors, m.inputs + m.targets + m.sample_weights, training=True, name="train",
                    trainable=m._compiled_trainable, updates=m._compiled_updates)
    return _core.compile(store, text, train=m.optimizer.spec() + (m._constraint_spec(), True))


def test_the_replicated_train_graph_averages_every_gradient_in_one_node():
    m = model(0)
    grads = [line for line in replicated_program(m).text().splitlines() if "%d." in line and "= replica_mean(" in line]
    assert len(grads) == 1, grads  # one node, one result per trainable weight, named d.<weight>
    results = grads[0].split("=")[0].split(",")
    assert len(results) == len(m.trainable_weights) == 6
    plain = m._program("train").text()
    assert not [line for line in plain.splitlines() if "%d." in line and "= replica_mean(" in line]


def test_alone_a_replicated_program_trains_to_the_same_bits():
    x, y = data()
    a, b = model(1), model(1)
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    b._programs["train"] = replicated_program(b)
    b._replicated = False  # keep this program: fit alone asks for the plain one
    a.fit(x, y, batch_size=64, nb_epoch=2, verbose=0, shuffle=False)
    b.fit(x, y, batch_size=64, nb_epoch=2, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_batchnorm_statistics_go_through_replica_mean_and_alone_match_numpy():
    m = model(2)
    text = m._program("train").text()
    stats = [line for line in text.splitlines() if "= replica_mean(%batchnormalization" in line]
    assert len(stats) == 2, stats  # the batch mean and variance
    x, _ = data(64)
    from kiln import backend as K
    f = K.function([m.inputs[0], K.learning_phase()], [m.layers[2].output])
    h = np.maximum(x @ m.layers[1].get_weights()[0] + m.layers[1].get_weights()[1], 0)
    ref = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-3)
    np.testing.assert_allclose(f([x, 1])[0], ref, rtol=1e-4, atol=1e-4)
