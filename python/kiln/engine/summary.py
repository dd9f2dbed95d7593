"""model.summary(): the Keras 1 table (layer, output shape, parameters, connections)."""
from ..utils.generic_utils import table_row as _row


def print_summary(model, line_length=100, positions=None, print_fn=print):
    positions = positions or [0.33, 0.55, 0.67, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print_fn("_" * line_length)
    print_fn(_row(["Layer (type)", "Output Shape", "Param #", "Connected to"], positions))
    print_fn("=" * line_length)
    for i, layer in enumerate(model.layers):
        try:
            shape = layer.output_shape
        except AttributeError:
            shape = "multiple"
        connections = []
        for idx, node in enumerate(layer.inbound_nodes):
            if "%s_ib-%d" % (layer.name, idx) not in model.container_nodes:
                continue
            for l, n, t in zip(node.inbound_layers, node.node_indices, node.tensor_indices):
                connections.append("%s[%d][%d]" % (l.name, n, t))
        name = "%s (%s)" % (layer.name, layer.__class__.__name__)
        params = layer.count_params() if layer.built else 0
        print_fn(_row([name, shape, params, connections[0] if connections else ""], positions))
        for c in connections[1:]:
            print_fn(_row(["", "", "", c], positions))
        print_fn(("=" if i == len(model.layers) - 1 else "_") * line_length)
    trainable = sum(int(_size(w)) for w in model.trainable_weights)
    total = sum(int(_size(w)) for w in model.weights)
    print_fn("Total params: {:,}".format(total))
    print_fn("Trainable params: {:,}".format(trainable))
    print_fn("Non-trainable params: {:,}".format(total - trainable))
    print_fn("_" * line_length)


def _size(w):
    n = 1
    for d in w.shape:
        n *= d
    return n
