"""The base of kiln.preprocessing.image's iterators: endless batches of indices into n samples."""
import threading

import numpy as np


class Iterator(object):
    """Endless batches of indices into n samples: a new order each pass when `shuffle`."""

    def __init__(self, n, batch_size, shuffle, seed):
        if n <= 0 or batch_size <= 0:
            raise ValueError("Iterator: need at least one sample and a positive batch size, got n=%d, "
                             "batch_size=%d" % (n, batch_size))
        self.n = self.N = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.batch_index = 0
        self.batch_start = 0  # the position in its pass of the last batch's first sample
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.rng = np.random.RandomState(seed) if seed is not None else np.random
        self._order = None

    def reset(self):
        self.batch_index = 0

    def __len__(self):
        """Batches per pass over the data (Keras 2's steps_per_epoch)."""
        return (self.n + self.batch_size - 1) // self.batch_size

    def _next_indices(self):
        if self.batch_index == 0:
            self._order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        start = self.batch_index * self.batch_size
        stop = min(start + self.batch_size, self.n)
        self.batch_start = start
        self.batch_index = 0 if stop >= self.n else self.batch_index + 1
        self.total_batches_seen += 1
        return self._order[start:stop]

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()
