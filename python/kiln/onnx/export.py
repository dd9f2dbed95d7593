"""A model's predict graph as an ONNX model, op by op.

The exporter reads the same op records that lower.py prints as the predict IR (the train-phase
switches resolved to test: Dropout and noise layers are gone, BatchNormalization uses its moving
averages), so every layer, a Lambda's traced ops and a nested model included, is covered by the
one table of IR op -> ONNX nodes (ops.py, nn.py). Values keep their IR names.

What depends on no input (weights, and ops on weights only, such as the recurrent layers'
packed gates or a dilated kernel) is computed once by kiln itself and written as an
initializer. The batch is the dynamic dim `batch`, a dynamic length `?t1` the dim `t1`.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper

from .. import _core
from ..backend.tensor import Placeholder
from ..backend.variables import Variable
from ..lower import _resolve, lower, topological_order
from . import nn  # noqa: F401  (registers its converters)
from .builder import Builder, ExportError
from .ops import _REFUSED, TABLE

DEFAULT_OPSET = 17
MIN_OPSET = 13
_NOT_FOLDED = set(_REFUSED) | {"scan"}


def _dim_param(d):
    """A symbolic dim's ONNX name: ? -> batch, ?*3 -> batch*3, ?t1 -> t1, ?*?t1 -> batch*t1."""
    if d is None:
        return "batch"
    has_batch, name, factor = _core.dim_info(d)
    parts = (["batch"] if has_batch else []) + ([name] if name else []) + ([str(factor)] if factor != 1 else [])
    return "*".join(parts)


def _value_info(name, t, elem=TensorProto.FLOAT):
    dims = [d if d is not None and d >= 0 else _dim_param(d) for d in t.ir_shape]
    return helper.make_tensor_value_info(name, elem, dims)


class _Node:
    """One kiln op being converted: what a converter reads."""

    def __init__(self, t, exporter):
        self.t = t
        self.op = t.op
        self.results = t.results[0] if t.results else [t]
        self.operands = [_resolve(x, False) for x in t.inputs]
        self.attrs = dict(t.attrs)
        self.hint = exporter.ir_name(self.results[0])
        self.exporter = exporter
        self.values = [exporter.value(x) for x in self.operands]
        self.inputs = [exporter.onnx_name(x) for x in self.operands]

    def sole_consumer(self, t=None):
        """The one op tensor that reads t (this node's result by default), if only one does and t
        is not a model output; converters fuse it (conv2d takes its bias_add and activation)."""
        t = self.results[0] if t is None else t
        users = self.exporter.consumers.get(id(t), [])
        if len(users) == 1 and id(t) not in self.exporter.output_ids and not users[0].results:
            return users[0]
        return None

    def absorb(self, t, name):
        """Marks the consumer tensor t as computed by this node, as ONNX value `name`."""
        self.exporter.onnx[id(t)] = name
        self.exporter.absorbed.add(id(t))

    def operand_name(self, k):
        return self.exporter.ir_name(self.operands[k])

    @property
    def layer(self):
        return self.hint.split(".")[0]

    def error(self, why):
        sep = " " if why.startswith(("has ", "is ")) else ": "
        return ExportError("cannot export layer %r to ONNX: its op %s (value %%%s)%s%s"
                           % (self.layer, self.op, self.hint, sep, why))


