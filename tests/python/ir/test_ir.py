"""IR from Python: programs print canonically and round-trip; malformed IR names its line."""
import re

import numpy as np
import pytest

from kiln import _core
from kiln.layers import Dense, Dropout, Input
from kiln.models import Model


def guide_model():
    a = Input(shape=(784,))
    h = Dense(64, activation="relu")(a)
    h = Dropout(0.2)(h)
    out = Dense(10, activation="softmax")(h)
    m = Model(input=a, output=out)
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("kind", ["predict", "test", "train"])
def test_program_ir_round_trips(kind):
    text = guide_model().ir(kind)
    assert _core.parse(text) == text
    assert _core.parse(_core.parse(text)) == text


def test_train_ir_has_fused_dense_gradients_and_updates():
    text = guide_model().ir("train")
    # (variable names may carry a _N suffix when an earlier test reset the layer counters)
    assert re.search(r'dense\(%input_\d+, %dense_\d+_W(_\d+)?, %dense_\d+_b(_\d+)?\) \{activation="relu"\}', text)
    assert text.count("apply_adam(") == 4  # one update per parameter
    assert len(re.findall(r"increment\(%adam_\d+\.iterations\)", text)) == 1  # one step counter
    assert "categorical_crossentropy_grad" in text


BAD = [
    ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%z) : f32[?,3]\n  output %y\n}\n",
     "line 4, col 13: operand %z is used before it is defined"),
    ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = softmax(%x) {axis=2} : f32[?,3]\n  output %y\n}\n",
     "line 4: [softmax] axis 2 is out of range for rank 2"),
    ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) : f32[?,3]\n  output %y\n",
     "missing '}'"),
    ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x %x) : f32[?,3]\n  output %y\n}\n",
     "line 4, col 16: expected ',' or ')' between operands"),
]


@pytest.mark.parametrize("text,message", BAD, ids=["undefined", "bad-axis", "unclosed", "missing-comma"])
def test_malformed_ir_names_the_line(text, message):
    with pytest.raises(ValueError) as e:
        _core.parse(text)
    assert message in str(e.value)


def test_kiln_check_ir_reverifies_after_every_pass(monkeypatch):
    monkeypatch.setenv("KILN_CHECK_IR", "1")
    text = guide_model().ir("train")  # every pass re-verified and re-parsed; a failure would raise
    assert "apply_adam(" in text


def test_memory_plan_reuses_the_arena():
    plan = guide_model()._program("train").plan(32)
    assert 0 < plan["arena_bytes"] < plan["naive_bytes"]


def _matmul_then(act, attrs=""):
    return ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  param %w : f32[3,4]\n"
            "  %z = matmul(%x, %w) : f32[?,4]\n  %y = " + act + "(%z)" + attrs + " : f32[?,4]\n  output %y\n}\n")


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "softmax", "elu", "softplus", "softsign", "hard_sigmoid",
                                 "exp", "identity"])
def test_fusion_folds_exactly_the_activations_dense_applies(act):
    """fuse_dense and the dense schema read one list (csrc/ops/activations.h)."""
    try:
        _core.infer("dense", [("f32", (None, 3)), ("f32", (3, 4))], {"activation": act})
        dense_applies = True
    except _core.ValueError:
        dense_applies = False
    fused = _core.optimize(_matmul_then(act))
    assert ('dense(%%x, %%w) {activation="%s"}' % act in fused) == dense_applies, fused
    assert ("matmul(" in fused) != dense_applies, fused


@pytest.mark.parametrize("axis,fused", [("", True), (" {axis=-1}", True), (" {axis=1}", True), (" {axis=0}", False)])
def test_fusion_takes_softmax_on_the_last_axis_only(axis, fused):
    text = _core.optimize(_matmul_then("softmax", axis))
    assert ('dense(%x, %w) {activation="softmax"}' in text) == fused, text


@pytest.mark.parametrize("attrs,fused", [("", True), (" {transpose_b=0}", True), (" {transpose_a=0, transpose_b=0}", True),
                                         (" {transpose_b=1}", False)])
