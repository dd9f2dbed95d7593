"""Keras 1.2/2 `layers.pooling`: the pooling layers, defined with the convolutions."""
from .convolutional import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D  # noqa: F401
