"""The examples run as a user runs them (in a subprocess) and learn: examples/sentiment_lstm.py
(fused LSTM on the real movie reviews; chance is 0.51 on its test split)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sentiment_lstm_example_learns_the_reviews(reviews, seed):
    """The accuracy floor holds for every seed, not one lucky draw (about 4 s each)."""
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "sentiment_lstm.py"), "--epochs", "2",
                          "--seed", str(seed)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    acc = float(re.search(r"fused: test accuracy ([0-9.]+)", out.stdout).group(1))
    assert acc > 0.7, out.stdout
