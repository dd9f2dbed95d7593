"""kiln vs PyTorch (CPU, eager) on the guide's MNIST MLP: training and inference throughput.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/mlp.py [--threads T] [--repeats N] [--quick]

Model: 784 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax), rmsprop, categorical
cross-entropy, accuracy metric. Cases: one training epoch (60,000 samples) at batch 32 and 256, after
a warm-up epoch; predict at batch 1 (2,000 samples) and batch 1024 (the 10,000 test samples).
Each number is the best of N repeats, in samples per second. Both libraries run in the same process
with the same thread count, kiln first. See bench/README.md.
"""
import argparse
import os
import sys
import time

import numpy as np

from benchutil import best_rate

TARGETS = {"train b32": 5.0, "train b256": 2.0}
TARGET_LINE = "target: batch 32 train >= 5x, batch 256 train >= 2x"
# A PyTorch training epoch whose warm-up takes longer than this is measured on a slice instead.
TORCH_SLOW_EPOCH_S = 20.0
TORCH_SLICE = 10_000


# ----------------------------------------------------------------------------- data

def load_mnist():
    """(x_train, y_train), (x_test, y_test) and where they came from."""
    from kiln.datasets import mnist
    return mnist.load_data() + ("kiln.datasets.mnist.load_data()",)


# ----------------------------------------------------------------------------- kiln

def bench_kiln(data, cases, threads, repeats):
    import kiln
    from kiln.layers import Dense, Input
    from kiln.models import Model

    kiln.set_num_threads(threads)
    x, y1h, xt, yt = data["x"], data["y1h"], data["xt"], data["yt"]
    np.random.seed(0)
    inputs = Input(shape=(784,))
    h = Dense(64, activation="relu")(inputs)
    h = Dense(64, activation="relu")(h)
    out = Dense(10, activation="softmax")(h)
    model = Model(input=inputs, output=out)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    res, notes = {}, {}
    for b in cases["train_batches"]:
        model.fit(x, y1h, batch_size=b, nb_epoch=1, verbose=0)  # warm-up: compiles, plans this batch size
        res["train b%d" % b] = best_rate(lambda: model.fit(x, y1h, batch_size=b, nb_epoch=1, verbose=0),
                                         len(x), repeats)
        loss, acc = model.history.history["loss"][-1], model.history.history["acc"][-1]
        notes["train b%d" % b] = "all %d samples; last loss %.4f acc %.4f" % (len(x), loss, acc)
    n1 = cases["predict_b1"]
    x1 = xt[:n1]
    for b, xs in ((1, x1), (1024, xt)):
        model.predict(xs, batch_size=b)  # warm-up
        res["predict b%d" % b] = best_rate(lambda: model.predict(xs, batch_size=b), len(xs), repeats)
    test_acc = float((model.predict(xt, batch_size=1024).argmax(1) == yt).mean())
    return res, notes, test_acc


# ----------------------------------------------------------------------------- PyTorch

def import_torch():
    """(torch module, None) or (None, why not)."""
    try:
        import torch
        return torch, None
    except Exception as e:  # ImportError, or a broken install (missing shared libraries, ...)
        return None, "%s: %s" % (type(e).__name__, e)


