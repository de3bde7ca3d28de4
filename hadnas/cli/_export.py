"""``hadnas export RUN_DIR`` and ``hadnas train ARCH.yaml``: standalone code from results."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write standalone model.py + weights for trials of a run folder",
        description="Export trials of a run folder as standalone PyTorch code (model.py, "
        "model.safetensors, arch.yaml, README.md). Default: the best trial.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `hadnas search`")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--trial", type=int, metavar="N", help="export trial number N")
    which.add_argument("--best", action="store_true", help="the best trial (default)")
    which.add_argument(
        "--pareto",
        action="store_true",
        help="every trial of the Pareto front, in OUT_DIR/trial_<n>/",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="output folder")
    p.add_argument(
        "--retrain",
        type=int,
        metavar="EPOCHS",
        help="train from scratch for EPOCHS epochs on the task before exporting",
    )
    p.add_argument("--seed", type=int, default=0, help="training seed with --retrain")
    p.set_defaults(run=run_export)

    p = sub.add_parser(
        "train",
        help="retrain an architecture longer on its task, then export it",
        description="Train ARCH.yaml (a resolved architecture, e.g. runs/<name>/trials/<n>/"
        "arch.yaml) from scratch on its task, then export model.py, weights and metrics.",
    )
    p.add_argument("arch", metavar="ARCH.yaml")
    p.add_argument(
        "--epochs", type=int, help="epochs (default: 3x the architecture's task epochs)"
    )
    p.add_argument("--seed", type=int, default=0, help="initialisation and shuffling seed")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="output folder")
    p.set_defaults(run=run_train)


def run_export(args: argparse.Namespace) -> int:
    from hadnas.exceptions import ExportError
    from hadnas.export import export_run

    if args.retrain is not None and args.retrain < 1:
        raise ExportError(f"--retrain needs a positive number of epochs, got {args.retrain}")
    outs = export_run(
        args.run_dir,
        args.output,
        trial=args.trial,
        pareto=args.pareto,
        retrain=args.retrain,
        seed=args.seed,
    )
    if not args.quiet:
        for out in outs:
            print(f"exported {out}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hadnas.exceptions import ExportError
    from hadnas.export import train_and_export
    from hadnas.space import load_space

    if args.epochs is not None and args.epochs < 1:
        raise ExportError(f"--epochs needs a positive number, got {args.epochs}")
    space = load_space(args.arch)
    if not space.is_fixed:
        raise ExportError(
            f"{args.arch}: a space with choices left; train a resolved architecture "
            "(`hadnas sample`, or runs/<name>/trials/<n>/arch.yaml)"
        )
    quiet = args.quiet

    def on_epoch(epoch: int, metrics: Any) -> None:
        if not quiet:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            print(f"epoch {epoch}: {shown}", flush=True)

    out = train_and_export(
        space.architecture(),
        args.output,
        epochs=args.epochs,
        seed=args.seed,
        base_dir=Path(args.arch).resolve().parent,
        metadata={"space_file": str(args.arch)},
        on_epoch=on_epoch,
    )
    if not quiet:
        print(f"exported {out}")
    return 0
