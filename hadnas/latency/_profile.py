"""Build a latency table for a space: enumerate its op configurations, time each in isolation
(interleaved, with the measurement protocol), and measure a few whole models to calibrate.

Configurations are enumerated by sampling many architectures plus the space's two extremes.
When there are more than ``max_configs``, each op keeps configurations spread evenly over its
FLOPs range and the rest are interpolated by :class:`~hadnas.latency.LUTModel`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hadnas.latency._base import GraphSample, OpEntry
from hadnas.latency._fingerprint import fingerprint
from hadnas.latency._keys import OpConfig, graph_configs, live_keys, node_config
from hadnas.latency._measure import DEFAULT_BUDGET_S, make_inputs, measure_many
from hadnas.latency._stats import median
from hadnas.latency._table import LatencyTable, table_path
from hadnas.spec._schema import LatencySpec

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph
    from hadnas.primitives import PrimitiveDef, TensorSpec
    from hadnas.space import Architecture, SearchSpace

#: seed ranges kept apart so calibration and check architectures are never the same draws
CALIBRATION_SEED = 500_000
CHECK_SEED = 1_000_000
OP_BUDGET_S = 0.5
PASSES = 3
CHUNK = 32
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class OpSite:
    """What it takes to time one configuration in isolation."""

    config: OpConfig
    d: PrimitiveDef
    ins: tuple[TensorSpec, ...]


def architectures(space: SearchSpace, samples: int, seed0: int = 0) -> list[Architecture]:
    """The extremes (when the space has choices) and ``samples`` seeded random draws."""
    if space.is_fixed:
        return [space.architecture()]
    return [*space.extremes(), *(space.sample(seed0 + k) for k in range(samples))]


def distinct(
    space: SearchSpace, n: int, seed0: int, batch: int = 1
) -> list[tuple[int, Architecture]]:
    """Up to ``n`` ``(seed, architecture)`` with pairwise different op configurations, from
    seeds ``seed0, seed0+1, ...`` (at most ``20·n`` draws: small spaces may have fewer).
    Duplicates would only re-measure the same model and tie ranks."""
    out: list[tuple[int, Architecture]] = []
    seen: set[tuple[str, ...]] = set()
    for k in range(20 * n):
        if len(out) >= n:
            break
        arch = space.sample(seed0 + k)
        sig = tuple(key for _, key in live_keys(arch.graph, batch))
        if sig not in seen:
            seen.add(sig)
            out.append((seed0 + k, arch))
    return out


def enumerate_sites(graphs: Iterable[ArchGraph], batch: int) -> dict[str, OpSite]:
    """Every distinct op configuration of the live nodes, keyed by table key."""
    sites: dict[str, OpSite] = {}
    for graph in graphs:
        for n in graph.live_nodes():
            d, ins = graph.defs[n], tuple(graph.in_specs(n))
            cfg = node_config(d, ins, graph.specs[n], batch)
            if cfg.key not in sites:
                sites[cfg.key] = OpSite(cfg, d, ins)
    return sites


def select(sites: dict[str, OpSite], max_configs: int | None) -> dict[str, OpSite]:
    """At most ``max_configs`` sites; every op keeps a share spread over its FLOPs range
    (smallest and largest always), so interpolation stays between profiled points."""
    if max_configs is None or len(sites) <= max_configs:
        return dict(sites)
    by_op: dict[str, list[OpSite]] = {}
    for s in sites.values():
        by_op.setdefault(s.config.op, []).append(s)
    quota = max(2, max_configs // len(by_op))
    keep: dict[str, OpSite] = {}
    for group in by_op.values():
        group.sort(key=lambda s: (s.config.flops, s.config.bytes, s.config.key))
        if len(group) <= quota:
            picked = group
        else:
            idx = sorted({round(i * (len(group) - 1) / (quota - 1)) for i in range(quota)})
            picked = [group[i] for i in idx]
        keep.update((s.config.key, s) for s in picked)
    return keep


def reference(device: str = "cpu") -> tuple[nn.Module, list[torch.Tensor]]:
    """The fixed module timed alongside every chunk: all timings are stored as ratios to it.

    A shared machine has phases where everything runs ~1.5x slower for a while; both members
    of an interleaved pair see the same phase, so the ratio stays put (5-8 %) while absolute
    times jump. Ratios times the reference's nominal time put every chunk, and every later
    profiling session, on one scale.
    """
    gen = torch.Generator().manual_seed(0)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(0)
    try:
        module = nn.Sequential(nn.Linear(128, 256), nn.GELU(), nn.Linear(256, 128))
    finally:
        torch.random.set_rng_state(torch_state)
    return module.to(device).eval(), [torch.randn(1, 128, generator=gen).to(device)]


def _with_reference(
    cands: list[Any], spec: LatencySpec, device: str, budget_s: float | None
) -> tuple[list[float], float]:
    """Measure ``cands`` with the reference first; return their ms ratios and the ref ms."""
    results = measure_many([reference(device), *cands], spec, device=device, budget_s=budget_s)
    ref = results[0].ms
    return [r.ms / ref for r in results[1:]], ref


def profile_ops(
    sites: dict[str, OpSite],
    spec: LatencySpec,
    *,
    passes: int = PASSES,
    progress: Progress | None = None,
    device: str = "cpu",
) -> tuple[dict[str, tuple[float, OpSite]], list[float]]:
    """Time every site in isolation, ``CHUNK`` at a time interleaved round-robin with the
    :func:`reference`, in ``passes`` passes over all sites; return ``key -> (median ratio to
    the reference over the passes, site)`` and the reference's ms per chunk.

    The reference cancels machine-wide slow phases but not contention that hurts a large op
    more than the small reference; separate passes land in different moments, and the
    median drops the odd one out.
    """
    items = list(sites.values())
    ratios: dict[str, list[float]] = {s.config.key: [] for s in items}
    refs = []
    gen = torch.Generator().manual_seed(0)
    total, done = passes * len(items), 0
    for _ in range(passes):
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            cands = []
            for s in chunk:
                module = s.d.create(s.ins).to(device)
                xs = [
                    x.to(device)
                    for x in s.d.sample_inputs(s.ins, batch=spec.batch_size, generator=gen)
                ]
                cands.append((module, xs))
            qs, ref = _with_reference(cands, spec, device, OP_BUDGET_S)
            refs.append(ref)
            for s, q in zip(chunk, qs):
                ratios[s.config.key].append(q)
            done += len(chunk)
            if progress:
                progress("ops", done, total)
    return {s.config.key: (median(ratios[s.config.key]), s) for s in items}, refs


def measure_graphs(
    archs: list[Architecture],
    spec: LatencySpec,
    *,
    device: str = "cpu",
    seed: int = 0,
    relative: bool = False,
) -> list[float]:
    """Whole-model ms of ``archs`` measured together (interleaved), in order; with
    ``relative``, ratios to the :func:`reference` measured alongside, then the reference ms
    appended last."""
    from hadnas.build import build

    cands = [
        (
            build(a, seed=seed).to(device),
            make_inputs(a.graph, spec.batch_size, seed=seed, device=device),
        )
        for a in archs
    ]
    if relative:
        ratios, ref = _with_reference(cands, spec, device, DEFAULT_BUDGET_S)
        return [*ratios, ref]
    return [r.ms for r in measure_many(cands, spec, device=device)]


def graph_sample(arch: Architecture, ms: float, batch: int, seed: int = 0) -> GraphSample:
    nodes = [(c.key, c.flops, c.bytes) for c in graph_configs(arch.graph, batch)]
    return GraphSample(nodes=nodes, ms=ms, batch=batch, space=arch.name, seed=seed)


def profile_space(
    space: SearchSpace,
    spec: LatencySpec | None = None,
    *,
    samples: int = 200,
    calibrate: int = 12,
    max_configs: int | None = 400,
    table: LatencyTable | None = None,
    root: str | None = None,
    save: bool = True,
    device: str = "cpu",
    progress: Progress | None = None,
) -> LatencyTable:
    """Profile ``space`` into this device's table (created, or extended when it exists).

    Args:
        spec: batch size, threads and timing settings; default the space's ``latency:`` block.
        samples: random architectures drawn to enumerate op configurations.
        calibrate: whole models measured to fit the per-graph overhead term.
        max_configs: cap on newly profiled op configurations (the rest are interpolated).
        table: extend this table instead of the cached one for the fingerprint.
    """
    spec = spec or space.spec.latency
    fp = fingerprint(spec.threads, device)
    if table is None:
        path = table_path(fp, root)
        table = LatencyTable.load(path) if path.exists() else LatencyTable(fp)
    elif table.fingerprint != fp:
        raise ValueError(f"table is for {table.fingerprint.id}, this device is {fp.id}")
    batch = spec.batch_size
    calib = [] if space.is_fixed else distinct(space, calibrate, CALIBRATION_SEED, batch)
    archs = architectures(space, samples) + [a for _, a in calib]
    sites = enumerate_sites((a.graph for a in archs), batch)
    new = {k: s for k, s in sites.items() if k not in table.data.ops}
    if progress:
        progress("enumerate", len(sites), len(sites))
    nominal: float | None = table.settings.get("reference_ms")
    ratios, refs = profile_ops(select(new, max_configs), spec, progress=progress, device=device)
    if refs:
        nominal = median(refs) if nominal is None else nominal
    for key, (q, site) in ratios.items():
        assert nominal is not None  # refs is non-empty whenever ratios is
        c = site.config
        table.data.ops[key] = OpEntry(op=c.op, ms=q * nominal, flops=c.flops, bytes=c.bytes)
    seen = {(g.space, g.batch, g.seed) for g in table.data.graphs}
    todo = [(s, a) for s, a in calib if (a.name, batch, s) not in seen]
    if todo:
        *q_graphs, ref = measure_graphs([a for _, a in todo], spec, device=device, relative=True)
        nominal = ref if nominal is None else nominal
        table.data.graphs += [
            graph_sample(a, q * nominal, batch, s) for (s, a), q in zip(todo, q_graphs)
        ]
        if progress:
            progress("calibrate", len(todo), len(todo))
    table.settings = {**table.settings, **_settings(spec)}
    profiled = table.settings.setdefault("spaces", [])
    if [space.name, batch] not in profiled:
        profiled.append([space.name, batch])
    if nominal is not None:
        table.settings["reference_ms"] = nominal
    table.fit()
    if save:
        table.save(table_path(fp, root) if table.path is None else table.path)
    return table


def _settings(spec: LatencySpec) -> dict[str, Any]:
    return {
        "warmup": spec.warmup,
        "repeats": spec.repeats,
        "rounds": spec.rounds,
        "threads": spec.threads,
    }


def ensure_table(
    space: SearchSpace,
    spec: LatencySpec | None = None,
    *,
    root: str | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> LatencyTable:
    """This device's table, after profiling ``space`` into it if it was never profiled at this
    batch size (search calls this once before a ``mode: predict`` study)."""
    spec = spec or space.spec.latency
    path = table_path(fingerprint(spec.threads, device), root)
    if path.exists():
        table = LatencyTable.load(path)
        if [space.name, spec.batch_size] in table.settings.get("spaces", []):
            return table
    return profile_space(space, spec, root=root, device=device, progress=progress)
