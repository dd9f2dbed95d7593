"""Writes the bundles the native tests read (ctest runs kiln-run, kiln-bench and the C++ API
example on them, without Python): a small trained MLP, an input for it and the output kiln
predicts for that input at batch 3, and a copy of the bundle whose weights file is cut short.
Rerun after a change to the bundle format or the ops the MLP uses:
    python tests/bundle/make_bundles.py"""
import shutil
from pathlib import Path

import numpy as np

import kiln
from kiln.layers import Dense, Dropout, Input
from kiln.models import Model

HERE = Path(__file__).resolve().parent


def main():
    np.random.seed(3)
    x = Input(shape=(6,))
    h = Dropout(0.2)(Dense(8, activation="relu")(x))
    model = Model(x, Dense(3, activation="softmax")(h))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((5, 6)).astype(np.float32)
    model.train_on_batch(xs, np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]])
    model.export(HERE / "mlp")
    np.save(HERE / "mlp_x.npy", xs)
    np.save(HERE / "mlp_y.npy", kiln.load_bundle(HERE / "mlp").predict(xs, batch_size=3).astype(np.float32))
    cut = HERE / "truncated"
    if cut.exists():
        shutil.rmtree(cut)
    shutil.copytree(HERE / "mlp", cut)
    blob = (cut / "weights.bin").read_bytes()
    (cut / "weights.bin").write_bytes(blob[:len(blob) // 2])
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.name != "make_bundles.py")))


if __name__ == "__main__":
    main()
