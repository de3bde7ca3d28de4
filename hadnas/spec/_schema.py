"""Frozen, typed objects the DSL validates into. Nothing here parses or checks: see _validate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Union

from hadnas.exceptions import Loc

DSL_VERSION = 1


def frozen_map(d: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only view of a dict copy (used for every mapping field)."""
    return MappingProxyType(dict(d or {}))


# ---- search domains -------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """``{choice: [a, b, ...]}``: one of the listed values."""

    options: tuple[Any, ...]


@dataclass(frozen=True)
class IntRange:
    """``{int: [low, high], step: s, log: bool}``: an integer in [low, high] (inclusive)."""

    low: int
    high: int
    step: int = 1
    log: bool = False


@dataclass(frozen=True)
class FloatRange:
    """``{float: [low, high]}`` or ``{log: [low, high]}`` (log-uniform)."""

    low: float
    high: float
    log: bool = False
    step: float | None = None


@dataclass(frozen=True)
class VarRef:
    """``$name``: the value of a shared variable from ``vars``."""

    name: str


Domain = Union[Choice, IntRange, FloatRange]  # noqa: UP007 - a runtime alias on 3.10
Value = Any  # a plain scalar, a Domain or a VarRef


def is_domain(value: Any) -> bool:
    return isinstance(value, (Choice, IntRange, FloatRange))


# ---- graph ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    loc: Loc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NodeOption:
    """One way to realise a node: an op and its (possibly searched) hyper-parameters."""

    op: str
    params: Mapping[str, Value]
    label: str
    loc: Loc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NodeSpec:
    """``{op: ..., in: ...}`` (one option) or ``{in: ..., choice: [...]}`` (several).

    ``inputs`` is a tuple of references, a :class:`Choice` of such tuples, or None (then the
    previous node in the same scope, or ``$in``, or the only input).
    """

    name: str
    inputs: tuple[str, ...] | Choice | None
    options: tuple[NodeOption, ...]
    is_choice: bool
    path: str = ""
    loc: Loc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BlockSpec:
    """A ``repeat`` block: ``nodes`` stacked ``repeat`` times; or explicit per-copy ``copies``."""

    name: str
    repeat: int | IntRange | Choice | VarRef
    inputs: tuple[str, ...] | None
    nodes: tuple[NodeSpec | BlockSpec, ...]
    copies: tuple[tuple[NodeSpec | BlockSpec, ...], ...] | None = None
    path: str = ""
    loc: Loc | None = field(default=None, compare=False)


# ---- the rest of a space --------------------------------------------------------------------
@dataclass(frozen=True)
class TaskSpec:
    dataset: str
    epochs: Value = 10
    batch_size: Value = 64
    lr: Value = 1e-3
    optimizer: Value = "adamw"
    weight_decay: Value = 0.0
    val_fraction: float = 0.2
    options: Mapping[str, Any] = field(default_factory=frozen_map)
    loc: Loc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ObjectiveSpec:
    metric: str
    direction: str  # "maximize" | "minimize"


@dataclass(frozen=True)
class ConstraintSpec:
    metric: str
    max: float | None = None
    min: float | None = None
    loc: Loc | None = field(default=None, compare=False)

    def violation(self, value: float) -> float:
        """Optuna's convention: ``<= 0`` is feasible, the amount above 0 says by how much not."""
        over = value - self.max if self.max is not None else float("-inf")
        under = self.min - value if self.min is not None else float("-inf")
        return float(max(over, under))


@dataclass(frozen=True)
class LatencySpec:
    batch_size: int = 1
    threads: int = 1
    mode: str = "measure"  # measure | predict | both
    warmup: int = 10
    repeats: int = 30
    rounds: int = 5


@dataclass(frozen=True)
class SearchSpec:
    sampler: str = "tpe"
    trials: int = 20
    seed: int = 0
    pruner: str = "none"
    trial_timeout_s: float = 600.0
    memory_limit_mb: int | None = None
    max_failed_trials: int | None = None
    threads: int = 1


@dataclass(frozen=True)
class SpaceSpec:
    """A validated search space (or, with every value fixed, an architecture)."""

    version: int
    name: str
    description: str
    task: TaskSpec
    inputs: tuple[InputSpec, ...]
    vars: Mapping[str, Value]
    nodes: tuple[NodeSpec | BlockSpec, ...]
    output: str
    objectives: tuple[ObjectiveSpec, ...]
    constraints: tuple[ConstraintSpec, ...]
    latency: LatencySpec
    search: SearchSpec
    sampled: Mapping[str, Any] = field(default_factory=frozen_map)
    file: str = field(default="<string>", compare=False)
    output_loc: Loc | None = field(default=None, compare=False)
