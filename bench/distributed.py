"""kiln data-parallel (kiln.distributed over MPI) against one process: training samples/s.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/distributed.py [--repeats N] [--quick]

Workloads, both at the global batch 128: the guide's MLP on MNIST (784 -> 64 -> 64 -> 10,
rmsprop) and the tweet model of bench/rnn.py (two (140, 256) inputs, a shared LSTM(64), rmsprop).
Each runs as 1 rank x 1 thread, 2 ranks x 1 thread (mpiexec -n 2, shared memory) and 1 rank x
2 threads; best of N timed epochs after a warm-up epoch. Prints the ratios; per step, the
replica_mean node's time from the train program's profile (packing, the allreduce, and the wait
for the slower rank) and the allreduce alone on a buffer of the same size (ranks lined up by a
barrier first); and a model of where scaling stops on a 25 Gb/s network (see scaling_model). The issue's target: 2 ranks x 1 thread >= 1.7x 1 rank x 1 thread on the tweet
model. See bench/README.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchutil import load_average, preamble  # noqa: E402

BATCH = 128


def models():
    from rnn import kiln_models
    from kiln.layers import Dense, Input
    from kiln.models import Model
    np.random.seed(0)
    x = Input(shape=(784,))
    h = Dense(64, activation="relu")(Dense(64, activation="relu")(x))
    mlp = Model(input=x, output=Dense(10, activation="softmax")(h))
    mlp.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    tweet, _ = kiln_models("sigmoid")
    return {"mlp": mlp, "tweet": tweet}


def data(quick):
    from kiln.datasets import mnist
    from kiln.utils import np_utils
    (x, y), _ = mnist.load_data()
    n = 8192 if quick else 60000
    mlp = (x[:n].reshape(n, 784).astype("float32") / 255, np_utils.to_categorical(y[:n], 10).astype("float32"))
    rng = np.random.default_rng(0)
    m = 512 if quick else 2048
    tweets = [(rng.random((m, 140, 256)) < 0.05).astype(np.float32) for _ in range(2)]
    return {"mlp": mlp, "tweet": (tweets, rng.integers(0, 2, (m, 1)).astype(np.float32))}


def worker(args):
    """One rank (or the one process): times every workload, prints one JSON line on rank 0."""
    import kiln
    from kiln import distributed
    kiln.set_num_threads(args.threads)
    if args.distributed:
        distributed.init()
    out = {}
    ds = data(args.quick)
    for name, model in models().items():
        x, y = ds[name]
        fit = lambda: model.fit(x, y, batch_size=BATCH, nb_epoch=1, verbose=0)  # noqa: E731
        fit()
        best = float("inf")
        for _ in range(args.repeats):
            distributed.barrier()
            t0 = time.perf_counter()
            fit()
            distributed.barrier()
            best = min(best, time.perf_counter() - t0)
        program = model._program("train")
        program.set_profiling(True)
        fit()
        prof = program.profile()  # before set_profiling(False), which clears it
        program.set_profiling(False)
        step = sum(sec for _, _, sec, _ in prof) / max(prof[0][3], 1)
        reduce = [sec / max(calls, 1) for op, _, sec, calls in prof if op == "replica_mean"]
        params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        out[name] = {"samples_per_s": len(y) / best, "step_s": step, "node_s": max(reduce) if reduce else 0.0,
                     "params": params, "allreduce_s": allreduce_seconds(params) if distributed.active() else 0.0}
    if distributed.is_chief():
        print("RESULT " + json.dumps(out), flush=True)


def allreduce_seconds(params, repeats=200):
    """The allreduce alone: the gradients' float64 buffer (and its row count) summed over the
    ranks through the runtime's communicator, the ranks lined up by a barrier first; median."""
    from kiln import distributed
    buf = np.zeros(params + 1)
    times = []
    for _ in range(repeats):
        distributed.barrier()
        t0 = time.perf_counter()
        distributed._job.native.allreduce_sum(buf)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def launch(ranks, threads, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads),
           "--repeats", str(args.repeats)] + (["--quick"] if args.quick else [])
    if ranks > 1:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        cmd = [mpiexec if os.path.exists(mpiexec) else shutil.which("mpiexec"), "-n", str(ranks)] + cmd + \
            ["--distributed"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit("%s failed:\n%s" % (" ".join(cmd), p.stderr[-3000:]))
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def scaling_model(step_1, params, ranks, latency_s=30e-6, gbit=25.0):
    """Predicted samples/s speed-up of R ranks over one at a fixed global batch, for a ring
    allreduce of the float64 gradient buffer: each rank sends and receives 2 (R-1)/R of it,
    plus 2 (R-1) latencies. Assumes compute divides evenly (each rank's step is step_1 / R, a
    linear-scaling best case that small per-rank batches do not reach) and that the allreduce
    does not overlap the backward pass (kiln runs it as one fused node after it)."""
    bytes_ = 8.0 * (params + 1)
    comm = 2 * (ranks - 1) * latency_s + 2 * (ranks - 1) / ranks * bytes_ / (gbit * 1e9 / 8)
    return step_1 / (step_1 / ranks + comm), comm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    preamble(2)
    print("load before: %s" % load_average())
    runs = {"1 rank x 1 thread": launch(1, 1, args), "2 ranks x 1 thread": launch(2, 1, args),
            "1 rank x 2 threads": launch(1, 2, args)}
    for name in ("mlp", "tweet"):
        base = runs["1 rank x 1 thread"][name]
        print("\n%s, global batch %d (%d parameters):" % (name, BATCH, base["params"]))
        for label, r in runs.items():
            print("  %-20s %10.0f samples/s  %.2fx   step %.2f ms; replica_mean node %.0f us, allreduce alone %.0f us"
                  % (label, r[name]["samples_per_s"], r[name]["samples_per_s"] / base["samples_per_s"],
                     1e3 * r[name]["step_s"], 1e6 * r[name]["node_s"], 1e6 * r[name]["allreduce_s"]))
        two, threads = runs["2 ranks x 1 thread"][name], runs["1 rank x 2 threads"][name]
        print("  2 ranks x 1 thread / 1 rank x 2 threads: %.2fx" % (two["samples_per_s"] / threads["samples_per_s"]))
        print("  model, 25 Gb/s, 30 us latency, step on one rank %.2f ms:" % (1e3 * base["step_s"]))
        for ranks in (2, 4, 8, 16, 32, 64):
            speedup, comm = scaling_model(base["step_s"], base["params"], ranks)
            print("    %2d ranks: %5.1fx (allreduce %.0f us, compute %.0f us a step)" % (
                ranks, speedup, 1e6 * comm, 1e6 * base["step_s"] / ranks))
    print("\ntarget: tweet 2 ranks x 1 thread >= 1.7x 1 rank x 1 thread: %.2fx"
          % (runs["2 ranks x 1 thread"]["tweet"]["samples_per_s"] / runs["1 rank x 1 thread"]["tweet"]["samples_per_s"]))


if __name__ == "__main__":
    main()
