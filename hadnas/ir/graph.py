"""ArchGraph: the IR of one architecture, a networkx DAG with a deterministic order.

Nodes are the declared inputs and the resolved op nodes; an edge ``u → v`` means ``u`` feeds
``v`` (argument positions live in the node's ``inputs``). Every pass calls :meth:`lint` first,
as torch.fx does, and every problem is a located :class:`Diagnostic`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from hadnas.exceptions import Diagnostic, GraphError, Loc, UnknownNameError
from hadnas.primitives import PrimitiveDef, ShapeError, TensorSpec, get_primitive

if TYPE_CHECKING:
    from hadnas.space import Architecture

IR_VERSION = 1


@dataclass(frozen=True)
class NodeAttrs:
    """Immutable payload of a graph node (an input when ``op == "input"``)."""

    name: str
    op: str
    inputs: tuple[str, ...] = ()
    hp: tuple[tuple[str, Any], ...] = ()
    index: int = 0
    path: str = field(default="", compare=False)
    loc: Loc | None = field(default=None, compare=False)
    dtype: str = "float32"
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class NodeStats:
    name: str
    op: str
    out: TensorSpec
    params: int
    flops: int
    bytes: int


class ArchGraph:
    """A checked DAG: construction lints, infers shapes and instantiates primitive defs."""

    def __init__(self, nodes: list[NodeAttrs], output: str, *, file: str = "<arch>") -> None:
        self.file = file
        self.output = output
        self.g: nx.DiGraph = nx.DiGraph()
        for attrs in nodes:
            self.g.add_node(attrs.name, attrs=attrs)
        for attrs in nodes:
            for src in attrs.inputs:
                if src in self.g:
                    self.g.add_edge(src, attrs.name)
        self.defs: dict[str, PrimitiveDef] = {}
        self.specs: dict[str, TensorSpec] = {}
        self.warnings: list[Diagnostic] = []
        errors = self.lint()
        if errors:
            raise GraphError(errors)
        self.infer()

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_architecture(cls, arch: Architecture) -> ArchGraph:
        nodes = [
            NodeAttrs(
                i.name,
                "input",
                index=k,
                path=f"inputs.{i.name}",
                loc=i.loc,
                dtype=i.dtype,
                shape=i.shape,
            )  # fmt: skip
            for k, i in enumerate(arch.inputs)
        ]
        offset = len(nodes)
        nodes += [
            NodeAttrs(n.name, n.op, n.inputs, n.hp, offset + k, n.path, n.loc)
            for k, n in enumerate(arch.nodes)
        ]
        return cls(nodes, arch.output, file=arch.spec.file)

    def attrs(self, name: str) -> NodeAttrs:
        return self.g.nodes[name]["attrs"]

    def _diag(self, name: str, message: str, severity: str = "error") -> Diagnostic:
        a = self.g.nodes[name]["attrs"] if name in self.g else None
        loc = a.loc if a is not None and a.loc is not None else Loc(self.file, 0, 0)
        where = a.path if a is not None and a.path else name
        # name the node when the path alone does not (a copy of a block: body.1.mix)
        named = a is None or not a.path or a.path.rsplit(".", 1)[-1] == a.name
        if named or message.startswith((f"node {name!r} ", f"input {name!r} ")):
            return Diagnostic(loc, where, message, severity)
        return Diagnostic(loc, where, f"node {name!r}: {message}", severity)

    # -- passes -------------------------------------------------------------------------------
    def order(self) -> list[str]:
        """Topological order, ties broken by declaration order (stable across runs)."""
        return list(nx.lexicographical_topological_sort(self.g, key=lambda n: self.attrs(n).index))

    def input_names(self) -> list[str]:
        return sorted((n for n in self.g if self.attrs(n).op == "input"),
                      key=lambda n: self.attrs(n).index)  # fmt: skip

    def op_nodes(self) -> Iterator[NodeAttrs]:
        for name in self.order():
            a = self.attrs(name)
            if a.op != "input":
                yield a

    def lint(self) -> list[Diagnostic]:
        """Dangling references, cycles, unknown ops, arity, the output; unused nodes warn."""
        errors: list[Diagnostic] = []
        self.warnings = []
        for name in self.g:
            a = self.attrs(name)
            for src in a.inputs:
                if src not in self.g:
                    errors.append(self._diag(name, f"dangling reference {src!r}"))
            if a.op == "input":
                continue
            try:
                cls = get_primitive(a.op)
            except UnknownNameError as exc:
                errors.append(self._diag(name, str(exc)))
                continue
            lo, hi = cls.arity
            if len(a.inputs) < lo or (hi is not None and len(a.inputs) > hi):
                want = f"{lo}" if lo == hi else f"{lo} to {hi if hi is not None else 'any number'}"
                errors.append(self._diag(
                    name, f"op {a.op!r} takes {want} input(s), got {len(a.inputs)}: "
                    f"{list(a.inputs)}"))  # fmt: skip
        if not nx.is_directed_acyclic_graph(self.g):
            cycle = nx.find_cycle(self.g)
            chain = " → ".join([u for u, _ in cycle] + [cycle[0][0]])
            first = min((u for u, _ in cycle), key=lambda n: self.attrs(n).index)
            errors.append(self._diag(first, f"cycle: {chain}; a graph must not feed itself"))
        if self.output not in self.g:
            errors.append(Diagnostic(Loc(self.file, 0, 0), "output",
                                     f"output {self.output!r} is not a node"))  # fmt: skip
        elif not errors:
            live = nx.ancestors(self.g, self.output) | {self.output}
            for name in self.g:
                if name not in live:
                    kind = "input" if self.attrs(name).op == "input" else "node"
                    self.warnings.append(self._diag(
                        name, f"{kind} {name!r} does not reach the output "
                        f"{self.output!r}; it is ignored", "warning"))  # fmt: skip
        return errors

    def infer(self) -> None:
        """Instantiate each primitive def and infer every tensor spec; all errors at once."""
        errors: list[Diagnostic] = []
        failed: set[str] = set()
        for name in self.order():
            a = self.attrs(name)
            if a.op == "input":
                self.specs[name] = TensorSpec(a.shape, a.dtype)
                continue
            if any(src in failed for src in a.inputs):
                failed.add(name)
                continue
            try:
                d = get_primitive(a.op)(**dict(a.hp))
                ins = [self.specs[s] for s in a.inputs]
                self.specs[name] = d.infer(ins)
                self.defs[name] = d
            except (ShapeError, ValueError) as exc:
                ins_txt = ", ".join(f"{s} {self.specs[s]}" for s in a.inputs if s in self.specs)
                errors.append(self._diag(name, f"{exc} [inputs: {ins_txt}]"))
                failed.add(name)
        if errors:
            raise GraphError(errors)

    def live_nodes(self) -> list[str]:
        """Op nodes that reach the output, in order (the builder skips the others)."""
        live = nx.ancestors(self.g, self.output) | {self.output}
        return [n for n in self.order() if n in live and self.attrs(n).op != "input"]

    def in_specs(self, name: str) -> list[TensorSpec]:
        return [self.specs[s] for s in self.attrs(name).inputs]

    def stats(self) -> list[NodeStats]:
        """Per-node output spec, parameter count, FLOPs and bytes moved (one sample)."""
        rows = []
        for name in self.live_nodes():
            d, ins, out = self.defs[name], self.in_specs(name), self.specs[name]
            cost = d.cost(ins, out)
            rows.append(NodeStats(name, d.op, out, d.num_params(ins), cost.flops, cost.bytes))
        return rows

    def totals(self) -> dict[str, int]:
        rows = self.stats()
        return {
            "params": sum(r.params for r in rows),
            "flops": sum(r.flops for r in rows),
            "bytes": sum(r.bytes for r in rows),
        }

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Node-link JSON-compatible form (``ir_version`` first); round-trips via from_dict."""
        nodes = []
        for name in self.order():
            a = self.attrs(name)
            item: dict[str, Any] = {"name": a.name, "op": a.op, "index": a.index}
            if a.op == "input":
                item.update(shape=list(a.shape), dtype=a.dtype)
            else:
                item.update(inputs=list(a.inputs), hp=dict(a.hp), path=a.path)
            nodes.append(item)
        return {"ir_version": IR_VERSION, "output": self.output, "nodes": nodes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchGraph:
        if data.get("ir_version") != IR_VERSION:
            raise GraphError(
                [
                    Diagnostic(
                        None, "ir_version", f"unsupported IR version {data.get('ir_version')!r}"
                    )
                ]
            )
        nodes = []
        for item in data["nodes"]:
            if item["op"] == "input":
                nodes.append(
                    NodeAttrs(
                        item["name"],
                        "input",
                        index=item["index"],
                        dtype=item["dtype"],
                        shape=tuple(item["shape"]),
                    )
                )
            else:
                hp = tuple(item["hp"].items())
                nodes.append(
                    NodeAttrs(
                        item["name"],
                        item["op"],
                        tuple(item["inputs"]),
                        hp,
                        item["index"],
                        item.get("path", ""),
                    )
                )
        return cls(nodes, data["output"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchGraph) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]
