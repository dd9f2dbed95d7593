"""Numerics checking: compile(check_numerics=True) / KILN_CHECK_NUMERICS=1 stops at the first op
that makes a NaN or inf and names the op, its line in model.ir() and its layer."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from kiln import _core
from kiln.errors import NumericsError
from kiln.layers import Dense, Input, Lambda
from kiln.models import Model
from kiln import backend as K


def log_model(check):
    """Dense -> log: a negative pre-activation makes NaN in the Lambda layer 'logs'."""
    np.random.seed(0)
    x = Input(shape=(4,))
    h = Dense(3, name="hidden")(x)
    y = Lambda(lambda t: K.log(t), name="logs")(h)
    m = Model(input=x, output=y)
    m.compile(optimizer="sgd", loss="mse", check_numerics=check)
    return m


def test_predict_names_the_op_its_line_and_its_layer():
    m = log_model(True)
    x = np.random.randn(8, 4).astype(np.float32)
    with pytest.raises(NumericsError) as e:
        m.predict(x)
    msg = str(e.value)
    assert isinstance(e.value, FloatingPointError)
    assert "layer 'logs'" in msg and " log " in msg and "NaN" in msg, msg
    line = int(re.search(r"line (\d+)", msg).group(1))
    # The line is the op's line in the program's printed IR.
    assert re.match(r"\s*%logs = log\(", m.ir("predict").splitlines()[line - 1]), m.ir("predict")


def test_without_checking_the_nan_passes_through_silently():
    m = log_model(False)
    x = np.random.randn(8, 4).astype(np.float32)
    assert np.isnan(m.predict(x)).any()


def test_finite_runs_are_unchanged_by_checking():
    a, b = log_model(True), log_model(False)
    x = np.abs(np.random.randn(8, 4)).astype(np.float32) * 0.01
    a.set_weights([np.abs(w) + 0.1 for w in a.get_weights()])
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_training_reports_the_backward_op_that_overflowed():
    """An overflow that appears only in the backward pass is blamed on it: d/dx of sqrt at 0."""
    np.random.seed(0)
    x = Input(shape=(2,))
    h = Dense(2, name="lin", init="zero")(x)
    y = Lambda(lambda t: K.sqrt(K.square(t) * 0), name="root")(h)
    m = Model(input=x, output=y)
    m.compile(optimizer="sgd", loss="mse", check_numerics=True)
    with pytest.raises(NumericsError) as e:
        m.fit(np.ones((4, 2), np.float32), np.ones((4, 2), np.float32), nb_epoch=1, verbose=0)
    msg = str(e.value)
    assert "backward pass" in msg and "layer 'root'" in msg, msg


def test_nan_weights_are_named_before_the_first_op():
    m = log_model(True)
    w = m.get_weights()
    w[0][1, 2] = np.nan
    m.set_weights(w)
    with pytest.raises(NumericsError, match=r"stored tensor %hidden_W(_\d+)? holds 1 non-finite value of 12, the first NaN at \[1, 2\]"):
        m.predict(np.ones((2, 4), np.float32))


def test_environment_variable_turns_checking_on_everywhere():
    code = ("import numpy as np\n"
            "from kiln import _core\n"
            "p = _core.compile(_core.Store(), 'kiln 1\\ngraph @g {\\n  input %x : f32[?,2]\\n"
            "  %y = log(%x) : f32[?,2]\\n  output %y\\n}\\n')\n"
            "try:\n    p.run([np.array([[1, -1]], np.float32)])\nexcept FloatingPointError as e:\n    print('raised', e)\n")
    env = dict(os.environ, KILN_CHECK_NUMERICS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "raised check_numerics: line 4: log" in out.stdout, out.stdout + out.stderr
    assert "the first NaN at [0, 1]" in out.stdout
