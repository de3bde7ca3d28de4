"""Architectures the export tests cover: every primitive example and every example space."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

import hadnas
from hadnas.primitives import TensorSpec, get_primitive

ROOT = Path(__file__).resolve().parents[2]
SPACES = sorted((ROOT / "search_spaces").glob("*.yaml"))
SPACE_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Case:
    """One architecture to export; ``inputs`` are made by :meth:`make_inputs`."""

    id: str
    arch: hadnas.Architecture
    sampler: Any = None  # PrimitiveDef instance whose sample_inputs makes special inputs

    def make_inputs(self, dtype: torch.dtype, seed: int = 0, batch: int = 3) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        graph = self.arch.graph
        specs = [graph.specs[n] for n in graph.input_names()]
        if self.sampler is not None:
            return self.sampler.sample_inputs(specs, batch=batch, dtype=dtype, generator=gen)
        out = []
        for spec in specs:
            shape = (batch, *spec.shape)
            if spec.dtype == "int64":
                out.append(torch.randint(0, 2, shape, generator=gen))
            else:
                out.append(torch.randn(shape, generator=gen, dtype=dtype))
        return out


def one_node_yaml(op: str, hp: Mapping[str, Any], ins: Sequence[TensorSpec], name: str) -> str:
    """A fixed one-node architecture applying ``op`` to inputs ``x0, x1, ...``."""
    inputs = {}
    for i, spec in enumerate(ins):
        entry: dict[str, Any] = {"shape": list(spec.shape)}
        if spec.dtype != "float32":
            entry["dtype"] = spec.dtype
        inputs[f"x{i}"] = entry
    node = {"op": op, "in": list(inputs) if len(inputs) > 1 else next(iter(inputs))}
    node.update({k: list(v) if isinstance(v, tuple) else v for k, v in hp.items()})
    doc = {
        "hadnas": 1,
        "name": name,
        "task": {"dataset": "digits"},
        "inputs": inputs,
        "nodes": {"node": node},
        "output": "node",
        "objectives": {"accuracy": "max"},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def primitive_cases() -> Iterator[Case]:
    for op in hadnas.list_primitives():
        cls = get_primitive(op)
        for k, (hp, ins) in enumerate(cls.examples):
            name = f"prim-{op.replace('_', '-')}-{k}"
            text = one_node_yaml(op, hp, ins, name)
            arch = hadnas.load_space(f"<{name}>", text=text).architecture()
            yield Case(f"{op}-{k}", arch, cls(**dict(hp)))


def space_cases(seeds: Sequence[int] = SPACE_SEEDS) -> Iterator[Case]:
    for path in SPACES:
        space = hadnas.load_space(path)
        for seed in seeds:
            yield Case(f"{path.stem}-seed{seed}", space.sample(seed))
