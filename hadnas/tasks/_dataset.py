"""The :class:`Dataset` record every dataset function returns, checked once at construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from hadnas.exceptions import TaskError

Kind = Literal["classification", "regression"]
TargetPosition = int | tuple[int, ...] | None


@dataclass(frozen=True, eq=False)
class Dataset:
    """A whole dataset (before the train/validation split), as named input arrays and targets.

    Attributes:
        inputs: Named views, each ``(N, *shape)``: float32 features, or int64 tokens (never
            standardised). A model receives them as separate arguments, in the order the
            space declares its inputs.
        y: Targets: int64 class ids ``(N,)`` (or ``(N, K)`` for ``K`` scored sequence
            positions), or float32 values ``(N,)`` / ``(N, D)`` for regression.
        kind: ``"classification"`` (cross-entropy, accuracy) or ``"regression"`` (MSE, r2).
        num_classes: Number of classes; inferred as ``y.max() + 1`` when omitted.
        target_position: For sequence tasks, where a ``(B, T, C)`` output is scored: an int
            (that position, ``y`` is ``(N,)``) or a tuple of ``K`` positions (``y`` is
            ``(N, K)``; accuracy is then per scored token). ``None`` means position -1 if the
            model emits a sequence.
        val_fraction: The dataset's preferred validation share (synthetic tasks derive it from
            their ``n_train``/``n_val`` options); ``prepare`` uses it unless told otherwise.
        name: The name it was loaded under (filled in by ``load_dataset``).
        info: Generator details worth recording (vocabulary layout, chance level...).
    """

    inputs: Mapping[str, np.ndarray]
    y: np.ndarray
    kind: Kind = "classification"
    num_classes: int | None = None
    target_position: TargetPosition = None
    val_fraction: float | None = None
    name: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"dataset {self.name!r}" if self.name else "dataset"
        if self.kind not in ("classification", "regression"):
            raise TaskError(
                f"{where}: kind must be 'classification' or 'regression', got {self.kind!r}"
            )
        if not self.inputs:
            raise TaskError(f"{where}: it has no inputs")
        y = np.asarray(self.y)
        n = len(y)
        inputs: dict[str, np.ndarray] = {}
        for name, arr in self.inputs.items():
            if not name.isidentifier():
                raise TaskError(f"{where}: input name {name!r} is not an identifier")
            inputs[name] = _coerce_input(where, name, np.asarray(arr))
            if inputs[name].ndim < 2 or len(inputs[name]) != n:
                raise TaskError(
                    f"{where}: input {name!r} has shape {list(inputs[name].shape)}; "
                    f"expected ({n}, ...) to match the {n} targets"
                )
        num_classes = self.num_classes
        if self.kind == "classification":
            if not (np.issubdtype(y.dtype, np.integer) or _integral(y)):
                raise TaskError(f"{where}: classification targets must be integer class ids")
            y = y.astype(np.int64)
            if n and y.min() < 0:
                raise TaskError(f"{where}: class ids must be >= 0, got {int(y.min())}")
            top = int(y.max()) + 1 if n else 0
            num_classes = top if num_classes is None else int(num_classes)
            if top > num_classes:
                raise TaskError(f"{where}: class id {top - 1} >= num_classes={num_classes}")
        else:
            y = y.astype(np.float32)
            if not np.all(np.isfinite(y)):
                raise TaskError(f"{where}: regression targets contain NaN or infinite values")
            num_classes = None
        pos = self.target_position
        if isinstance(pos, (list, np.ndarray)):
            pos = tuple(int(p) for p in pos)
        if isinstance(pos, tuple) and (y.ndim < 2 or y.shape[1] != len(pos)):
            raise TaskError(
                f"{where}: {len(pos)} target positions need targets of shape (N, {len(pos)}), "
                f"got {list(y.shape)}"
            )
        if self.val_fraction is not None and not 0.0 < self.val_fraction < 1.0:
            raise TaskError(f"{where}: val_fraction must be in (0, 1), got {self.val_fraction}")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "num_classes", num_classes)
        object.__setattr__(self, "target_position", pos)
        object.__setattr__(self, "info", dict(self.info))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_specs(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Per-sample shape and dtype name of each input, e.g. ``{"x": ((64,), "float32")}``."""
        return {k: (tuple(v.shape[1:]), str(v.dtype)) for k, v in self.inputs.items()}


def _integral(y: np.ndarray) -> bool:
    return bool(
        np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))
    )


def _coerce_input(where: str, name: str, arr: np.ndarray) -> np.ndarray:
    """Floats (and bools) become float32 features; integers become int64 tokens."""
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise TaskError(f"{where}: input {name!r} contains NaN or infinite values")
        return arr
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    raise TaskError(f"{where}: input {name!r} has dtype {arr.dtype}; expected floats or integers")
