"""kiln vs PyTorch (CPU, eager) on the convolution workloads of the CPU-speed issue.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/conv.py [--threads T] [--repeats N] [--quick] [--profile]

Workloads:
- convnet: MNIST (28, 28, 1) channels-last: Conv 32 3x3 relu, Conv 64 3x3 relu, MaxPool 2,
  Flatten, Dense 128 relu, Dense 10 softmax; categorical cross-entropy, rmsprop. Training and
  predict at batch 128, on the real MNIST digits (kiln.datasets.mnist).
- inception: the guide's inception module on (3, 64, 64) channels-first, 64 filters per tower
  (1x1 -> 3x3, 1x1 -> 5x5, 3x3 max-pool -> 1x1, concatenated on the channels); trained with mean
  squared error against a fixed random target, and predict, at batch 16.
Predict returns every output in both libraries (kiln's model.predict as Keras', PyTorch's batch
outputs concatenated by torch.cat). Each figure is the best of N timed passes after a warm-up pass, in samples per second; both
libraries run in one process with the same thread count, kiln first. Ratios are kiln / PyTorch.
--profile prints kiln's per-node times of one training and one predict pass of each model, with
GFLOP/s for every convolution node and the share of time outside them, and the sgemm peak
(a 2048^3 matmul through kiln) measured in the same run. --scaling times kiln's nodes on 1 and on
2 threads (one profiled pass each). See bench/README.md.
"""
import os
import re
import time

import numpy as np

from benchutil import arguments, best_rate, load_average, preamble

TARGETS = {"convnet train b128": 1.7, "convnet predict b128": 3.0, "inception train b16": 1.3,
           "inception predict b16": 1.5}
CONV_OPS = ("conv2d", "conv2d_grad_input", "conv2d_grad_filter")


