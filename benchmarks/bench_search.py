"""Search benchmark: hadnas's per-trial overhead, and samplers' hypervolume at equal budget.

1. Overhead. A random search of the example space; for each trained trial, the wall-clock gap
   since the previous trial finished is split into training (the child's ``train_seconds``),
   latency measurement (``latency_seconds``) and everything else: sampling, storage writes,
   lease, IPC, model build, files, TensorBoard. "everything else" over the gap is the overhead
   share (goal: under 5 %). The first trial (it also starts the trial process) is reported
   apart.
2. Hypervolume. nsga2, tpe and random, 3 seeds each, the same trial budget; hypervolume of the
   feasible (accuracy max, latency_ms min) front, reference point (accuracy 0, the latency
   bound of the space's constraint, else 1.1 x the largest latency seen), and again with the
   nadir of all runs' joint front as reference (where the samplers differ).

    python benchmarks/bench_search.py --quick     # a few minutes on 2 cores
    python benchmarks/bench_search.py             # the space's own epochs, 30 trials
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hadnas  # noqa: E402
from hadnas.search import SearchConfig  # noqa: E402
from hadnas.search._pareto import hypervolume, pareto_indices  # noqa: E402
from hadnas.search.report import open_run  # noqa: E402

SPACE = ROOT / "search_spaces" / "digits_gated_poly.yaml"


def variant(
    space: Path, out: Path, *, sampler: str, seed: int, trials: int, epochs: int | None
) -> Path:
    doc = yaml.safe_load(space.read_text())
    doc["search"] = {**doc.get("search", {}), "sampler": sampler, "seed": seed, "trials": trials}
    if epochs is not None:
        doc["task"]["epochs"] = epochs
    path = out / f"{doc['name']}-{sampler}-{seed}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_search(path: Path, runs: Path, name: str) -> tuple[Any, float]:
    t0 = time.perf_counter()
    try:
        hadnas.search(path, SearchConfig(runs_dir=str(runs), name=name, progress=False))
    except hadnas.SearchError as exc:  # e.g. every trial infeasible: still measured
        print(f"  ({name}: {exc})", file=sys.stderr)
    wall = time.perf_counter() - t0
    folder, _, _, study = open_run(runs / name)
    return (folder, study), wall


def overhead(space: Path, tmp: Path, trials: int, epochs: int | None) -> dict[str, Any]:
    path = variant(space, tmp, sampler="random", seed=0, trials=trials, epochs=epochs)
    (folder, study), wall = run_search(path, tmp / "runs", "overhead")
    rows, first = [], None
    trials_ = sorted(study.get_trials(), key=lambda t: t.datetime_complete)
    prev = None
    for t in trials_:
        m = folder.read_metrics(t.number) or {}
        timing, metrics = m.get("timing", {}), m.get("metrics", {})
        gap = (t.datetime_complete - (prev or t.datetime_start)).total_seconds()
        prev = t.datetime_complete
        if not metrics.get("steps"):
            continue
        row = {
            "gap": gap,
            "train": timing.get("train_seconds", 0.0),
            "latency": timing.get("latency_seconds", 0.0),
        }
        row["other"] = max(0.0, gap - row["train"] - row["latency"])
        if t.number == 0:
            first = row
        else:
            rows.append(row)
    med = {k: statistics.median(r[k] for r in rows) for k in ("gap", "train", "latency", "other")}
    share = statistics.median(r["other"] / r["gap"] for r in rows)
    share_lat = statistics.median((r["other"] + r["latency"]) / r["gap"] for r in rows)
    return {
        "trials": len(trials_),
        "trained": len(rows),
        "wall_s": wall,
        "median": med,
        "overhead_share": share,
        "overhead_share_with_latency": share_lat,
        "first_trial": first,
    }


def hypervolumes(
    space: Path, tmp: Path, trials: int, seeds: int, epochs: int | None, samplers: list[str]
) -> dict[str, Any]:
    fronts: dict[tuple[str, int], list[list[float]]] = {}
    walls: dict[tuple[str, int], float] = {}
    for sampler in samplers:
        for seed in range(seeds):
            path = variant(space, tmp, sampler=sampler, seed=seed, trials=trials, epochs=epochs)
            (_, study), wall = run_search(path, tmp / "runs", f"hv-{sampler}-{seed}")
            pts = [
                list(t.values)
                for t in study.get_trials()
                if t.values
                and t.state.name == "COMPLETE"
                and "fail_reason" not in t.user_attrs
                and all(v <= 0 for v in t.constraints.values())
            ]
            fronts[(sampler, seed)], walls[(sampler, seed)] = pts, wall
            print(
                f"  {sampler} seed {seed}: {len(pts)} feasible of {trials} ({wall:.0f} s)",
                file=sys.stderr,
            )
    spec = hadnas.load_space(space).spec
    bound = next((c.max for c in spec.constraints if c.metric == "latency_ms"), None)
    worst = max((p[1] for pts in fronts.values() for p in pts), default=1.0)
    ref = [0.0, bound if bound is not None else 1.1 * worst]
    dirs = ["maximize", "minimize"]
    # a second, tighter reference: the nadir of the union of all runs' fronts, where the
    # samplers actually differ (the loose one is dominated by the easy part of the space)
    union = [p for pts in fronts.values() for p in pts]
    front = [union[i] for i in pareto_indices(union, dirs)] if union else [[0.0, 1.0]]
    nadir = [min(p[0] for p in front), max(p[1] for p in front)]
    out: dict[str, Any] = {"reference": ref, "nadir": nadir, "samplers": {}}
    for sampler in samplers:
        hv = [hypervolume(fronts[(sampler, s)], dirs, ref) for s in range(seeds)]
        hv_n = [hypervolume(fronts[(sampler, s)], dirs, nadir) for s in range(seeds)]
        out["samplers"][sampler] = {
            "hv": hv,
            "mean": statistics.mean(hv),
            "hv_nadir": hv_n,
            "mean_nadir": statistics.mean(hv_n),
            "wall_s": [walls[(sampler, s)] for s in range(seeds)],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", type=Path, default=SPACE)
    p.add_argument(
        "--quick",
        action="store_true",
        help="12 trials; 3 epochs for the hypervolume part (a few minutes)",
    )
    p.add_argument("--trials", type=int)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--samplers", default="nsga2,tpe,random")
    p.add_argument("--skip-hv", action="store_true", help="only the overhead part")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    epochs = 3 if args.quick else None
    trials = args.trials or (12 if args.quick else 30)
    results: dict[str, Any] = {
        "space": str(args.space),
        "trials": trials,
        "epochs": epochs or "as in the space",
    }
    with tempfile.TemporaryDirectory(prefix="bench_search_") as d:
        tmp = Path(d)
        print(f"overhead: random search, {trials} trials ...", file=sys.stderr)
        ov = overhead(args.space, tmp, trials, None)  # the space's own epochs: a real trial
        results["overhead"] = ov
        if not args.skip_hv:
            samplers = args.samplers.split(",")
            print(f"hypervolume: {samplers} x {args.seeds} seeds ...", file=sys.stderr)
            results["hypervolume"] = hypervolumes(
                args.space, tmp, trials, args.seeds, epochs, samplers
            )
    med = ov["median"]
    print(
        f"\n## per-trial overhead ({args.space.name}, the space's own epochs, "
        f"{ov['trained']} trained trials, medians)"
    )
    print(
        "| trial wall | training | latency measurement | everything else | share (goal < 5 %) "
        "| share incl. latency |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {med['gap'] * 1e3:.0f} ms | {med['train'] * 1e3:.0f} ms | "
        f"{med['latency'] * 1e3:.0f} ms | {med['other'] * 1e3:.0f} ms | "
        f"{ov['overhead_share']:.1%} | {ov['overhead_share_with_latency']:.1%} |"
    )
    if ov["first_trial"]:
        print(f"first trial (starts the trial process): {ov['first_trial']['gap']:.1f} s")
    if "hypervolume" in results:
        hv = results["hypervolume"]
        print(
            f"\n## hypervolume of the (accuracy, latency_ms) front, {trials} trials, "
            f"epochs {results['epochs']}, reference {hv['reference']}"
        )
        print(
            "| sampler | "
            + " | ".join(f"seed {s}" for s in range(args.seeds))
            + " | mean | vs random |"
        )
        print("|---|" + "---|" * (args.seeds + 2))
        base = hv["samplers"].get("random", {}).get("mean")
        for name, r in hv["samplers"].items():
            rel = f"{r['mean'] / base:.3f}x" if base else "-"
            cells = " | ".join(f"{v:.4f}" for v in r["hv"])
            print(f"| {name} | {cells} | {r['mean']:.4f} | {rel} |")
        nadir = [round(v, 4) for v in hv["nadir"]]
        print(f"\nsame fronts, reference = nadir of all runs' joint front {nadir}:")
        print(
            "| sampler | "
            + " | ".join(f"seed {s}" for s in range(args.seeds))
            + " | mean | vs random |"
        )
        print("|---|" + "---|" * (args.seeds + 2))
        base = hv["samplers"].get("random", {}).get("mean_nadir")
        for name, r in hv["samplers"].items():
            rel = f"{r['mean_nadir'] / base:.2f}x" if base else "-"
            cells = " | ".join(f"{v:.2e}" for v in r["hv_nadir"])
            print(f"| {name} | {cells} | {r['mean_nadir']:.2e} | {rel} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
