"""Progbar text: one line when not on a terminal, in-place redraws on one."""
import io
import re
import sys

import pytest

from kiln.utils.generic_utils import Progbar


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def tty(monkeypatch):
    """Returns a function that makes sys.stdout a fake terminal. Call it in the
    test body: pytest resets sys.stdout between fixture setup and the call."""
    def install():
        stream = FakeTTY()
        monkeypatch.setattr(sys, "stdout", stream)
        return stream
    return install


def test_non_tty_prints_one_final_line(capsys):
    bar = Progbar(60000)
    bar.update(12800, [("loss", 0.4321), ("acc", 0.881)])
    bar.update(30000, [("loss", 0.4), ("acc", 0.9)])
    assert capsys.readouterr().out == ""  # nothing until the end
    bar.update(60000, {"loss": 0.2345, "acc": 0.9312, "val_loss": 0.25}, finalize=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\r" not in out
    assert re.fullmatch(r"60000/60000 \[={30}\] - \d+m?s - loss: 0\.2345 - acc: 0\.9312 - "
                        r"val_loss: 0\.2500 - \d+(\.\d+)? samples/s\n", out), out


def test_values_are_displayed_not_averaged(capsys):
    bar = Progbar(10)
    bar.update(5, [("loss", 1.0)])
    bar.update(10, [("loss", 3.0)])  # reaching the target finalizes
    out = capsys.readouterr().out
    assert "loss: 3.0000" in out  # Keras 1 would have shown a mean of 2.0
    bar.update(10, [("loss", 5.0)], finalize=True)  # already finished: no second line
    assert capsys.readouterr().out == ""


def test_number_formatting():
    bar = Progbar(4, verbose=1)
    bar._values = {"a": 0.5, "tiny": 1.23456e-5, "zero": 0.0, "nan": float("nan"), "s": "x"}
    line = bar._line(4, bar._start + 1.0, final=True)
    assert "a: 0.5000" in line and "tiny: 1.2346e-05" in line
    assert "zero: 0.0000" in line and "nan: nan" in line and "s: x" in line
    assert line.endswith(" - 4.00 samples/s")


def test_tty_redraws_in_place_with_eta_and_throughput(tty):
    tty = tty()
    bar = Progbar(60000, interval=0.0)
    bar.update(12800, [("loss", 0.4321), ("acc", 0.881)])
    first = tty.getvalue()
    assert first.startswith("\r12800/60000 [=====>........................] - ETA: ")
    assert "loss: 0.4321 - acc: 0.8810" in first and first.endswith(" samples/s")
    assert "\n" not in first
    bar.update(60000, [("loss", 0.2345)], finalize=True)
    rest = tty.getvalue()[len(first):]
    assert rest.startswith("\r60000/60000 [==============================] - ")
    assert "ETA" not in rest and rest.endswith("\n") and rest.rstrip().endswith(" samples/s")


def test_tty_throttles_redraws(tty):
    tty = tty()
    bar = Progbar(100, interval=3600)
    for i in range(1, 100):
        bar.update(i, [("loss", 1.0 / i)])
    assert tty.getvalue().count("\r") == 1  # only the first redraw got through
    bar.update(100, [("loss", 0.01)], finalize=True)  # the final line is never throttled
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("\n")


def test_tty_pads_shorter_line(tty):
    tty = tty()
    bar = Progbar(100, interval=0.0)
    bar.update(10, [("note", "x" * 40)])
    first = tty.getvalue()
    bar.update(20, [("note", "y")])
    second = tty.getvalue()[len(first):]
    assert second.startswith("\r 20/100 [=====>....") and "note: y" in second
    # the shorter line is padded with blanks over the remains of the longer one
    assert len(second) >= len(first) and second.endswith(" " * 30)


def test_verbose_zero_and_two(capsys):
    Progbar(10, verbose=0).update(10, [("loss", 1.0)])
    assert capsys.readouterr().out == ""
    Progbar(10, verbose=2).update(10, [("loss", 1.0)])
    out = capsys.readouterr().out
    assert out.startswith("10/10 - ") and "[" not in out and "loss: 1.0000" in out


def test_add_and_unknown_target(tty):
    tty = tty()
    bar = Progbar(None, interval=0.0, unit_name="step")
    bar.add(3)
    bar.add(4, [("loss", 0.5)])
    assert bar.seen_so_far == 7
    assert "      7/Unknown" in tty.getvalue() and "steps/s" in tty.getvalue()


def test_finalize_false_holds_the_line(capsys):
    bar = Progbar(10)
    bar.update(10, [("loss", 1.0)], finalize=False)
    assert capsys.readouterr().out == ""
    bar.update(10, [("val_loss", 2.0)], finalize=True)
    assert "loss: 1.0000 - val_loss: 2.0000" in capsys.readouterr().out


def test_notebook_kernels_get_one_line_per_epoch(monkeypatch, capsys):
    """In a Jupyter kernel stdout is not a terminal: every redraw would stay in the cell, so the
    bar prints only its final line (the issue: logs, CI and notebooks)."""
    import sys
    import types
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    bar = Progbar(target=100, interval=0.0)
    for i in range(1, 101, 10):
        bar.update(i, [("loss", 0.5)])
    bar.update(100, [("loss", 0.25)])
    out = capsys.readouterr().out
    assert "\r" not in out and out.count("100/100") == 1
