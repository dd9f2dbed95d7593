"""Shared by the benchmark scripts."""
import argparse
import os
import time


def arguments(doc, profile_help, more=None):
    """The options every comparison script takes: --threads, --repeats, --quick, --no-torch, --profile;
    more(parser) adds a script's own."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    if more:
        more(ap)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer samples, one repeat")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--profile", action="store_true", help=profile_help)
    return ap.parse_args()


def load_average():
    return " ".join("%.2f" % v for v in os.getloadavg())


def preamble(threads):
    """Warns about the OpenBLAS variables the benchmark command should unset, and prints the
    thread count and the load average before the run (a busy machine gives low figures)."""
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            print("note: %s=%s is set (unset it in the benchmark command)" % (var, os.environ[var]))
    print("threads %d, load average before: %s" % (threads, load_average()))


def best_rate(fn, samples, repeats):
    """Best samples/s of `repeats` calls to fn() (each processes `samples` samples)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return samples / best
