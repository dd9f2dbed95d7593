"""The registry walk: every op `_core.op_names()` lists must have a CPU kernel, a gradient when
it is differentiable, a NumPy reference with a forward test in test_ops.py (side-effecting ops:
a formula test in test_optimizers.py), and a gradient test when differentiable. One test per
op, so a failure line names the op. CUDA kernels join the walk once cuda/ registers any."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import test_grads  # noqa: E402
import test_ops  # noqa: E402
import test_optimizers  # noqa: E402

from kiln import _core  # noqa: E402

OPS = _core.op_names()
INFO = {op: _core.op_info(op) for op in OPS}


def test_registry_is_not_empty_and_sorted():
    assert len(OPS) > 50
    assert OPS == sorted(set(OPS))


@pytest.mark.parametrize("op", [pytest.param(o, id="registry[%s]" % o) for o in OPS])
def test_registered_op(op):
    info = INFO[op]
    problems = []
    if not info["cpu_kernel"]:
        problems.append("no CPU kernel")
    if info["differentiable"] and not info["has_grad"]:
        problems.append("differentiable but has no gradient")
    if info["side_effect"]:
        if info["differentiable"]:
            problems.append("side-effecting yet marked differentiable")
        if op not in test_optimizers.SIDE_EFFECT_TESTED:
            problems.append("side-effecting op with no formula test in test_optimizers.py")
    else:
        if op not in test_ops.REFERENCES:
            problems.append("no NumPy reference in test_ops.REFERENCES")
        if op not in test_ops.TESTED_OPS:
            problems.append("no forward test case in test_ops.py")
    if info["differentiable"] and op not in test_grads.GRAD_TESTED_OPS:
        problems.append("differentiable but no gradient check in test_grads.py")
    assert not problems, "%s: %s" % (op, "; ".join(problems))


def test_reference_table_is_exactly_the_registry_minus_side_effects():
    want = {op for op in OPS if not INFO[op]["side_effect"]}
    have = set(test_ops.REFERENCES)
    assert have - want == set(), "references for ops that are not registered (or side-effecting)"
    assert want - have == set(), "registered ops with no NumPy reference"
    assert test_ops.TESTED_OPS == want


def test_side_effecting_ops_are_exactly_the_optimizer_tests():
    assert {op for op in OPS if INFO[op]["side_effect"]} == test_optimizers.SIDE_EFFECT_TESTED


def test_cuda_kernels():
    if not _core.build_info()["cuda"]:
        pytest.skip("kiln was built without CUDA")
    if not any("cuda_kernel" in INFO[op] for op in OPS):
        pytest.skip("no CUDA kernels are registered in this issue; "
                    "the registry walk checks them once cuda/ has op kernels")
    missing = [op for op in OPS if not INFO[op].get("cuda_kernel")]
    assert not missing, "ops with no CUDA kernel: %s" % ", ".join(missing)
