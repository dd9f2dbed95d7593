"""A Container's config in Keras 1.2's layout, and the graph rebuilt from one.

    {'name': 'model_1',
     'layers': [{'name': 'dense_1', 'class_name': 'Dense', 'config': {...},
                 'inbound_nodes': [[['input_1', 0, 0]], ...]},   # one list per call
                ...],
     'input_layers': [['input_1', 0, 0]], 'output_layers': [['dense_1', 0, 0]]}

Each call of a layer inside the model is a node, written as the [layer name, node index, tensor
index] of each of its inputs. Node indices are renumbered to count only the nodes that belong
to this model (a layer shared with another model has nodes that do not), and a nested
container's node 0 is its own internal one, so its calls from outside count from 1: the numbers
are those the rebuilt layers get when the graph is replayed. A node whose call got keyword
arguments carries them as a fourth item (Keras 2's layout).

Rebuilding replays the calls: layers are made in order and each node is called on the tensors
its inputs name; a node whose inputs do not exist yet (a shared layer used at several depths)
waits, with the later nodes of its layer, until they do.
"""

def _node_key(layer, index):
    return "%s_ib-%d" % (layer.name, index)


def container_config(model):
    from .container import Container
    kept = {}  # node key -> index among the nodes this model keeps
    for layer in model.layers:
        n = 1 if isinstance(layer, Container) else 0
        for i in range(len(layer.inbound_nodes)):
            key = _node_key(layer, i)
            if key in model.container_nodes:
                kept[key] = n
                n += 1

    def ref(layer, node_index, tensor_index):
        return [layer.name, kept.get(_node_key(layer, node_index), 0), tensor_index]

    layers = []
    for layer in model.layers:
        nodes = []
        for i, node in enumerate(layer.inbound_nodes):
            if _node_key(layer, i) not in model.container_nodes or not node.inbound_layers:
                continue
            data = [ref(l, n, t) for l, n, t in zip(node.inbound_layers, node.node_indices, node.tensor_indices)]
            kwargs = {k: v for k, v in node.arguments.items() if k != "mask"}  # masks are recomputed
            if kwargs:
                data = [d + [kwargs] for d in data]
            nodes.append(data)
        layers.append({"name": layer.name, "class_name": type(layer).__name__, "config": layer.get_config(),
                       "inbound_nodes": nodes})
    config = {"name": model.name, "layers": layers,
              "input_layers": [ref(*x._keras_history) for x in model.inputs],
              "output_layers": [ref(*x._keras_history) for x in model.outputs]}
    if not model.trainable:  # kiln's addition (Keras 1.2 ignores it): a frozen nested model stays frozen
        config["trainable"] = False
    return config


def _bad(msg):
    return ValueError("Invalid model config: " + msg)


# What a layer's constructor or call raises on arguments of the wrong kind or size (a config
# edited by hand, or damaged): reported as an invalid config naming the layer.
_ARGUMENT_ERRORS = (TypeError, ArithmeticError, IndexError, KeyError, AttributeError)


def _in_layer(what, fn):
    try:
        return fn()
    except _ARGUMENT_ERRORS as e:
        raise _bad("%s: %s: %s" % (what, type(e).__name__, e)) from e


def _ref(entry, what):
    if not isinstance(entry, (list, tuple)) or len(entry) not in (3, 4) or not isinstance(entry[0], str) \
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in entry[1:3]):
        raise _bad("%s must be [layer name, node index, tensor index], got %r" % (what, entry))
    kwargs = entry[3] if len(entry) == 4 else {}
    if not isinstance(kwargs, dict):
        raise _bad("%s: the call arguments must be a dict, got %r" % (what, kwargs))
    return entry[0], entry[1], entry[2], kwargs


def _tensor(created, name, node_index, tensor_index, what):
    if name not in created:
        raise _bad("%s refers to layer %r, which the config does not define before it is needed" % (what, name))
    layer = created[name]
    if node_index >= len(layer.inbound_nodes):
        raise _bad("%s refers to node %d of layer %r, which has %d" % (what, node_index, name, len(layer.inbound_nodes)))
    outs = layer.inbound_nodes[node_index].output_tensors
    if tensor_index >= len(outs):
        raise _bad("%s refers to output %d of layer %r (node %d), which has %d" % (what, tensor_index, name, node_index,
                                                                                len(outs)))
    return outs[tensor_index]


def container_from_config(cls, config, custom_objects=None):
    """A new `cls` (Model) from a config of the layout above."""
    from ..layers.serialization import deserialize
    from ..utils.custom_objects import custom_object_scope
    if not isinstance(config, dict):
        raise _bad("expected a dict with 'layers', 'input_layers' and 'output_layers', got %s" % type(config).__name__)
    for key in ("layers", "input_layers", "output_layers"):
        if not isinstance(config.get(key), list):
            raise _bad("%r must be a list, got %r" % (key, config.get(key)))
    with custom_object_scope(custom_objects):
        created, pending = {}, []  # pending: [layer, [node data, ...]] in config order
        for i, data in enumerate(config["layers"]):
            if not isinstance(data, dict) or not isinstance(data.get("name"), str):
                raise _bad("layer %d must be a dict with a 'name', got %r" % (i, data))
            name = data["name"]
            if name in created:
                raise _bad("the layer name %r appears twice" % name)
            layer = _in_layer("layer %r (%s)" % (name, data.get("class_name")), lambda: deserialize(data))
            if layer.name != name:  # a Sequential's Keras 1.2 config (a list) has no name of its own
                layer.name = name
            created[name] = layer
            nodes = data.get("inbound_nodes", [])
            if not isinstance(nodes, list) or not all(isinstance(n, list) for n in nodes):
                raise _bad("inbound_nodes of layer %r must be a list of lists, got %r" % (name, nodes))
            pending.append([layer, list(nodes)])
            _replay(created, pending)
        while any(nodes for _, nodes in pending):
            if not _replay(created, pending):
                layer, nodes = next(p for p in pending if p[1])
                raise _bad("node %d of layer %r needs %s, which the graph never computes"
                           % (len(layer.inbound_nodes), layer.name, nodes[0]))
        ins = [_tensor(created, *_ref(e, "input_layers entry")[:3], what="input_layers") for e in config["input_layers"]]
        outs = [_tensor(created, *_ref(e, "output_layers entry")[:3], what="output_layers")
                for e in config["output_layers"]]
    model = cls(input=ins, output=outs, name=config.get("name"))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _replay(created, pending):
    """Calls every node whose inputs exist, in order per layer; True if any was called."""
    progress = True
    any_called = False
    while progress:
        progress = False
        for entry in pending:
            layer, nodes = entry
            while nodes:
                refs = [_ref(e, "an inbound node of layer %r" % layer.name) for e in nodes[0]]
                if not all(r[0] in created and r[1] < len(created[r[0]].inbound_nodes) for r in refs):
                    break
                inputs = [_tensor(created, n, k, t, "an inbound node of layer %r" % layer.name) for n, k, t, _ in refs]
                kwargs = refs[0][3] if refs else {}
                _in_layer("calling layer %r (%s)" % (layer.name, type(layer).__name__),
                          lambda: layer(inputs[0] if len(inputs) == 1 else inputs, **kwargs))
                nodes.pop(0)
                progress = any_called = True
    return any_called
