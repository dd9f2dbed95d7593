"""Shared fixtures: the real MNIST and the movie reviews, each from its kiln.datasets loader
(cached under $KILN_HOME/datasets, ~/.kiln by default, after the first use)."""
import sys
from pathlib import Path

import numpy as np
import pytest

# Test helpers (numeric.py) import by name from any folder under tests/python.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _load(loader, what):
    try:
        return loader()
    except OSError as e:  # every source failed; the message lists each one
        pytest.skip("%s is not available: %s" % (what, e))


def _read_only(arrays):
    """Session data is shared by every test: a test that writes into it fails, not its neighbours."""
    for a in arrays:
        a.flags.writeable = False
    return arrays


@pytest.fixture(scope="session")
def mnist():
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1] as float32 rows of 784,
    labels as int64 class indices."""
    from kiln.datasets import mnist as loader

    (x_train, y_train), (x_test, y_test) = _load(loader.load_data, "MNIST")
    flat = lambda x: (x.reshape(len(x), -1).astype(np.float32) / 255.0)
    return _read_only((flat(x_train), y_train.astype(np.int64), flat(x_test), y_test.astype(np.int64)))


@pytest.fixture(scope="session")
def reviews():
    """kiln.datasets.movie_reviews.load_data(): a dict of arrays (x_train, len_train, y_train,
    score_train, text_train, id_train and the _test ones), read-only."""
    from kiln.datasets import movie_reviews

    data = _load(movie_reviews.load_data, "the movie-review data")
    _read_only(data.values())
    return data


@pytest.fixture(autouse=True)
def _seeded():
    np.random.seed(1234)


@pytest.fixture(autouse=True)
def _image_layout_unset(monkeypatch, tmp_path_factory):
    """Each test starts with no image layout chosen (no set_image_dim_ordering, no
    KILN_IMAGE_DIM_ORDERING, no keras.json: KERAS_HOME points at an empty folder), whatever the
    machine's ~/.keras says, and cannot leave a choice behind for the next test."""
    from kiln.backend import image_layout

    monkeypatch.delenv(image_layout.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.getbasetemp() / "no-keras-home"))
    image_layout.reset()
    yield
    image_layout.reset()
