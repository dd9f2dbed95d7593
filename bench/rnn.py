"""kiln vs PyTorch (CPU, eager) on the guide's recurrent models: training throughput.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/rnn.py [--threads T] [--repeats N] [--quick]

Workloads (the recurrent issue's):
- tweet: two (140, 256) binary inputs, one shared LSTM(64), concat, Dense(1, sigmoid), binary
  cross-entropy, rmsprop; training at batch 32 and 128.
- qa: three int inputs of length 100, Embedding(10000, 256) + LSTM(128) for the question, a
  shared Embedding(10000, 256) + LSTM(128) for both answers, two dot scores, softmax over the
  two, categorical cross-entropy, rmsprop; training at batch 32.
kiln's LSTMs use inner_activation='sigmoid' for parity (PyTorch has no hard sigmoid); the
`hard_sigmoid` rows are Keras 1's default. Each figure is the best of N timed epochs (after a
warm-up epoch), in samples per second; both libraries run in one process with the same thread
count, kiln first. Ratios are kiln / PyTorch. Also prints kiln's per-node profile of one train
step of each model (where the time goes). See bench/README.md.
"""
import os
import time

import numpy as np

from benchutil import arguments, best_rate, load_average, preamble

TARGETS = {"tweet train b32": 2.0, "tweet train b128": 2.0, "qa train b32": 1.5}


def data(n_tweet, n_qa, seed=0):
    rng = np.random.default_rng(seed)
    tweets = [(rng.random((n_tweet, 140, 256)) < 0.05).astype(np.float32) for _ in range(2)]
    y_tweet = rng.integers(0, 2, (n_tweet, 1)).astype(np.float32)
    qa = [rng.integers(1, 10000, (n_qa, 100)).astype(np.int32) for _ in range(3)]
    y_qa = np.eye(2, dtype=np.float32)[rng.integers(0, 2, n_qa)]
    return tweets, y_tweet, qa, y_qa


# ----------------------------------------------------------------------------- kiln

def kiln_models(inner):
    from kiln.layers import LSTM, Dense, Embedding, Input, merge
    from kiln.models import Model
    np.random.seed(0)
    a, b = Input(shape=(140, 256)), Input(shape=(140, 256))
    shared = LSTM(64, inner_activation=inner)
    out = Dense(1, activation="sigmoid")(merge([shared(a), shared(b)], mode="concat", concat_axis=-1))
    tweet = Model(input=[a, b], output=out)
    tweet.compile(optimizer="rmsprop", loss="binary_crossentropy")

    q, good, bad = (Input(shape=(100,), dtype="int32") for _ in range(3))
    eq = LSTM(128, inner_activation=inner)(Embedding(10000, 256, input_length=100)(q))
    emb, lstm = Embedding(10000, 256, input_length=100), LSTM(128, inner_activation=inner)
    s_good = merge([eq, lstm(emb(good))], mode="dot", dot_axes=1)
    s_bad = merge([eq, lstm(emb(bad))], mode="dot", dot_axes=1)
    from kiln.layers import Activation
    scores = Activation("softmax")(merge([s_good, s_bad], mode="concat", concat_axis=-1))
    qa = Model(input=[q, good, bad], output=scores)
    qa.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return tweet, qa


def bench_kiln(d, threads, repeats, inner, batches):
    import kiln
    kiln.set_num_threads(threads)
    tweets, y_tweet, qa, y_qa = d
    tweet, qa_model = kiln_models(inner)
    res = {}
    for b in batches:
        tweet.fit(tweets, y_tweet, batch_size=b, nb_epoch=1, verbose=0)
        res["tweet train b%d" % b] = best_rate(lambda: tweet.fit(tweets, y_tweet, batch_size=b, nb_epoch=1, verbose=0),
                                               len(y_tweet), repeats)
    qa_model.fit(qa, y_qa, batch_size=32, nb_epoch=1, verbose=0)
    res["qa train b32"] = best_rate(lambda: qa_model.fit(qa, y_qa, batch_size=32, nb_epoch=1, verbose=0),
                                    len(y_qa), repeats)
    return res, (tweet, qa_model)


def profile(model, xs, y, batch):
    """The train program's per-node times for one epoch at `batch`, biggest first."""
    p = model._program("train")
    p.set_profiling(True)
    model.fit(xs, y, batch_size=batch, nb_epoch=1, verbose=0)
    rows = sorted(p.profile(), key=lambda r: -r[2])
    p.set_profiling(False)
    total = sum(r[2] for r in rows)
    steps = max(r[3] for r in rows) if rows else 1
    lines = ["  %.2f ms per step over %d steps" % (1e3 * total / steps, steps)]
    for op, result, sec, calls in rows[:8]:
        lines.append("  %6.2f ms %5.1f%%  %-14s %%%s" % (1e3 * sec / max(calls, 1), 100 * sec / total, op, result))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- PyTorch

