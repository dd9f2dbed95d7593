"""Runs a model's ONNX export in ONNX Runtime and compares it with model.predict.

The tolerance, float32 both sides: |onnx - kiln| <= ATOL + RTOL * |kiln| elementwise. The two
runtimes sum in different orders (GEMM blocking, conv algorithms, the recurrent ops' fused
gates), which moves results by a few ulps per layer; nothing exported is approximated.
"""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx package is not installed (pip install onnx)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")

import kiln.onnx  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4


def session(model, tmp_path, opset=None):
    """Exports `model` to a file, checks it (with shape inference), opens it in ONNX Runtime."""
    path = tmp_path / ("%s.onnx" % (model.name or "model"))
    kiln.onnx.export(model, path, opset=opset)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def feed(sess, xs):
    out = {}
    for i, x in zip(sess.get_inputs(), xs):
        out[i.name] = np.asarray(x, np.int32 if i.type == "tensor(int32)" else np.float32)
    return out


def check(model, xs, tmp_path, opset=None, atol=ATOL, rtol=RTOL):
    """ONNX Runtime's outputs for xs equal model.predict's within the tolerance; returns the session."""
    xs = xs if isinstance(xs, list) else [xs]
    sess = session(model, tmp_path, opset)
    got = sess.run(None, feed(sess, xs))
    want = model.predict(xs if len(xs) > 1 else xs[0], batch_size=len(xs[0]))
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w, name in zip(got, want, model.output_names):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, atol=atol, rtol=rtol, err_msg="output %s" % name)
    return sess
