"""Connectionist temporal classification (Keras 1.2's and Keras 2's TensorFlow backend):
`ctc_batch_cost` and a greedy `ctc_decode`, composed of existing ops and the `scan` op K.rnn
lowers to. Shape letters: B batch, T time, C classes (the blank is the last, C - 1), L the
labels' width, S = 2L + 1 the extended labels (a blank before, between and after the labels).

The cost is the CTC forward (alpha) recursion in log space, run by one native scan over time
(folds._loop), so any T works, also one that changes from call to call, and the native autodiff
differentiates it:

    alpha_t[s] = logsumexp(alpha_{t-1}[s], alpha_{t-1}[s-1], alpha_{t-1}[s-2] if skip[s]) + E[t, s]

E[t, s] is the log probability of extended label l'[s] at step t, picked inside the step by
the one-hot rows of l' (so no (B, T, S) tensor is made outside the loop); skip[s] holds where
l'[s] is a label that differs from l'[s-2]. The recursion starts from a virtual step whose only live state
is s = 0, so step 0 is the recursion's own. A step at or past a sample's input_length leaves its
alphas as they were (a counter state says which step it is); the loss reads alpha at the
sample's last two live states, 2 label_length and 2 label_length - 1.

"log 0" is NEG (-1e30), not -inf: every logsumexp has a finite max, so no inf - inf reaches a
value or a gradient, and exp(NEG - max) is an exact 0. An impossible alignment (label_length
needs more steps than input_length gives) costs about 1e30 where TensorFlow returns inf.
"""
import numpy as np

from .folds import _loop
from .ops import (_arg, add, argmax, constant, dot, equal, exp, less, log, max, maximum, multiply, not_equal,
                  subtract, sum)
from .random_ops import stop_gradient
from .shape_ops import batch_dot, concatenate, expand_dims, one_hot, slice_axis, squeeze
from .tensor import make

__all__ = ["ctc_batch_cost", "ctc_decode"]

NEG = -1e30  # log 0: finite, so that logsumexp's max is finite
_LOG_EPSILON = 1e-8  # Keras 1.2 / 2.0: log(y_pred + 1e-8)


def _column(t, who, what):
    """A per-sample number as (B, 1): (B, 1) and (B,) accepted."""
    t = _arg(t, who)
    if len(t.shape) == 1:
        t = expand_dims(t, -1)
    if len(t.shape) != 2 or t.shape[1] != 1:
        raise ValueError("K.%s: %s must be (samples, 1), got shape %s" % (who, what, tuple(t.shape)))
    return t


def _log_probs(y_pred, who):
    """log(y_pred + 1e-8) renormalized over the classes, as TensorFlow's ctc_loss reads Keras'
    log(y_pred + 1e-8) as logits (a log-softmax); (B, T, C)."""
    y_pred = _arg(y_pred, who)
    if len(y_pred.shape) != 3 or y_pred.shape[2] is None:
        raise ValueError("K.%s: y_pred must be (samples, time_steps, num_categories) with the categories known, "
                         "got shape %s" % (who, tuple(y_pred.shape)))
    if y_pred.shape[2] < 2:
        raise ValueError("K.%s: y_pred needs at least 2 categories (the labels and the blank, which is the last), "
                         "got %d" % (who, y_pred.shape[2]))
    shifted = add(y_pred, _LOG_EPSILON)
    return subtract(log(shifted), log(sum(shifted, axis=-1, keepdims=True)))


def _logsumexp(terms, axis=None):
    """log(sum(exp(.))) of a list of same-shape tensors (axis None), or of one tensor over `axis`,
    shifted by the max (held out of the gradient: the derivative is the softmax either way)."""
    if axis is None:
        m = terms[0]
        for t in terms[1:]:
            m = maximum(m, t)
        m = stop_gradient(m)
        total = exp(subtract(terms[0], m))
        for t in terms[1:]:
            total = add(total, exp(subtract(t, m)))
        return add(m, log(total))
    m = stop_gradient(max(terms, axis=axis, keepdims=True))
    return add(m, log(sum(exp(subtract(terms, m)), axis=axis, keepdims=True)))


def _shift(alpha, k):
    """alpha (B, S) moved k places right along S, NEG coming in: alpha[s - k]."""
    n = alpha.ir_shape[1]
    dead = make("broadcast_like", [constant(NEG), slice_axis(alpha, 1, 0, k)])
    return concatenate([dead, slice_axis(alpha, 1, 0, n - k)], axis=1)


