"""The Python side of kiln's fuzzing harness (the C++ side is fuzz/harness.h; see
docs/reliability.md). A reader of untrusted input passes when every mutated input either loads
or raises one of the reader's clean error types, within a time limit and without allocating
more than MAX_BYTES (the one cap of every fuzz target, checked against fuzz/harness.h)."""
import pathlib
import re
import time
import tracemalloc

MAX_BYTES = 256 << 20
TIME_LIMIT_S = 1.0


def cap_in_harness_header():
    """kiln::fuzz::kMaxBytes as fuzz/harness.h states it, in bytes."""
    text = (pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "harness.h").read_text()
    m = re.search(r"kMaxBytes = size_t\((\d+)\) << (\d+);", text)
    return int(m.group(1)) << int(m.group(2))


def mutate(rng, seq, pieces):
    """1 to 6 random edits of a list: delete an item, insert a piece (pieces(rng) gives one, a
    list), overwrite an item with a piece's first, or cut a run. Returns the new list."""
    s = list(seq)
    for _ in range(rng.randint(1, 6)):
        r, pos = rng.random(), rng.randrange(len(s) + 1)
        if r < 0.3 and s:
            del s[min(pos, len(s) - 1)]
        elif r < 0.6:
            s[pos:pos] = pieces(rng)
        elif r < 0.8 and s:
            s[min(pos, len(s) - 1)] = pieces(rng)[0]
        elif s:
            j = rng.randrange(len(s))
            del s[j:j + rng.randint(1, 64)]
    return s


def mutate_bytes(rng, data, tokens=()):
    """Byte edits; inserted pieces are random bytes or, half the time, one of `tokens`."""
    def piece(rng):
        return list(rng.choice(tokens)) if tokens and rng.random() < 0.5 else [rng.randrange(256)]
    return bytes(mutate(rng, data, piece))


def mutate_text(rng, text, tokens):
    """Character edits; inserted pieces are tokens (keywords, punctuation, odd numbers)."""
    return "".join(mutate(rng, text, lambda rng: list(rng.choice(tokens))))


class Outcome:
    def __init__(self):
        self.accepted = self.rejected = 0
        self.worst_s = 0.0
        self.peak_bytes = 0


def check(read, inputs, clean, describe=repr):
    """Runs read(x) for each input. Returns an Outcome; raises AssertionError naming the input
    for any exception outside `clean`, a read slower than TIME_LIMIT_S, or a Python-side peak
    allocation above MAX_BYTES (tracemalloc sees NumPy's buffers too)."""
    out = Outcome()
    tracemalloc.start()
    try:
        for x in inputs:
            tracemalloc.reset_peak()
            t0 = time.perf_counter()
            try:
                read(x)
                out.accepted += 1
            except clean:
                out.rejected += 1
            except Exception as e:  # noqa: BLE001 - reported with the input that caused it
                raise AssertionError("%s on %s: %s" % (type(e).__name__, describe(x), e)) from e
            dt = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1]
            assert dt < TIME_LIMIT_S, "%.2f s on %s" % (dt, describe(x))
            assert peak < MAX_BYTES, "%d bytes allocated on %s" % (peak, describe(x))
            out.worst_s, out.peak_bytes = max(out.worst_s, dt), max(out.peak_bytes, peak)
    finally:
        tracemalloc.stop()
    return out
