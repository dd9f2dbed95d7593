"""Embedding: integer indices -> dense vectors, a lookup (`gather`) into a [input_dim, output_dim]
table; its gradient scatters into the rows that were used."""
import zlib

import numpy as np

from .. import backend as K, constraints, initializers, regularizers
from ..graph.layer import Layer


class Embedding(Layer):
    """Turns indices in [0, input_dim) into vectors of size output_dim.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: vector size.
        init / embeddings_initializer: default 'uniform' (±0.05), as Keras 1.
        input_length: length of the input sequences (needed before a Flatten/Dense).
        dropout: fraction of whole rows of the table dropped while training (Keras 1).

    Example:
        x = Input(shape=(100,), dtype='int32'); e = Embedding(10000, 64)(x)  # (None, 100, 64)
    """
    config_keys = ("input_dim", "output_dim", "init", "input_length", "mask_zero", "W_regularizer",
                   "activity_regularizer", "W_constraint", "dropout")

    def __init__(self, input_dim=None, output_dim=None, init="uniform", input_length=None, W_regularizer=None,
                 activity_regularizer=None, W_constraint=None, mask_zero=False, weights=None, dropout=0.0,
                 embeddings_initializer=None, embeddings_regularizer=None, embeddings_constraint=None, **kwargs):
        if input_dim is None or output_dim is None:
            given = ", ".join("%s=%s" % kv for kv in (("input_dim", input_dim), ("output_dim", output_dim))
                              if kv[1] is not None)
            raise TypeError("Embedding needs input_dim (the vocabulary size: the largest index + 1) and output_dim "
                            "(the vector size); got Embedding(%s)" % given)
        self.W_constraint = constraints.get(W_constraint if W_constraint is not None else embeddings_constraint)
        kwargs.setdefault("input_shape", (input_length,))
        kwargs.setdefault("input_dtype", "int32")
        super().__init__(weights=weights, **kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.input_length = input_length
        self.init = initializers.get(embeddings_initializer if embeddings_initializer is not None else init)
        self.dropout = float(dropout)
        self.mask_zero = bool(mask_zero)
        self.W_regularizer = regularizers.get(W_regularizer if W_regularizer is not None else embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if 0.0 < self.dropout < 1.0:
            self.uses_learning_phase = True

    def build(self, input_shape):
        self.W = self.add_weight((self.input_dim, self.output_dim), initializer=self.init, name="W",
                                 regularizer=self.W_regularizer)
        self.built = True

    @property
    def embeddings(self):
        return self.W

    def call(self, x, mask=None):
        W = self.W
        if 0.0 < self.dropout < 1.0:
            rows = K.constant(np.ones((self.input_dim, 1), np.float32))
            # Keras 1.2's Embedding takes no seed: the mask's seed comes from the layer's name, so a
            # model rebuilt from its config (same names) draws the same masks.
            seed = zlib.crc32(self.name.encode("utf8")) & 0x7FFFFFFF
            W = K.in_train_phase(W * K.dropout(rows, self.dropout, seed=seed), W)
        return K.gather(W, x)

    def compute_mask(self, x, mask=None):
        """With mask_zero, index 0 is padding: the mask is 1 where x != 0."""
        return K.not_equal(x, 0.0) if self.mask_zero else None

