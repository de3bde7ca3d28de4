"""A resolved architecture: every choice made, every reference a full node name."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import yaml

from hadnas.exceptions import Loc
from hadnas.spec import InputSpec, SpaceSpec

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph


@dataclass(frozen=True)
class ResolvedNode:
    """One concrete node: ``name`` is the full dotted name (``body.1.mix``)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    hp: tuple[tuple[str, Any], ...]
    path: str = field(default="", compare=False)
    loc: Loc | None = field(default=None, compare=False)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.hp)


@dataclass(frozen=True)
class Architecture:
    """A space with no choices left. ``to_yaml()`` writes it as a loadable, fixed space."""

    spec: SpaceSpec = field(compare=False, repr=False)
    params: Mapping[str, Any] = field(compare=False)
    task: Mapping[str, Any]
    inputs: tuple[InputSpec, ...]
    nodes: tuple[ResolvedNode, ...]
    output: str
    fixed_nodes: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    @cached_property
    def graph(self) -> ArchGraph:
        """The IR of this architecture (linted and shape-checked)."""
        from hadnas.ir import ArchGraph

        return ArchGraph.from_architecture(self)

    def ops(self) -> dict[str, int]:
        """How many nodes use each op (for reports)."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.op] = counts.get(node.op, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec
        task = {k: v for k, v in self.task.items() if not (k == "val_fraction" and v == 0.2)}
        out: dict[str, Any] = {
            "hadnas": spec.version,
            "name": spec.name,
            "description": spec.description or f"An architecture of the space {spec.name!r}.",
            "task": task,
            "inputs": {
                i.name: {
                    "shape": list(i.shape),
                    **({"dtype": i.dtype} if i.dtype != "float32" else {}),
                }
                for i in self.inputs
            },
            "nodes": _plain(self.fixed_nodes),
            "output": spec.output,
            "objectives": {o.metric: o.direction[:3] for o in spec.objectives},
        }
        if spec.constraints:
            out["constraints"] = {
                c.metric: {k: v for k, v in (("max", c.max), ("min", c.min)) if v is not None}
                for c in spec.constraints
            }
        out["latency"] = dataclasses.asdict(spec.latency)
        out["search"] = {k: v for k, v in dataclasses.asdict(spec.search).items() if v is not None}
        params = dict(self.params) or dict(spec.sampled)
        if params:
            out["sampled"] = params
        return out

    def to_yaml(self) -> str:
        """YAML that :func:`hadnas.load_space` reads back as a fixed space of this architecture."""
        return yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         width=100)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Node mappings (those with an ``op``) and short lists in flow style, the rest in blocks."""

    def represent_dict(self, data: Any) -> Any:
        node = super().represent_dict(data)
        if "op" in data or "shape" in data or (len(data) <= 2 and all(
                not isinstance(v, (dict, list)) for v in data.values())):  # fmt: skip
            node.flow_style = True
        return node

    def represent_list(self, data: Any) -> Any:
        node = super().represent_list(data)
        node.flow_style = all(not isinstance(v, (dict, list)) for v in data)
        return node


_Dumper.add_representer(dict, _Dumper.represent_dict)
_Dumper.add_representer(list, _Dumper.represent_list)
