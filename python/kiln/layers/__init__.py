"""Layers, in Keras 1 and Keras 2 spellings."""
from ..graph.input_layer import Input, InputLayer  # noqa: F401
from ..graph.layer import InputSpec, Layer  # noqa: F401
from .core import (ActivityRegularization, Activation, Dense, Dropout, Flatten, Highway, Lambda, Masking,  # noqa: F401
                   MaxoutDense, Permute, RepeatVector, Reshape, SpatialDropout1D, SpatialDropout2D,
                   SpatialDropout3D, TimeDistributedDense)
from .advanced_activations import ELU, PReLU, LeakyReLU, ParametricSoftplus, SReLU, ThresholdedReLU  # noqa: F401
from .convolutional import (AtrousConv1D, AtrousConv2D, AtrousConvolution1D, AtrousConvolution2D,  # noqa: F401
                            AveragePooling2D, AvgPool2D, Conv1D, Conv2D, Conv2DTranspose, Convolution1D,
                            Convolution2D, Cropping1D, Cropping2D, Deconv2D, Deconvolution2D, MaxPool2D, MaxPooling2D,
                            SeparableConv2D, SeparableConvolution2D, UpSampling1D, UpSampling2D, ZeroPadding1D,
                            ZeroPadding2D)
from .volumes import (AveragePooling3D, AvgPool3D, Conv3D, Convolution3D, Cropping3D, MaxPool3D,  # noqa: F401
                      MaxPooling3D, UpSampling3D, ZeroPadding3D)
from .local import LocallyConnected1D, LocallyConnected2D  # noqa: F401
from .pooling import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D, GlobalAveragePooling2D,  # noqa: F401
                      GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D,
                      GlobalMaxPool2D, GlobalMaxPool3D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
                      MaxPool1D, MaxPooling1D)
from .embeddings import Embedding  # noqa: F401
from .normalization import BatchNormalization  # noqa: F401
from .noise import GaussianDropout, GaussianNoise  # noqa: F401
from .recurrent import GRU, LSTM, Recurrent, SimpleRNN  # noqa: F401
from .convolutional_recurrent import ConvLSTM2D, ConvRecurrent2D  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: F401
from .merge import (Add, Average, Concatenate, Dot, Maximum, Merge, Minimum, Multiply, Subtract,  # noqa: F401
                    add, average, concatenate, dot, maximum, merge, minimum, multiply, subtract)
from .serialization import deserialize, serialize  # noqa: F401,E402
