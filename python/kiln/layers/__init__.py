"""Layers, in Keras 1 and Keras 2 spellings."""
from ..graph.input_layer import Input, InputLayer  # noqa: F401
from ..graph.layer import InputSpec, Layer  # noqa: F401
from .core import Activation, Dense, Dropout, Flatten, Lambda, Permute, RepeatVector, Reshape  # noqa: F401
from .convolutional import (AveragePooling2D, AvgPool2D, Conv2D, Convolution2D, MaxPool2D,  # noqa: F401
                            MaxPooling2D)
from .embeddings import Embedding  # noqa: F401
from .normalization import BatchNormalization  # noqa: F401
from .recurrent import GRU, LSTM, Recurrent, SimpleRNN  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed  # noqa: F401
from .merge import (Add, Average, Concatenate, Dot, Maximum, Merge, Minimum, Multiply, Subtract,  # noqa: F401
                    add, average, concatenate, dot, maximum, merge, minimum, multiply, subtract)
from .serialization import deserialize, serialize  # noqa: F401,E402
