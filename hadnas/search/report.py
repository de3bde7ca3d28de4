"""``hadnas report``: leaderboard, Pareto picture and per-op statistics of a run folder.

The report is rebuilt from the study (the storage is the source of truth), so it is right even
while workers are still running, and for a study shared through an RDB.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from hadnas.exceptions import SearchError
from hadnas.search._folder import RunFolder
from hadnas.search._pareto import pareto_indices


def open_run(run_dir: str | Path) -> tuple[RunFolder, dict[str, Any], Any, Any]:
    """``(folder, run.json, space, study)`` of a run folder."""
    import optuna

    from hadnas.search._storage import open_storage
    from hadnas.space import load_space

    folder = RunFolder(run_dir)
    info = folder.read_run()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(
        info.get("space_file", folder.space_yaml),
        text=folder.space_yaml.read_text("utf-8"),
        check=False,
    )
    storage = open_storage(info["storage"])
    try:
        study = optuna.load_study(study_name=info["study_name"], storage=storage)
    except KeyError:
        raise SearchError(
            f"{folder.path}: study {info['study_name']!r} is not in {info['storage']}"
        ) from None
    return folder, info, space, study


def refresh(run_dir: str | Path) -> dict[str, Any]:
    """Rewrite ``summary.json`` and ``pareto.png`` from the study; return the summary."""
    from hadnas.search._summary import write_summary

    folder, info, space, study = open_run(run_dir)
    return write_summary(study, space, folder, info)


def ranks(rows: list[dict[str, Any]], directions: list[str]) -> list[int]:
    """Non-domination rank of each row (0 = Pareto front); for one objective, the sort order."""
    if len(directions) == 1:
        sign = -1 if directions[0] == "maximize" else 1
        order = sorted(range(len(rows)), key=lambda i: sign * rows[i]["values"][0])
        out = [0] * len(rows)
        for r, i in enumerate(order):
            out[i] = r
        return out
    left, out, rank = list(range(len(rows))), [0] * len(rows), 0
    while left:
        front = [left[i] for i in pareto_indices([rows[j]["values"] for j in left], directions)]
        for i in front:
            out[i] = rank
        left = [i for i in left if i not in set(front)]
        rank += 1
    return out


def op_stats(
    folder: RunFolder, rows: list[dict[str, Any]], good: set[int]
) -> list[dict[str, Any]]:
    """Per op: share of good architectures using it vs share of all, and trials using it."""
    uses: dict[str, set[int]] = {}
    for r in rows:
        m = folder.read_metrics(r["number"]) or {}
        for op in (m.get("metrics") or {}).get("ops", {}):
            uses.setdefault(op, set()).add(r["number"])
    n_all, n_good = max(len(rows), 1), max(len(good), 1)
    out = []
    for op, nums in uses.items():
        share_good, share_all = len(nums & good) / n_good, len(nums) / n_all
        out.append(
            {
                "op": op,
                "good": share_good,
                "all": share_all,
                "trials": len(nums),
                "lift": share_good / share_all if share_all else math.nan,
            }
        )
    # ops every architecture uses (plumbing) last; the rest by how much the top favours them
    return sorted(out, key=lambda s: (s["all"] >= 1.0, -s["lift"], s["op"]))


def print_report(
    run_dir: str | Path,
    *,
    top: int = 10,
    show_ops: bool = True,
    quiet: bool = False,
    fresh: bool = True,
) -> None:
    """Print the leaderboard and op statistics from ``summary.json`` (rebuilt first unless
    ``fresh`` is False, e.g. right after a search wrote it)."""
    from rich.console import Console
    from rich.table import Table

    folder = RunFolder(run_dir)
    if fresh or not folder.summary_json.is_file():
        summary = refresh(run_dir)
    else:
        import json

        summary = json.loads(folder.summary_json.read_text("utf-8"))
    console = Console(file=sys.stdout, width=120)
    objectives = summary["objectives"]
    names = [o["metric"] for o in objectives]
    dirs = [o["direction"] for o in objectives]
    rows = [r for r in summary["trials"] if r["status"] == "complete" and r["values"]]
    rk = ranks(rows, dirs)
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            rk[i],
            -rows[i]["values"][0] if dirs[0] == "maximize" else rows[i]["values"][0],
        ),
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
    title = f"{summary['study_name']}: {counts}"
    table = Table(title=title)
    table.add_column("rank" if len(names) > 1 else "#", justify="right")
    table.add_column("trial", justify="right")
    for n, d in zip(names, dirs):
        table.add_column(f"{n} ({d[:3]})", justify="right")
    extra = [k for k in ("params", "latency_ms") if k not in names]
    for k in extra:
        table.add_column(k, justify="right")
    for i in order[:top]:
        r = rows[i]
        cells = [str(rk[i]), str(r["number"]), *(f"{v:.4g}" for v in r["values"])]
        cells += [_fmt(r["metrics"].get(k)) for k in extra]
        table.add_row(*cells)
    if not quiet:
        console.print(table)
        if len(names) > 1:
            console.print("rank 0 = the Pareto front (feasible trials only)")
        console.print(f"picture: {folder.pareto_png}")
    if not show_ops or not rows or quiet:
        return
    cut = max(1, math.ceil(len(rows) / 4))
    good = {rows[i]["number"] for i in order[:cut]}
    stats = op_stats(folder, rows, good)
    ops = Table(title=f"ops of the top {len(good)} architectures vs all {len(rows)} feasible")
    for col in ("op", "in top", "in all", "lift", "trials"):
        ops.add_column(col, justify="left" if col == "op" else "right")
    for s in stats:
        ops.add_row(
            s["op"], f"{s['good']:.0%}", f"{s['all']:.0%}", f"{s['lift']:.2f}", str(s["trials"])
        )
    console.print(ops)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)
