"""``hadnas report RUN_DIR``: leaderboard, Pareto picture, per-op statistics."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="leaderboard, Pareto front picture and per-op statistics of a run",
        description="Rebuild summary.json and pareto.png of a run folder from its study and "
        "print the leaderboard and which ops the good architectures use.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--top", type=int, default=10, help="rows of the leaderboard")
    p.add_argument("--json", action="store_true", help="print summary.json instead of tables")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hadnas.search.report import print_report, refresh

    summary = refresh(args.run_dir)
    if args.json:
        import json

        print(json.dumps(summary, indent=2))
        return 0
    print_report(args.run_dir, top=args.top, quiet=args.quiet, fresh=False)
    return 0
