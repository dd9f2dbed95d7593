"""PyTorch state dicts into kiln models: each module kind (Linear, Conv2d in both orderings,
Conv1d, Embedding, BatchNorm2d, LSTM and GRU one- and bidirectional, nn.RNN) loaded by the
default mapping or by names, and kiln's predictions compared with the torch module's on real
MNIST digits and movie-review words (|kiln - torch| <= 1e-5 + 1e-4 |torch|, float32 both
sides); a GRU into Keras 1.2's GRU (reset_after=False) and shape mismatches are refused naming
both sides."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
nn = torch.nn

from kiln.interop import TorchWeightsError, load_torch_state_dict  # noqa: E402
from kiln.layers import (GRU, LSTM, Activation, BatchNormalization, Bidirectional,  # noqa: E402
                         Convolution1D, Convolution2D, Dense, Embedding, Flatten, Input, SimpleRNN,
                         TimeDistributed)
from kiln.models import Model  # noqa: E402
from torch_cases import wordconv_model, words  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4


@pytest.fixture(autouse=True)
def _torch_seed():
    torch.manual_seed(0)


def close(kiln_out, torch_out):
    np.testing.assert_allclose(kiln_out, torch_out.detach().numpy(), atol=ATOL, rtol=RTOL)


def randomized(module):
    """Non-trivial running statistics for batch norms (a fresh one has mean 0, var 1)."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return module.eval()


def test_mlp_by_default_order(mnist):
    net = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    x = Input(shape=(784,))
    model = Model(x, Dense(10)(Dense(32, activation="relu")(x)))
    pairs = load_torch_state_dict(model, net.state_dict())
    assert list(pairs) == ["0", "2"]
    xs = mnist[2][:64]
    close(model.predict(xs), net(torch.from_numpy(xs)))


@pytest.mark.parametrize("ordering", ["th", "tf"])
def test_convnet_with_batchnorm(ordering, mnist):
    net = randomized(nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6, eps=1e-3), nn.ReLU(),
                                   nn.Conv2d(6, 4, 3, stride=2), nn.ReLU()))
    shape = (1, 28, 28) if ordering == "th" else (28, 28, 1)
    x = Input(shape=shape)
    h = Convolution2D(6, 3, 3, border_mode="same", dim_ordering=ordering)(x)
    h = BatchNormalization(axis=1 if ordering == "th" else -1, epsilon=1e-3)(h)
    h = Convolution2D(4, 3, 3, subsample=(2, 2), activation="relu", dim_ordering=ordering)(Activation("relu")(h))
    model = Model(x, h)
    load_torch_state_dict(model, net.state_dict())
    xs = mnist[2][:16].reshape(16, 1, 28, 28)
    want = net(torch.from_numpy(xs))
    got = model.predict(xs if ordering == "th" else np.ascontiguousarray(xs.transpose(0, 2, 3, 1)))
    close(got if ordering == "th" else got.transpose(0, 3, 1, 2), want)


