"""Measure latency with a protocol that survives a shared, noisy machine.

The protocol (defaults from the space's ``latency:`` block, :class:`LatencySpec`):

1. pin ``torch.set_num_threads(threads)`` (1 unless asked; restored afterwards) — with two
   threads on a busy 2-core box one call can be 20x slower;
2. warm up every candidate, with the garbage collector off;
3. run ``rounds`` interleaved rounds (:func:`~hadnas.latency._stats.round_robin`): each round
   times ``repeats`` calls of every candidate in turn, so slow phases of the machine hit all
   candidates alike;
4. per candidate keep the minimum call time of each round, then the median over rounds.

Per-thread CPU time (``time.thread_time_ns``) and wall time are both recorded. With one thread
the CPU clock is the reported statistic (``ms``): it does not count time the thread spent
descheduled, which is most of the noise. With more threads (whose work the calling thread's
clock misses) the wall clock is reported; on CUDA, CUDA events around each synchronised call.
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hadnas.latency._fingerprint import Fingerprint, fingerprint
from hadnas.latency._stats import relative_iqr, round_robin, summarize
from hadnas.spec._schema import LatencySpec

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph
    from hadnas.space import Architecture

#: a soft time budget per candidate and measurement (seconds): large models get fewer repeats
DEFAULT_BUDGET_S = 2.0
Candidate = tuple[Callable[..., Any], Sequence[torch.Tensor]]


@dataclass(frozen=True)
class LatencyResult:
    """One candidate's measured latency (milliseconds per forward call of ``batch_size``).

    Attributes:
        ms: the robust statistic used as ``latency_ms`` (median over rounds of the per-round
            minimum) on ``clock``: ``thread_cpu`` (1 thread), ``wall`` (more threads) or
            ``cuda`` (CUDA events).
        cpu_ms: the same statistic on the calling thread's CPU clock (host side on CUDA).
        wall_ms: the same statistic on the wall clock.
        spread: relative inter-quartile range of the per-round values of ``clock``.
        wall_spread: the same for the wall clock (large = the machine was busy).
        rounds, repeats: rounds run and calls timed per round.
        load: 1-minute load average when the measurement started.
        round_ms: the per-round minima of ``clock``.
    """

    ms: float
    cpu_ms: float
    wall_ms: float
    spread: float
    wall_spread: float
    rounds: int
    repeats: int
    load: float
    threads: int
    batch_size: int
    clock: str
    device: str
    fingerprint: Fingerprint
    round_ms: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fingerprint"] = self.fingerprint.to_dict()
        data["round_ms"] = list(self.round_ms)
        return data


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # pragma: no cover - not on Linux/macOS
        return math.nan


def make_inputs(
    graph: ArchGraph, batch_size: int = 1, *, seed: int = 0, device: str = "cpu"
) -> list[torch.Tensor]:
    """Random inputs in declared order; token ids are drawn below the consuming embedding's
    ``vocab`` (small ints when no embedding reads them)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for name in graph.input_names():
        spec = graph.specs[name]
        shape = (batch_size, *spec.shape)
        if spec.dtype in ("int64", "int32"):
            vocabs = [
                int(graph.defs[n].hp["vocab"])
                for n in graph.g.successors(name)
                if n in graph.defs and "vocab" in graph.defs[n].hp
            ]
            out.append(torch.randint(0, min(vocabs) if vocabs else 2, shape, generator=gen))
        else:
            out.append(torch.randn(shape, generator=gen))
    return [x.to(device) for x in out]


def _is_cuda(device: str) -> bool:
    return device.startswith("cuda")


