"""IR → ``nn.Module`` with a generated ``forward`` (one line per node, no per-call dispatch).

Modules are registered under the node names, so ``state_dict`` keys read like the YAML:
``body.1.mix.U.0.weight``. Repeat-block copies live in ``nn.ModuleList``s, other nodes in plain
containers. The forward is Python source compiled once per build and registered in
``linecache`` so tracebacks point at the generated line.
"""

from __future__ import annotations

import linecache
from typing import Any

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
        # Built classes are generated per architecture, so pickle the recipe instead.
        return (_rebuild, (self._hadnas_arch_yaml, self.state_dict()))


def _rebuild(arch_yaml: str, state: dict[str, torch.Tensor]) -> HadnasModel:
    from hadnas.space import load_space

    model = build(load_space("<pickled arch>", text=arch_yaml).architecture())
    model.load_state_dict(state)
    return model


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


def forward_source(graph: ArchGraph, class_name: str = "HadnasModel") -> tuple[str, list[str]]:
    """The ``forward`` source for ``graph`` and the ordered input argument names."""
    ns = Namespace()
    args = [ns.create(n) for n in graph.input_names()]
    lines = [f"def forward(self, {', '.join(args)}):"]
    for name in graph.live_nodes():
        a = graph.attrs(name)
        var = ns.create(name, name.replace(".", "_"))
        call_args = ", ".join(ns.by_key[s] for s in a.inputs)
        lines.append(f"    {var} = {module_access(name)}({call_args})  # {graph.specs[name]}")
    lines.append(f"    return {ns.by_key[graph.output]}")
    return "\n".join(lines) + "\n", args


def build(arch: Architecture | ArchGraph, *, seed: int | None = None) -> HadnasModel:
    """Build a model for ``arch``; with ``seed``, parameter initialisation is reproducible."""
    global _BUILD_COUNT
    graph = arch if isinstance(arch, ArchGraph) else arch.graph
    source, args = forward_source(graph)
    _BUILD_COUNT += 1
    filename = f"<hadnas-forward-{_BUILD_COUNT}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    cls = type("HadnasModel", (HadnasModel,), {"forward": namespace["forward"]})
    model = cls()
    model.input_names = tuple(args)
    model.source = source
    model._hadnas_arch_yaml = arch.to_yaml() if isinstance(arch, Architecture) else ""
    generator_state = torch.random.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        for name in graph.live_nodes():
            _place(model, name, graph.defs[name].create(graph.in_specs(name)))
    finally:
        if seed is not None:
            torch.random.set_rng_state(generator_state)
    return model
