"""The primitive library. Importing this package registers every built-in primitive."""

from __future__ import annotations

from hadnas.primitives import (  # noqa: F401  (registration)
    conv_gating,
    core,
    fusion,
    gating,
    higher_order,
    layers,
    long_range,
    mixers,
)
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
