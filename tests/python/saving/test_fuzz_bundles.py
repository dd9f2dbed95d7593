"""Fuzzing the bundle loader (docs/reliability.md): 10^4 bundles with one of their files mutated
(the manifest and IR files as text, token-aware; the weights blob as bytes) go to the native
loader, which must load each or reject it with a kiln error, within the harness's time and
allocation caps. The libFuzzer target fuzz/fuzz_bundle.cpp covers the same loader with coverage
guidance in CI's fuzz job. Longer run: KILN_FUZZ_BUNDLES=1000000 python -m pytest
tests/python/saving/test_fuzz_bundles.py"""
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fuzzing import check, mutate_bytes, mutate_text  # noqa: E402
from kiln import _core  # noqa: E402
from kiln.layers import LSTM, Dense, Dropout, Embedding, Input  # noqa: E402
from kiln.models import Model  # noqa: E402

N = int(os.environ.get("KILN_FUZZ_BUNDLES", "10000"))
TOKENS = ["kiln-bundle 1", "program ", "tensor %", " offset ", " bytes ", " runs ", "input ", "output ", "f32[",
          "?,", "?t,", "]", "%", "\n", " ", "0", "64", "-1", "99999999999", "18446744073709551616", "weights ",
          "../", "predict.kir", "train.kir", "weights.bin", "= dense(", "graph @", "param %", "state %", "{", "}", "\0"]


def bundles(tmp_path):
    np.random.seed(0)
    x = Input(shape=(6,))
    mlp = Model(x, Dense(3, activation="softmax")(Dropout(0.2)(Dense(5, activation="relu")(x))))
    mlp.compile("adam", "categorical_crossentropy")
    words = Input(shape=(None,))
    lstm = Model(words, Dense(1)(LSTM(3)(Embedding(10, 4, mask_zero=True)(words))))
    out = []
    for name, model in (("mlp", mlp), ("lstm", lstm)):
        model.export(tmp_path / name)
        out.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    return out



def test_mutated_bundles_load_or_fail_cleanly(tmp_path):
    seeds = bundles(tmp_path)
    for files in seeds:
        _core.load_bundle_files(files)  # the unmutated ones load
    rng = random.Random(1234)

    def cases():
        for _ in range(N):
            files = dict(rng.choice(seeds))
            name = rng.choice(sorted(files))
            if name.endswith(".bin"):
                files[name] = mutate_bytes(rng, files[name])
            else:
                text = files[name].decode("utf-8", "replace")
                files[name] = mutate_text(rng, text, TOKENS).encode("utf-8", "replace")
            if rng.random() < 0.05:
                del files[rng.choice(sorted(files))]
            yield files

    clean = (_core.ParseError, _core.ShapeError, _core.ValueError, _core.OutOfMemory)
    out = check(_core.load_bundle_files, cases(), clean, describe=lambda f: {k: v[:200] for k, v in f.items()})
    assert out.accepted + out.rejected == N
    print("bundles: %d loaded, %d rejected, slowest %.3f s, peak %d bytes" % (out.accepted, out.rejected, out.worst_s, out.peak_bytes))
    assert out.rejected > N // 2  # most mutations break something; the loader said so cleanly
