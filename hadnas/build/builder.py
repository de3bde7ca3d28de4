"""IR → ``nn.Module`` with a generated ``forward`` (one line per node, no per-call dispatch).

Modules are registered under the node names, so ``state_dict`` keys read like the YAML:
``body.1.mix.U.0.weight``. Repeat-block copies live in ``nn.ModuleList``s, other nodes in plain
containers. The forward is Python source compiled once per build and registered in
``linecache`` so tracebacks point at the generated line.
"""

from __future__ import annotations

import linecache
from typing import Any, cast

import torch
from torch import nn

from hadnas.build._codegen import Namespace, module_access
from hadnas.ir import ArchGraph
from hadnas.space import Architecture

_BUILD_COUNT = 0


class _Container(nn.Module):
    """A named group of node modules (one copy of a repeat block)."""


class HadnasModel(nn.Module):
    """Base class of built models; ``forward(*inputs)`` takes the inputs in declared order."""

    input_names: tuple[str, ...] = ()
    source: str = ""

    def __reduce__(self) -> Any:
        # Built classes are generated per architecture, so pickle the recipe instead: the
        # architecture YAML, or the IR for a model built from an ArchGraph.
        recipe = self._hadnas_arch_yaml or self._hadnas_ir
        return (_rebuild, (recipe, self.state_dict(), self.training))


def _rebuild(
    recipe: str | dict[str, Any], state: dict[str, torch.Tensor], training: bool = True
) -> HadnasModel:
    from hadnas.space import load_space

    if isinstance(recipe, dict):
        model = build(ArchGraph.from_dict(recipe))
    else:
        model = build(load_space("<pickled arch>", text=recipe, check=False).architecture())
    model.load_state_dict(state)
    return model.train(training)


def _place(root: nn.Module, name: str, module: nn.Module) -> None:
    """Register ``module`` at dotted ``name`` creating containers and ModuleLists on the way."""
    parts = name.split(".")
    parent: nn.Module = root
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if part.isdigit():
            assert isinstance(parent, nn.ModuleList)
            idx = int(part)
            while len(parent) <= idx:
                parent.append(_Container())
            parent = parent[idx]
        else:
            child = getattr(parent, part, None) if part in parent._modules else None
            if child is None:
                child = nn.ModuleList() if nxt.isdigit() else _Container()
                parent.add_module(part, child)
            parent = child
    parent.add_module(parts[-1], module)


def forward_source(graph: ArchGraph, model: nn.Module | None = None) -> tuple[str, list[str]]:
    """The ``forward`` source for ``graph`` and the ordered input argument names.

    Repeat-block copies are unpacked once at the top (``body_0, body_1 = self.body``) rather
    than indexed per node, which is what a person writing the loop by hand pays too. ``model``
    (the module tree) tells how many copies each ``ModuleList`` holds; without it the copies are
    indexed (``self.body[1].mix``).
    """
    ns = Namespace()
    args = [ns.create(n) for n in graph.input_names()]
    head = [f"def forward(self, {', '.join(args)}):"]
    body: list[str] = []
    copy_vars: dict[str, str] = {}

    def access(parts: list[str]) -> str:
        digits = [i for i, p in enumerate(parts) if p.isdigit()]
        if not digits or model is None:
            return module_access(".".join(parts))
        k = digits[-1]
        prefix = ".".join(parts[: k + 1])
        if prefix not in copy_vars:
            list_parts = parts[:k]
            container = cast(nn.ModuleList, model.get_submodule(".".join(list_parts)))
            keys = [".".join([*list_parts, str(i)]) for i in range(len(container))]
            names = [ns.create("copy:" + key, key.replace(".", "_")) for key in keys]
            for i, name in enumerate(names):
                copy_vars[".".join([*list_parts, str(i)])] = name
            target = ", ".join(names) + ("," if len(names) == 1 else "")
            head.append(f"    {target} = {access(list_parts)}")
        rest = parts[k + 1 :]
        return copy_vars[prefix] + "".join(f".{p}" for p in rest)

    for name in graph.live_nodes():
        a = graph.attrs(name)
        var = ns.create(name, name.replace(".", "_"))
        call_args = [ns.by_key[s] for s in a.inputs]
        expr = graph.defs[name].inline(call_args, graph.in_specs(name))
        if expr is None:
            expr = f"{access(name.split('.'))}({', '.join(call_args)})"
        body.append(f"    {var} = {expr}  # {graph.specs[name]}")
    body.append(f"    return {ns.by_key[graph.output]}")
    return "\n".join(head + body) + "\n", args


def build(arch: Architecture | ArchGraph, *, seed: int | None = None) -> HadnasModel:
    """Build a model for ``arch``; with ``seed``, parameter initialisation is reproducible."""
    global _BUILD_COUNT
    graph = arch if isinstance(arch, ArchGraph) else arch.graph
    tree = nn.Module()  # modules first: the forward's unpacking depends on the tree
    generator_state = torch.random.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        for name in graph.live_nodes():
            d, ins = graph.defs[name], graph.in_specs(name)
            if d.inline([f"a{i}" for i in range(len(ins))], ins) is None:
                _place(tree, name, d.create(ins))
    finally:
        if seed is not None:
            torch.random.set_rng_state(generator_state)
    source, args = forward_source(graph, tree)
    _BUILD_COUNT += 1
    filename = f"<hadnas-forward-{_BUILD_COUNT}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__builtins__": {}, "torch": torch}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    cls = type("HadnasModel", (HadnasModel,), {"forward": namespace["forward"]})
    model = cls()
    for child_name, child in tree.named_children():
        model.add_module(child_name, child)
    model.input_names = tuple(args)
    model.source = source
    model._hadnas_arch_yaml = arch.to_yaml() if isinstance(arch, Architecture) else ""
    model._hadnas_ir = {} if isinstance(arch, Architecture) else graph.to_dict()
    return model
