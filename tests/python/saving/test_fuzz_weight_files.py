"""Fuzzing load_weights (docs/reliability.md): weight files mutated through h5py (structure,
names, shapes, dtypes, declared sizes) and as raw bytes. Every one loads or raises ValueError /
IOError, within the harness's time and allocation caps, and a failed load changes no weight.

The raw-byte cases run in a subprocess: libhdf5 is C code kiln does not control, and a crash
there must not take the test run down with it; the test still fails if one crashes. Longer run:
KILN_FUZZ_H5=100000 python -m pytest tests/python/saving/test_fuzz_weight_files.py"""
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="load_weights needs h5py")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fuzzing import MAX_BYTES, cap_in_harness_header, check, mutate_bytes  # noqa: E402
from kiln.layers import Dense, Input  # noqa: E402
from kiln.models import Model  # noqa: E402

N = int(os.environ.get("KILN_FUZZ_H5", "1500"))


def model(seed=0):
    np.random.seed(seed)
    x = Input(shape=(6,), name="x")
    return Model(x, Dense(3, name="out")(Dense(5, activation="relu", name="hidden")(x)))


def test_the_python_cap_is_the_harness_cap():
    assert MAX_BYTES == cap_in_harness_header()


def _mutate_structure(rng, path):
    """One random structural edit of a valid weight file, in place."""
    with h5py.File(path, "r+") as f:
        layers = [n.decode() for n in f.attrs["layer_names"]]
        layer = f[rng.choice(layers)]
        wnames = [n.decode() for n in layer.attrs["weight_names"]]
        r = rng.randrange(12)
        if r == 0:
            del f.attrs["layer_names"]
        elif r == 1:
            f.attrs["layer_names"] = np.array([n.encode() for n in rng.sample(layers, len(layers))] +
                                              [b"ghost"] * rng.randint(0, 1), dtype="S")
        elif r == 2:
            f.attrs["layer_names"] = np.arange(rng.randint(0, 4))
        elif r == 3 and wnames:
            del layer[rng.choice(wnames)]
        elif r == 4 and wnames:
            w = rng.choice(wnames)
            del layer[w]
            shape = tuple(rng.choice([0, 1, 7, 10 ** rng.randint(1, 9)]) for _ in range(rng.randint(0, 3)))
            layer.create_dataset(w, shape=shape, dtype="f4", chunks=True if shape and all(shape) else None)
        elif r == 5 and wnames:
            w = rng.choice(wnames)
            del layer[w]
            layer.create_dataset(w, data=np.array([b"text"] * 3))
        elif r == 6 and wnames:
            w = rng.choice(wnames)
            del layer[w]
            layer.create_group(w)
        elif r == 7:
            layer.attrs["weight_names"] = np.array([b"nope"] + [w.encode() for w in wnames], dtype="S")
        elif r == 8:
            del layer.attrs["weight_names"]
        elif r == 9:
            name = layer.name
            del f[name]
            f.create_dataset(name, data=np.zeros(3))
        elif r == 10 and wnames:
            w = rng.choice(wnames)
            if layer[w].size >= 10 ** 6:  # this edit reads the data; a huge dataset (edit 4) stays as it is
                return
            data = layer[w][()]
            del layer[w]
            layer.create_dataset(w, data=data.astype(rng.choice(["f8", "i4", "u1", "f2"])))
        else:
            f.attrs["layer_names"] = np.array([layers[0].encode()] * 2, dtype="S")


def test_structurally_mutated_files_load_or_fail_cleanly(tmp_path):
    valid = tmp_path / "valid.h5"
    model(1).save_weights(str(valid))
    m = model(2)
    before = m.get_weights()
    rng = random.Random(2026)

    def cases():
        for i in range(N):
            p = tmp_path / "case.h5"
            p.write_bytes(valid.read_bytes())
            for _ in range(rng.randint(1, 3)):
                try:
                    _mutate_structure(rng, str(p))
                except Exception:  # noqa: BLE001 - an edit that no longer applies (its target is gone)
                    pass
            yield i, str(p)

    def load(case):
        m.set_weights(before)
        try:
            m.load_weights(case[1])
        except (ValueError, IOError):
            for u, v in zip(before, m.get_weights()):
                assert np.array_equal(u, v), "a failed load changed a weight"
            raise

    out = check(load, cases(), (ValueError, IOError), describe=lambda c: "mutation %d" % c[0])
    assert out.rejected > N // 2 and out.accepted > 0, (out.accepted, out.rejected)


def test_raw_byte_mutations_load_or_fail_cleanly(tmp_path):
    valid = tmp_path / "valid.h5"
    model(3).save_weights(str(valid))
    n = max(N // 5, 100)
    code = textwrap.dedent("""
        import random, sys, numpy as np
        sys.path.insert(0, %r)
        sys.path.insert(0, %r)
        from fuzzing import check, mutate_bytes
        from test_fuzz_weight_files import model
        data = open(%r, "rb").read()
        m = model(4)
        rng = random.Random(7)
        path = %r
        def cases():
            for i in range(%d):
                open(path, "wb").write(mutate_bytes(rng, data))
                yield i
        out = check(lambda i: m.load_weights(path), cases(), (ValueError, IOError), describe=lambda i: "case %%d" %% i)
        print("accepted", out.accepted, "rejected", out.rejected)
    """) % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(os.path.abspath(__file__)),
            str(valid), str(tmp_path / "raw.h5"), n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, "the loader crashed or failed on a raw mutation:\n" + out.stdout + out.stderr[-3000:]
    assert out.stdout.startswith("accepted"), out.stdout
