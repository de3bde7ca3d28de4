"""hadnas-bench: tabular benchmarks, so samplers can be compared over many seeds in seconds.

A table (``hadnas/bench/data/<space>.json``) holds every architecture of a small, finite space,
trained once and timed once. Replaying a search on it runs real Optuna studies whose trials
look their results up instead of training::

    from hadnas.bench import load_table, replay, reference, stats

    table = load_table("sign-product-poly")
    runs = {s: replay(table, s, trials=40, seeds=range(30)) for s in ("tpe", "random")}
    figures = stats(runs, reference(table))       # hypervolume gap, trials to random's HV

``hadnas bench build SPACE.yaml -o TABLE.json`` builds a table; ``hadnas bench SPACE`` replays.
"""

from __future__ import annotations

from hadnas.bench._build import build_table
from hadnas.bench._enumerate import choice_key, count_architectures, enumerate_architectures
from hadnas.bench._hv import REF, Scale, hv_curve, hypervolume, pareto_mask
from hadnas.bench._replay import (
    SAMPLERS,
    Reference,
    SamplerRun,
    TrialRecord,
    curves,
    parse_constraint,
    reference,
    replay,
)
from hadnas.bench._summary import SamplerStats, goal_check, stats
from hadnas.bench._table import (
    DATA_DIR,
    BenchEntry,
    BenchTable,
    list_tables,
    load_table,
    stale_warning,
)

__all__ = [
    "DATA_DIR",
    "REF",
    "SAMPLERS",
    "BenchEntry",
    "BenchTable",
    "Reference",
    "SamplerRun",
    "SamplerStats",
    "Scale",
    "TrialRecord",
    "build_table",
    "choice_key",
    "count_architectures",
    "curves",
    "enumerate_architectures",
    "goal_check",
    "hv_curve",
    "hypervolume",
    "list_tables",
    "load_table",
    "pareto_mask",
    "parse_constraint",
    "reference",
    "replay",
    "stale_warning",
    "stats",
]
