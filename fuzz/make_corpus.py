"""Writes the seed corpora and dictionaries of the fuzz targets: fuzz/corpus/ir and fuzz/ir.dict
(the golden IR files plus the predict and train programs of small models of every layer kind,
and one dictionary entry per token of the IR: keywords, op names, attribute names), and
fuzz/corpus/bundle and fuzz/bundle.dict (some of those models exported as IR bundles, each
bundle's files in one input, every file after a line "=== NAME"), and fuzz/corpus/npy. Inputs
named regress-* are past findings, kept as they are. Rerun it when layers, ops or the bundle
format change: python fuzz/make_corpus.py"""
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from kiln import _core
from kiln import backend as K
from kiln.layers import (GRU, LSTM, AveragePooling2D, BatchNormalization, Convolution2D, Dense, Dropout, Embedding,
                         Flatten, Input, Lambda, MaxPooling2D, RepeatVector, Reshape, SimpleRNN,
                         TimeDistributed, merge)
from kiln.models import Model

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "python"))
from cells import MinimalRNN  # noqa: E402  (a custom Keras 1.2 cell: a scan over a nested graph)
CORPUS = HERE / "corpus" / "ir"


def models():
    x = Input(shape=(6,))
    h = Dropout(0.2)(Dense(5, activation="relu")(x))
    yield "mlp", Model(x, Dense(3, activation="softmax")(h)), "categorical_crossentropy"
    img = Input(shape=(8, 8, 2))
    h = Convolution2D(3, 3, 3, border_mode="same", activation="relu")(img)
    h = BatchNormalization()(h)
    h = AveragePooling2D()(MaxPooling2D((1, 1))(h))
    yield "conv", Model(img, Dense(2, activation="sigmoid")(Flatten()(h))), "binary_crossentropy"
    words = Input(shape=(5,), dtype="int32")
    e = Embedding(10, 4, mask_zero=True)(words)
    yield "lstm", Model(words, Dense(1)(LSTM(3)(e))), "mse"
    seq = Input(shape=(4, 3))
    yield "gru", Model(seq, GRU(2, return_sequences=True)(seq)), "mse"
    yield "rnn", Model(seq, SimpleRNN(2)(seq)), "mse"
    a, b = Input(shape=(4,)), Input(shape=(4,))
    shared = Dense(4, activation="tanh")
    m = merge([shared(a), shared(b)], mode="concat")
    m = merge([m, Lambda(lambda t: K.square(t))(m)], mode="sum")
    yield "merge", Model([a, b], Reshape((2, 4))(m)), "mse"
    yield "timedist", Model(seq, TimeDistributed(Dense(2))(RepeatVector(4)(Flatten()(seq)))), "mse"
    any_words = Input(shape=(None,), dtype="int32")  # named dynamic dims (IR version 2)
    yield "dynlstm", Model(any_words, Dense(1)(LSTM(3)(Embedding(10, 4, mask_zero=True)(any_words)))), "mse"
    any_seq = Input(shape=(None, 3))
    yield "dyntd", Model(any_seq, TimeDistributed(Dense(2))(GRU(2, return_sequences=True)(any_seq))), "mse"
    yield "scan", Model(any_seq, Dense(1)(MinimalRNN(2, go_backwards=True)(any_seq))), "mse"  # nested graphs


BUNDLES = HERE / "corpus" / "bundle"
NPY = HERE / "corpus" / "npy"
BUNDLE_MODELS = ("mlp", "conv", "dynlstm", "scan")


def bundle_input(folder):
    """A bundle's files as one fuzz input (the format fuzz/fuzz_bundle.cpp splits)."""
    files = sorted(folder.iterdir(), key=lambda p: (p.name != "manifest.txt", p.name))
    return b"\n".join(b"=== " + p.name.encode() + b"\n" + p.read_bytes() for p in files)


def main():
    for folder in (CORPUS, BUNDLES, NPY):  # regress-* inputs (past findings) stay
        folder.mkdir(parents=True, exist_ok=True)
        for f in folder.iterdir():
            if not f.name.startswith("regress-"):
                f.unlink()
    for f in sorted((HERE.parent / "tests" / "ir").glob("*.kir")):
        shutil.copy(f, CORPUS / f.name)
    np.random.seed(0)
    for name, model, loss in models():
        model.compile(optimizer="adam", loss=loss)
        for kind in ("predict", "train"):
            (CORPUS / ("%s_%s.kir" % (name, kind))).write_text(model.ir(kind))
        if name in BUNDLE_MODELS:
            with tempfile.TemporaryDirectory() as tmp:
                model.export(Path(tmp) / name)
                (BUNDLES / ("%s.bundle" % name)).write_bytes(bundle_input(Path(tmp) / name))
    tokens = ["kiln", "graph", "input", "param", "state", "output", "f32", "i32", "?", "?*", "?t", "?*?t", "?u", "init",
              "seed"]
    tokens += _core.op_names()
    for op in _core.op_names():
        tokens += _core.op_info(op)["attrs"]
    seen, lines = set(), []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            lines.append('"%s"' % t)
    (HERE / "ir.dict").write_text("\n".join(lines) + "\n")
    for name, a in (("f4", np.arange(12, dtype="<f4").reshape(3, 4)), ("f8", np.ones((2, 1, 3))),
                    ("i8", np.arange(5, dtype="<i8")), ("u1", np.zeros((2, 2), np.uint8)), ("scalar", np.float32(7)),
                    ("fortran", np.asfortranarray(np.ones((2, 3), np.float32)))):
        np.save(NPY / ("%s.npy" % name), a)
    words = ["=== ", "kiln-bundle 1", "kiln-version", "weights", "program", "runs", "input", "output", "tensor",
             "offset", "bytes", "manifest.txt", "predict.kir", "train.kir", "weights.bin", "f32[", "?,", "]"]
    (HERE / "bundle.dict").write_text("\n".join('"%s"' % w for w in words) + "\n")
    print("wrote %d IR corpus files, %d bundles, %d dictionary tokens"
          % (len(list(CORPUS.iterdir())), len(list(BUNDLES.iterdir())), len(lines)))


if __name__ == "__main__":
    main()
