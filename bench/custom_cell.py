"""A user's own recurrent cell (a Keras 1.2 `Recurrent` subclass with `step()`), run by K.rnn as
a native `scan` over its nested step graph and, with unroll=True, unrolled into the graph;
against PyTorch eager's nn.RNN (tanh) with the same sizes and threads in the same run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/custom_cell.py [--threads T] [--repeats N] [--quick]

Workload: h = tanh(x W + h U), 64 units over 100 steps of 32 features, then Dense(1, sigmoid),
binary cross-entropy, rmsprop; training and predict at batch 32 (256 random samples). The
recurrent issue sets no target for custom cells (the built-in layers have fused kernels, bench/rnn.py);
this shows what the scan costs against the unrolled graph and PyTorch. Figures are the best of N
epochs after a warm-up, in samples/s; ratios are to PyTorch. See bench/README.md.
"""
import os
import sys

import numpy as np

from benchutil import arguments, best_rate, load_average, preamble

T, D, UNITS, BATCH = 100, 32, 64, 32


def kiln_rates(x, y, threads, repeats):
    import kiln
    from kiln.layers import Dense, Input
    from kiln.models import Model
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
    from cells import MinimalRNN  # the same Keras 1.2 cell the tests use

    kiln.set_num_threads(threads)
    out = {}
    for name, unroll in (("kiln scan", False), ("kiln unrolled", True)):
        np.random.seed(0)
        inp = Input(shape=(T, D))
        model = Model(inp, Dense(1, activation="sigmoid")(MinimalRNN(UNITS, unroll=unroll)(inp)))
        model.compile("rmsprop", "binary_crossentropy")
        model.fit(x, y, batch_size=BATCH, nb_epoch=1, verbose=0)
        out[(name, "train")] = best_rate(lambda: model.fit(x, y, batch_size=BATCH, nb_epoch=1, verbose=0), len(x), repeats)
        model.predict(x, batch_size=BATCH)
        out[(name, "predict")] = best_rate(lambda: model.predict(x, batch_size=BATCH), len(x), repeats)
    return out


def torch_rates(x, y, threads, repeats):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn, head = torch.nn.RNN(D, UNITS, nonlinearity="tanh", batch_first=True), torch.nn.Linear(UNITS, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.RMSprop(params, lr=0.001)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def epoch():
        for i in range(0, len(x), BATCH):
            opt.zero_grad()
            _, h = rnn(xt[i:i + BATCH])
            loss_fn(head(h[0]), yt[i:i + BATCH]).backward()
            opt.step()

    def predict():
        with torch.inference_mode():
            for i in range(0, len(x), BATCH):
                torch.sigmoid(head(rnn(xt[i:i + BATCH])[1][0]))

    epoch()
    predict()
    return {("pytorch eager", "train"): best_rate(epoch, len(x), repeats),
            ("pytorch eager", "predict"): best_rate(predict, len(x), repeats)}


def main():
    args = arguments(__doc__, "not used by this script")
    repeats = 1 if args.quick else args.repeats
    preamble(args.threads)
    rng = np.random.default_rng(0)
    n = 64 if args.quick else 256
    x = rng.standard_normal((n, T, D)).astype(np.float32)
    y = rng.integers(0, 2, (n, 1)).astype(np.float32)
    rates = kiln_rates(x, y, args.threads, repeats)
    if not args.no_torch:
        rates.update(torch_rates(x, y, args.threads, repeats))
    print("%-16s %16s %16s %10s %10s" % ("", "train samples/s", "predict samples/s", "train", "predict"))
    for who in ("kiln scan", "kiln unrolled", "pytorch eager"):
        if (who, "train") not in rates:
            continue
        ratio = lambda k: rates[(who, k)] / rates[("pytorch eager", k)] if ("pytorch eager", k) in rates else float("nan")
        print("%-16s %16.0f %16.0f %9.2fx %9.2fx" % (who, rates[(who, "train")], rates[(who, "predict")],
                                                     ratio("train"), ratio("predict")))
    print("ratios to PyTorch eager in the same run; load average after: %s" % load_average())


if __name__ == "__main__":
    sys.exit(main())
