"""Exceptions raised by the native core. All derive from ValueError (bad input), RuntimeError
(KilnError), MemoryError (OutOfMemory: a batch whose memory plan does not fit) or
FloatingPointError (NumericsError: a NaN or inf found with numerics checking on), so that
ordinary `except ValueError` / `except MemoryError` code keeps working."""
from ._core import KilnError, NumericsError, OutOfMemory, ParseError, ShapeError  # noqa: F401
from ._core import ValueError as IRValueError  # noqa: F401
