"""Lookup-table keys: one string per op configuration (op, hyper-parameters, input shapes).

Two nodes with the same key run the same kernels on the same shapes, so they cost the same on
one device; that is what makes a per-op table reusable across architectures and spaces. The
hyper-parameters are the def's resolved values (defaults filled in), and shapes include the
batch dimension.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hadnas.primitives import PrimitiveDef, TensorSpec

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph


_PLANS: dict[tuple[int, int], list[tuple[str, str]]] = {}


@dataclass(frozen=True)
class OpConfig:
    """One node as the predictor sees it: its key and analytic cost for the whole batch."""

    key: str
    op: str
    flops: int
    bytes: int


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


@lru_cache(maxsize=1 << 16)
def _key(
    op: str,
    hp: tuple[tuple[str, Any], ...],
    shapes: tuple[tuple[tuple[int, ...], str], ...],
    batch: int,
) -> str:
    hp_txt = json.dumps(dict(hp), sort_keys=True, separators=(",", ":"), default=str)
    ins = ",".join(
        f"{'x'.join(str(d) for d in (batch, *shape))}:{dtype}" for shape, dtype in shapes
    )
    return f"{op}|{hp_txt}|{ins}"


def op_key(op: str, hp: dict[str, Any], ins: Sequence[TensorSpec], batch: int = 1) -> str:
    """The table key, e.g. ``linear|{"bias":true,"out":64}|1x32:float32``."""
    return _key(
        op, _hashable(dict(sorted(hp.items()))), tuple((s.shape, s.dtype) for s in ins), int(batch)
    )


def node_key(d: PrimitiveDef, ins: Sequence[TensorSpec], batch: int = 1) -> str:
    return op_key(d.op, d.hp, ins, batch)


def node_config(
    d: PrimitiveDef, ins: Sequence[TensorSpec], out: TensorSpec, batch: int
) -> OpConfig:
    cost = d.cost(ins, out)
    return OpConfig(node_key(d, ins, batch), d.op, cost.flops * batch, cost.bytes * batch)


def graph_keys(graph: ArchGraph, batch: int = 1) -> list[str]:
    """Keys of the live nodes in execution order."""
    return [key for _, key in live_keys(graph, batch)]


def live_keys(graph: ArchGraph, batch: int = 1) -> list[tuple[str, str]]:
    """``(node, key)`` of the live nodes, memoised per graph object and batch size.

    Graphs are immutable after construction, and search predicts the same graph more than
    once (screening, then reporting), so the walk is done once; the memo entry goes with the
    graph.
    """
    memo_key = (id(graph), batch)
    plan = _PLANS.get(memo_key)
    if plan is None:
        plan = [(n, node_key(graph.defs[n], graph.in_specs(n), batch)) for n in graph.live_nodes()]
        if not any(k[0] == id(graph) for k in _PLANS):
            weakref.finalize(graph, _forget, id(graph))
        _PLANS[memo_key] = plan
    return plan


def _forget(graph_id: int) -> None:
    for k in [k for k in _PLANS if k[0] == graph_id]:
        del _PLANS[k]


def graph_configs(graph: ArchGraph, batch: int = 1) -> list[OpConfig]:
    return [
        node_config(graph.defs[n], graph.in_specs(n), graph.specs[n], batch)
        for n in graph.live_nodes()
    ]


def unique(configs: Iterable[OpConfig]) -> dict[str, OpConfig]:
    """Deduplicated by key, first occurrence kept (insertion ordered)."""
    out: dict[str, OpConfig] = {}
    for c in configs:
        out.setdefault(c.key, c)
    return out
