"""The parser trusts nothing: mutated IR either parses (and then round-trips, builds and runs)
or raises a located ValueError; it never crashes or hangs. Text that parses and verifies is
only refused by Program for the reasons listed in EXPECTED_PROGRAM_REJECTIONS."""
import random
import re
from pathlib import Path

import numpy as np

from fuzzing import mutate_text  # tests/python/fuzzing.py: the one mutator
from kiln import _core

GOLDEN = sorted((Path(__file__).resolve().parents[2] / "ir").glob("*.kir"))
TOKENS = list("%@{}[](),:=?\"\\-.e0123456789xyz \n#") + ["f32", "i32", "kiln", "graph", "output", "param", "relu",
                                                        "matmul", "99999999999999", "-1", "nan", "inf"]


def mutate(rng, text):
    return mutate_text(rng, text, TOKENS)


# What Program may refuse in IR that parse() accepted: both are about the Store, which the
# verifier does not see. Anything else (a shape or attribute error that verify let through)
# fails the test.
EXPECTED_PROGRAM_REJECTIONS = [
    r"^%\S+ has no stored value and no 'init' to create it from$",  # a param without init (shape_ops.kir)
    r"^unknown initializer '[^']*' \(accepted: ",                   # a mutated init name
]


def _zero_inputs(text, batch=2):
    """Arrays of zeros for the inputs declared in printed IR, with ? read as the batch size."""
    arrays = []
    for dims in re.findall(r"^  input %\S+ : [fi]32\[([^\]]*)\]$", text, re.M):
        shape = [batch if d == "?" else batch * int(d[2:]) if d.startswith("?*") else int(d)
                 for d in dims.split(",") if d]
        arrays.append(np.zeros(shape, np.float32))
    return arrays


def test_mutated_ir_is_parsed_or_rejected_cleanly():
    rng = random.Random(2026)
    texts = [p.read_text() for p in GOLDEN]
    accepted = rejected = refused = ran = 0
    for _ in range(1500):
        text = mutate(rng, rng.choice(texts))
        try:
            out = _core.parse(text)
        except ValueError as e:
            rejected += 1
            assert "line" in str(e), str(e)  # every parse/verify error is located
            continue
        accepted += 1
        assert _core.parse(out) == out
        try:
            program = _core.Program(_core.Store(), out)
        except ValueError as e:
            assert any(re.search(p, str(e)) for p in EXPECTED_PROGRAM_REJECTIONS), \
                "Program refused IR that parse() accepted: %s\n%s" % (e, out)
            refused += 1
            continue
        results = program.run(_zero_inputs(out))
        assert len(results) == len(re.search(r"^  output (.*)$", out, re.M).group(1).split(", ")), out
        ran += 1
    assert rejected > 1000 and refused > 0 and ran > 10, (rejected, refused, ran)
