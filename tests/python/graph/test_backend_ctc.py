"""K.ctc_batch_cost and K.ctc_decode (backend/ctc.py): the cost against a brute-force sum over
every alignment on tiny cases and a float64 NumPy alpha recursion on larger ones (the two
references checked against each other), its gradients against central differences of the NumPy
cost, fixed and dynamic time, the masking by input_length / label_length; the greedy decoding
against NumPy; and Keras' image_ocr pattern (a Lambda computing the cost as the model's output,
compiled with loss=lambda y_true, y_pred: y_pred) learning to read MNIST digits written in a
row."""
import itertools

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Convolution1D, Dense, Input, Lambda
from kiln.models import Model
from kiln.optimizers import Adam

from numeric import central_difference

RNG = np.random.default_rng(5)


# ----------------------------------------------------------------------------- NumPy references

def np_log_probs(y):
    """What Keras feeds TensorFlow's ctc_loss, log(y + 1e-8), as TensorFlow reads it (logits)."""
    s = y + 1e-8
    return np.log(s) - np.log(s.sum(-1, keepdims=True))


def np_ctc_brute(y, labels, input_length):
    """-log of the sum, over every path of input_length steps that collapses (repeats merged,
    blanks dropped) to `labels`, of the path's probability."""
    lp = np_log_probs(y)[:input_length]
    blank = y.shape[-1] - 1
    scores = [sum(lp[t, k] for t, k in enumerate(path))
              for path in itertools.product(range(y.shape[-1]), repeat=input_length)
              if [k for k, _ in itertools.groupby(path) if k != blank] == list(labels)]
    return -np.logaddexp.reduce(scores) if scores else np.inf


def np_ctc_alpha(y, labels, input_length):
    """-log p(labels) by the forward recursion over the extended labels, in float64 logs."""
    lp = np_log_probs(y)[:input_length]
    blank = y.shape[-1] - 1
    ext = [blank]
    for k in labels:
        ext += [k, blank]
    alpha = np.full(len(ext), -np.inf)
    alpha[0] = lp[0, blank]
    if labels:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, input_length):
        new = np.full_like(alpha, -np.inf)
        for s, k in enumerate(ext):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and k != blank and k != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, k]
        alpha = new
    return -np.logaddexp.reduce(alpha[-2:] if labels else alpha[-1:])


def np_ctc_batch(y, labels, input_length, label_length, ref=np_ctc_alpha):
    return np.array([[ref(y[b], [int(k) for k in labels[b, :int(label_length[b, 0])]], int(input_length[b, 0]))]
                     for b in range(len(y))])


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ctc_function(time_steps, classes, width):
    y_true = K.placeholder(shape=(None, width))
    y_pred = K.placeholder(shape=(None, time_steps, classes))
    lengths = [K.placeholder(shape=(None, 1)) for _ in range(2)]
    cost = K.ctc_batch_cost(y_true, y_pred, *lengths)
    return cost, [y_true, y_pred] + lengths


# ----------------------------------------------------------------------------------- the cost

# (labels padded with -1, input_length, label_length) per sample: repeats that need a blank
# between them, a sample using fewer steps than the batch has, an empty label
TINY = [
    (3, [[0, 1], [1, 1], [0, -1], [-1, -1]], [4, 4, 3, 4], [2, 2, 1, 0]),
    (2, [[0, 0, 0], [0, 1, 0], [1, -1, -1]], [5, 5, 2], [3, 3, 1]),
    (4, [[2, 0, 2], [1, 1, -1], [0, -1, -1]], [5, 4, 5], [3, 2, 1]),
]


