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


# The device plumbing on the host stand-in for CUDA (csrc/runtime/standin.h): CUDA's memory is
# host memory the stand-in tracks, and every op runs its CPU kernel after checking that each
# operand lies in that memory. So these run without a GPU, and what the CUDA kernels will compute
# is not what they test: that a model's weights, slots and arenas move to the device, that only a
# step's inputs and outputs cross, and that the results are the CPU's.
@pytest.fixture
def standin():
    if _core.cuda_device_count() > 0:
        pytest.skip("a GPU is present: the stand-in would replace it")
    _core._device_standin(True)
    try:
        yield _core._device_standin_counts
    finally:
        import gc
        gc.collect()  # programs made on the stand-in go before it does
        _core._device_standin(False)


def guide_mlp(weights=None):
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    model = Model(input=inputs, output=Dense(10, activation="softmax")(x))
    if weights is not None:
        model.set_weights(weights)
    return model


def test_the_guide_mlp_trains_on_the_device_as_on_the_cpu(standin, mnist):
    from kiln.utils.np_utils import to_categorical
    x, y = mnist[0][:2048], to_categorical(mnist[1][:2048], 10)
    cpu = guide_mlp()
    dev = guide_mlp(cpu.get_weights())
    cpu.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    dev.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"], device="cuda")
    assert dev.device == "cuda" and cpu.device == "cpu"
    h_cpu = cpu.fit(x, y, batch_size=64, nb_epoch=2, shuffle=False, verbose=0).history
    before = standin()
    h_dev = dev.fit(x, y, batch_size=64, nb_epoch=2, shuffle=False, verbose=0).history
    after = standin()
    assert h_dev == h_cpu  # the stand-in runs the CPU kernels: bit for bit
    assert h_cpu["loss"][-1] < h_cpu["loss"][0]
    for a, b in zip(cpu.get_weights(), dev.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Per step x, y and the sample weights go in, and the loss and the accuracy come out; the
    # first fit also places the 6 weights, rmsprop's 6 accumulators and the optimizer's lr and
    # iterations on the device. After it, nothing but the steps' own copies: the weights never
    # cross, and nothing is allocated.
    assert after["to_device"] - before["to_device"] == 2 * 32 * 3 + 6 + 6 + 2
    assert after["to_host"] - before["to_host"] == 2 * 32 * 2
    ready = standin()  # get_weights above copied the 6 weights out
    dev.fit(x, y, batch_size=64, nb_epoch=1, shuffle=False, verbose=0)
    final = standin()
    assert final["to_device"] - ready["to_device"] == 32 * 3
    assert final["to_device_bytes"] - ready["to_device_bytes"] == 2048 * (784 + 10 + 1) * 4
    assert final["to_host"] - ready["to_host"] == 32 * 2
    assert final["to_host_bytes"] - ready["to_host_bytes"] == 32 * 2 * 4
    assert final["live_allocations"] == ready["live_allocations"]
    cpu.fit(x, y, batch_size=64, nb_epoch=1, shuffle=False, verbose=0)
    for a, b in zip(cpu.get_weights(), dev.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert after["kernel_calls"] > before["kernel_calls"]
    np.testing.assert_array_equal(dev.predict(mnist[2][:300], batch_size=128), cpu.predict(mnist[2][:300], batch_size=128))


def test_a_layer_lives_on_one_device(standin):
    shared = Dense(4)
    x = Input(shape=(3,))
    cpu = Model(x, shared(x))
    cpu.compile("sgd", "mse")
    cpu.predict(np.ones((2, 3)))  # places the layer's weights on the CPU
    y = Input(shape=(3,))
    dev = Model(y, Dense(2)(shared(y)))
    with pytest.raises(ValueError, match=r"variable \S+ is on cpu, so a program for cuda cannot use it"):
        dev.compile("sgd", "mse", device="cuda")
    assert getattr(dev, "optimizer", None) is None  # refused before anything changed
    fresh = Dense(4)
    z = Input(shape=(3,))
    moved = Model(z, fresh(z))
    moved.compile("sgd", "mse", device="cuda")
    w = [np.full((3, 4), 0.5, np.float32), np.zeros(4, np.float32)]
    moved.set_weights(w)  # into device memory, and back out
    np.testing.assert_array_equal(moved.get_weights()[0], w[0])
    np.testing.assert_allclose(moved.predict(np.ones((2, 3))), np.full((2, 4), 1.5))
    assert standin()["live_allocations"] > 0


def test_a_device_model_saves_and_loads_its_optimizer_state(standin, tmp_path, mnist):
    from kiln.models import load_model
    from kiln.utils.np_utils import to_categorical
    x, y = mnist[0][:512], to_categorical(mnist[1][:512], 10)
    dev = guide_mlp()
    dev.compile("adam", "categorical_crossentropy", device="cuda")
    dev.fit(x, y, batch_size=128, nb_epoch=1, verbose=0)
    dev.save(str(tmp_path / "m.h5"))
    back = load_model(str(tmp_path / "m.h5"))  # on the CPU, the default device
    assert back.device == "cpu"
    np.testing.assert_array_equal(back.predict(x[:64]), dev.predict(x[:64]))
    a = dev.fit(x, y, batch_size=128, nb_epoch=1, shuffle=False, verbose=0).history["loss"]
    b = back.fit(x, y, batch_size=128, nb_epoch=1, shuffle=False, verbose=0).history["loss"]
    assert a == b  # adam's slots and iterations came out of device memory into the file
