"""One rank of the distributed tests: test_distributed.py runs it under mpiexec (and alone, with
--alone, for the single-process reference). Each scenario trains on real MNIST rows and writes
what the test compares into OUT/rank<r>.npz."""
import argparse
import os
import signal
import sys

import numpy as np

import kiln
from kiln import distributed
from kiln.callbacks import Callback, ModelCheckpoint
from kiln.datasets import mnist
from kiln.layers import BatchNormalization, Dense, Dropout, Input
from kiln.models import Model, load_model
from kiln.utils import np_utils

# 15 batches of 128 and a last one of 3 rows: with 4 ranks, one rank gets no row of it.
ROWS = 15 * 128 + 3


def data(rows=ROWS):
    (x, y), _ = mnist.load_data()
    x = x[:rows].reshape(rows, 784).astype("float32") / 255
    return x, np_utils.to_categorical(y[:rows], 10).astype("float32")


def mlp():
    """The guide's first model."""
    inputs = Input(shape=(784,))
    h = Dense(64, activation="relu")(inputs)
    h = Dense(64, activation="relu")(h)
    model = Model(input=inputs, output=Dense(10, activation="softmax")(h))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def bn_dropout():
    inputs = Input(shape=(784,))
    h = Dense(64, activation="relu")(inputs)
    h = BatchNormalization()(h)
    h = Dropout(0.3)(h)
    model = Model(input=inputs, output=Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class Fail(Callback):
    """Rank `who` fails at batch 3 of the first epoch: raises, or kills itself."""

    def __init__(self, who, how):
        super().__init__()
        self.who, self.how = who, how

    def on_batch_end(self, batch, logs=None):
        if batch == 3 and distributed.rank() == self.who:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("deliberate failure on rank %d" % self.who)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["mlp", "bn_dropout", "raise", "kill"])
    ap.add_argument("out")
    ap.add_argument("--alone", action="store_true")
    args = ap.parse_args()
    np.random.seed(1234 + (0 if args.alone else 7 * int(os.environ.get("PMI_RANK", "0"))))  # ranks differ until the broadcast
    kiln.set_num_threads(1)
    if not args.alone:
        distributed.init()
    x, y = data()
    model = bn_dropout() if args.scenario == "bn_dropout" else mlp()
    callbacks = []
    if args.scenario in ("raise", "kill"):
        callbacks.append(Fail(1, args.scenario))
    checkpoint = os.path.join(args.out, "checkpoint.kiln")
    callbacks.append(ModelCheckpoint(checkpoint))
    history = model.fit(x, y, batch_size=128, nb_epoch=3, verbose=0, callbacks=callbacks)
    x_test, y_test = x[:777], y[:777]
    results = {"w%d" % i: w for i, w in enumerate(model.get_weights())}
    results["loss"] = np.array(history.history["loss"])
    results["acc"] = np.array(history.history["acc"])
    results["evaluate"] = np.array(model.evaluate(x_test, y_test, batch_size=100, verbose=0))
    results["predict"] = model.predict(x_test, batch_size=64)
    distributed.barrier()
    reloaded = load_model(checkpoint)
    results["reloaded_predict"] = reloaded.predict(x_test, batch_size=64)
    np.savez(os.path.join(args.out, "rank%d.npz" % distributed.rank()), **results)


if __name__ == "__main__":
    sys.exit(main())
