"""IR bundles (docs/persistence.md): a trained model as a folder the native tools read.

`model.export(dir)` writes the compiled predict program, the train program (with its optimizer
updates) when the model is compiled, every weight and optimizer state they declare and a
manifest; the native side writes and reads all of it (csrc/bundle/), so Python, `kiln-run`,
`kiln-bench` and the C++ API share one reader. `kiln.load_bundle(dir)` gives back a model that
predicts and trains as the exported one would have, step for step.
"""
import os

import numpy as np

from .. import __version__, _core


def export(model, directory):
    """Writes `model` as a bundle to `directory` (replaced whole, never half-written)."""
    programs = [("predict", model._program("predict"))]
    if getattr(model, "optimizer", None) is not None:
        programs.append(("train", model._program("train")))
    from ..backend.variables import store_for
    _core.write_bundle(os.fspath(directory), [(name, p.text(), p.runs()) for name, p in programs],
                       store_for(model.device), __version__)


def load_bundle(directory, device="cpu"):
    """The bundle in `directory` as a BundleModel."""
    return BundleModel(directory, device)


class BundleModel:
    """A model loaded from a bundle: predict with it, train it further, export it again. Its
    weights live in a store of its own, apart from any model of this process."""

    def __init__(self, directory, device="cpu"):
        self.directory = os.fspath(directory)
        self.store, self._programs, self._ports, self.kiln_version = _core.load_bundle(self.directory, device)
        self.input_names = [name for name, _ in self._ports["predict"][0]]
        self.output_names = [name for name, _ in self._ports["predict"][1]]

    @property
    def trainable(self):
        """Whether the bundle holds a train program."""
        return "train" in self._programs

    def ports(self, program="predict"):
        """(inputs, outputs) of a program: lists of (name, (dtype, shape)), None for the batch."""
        return self._ports[program]

    def _arrays(self, x, program, what):
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        names = [name for name, _ in self._ports[program][0]]
        if len(xs) != len(names):
            raise ValueError("the bundle's %s program takes %d %s (%s), got %d"
                             % (program, len(names), what, ", ".join(names), len(xs)))
        return [np.ascontiguousarray(a, dtype=np.float32) for a in xs]

    def predict(self, x, batch_size=32, verbose=0):
        outs = self._programs["predict"].predict(self._arrays(x, "predict", "inputs"), int(batch_size))
        return outs[0] if len(outs) == 1 else outs

    def predict_on_batch(self, x):
        outs = self._programs["predict"].run(self._arrays(x, "predict", "inputs"))
        return outs[0] if len(outs) == 1 else outs

    def _train_arrays(self, x, y, sample_weight):
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        n = len(xs[0])
        n_weights = len(self._ports["train"][0]) - len(xs) - len(ys)
        if sample_weight is None:
            ws = [np.ones(n, np.float32) for _ in range(max(n_weights, 0))]
        else:
            ws = list(sample_weight) if isinstance(sample_weight, (list, tuple)) else [sample_weight]
        return self._arrays(xs + ys + ws, "train", "inputs, targets and sample weights")

    def _require_train(self):
        if not self.trainable:
            raise RuntimeError("this bundle holds no train program: export the model after compile() to train it")

    def train_on_batch(self, x, y, sample_weight=None):
        """One optimizer step; returns the loss (and metrics) before the step, as Model does."""
        self._require_train()
        arrays = self._train_arrays(x, y, sample_weight)
        n = len(arrays[0])
        means, _, _ = self._programs["train"].run_epoch(arrays, n, np.arange(n, dtype=np.int64), False, 0.25, None, None)
        values = [float(v) for v in means]
        return values[0] if len(values) == 1 else values

    def fit(self, x, y, batch_size=32, nb_epoch=None, epochs=None, shuffle=False, sample_weight=None, seed=0):
        """Epochs of training steps in the native loop (shuffled by `seed` when `shuffle`);
        returns the per-epoch mean of the train program's outputs."""
        self._require_train()
        arrays = self._train_arrays(x, y, sample_weight)
        n, history = len(arrays[0]), []
        for epoch in range(epochs or nb_epoch or 1):
            order = int(seed) + epoch if shuffle else np.arange(n, dtype=np.int64)
            means, _, _ = self._programs["train"].run_epoch(arrays, int(batch_size), order, False, 0.25, None, None)
            history.append([float(v) for v in means])
        return history

    def get_weights(self):
        """{name: array} of every tensor the bundle stores."""
        return {name: self.store.get(name) for name in self.store.names()}

    def export(self, directory):
        """Writes this model (its current weights and training state) as a bundle."""
        _core.write_bundle(os.fspath(directory), [(name, p.text(), p.runs()) for name, p in self._programs.items()],
                           self.store, __version__)
