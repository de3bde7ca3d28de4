"""Sequence-length scaling of the token mixers: time and peak memory, side by side.

Linear-time Hadamard mixers (``aft_simple``, ``linear_attention``, ``hyena``, ``ssm_gate``)
against the quadratic ones (``attention``, ``aft_full``) at T = 256 … 4096, batch 2, d = 64,
all causal, one forward pass in inference mode on one CPU thread.

Time: median over ``--repeats`` interleaved rounds (every op once per round, in a rotating
order, so load drift on a shared machine hits all ops alike) after a warm-up call.
Memory: peak of the CPU allocations of one forward, from the torch profiler's allocation
events (tensors only; the parameters, e.g. aft_full's T×T bias, are not counted).
The last row is the log-log slope of time vs T over the longer half of the lengths
(≈1 linear, ≈2 quadratic; short runs are dominated by per-call overhead).

    python benchmarks/bench_mixer_scaling.py            # T = 256 … 4096 (a few minutes)
    python benchmarks/bench_mixer_scaling.py --quick    # T = 256 … 1024, fewer repeats
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

from hadnas.primitives import TensorSpec, get_primitive

MIXERS: dict[str, dict[str, Any]] = {
    "aft_simple": {"causal": True},
    "linear_attention": {"causal": True, "heads": 4},
    "hyena": {"order": 2},
    "ssm_gate": {},
    "attention": {"causal": True, "heads": 4},
    "aft_full": {"causal": True},
}


def build(op: str, t: int, d: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return get_primitive(op)(**MIXERS[op]).create([TensorSpec((t, d))]).eval()


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak of live CPU tensor bytes allocated during ``fn`` (profiler allocation events)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    live = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak


def run(lengths: list[int], batch: int, dim: int, repeats: int, ops: list[str]) -> dict:
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for t in lengths:
        modules = {op: build(op, t, dim) for op in ops}
        x = torch.randn(batch, t, dim)
        times: dict[str, list[float]] = {op: [] for op in ops}
        with torch.inference_mode():
            for op in ops:  # warm-up
                modules[op](x)
            for r in range(repeats):
                order = ops[r % len(ops) :] + ops[: r % len(ops)]
                for op in order:
                    start = time.perf_counter()
                    modules[op](x)
                    times[op].append(time.perf_counter() - start)
            for op in ops:
                mem = peak_bytes(lambda m=modules[op], x=x: m(x))
                results[op, t] = (1e3 * statistics.median(times[op]), mem / 2**20)
        print(f"  T={t} done", flush=True)
    return results


def fit_lengths(lengths: list[int]) -> list[int]:
    """The longer half of the lengths (at least two): short runs are dominated by overhead."""
    return lengths[min(len(lengths) // 2, len(lengths) - 2) :]


def slope(results: dict, op: str, lengths: list[int]) -> float:
    """Least-squares slope of log(time) against log(T)."""
    xs = [math.log(t) for t in lengths]
    ys = [math.log(results[op, t][0]) for t in lengths]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def render(results: dict, lengths: list[int], ops: list[str], header: str) -> None:
    """Two tables, ops side by side: median time (ms) with its slope, and peak memory (MB)."""
    time_rows = [[f"T={t}"] + [f"{results[op, t][0]:.1f}" for op in ops] for t in lengths]
    if len(lengths) > 1:
        fit = fit_lengths(lengths)
        label = f"slope T≥{fit[0]}"
        time_rows.append([label] + [f"{slope(results, op, fit):.2f}" for op in ops])
    mem_rows = [[f"T={t}"] + [f"{results[op, t][1]:.1f}" for op in ops] for t in lengths]
    tables = [("time, ms (median)", time_rows), ("peak tensor memory, MB", mem_rows)]
    print(header)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text without rich
        for title, rows in tables:
            print(f"\n{title}")
            cells = [["", *ops], *rows]
            widths = [max(len(r[i]) for r in cells) for i in range(len(ops) + 1)]
            for row in cells:
                print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        return
    console = Console(width=max(100, 14 * (len(ops) + 1)))
    for title, rows in tables:
        table = Table(title=title)
        table.add_column("")
        for op in ops:
            table.add_column(op, justify="right")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T up to 1024, 3 repeats")
    parser.add_argument("--lengths", type=int, nargs="+", help="sequence lengths")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5)")
    parser.add_argument("--ops", nargs="+", default=list(MIXERS), choices=list(MIXERS))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    lengths = args.lengths or ([256, 512, 1024] if args.quick else [256, 512, 1024, 2048, 4096])
    repeats = args.repeats or (3 if args.quick else 5)
    torch.set_num_threads(args.threads)
    header = (
        f"causal mixers, forward, B={args.batch}, d={args.dim}, {args.threads} thread(s), "
        f"median of {repeats} interleaved runs; peak tensor memory"
    )
    print(f"T = {lengths}, ops = {args.ops}", flush=True)
    results = run(lengths, args.batch, args.dim, repeats, args.ops)
    render(results, lengths, args.ops, header)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