def bench_torch(torch, data, cases, threads, repeats):
    nn, F = torch.nn, torch.nn.functional
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.from_numpy(data["x"])
    y = torch.from_numpy(data["y"].astype(np.int64))
    xt = torch.from_numpy(data["xt"])
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    for m in model:  # Keras' initialization (glorot_uniform, zero bias); only for a like-for-like check
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    # Keras 1 RMSprop: lr=0.001, rho=0.9 (torch's alpha, whose default is 0.99), epsilon=1e-8, update
    # p -= lr * g / (sqrt(acc) + eps). torch's RMSprop (centered=False, momentum=0) adds eps outside
    # the sqrt too, as Keras 1.2 and kiln do; tf.keras (TF's ApplyRMSProp) puts it inside.
    opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-8)

    def epoch(xs, ys, b):
        """One shuffled pass; loss and accuracy accumulated per batch, as Keras' fit does."""
        n = xs.shape[0]
        perm = torch.randperm(n)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        for s in range(0, n, b):
            idx = perm[s:s + b]
            xb, yb = xs[idx], ys[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)  # softmax folded into the loss
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * xb.shape[0]
                correct += (logits.argmax(1) == yb).sum()
        return float(loss_sum) / n, float(correct) / n

    res, notes = {}, {}
    for b in cases["train_batches"]:
        t = time.perf_counter()
        epoch(x, y, b)  # warm-up, full epoch
        warm = time.perf_counter() - t
        xs, ys, what = x, y, "all %d samples" % len(x)
        if warm > TORCH_SLOW_EPOCH_S and len(x) > TORCH_SLICE:
            xs, ys, what = x[:TORCH_SLICE], y[:TORCH_SLICE], "%d-sample slice (warm-up epoch took %.0f s)" % (
                TORCH_SLICE, warm)
        stats = []
        res["train b%d" % b] = best_rate(lambda: stats.append(epoch(xs, ys, b)), len(xs), repeats)
        notes["train b%d" % b] = "%s; last loss %.4f acc %.4f" % (what, *stats[-1])

    def predict(xs, b):
        with torch.inference_mode():
            outs = [torch.softmax(model(xs[s:s + b]), 1) for s in range(0, xs.shape[0], b)]
        return torch.cat(outs)

    x1 = xt[:cases["predict_b1"]]
    for b, xs in ((1, x1), (1024, xt)):
        predict(xs, b)  # warm-up
        res["predict b%d" % b] = best_rate(lambda: predict(xs, b), xs.shape[0], repeats)
    test_acc = float((predict(xt, 1024).argmax(1).numpy() == data["yt"]).mean())
    return res, notes, test_acc


# ----------------------------------------------------------------------------- reporting

def blas_report(torch):
    """Lines on the BLAS/OpenMP libraries loaded in this process, from threadpoolctl."""
    lines = []
    try:
        from threadpoolctl import threadpool_info
    except ImportError as e:
        return ["threadpoolctl not installed (%s): BLAS kernels unknown" % e]
    info = threadpool_info()
    n_omp = sum(p.get("internal_api") == "openmp" for p in info)
    for p in info:
        path = p.get("filepath", "")
        owner = ("kiln" if "scipy_openblas32" in path else "numpy" if "numpy" in path
                 else "torch" if "torch" in path else "?")
        if p.get("internal_api") == "openmp" and owner == "?":
            owner = "kiln" + ("; torch shares it (same soname), one OpenMP runtime" if torch and n_omp == 1 else "")
        if p.get("internal_api") == "openblas":
            lines.append("openblas (%s) %s: architecture=%s num_threads=%s  [%s]"
                         % (owner, p.get("version"), p.get("architecture"), p.get("num_threads"), path))
        else:
            lines.append("%s (%s): num_threads=%s  [%s]" % (p.get("internal_api"), owner, p.get("num_threads"), path))
    if torch is not None:
        cfg = torch.__config__.show()
        blas = [l.strip() for l in cfg.splitlines() if "BLAS_INFO" in l]
        blas = blas[0].split("BLAS_INFO=")[1].split(",")[0] if blas else "?"
        names = {p.get("internal_api") for p in info}
        lines.append("torch: BLAS_INFO=%s, mkldnn=%s, cpu capability %s, intra-op threads %d%s"
                     % (blas, torch.backends.mkldnn.is_available(), torch.backends.cpu.get_cpu_capability(),
                        torch.get_num_threads(),
                        "; MKL is linked statically into libtorch_cpu, so threadpoolctl does not list it"
                        if blas == "mkl" and "mkl" not in names else ""))
    return lines


