"""Export: an architecture and its weights as standalone, readable PyTorch code.

``hadnas.export(arch, "out/", state_dict=model.state_dict())`` writes ``model.py`` (torch and
the standard library only), ``model.safetensors``, the resolved ``arch.yaml``, ``export.json``
and a README. See ``docs/export.md``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from hadnas.export._artifacts import (
    FILES,
    WEIGHTS_FILE,
    export,
    import_model_file,
    load_exported,
    load_weights,
    verify_export,
)
from hadnas.export._audit import audit_source
from hadnas.export._codegen import ModelCodeGen
from hadnas.export._runs import TrialRecord, export_run, select_trials
from hadnas.export._train import train_and_export, train_architecture


def to_source(arch: Any, *, trial: int | None = None) -> str:
    """The ``model.py`` text for an :class:`~hadnas.Architecture` (no files written)."""
    return ModelCodeGen(arch, trial=trial).generate()


class _CallableModule(types.ModuleType):
    """``hadnas.export(...)`` is the function even once this package is imported.

    Importing ``hadnas.export`` binds the package as the ``export`` attribute of ``hadnas``,
    which would shadow the function the public API documents; calling the package calls it.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


__all__ = [
    "FILES",
    "WEIGHTS_FILE",
    "ModelCodeGen",
    "TrialRecord",
    "audit_source",
    "export",
    "export_run",
    "import_model_file",
    "load_exported",
    "load_weights",
    "select_trials",
    "to_source",
    "train_and_export",
    "train_architecture",
    "verify_export",
]