class _Exporter:
    def __init__(self, model, opset):
        self.model = model
        self.b = Builder(opset)
        self.inputs = list(model.inputs)
        self.outputs = [_resolve(t, False) for t in model.outputs]
        _, _, self.names = lower(model.outputs, model.inputs, training=False, name="predict", return_names=True)
        self.order = self._walk()
        self._fold()
        self.onnx = {}  # id(tensor) -> ONNX value name
        self.absorbed = set()  # tensors a converter computed with the op before them
        self.output_ids = {id(t) for t in self.outputs}
        self.consumers = {}
        for t in self.order:
            for x in {id(_resolve(x, False)): _resolve(x, False) for x in t.inputs}.values():
                self.consumers.setdefault(id(x), []).append(t)

    def ir_name(self, t):
        return self.names.get(id(t)) or t.name or "t%d" % t.id

    def _walk(self):
        """The tensors the outputs need, operands first (as lower.py orders them)."""
        return topological_order(self.outputs, self.inputs, False)

    def _fold(self):
        """The values of every tensor that depends on no input, computed by kiln at once."""
        inputs = {id(t) for t in self.inputs}
        self.const = set()
        for t in self.order:
            if isinstance(t, Variable):
                self.const.add(id(t))
            elif id(t) not in inputs and t.op is not None and t.op not in _NOT_FOLDED and t.inputs \
                    and all(id(_resolve(x, False)) in self.const for x in t.inputs) or t.op == "constant":
                self.const.add(id(t))
        needed = {}
        for t in self.order:
            if id(t) in self.const and id(t) not in {id(o) for o in self.outputs}:
                continue
            for x in ([t] if id(t) in self.const else [_resolve(x, False) for x in t.inputs]):
                if id(x) in self.const:
                    needed[id(x)] = x
        self.values = {}
        computed = []
        for x in needed.values():
            if isinstance(x, Variable):
                self.values[id(x)] = np.asarray(x.get_value(), np.float32).reshape(x.shape)
            elif x.op == "constant":
                self.values[id(x)] = np.float32(x.attrs["value"])
            else:
                computed.append(x)
        if computed:
            from ..backend.functions import Function
            for x, v in zip(computed, Function([], computed)([])):
                self.values[id(x)] = np.asarray(v, np.float32)

    def value(self, t):
        return self.values.get(id(t))

    def onnx_name(self, t):
        if id(t) not in self.onnx:
            if id(t) not in self.values:
                raise ExportError("internal: value %%%s is used before it is converted" % self.ir_name(t))
            self.onnx[id(t)] = self.b.const(self.values[id(t)], self.ir_name(t))
        return self.onnx[id(t)]

    def run(self):
        b, graph_inputs = self.b, []
        in_names = [b.reserve(name) for name in self.model.input_names]  # the model's own names, first
        out_names = [b.reserve(name) for name in self.model.output_names]
        for t, name in zip(self.inputs, in_names):
            if t.dtype == "int32":  # indices: fed as integers, computed with as f32 (kiln's convention)
                graph_inputs.append(_value_info(name, t, TensorProto.INT32))
                self.onnx[id(t)] = b.to_float(name, self.ir_name(t) + "/f32")
            else:
                graph_inputs.append(_value_info(name, t))
                self.onnx[id(t)] = name
        inputs = {id(t) for t in self.inputs}
        done = set()
        for t in self.order:
            if id(t) in inputs or id(t) in self.const or id(t) in done or id(t) in self.absorbed:
                continue
            if isinstance(t, Placeholder) or t.op is None:
                raise ExportError("the model's outputs depend on %r, which is not among its inputs" % (t,))
            n = _Node(t, self)
            if n.op in _REFUSED:
                raise n.error(_REFUSED[n.op])
            if n.op not in TABLE:
                raise n.error("has no ONNX conversion (ops kiln exports: %s)" % ", ".join(sorted(TABLE)))
            names = TABLE[n.op](b, n)
            for r, name in zip(n.results, names):
                done.add(id(r))
                if name is not None:
                    self.onnx[id(r)] = name
        graph_outputs = []
        for t, name in zip(self.outputs, out_names):
            if id(t) not in self.onnx and id(t) not in self.values:
                raise ExportError("cannot export layer %r to ONNX: its output %%%s is a result of op %s that "
                                  "the ONNX form does not give" % (self.ir_name(t).split(".")[0], self.ir_name(t), t.op))
            b.nodes.append(helper.make_node("Identity", [self.onnx_name(t)], [name], name=b.reserve("node/" + name)))
            graph_outputs.append(_value_info(name, t))
        nodes = _simplify(b.nodes, [o.name for o in graph_outputs])
        used = {i for nd in nodes for i in nd.input}
        inits = [i for i in b.initializers if i.name in used]
        graph = helper.make_graph(nodes, self.model.name or "kiln", graph_inputs, graph_outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", b.opset)],
                                  producer_name="kiln", ir_version=min(onnx.IR_VERSION, 9 if b.opset <= 21 else 10))
        onnx.checker.check_model(model)
        return model


def _simplify(nodes, outputs):
    """Cancels Transpose pairs that undo each other (a channels-first layer's way into and out
    of kiln's channels-last ops, next to ONNX's channels-first ones), then drops dead nodes."""
    producer = {o: nd for nd in nodes for o in nd.output}
    perm = lambda nd: list(next(a.ints for a in nd.attribute if a.name == "perm"))
    alias = {}
    for nd in nodes:
        if nd.op_type != "Transpose":
            continue
        inner = producer.get(nd.input[0])
        if inner is not None and inner.op_type == "Transpose":
            p, q = perm(inner), perm(nd)
            if [p[i] for i in q] == list(range(len(q))):
                alias[nd.output[0]] = inner.input[0]
    find = lambda name: find(alias[name]) if name in alias else name
    for nd in nodes:
        nd.input[:] = [find(i) for i in nd.input]
    live, keep = set(outputs), []
    for nd in reversed(nodes):
        if any(o in live for o in nd.output):
            keep.append(nd)
            live.update(i for i in nd.input if i)
    return keep[::-1]


def to_onnx(model, opset=None):
    """The ONNX ModelProto of `model`'s predict graph (checked by onnx.checker)."""
    opset = DEFAULT_OPSET if opset is None else int(opset)
    latest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= latest:
        raise ValueError("opset must be between %d and %d (this onnx package's newest), got %d"
                         % (MIN_OPSET, latest, opset))
    return _Exporter(model, opset).run()


def export(model, path, opset=None):
    """Writes `model`'s predict graph to `path` as an ONNX model; returns the ModelProto."""
    proto = to_onnx(model, opset)
    onnx.save(proto, str(path))
    return proto
