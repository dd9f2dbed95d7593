"""Keras 1.2's `keras.preprocessing`, on NumPy alone: `sequence` (padding, skip-grams), `text`
(Tokenizer, word sequences, hashing), `image` (ImageDataGenerator on arrays; no file loading,
which would need PIL)."""
from . import image, sequence, text  # noqa: F401