def bench_torch(d, threads, repeats, batches):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tweets, y_tweet, qa, y_qa = d

    class Tweet(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(256, 64, batch_first=True)
            self.out = nn.Linear(128, 1)

        def forward(self, a, b):
            ha = self.lstm(a)[1][0][-1]
            hb = self.lstm(b)[1][0][-1]
            return torch.sigmoid(self.out(torch.cat([ha, hb], dim=1)))

    class QA(nn.Module):
        def __init__(self):
            super().__init__()
            self.eq, self.lq = nn.Embedding(10000, 256), nn.LSTM(256, 128, batch_first=True)
            self.ea, self.la = nn.Embedding(10000, 256), nn.LSTM(256, 128, batch_first=True)

        def forward(self, q, good, bad):
            hq = self.lq(self.eq(q))[1][0][-1]
            hg = self.la(self.ea(good))[1][0][-1]
            hb = self.la(self.ea(bad))[1][0][-1]
            return torch.stack([(hq * hg).sum(1), (hq * hb).sum(1)], dim=1)  # logits; softmax in the loss

    def epoch(model, opt, loss_fn, xs, y, b):
        n = len(y)
        perm = torch.randperm(n)
        for s in range(0, n, b):
            idx = perm[s:s + b]
            opt.zero_grad()
            loss = loss_fn(model(*[x[idx] for x in xs]), y[idx])
            loss.backward()
            opt.step()

    tw = Tweet()
    tw_opt = torch.optim.RMSprop(tw.parameters(), lr=0.001, alpha=0.9, eps=1e-8)
    bce = nn.BCELoss()
    txs, ty = [torch.from_numpy(t) for t in tweets], torch.from_numpy(y_tweet)
    res = {}
    for b in batches:
        epoch(tw, tw_opt, bce, txs, ty, b)
        res["tweet train b%d" % b] = best_rate(lambda: epoch(tw, tw_opt, bce, txs, ty, b), len(ty), repeats)
    m = QA()
    opt = torch.optim.RMSprop(m.parameters(), lr=0.001, alpha=0.9, eps=1e-8)
    ce = lambda logits, y: nn.functional.cross_entropy(logits, y.argmax(1))
    qxs, qy = [torch.from_numpy(q.astype(np.int64)) for q in qa], torch.from_numpy(y_qa)
    epoch(m, opt, ce, qxs, qy, 32)
    res["qa train b32"] = best_rate(lambda: epoch(m, opt, ce, qxs, qy, 32), len(qy), repeats)
    return res


def main():
    args = arguments(__doc__, "print kiln's per-node profile of each model")
    repeats = 1 if args.quick else args.repeats
    n_tweet, n_qa = (512, 256) if args.quick else (2048, 1024)
    preamble(args.threads)
    d = data(n_tweet, n_qa)
    batches = (32, 128)
    k, models = bench_kiln(d, args.threads, repeats, "sigmoid", batches)
    kh, _ = bench_kiln(d, args.threads, repeats, "hard_sigmoid", batches)
    t = {} if args.no_torch else bench_torch(d, args.threads, repeats, batches)
    print("%-20s %14s %14s %8s %8s" % ("case (samples/s)", "kiln", "PyTorch", "ratio", "target"))
    for case in TARGETS:
        ratio = k[case] / t[case] if case in t else float("nan")
        print("%-20s %14s %14s %8.2f %7.1fx" % (case, "{:,.0f}".format(k[case]),
                                                "{:,.0f}".format(t[case]) if case in t else "n/a", ratio, TARGETS[case]))
    for case in TARGETS:
        ratio = kh[case] / t[case] if case in t else float("nan")
        print("%-20s %14s %14s %8.2f   (kiln with hard_sigmoid)" % (case, "{:,.0f}".format(kh[case]),
                                                                     "{:,.0f}".format(t[case]) if case in t else "n/a",
                                                                     ratio))
    print("load average after: %s" % load_average())
    if args.profile:
        from kiln import _core
        tweets, y_tweet, qa, y_qa = d
        for name, model, xs, y in (("tweet", models[0], tweets, y_tweet), ("qa", models[1], qa, y_qa)):
            _core.rnn_timers()
            print("kiln %s model, batch 32, train step by node:\n%s" % (name, profile(model, xs, y, 32)))
            steps = -(-len(y) // 32)
            phases = _core.rnn_timers()
            if any(phases.values()):
                print("  inside the recurrent kernels, ms per step (thread time, summed over threads): " +
                      ", ".join("%s %.2f" % (k, 1e3 * v / steps) for k, v in phases.items()))
            else:
                print("  (set KILN_RNN_TIMERS=1 for the split inside the recurrent kernels)")


if __name__ == "__main__":
    main()