def measure_many(
    candidates: Sequence[Candidate],
    spec: LatencySpec | None = None,
    *,
    device: str = "cpu",
    budget_s: float | None = DEFAULT_BUDGET_S,
) -> list[LatencyResult]:
    """Measure several candidates interleaved round-robin; one result per candidate, in order.

    ``candidates`` are ``(callable, inputs)`` pairs — modules (put in eval mode here) or any
    function such as a ``torch.compile``d one — already on ``device``. Ratios between
    candidates measured together are far more stable than separate measurements, so measure
    everything you want to compare in one call. ``budget_s`` caps the time per candidate by
    lowering ``repeats`` (never below 3) for slow ones.
    """
    spec = spec or LatencySpec()
    if spec.rounds < 1 or spec.repeats < 1 or spec.threads < 1 or spec.warmup < 0:
        raise ValueError(
            f"latency spec needs rounds, repeats, threads >= 1 and warmup >= 0, got {spec}"
        )
    cuda = _is_cuda(device)
    if cuda and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    for fn, _ in candidates:
        if isinstance(fn, nn.Module):
            fn.eval()
    fp = fingerprint(spec.threads, device)
    clock = "cuda" if cuda else ("thread_cpu" if spec.threads == 1 else "wall")
    n = len(candidates)
    main: list[list[list[float]]] = [[[] for _ in range(spec.rounds)] for _ in range(n)]
    cpu: list[list[list[float]]] = [[[] for _ in range(spec.rounds)] for _ in range(n)]
    wall: list[list[list[float]]] = [[[] for _ in range(spec.rounds)] for _ in range(n)]
    repeats = [spec.repeats] * n
    load = load_average()
    prev_threads, gc_enabled = torch.get_num_threads(), gc.isenabled()
    try:
        torch.set_num_threads(spec.threads)
        gc.disable()
        with torch.inference_mode():
            for i, (fn, xs) in enumerate(candidates):
                t_call = _warm_up(fn, xs, spec.warmup, cuda, budget_s)
                repeats[i] = plan_repeats(t_call, spec.rounds, spec.repeats, budget_s)
            for r, i in round_robin(n, spec.rounds):
                fn, xs = candidates[i]
                for _ in range(repeats[i]):
                    m, c, w = _time_call(fn, xs, cuda)
                    main[i][r].append(m)
                    cpu[i][r].append(c)
                    wall[i][r].append(w)
    finally:
        torch.set_num_threads(prev_threads)
        if gc_enabled:
            gc.enable()
    results = []
    for i, (_, xs) in enumerate(candidates):
        ms, spread, minima = summarize(main[i])
        cpu_ms = summarize(cpu[i])[0]
        wall_ms, _, wall_minima = summarize(wall[i])
        batch = int(xs[0].shape[0]) if len(xs) and xs[0].dim() else spec.batch_size
        results.append(
            LatencyResult(
                ms=ms,
                cpu_ms=cpu_ms,
                wall_ms=wall_ms,
                spread=spread,
                wall_spread=relative_iqr(wall_minima),
                rounds=spec.rounds,
                repeats=repeats[i],
                load=load,
                threads=spec.threads,
                batch_size=batch,
                clock=clock,
                device=device,
                fingerprint=fp,
                round_ms=minima,
            )
        )
    return results


def plan_repeats(t_call: float, rounds: int, repeats: int, budget_s: float | None) -> int:
    """Calls per round so that ``rounds`` rounds of a ``t_call``-second call fit ``budget_s``;
    never more than ``repeats`` nor fewer than 3 (the minimum needs a few samples)."""
    if budget_s is None or t_call <= 0:
        return repeats
    return max(min(3, repeats), min(repeats, int(budget_s / (rounds * t_call))))


def _warm_up(
    fn: Callable[..., Any],
    xs: Sequence[torch.Tensor],
    warmup: int,
    cuda: bool,
    budget_s: float | None,
) -> float:
    """Run ``warmup`` calls (fewer when slow); return the last call's wall seconds."""
    t_call = 0.0
    spent = 0.0
    for k in range(max(warmup, 1)):
        t0 = time.perf_counter()
        fn(*xs)
        if cuda:
            torch.cuda.synchronize()
        t_call = time.perf_counter() - t0
        spent += t_call
        if budget_s is not None and k >= 1 and spent > budget_s / 4:
            break
    return t_call


def _time_call(
    fn: Callable[..., Any], xs: Sequence[torch.Tensor], cuda: bool
) -> tuple[float, float, float]:
    """``(main, cpu, wall)`` milliseconds of one call."""
    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        start.record()
        fn(*xs)
        end.record()
        end.synchronize()
        w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
        return start.elapsed_time(end), (c1 - c0) / 1e6, (w1 - w0) / 1e6
    c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    fn(*xs)
    w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
    cpu_ms, wall_ms = (c1 - c0) / 1e6, (w1 - w0) / 1e6
    return cpu_ms if torch.get_num_threads() == 1 else wall_ms, cpu_ms, wall_ms


def _graph_of(arch: Architecture | ArchGraph) -> ArchGraph:
    from hadnas.ir import ArchGraph

    return arch if isinstance(arch, ArchGraph) else arch.graph


def measure_arch(
    arch: Architecture | ArchGraph,
    model: nn.Module | None = None,
    spec: LatencySpec | None = None,
    *,
    device: str = "cpu",
    seed: int = 0,
    budget_s: float | None = DEFAULT_BUDGET_S,
) -> LatencyResult:
    """Measure one architecture with the default protocol (stable API used by search).

    Args:
        arch: an :class:`~hadnas.Architecture` (or its :class:`~hadnas.ArchGraph`).
        model: the built model; built with ``hadnas.build(arch, seed=0)`` when None.
        spec: timing settings; default the architecture's own ``latency:`` block.
        device: ``"cpu"`` (default) or ``"cuda"``/``"cuda:N"`` (CUDA events; never required).
        seed: seed of the random inputs.

    Returns:
        A :class:`LatencyResult`; ``result.ms`` is the number search uses as ``latency_ms``.
    """
    graph = _graph_of(arch)
    if spec is None:
        arch_spec = getattr(arch, "spec", None)
        spec = arch_spec.latency if arch_spec is not None else LatencySpec()
    if model is None:
        from hadnas.build import build

        model = build(arch, seed=0)
    model = model.to(device)
    inputs = make_inputs(graph, spec.batch_size, seed=seed, device=device)
    return measure_many([(model, inputs)], spec, device=device, budget_s=budget_s)[0]
