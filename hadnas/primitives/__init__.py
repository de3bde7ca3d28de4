"""The primitive library. Importing this package registers every built-in primitive."""

from __future__ import annotations

from hadnas.primitives import core, gating, higher_order  # noqa: F401  (registration)
from hadnas.primitives._base import (
    Cost,
    Param,
    PrimitiveDef,
    ShapeError,
    TensorSpec,
)
from hadnas.primitives._registry import (
    get_primitive,
    is_registered,
    list_primitives,
    register_primitive,
)

__all__ = [
    "Cost",
    "Param",
    "PrimitiveDef",
    "ShapeError",
    "TensorSpec",
    "get_primitive",
    "is_registered",
    "list_primitives",
    "register_primitive",
]
