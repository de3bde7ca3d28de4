"""A synthetic table: a finite space's architectures with made-up metrics (no training)."""

from __future__ import annotations

import pytest

from hadnas.bench import BenchEntry, BenchTable, enumerate_architectures
from hadnas.space import load_space

SPACE = """\
hadnas: 1
name: synth
task: {dataset: sign_product, epochs: 1, batch_size: 128}
inputs: {x: {shape: [8]}}
vars:
  width: {choice: [8, 16, 32]}
nodes:
  l1:
    choice:
      - {op: linear, out: $width}
      - {op: poly_ccp, degree: {int: [1, 4]}, rank: {choice: [4, 8]}, out: $width}
      - {op: mlp, hidden: $width, out: $width}
  head: {op: linear, out: 2}
output: head
objectives: {accuracy: max, latency_ms: min}
"""
#: 3 widths x (1 + 4 x 2 + 1) first layers
N_ARCHS = 30


def fake_metrics(params: dict) -> dict[str, float]:
    """Degree >= 3 is accurate, MLPs fairly, the rest at chance; cost grows with all of it."""
    width = params["width"]
    op = params["l1.choice"]
    degree = params.get("l1.poly_ccp.degree", 1)
    rank = params.get("l1.poly_ccp.rank", 0)
    acc = {"linear": 0.5, "mlp": 0.8 + width / 1000}.get(
        op, 0.5 + 0.1 * (degree >= 3) * (4 + rank / 8)
    )
    latency = 0.01 * (1 + width / 16) * (degree + (op == "mlp")) + 0.001 * rank
    return {"accuracy": acc, "latency_ms": latency, "params": 10 * width * (degree + rank)}


def make_table(failed_key: str | None = None) -> BenchTable:
    space = load_space("synth.yaml", text=SPACE)
    entries = []
    for arch in enumerate_architectures(space):
        entry = BenchEntry(dict(arch.params), fake_metrics(dict(arch.params)))
        if entry.key == failed_key:
            entry = BenchEntry(
                entry.choices, {"params": entry.metrics["params"], "latency_ms": 0.01}, "failed"
            )
        entries.append(entry)
    return BenchTable(SPACE, tuple(entries), {"space": "synth", "complete": True})


@pytest.fixture
def table() -> BenchTable:
    return make_table()
