"""Small standard data sets, loaded as Keras' ``keras.datasets`` loads them."""
from . import mnist

__all__ = ["mnist"]
