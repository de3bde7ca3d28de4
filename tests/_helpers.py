"""Constants and small builders shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from hadnas.primitives import TensorSpec

ROOT = Path(__file__).resolve().parent.parent
SEARCH_SPACES = sorted((ROOT / "search_spaces").glob("*.yaml"))
BAD_SPACES = ROOT / "tests" / "data" / "bad_spaces"

#: a small space exercising vars, a node choice with per-option params, a searched repeat
#: block with a residual join, a searched task scalar, and objectives/constraints/search.
TINY = """\
hadnas: 1
name: tiny
task: {dataset: digits, epochs: 1, lr: {log: [1.0e-3, 1.0e-1]}}
inputs:
  x: {shape: [12]}
vars:
  width: {choice: [8, 16]}
nodes:
  stem: {op: linear, in: x, out: $width}
  body:
    repeat: {int: [1, 3]}
    nodes:
      mix:
        in: $in
        choice:
          - {op: poly_ccp, degree: {int: [2, 3]}, rank: {choice: [4, 8]}}
          - {op: glu_ffn, act: {choice: [sigmoid, silu]}}
          - {op: linear, out: $width}
      norm: {op: layer_norm, in: mix}
      res: {op: add, in: [norm, $in]}
  head: {op: linear, in: body, out: 3}
output: head
objectives: {accuracy: max, params: min}
constraints:
  params: {max: 100000}
search: {sampler: random, trials: 4, seed: 0}
"""

#: the smallest valid file: one input, one node (default `in`), defaults everywhere else.
MINIMAL = """\
hadnas: 1
name: minimal
task: {dataset: digits}
inputs:
  x: {shape: [8]}
nodes:
  a: {op: linear, out: 4}
output: a
"""


def space_yaml(
    nodes: Mapping[str, Any],
    inputs: Mapping[str, Any] | None = None,
    output: str | None = None,
    **top: Any,
) -> str:
    """A complete space file around ``nodes`` (``inputs`` default to one ``x`` of shape 8)."""
    doc: dict[str, Any] = {
        "hadnas": 1,
        "name": top.pop("name", "t"),
        "task": top.pop("task", {"dataset": "digits"}),
        "inputs": dict(inputs if inputs is not None else {"x": {"shape": [8]}}),
        **top.pop("before_nodes", {}),
        "nodes": dict(nodes),
        "output": output or list(nodes)[-1],
        **top,
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)


def one_node_yaml(op: str, hp: Mapping[str, Any], ins: Sequence[TensorSpec]) -> str:
    """A fixed space holding a single ``op`` node fed by one input per spec in ``ins``."""
    inputs = {
        f"in{i}": {"shape": list(s.shape), **({"dtype": s.dtype} if s.dtype != "float32" else {})}
        for i, s in enumerate(ins)
    }
    refs = list(inputs)
    node = {"op": op, "in": refs[0] if len(refs) == 1 else refs, **dict(hp)}
    return space_yaml({"node": node}, inputs, name=f"one-{op.replace('_', '-')}")
