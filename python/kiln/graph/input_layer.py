"""InputLayer and Input(): where graphs start. `Input()` returns a placeholder tensor whose
`_keras_history` points at a fresh InputLayer."""
from .. import backend as K
from .layer import Layer
from .node import Node


class InputLayer(Layer):
    def __init__(self, input_shape=None, batch_input_shape=None, input_dtype=None, input_tensor=None, sparse=False,
                 name=None, dtype=None, batch_size=None):
        if not name:
            name = "input_" + str(K.get_uid("input"))
        super().__init__(name=name)
        self.trainable = False
        self.built = True
        self.sparse = sparse
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument to InputLayer, "
                             "not both at the same time.")
        if input_tensor is not None and input_shape is None and batch_input_shape is None:
            batch_input_shape = tuple(input_tensor.shape)
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("An Input layer should be passed either a `batch_input_shape` or an `input_shape`.")
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = tuple(batch_input_shape)
        self.input_dtype = input_dtype or dtype or "float32"
        if input_tensor is None:
            # A fixed batch size stays `?` in the graph (so losses and sample weights follow any
            # batch); the tensor records it for stateful layers, which check it at run time.
            fixed = self.batch_input_shape[0] if self.batch_input_shape else None
            shape = (None,) + self.batch_input_shape[1:] if fixed is not None else self.batch_input_shape
            input_tensor = K.placeholder(shape=shape, dtype=self.input_dtype, name=self.name)
            input_tensor._fixed_batch = fixed
        input_tensor._uses_learning_phase = False
        input_tensor._keras_history = (self, 0, 0)
        input_tensor._keras_shape = self.batch_input_shape
        Node(self, [], [], [], [input_tensor], [input_tensor], [None], [None],
             [self.batch_input_shape], [self.batch_input_shape])

    def get_config(self):
        return {"batch_input_shape": self.batch_input_shape, "input_dtype": self.input_dtype,
                "sparse": self.sparse, "name": self.name}


def Input(shape=None, batch_shape=None, name=None, dtype="float32", sparse=False, tensor=None):
    """A symbolic input tensor: `Input(shape=(784,))` has shape (None, 784).

    Args:
        shape: the shape of one sample (no batch dim).
        batch_shape: the full shape, batch dim included.
        name: the input's name (used for dict data in fit/predict).
        dtype: 'float32' (default) or 'int32' (e.g. word indices for Embedding).
    """
    if shape is None and batch_shape is None and tensor is None:
        raise AssertionError("Please provide to Input either a `shape` or a `batch_shape` argument. Note that "
                             "`shape` does not include the batch dimension.")
    if shape is not None and batch_shape is None:
        batch_shape = (None,) + tuple(shape)
    layer = InputLayer(batch_input_shape=batch_shape, name=name, input_dtype=dtype, sparse=sparse,
                       input_tensor=tensor)
    return layer.inbound_nodes[0].output_tensors[0]
