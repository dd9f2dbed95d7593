"""The guide's "concept of layer node" section, as written, with Dense standing in for LSTM and
Convolution2D (Dense applies to the last axis of a 3D/4D input), plus Keras 1.2's node
bookkeeping: messages (reference section 2), the Node invariant (section 3) and
`_keras_history`."""
import pytest

from kiln import backend as K
from kiln.graph.layer import LayerNodeError
from kiln.graph.node import Node
from kiln.layers import Dense, Input, Lambda, merge
from kiln.models import Model


def test_single_call_output_is_the_returned_tensor():
    a = Input(shape=(140, 256))
    lstm = Dense(32)
    encoded_a = lstm(a)
    assert lstm.output == encoded_a
    assert lstm.output is encoded_a
    assert lstm.input is a
    assert lstm.input_shape == (None, 140, 256)
    assert lstm.output_shape == (None, 140, 32)


def test_two_calls_make_output_ill_defined_with_the_guides_message():
    K.reset_uids()
    a = Input(shape=(140, 256))
    b = Input(shape=(140, 256))
    lstm = Dense(32)
    assert lstm.name == "dense_1"
    encoded_a = lstm(a)
    encoded_b = lstm(b)
    msg = ('Layer dense_1 has multiple inbound nodes, hence the notion of "layer output" is ill-defined. '
           "Use `get_output_at(node_index)` instead.")
    # The guide shows AssertionError, Keras 1.2 raises AttributeError: both catch it.
    with pytest.raises(AssertionError) as e:
        lstm.output
    assert str(e.value) == msg
    with pytest.raises(AttributeError) as e:
        lstm.output
    assert str(e.value) == msg
    assert isinstance(e.value, LayerNodeError)
    assert not hasattr(lstm, "output")
    with pytest.raises(AttributeError) as e:
        lstm.input
    assert str(e.value) == ('Layer dense_1 has multiple inbound nodes, hence the notion of "layer input" is '
                            "ill-defined. Use `get_input_at(node_index)` instead.")
    assert not hasattr(lstm, "input")

    assert lstm.get_output_at(0) == encoded_a
    assert lstm.get_output_at(1) == encoded_b
    assert lstm.get_input_at(0) is a and lstm.get_input_at(1) is b
    # Same shapes on both nodes: the shape properties stay defined.
    assert lstm.input_shape == (None, 140, 256)
    assert lstm.output_shape == (None, 140, 32)
    assert lstm.get_output_shape_at(1) == (None, 140, 32)


def test_input_shape_defined_until_a_node_of_another_shape():
    K.reset_uids()
    a = Input(shape=(32, 32, 3))
    b = Input(shape=(64, 64, 3))
    conv = Dense(16)  # stands in for Convolution2D(16, 3, 3, border_mode='same'), channels last
    conved_a = conv(a)
    assert conv.input_shape == (None, 32, 32, 3)
    assert conv.output_shape == (None, 32, 32, 16)
    conved_b = conv(b)
    assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
    assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
    assert conv.get_output_shape_at(0) == (None, 32, 32, 16)
    assert conv.get_output_shape_at(1) == (None, 64, 64, 16)
    assert conv.get_output_at(0) is conved_a and conv.get_output_at(1) is conved_b

    with pytest.raises(AttributeError) as e:
        conv.input_shape
    assert str(e.value) == (
        'The layer "dense_1 has multiple inbound nodes, with different input shapes. Hence the notion of '
        '"input shape" is ill-defined for the layer. Use `get_input_shape_at(node_index)` instead.')
    with pytest.raises(AssertionError) as e:
        conv.output_shape
    assert str(e.value) == (
        'The layer "dense_1 has multiple inbound nodes, with different output shapes. Hence the notion of '
        '"output shape" is ill-defined for the layer. Use `get_output_shape_at(node_index)` instead.')


@pytest.mark.parametrize("getter,what", [
    ("get_input_at", "input"), ("get_output_at", "output"),
    ("get_input_shape_at", "input shape"), ("get_output_shape_at", "output shape"),
])
def test_bad_node_index_message(getter, what):
    a = Input(shape=(4,))
    layer = Dense(2)
    layer(a)
    layer(Input(shape=(4,)))
    with pytest.raises(ValueError) as e:
        getattr(layer, getter)(3)
    assert str(e.value) == "Asked to get %s at node 3, but the layer has only 2 inbound nodes." % what


