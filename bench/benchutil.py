"""Shared by the benchmark scripts."""
import time


def best_rate(fn, samples, repeats):
    """Best samples/s of `repeats` calls to fn() (each processes `samples` samples)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return samples / best
