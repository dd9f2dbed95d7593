"""Weights and models from and to other frameworks (docs/interop.md). ONNX export is kiln.onnx."""
from .torch_weights import TorchWeightsError, load_torch_state_dict

__all__ = ["load_torch_state_dict", "TorchWeightsError"]