class Tagger(nn.Module):
    def __init__(self, bidirectional=False):
        super().__init__()
        self.embed = nn.Embedding(1000, 16)
        self.lstm = nn.LSTM(16, 12, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(12 * (2 if bidirectional else 1), 3)

    def forward(self, ids):
        seq, _ = self.lstm(self.embed(ids))
        return self.out(seq)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_embedding_stacked_lstm_and_linear(bidirectional, reviews):
    net = Tagger(bidirectional).eval()
    ids = Input(shape=(30,), dtype="int32")
    h = Embedding(1000, 16, input_length=30)(ids)
    for _ in range(2):
        lstm = LSTM(12, return_sequences=True, inner_activation="sigmoid")
        h = Bidirectional(lstm, merge_mode="concat")(h) if bidirectional else lstm(h)
    model = Model(ids, TimeDistributed(Dense(3))(h))
    pairs = load_torch_state_dict(model, net.state_dict())
    assert list(pairs) == ["embed", "lstm.l0", "lstm.l1", "out"]
    x = words(reviews)
    close(model.predict(x.astype(np.float32)), net(torch.from_numpy(x)))


def test_rnn_by_names_into_a_simple_rnn(mnist):
    rnn = nn.RNN(28, 10, batch_first=True).eval()
    x = Input(shape=(28, 28))
    model = Model(x, SimpleRNN(10, name="rows", return_sequences=True)(x))
    assert load_torch_state_dict(model, rnn.state_dict(), mapping={"l0": "rows"}) == {"l0": "rows"}
    xs = mnist[2][:8].reshape(8, 28, 28)
    close(model.predict(xs), rnn(torch.from_numpy(xs))[0])


def test_a_shape_mismatch_names_both_sides_and_loads_nothing():
    net = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3))
    x = Input(shape=(5,))
    first = Dense(4, name="first")
    model = Model(x, Dense(2, name="second")(first(x)))
    before = first.get_weights()[0].copy()
    with pytest.raises(TorchWeightsError, match=r"torch 1\.weight \(3, 4\) gives W \(4, 3\).*'second'.*second_W "
                                                r"is \(4, 2\)"):
        load_torch_state_dict(model, net.state_dict())
    np.testing.assert_array_equal(first.get_weights()[0], before)


def test_the_wrong_module_kind_and_counts_are_named():
    x = Input(shape=(5,))
    model = Model(x, Dense(2, name="d")(x))
    with pytest.raises(TorchWeightsError, match="2 units.*1 layers"):
        load_torch_state_dict(model, nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 2)).state_dict())
    with pytest.raises(TorchWeightsError, match="'0' .*Conv2d.*'d' \\(Dense\\)"):
        load_torch_state_dict(model, nn.Sequential(nn.Conv2d(1, 2, 3)).state_dict())
    with pytest.raises(TorchWeightsError, match="lacks"):
        load_torch_state_dict(model, nn.Sequential(nn.Linear(5, 2)).state_dict(), mapping={"fc": "d"})