def test_negative_node_index_is_the_last_node_as_in_keras():
    layer = Dense(2)
    layer(Input(shape=(4,)))
    last = layer(Input(shape=(4,)))
    assert layer.get_output_at(-1) is last


@pytest.mark.parametrize("getter,what", [
    ("get_input_at", "input"), ("get_output_at", "output"),
    ("get_input_shape_at", "input shape"), ("get_output_shape_at", "output shape"),
])
def test_never_called_layer_node_getters(getter, what):
    with pytest.raises(RuntimeError) as e:
        getattr(Dense(2), getter)(0)
    assert str(e.value) == "The layer has never been called and thus has no defined %s." % what


def test_never_called_layer_properties():
    K.reset_uids()
    layer = Dense(2)
    cases = [("input", "Layer dense_1 is not connected, no input to return."),
             ("output", "Layer dense_1 has no inbound nodes."),
             ("input_shape", "The layer has never been called and thus has no defined input shape."),
             ("output_shape", "The layer has never been called and thus has no defined output shape.")]
    for attr, msg in cases:
        with pytest.raises(AttributeError) as e:
            getattr(layer, attr)
        assert str(e.value) == msg, attr
        assert not hasattr(layer, attr)


def _trace_to_inputs(tensor):
    """The InputLayers a tensor depends on, found only through `_keras_history` and nodes."""
    found, stack = [], [tensor]
    while stack:
        t = stack.pop()
        layer, node_index, tensor_index = t._keras_history
        node = layer.inbound_nodes[node_index]
        assert node.output_tensors[tensor_index] is t
        if not node.inbound_layers:
            if layer not in found:
                found.append(layer)
            continue
        stack.extend(node.input_tensors)
    return found


def _graph():
    K.reset_uids()
    a = Input(shape=(6,), name="a")
    b = Input(shape=(6,), name="b")
    shared = Dense(4, activation="tanh", name="shared")
    ea, eb = shared(a), shared(b)
    s = merge([ea, eb], mode="mul")
    diff = Lambda(lambda x, y: x - y)([s, ea])
    out = Dense(1, name="out")(diff)
    return a, b, shared, ea, eb, s, diff, out


def test_keras_history_traces_any_tensor_to_its_layer_node_and_inputs():
    a, b, shared, ea, eb, s, diff, out = _graph()
    assert a._keras_history[1:] == (0, 0) and a._keras_history[0].name == "a"
    assert ea._keras_history == (shared, 0, 0)
    assert eb._keras_history == (shared, 1, 0)
    assert s._keras_history[0].name == "merge_1"
    assert out._keras_history[0].name == "out"
    assert [l.name for l in _trace_to_inputs(out)] == ["a", "b"]
    assert [l.name for l in _trace_to_inputs(ea)] == ["a"]
    assert [l.name for l in _trace_to_inputs(eb)] == ["b"]
    # Keras tensors carry their static shape as _keras_shape and the learning-phase flag.
    assert out._keras_shape == (None, 1) and ea._keras_shape == (None, 4)
    assert out._uses_learning_phase is False
    # A raw backend op on a Keras tensor is not a Keras tensor: no history.
    assert K.square(out)._keras_history is None


def test_node_invariant_and_lists():
    a, b, shared, ea, eb, s, diff, out = _graph()
    model = Model(input=[a, b], output=out)
    checked = 0
    for layer in model.layers:
        assert type(layer.inbound_nodes) is list and type(layer.outbound_nodes) is list
        for node in layer.inbound_nodes:
            assert isinstance(node, Node) and node.outbound_layer is layer
            for attr in ("inbound_layers", "node_indices", "tensor_indices", "input_tensors", "output_tensors",
                         "input_masks", "output_masks", "input_shapes", "output_shapes"):
                assert type(getattr(node, attr)) is list, attr
            n_in = len(node.inbound_layers)
            assert len(node.node_indices) == len(node.tensor_indices) == n_in
            for i in range(n_in):
                src = node.inbound_layers[i].inbound_nodes[node.node_indices[i]]
                assert node.input_tensors[i] is src.output_tensors[node.tensor_indices[i]]
                assert node in node.inbound_layers[i].outbound_nodes
                checked += 1
            assert node.input_shapes == [tuple(t.shape) for t in node.input_tensors]
            assert node.output_shapes == [tuple(t.shape) for t in node.output_tensors]
    assert checked == 7  # shared: 2, merge: 2, lambda: 2, out: 1
    # InputLayer: one node, no inbound layers, the same tensor in and out, masks [None].
    in_node = a._keras_history[0].inbound_nodes[0]
    assert in_node.inbound_layers == [] and in_node.input_tensors == [a] == in_node.output_tensors
    assert in_node.input_masks == [None]
    # One node per call. As in Keras 1.2, a node is appended to an inbound layer's outbound_nodes once per
    # input slot, so the merge that takes both outputs of the shared layer appears twice.
    assert len(shared.inbound_nodes) == 2
    assert [n.outbound_layer.name for n in shared.outbound_nodes] == ["merge_1", "merge_1", "lambda_1"]
    # A Model records node 0 linking its own inputs to its outputs at construction.
    assert len(model.inbound_nodes) == 1
    assert model.inbound_nodes[0].input_tensors == [a, b]
    assert model.inbound_nodes[0].output_tensors == [out]