def data(n_mnist, n_img, seed=0):
    from kiln.datasets import mnist
    (x, y), _ = mnist.load_data()
    x = (x[:n_mnist].reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[y[:n_mnist]]
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((n_img, 3, 64, 64)).astype(np.float32)
    target = rng.standard_normal((n_img, 192, 64, 64)).astype(np.float32) * 0.1
    return x, y, img, target


# ----------------------------------------------------------------------------- kiln

def kiln_models():
    from kiln.layers import Convolution2D, Dense, Flatten, Input, MaxPooling2D, merge
    from kiln.models import Model
    np.random.seed(0)
    digits = Input(shape=(28, 28, 1))
    h = Convolution2D(32, 3, 3, activation="relu", dim_ordering="tf")(digits)
    h = Convolution2D(64, 3, 3, activation="relu", dim_ordering="tf")(h)
    h = MaxPooling2D((2, 2), dim_ordering="tf")(h)
    h = Dense(128, activation="relu")(Flatten()(h))
    convnet = Model(digits, Dense(10, activation="softmax")(h))
    convnet.compile(optimizer="rmsprop", loss="categorical_crossentropy")

    img = Input(shape=(3, 64, 64))
    conv = lambda n, k: Convolution2D(64, k, k, border_mode="same", activation="relu", dim_ordering="th")
    t1 = conv(64, 3)(conv(64, 1)(img))
    t2 = conv(64, 5)(conv(64, 1)(img))
    t3 = conv(64, 1)(MaxPooling2D((3, 3), strides=(1, 1), border_mode="same", dim_ordering="th")(img))
    inception = Model(img, merge([t1, t2, t3], mode="concat", concat_axis=1))
    inception.compile(optimizer="rmsprop", loss="mse")
    return convnet, inception


def bench_kiln(d, threads, repeats):
    import kiln
    kiln.set_num_threads(threads)
    x, y, img, target = d
    convnet, inception = kiln_models()
    res = {}
    cases = [("convnet", convnet, x, y, 128), ("inception", inception, img, target, 16)]
    for name, model, xs, ys, b in cases:
        model.fit(xs, ys, batch_size=b, nb_epoch=1, verbose=0)
        res["%s train b%d" % (name, b)] = best_rate(lambda: model.fit(xs, ys, batch_size=b, nb_epoch=1, verbose=0),
                                                    len(xs), repeats)
        model.predict(xs, batch_size=b)
        res["%s predict b%d" % (name, b)] = best_rate(lambda: model.predict(xs, batch_size=b), len(xs), repeats)
    return res, cases


def conv_flops(model):
    """{layer name: multiply-adds x 2 per sample} of each convolution layer (forward; each of
    the two gradients costs the same)."""
    out = {}
    for layer in model.layers:
        if type(layer).__name__ in ("Convolution2D", "Conv2D"):
            W = layer.get_weights()[0]
            spatial = np.prod([d for d in layer.output_shape[1:]]) // layer.nb_filter
            out[layer.name] = 2.0 * spatial * layer.nb_filter * (W.size // layer.nb_filter)
    return out


def conv_weights(text):
    """{result: the kernel operand's name} of each convolution node of a program's IR: a fused
    node is named after the value it replaced (a data gradient taken through the layer below's
    relu carries that layer's name), so the layer is read from the kernel it uses."""
    out = {}
    for m in re.finditer(r"%(\S+) = (conv2d\w*)\(([^)]*)\)", text):
        args = [a.strip().lstrip("%") for a in m.group(3).split(",")]
        out[m.group(1)] = args[2] if m.group(2) == "conv2d_grad_filter" else args[1]
    return out


def profile(model, xs, ys, batch, kind):
    """Per-node times of one pass ('train': an epoch of fit; 'predict'), biggest first, with
    GFLOP/s for convolution nodes."""
    p = model._program(kind)
    p.set_profiling(True)
    if kind == "train":
        model.fit(xs, ys, batch_size=batch, nb_epoch=1, verbose=0)
    else:
        model.predict(xs, batch_size=batch)
    rows = sorted(p.profile(), key=lambda r: -r[2])
    p.set_profiling(False)
    flops = conv_flops(model)
    weight_of = conv_weights(p.text())
    total = sum(r[2] for r in rows)
    steps = max((r[3] for r in rows), default=1)
    conv_s = 0.0
    lines = []
    for op, result, sec, calls in rows:
        rate = ""
        if op in CONV_OPS:
            conv_s += sec
            layer = next((n for n in flops if weight_of.get(result, "").startswith(n + "_")), None)
            if layer:
                rate = "%7.1f GFLOP/s" % (flops[layer] * len(xs) / sec / 1e9)
        if len(lines) < 12:
            lines.append("  %7.2f ms %5.1f%%  %-20s %-28s %s" % (1e3 * sec / max(calls, 1), 100 * sec / total, op,
                                                               "%" + result, rate))
    head = "  %.2f ms per step over %d steps; %.0f%% of the time outside conv nodes" % (
        1e3 * total / steps, steps, 100 * (1 - conv_s / total) if total else 0)
    return "\n".join([head] + lines)


def node_seconds(model, xs, ys, batch, kind):
    """Per-node seconds per call of one profiled pass (after an unprofiled one)."""
    run = (lambda: model.fit(xs, ys, batch_size=batch, nb_epoch=1, verbose=0)) if kind == "train" else \
        (lambda: model.predict(xs, batch_size=batch))
    run()
    p = model._program(kind)
    p.set_profiling(True)
    run()
    rows = p.profile()
    p.set_profiling(False)
    return {(op, result): sec / max(calls, 1) for op, result, sec, calls in rows}


def scaling(cases):
    """Each workload's step and its large nodes (3%+ of the step) on 1 thread and on 2."""
    import kiln
    times = {}
    for threads in (1, 2):
        kiln.set_num_threads(threads)
        for name, model, xs, ys, b in cases:
            for kind in ("train", "predict"):
                times[name, kind, threads] = node_seconds(model, xs, ys, b, kind)
    lines = []
    for name, _, _, _, _ in cases:
        for kind in ("train", "predict"):
            one, two = times[name, kind, 1], times[name, kind, 2]
            t1, t2 = sum(one.values()), sum(two.values())
            lines.append("%s %s: step %.1f ms on 1 thread, %.1f on 2 (%.2fx)" % (name, kind, 1e3 * t1, 1e3 * t2, t1 / t2))
            for key in sorted(one, key=lambda k: -one[k]):
                if one[key] >= 0.03 * t1 and key in two:
                    lines.append("   %-20s %-28s %7.2f -> %6.2f ms  %.2fx" % (key[0], "%" + key[1], 1e3 * one[key],
                                                                          1e3 * two[key], one[key] / two[key]))
    return "\n".join(lines)


def peak_gflops(threads, n=2048):
    """sgemm GFLOP/s through kiln (the BLAS it links), best of 5."""
    import kiln
    from kiln import backend as K
    kiln.set_num_threads(threads)
    a = K.placeholder(shape=(None, n))
    f = K.function([a], [K.dot(a, K.variable(np.ones((n, n), np.float32)))])
    xs = np.ones((n, n), np.float32)
    f([xs])
    best = min(_timed(lambda: f([xs])) for _ in range(5))
    return 2.0 * n ** 3 / best / 1e9


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- PyTorch

def bench_torch(d, threads, repeats):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, img, target = d

    convnet = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Linear(128, 10))

    class Inception(nn.Module):
        def __init__(self):
            super().__init__()
            c = lambda i, k: nn.Sequential(nn.Conv2d(i, 64, k, padding=k // 2), nn.ReLU())
            self.t1 = nn.Sequential(c(3, 1), c(64, 3))
            self.t2 = nn.Sequential(c(3, 1), c(64, 5))
            self.t3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), c(3, 1))

        def forward(self, v):
            return torch.cat([self.t1(v), self.t2(v), self.t3(v)], dim=1)

    inception = Inception()
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    ty = torch.from_numpy(y.argmax(1).astype(np.int64))
    timg, ttarget = torch.from_numpy(img), torch.from_numpy(target)
    ce, mse = nn.CrossEntropyLoss(), nn.MSELoss()

    def train(model, opt, loss_fn, xs, ys, b):
        perm = torch.randperm(len(xs))
        for s in range(0, len(xs), b):
            idx = perm[s:s + b]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    def predict(model, xs, b):
        # all outputs, concatenated: what Keras' predict (and kiln's) returns
        with torch.inference_mode():
            return torch.cat([model(xs[s:s + b]) for s in range(0, len(xs), b)])

    res = {}
    for name, model, loss_fn, xs, ys, b in (("convnet", convnet, ce, tx, ty, 128),
                                            ("inception", inception, mse, timg, ttarget, 16)):
        opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-8)
        train(model, opt, loss_fn, xs, ys, b)
        res["%s train b%d" % (name, b)] = best_rate(lambda: train(model, opt, loss_fn, xs, ys, b), len(xs), repeats)
        predict(model, xs, b)
        res["%s predict b%d" % (name, b)] = best_rate(lambda: predict(model, xs, b), len(xs), repeats)
    return res


