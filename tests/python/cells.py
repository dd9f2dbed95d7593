"""A user's own recurrent cell, written as for Keras 1.2 (a `Recurrent` subclass with `step()`),
shared by the tests and the fuzz corpus: K.rnn lowers its step to a scan over a nested graph."""
from kiln import backend as K
from kiln.layers import Recurrent


class MinimalRNN(Recurrent):
    """h = tanh(x W + h_prev U), the Keras 1.2 way."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.states = [None]
        self.W = self.add_weight((input_shape[2], self.output_dim), "glorot_uniform", name="W")
        self.U = self.add_weight((self.output_dim, self.output_dim), "orthogonal", name="U")

    def step(self, x, states):
        h = K.tanh(K.dot(x, self.W) + K.dot(states[0], self.U))
        return h, [h]