def test_calling_a_model_adds_a_node_to_the_model_only():
    a, b, shared, ea, eb, s, diff, out = _graph()
    model = Model(input=[a, b], output=out)
    n_shared = len(shared.inbound_nodes)
    y = model([Input(shape=(6,)), Input(shape=(6,))])
    assert len(model.inbound_nodes) == 2
    assert y._keras_history == (model, 1, 0)
    assert model.get_output_at(1) is y
    assert len(shared.inbound_nodes) == n_shared  # inner layers are re-applied, not re-called


def test_updates_and_losses_are_kept_per_inputs():
    a = Input(shape=(2,))
    layer = Dense(1)
    x = layer(a)
    layer.add_update((layer.trainable_weights[1], layer.trainable_weights[1] + 1.0), inputs=a)
    layer.add_loss(K.sum(x), inputs=a)
    layer.add_loss(K.sum(layer.trainable_weights[0]), inputs=None)
    assert len(layer.get_updates_for(a)) == 1 and layer.get_updates_for(None) == []
    assert [l.id for l in layer.get_losses_for(a)] == [layer.losses[0].id]
    assert [l.id for l in layer.get_losses_for(None)] == [layer.losses[1].id]
    assert layer.get_losses_for(Input(shape=(2,))) == []


def test_nodes_record_masks_and_models_pass_them_on():
    from kiln.layers import Embedding, LSTM
    words = Input(shape=(5,), dtype="int32")
    emb = Embedding(10, 4, mask_zero=True)
    seq = emb(words)
    assert emb.input_mask is None
    assert emb.output_mask is seq._keras_mask and seq._keras_mask is not None
    inner = Model(words, seq)
    assert inner.compute_mask(words) is seq._keras_mask  # the model's own inputs: its outputs' masks
    other = Input(shape=(5,), dtype="int32")
    y = inner(other)
    assert inner.compute_mask(other) is y._keras_mask and y._keras_mask is not None
    lstm = LSTM(3, return_sequences=True)
    z = lstm(y)
    assert lstm.input_mask is y._keras_mask  # the nested model's mask reached the LSTM
    two = Model(words, [seq, LSTM(2)(seq)])
    masks = two.compute_mask(words, None)
    assert masks[0] is seq._keras_mask and masks[1] is None
    plain = Input(shape=(3,))
    m = Model(plain, [Dense(2)(plain), Dense(1)(plain)])
    assert m.compute_mask([plain], [None]) == [None, None]
    assert z._keras_mask is not None


def test_models_know_their_learning_phase_and_node_indices():
    from kiln.layers import Dropout
    a, b = Input(shape=(4,)), Input(shape=(4,))
    plain = Model([a, b], [Dense(2)(a), Dense(2)(b)])
    assert not plain.uses_learning_phase
    dropped = Model([a, b], [Dense(2)(a), Dropout(0.5)(b)])
    assert dropped.uses_learning_phase
    assert dropped.input_layers_node_indices == [0, 0] and dropped.input_layers_tensor_indices == [0, 0]
    assert dropped.output_layers_node_indices == [0, 0] and dropped.output_layers_tensor_indices == [0, 0]
    c, d = dropped([Input(shape=(4,)), Input(shape=(4,))])
    assert c._uses_learning_phase and d._uses_learning_phase  # Keras 1.2: a model's call marks all outputs
    assert K._BACKEND == K.backend() == "kiln"
