"""The guide's MNIST MLP exported as an IR bundle and timed natively (kiln-bench), against Python
`model.predict` / `predict_on_batch` and PyTorch eager under torch.inference_mode().

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/native.py [--threads T] [--repeats N] [--quick]

Model: 784 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax), trained one epoch on MNIST
so the numbers come from real weights; inputs are MNIST test images. Cases: inference at batch 1
and batch 1024. kiln-bench times one program run per step on a fixed batch (median of --steps);
the Python and PyTorch figures are the best of N repeats of a loop of calls on the same batch.
All run with the same thread count; ratios are to PyTorch. kiln-bench is taken from PATH (pip
installs it), else from build/*/kiln-bench, else --kiln-bench PATH. See bench/README.md.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchutil import arguments, preamble

HERE = os.path.dirname(os.path.abspath(__file__))


def find_kiln_bench(given):
    for path in [given, shutil.which("kiln-bench")] + sorted(glob.glob(os.path.join(HERE, "..", "build", "*", "kiln-bench"))):
        if path and os.path.exists(path):
            return os.path.abspath(path)
    sys.exit("kiln-bench not found: pip install the project, build it with CMake, or pass --kiln-bench PATH")


def per_call_rate(fn, batch, calls, repeats):
    """Best samples/s over `repeats` loops of `calls` calls of fn() on a batch of `batch` rows."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - t)
    return batch * calls / best


def main():
    args = arguments(__doc__, "not used by this script",
                     lambda ap: ap.add_argument("--kiln-bench", help="the kiln-bench executable to time"))
    repeats = 1 if args.quick else args.repeats
    preamble(args.threads)
    import kiln
    from kiln.datasets import mnist
    from kiln.layers import Dense, Input
    from kiln.models import Model

    kiln.set_num_threads(args.threads)
    (x, y), (xt, _) = mnist.load_data()
    x = x.reshape(len(x), 784).astype(np.float32) / 255.0
    xt = xt.reshape(len(xt), 784).astype(np.float32) / 255.0
    np.random.seed(0)
    inputs = Input(shape=(784,))
    h = Dense(64, activation="relu")(Dense(64, activation="relu")(inputs))
    model = Model(inputs, Dense(10, activation="softmax")(h))
    model.compile("rmsprop", "categorical_crossentropy")
    model.fit(x, np.eye(10, dtype=np.float32)[y], batch_size=128, nb_epoch=1, verbose=0)
    tool = find_kiln_bench(args.kiln_bench)
    work = tempfile.mkdtemp()
    model.export(os.path.join(work, "mlp"))

    rows = {}
    for batch in (1, 1024):
        xb = np.ascontiguousarray(xt[:batch])
        np.save(os.path.join(work, "x.npy"), xb)
        steps = 200 if args.quick else (5000 if batch == 1 else 300)
        out = subprocess.run([tool, os.path.join(work, "mlp"), "--batch", str(batch), "--threads", str(args.threads),
                              "--steps", str(steps), "--warmup", "20", "--input", os.path.join(work, "x.npy")],
                             capture_output=True, text=True, check=True).stdout
        rows[("kiln-bench", batch)] = float(re.search(r"samples_per_s=([0-9.e+]+)", out).group(1))
        calls = 500 if batch == 1 else 50
        rows[("model.predict", batch)] = per_call_rate(lambda: model.predict(xb, batch_size=batch), batch, calls, repeats)
        rows[("predict_on_batch", batch)] = per_call_rate(lambda: model.predict_on_batch(xb), batch, calls, repeats)
        if not args.no_torch:
            import torch
            torch.set_num_threads(args.threads)
            net = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                      torch.nn.Linear(64, 10), torch.nn.Softmax(dim=1))
            tb = torch.from_numpy(xb)
            with torch.inference_mode():
                rows[("pytorch eager", batch)] = per_call_rate(lambda: net(tb), batch, calls, repeats)
    shutil.rmtree(work)
    print("%-18s %14s %14s %10s %10s" % ("inference", "b1 samples/s", "b1024 samples/s", "b1 ratio", "b1024 ratio"))
    for who in ("kiln-bench", "predict_on_batch", "model.predict", "pytorch eager"):
        if (who, 1) not in rows:
            continue
        ratio = lambda b: rows[(who, b)] / rows[("pytorch eager", b)] if ("pytorch eager", b) in rows else float("nan")
        print("%-18s %14.0f %14.0f %9.2fx %9.2fx" % (who, rows[(who, 1)], rows[(who, 1024)], ratio(1), ratio(1024)))
    print("ratios are to PyTorch eager (inference_mode) in the same run; load average after: %s"
          % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
