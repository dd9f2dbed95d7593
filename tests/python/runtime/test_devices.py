"""The device layer's Python surface: kiln.devices(), set_device, compile(device=), op_info's
devices. Only the CPU has kernels today; asking for CUDA says why it cannot run."""
import numpy as np
import pytest

import kiln
from kiln import _core
from kiln.layers import Dense, Input
from kiln.models import Model


def small_model():
    x = Input(shape=(3,))
    return Model(x, Dense(2, activation="relu")(x))


def test_the_cpu_is_always_there_and_the_default():
    assert "cpu" in kiln.devices()
    assert kiln.get_device() == "cpu"


@pytest.mark.skipif("cuda" in _core.devices(), reason="a usable GPU is present: the refusal below is for machines without one")
def test_asking_for_cuda_without_a_gpu_says_why_and_leaves_the_model_as_it_was():
    m = small_model()
    with pytest.raises(ValueError, match="device 'cuda' is not usable: no CUDA device"):
        m.compile("sgd", "mse", device="cuda")
    assert getattr(m, "optimizer", None) is None
    with pytest.raises(ValueError, match="is not usable"):
        kiln.set_device("cuda")
    assert kiln.get_device() == "cpu"
    m.compile("sgd", "mse")
    m.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)


@pytest.mark.skipif("cuda" not in _core.devices(), reason="no usable GPU here: %s" % _core.cuda_status())
def test_with_a_gpu_an_op_without_a_cuda_kernel_is_named():
    m = small_model()
    m.compile("sgd", "mse", device="cuda")
    with pytest.raises(ValueError, match=r"\[\w+\] has no CUDA kernel"):
        m.predict(np.ones((2, 3)))


def test_unknown_devices_are_refused_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown device 'tpu' \(accepted: 'cpu', 'cuda'\)"):
        kiln.set_device("tpu")
    with pytest.raises(ValueError, match=r"unknown device 'tpu' \(accepted: cpu, cuda\)"):
        _core.compile(_core.Store(), small_model().ir("predict"), device="tpu")


def test_op_info_lists_the_devices_with_a_kernel():
    for op in _core.op_names():
        info = _core.op_info(op)
        assert ("cpu" in info["devices"]) == info["cpu_kernel"], op
        assert set(info["devices"]) <= {"cpu", "cuda"}
    assert _core.op_info("relu")["devices"][0] == "cpu"
