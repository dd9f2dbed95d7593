"""ModelCheckpoint: file names from the epoch and its logs, save_best_only with each mode,
weights-only files, period, and checkpoints that resume training exactly."""
import os

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="ModelCheckpoint needs h5py (pip install h5py)")

from kiln.callbacks import Callback, ModelCheckpoint  # noqa: E402
from kiln.layers import Dense, Dropout, Input  # noqa: E402
from kiln.models import Model, load_model  # noqa: E402


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    return x, np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]


def model(seed=1):
    np.random.seed(seed)
    x = Input(shape=(5,))
    m = Model(x, Dense(2, activation="softmax")(Dropout(0.2)(Dense(8, activation="relu")(x))))
    m.compile("adam", "categorical_crossentropy", metrics=["acc"])
    return m


class Scripted(Callback):
    """Replaces the epoch's logs with scripted values (to test the choice, not training)."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_filepath_takes_the_epoch_and_metrics(tmp_path):
    x, y = data()
    pattern = str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}-{acc:.3f}.h5")
    hist = model().fit(x, y, nb_epoch=3, batch_size=16, verbose=0, validation_split=0.25,
                       callbacks=[ModelCheckpoint(pattern)])
    want = sorted("w.%02d-%.2f-%.3f.h5" % (e, hist.history["val_loss"][e], hist.history["acc"][e]) for e in range(3))
    assert sorted(os.listdir(str(tmp_path))) == want  # Keras 1.2: epoch counts from 0
    again = load_model(str(tmp_path / want[-1]))
    assert again.optimizer is not None


@pytest.mark.parametrize("mode, key, values, saved", [
    ("min", "val_loss", [0.5, 0.7, 0.4, 0.4, 0.9], [0, 2]),
    ("auto", "val_loss", [0.5, 0.7, 0.4, 0.4, 0.9], [0, 2]),
    ("max", "val_loss", [0.5, 0.7, 0.4, 0.8, 0.9], [0, 1, 3, 4]),
    ("auto", "val_acc", [0.5, 0.7, 0.4, 0.8, 0.8], [0, 1, 3]),
])
def test_save_best_only_by_mode(tmp_path, mode, key, values, saved):
    x, y = data()
    saves = []

    class Spy(ModelCheckpoint):
        def _save(self, filepath):
            saves.append(int(os.path.basename(filepath).split(".")[1]))
            super()._save(filepath)

    cb = Spy(str(tmp_path / "best.{epoch}.h5"), monitor=key, save_best_only=True, mode=mode)
    model().fit(x, y, nb_epoch=5, verbose=0, callbacks=[Scripted(values, key), cb])
    assert saves == saved
    assert sorted(os.listdir(str(tmp_path))) == sorted("best.%d.h5" % e for e in saved)


def test_save_best_only_without_the_metric_warns_and_skips(tmp_path):
    x, y = data()
    with pytest.warns(RuntimeWarning, match="val_loss"):
        model().fit(x, y, nb_epoch=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "m.h5"),
                                                                            save_best_only=True)])
    assert os.listdir(str(tmp_path)) == []


def test_weights_only_and_period(tmp_path):
    x, y = data()
    m = model()
    m.fit(x, y, nb_epoch=5, verbose=0,
          callbacks=[ModelCheckpoint(str(tmp_path / "w{epoch}.h5"), save_weights_only=True, period=2)])
    assert sorted(os.listdir(str(tmp_path))) == ["w1.h5", "w3.h5"]
    with h5py.File(str(tmp_path / "w3.h5"), "r") as f:
        assert "model_config" not in f.attrs and "layer_names" in f.attrs
    other = model(seed=5)
    other.load_weights(str(tmp_path / "w3.h5"))
    with pytest.raises(ValueError, match="period"):
        ModelCheckpoint("x.h5", period=0)


def test_a_field_the_logs_lack_is_a_clear_error(tmp_path):
    x, y = data()
    with pytest.raises(KeyError, match=r"\{val_acc\}.*do not have"):
        model().fit(x, y, nb_epoch=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "m{val_acc}.h5"))])


def test_a_checkpoint_resumes_training_exactly(tmp_path):
    x, y = data()
    whole = model()
    whole.fit(x, y, nb_epoch=3, batch_size=16, verbose=0)
    part = model()
    part.fit(x, y, nb_epoch=2, batch_size=16, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "c{epoch}.h5"))])
    resumed = load_model(str(tmp_path / "c1.h5"))
    resumed.fit(x, y, nb_epoch=3, initial_epoch=2, batch_size=16, verbose=0)
    for u, v in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(u, v)
