"""A user's own layer, written as for Keras 1.2 on `kiln.engine.topology.Layer` (its weight made
by `add_weight` in `build`, used in `call`), shared by the path tests."""
from kiln.engine.topology import InputSpec, Layer


class Gain(Layer):
    """x times one weight per feature, starting at one."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [InputSpec(ndim=2)]

    def build(self, input_shape):
        self.g = self.add_weight((input_shape[1],), "one", name="g")

    def call(self, x, mask=None):
        return x * self.g