def fmt_rate(v):
    return "n/a" if v is None else "{:,.0f}".format(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both libraries (default: all cores)")
    ap.add_argument("--repeats", type=int, default=None, help="best of N timed runs per case (default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 10,000 training samples, 500 batch-1 predictions")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    args = ap.parse_args()
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    t_start = time.perf_counter()
    load_before = os.getloadavg()

    import kiln
    torch, torch_why = (None, "skipped (--no-torch)") if args.no_torch else import_torch()

    (x_train, y_train), (x_test, y_test), source = load_mnist()
    x = x_train.reshape(len(x_train), 784).astype(np.float32) / 255.0
    xt = x_test.reshape(len(x_test), 784).astype(np.float32) / 255.0
    n_train = 10_000 if args.quick else len(x)
    x, y = np.ascontiguousarray(x[:n_train]), y_train[:n_train].astype(np.int64)
    y1h = np.eye(10, dtype=np.float32)[y]
    data = {"x": x, "y": y, "y1h": y1h, "xt": xt, "yt": y_test.astype(np.int64)}
    cases = {"train_batches": (32, 256), "predict_b1": 500 if args.quick else 2000}

    print("kiln MLP benchmark%s" % (" (--quick)" if args.quick else ""))
    print("python %s, numpy %s, kiln %s, torch %s" % (sys.version.split()[0], np.__version__, kiln.__version__,
                                                  torch.__version__ if torch else "-"))
    print("kiln.build_info(): %s" % kiln.build_info())
    print("threads: %d (kiln.set_num_threads, torch.set_num_threads); cores: %d; repeats: best of %d"
          % (args.threads, os.cpu_count(), repeats))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if var in os.environ:
            print("env %s=%s%s" % (var, os.environ[var], "  <- forces a slower OpenBLAS kernel; run with "
                                   "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
                                   if var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") else ""))
    print("data: %s; train %d samples, predict b1 %d, predict b1024 %d" % (source, n_train, cases["predict_b1"],
                                                                           len(xt)))
    print("load average before: %.2f %.2f %.2f" % load_before)
    sys.stdout.flush()

    t = time.perf_counter()
    k_res, k_notes, k_acc = bench_kiln(data, cases, args.threads, repeats)
    k_time = time.perf_counter() - t
    if torch is not None:
        t = time.perf_counter()
        t_res, t_notes, t_acc = bench_torch(torch, data, cases, args.threads, repeats)
        t_time = time.perf_counter() - t
    else:
        t_res, t_notes, t_acc, t_time = {}, {}, None, 0.0
        print("PyTorch is not installed or does not import: %s -> torch columns are n/a" % torch_why)

    print()
    print("%-14s %14s %14s %12s" % ("case", "kiln samples/s", "torch samples/s", "kiln/torch"))
    for case in ("train b32", "train b256", "predict b1", "predict b1024"):
        kv, tv = k_res.get(case), t_res.get(case)
        ratio = "%.2fx" % (kv / tv) if kv and tv else "n/a"
        mark = ""
        if case in TARGETS and kv and tv:
            mark = "  (target %.0fx: %s)" % (TARGETS[case], "met" if kv / tv >= TARGETS[case] else "NOT met")
        print("%-14s %14s %14s %12s%s" % (case, fmt_rate(kv), fmt_rate(tv), ratio, mark))
    print(TARGET_LINE)
    print()
    for case in ("train b32", "train b256"):
        print("%-11s kiln: %s | torch: %s" % (case, k_notes.get(case, "-"), t_notes.get(case, "-")))
    print("test accuracy after training: kiln %.4f, torch %s" % (k_acc, "%.4f" % t_acc if t_acc is not None else "n/a"))
    print("time: kiln %.1f s, torch %s" % (k_time, "%.1f s" % t_time if torch is not None else "-"))
    print()
    print("BLAS / OpenMP in this process (threadpoolctl, after the runs):")
    for line in blas_report(torch):
        print("  " + line)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    print("total wall time: %.1f s" % (time.perf_counter() - t_start))


if __name__ == "__main__":
    main()
