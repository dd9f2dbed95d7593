"""Small standard data sets, loaded as Keras' ``keras.datasets`` loads them."""
from . import mnist, movie_reviews

__all__ = ["mnist", "movie_reviews"]