class GRUTagger(nn.Module):
    def __init__(self, bidirectional=False):
        super().__init__()
        self.embed = nn.Embedding(1000, 16)
        self.gru = nn.GRU(16, 12, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(12 * (2 if bidirectional else 1), 3)

    def forward(self, ids):
        seq, _ = self.gru(self.embed(ids))
        return self.out(seq)


def randomized_gru(module):
    """A fresh nn.GRU's biases are small uniforms: make them large enough that a bias put in the
    wrong place (b_hn outside the reset product, r and z swapped) shows in the outputs."""
    for name, p in module.named_parameters():
        if name.startswith("gru.bias"):
            p.data.uniform_(-1.0, 1.0)
    return module.eval()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_embedding_stacked_gru_and_linear(bidirectional, reviews):
    net = randomized_gru(GRUTagger(bidirectional))
    ids = Input(shape=(30,), dtype="int32")
    h = Embedding(1000, 16, input_length=30)(ids)
    for _ in range(2):
        gru = GRU(12, return_sequences=True, reset_after=True, inner_activation="sigmoid")
        h = Bidirectional(gru, merge_mode="concat")(h) if bidirectional else gru(h)
    model = Model(ids, TimeDistributed(Dense(3))(h))
    pairs = load_torch_state_dict(model, net.state_dict())
    assert list(pairs) == ["embed", "gru.l0", "gru.l1", "out"]
    x = words(reviews)
    close(model.predict(x.astype(np.float32)), net(torch.from_numpy(x)))


def test_gru_last_state_by_names(mnist):
    """MNIST rows as a sequence of 28 steps; kiln's last output is torch's final hidden state."""
    gru = nn.GRU(28, 10, batch_first=True).eval()
    for p in gru.parameters():  # wider than torch's default init, so each weight shows
        p.data.uniform_(-0.6, 0.6)
    x = Input(shape=(28, 28))
    model = Model(x, GRU(10, name="rows", reset_after=True, recurrent_activation="sigmoid")(x))
    assert load_torch_state_dict(model, gru.state_dict(), mapping={"l0": "rows"}) == {"l0": "rows"}
    xs = mnist[2][:8].reshape(8, 28, 28)
    close(model.predict(xs), gru(torch.from_numpy(xs))[1][0])


def test_a_torch_gru_into_a_keras1_gru_is_refused_saying_use_reset_after():
    x = Input(shape=(4, 3))
    model = Model(x, GRU(5, name="g", inner_activation="sigmoid")(x))
    with pytest.raises(TorchWeightsError, match=r"'g'.*reset_after=False.*reset gate after.*"
                                                r"GRU\(\.\.\., reset_after=True"):
        load_torch_state_dict(model, nn.GRU(3, 5).state_dict())


def test_a_gru_with_hard_sigmoid_gates_is_refused():
    x = Input(shape=(4, 3))
    model = Model(x, GRU(5, name="hs", reset_after=True)(x))
    with pytest.raises(TorchWeightsError, match="GRU, whose gates are sigmoids.*'hs' has inner_activation="
                                                "'hard_sigmoid'"):
        load_torch_state_dict(model, nn.GRU(3, 5).state_dict())


class WordConv(nn.Module):
    """Embedded words, two 1-D convolutions over the steps (channels first in torch), a linear
    read-out of the flattened result."""

    def __init__(self, stride=1, dilation=1):
        super().__init__()
        self.embed = nn.Embedding(1000, 16)
        self.conv1 = nn.Conv1d(16, 8, 5, padding=2)
        self.conv2 = nn.Conv1d(8, 6, 3, stride=stride, dilation=dilation)
        steps = (30 - dilation * 2 - 1) // stride + 1
        self.out = nn.Linear(6 * steps, 2)
        self.steps = steps

    def forward(self, ids):
        h = torch.relu(self.conv1(self.embed(ids).transpose(1, 2)))
        h = torch.tanh(self.conv2(h))
        return self.out(h.transpose(1, 2).reshape(len(ids), -1))  # flattened steps-major, as kiln's


@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2)])
def test_embedding_conv1d_and_linear(stride, dilation, reviews):
    net = WordConv(stride, dilation).eval()
    model, model_steps = wordconv_model(stride, dilation)
    assert model_steps == net.steps
    pairs = load_torch_state_dict(model, net.state_dict())
    assert list(pairs) == ["embed", "conv1", "conv2", "out"]
    x = words(reviews)
    close(model.predict(x.astype(np.float32)), net(torch.from_numpy(x)))


def test_conv1d_shapes_and_biases_are_checked():
    x = Input(shape=(10, 4))
    model = Model(x, Convolution1D(3, 5, name="c")(x))
    with pytest.raises(TorchWeightsError, match=r"torch 0\.weight \(3, 4, 2\) gives W \(2, 1, 4, 3\).*'c'.*"
                                                r"c_W is \(5, 1, 4, 3\)"):
        load_torch_state_dict(model, nn.Sequential(nn.Conv1d(4, 3, 2)).state_dict())
    with pytest.raises(TorchWeightsError, match=r"leaves kiln layer 'c''s weights \['b'\] unset"):
        load_torch_state_dict(model, nn.Sequential(nn.Conv1d(4, 3, 5, bias=False)).state_dict())
    with pytest.raises(TorchWeightsError, match=r"'0' \(Conv1d.*'c' \(Dense\); kiln takes it into a Convolution1D"):
        load_torch_state_dict(Model(x, Dense(2, name="c")(Flatten()(x))), nn.Sequential(nn.Conv1d(4, 3, 5))
                              .state_dict())


def test_an_lstm_with_hard_sigmoid_gates_is_refused():
    x = Input(shape=(4, 3))
    model = Model(x, LSTM(5, name="hs")(x))
    with pytest.raises(TorchWeightsError, match="'hs' has inner_activation='hard_sigmoid'"):
        load_torch_state_dict(model, nn.LSTM(3, 5).state_dict())
