"""Shape helpers shared by primitives."""

from __future__ import annotations

from collections.abc import Sequence

from hadnas.primitives._base import ShapeError, TensorSpec


def broadcast(op: str, ins: Sequence[TensorSpec]) -> TensorSpec:
    """Element-wise broadcasting of per-sample shapes of equal rank (dims equal or 1).

    Ranks must match: with the batch dimension in front, a ``(B, d)`` tensor does not broadcast
    against ``(B, T, d)`` the way a reader would expect, so hadnas refuses it.
    """
    first = ins[0]
    shape = list(first.shape)
    for i, spec in enumerate(ins[1:], start=1):
        if len(spec.shape) != len(shape):
            raise ShapeError(
                f"{op}: input 0 has shape {first} but input {i} has shape {spec}; element-wise "
                "ops need inputs of the same rank (add a `flatten`, `mean_pool` or projection)"
            )
        for axis, (a, b) in enumerate(zip(shape, spec.shape)):
            if a != b and a != 1 and b != 1:
                raise ShapeError(
                    f"{op}: input 0 has shape {first} but input {i} has shape {spec}; "
                    f"dimension {axis + 1} differs ({a} vs {b}). Give both branches the same "
                    "width (e.g. the same `out:` or a shared `$var`)"
                )
            shape[axis] = max(a, b)
    return TensorSpec(tuple(shape), first.dtype)


def feature_axis(spec: TensorSpec) -> int:
    """Axis of the feature/channel dimension in a batched tensor (negative index)."""
    return -len(spec.shape) if spec.layout == "I" else -1
