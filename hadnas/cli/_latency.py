"""``hadnas latency measure | profile | predict | check``: time, tabulate and predict latency.

Only argparse is imported at module level (``hadnas --help`` stays fast); torch and the latency
package load inside each command.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("latency", help="measure, profile, predict and check latency")
    lsub = p.add_subparsers(dest="latency_command", metavar="SUBCOMMAND", required=True)

    m = lsub.add_parser("measure", help="time architectures with the robust protocol")
    _common(m, samples=5)
    m.set_defaults(run=run_measure)

    pr = lsub.add_parser("profile", help="build this device's per-op latency table for a space")
    _common(pr, samples=200, samples_help="architectures sampled to enumerate op configurations")
    pr.add_argument(
        "--calibrate",
        type=int,
        default=12,
        help="whole models measured to fit the per-graph overhead (default 12)",
    )
    pr.add_argument(
        "--max-configs",
        type=int,
        default=400,
        help="new op configurations timed at most; the rest are interpolated (default 400)",
    )
    pr.set_defaults(run=run_profile)

    pd = lsub.add_parser("predict", help="predict latency from the table (nothing is built)")
    _common(pd, samples=5)
    pd.set_defaults(run=run_predict)

    ck = lsub.add_parser(
        "check",
        help="measure held-out architectures twice, predict once, "
        "and compare (profiles first when no table exists)",
    )
    _common(ck, samples=40)
    ck.set_defaults(run=run_check)


def _common(p: argparse.ArgumentParser, samples: int, samples_help: str = "") -> None:
    p.add_argument("file", metavar="SPACE_OR_ARCH.yaml")
    p.add_argument("--batch-size", type=int, help="default: the file's latency.batch_size")
    p.add_argument("--threads", type=int, help="intra-op threads (default: latency.threads, 1)")
    p.add_argument(
        "--samples",
        type=int,
        default=samples,
        help=samples_help or f"architectures sampled from a space (default {samples})",
    )
    p.add_argument("--seed", type=int, default=0, help="first sample seed (measure/predict)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--table-dir", help="where tables live (default runs/latency)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _setup(args: argparse.Namespace) -> tuple[Any, Any]:
    from dataclasses import replace

    from hadnas.space import load_space

    space = load_space(args.file)
    spec = space.spec.latency
    if args.batch_size is not None:
        spec = replace(spec, batch_size=args.batch_size)
    if args.threads is not None:
        spec = replace(spec, threads=args.threads)
    return space, spec


def _archs(space: Any, args: argparse.Namespace) -> list[tuple[str, Any]]:
    if space.is_fixed:
        return [(space.name, space.architecture())]
    return [(f"seed {s}", space.sample(s)) for s in range(args.seed, args.seed + args.samples)]


def _print(console_table: Any, args: argparse.Namespace) -> None:
    from rich.console import Console

    if not args.quiet:
        Console(width=140).print(console_table)


def run_measure(args: argparse.Namespace) -> int:
    from rich.table import Table

    from hadnas.build import build
    from hadnas.latency import make_inputs, measure_many

    space, spec = _setup(args)
    archs = _archs(space, args)
    cands = [
        (
            build(a, seed=0).to(args.device),
            make_inputs(a.graph, spec.batch_size, device=args.device),
        )
        for _, a in archs
    ]
    results = measure_many(cands, spec, device=args.device)
    if args.json:
        print(json.dumps([{"arch": n, **r.to_dict()} for (n, _), r in zip(archs, results)]))
        return 0
    r0 = results[0]
    t = Table(
        title=f"{space.name}: latency per forward of batch {r0.batch_size}",
        caption=(
            f"ms = {r0.clock} clock, median over {r0.rounds} interleaved rounds of the per-round "
            f"minimum; load {r0.load:.2f}; {r0.fingerprint.id}"
        ),
    )
    for col in ("arch", "FLOPs", "ms", "cpu ms", "wall ms", "spread", "repeats"):
        t.add_column(col, justify="left" if col == "arch" else "right")
    for (name, a), r in zip(archs, results):
        t.add_row(
            name,
            f"{a.graph.totals()['flops']:,}",
            f"{r.ms:.4f}",
            f"{r.cpu_ms:.4f}",
            f"{r.wall_ms:.4f}",
            f"{r.spread:.1%}",
            str(r.repeats),
        )
    _print(t, args)
    return 0


def _progress(args: argparse.Namespace) -> Any:
    if args.quiet or args.json:
        return None

    def report(stage: str, done: int, total: int) -> None:
        print(f"  {stage}: {done}/{total}", file=sys.stderr)

    return report


def run_profile(args: argparse.Namespace) -> int:
    from hadnas.latency import profile_space

    space, spec = _setup(args)
    t0 = time.perf_counter()
    table = profile_space(
        space,
        spec,
        samples=args.samples,
        calibrate=args.calibrate,
        max_configs=args.max_configs,
        root=args.table_dir,
        device=args.device,
        progress=_progress(args),
    )
    summary = {
        "table": str(table.path),
        "fingerprint": table.fingerprint.to_dict(),
        "op_configs": len(table.data.ops),
        "calibration_models": len(table.data.graphs),
        "calibration": list(table.lut.calib),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(
            f"wrote {summary['table']}: {summary['op_configs']} op configurations, "
            f"{summary['calibration_models']} calibration models, {summary['seconds']} s"
        )
    return 0


def _table(args: argparse.Namespace, spec: Any) -> Any:
    from hadnas.latency import load_table

    return load_table(spec.threads, args.device, args.table_dir)


def run_predict(args: argparse.Namespace) -> int:
    from rich.table import Table

    space, spec = _setup(args)
    table = _table(args, spec)
    archs = _archs(space, args)
    rows = []
    gc.disable()  # a collection landing inside one prediction is not its cost
    try:
        for name, a in archs:
            graph = a.graph
            t0 = time.thread_time_ns()
            ms = table.lut.predict(graph, spec.batch_size)
            us = (time.thread_time_ns() - t0) / 1e3
            rows.append(
                {
                    "arch": name,
                    "lut_ms": ms,
                    "predict_us": us,
                    "flops_linear_ms": table.flops_linear.predict(graph, spec.batch_size),
                    "coverage": table.coverage(graph, spec.batch_size),
                    "flops": graph.totals()["flops"],
                }
            )
    finally:
        gc.enable()
    if args.json:
        print(json.dumps(rows))
        return 0
    t = Table(
        title=f"{space.name}: predicted latency, batch {spec.batch_size}",
        caption=f"table {table.path}; coverage: share of nodes profiled (the rest are "
        "interpolated; profile this space if low); predict µs: thread CPU time",
    )
    for col in ("arch", "FLOPs", "LUT ms", "FLOPs-linear ms", "coverage", "predict µs"):
        t.add_column(col, justify="left" if col == "arch" else "right")
    for r in rows:
        t.add_row(
            r["arch"],
            f"{r['flops']:,}",
            f"{r['lut_ms']:.4f}",
            f"{r['flops_linear_ms']:.4f}",
            f"{r['coverage']:.0%}",
            f"{r['predict_us']:.0f}",
        )
    _print(t, args)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from hadnas.latency import check_space, ensure_table
    from hadnas.latency._check import render

    space, spec = _setup(args)
    table = ensure_table(
        space, spec, root=args.table_dir, device=args.device, progress=_progress(args)
    )
    report = check_space(space, table, args.samples, spec, device=args.device)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        _print(render(report, f"{space.name}: latency check, batch {spec.batch_size}"), args)
    return 0
