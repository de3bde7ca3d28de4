"""Predictors: the per-op lookup table (``LUTModel``) and the FLOPs-linear baseline.

Both sum a per-node cost over the live nodes and then apply the same calibrated per-graph
correction ``ms = a·Σ cost + b + c·nodes``, fitted on a few whole-model measurements; it absorbs
what isolated op timings miss (the generated forward, cache effects between ops). They differ
only in the per-node cost — a lookup vs ``α + β·FLOPs`` — so comparing them on the same profile
data measures what the table buys.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hadnas.latency._base import BaseLatencyModel, GraphSample, ProfileData
from hadnas.latency._keys import live_keys, node_config

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph

#: calibration features by number of whole-model samples: scale; + intercept; + per node
_MIN_GRAPHS_FOR = {"scale": 1, "intercept": 3, "per_node": 6}
_FLOOR_MS = 1e-6


def fit_linear(x: np.ndarray, y: np.ndarray, nonneg: bool = True) -> np.ndarray:
    """Least squares on relative error (rows weighted by 1/y); with ``nonneg``, features whose
    coefficient comes out negative are dropped and the rest refitted."""
    w = 1.0 / np.maximum(np.abs(y), 1e-12)
    active = list(range(x.shape[1]))
    coef = np.zeros(x.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(x[:, active] * w[:, None], y * w, rcond=None)
        if not nonneg or (sol >= 0).all():
            coef[active] = sol
            return coef
        active.pop(int(np.argmin(sol)))
    return coef


class _SumOfOps(BaseLatencyModel):
    """Shared machinery: per-node costs, summed, then the calibrated graph correction."""

    def __init__(self) -> None:
        self.calib = (1.0, 0.0, 0.0)  # a, b, c
        self._cache: dict[str, float] = {}

    def node_cost(self, key: str, op: str, flops: int, nbytes: int) -> float:
        raise NotImplementedError

    def fit_nodes(self, data: ProfileData) -> None:
        """Fit the per-node cost on ``data.ops`` (before calibration)."""

    def fit(self, data: ProfileData) -> _SumOfOps:
        self._cache = {}
        self.fit_nodes(data)
        self.calib = self._fit_calibration(data.graphs)
        self._cache = {}
        return self

    def raw(self, sample: GraphSample) -> float:
        return sum(self.node_cost(k, k.split("|", 1)[0], f, b) for k, f, b in sample.nodes)

    def _fit_calibration(self, graphs: list[GraphSample]) -> tuple[float, float, float]:
        if len(graphs) < _MIN_GRAPHS_FOR["scale"]:
            return (1.0, 0.0, 0.0)
        raw = np.array([self.raw(g) for g in graphs])
        n = np.array([len(g.nodes) for g in graphs], dtype=float)
        y = np.array([g.ms for g in graphs])
        cols = [raw]
        if len(graphs) >= _MIN_GRAPHS_FOR["intercept"]:
            cols.append(np.ones_like(raw))
        if len(graphs) >= _MIN_GRAPHS_FOR["per_node"] and np.ptp(n) > 0:
            cols.append(n)
        coef = fit_linear(np.stack(cols, axis=1), y, nonneg=False)
        if coef[0] <= 0:  # a degenerate fit; keep the sum, correct only its scale
            coef = np.array([float(np.median(y / raw))] + [0.0] * (len(cols) - 1))
        a, b, c = (list(coef) + [0.0, 0.0])[:3]  # columns are always [raw, 1?, nodes?]
        return (float(a), float(b), float(c))

    def calibrated(self, raw: float, nodes: int) -> float:
        a, b, c = self.calib
        return max(a * raw + b + c * nodes, _FLOOR_MS)

    def predict_sample(self, sample: GraphSample) -> float:
        return self.calibrated(self.raw(sample), len(sample.nodes))

    def predict(self, graph: ArchGraph, batch_size: int = 1) -> float:
        total = 0.0
        cache = self._cache
        plan = live_keys(graph, batch_size)
        for name, key in plan:
            cost = cache.get(key)
            if cost is None:
                d, ins = graph.defs[name], graph.in_specs(name)
                cfg = node_config(d, ins, graph.specs[name], batch_size)
                cost = cache[key] = self.node_cost(key, cfg.op, cfg.flops, cfg.bytes)
            total += cost
        return self.calibrated(total, len(plan))

    def to_dict(self) -> dict[str, Any]:
        return {"calib": list(self.calib)}

    def load_dict(self, data: dict[str, Any]) -> None:
        self.calib = _triple(data["calib"])
        self._cache = {}


class LUTModel(_SumOfOps):
    """Per-op lookup table; unprofiled configurations are interpolated per op.

    The interpolation is ``ms ≈ α + β·FLOPs + γ·bytes`` fitted (non-negative, on relative
    error) over the profiled configurations of the same op — widths and lengths change FLOPs and
    bytes smoothly, so this covers configurations skipped to keep profiling short. Ops never
    profiled fall back to the same fit over all ops.
    """

    name = "lut"

    def __init__(self) -> None:
        super().__init__()
        self.table: dict[str, float] = {}
        self.per_op: dict[str, tuple[float, float, float]] = {}
        self.fallback = (0.0, 0.0, 0.0)

    def fit_nodes(self, data: ProfileData) -> None:
        self.table = {k: e.ms for k, e in data.ops.items()}
        by_op: dict[str, list[tuple[float, int, int]]] = {}
        for e in data.ops.values():
            by_op.setdefault(e.op, []).append((e.ms, e.flops, e.bytes))
        self.per_op = {op: _fit_cost(rows) for op, rows in by_op.items()}
        everything = [r for rows in by_op.values() for r in rows]
        self.fallback = _fit_cost(everything) if everything else (0.0, 0.0, 0.0)

    def node_cost(self, key: str, op: str, flops: int, nbytes: int) -> float:
        ms = self.table.get(key)
        if ms is not None:
            return ms
        alpha, beta, gamma = self.per_op.get(op, self.fallback)
        return alpha + beta * flops + gamma * nbytes

    def covers(self, key: str) -> bool:
        return key in self.table

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "per_op": {k: list(v) for k, v in self.per_op.items()},
            "fallback": list(self.fallback),
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        super().load_dict(data)
        self.per_op = {k: _triple(v) for k, v in data.get("per_op", {}).items()}
        self.fallback = _triple(data.get("fallback", (0.0, 0.0, 0.0)))


class FlopsLinearModel(_SumOfOps):
    """Baseline: every node costs ``α + β·FLOPs`` (one fit over all profiled ops)."""

    name = "flops_linear"

    def __init__(self) -> None:
        super().__init__()
        self.alpha, self.beta = 0.0, 0.0

    def fit_nodes(self, data: ProfileData) -> None:
        rows = [(e.ms, e.flops) for e in data.ops.values()]
        if not rows:
            self.alpha, self.beta = 0.0, 0.0
            return
        y = np.array([r[0] for r in rows])
        x = np.array([[1.0, float(r[1])] for r in rows])
        self.alpha, self.beta = (float(v) for v in fit_linear(x, y))

    def node_cost(self, key: str, op: str, flops: int, nbytes: int) -> float:
        return self.alpha + self.beta * flops

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "alpha": self.alpha, "beta": self.beta}

    def load_dict(self, data: dict[str, Any]) -> None:
        super().load_dict(data)
        self.alpha, self.beta = float(data["alpha"]), float(data["beta"])


def _triple(v: Any) -> tuple[float, float, float]:
    a, b, c = (float(x) for x in v)
    return (a, b, c)


def _fit_cost(rows: list[tuple[float, int, int]]) -> tuple[float, float, float]:
    """``(α, β, γ)`` of ``ms ≈ α + β·flops + γ·bytes``; a constant median for < 3 rows."""
    y = np.array([r[0] for r in rows])
    if len(rows) < 3:
        return (float(np.median(y)) if len(y) else 0.0, 0.0, 0.0)
    x = np.array([[1.0, float(r[1]), float(r[2])] for r in rows])
    a, b, c = fit_linear(x, y)
    return (float(a), float(b), float(c))


MODELS: dict[str, type[_SumOfOps]] = {
    LUTModel.name: LUTModel,
    FlopsLinearModel.name: FlopsLinearModel,
}


def relative_errors(model: BaseLatencyModel, graphs: list[GraphSample]) -> list[float]:
    """``pred / measured - 1`` per calibration sample (a quick in-sample check)."""
    if not isinstance(model, _SumOfOps):
        return []
    return [model.predict_sample(g) / g.ms - 1.0 if g.ms else math.nan for g in graphs]