@pytest.mark.parametrize("case", range(len(TINY)), ids=["C%d-L%d" % (c[0] + 1, len(c[1][0])) for c in TINY])
def test_cost_is_the_sum_over_every_alignment(case):
    labels_minus_blank, labels, input_length, label_length = TINY[case]
    classes, steps = labels_minus_blank + 1, max(input_length)
    labels = np.array(labels, np.float32)
    input_length = np.array(input_length, np.float32)[:, None]
    label_length = np.array(label_length, np.float32)[:, None]
    y = softmax(RNG.standard_normal((len(labels), steps, classes)))
    brute = np_ctc_batch(y, labels, input_length, label_length, np_ctc_brute)
    np.testing.assert_allclose(np_ctc_batch(y, labels, input_length, label_length), brute, rtol=1e-12)
    cost, inputs = ctc_function(None, classes, labels.shape[1])
    assert K.int_shape(cost) == (None, 1)
    got = K.function(inputs, [cost])([labels, y.astype(np.float32), input_length, label_length])[0]
    assert got.shape == (len(labels), 1)
    np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-5)


def larger_case(batch=5, steps=30, classes=8, width=6):
    label_length = RNG.integers(1, width + 1, (batch, 1)).astype(np.float32)
    input_length = RNG.integers(2 * width + 1, steps + 1, (batch, 1)).astype(np.float32)
    input_length[0] = steps
    labels = RNG.integers(0, classes - 1, (batch, width)).astype(np.float32)
    labels[1, :2] = labels[1, 0]  # a repeat
    for b in range(batch):
        labels[b, int(label_length[b, 0]):] = -1.0
    y = softmax(RNG.standard_normal((batch, steps, classes)) * 2.0)
    return labels, y, input_length, label_length


@pytest.mark.parametrize("static_time", [True, False], ids=["time-known", "time-dynamic"])
def test_cost_matches_the_numpy_recursion_on_longer_sequences(static_time):
    labels, y, input_length, label_length = larger_case()
    want = np_ctc_batch(y, labels, input_length, label_length)
    cost, inputs = ctc_function(y.shape[1] if static_time else None, y.shape[2], labels.shape[1])
    f = K.function(inputs, [cost])
    got = f([labels, y.astype(np.float32), input_length, label_length])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    if not static_time:  # the same graph at another length
        short = y[:, :20] / y[:, :20].sum(-1, keepdims=True)
        lengths = np.minimum(input_length, 20)
        got = f([labels, short.astype(np.float32), lengths, label_length])[0]
        np.testing.assert_allclose(got, np_ctc_batch(short, labels, lengths, label_length), rtol=1e-5, atol=1e-4)


def test_lengths_as_vectors_and_int_labels():
    labels, y, input_length, label_length = larger_case(batch=3, steps=12, classes=5, width=3)
    y_true = K.placeholder(shape=(None, 3), dtype="int32")
    y_pred = K.placeholder(shape=(None, 12, 5))
    il, ll = K.placeholder(shape=(None,)), K.placeholder(shape=(None,))
    got = K.function([y_true, y_pred, il, ll], [K.ctc_batch_cost(y_true, y_pred, il, ll)])(
        [labels.astype(np.int32), y.astype(np.float32), input_length[:, 0], label_length[:, 0]])[0]
    np.testing.assert_allclose(got, np_ctc_batch(y, labels, input_length, label_length), rtol=1e-5, atol=1e-4)


def test_an_impossible_alignment_costs_about_1e30_and_stays_finite():
    """Two equal labels need three steps; with two, no path exists (TensorFlow: inf)."""
    cost, inputs = ctc_function(4, 3, 2)
    y = softmax(RNG.standard_normal((2, 4, 3))).astype(np.float32)
    got = K.function(inputs, [cost])([np.array([[1, 1], [0, 1]], np.float32), y,
                                      np.array([[2], [2]], np.float32), np.array([[2], [2]], np.float32)])[0]
    assert 1e29 < got[0, 0] < 1e31 and np.isfinite(got[0, 0])
    np.testing.assert_allclose(got[1, 0], np_ctc_alpha(y[1].astype(np.float64), [0, 1], 2), rtol=1e-5)


