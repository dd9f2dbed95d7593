"""kiln IR op -> ONNX nodes: convolution, pooling and the fused recurrent ops.

kiln's conv2d and pool2d are channels last (x [B, H, W, C], W [KH, KW, C, F]); ONNX's Conv and
pools are channels first, so each becomes Transpose -> Conv/Pool -> Transpose. A channels-first
layer already lowered to transposes around the op, and export.py cancels each pair of inverse
transposes that meet, so such a layer is a bare Conv in the file. `same` padding is
TensorFlow's split (the odd pixel at the bottom/right): ONNX's SAME_UPPER.

The recurrent ops become ONNX's LSTM, GRU and RNN (sequence first: x is transposed to
[T, B, D]). Weights are converted at export time: kiln packs x W [D, G*u] gate by gate in
Keras 1.2's order (lstm i, f, c, o; gru z, r, h), ONNX wants W [1, G*u, D] in its order (LSTM
i, o, f, c; GRU z, r, h) with the bias split into Wb and Rb (Rb zeros). Keras 1.2's GRU applies
the reset gate before the recurrent product ((r * h) U_h), which is ONNX's
linear_before_reset=0. go_backwards reverses the sequence before a forward ONNX op, so outputs
come out in processing order, as kiln's.
"""
import numpy as np

from .ops import activation, converts

_CHANNELWISE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
                "softsign": "Softsign", "identity": "Identity"}
_PADS = {"valid": "VALID", "same": "SAME_UPPER"}
NCHW, NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def _pad(n):
    padding = n.attrs.get("padding", "valid")
    if padding not in _PADS:
        raise n.error("padding %r has no ONNX equivalent" % (padding,))
    return _PADS[padding]


@converts("conv2d")
def conv2d(b, n):
    x = b.node("Transpose", [n.inputs[0]], n.hint + "/nchw", perm=NCHW)
    w = n.values[1]
    if w is not None:  # [KH, KW, C, F] -> [F, C, KH, KW]
        w = b.const(np.transpose(w, (3, 2, 0, 1)), n.operand_name(1) + "_oihw")
    else:
        w = b.node("Transpose", [n.inputs[1]], n.hint + "/oihw", perm=[3, 2, 0, 1])
    kh, kw, filters = n.operands[1].ir_shape[0], n.operands[1].ir_shape[1], n.operands[1].ir_shape[3]
    bias, act = n.inputs[2:3], n.attrs.get("activation", "linear")
    # The layer's bias_add and activation after it join the Conv, before the way back to NHWC
    # (so that a channels-first layer's transposes meet and cancel).
    fused, after = [], n.sole_consumer()
    if not bias and after is not None and after.op == "bias_add" and after.inputs[0] is n.results[0]:
        b_value = n.exporter.value(after.inputs[1])
        if b_value is not None and b_value.shape == (filters,):
            bias = [b.const(b_value, n.exporter.ir_name(after.inputs[1]))]
            fused.append(after)
            after = n.sole_consumer(after)
    y = b.node("Conv", [x, w] + bias, n.hint + "/conv", kernel_shape=[kh, kw],
               strides=[int(s) for s in n.attrs.get("strides", [1, 1])], auto_pad=_pad(n))
    if act != "linear":
        y = activation(b, act, y, n.hint + "/act")
    elif fused and after is not None and after.op in _CHANNELWISE:
        y = b.node(_CHANNELWISE[after.op], [y], n.hint + "/act")
        fused.append(after)
    y = b.node("Transpose", [y], n.hint + "/nhwc", perm=NHWC)
    for t in fused:
        n.absorb(t, y)
    return [None if fused else y]


@converts("pool2d")
def pool2d(b, n):
    mode = n.attrs["mode"]
    pool = [int(p) for p in n.attrs["pool"]]
    strides = [int(s) for s in n.attrs.get("strides", pool)]
    x = b.node("Transpose", n.inputs, n.hint + "/nchw", perm=NCHW)
    if mode == "max":
        y = b.node("MaxPool", [x], n.hint + "/pool", kernel_shape=pool, strides=strides, auto_pad=_pad(n))
    elif mode == "avg":  # the mean of the window's real positions: padding is not counted
        y = b.node("AveragePool", [x], n.hint + "/pool", kernel_shape=pool, strides=strides, auto_pad=_pad(n),
                   count_include_pad=0)
    else:
        raise n.error("pool mode %r has no ONNX equivalent" % (mode,))
    return [b.node("Transpose", [y], n.hint, perm=NHWC)]


