"""``hadnas search SPACE.yaml``: run a search into ``runs/<name>/``."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="search a space; results in runs/<name>/",
        description="Search a space with Optuna (embedded journal storage) or Ray Tune. The run "
        "folder holds the study, one folder per trial, TensorBoard files, summary.json and "
        "pareto.png. Exit 0 on success, 2 on a user error or a spent failure budget, 143 when "
        "stopped by SIGTERM/SIGINT (resume with --resume).",
    )
    p.add_argument("space", metavar="SPACE.yaml")
    p.add_argument("--trials", type=int, help="total trials of the study (default: search.trials)")
    p.add_argument("--backend", default="optuna", help="optuna (default) or ray")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine")
    p.add_argument(
        "--storage",
        help="Optuna storage URL (sqlite:///x.db, postgresql://...) or a journal file path "
        "(default: RUN_DIR/journal.log)",
    )
    p.add_argument("--address", help="Ray cluster address HOST:PORT (--backend ray)")
    p.add_argument(
        "--cpus-per-trial",
        type=float,
        metavar="N",
        help="CPUs Ray reserves per trial, and its torch threads (--backend ray; default: "
        "search.threads)",
    )
    p.add_argument(
        "--scheduler",
        choices=("asha", "hyperband"),
        help="a Ray scheduler that stops weak trials early (--backend ray, one objective)",
    )
    p.add_argument(
        "--max-failures",
        type=int,
        default=1,
        metavar="N",
        help="restarts of a crashed Ray trial from its last checkpoint (--backend ray)",
    )
    p.add_argument("--runs-dir", default="runs", help="parent folder of run folders")
    p.add_argument("--name", help="run folder and study name (default: the space's name)")
    p.add_argument("--resume", action="store_true", help="continue the run folder's study")
    p.add_argument(
        "--timeout-per-trial",
        type=float,
        metavar="S",
        help="hard wall-clock limit per trial (default: search.trial_timeout_s)",
    )
    p.add_argument(
        "--lease",
        type=float,
        default=60.0,
        metavar="S",
        help="a RUNNING trial whose worker stopped renewing its lease for S seconds is failed "
        "as stale and retried once (default 60)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from hadnas.search import SearchConfig, SearchInterrupted, search
    from hadnas.search.report import print_report
    from hadnas.space import load_space

    config = SearchConfig(
        trials=args.trials,
        backend=args.backend,
        workers=args.workers,
        storage=args.storage,
        runs_dir=args.runs_dir,
        name=args.name,
        resume=args.resume,
        timeout_per_trial=args.timeout_per_trial,
        address=args.address,
        cpus_per_trial=args.cpus_per_trial,
        scheduler=args.scheduler,
        max_failures=args.max_failures,
        lease_s=args.lease,
        progress=not args.quiet,
    )
    space = load_space(args.space)
    try:
        result = search(space, config)
    except SearchInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print_report(result.run_dir, top=5, show_ops=False, fresh=False)
    return 0