def test_gradients_match_central_differences_of_the_numpy_cost():
    """Through y_pred itself (any positive values, as the renormalization allows), and through a
    softmax of logits, the way a model feeds it; each output weighted by a random number."""
    labels = np.array([[0, 2, 2], [1, 0, -1], [2, -1, -1]], np.float32)
    input_length = np.array([[7], [6], [7]], np.float32)
    label_length = np.array([[3], [2], [1]], np.float32)
    y = softmax(RNG.standard_normal((3, 7, 4)))
    w = RNG.standard_normal((3, 1))
    weight = K.placeholder(shape=(None, 1))
    cost, (y_true, y_pred, il, ll) = ctc_function(None, 4, 3)
    grad, = K.gradients(K.sum(cost * weight), [y_pred])
    got = K.function([y_true, y_pred, il, ll, weight], [grad])(
        [labels, y.astype(np.float32), input_length, label_length, w.astype(np.float32)])[0]
    want = central_difference(lambda v: np.sum(np_ctc_batch(v, labels, input_length, label_length) * w), [y], 0)
    assert np.abs(want[1, 6]).max() == 0  # the step past input_length does not count
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)

    z = RNG.standard_normal(y.shape)
    logits = K.placeholder(shape=(None, None, 4))
    grad, = K.gradients(K.sum(K.ctc_batch_cost(y_true, K.softmax(logits), il, ll) * weight), [logits])
    got = K.function([y_true, logits, il, ll, weight], [grad])(
        [labels, z.astype(np.float32), input_length, label_length, w.astype(np.float32)])[0]
    want = central_difference(lambda v: np.sum(np_ctc_batch(softmax(v), labels, input_length, label_length) * w),
                              [z], 0)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_bad_shapes_are_named():
    y_pred = K.placeholder(shape=(None, 5, 4))
    col = K.placeholder(shape=(None, 1))
    with pytest.raises(ValueError, match="y_pred must be"):
        K.ctc_batch_cost(K.placeholder(shape=(None, 2)), K.placeholder(shape=(None, 4)), col, col)
    with pytest.raises(ValueError, match="y_true must be"):
        K.ctc_batch_cost(K.placeholder(shape=(None, 2, 2)), y_pred, col, col)
    with pytest.raises(ValueError, match="input_length must be"):
        K.ctc_batch_cost(K.placeholder(shape=(None, 2)), y_pred, K.placeholder(shape=(None, 2)), col)
    with pytest.raises(ValueError, match="at least 2 categories"):
        K.ctc_batch_cost(K.placeholder(shape=(None, 2)), K.placeholder(shape=(None, 5, 1)), col, col)


# ---------------------------------------------------------------------------------- decoding

def np_greedy(y, input_length):
    best = y[:input_length].argmax(-1)
    blank = y.shape[-1] - 1
    return [int(k) for k, _ in itertools.groupby(best) if k != blank]


def test_greedy_decode_matches_numpy():
    steps, classes = 9, 5
    paths = np.array([[0, 0, 4, 0, 1, 1, 4, 4, 2], [4] * 9, [2, 4, 2, 2, 3, 3, 3, 1, 0], [1, 2, 3, 0, 1, 2, 3, 0, 1]])
    y = RNG.random((4, steps, classes))
    y[np.arange(4)[:, None], np.arange(steps), paths] += 3.0
    y /= y.sum(-1, keepdims=True)
    input_length = np.array([[9], [9], [4], [9]], np.float32)
    y_pred, il = K.placeholder(shape=(None, steps, classes)), K.placeholder(shape=(None, 1))
    (decoded,), log_prob = K.ctc_decode(y_pred, il)
    assert K.int_shape(decoded) == (None, steps) and K.int_shape(log_prob) == (None, 1)
    got, got_lp = K.function([y_pred, il], [decoded, log_prob])([y.astype(np.float32), input_length])
    for b in range(4):
        want = np_greedy(y[b], int(input_length[b, 0]))
        assert list(got[b]) == want + [-1] * (steps - len(want)), (b, got[b], want)
    assert np_greedy(y[0], 9) == [0, 0, 1, 2] and np_greedy(y[2], 4) == [2, 2]
    want_lp = [-np.log(y[b, :int(input_length[b, 0])].max(-1) + 1e-8).sum() for b in range(4)]
    np.testing.assert_allclose(got_lp[:, 0], want_lp, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="beam search"):
        K.ctc_decode(y_pred, il, greedy=False)
    with pytest.raises(ValueError, match="time_steps"):
        K.ctc_decode(K.placeholder(shape=(None, None, classes)), il)


