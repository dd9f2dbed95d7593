"""Shared fixtures: the real MNIST from ../shared/data (beside the repository root)."""
import sys
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# Test helpers (numeric.py) import by name from any folder under tests/python.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def mnist():
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1] as float32 rows of 784,
    labels as int64 class indices."""
    path = SHARED_DATA / "mnist.npz"
    if not path.exists():
        pytest.skip("the real MNIST is not at %s (the shared data folder beside the repo)" % path)
    d = np.load(path)
    flat = lambda x: (x.reshape(len(x), -1).astype(np.float32) / 255.0)
    return flat(d["x_train"]), d["y_train"], flat(d["x_test"]), d["y_test"]


@pytest.fixture(autouse=True)
def _seeded():
    np.random.seed(1234)
