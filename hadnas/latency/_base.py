"""``BaseLatencyModel``: the extension point for latency predictors.

Lifecycle: :meth:`~BaseLatencyModel.fit` runs once per device on :class:`ProfileData` (per-op
timings plus a few whole-model measurements, both from ``hadnas latency profile``);
:meth:`~BaseLatencyModel.predict` then runs per candidate architecture during search, so it must
be cheap and must not touch torch. ``to_dict``/``from_dict`` persist the fitted state in the
table file.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph


@dataclass
class OpEntry:
    """A profiled op configuration: measured ms for the whole batch, and its analytic cost."""

    op: str
    ms: float
    flops: int
    bytes: int
    spread: float = 0.0


@dataclass
class GraphSample:
    """A whole model measured for calibration: its nodes ``(key, flops, bytes)`` and ms."""

    nodes: list[tuple[str, int, int]]
    ms: float
    batch: int = 1
    space: str = ""
    seed: int = 0


@dataclass
class ProfileData:
    """Everything a predictor is fitted on (serialised in ``runs/latency/<fingerprint>.json``)."""

    ops: dict[str, OpEntry] = field(default_factory=dict)
    graphs: list[GraphSample] = field(default_factory=list)


class BaseLatencyModel(abc.ABC):
    """Predicts the latency (ms) of an architecture graph at a batch size.

    Subclasses implement :meth:`fit` and :meth:`predict`; persistence hooks default to nothing.
    """

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def fit(self, data: ProfileData) -> BaseLatencyModel:
        """Fit on profile data; return self."""

    @abc.abstractmethod
    def predict(self, graph: ArchGraph, batch_size: int = 1) -> float:
        """Predicted milliseconds per forward call of ``batch_size`` samples."""

    def to_dict(self) -> dict[str, Any]:
        return {}

    def load_dict(self, data: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore the state written by :meth:`to_dict` (fitted models only)."""
