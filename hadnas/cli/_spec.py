"""``hadnas validate | sample | show``: work on a space or an architecture file."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "validate", help="check space/architecture files; exit 2 with located errors"
    )
    p.add_argument("files", nargs="+", metavar="SPACE.yaml")
    p.add_argument("--samples", type=int, default=24, help="random architectures probed per file")
    p.set_defaults(run=run_validate)

    p = sub.add_parser("sample", help="print a resolved architecture as YAML")
    p.add_argument("file", metavar="SPACE.yaml")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(run=run_sample)

    p = sub.add_parser("show", help="table of nodes: op, shape, params, FLOPs, bytes moved")
    p.add_argument("file", metavar="SPACE_OR_ARCH.yaml")
    p.add_argument("--seed", type=int, default=0, help="which sample of a space to show")
    p.set_defaults(run=run_show)


def run_validate(args: argparse.Namespace) -> int:
    from hadnas.exceptions import SpecError
    from hadnas.space import load_space

    failed = 0
    for path in args.files:
        try:
            space = load_space(path, check=False)
            warnings = space.check(samples=args.samples)
        except SpecError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
            continue
        for w in warnings:
            print(str(w), file=sys.stderr)
        n = space.num_choices()
        kind = "architecture" if n == 0 else f"space with {n} choice{'s' if n > 1 else ''}"
        if not args.quiet:
            print(f"{path}: OK ({kind})")
    return 2 if failed else 0


def run_sample(args: argparse.Namespace) -> int:
    from hadnas.space import load_space

    text = load_space(args.file).sample(args.seed).to_yaml()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from hadnas.space import load_space

    space = load_space(args.file)
    arch = space.sample(args.seed)
    graph = arch.graph
    title = f"{space.name}" + ("" if space.is_fixed else f" (sample seed={args.seed})")
    table = Table(title=title)
    for col in ("node", "op", "inputs", "shape", "params", "FLOPs", "bytes"):
        table.add_column(col, justify="right" if col in ("params", "FLOPs", "bytes") else "left")
    for name in graph.input_names():
        table.add_row(name, "input", "", str(graph.specs[name]), "", "", "")
    for row in graph.stats():
        ins = ", ".join(graph.attrs(row.name).inputs)
        table.add_row(row.name, row.op, ins, str(row.out), f"{row.params:,}", f"{row.flops:,}",
                      f"{row.bytes:,}")  # fmt: skip
    totals = graph.totals()
    table.add_section()
    table.add_row("total", "", "", "", f"{totals['params']:,}", f"{totals['flops']:,}",
                  f"{totals['bytes']:,}")  # fmt: skip
    console = Console(width=140)
    console.print(table)
    for w in graph.warnings:
        print(str(w), file=sys.stderr)
    return 0
