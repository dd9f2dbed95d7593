"""ONNX export: `kiln.onnx.export(model, path, opset=None)` (docs/interop.md).

Needs the `onnx` package (`pip install kiln-nn[onnx]`); importing kiln.onnx without it raises
an ImportError that says so.
"""
try:
    import onnx as _onnx  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("kiln.onnx needs the 'onnx' package: pip install onnx (or kiln-nn[onnx])") from e

from .builder import ExportError
from .export import DEFAULT_OPSET, export, to_onnx

__all__ = ["export", "to_onnx", "ExportError", "DEFAULT_OPSET"]
