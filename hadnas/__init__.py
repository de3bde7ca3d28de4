"""hadnas: neural architecture search over Hadamard-product primitives.

The public API (see ``docs/``)::

    import hadnas
    space = hadnas.load_space("search_spaces/digits_gated_poly.yaml")
    arch = space.sample(seed=0)          # or space.suggest(optuna_trial) in your own objective
    model = hadnas.build(arch)           # nn.Module; forward(*inputs in declared order)
    hadnas.export(arch, "out/", state_dict=model.state_dict())

Heavy or optional parts (search, export, tasks, latency) load on first use, so ``import hadnas``
never imports Ray or TensorBoard.
"""

from __future__ import annotations

import importlib
from typing import Any

from hadnas.build import HadnasModel, build
from hadnas.exceptions import (
    BuildError,
    Diagnostic,
    ExportError,
    GraphError,
    HadnasError,
    InfeasibleTrial,
    SearchError,
    SpecError,
    TaskError,
)
from hadnas.ir import ArchGraph
from hadnas.primitives import (
    Param,
    PrimitiveDef,
    TensorSpec,
    get_primitive,
    list_primitives,
    register_primitive,
)
from hadnas.space import Architecture, SearchSpace, define_by_run, load_space
from hadnas.version import __version__

_LAZY = {
    "export": ("hadnas.export", "export"),
    "search": ("hadnas.search", "search"),
    "SearchConfig": ("hadnas.search", "SearchConfig"),
    "register_dataset": ("hadnas.tasks", "register_dataset"),
    "list_datasets": ("hadnas.tasks", "list_datasets"),
    "load_dataset": ("hadnas.tasks", "load_dataset"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'hadnas' has no attribute {name!r}")


__all__ = [
    "ArchGraph",
    "Architecture",
    "BuildError",
    "Diagnostic",
    "ExportError",
    "GraphError",
    "HadnasError",
    "HadnasModel",
    "InfeasibleTrial",
    "Param",
    "PrimitiveDef",
    "SearchError",
    "SearchSpace",
    "SpecError",
    "TaskError",
    "TensorSpec",
    "__version__",
    "build",
    "define_by_run",
    "get_primitive",
    "list_primitives",
    "load_space",
    "register_primitive",
    *_LAZY,
]
