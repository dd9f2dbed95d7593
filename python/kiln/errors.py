"""Exceptions raised by the native core. All derive from ValueError (bad input) or
RuntimeError (KilnError) so that ordinary `except ValueError` code keeps working."""
from ._core import KilnError, ParseError, ShapeError  # noqa: F401
from ._core import ValueError as IRValueError  # noqa: F401
