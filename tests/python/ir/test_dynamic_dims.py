"""IR version 2: named dynamic dims (?t), their text, their checks, and plans per run sizes."""
import numpy as np
import pytest

from kiln import _core


def program(body, inputs, header="kiln 2"):
    decls = "".join("  input %%%s\n" % d for d in inputs)
    return _core.Program(_core.Store(), "%s\ngraph @g {\n%s%s}\n" % (header, decls, body))


@pytest.mark.parametrize("text", ["?", "?*3", "?t", "?t*3", "?*?t", "?*?t*3", "?len", "?a1b2c3d", "7"])
def test_every_dim_form_prints_as_it_parses(text):
    src = "kiln 2\ngraph @g {\n  input %%x : f32[%s,2]\n  output %%x\n}\n" % text
    out = _core.parse_only(src)
    assert "f32[%s,2]" % text in out
    assert out.startswith("kiln 2" if any(c.isalpha() for c in text) else "kiln 1")


@pytest.mark.parametrize("dim, message", [
    ("?T", "'T' is not a dynamic dim name"),  # names are lower case
    ("?abcdefgh", "1 to 7 of a-z and 0-9"),
    ("?*?", r"batch \? at most once"),
    ("?t*?u", "at most one named dynamic dim"),
    ("3*?", "factor comes last"),
    ("?*0", "factor out of range"),
    ("?*16777216", "factor out of range"),
    ("?*3*4", "expected a dimension"),
])
def test_malformed_dims_are_errors_naming_the_problem(dim, message):
    src = "kiln 2\ngraph @g {\n  input %%x : f32[%s,2]\n  output %%x\n}\n" % dim
    with pytest.raises(_core.ParseError, match=message):
        _core.parse_only(src)


def test_version_1_cannot_hold_a_named_dim_and_stays_readable_without_one():
    with pytest.raises(_core.ParseError, match="need the header 'kiln 2'"):
        _core.parse_only("kiln 1\ngraph @g {\n  input %x : f32[?,?t]\n  output %x\n}\n")
    assert _core.parse_only("kiln 2\ngraph @g {\n  input %x : f32[?,3]\n  output %x\n}\n").startswith("kiln 1")


def test_params_cannot_have_a_dynamic_dim():
    with pytest.raises(_core.ParseError, match="cannot have a symbolic dimension"):
        _core.parse_only("kiln 2\ngraph @g {\n  param %w : f32[?t,3]\n  output %w\n}\n")


def test_dim_encoding_round_trips_and_keeps_version_1_values():
    assert _core.dim(batch=True) == -1 and _core.dim(batch=True, factor=5) == -5
    d = _core.dim("t", batch=True, factor=3)
    assert _core.dim_info(d) == (True, "t", 3) and _core.dim_text(d) == "?*?t*3"
    assert _core.dim_info(_core.dim("len")) == (False, "len", 1)
    assert _core.dim("a") != _core.dim("b")
    with pytest.raises(ValueError, match="not a dynamic dim name"):
        _core.dim("9a")


def test_one_program_runs_at_every_length_and_plans_once_per_sizes():
    p = program("  %y = relu(%x) : f32[?,?t,4]\n  output %y\n", ["x : f32[?,?t,4]"])
    rng = np.random.default_rng(0)
    for T in (3, 7, 3, 1):
        x = rng.standard_normal((2, T, 4)).astype(np.float32)
        y, = p.run([x])
        np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert p.cached_plans() == 3
    assert p.plan(2, {"t": 100})["arena_bytes"] > p.plan(2, {"t": 3})["arena_bytes"]


def test_plans_are_bounded_least_recently_used_first():
    p = program("  %y = relu(%x) : f32[?,?t]\n  output %y\n", ["x : f32[?,?t]"])
    for T in range(1, 40):
        p.run([np.ones((1, T), np.float32)])
    assert p.cached_plans() == 16


def test_equal_names_must_get_equal_lengths_from_the_data():
    p = program("  %y = add(%a, %b) : f32[?,?t]\n  output %y\n", ["a : f32[?,?t]", "b : f32[?,?t]"])
    y, = p.run([np.ones((2, 5), np.float32), np.ones((2, 5), np.float32)])
    assert y.shape == (2, 5)
    with pytest.raises(_core.ShapeError, match=r"input %b expects f32\[\?,\?t\], got an array of shape \[2,6\]"):
        p.run([np.ones((2, 5), np.float32), np.ones((2, 6), np.float32)])


def test_two_names_in_an_elementwise_op_are_checked_when_the_lengths_are_known():
    p = program("  %y = add(%a, %b) : f32[?,?t]\n  output %y\n", ["a : f32[?,?t]", "b : f32[?,?u]"])
    y, = p.run([np.ones((2, 4), np.float32), np.full((2, 4), 2, np.float32)])
    np.testing.assert_array_equal(y, 3)
    with pytest.raises(_core.ShapeError, match=r"line 5: %y = add: at batch 2, \?t=4, \?u=5: .*cannot be broadcast"):
        p.run([np.ones((2, 4), np.float32), np.ones((2, 5), np.float32)])


def test_concat_refuses_a_dynamic_axis_and_checks_the_others():
    with pytest.raises(ValueError, match=r"dynamic dim \?t, which cannot be concatenated"):
        _core.infer("concat", [("f32", (None, _core.dim("t"))), ("f32", (None, 3))], {"axis": 1})
    out, = _core.infer("concat", [("f32", (None, _core.dim("t"), 2)), ("f32", (None, 4, 3))], {"axis": 2})
    assert out[1] == (None, 4, 5)  # the static size pins the named one


def test_merge_and_split_batch_fold_a_dynamic_time_axis():
    p = program("  %m = merge_batch(%x) : f32[?*?t,3]\n  %r = relu(%m) : f32[?*?t,3]\n"
                "  %s = split_batch(%r, %x) : f32[?,?t,3]\n  output %s\n", ["x : f32[?,?t,3]"])
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(p.run([x])[0], np.maximum(x, 0))
    with pytest.raises(ValueError, match="either as size= or as the second operand"):
        _core.infer("split_batch", [("f32", (None, 3)), ("f32", (None, 1, 3))], {"size": 1})


def test_the_gradient_of_merge_batch_over_a_dynamic_axis_splits_by_the_operand():
    text = ("kiln 2\ngraph @g {\n  input %x : f32[?,?t,3]\n  %m = merge_batch(%x) : f32[?*?t,3]\n"
            "  %q = square(%m) : f32[?*?t,3]\n  %l = reduce_sum(%q) : f32[]\n  output %l\n}\n")
    g = _core.gradients(text, ["x"])
    assert "split_batch(" in g and ", %x)" in g
    p = _core.Program(_core.Store(), g)
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    loss, dx = p.run([x])
    np.testing.assert_allclose(dx, 2 * x)


def test_a_named_dim_with_no_input_giving_it_alone_is_a_clear_error():
    p = program("  %y = relu(%x) : f32[?*?t,3]\n  output %y\n", ["x : f32[?*?t,3]"])
    with pytest.raises(_core.ShapeError, match=r"input %x expects f32\[\?\*\?t,3\]"):
        p.run([np.ones((4, 3), np.float32)])
