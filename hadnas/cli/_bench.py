"""``hadnas bench``: replay samplers on a tabular benchmark, build or list tables."""

from __future__ import annotations

import argparse
from typing import Any

_DESCRIPTION = """\
Replay searches on a tabular benchmark (every architecture of a small space trained and timed
once): each seed is a real Optuna study whose trials look their results up, so comparing
samplers over 30 seeds takes seconds. Architectures that violate a constraint known before
training are recorded with trial.set_constraint and never "trained".

  hadnas bench SPACE [--sampler tpe,random] [--trials 40] [--seeds 30] [--constraint M<=V]
  hadnas bench build SPACE.yaml -o TABLE.json      # train and time every architecture
  hadnas bench list                                # the tables shipped with hadnas

SPACE is a shipped table's name (sign-product-poly), a table .json, or a space .yaml whose
name has a shipped table."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="replay samplers on a tabular benchmark (build, list)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="+", metavar="SPACE | build SPACE.yaml | list")
    p.add_argument(
        "--sampler",
        default="tpe",
        help="comma-separated samplers: tpe, nsga2, gp, random, qmc (default tpe; random is "
        "always replayed too, as the yardstick)",
    )
    p.add_argument("--trials", type=int, default=40, help="trials per study (default 40)")
    p.add_argument("--seeds", type=int, default=30, help="studies per sampler (default 30)")
    p.add_argument(
        "--constraint",
        action="append",
        metavar="METRIC<=VALUE",
        help="a hard limit replacing the space's constraints (repeatable), e.g. params<=2000",
    )
    p.add_argument("--json", metavar="FILE", help="write per-sampler figures as JSON")
    p.add_argument("-o", "--output", metavar="TABLE.json", help="build: where to write")
    p.add_argument("--max-archs", type=int, default=2000, help="build: refuse larger spaces")
    p.add_argument("--limit", type=int, help="build: only the first N architectures")
    p.add_argument("--resume", action="store_true", help="build: keep entries already in -o")
    p.add_argument("--seed", type=int, default=0, help="build: training seed (default 0)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hadnas.exceptions import HadnasError

    words = list(args.words)
    if words[0] == "build":
        if len(words) != 2 or not args.output:
            raise HadnasError("usage: hadnas bench build SPACE.yaml -o TABLE.json")
        return _build(args, words[1])
    if words[0] == "list":
        return _list()
    if len(words) != 1:
        raise HadnasError(f"hadnas bench takes one SPACE, got {' '.join(words)}")
    return _replay(args, words[0])


def _list() -> int:
    from hadnas.bench import list_tables, load_table

    for name in list_tables():
        table = load_table(name)
        objectives = ", ".join(
            f"{o.metric} {o.direction[:3]}" for o in table.space.spec.objectives
        )
        source = table.meta.get("space_file")
        print(f"{name}: {len(table)} architectures; {objectives}; from {source}")
    return 0


def _build(args: argparse.Namespace, source: str) -> int:
    import time

    from hadnas.bench import build_table, count_architectures
    from hadnas.space import load_space

    space = load_space(source)
    total = count_architectures(space, limit=args.max_archs)
    if args.limit is not None:
        total = min(total, args.limit)
    if not args.quiet:
        print(f"{source}: {total} architectures to train and time")
    t0 = time.perf_counter()

    def progress(done: int, n: int, entry: Any) -> None:
        if args.quiet or (done % 25 and done != n):
            return
        rate = (time.perf_counter() - t0) / done
        print(
            f"  trained {done}/{n}  ({rate:.2f} s each, {rate * (n - done):.0f} s left)",
            flush=True,
        )
        if done == n:
            print("  measuring latency (3 interleaved passes with a reference model)", flush=True)

    table = build_table(
        space,
        args.output,
        seed=args.seed,
        max_archs=args.max_archs,
        limit=args.limit,
        resume=args.resume,
        command=f"hadnas bench build {source} -o {args.output}",
        progress=progress,
    )
    failed = sum(not e.ok for e in table.entries)
    print(
        f"wrote {args.output}: {len(table)} architectures ({failed} diverged) in "
        f"{table.meta['build_seconds']:.0f} s"
    )
    return 0


def _replay(args: argparse.Namespace, source: str) -> int:
    import json
    import sys

    from hadnas.bench import (
        goal_check,
        load_table,
        parse_constraint,
        reference,
        replay,
        stale_warning,
        stats,
    )
    from hadnas.bench._summary import headers, table_rows
    from hadnas.exceptions import HadnasError

    if args.trials < 1 or args.seeds < 1:
        raise HadnasError(f"--trials and --seeds must be >= 1, got {args.trials}, {args.seeds}")
    table = load_table(source)
    note = stale_warning(table, source)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    samplers = [s.strip() for s in args.sampler.split(",") if s.strip()]
    if "random" not in samplers:
        samplers.append("random")
    constraints = None
    if args.constraint:
        constraints = [parse_constraint(c) for c in args.constraint]
    ref = reference(table, constraints)
    runs = {
        s: replay(table, s, trials=args.trials, seeds=range(args.seeds), constraints=constraints)
        for s in samplers
    }
    figures = stats(runs, ref)
    constrained = bool(constraints if constraints is not None else table.space.spec.constraints)
    if not args.quiet:
        _print(table, ref, figures, args, headers(constrained), table_rows(figures, constrained))
        goals = goal_check(figures, samplers[0])
        if goals is not None and samplers[0] != "random":
            gap, reach = goals["gap"], goals["reach"]
            print(
                f"goals for {samplers[0]}: gap <= 0.85 x random's: {'met' if gap else 'NOT met'}"
                f"; random's final HV within 85 % of the budget: "
                f"{'met' if reach else 'NOT met'}"
            )
    if args.json:
        out = {
            "table": table.name,
            "trials": args.trials,
            "seeds": args.seeds,
            "true_hv": ref.hv,
            "samplers": {
                k: {**vars(v), "reach_median": v.reach_median} for k, v in figures.items()
            },
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=float)
    return 0


def _print(table: Any, ref: Any, figures: Any, args: Any, head: list[str], rows: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    title = (
        f"{table.name}: {len(table)} architectures, {ref.feasible} feasible, true front "
        f"{len(ref.front)} archs; {args.trials} trials x {args.seeds} seeds"
    )
    out = Table(title=title)
    for h in head:
        out.add_column(h, justify="left" if h == "sampler" else "right")
    for row in rows:
        out.add_row(*row)
    Console(width=max(140, len(title) + 4)).print(out)
    print(
        "HV gap: 1 - HV/HV(true front), objectives scaled to [0, 1] over the table, "
        "reference point 1.1"
    )