def test_fusion_reads_matmul_defaults_through_the_schema(attrs, fused):
    """A transpose written as its default 0 is the plain matmul dense computes."""
    w = "f32[4,3]" if "transpose_b=1" in attrs else "f32[3,4]"
    text = ("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  param %w : " + w + "\n"
            "  %z = matmul(%x, %w)" + attrs + " : f32[?,4]\n  %y = relu(%z) : f32[?,4]\n  output %y\n}\n")
    assert ('dense(%x, %w) {activation="relu"}' in _core.optimize(text)) == fused


def _transposes(body, out="%y", x="f32[?,2,3,4]"):
    return "kiln 1\ngraph @g {\n  input %%x : %s\n%s  output %s\n}\n" % (x, body, out)


def test_inverse_transposes_fold_away_and_others_compose():
    pair = ("  %a = transpose(%x) {perm=[0,2,3,1]} : f32[?,3,4,2]\n"
            "  %b = transpose(%a) {perm=[0,3,1,2]} : f32[?,2,3,4]\n  %y = relu(%b) : f32[?,2,3,4]\n")
    text = _core.optimize(_transposes(pair))
    assert "transpose" not in text and "relu(%x)" in text, text
    chain = ("  %a = transpose(%x) {perm=[0,2,3,1]} : f32[?,3,4,2]\n"
             "  %b = transpose(%a) {perm=[0,2,1,3]} : f32[?,4,3,2]\n  %y = relu(%b) : f32[?,4,3,2]\n")
    text = _core.optimize(_transposes(chain))
    assert text.count("transpose(") == 1 and "transpose(%x) {perm=[0,3,2,1]}" in text, text
    x = np.random.default_rng(0).standard_normal((2, 2, 3, 4)).astype(np.float32)
    for body in (pair, chain):
        plain = _core.Program(_core.Store(), _transposes(body)).run([x])[0]
        folded = _core.compile(_core.Store(), _transposes(body)).run([x])[0]
        np.testing.assert_array_equal(plain, folded)


def test_a_transpose_that_is_an_output_keeps_its_name():
    body = ("  %a = transpose(%x) {perm=[0,2,3,1]} : f32[?,3,4,2]\n"
            "  %y = transpose(%a) {perm=[0,3,1,2]} : f32[?,2,3,4]\n")
    text = _core.optimize(_transposes(body))
    assert "%y = transpose(%x) {perm=[0,1,2,3]}" in text, text


def test_channels_first_convolutions_stay_channels_last_between_layers():
    from kiln.layers import Convolution2D, Input
    from kiln.models import Model
    img = Input(shape=(3, 8, 8))
    conv = lambda: Convolution2D(4, 3, 3, border_mode="same", dim_ordering="th")
    m = Model(img, conv()(conv()(conv()(img))))
    text = _core.optimize(m.ir("predict"))
    # the input's NCHW -> NHWC, one NHWC -> NCHW at the end, and the three weights'
    assert text.count("= transpose(%input") == 1 and text.count("transpose(") == 5, text


def test_conv2d_bias_and_activation_fuse_into_one_conv2d_in_predict_and_train():
    from kiln.layers import Convolution2D, Flatten
    img = Input(shape=(6, 6, 2))
    h = Convolution2D(3, 3, 3, activation="relu", dim_ordering="tf")(img)
    m = Model(img, Dense(2)(Flatten()(h)))
    m.compile("sgd", "mse")
    fused = _core.optimize(m.ir("predict"))
    assert 'conv2d(%input' in fused and 'activation="relu"' in fused and "bias_add" not in fused, fused
    train = m._program("train").text()
    assert "bias_add" not in train and "relu(" not in train, train  # the backward reads only y
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 2)).astype(np.float32)
    from kiln.backend.variables import store
    plain = _core.Program(store, m.ir("predict")).run([x])[0]  # no passes: the unfused ops
    np.testing.assert_allclose(m.predict(x), plain, rtol=1e-5, atol=1e-6)