def main():
    args = arguments(__doc__, "print kiln's per-node profiles and the sgemm peak",
                     lambda ap: ap.add_argument("--scaling", action="store_true",
                                                help="also time every node on 1 and on 2 threads"))
    repeats = 1 if args.quick else args.repeats
    n_mnist, n_img = (1024, 32) if args.quick else (4096, 128)
    preamble(args.threads)
    d = data(n_mnist, n_img)
    k, cases = bench_kiln(d, args.threads, repeats)
    t = {} if args.no_torch else bench_torch(d, args.threads, repeats)
    print("%-24s %12s %12s %8s %8s" % ("case (samples/s)", "kiln", "PyTorch", "ratio", "target"))
    for case, target in TARGETS.items():
        ratio = k[case] / t[case] if case in t else float("nan")
        print("%-24s %12s %12s %8.2f %7.1fx" % (case, "{:,.1f}".format(k[case]),
                                                "{:,.1f}".format(t[case]) if case in t else "n/a", ratio, target))
    print("load average after: %s" % load_average())
    if args.profile:
        print("sgemm peak through kiln (2048^3): %.0f GFLOP/s" % peak_gflops(args.threads))
        for name, model, xs, ys, b in cases:
            for kind in ("train", "predict"):
                print("kiln %s %s, batch %d, by node:\n%s" % (name, kind, b, profile(model, xs, ys, b, kind)))
    if args.scaling:
        print(scaling(cases))


if __name__ == "__main__":
    main()
