"""CUDA plumbing: kiln imports and reports clearly without a GPU; with one, the device self test
runs a kernel end to end."""
import numpy as np
import pytest

import kiln
from kiln import _core


def test_cuda_status_never_raises_and_explains():
    status = kiln.cuda_status()
    assert isinstance(status, str) and status
    if _core.cuda_device_count() == 0:
        assert status.startswith("no CUDA device: "), status
    else:
        assert status.startswith("cuda: "), status


def test_no_gpu_gives_a_clear_error():
    if _core.cuda_device_count() > 0:
        pytest.skip("a GPU is present: the error path is only reachable without one")
    with pytest.raises(RuntimeError, match="no CUDA"):
        _core.cuda_axpy_selftest(2.0, [1.0], [1.0])


def test_gpu_axpy_selftest():
    if not kiln.build_info()["cuda"]:
        pytest.skip("kiln was built without CUDA (KILN_CUDA=OFF or no nvcc)")
    if _core.cuda_device_count() == 0:
        pytest.skip(kiln.cuda_status())
    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, dtype=np.float32)
    np.testing.assert_allclose(_core.cuda_axpy_selftest(3.0, x.tolist(), y.tolist()), 3 * x + y)
