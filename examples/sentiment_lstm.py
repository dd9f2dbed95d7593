"""Sentiment of real movie-review sentences with Embedding(mask_zero=True) + LSTM, compiled by kiln.

    python examples/sentiment_lstm.py [--epochs 4] [--unrolled]

The sentences come from kiln.datasets.movie_reviews (built once from the vaderSentiment sdist on
PyPI, then cached). The LSTM runs as kiln's fused op (one native kernel for the whole sequence,
forward and backpropagation through time); --unrolled compiles the same model with unroll=True
(about 16 IR ops per timestep) for comparison, and --both runs the two with the same seed and
prints both. Prints the time of each epoch and the test accuracy after the last one.
"""
import argparse
import time

import numpy as np

from kiln.datasets import movie_reviews
from kiln.layers import LSTM, Dense, Embedding, Input
from kiln.models import Model
from kiln.optimizers import Adam

VOCAB, LENGTH = 5000, 40


def data():
    d = movie_reviews.load_data()
    clip = lambda a: np.where(a[:, :LENGTH] >= VOCAB, 1, a[:, :LENGTH])  # rare words share the <oov> id 1
    return clip(d["x_train"]), d["y_train"], clip(d["x_test"]), d["y_test"]


def run(unroll, epochs, seed, x, y, xt, yt):
    np.random.seed(seed)
    words = Input(shape=(LENGTH,), dtype="int32")
    h = LSTM(64, unroll=unroll)(Embedding(VOCAB, 64, input_length=LENGTH, mask_zero=True)(words))
    model = Model(input=words, output=Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=Adam(lr=0.005), loss="binary_crossentropy", metrics=["accuracy"])
    name = "unrolled" if unroll else "fused"
    times = []
    for epoch in range(epochs):
        t = time.perf_counter()
        hist = model.fit(x, y, nb_epoch=1, batch_size=32, verbose=0)
        times.append(time.perf_counter() - t)
        print("%s epoch %d: %.2f s, loss %.4f, train acc %.4f"
              % (name, epoch + 1, times[-1], hist.history["loss"][0], hist.history["acc"][0]))
    loss, acc = model.evaluate(xt, yt, verbose=0)
    print("%s: test accuracy %.4f after %d epochs, %.2f s per epoch (median)" % (name, acc, epochs, np.median(times)))
    return acc, float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--unrolled", action="store_true", help="compile the LSTM unrolled (unroll=True) instead")
    g.add_argument("--both", action="store_true", help="run fused and unrolled, and compare")
    args = ap.parse_args()
    x, y, xt, yt = data()
    if args.both:
        acc_f, t_f = run(False, args.epochs, args.seed, x, y, xt, yt)
        acc_u, t_u = run(True, args.epochs, args.seed, x, y, xt, yt)
        print("fused: %.2fx faster per epoch than unrolled; test accuracy %.4f vs %.4f" % (t_u / t_f, acc_f, acc_u))
    else:
        run(args.unrolled, args.epochs, args.seed, x, y, xt, yt)


if __name__ == "__main__":
    main()
