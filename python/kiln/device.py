"""Where programs run: `kiln.devices()`, `kiln.set_device(name)`, and `compile(..., device=)`.

A compiled program runs on one device, its kernels that device's (csrc/kernels/kernel.h); an op
with no kernel there is refused when the program is made, naming the op. Today only 'cpu' has
kernels: asking for 'cuda' without a usable GPU says why (`kiln.cuda_status()`), and with one,
names the first op that has no CUDA kernel yet.
"""
from . import _core

_default = "cpu"


def devices():
    """The devices programs can run on here: 'cpu', and 'cuda' when a GPU is usable."""
    return list(_core.devices())


def check(name):
    """`name` as a device that can be used here, or a ValueError saying why not."""
    if name not in ("cpu", "cuda"):
        raise ValueError("unknown device %r (accepted: 'cpu', 'cuda')" % (name,))
    if name not in devices():
        raise ValueError("device 'cuda' is not usable: %s" % _core.cuda_status())
    return name


def set_device(name):
    """The device of programs made from now on, unless compile(device=) says otherwise."""
    global _default
    _default = check(name)


def get_device():
    return _default