# Recurrent ops.
_RNN_ACT = {"tanh": "Tanh", "sigmoid": "Sigmoid", "hard_sigmoid": "HardSigmoid", "relu": "Relu",
            "softsign": "Softsign", "softplus": "Softplus", "elu": "Elu"}
# kiln's packing order -> ONNX's: the kiln gate index of each ONNX gate.
_ONNX_GATES = {"lstm": [0, 3, 1, 2], "gru": [0, 1, 2], "simple_rnn": [0]}
_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "RNN"}


def _act(n, key, default):
    name = n.attrs.get(key, default)
    if name not in _RNN_ACT:
        raise n.error("the %s %r has no ONNX recurrent-op equivalent (ONNX has %s)"
                      % (key, name, ", ".join(sorted(_RNN_ACT))))
    return _RNN_ACT[name]


@converts("lstm", "gru", "simple_rnn")
def recurrent(b, n):
    op = n.op
    if len(n.inputs) > 4:
        raise n.error("a masked sequence (Embedding(mask_zero=True) or Masking before the layer) or initial "
                      "states: ONNX's %s has neither a per-step mask nor kiln's way of carrying state over "
                      "masked steps" % _ONNX_OP[op])
    for key in ("dropout_W", "dropout_U"):
        if float(n.attrs.get(key, 0.0)):
            raise n.error("%s is applied in this graph (a train-phase graph?)" % key)
    W, U, bias = n.values[1], n.values[2], n.values[3]
    if W is None or U is None or bias is None:
        raise n.error("its weights are computed from the model's inputs, not constants")
    u = U.shape[0]
    order = _ONNX_GATES[op]
    gate = lambda a, g: a[..., g * u:(g + 1) * u]
    w = np.concatenate([gate(W, g).T for g in order], axis=0)[None]        # [1, G*u, D]
    r = np.concatenate([gate(U, g).T for g in order], axis=0)[None]        # [1, G*u, u]
    bb = np.concatenate([gate(bias, g) for g in order] + [np.zeros(len(order) * u, np.float32)])[None]
    stem = n.operand_name(1)
    outer = _act(n, "activation", "tanh")
    if op == "lstm":
        acts = [_act(n, "inner_activation", "hard_sigmoid"), outer, outer]
    elif op == "gru":
        acts = [_act(n, "inner_activation", "hard_sigmoid"), outer]
    else:
        acts = [outer]
    x = b.node("Transpose", [n.inputs[0]], n.hint + "/tbd", perm=[1, 0, 2])
    backwards = bool(n.attrs.get("go_backwards", 0))
    if backwards:
        x = b.slice(x, 0, -1, -2 ** 63, n.hint + "/reversed", step=-1)
    extra = {"linear_before_reset": 0} if op == "gru" else {}
    n_out = 3 if op == "lstm" else 2
    outs = b.node(_ONNX_OP[op], [x, b.const(w, stem + "_onnx_W"), b.const(r, stem + "_onnx_R"),
                                 b.const(bb, stem + "_onnx_B")],
                  n.hint + "/" + _ONNX_OP[op], n_out=n_out, hidden_size=u, activations=acts, direction="forward",
                  **extra)
    Y, Y_h = outs[0], outs[1]
    seq = b.node("Transpose", [b.squeeze(Y, [1], n.hint + "/y")], n.hint + "/seq", perm=[1, 0, 2])  # processing order
    last = b.squeeze(Y_h, [0], n.hint + "/last")
    y = seq if n.attrs.get("return_sequences", 0) else last
    hs = b.slice(seq, 1, -1, -2 ** 63, n.hint + "/hs", step=-1) if backwards else seq  # natural time order
    results = [y, hs] + [None] * (len(n.results) - 2)
    return results