def _select(keep, new, old):
    return add(multiply(keep, new), multiply(subtract(1.0, keep), old))


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Runs the CTC loss on each batch element.

    Args:
        y_true: (samples, max_string_length) the labels, class indices below the blank (values
            are clipped to [0, blank]); entries past a sample's label_length are ignored, whatever
            they hold (the image_ocr example pads with -1).
        y_pred: (samples, time_steps, num_categories) the softmax outputs; the blank is the last
            category. time_steps may be dynamic.
        input_length: (samples, 1) how many steps of y_pred each sample uses.
        label_length: (samples, 1) how many labels of y_true each sample has.

    Returns:
        (samples, 1): the negative log-likelihood of each sample's labels, -log p(labels), p
        summed over every alignment (the probabilities read as TensorFlow reads Keras' inputs:
        log(y_pred + 1e-8), renormalized over the categories).

    Example:
        loss = Lambda(lambda a: K.ctc_batch_cost(*a), output_shape=(1,))([labels, y_pred, in_len, lab_len])
    """
    who = "ctc_batch_cost"
    lp = _log_probs(y_pred, who)
    y_true = _arg(y_true, who)
    if len(y_true.shape) != 2 or y_true.shape[1] is None or y_true.shape[1] < 1:
        raise ValueError("K.%s: y_true must be (samples, max_string_length) with the length known, got shape %s"
                         % (who, tuple(y_true.shape)))
    input_length = _column(input_length, who, "input_length")
    label_length = _column(label_length, who, "label_length")
    classes, width = y_pred.shape[2], y_true.shape[1]
    blank, size = classes - 1, 2 * width + 1

    # the extended labels l' (B, S): blank, y_1, blank, y_2, ..., y_L, blank, by one matmul
    # (exact: small integers in float32); the padding past label_length is clipped into range
    # (its states are never read)
    spread = np.zeros((width, size), np.float32)
    spread[np.arange(width), 2 * np.arange(width) + 1] = 1.0
    blanks = np.where(np.arange(size) % 2 == 0, float(blank), 0.0).astype(np.float32)
    labels = make("clip", [y_true], {"min": 0.0, "max": float(blank)})
    extended = add(dot(labels, constant(spread)), constant(blanks))
    hot = one_hot(extended, classes)  # (B, S, C)

    # skip[s]: s = 2j + 1 (j >= 1) holds label y_j, which may follow y_{j-1} directly when they differ
    if width > 1:
        differs = not_equal(slice_axis(labels, 1, 1, width), slice_axis(labels, 1, 0, width - 1))
        onto = np.zeros((width - 1, size), np.float32)
        onto[np.arange(width - 1), 2 * np.arange(1, width) + 1] = 1.0
        skip = dot(differs, constant(onto))
    else:
        skip = None

    start = np.full(size, NEG, np.float32)
    start[0] = 0.0
    alpha0 = make("broadcast_like", [constant(start), extended])
    step0 = make("broadcast_like", [constant(0.0), input_length])

    def body(lp_t, states):
        alpha, t = states
        e_t = sum(multiply(expand_dims(lp_t, 1), hot), axis=-1)  # E[t] (B, S): each l'[s]'s log probability
        terms = [alpha, _shift(alpha, 1)]
        if skip is not None:
            terms.append(_select(skip, _shift(alpha, 2), constant(NEG)))
        new = add(_logsumexp(terms), e_t)
        new = _select(less(t, input_length), new, alpha)  # past input_length: held
        t = add(t, 1.0)
        return t, [new, t]

    _, (alpha, _) = _loop(lp, [alpha0, step0], body)

    positions = constant(np.arange(size, dtype=np.float32))
    last = multiply(label_length, 2.0)
    ends = add(equal(positions, last), equal(positions, subtract(last, 1.0)))  # (B, S)
    return multiply(_logsumexp(_select(ends, alpha, constant(NEG)), axis=1), -1.0)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Decodes the output of a softmax by best path (greedy): the most likely category at each of
    a sample's input_length steps, repeats collapsed, blanks (the last category) dropped.

    Args:
        y_pred: (samples, time_steps, num_categories) softmax outputs; time_steps must be known.
        input_length: (samples,) or (samples, 1) how many steps of y_pred each sample uses.
        greedy: must be True: beam search (greedy=False) is not provided.
        beam_width, top_paths: beam search's; top_paths must be 1.

    Returns:
        ([decoded], log_prob): decoded (samples, time_steps), each sample's labels from the left,
        padded with -1 (TensorFlow's dense result is as wide as the longest decoding; this one is
        time_steps wide, its extra columns all -1); log_prob (samples, 1), TensorFlow's greedy
        score: minus the sum over the used steps of the best category's log(y + 1e-8).
    """
    who = "ctc_decode"
    if not greedy:
        raise NotImplementedError("K.ctc_decode: beam search (greedy=False) is not provided; only the greedy "
                                  "(best path) decoding is")
    if top_paths != 1:
        raise ValueError("K.ctc_decode: the greedy decoding has one path; top_paths must be 1, got %r" % (top_paths,))
    y_pred = _arg(y_pred, who)
    if len(y_pred.shape) != 3 or y_pred.shape[1] is None or y_pred.shape[2] is None:
        raise ValueError("K.ctc_decode: y_pred must be (samples, time_steps, num_categories) with time_steps and the "
                         "categories known, got shape %s" % (tuple(y_pred.shape),))
    steps, classes = y_pred.shape[1], y_pred.shape[2]
    input_length = _column(input_length, who, "input_length")
    live = less(constant(np.arange(steps, dtype=np.float32)), input_length)  # (B, T)

    best = argmax(y_pred, axis=-1)  # (B, T)
    before = concatenate([make("broadcast_like", [constant(-1.0), slice_axis(best, 1, 0, 1)]),
                          slice_axis(best, 1, 0, steps - 1)], axis=1)
    keep = multiply(multiply(not_equal(best, before), not_equal(best, float(classes - 1))), live)
    # the kept labels packed to the left: label t goes to column cumsum(keep)[t] - 1
    slot = make("clip", [subtract(dot(keep, constant(np.triu(np.ones((steps, steps), np.float32)))), 1.0)],
                {"min": 0.0})
    to = multiply(one_hot(slot, steps), expand_dims(keep, -1))  # (B, T from, T to); slot -1 -> zeros
    filled = sum(to, axis=1)  # (B, T): 1 where a label landed
    placed = squeeze(batch_dot(expand_dims(best, 1), to, axes=[2, 1]), 1)
    decoded = subtract(add(placed, filled), 1.0)  # -1 where nothing landed
    decoded.dtype = "int32"

    top = max(log(add(y_pred, _LOG_EPSILON)), axis=-1)  # (B, T)
    log_prob = multiply(sum(multiply(top, live), axis=1, keepdims=True), -1.0)
    return [decoded], log_prob
