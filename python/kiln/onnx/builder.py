"""The ONNX graph being written: nodes, initializers and unique value names.

Converters (ops.py, nn.py) only call `node`, `const` and `ints`; the opset-dependent spellings
(where `axes` is an input or an attribute) live here, so the table stays one line per case.
"""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63


class ExportError(ValueError):
    """A model, layer or op that cannot be written as ONNX; the message names which and why."""


class Builder:
    def __init__(self, opset):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self._used = set()
        self._consts = {}  # (dtype, shape, bytes) -> initializer name: one copy of each small constant

    def reserve(self, name):
        """`name` if free, else `name.1`, `name.2`, ...; marked used."""
        n, k = name, 0
        while n in self._used:
            k += 1
            n = "%s.%d" % (name, k)
        self._used.add(n)
        return n

    def node(self, op_type, inputs, hint, n_out=1, **attrs):
        """Adds `op_type(inputs)`; returns its output name (a list of them when n_out > 1).
        An input of None is an omitted optional input (written as "")."""
        outs = [self.reserve(hint if n_out == 1 else "%s_%d" % (hint, k)) for k in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, ["" if i is None else i for i in inputs], outs,
                                           name=self.reserve("node/" + outs[0]), **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, array, hint, dtype=np.float32):
        """An initializer holding `array` (float32 unless told); small ones are shared."""
        a = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 16 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.reserve(hint)
        self.initializers.append(numpy_helper.from_array(a, name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values, hint="ints"):
        return self.const(np.asarray(values, dtype=np.int64), hint, np.int64)

    # Opset-dependent spellings.
    def reduce(self, op_type, x, axes, keepdims, hint):
        """ReduceSum/Mean/Max/Min/Prod over `axes` (None: every axis)."""
        as_input = op_type == "ReduceSum" or self.opset >= 18
        if axes is None:
            return self.node(op_type, [x], hint, keepdims=int(keepdims))
        if as_input:
            return self.node(op_type, [x, self.ints(list(axes), hint + "_axes")], hint, keepdims=int(keepdims))
        return self.node(op_type, [x], hint, axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x, axes, hint):
        return self.node("Unsqueeze", [x, self.ints(list(axes), hint + "_axes")], hint)

    def squeeze(self, x, axes, hint):
        return self.node("Squeeze", [x, self.ints(list(axes), hint + "_axes")], hint)

    def slice(self, x, axis, begin, end, hint, step=1):
        return self.node("Slice", [x, self.ints([begin]), self.ints([end]), self.ints([axis]), self.ints([step])],
                         hint)

    def cast(self, x, to, hint):
        return self.node("Cast", [x], hint, to=to)

    def to_float(self, x, hint):
        return self.cast(x, TensorProto.FLOAT, hint)
