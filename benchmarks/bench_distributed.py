"""Distributed throughput: trials per minute with 1 and 2 concurrent trials (Optuna workers and
Ray, side by side in one run), and Ray's fixed cost per trial with and without actor reuse.

Goal (issue 5): 2 concurrent trials give >= 1.6x the trials per minute of 1, on 2 cores.

    python benchmarks/bench_distributed.py --quick     # about 5 minutes on 2 idle cores
    python benchmarks/bench_distributed.py             # more trials, longer ones

The same small space (sklearn digits, a width and a block choice, random sampler, seed 0) runs
four ways: Optuna with ``--workers 1`` and ``2`` (worker processes on one journal file), Ray with
1 and 2 trials at a time on one private local Ray instance (started once, as ``--backend ray``
does). "steady" counts trials once every worker has finished its first one, so the one-off
start of each trial process (importing torch, 6-9 s here) is not mistaken for throughput. The
fixed cost per trial is the median gap between completions minus the trial's own work (data,
build, training, saving), one trial at a time: with ``reuse_actors`` each Ray actor keeps its
trial process; without, every trial pays for a new actor and a new trial process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hadnas  # noqa: E402
from hadnas.search import SearchConfig  # noqa: E402

SPACE = """\
hadnas: 1
name: bench-distributed
task: {{dataset: digits, epochs: {epochs}, batch_size: 64, lr: {{log: [1.0e-3, 1.0e-2]}}}}
inputs:
  x: {{shape: [64]}}
nodes:
  stem: {{op: linear, in: x, out: {{choice: [32, 64]}}}}
  mix:
    choice:
      - {{op: glu_ffn, act: {{choice: [gelu, silu]}}}}
      - {{op: linear, out: 64}}
  head: {{op: linear, in: mix, out: 10}}
output: head
objectives: {{accuracy: max}}
search: {{sampler: random, trials: 8, seed: 0}}
"""
#: a trial's own work, from its metrics.json timing (the rest of the gap is fixed cost)
WORK = ("data_seconds", "build_seconds", "latency_seconds", "train_seconds", "save_seconds")


def measure(
    space: Any, runs: Path, *, backend: str, workers: int, trials: int, name: str
) -> dict[str, Any]:
    """Run one search; wall time, trials per minute (overall and steady), fixed cost."""
    import optuna

    from hadnas.search.report import open_run

    config = SearchConfig(
        backend=backend, workers=workers, trials=trials, runs_dir=str(runs), name=name,
        progress=False,
    )  # fmt: skip
    t0 = time.perf_counter()
    hadnas.search(space, config)
    wall = time.perf_counter() - t0
    folder, _, _, study = open_run(runs / name)
    done = sorted(
        study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)),
        key=lambda t: t.datetime_complete,
    )
    ends = [t.datetime_complete.timestamp() for t in done]
    # steady: from the completion that ends the last worker's first trial (every trial
    # process has started by then) to the last completion
    k = min(workers, len(ends)) - 1
    span = ends[-1] - ends[k] if len(ends) > k + 1 else float("nan")
    fixed = []
    for prev, t in zip(done, done[1:]):  # one at a time: gap = this trial's work + the rest
        timing = (folder.read_metrics(t.number) or {}).get("timing", {})
        work = sum(timing.get(key, 0.0) for key in WORK)
        fixed.append(t.datetime_complete.timestamp() - prev.datetime_complete.timestamp() - work)
    return {
        "backend": backend,
        "workers": workers,
        "trials": len(done),
        "wall_s": wall,
        "per_min": 60 * len(done) / wall,
        "steady_per_min": 60 * (len(ends) - 1 - k) / span if span > 0 else float("nan"),
        "fixed_s": statistics.median(fixed) if fixed else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter trials")
    parser.add_argument("--trials", type=int, help="trials per configuration")
    parser.add_argument("--epochs", type=int, help="training epochs per trial")
    args = parser.parse_args()
    trials = args.trials or (10 if args.quick else 20)
    epochs = args.epochs or (120 if args.quick else 240)
    no_reuse_trials = 3 if args.quick else 5
    from hadnas.search.ray_backend import RayBackend
    from hadnas.search.ray_cluster import ray_session

    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hadnas-bench-") as tmp:
        path = Path(tmp) / "space.yaml"
        path.write_text(SPACE.format(epochs=epochs))
        space = hadnas.load_space(path)
        runs = Path(tmp) / "runs"
        rows = []
        for workers in (1, 2):
            rows.append(measure(space, runs, backend="optuna", workers=workers, trials=trials,
                                name=f"optuna-{workers}"))  # fmt: skip
        with ray_session(None, num_cpus=2):  # one private instance for every Ray run
            for workers in (1, 2):
                rows.append(measure(space, runs, backend="ray", workers=workers, trials=trials,
                                    name=f"ray-{workers}"))  # fmt: skip
            RayBackend.reuse_actors = False
            try:
                fresh = measure(space, runs, backend="ray", workers=1, trials=no_reuse_trials,
                                name="ray-no-reuse")  # fmt: skip
            finally:
                RayBackend.reuse_actors = True
    load1 = os.getloadavg()[0]
    print(
        f"\n{trials} trials of {epochs} epochs per row (digits); {os.cpu_count()} CPU cores; "
        f"1-min load average {load0:.1f} before, {load1:.1f} after (others' work counts)\n"
    )
    print(f"{'backend':8} {'at once':>7} {'trials':>6} {'wall s':>7} {'trials/min':>10} "
          f"{'steady/min':>10} {'x vs 1':>6}")  # fmt: skip
    base: dict[str, float] = {}
    for r in rows:
        base.setdefault(r["backend"], r["steady_per_min"])
        speedup = r["steady_per_min"] / base[r["backend"]]
        print(f"{r['backend']:8} {r['workers']:>7} {r['trials']:>6} {r['wall_s']:>7.1f} "
              f"{r['per_min']:>10.1f} {r['steady_per_min']:>10.1f} {speedup:>6.2f}")  # fmt: skip
    reuse = next(r for r in rows if r["backend"] == "ray" and r["workers"] == 1)
    print("\nRay, one trial at a time: median gap between completions minus the trial's work")
    for label, r in (("reuse_actors=True", reuse), ("reuse_actors=False", fresh)):
        print(f"  {label:19} fixed cost {r['fixed_s']:6.2f} s per trial  ({r['trials']} trials)")
    optuna_1 = rows[0]
    print(f"  (optuna, 1 worker:  fixed cost {optuna_1['fixed_s']:6.2f} s per trial)")
    goal = [r for r in rows if r["workers"] == 2]
    ok = all(r["steady_per_min"] / base[r["backend"]] >= 1.6 for r in goal)
    print(f"\ngoal: 2 at once >= 1.6x trials/min of 1 (steady): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