# ------------------------------------------------------------------ learning, image_ocr's way

def digit_rows(mnist, n, first, last, steps_per_digit=7, max_digits=3):
    """n images of 1 to max_digits MNIST test digits (of those numbered first..last - 1,
    downsampled to 14 x 14) side by side, read left to right as steps of two pixel columns (28
    features each), zero-padded to max_digits; with the digits as labels (padded with -1) and
    each image's steps and label count."""
    _, _, x, y = mnist
    images, y = x[first:last].reshape(-1, 28, 28)[:, ::2, ::2], y[first:last]
    rng = np.random.default_rng(first)
    width = 14 * max_digits
    xs = np.zeros((n, width // 2, 28), np.float32)
    labels = -np.ones((n, max_digits), np.float32)
    input_length, label_length = np.zeros((n, 1), np.float32), np.zeros((n, 1), np.float32)
    for i in range(n):
        k = rng.integers(1, max_digits + 1)
        pick = rng.integers(0, len(images), k)
        row = np.concatenate(list(images[pick]), axis=1)  # (14, 14 k)
        xs[i, :7 * k] = row.T.reshape(7 * k, 28)
        labels[i, :k] = y[pick]
        input_length[i], label_length[i] = steps_per_digit * k, k
    return xs, labels, input_length, label_length


def test_a_model_learns_to_read_mnist_digit_rows_through_the_ctc_cost(mnist):
    xs, labels, input_length, label_length = digit_rows(mnist, 400, 0, 1000)
    steps, classes = xs.shape[1], 11  # ten digits and the blank
    x = Input(shape=(steps, 28), name="the_input")
    h = Convolution1D(64, 5, border_mode="same", activation="relu")(x)
    h = Convolution1D(64, 5, border_mode="same", activation="relu")(h)
    y_pred = Dense(classes, activation="softmax")(h)
    the_labels = Input(shape=(labels.shape[1],), name="the_labels")
    in_len, lab_len = Input(shape=(1,), name="input_length"), Input(shape=(1,), name="label_length")
    loss_out = Lambda(lambda a: K.ctc_batch_cost(a[1], a[0], a[2], a[3]), output_shape=(1,), name="ctc")(
        [y_pred, the_labels, in_len, lab_len])
    model = Model([x, the_labels, in_len, lab_len], loss_out)
    model.compile(Adam(lr=0.005), loss={"ctc": lambda y_true, y_pred: y_pred})
    inputs = [xs, labels, input_length, label_length]
    dummy = np.zeros((len(xs), 1), np.float32)
    before = model.evaluate(inputs, dummy, verbose=0)
    # the model's loss is the cost: the mean over the samples of the NumPy cost of its softmax
    reader = Model(x, y_pred)
    probs = reader.predict(xs[:50]).astype(np.float64)
    np.testing.assert_allclose(model.predict(inputs)[:50],
                               np_ctc_batch(probs, labels[:50], input_length[:50], label_length[:50]),
                               rtol=1e-4, atol=1e-3)
    hist = model.fit(inputs, dummy, batch_size=20, nb_epoch=25, verbose=0)
    after = model.evaluate(inputs, dummy, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert after < 0.3 * before, (before, after)
    # and what it learnt reads, by greedy decoding: the rows it trained on, and rows of digits it
    # has not seen
    y_in, il = K.placeholder(shape=(None, steps, classes)), K.placeholder(shape=(None, 1))
    (decoded,), _ = K.ctc_decode(y_in, il)
    read = K.function([y_in, il], [decoded])

    def rows_read(xs, labels, input_length):
        got = read([reader.predict(xs), input_length])[0]
        width = labels.shape[1]  # labels are padded with -1, as the decodings are
        return np.mean(np.all(got[:, :width] == labels, axis=1) & np.all(got[:, width:] == -1, axis=1))

    unseen, unseen_labels, unseen_length, _ = digit_rows(mnist, 200, 5000, 6000)
    seen, new = rows_read(xs, labels, input_length), rows_read(unseen, unseen_labels, unseen_length)
    assert seen > 0.9 and new > 0.5, (before, after, seen, new)
