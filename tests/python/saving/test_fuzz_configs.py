"""Fuzzing the config and model-file loaders (docs/reliability.md): 10^4 mutated JSON configs to
model_from_json, and model files (model.save's HDF5) mutated through h5py to load_model (2,000
here, 10^4 in CI's fuzz job).
Mutations edit the parsed structure (a key deleted, a value replaced by one of another kind or an
odd size, a list item dropped) as well as the text. Every case loads or raises a clean error
(ValueError, IOError, NotImplementedError for a Keras feature kiln lacks, RuntimeError for a
disconnected graph), within the harness's time and allocation caps.
Longer runs: KILN_FUZZ_CONFIGS=1000000 KILN_FUZZ_MODEL_FILES=100000 python -m pytest
tests/python/saving/test_fuzz_configs.py"""
import json
import os
import random
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fuzzing import check, mutate_text  # noqa: E402
from kiln.layers import LSTM, BatchNormalization, Dense, Dropout, Embedding, Input, merge  # noqa: E402
from kiln.models import Model, load_model, model_from_json  # noqa: E402

N_CONFIGS = int(os.environ.get("KILN_FUZZ_CONFIGS", "10000"))
# 2,000 model files in the default suite (about 20 s); CI's fuzz job (tools/fuzz.sh) runs 10^4.
N_FILES = int(os.environ.get("KILN_FUZZ_MODEL_FILES", "2000"))
CLEAN = (ValueError, IOError, NotImplementedError, RuntimeError)
VALUES = [None, -1, 0, 1, 3, 10 ** 12, 2.5, float("nan"), "x", "relu", "Dense", "", [], {}, [0, 0, 0], [[["a", 0, 0]]],
          {"class_name": "Dense", "config": {}}, True, "-1", [None, 5]]
TOKENS = ['"', "{", "}", "[", "]", ",", ":", "null", "-1", "1e308", '"class_name"', '"config"', '"inbound_nodes"',
          '"name"', '"Dense"', '"Model"', "\\u0000", "0"]


def models():
    np.random.seed(0)
    a, b = Input(shape=(5,), name="a"), Input(shape=(5,), name="b")
    shared = Dense(4, activation="relu", name="shared")
    m = merge([shared(a), shared(b)], mode="concat", name="m")
    two = Model([a, b], Dense(2, name="out")(BatchNormalization(name="bn")(Dropout(0.2, name="drop")(m))))
    words = Input(shape=(6,), name="words")
    rnn = Model(words, Dense(1, name="score")(LSTM(3, name="lstm")(Embedding(12, 4, mask_zero=True, name="emb")(words))))
    inner = Model(a, shared(a), name="inner")
    nested = Model([a, b], merge([inner(a), inner(b)], mode="sum", name="s"))
    return [two, rnn, nested]


def _paths(tree, at=()):
    yield at
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, at + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, at + (i,))


def mutate_tree(rng, tree):
    """1 to 3 structural edits of a JSON tree (a copy)."""
    t = json.loads(json.dumps(tree))
    for _ in range(rng.randint(1, 3)):
        spots = list(_paths(t))[1:]
        if not spots:
            break
        at = rng.choice(spots)
        parent = t
        for k in at[:-1]:
            parent = parent[k]
        r = rng.random()
        if r < 0.3:
            del parent[at[-1]]
        elif r < 0.4 and isinstance(parent, list):
            parent.insert(at[-1], json.loads(json.dumps(parent[at[-1]])))  # a duplicated item
        else:
            parent[at[-1]] = json.loads(json.dumps(rng.choice(VALUES)))
    return t


def mutated_texts(rng, trees, n):
    for i in range(n):
        tree = rng.choice(trees)
        if rng.random() < 0.8:
            yield i, json.dumps(mutate_tree(rng, tree))
        else:
            yield i, mutate_text(rng, json.dumps(tree), TOKENS)


def test_mutated_configs_load_or_fail_cleanly():
    trees = [json.loads(m.to_json()) for m in models()]
    for t in trees:
        model_from_json(json.dumps(t))  # the unmutated ones load
    out = check(lambda case: model_from_json(case[1]), mutated_texts(random.Random(99), trees, N_CONFIGS), CLEAN,
                describe=lambda case: "config %d: %s" % (case[0], case[1][:400]))
    assert out.accepted + out.rejected == N_CONFIGS
    assert out.rejected > N_CONFIGS // 2 and out.accepted > 0, (out.accepted, out.rejected)
    print("configs: %d loaded, %d rejected, slowest %.3f s" % (out.accepted, out.rejected, out.worst_s))


def test_mutated_model_files_load_or_fail_cleanly(tmp_path):
    h5py = pytest.importorskip("h5py", reason="model files need h5py")
    seeds = []
    for k, m in enumerate(models()):
        m.compile("adam", "mse")
        path = tmp_path / ("seed%d.h5" % k)
        m.save(str(path))
        seeds.append(path.read_bytes())
    rng = random.Random(2027)
    case_path = tmp_path / "case.h5"

    def edit(f):
        r = rng.random()
        attrs = [k for k in ("model_config", "training_config", "kiln_state") if k in f.attrs]
        if r < 0.5 and attrs:
            key = rng.choice(attrs)
            raw = f.attrs[key]
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            tree = json.loads(text)
            f.attrs[key] = (json.dumps(mutate_tree(rng, tree)) if rng.random() < 0.8
                            else mutate_text(rng, text, TOKENS)).encode("utf-8", "replace")
            return
        groups = []
        f.visit(lambda name: groups.append(name))
        name = rng.choice(groups)
        obj = f[name]
        if isinstance(obj, h5py.Dataset):
            shape = tuple(rng.choice([0, 1, 2, 5, 7]) for _ in range(rng.randint(0, 3)))
            del f[name]
            f.create_dataset(name, data=np.zeros(shape, rng.choice(["f4", "f8", "i4"])))
        elif rng.random() < 0.5:
            del f[name]
        elif obj.attrs.keys():
            key = rng.choice(list(obj.attrs.keys()))
            obj.attrs[key] = np.array([b"ghost", b"x"])[: rng.randint(0, 2)]

    def cases():
        for i in range(N_FILES):
            case_path.write_bytes(rng.choice(seeds))
            with h5py.File(case_path, "r+") as f:
                for _ in range(rng.randint(1, 2)):
                    try:
                        edit(f)
                    except (KeyError, ValueError, TypeError, OSError, IndexError):  # an edit that no longer applies
                        pass
            yield i

    out = check(lambda i: load_model(str(case_path)), cases(), CLEAN, describe=lambda i: "model file case %d" % i)
    assert out.accepted + out.rejected == N_FILES
    assert out.rejected > N_FILES // 4 and out.accepted > 0, (out.accepted, out.rejected)
    print("model files: %d loaded, %d rejected, slowest %.3f s" % (out.accepted, out.rejected, out.worst_s))
