"""``hadnas.export``: write ``model.py``, ``model.safetensors``, ``arch.yaml`` and a README.

Files are written to a scratch folder next to the target, checked (the generated ``model.py`` is
imported, loads the written weights and must reproduce the built model's outputs), then moved
into place, so a failed export never leaves a half-written folder behind. Weights are stored
with safetensors, which holds raw tensors only: loading them cannot run code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from hadnas.exceptions import ExportError, HadnasError
from hadnas.export._codegen import ModelCodeGen
from hadnas.export._names import validate_architecture
from hadnas.export._readme import readme
from hadnas.space import Architecture
from hadnas.version import __version__

WEIGHTS_FILE = "model.safetensors"
FILES = ("model.py", WEIGHTS_FILE, "arch.yaml", "README.md", "export.json")
EXPORT_FORMAT = 1
_PREFIXES = ("_orig_mod.", "module.")  # torch.compile and DataParallel wrappers


def export(
    arch: Architecture | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    state_dict: Mapping[str, torch.Tensor] | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    verify: bool = True,
) -> Path:
    """Export ``arch`` (an Architecture or a fixed ``arch.yaml``) with its weights to ``out_dir``.

    Without ``state_dict`` the weights are freshly initialised (seed 0), and the README says so.
    ``metadata`` adds provenance: ``space_file``, ``run``, ``trial``, ``metrics`` (a mapping),
    ``weights`` (how they were obtained) and anything else JSON-serialisable. Returns
    ``out_dir``. Raises :class:`ExportError` (names, weights or generated code refused).
    """
    arch = _as_architecture(arch)
    validate_architecture(arch)  # before building, generating or writing anything
    meta = dict(metadata or {})
    from hadnas.build import build

    model = build(arch, seed=0)
    if state_dict is not None:
        state = _checked_state(state_dict, model)
        model.load_state_dict(state)
        meta.setdefault("weights", "the given state_dict")
    else:
        state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
        meta.setdefault("weights", "fresh (untrained) initialisation with seed 0")
    source = ModelCodeGen(arch, model, trial=meta.get("trial")).generate()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".hadnas-export-", dir=out))
    try:
        meta["params"] = sum(p.numel() for p in model.parameters())
        _write(scratch, arch, source, state, meta)
        if verify:
            verify_export(scratch, model)
        for name in FILES:
            os.chmod(scratch / name, 0o644)  # the scratch folder is private; the files are not
            os.replace(scratch / name, out / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _as_architecture(arch: Architecture | str | os.PathLike[str]) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    if isinstance(arch, (str, os.PathLike)):
        from hadnas.space import load_space

        return load_space(Path(arch)).architecture()
    raise ExportError(f"expected an Architecture or an arch.yaml path, got {type(arch).__name__}")


def _checked_state(state_dict: Mapping[str, Any], model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached CPU copies of ``state_dict``; keys and shapes must be the built model's."""
    items = dict(state_dict)
    for prefix in _PREFIXES:
        if items and all(isinstance(k, str) and k.startswith(prefix) for k in items):
            items = {k[len(prefix) :]: v for k, v in items.items()}
    want = model.state_dict()
    missing = [k for k in want if k not in items]
    unexpected = [k for k in items if k not in want]
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(map(repr, missing[:8]))}")
    if unexpected:
        problems.append(f"unexpected keys: {', '.join(repr(str(k))[:80] for k in unexpected[:8])}")
    for key, value in items.items():
        if key not in want:
            continue
        if not isinstance(value, torch.Tensor):
            problems.append(f"{key!r} is a {type(value).__name__}, not a tensor")
        elif tuple(value.shape) != tuple(want[key].shape):
            problems.append(
                f"{key!r} has shape {list(value.shape)}, the architecture needs "
                f"{list(want[key].shape)}"
            )
    if problems:
        raise ExportError("the state_dict does not fit this architecture: " + "; ".join(problems))
    return {k: items[k].detach().cpu().contiguous().clone() for k in want}


def _write(
    folder: Path,
    arch: Architecture,
    source: str,
    state: dict[str, torch.Tensor],
    meta: dict[str, Any],
) -> None:
    from safetensors.torch import save_file

    (folder / "model.py").write_text(source, encoding="utf-8")
    # one metadata key: safetensors writes a hash map, so several keys come in random order
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": "pt"})
    (folder / "arch.yaml").write_text(arch.to_yaml(), encoding="utf-8")
    digest = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    record = {
        "format": "hadnas-export",
        "format_version": EXPORT_FORMAT,
        "hadnas_version": __version__,
        "space": arch.name,
        **{k: _jsonable(v) for k, v in meta.items() if k not in ("format", "format_version")},
        "files": {"model": "model.py", "weights": WEIGHTS_FILE, "arch": "arch.yaml"},
        "weights_sha256": digest,
    }
    (folder / "export.json").write_text(
        json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (folder / "README.md").write_text(readme(arch, record), encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# -- loading ------------------------------------------------------------------------------------
def load_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file, or a ``.pt`` state dict read with ``weights_only``.

    Both refuse pickled code: a file that is not what its name says raises :class:`ExportError`
    before anything in it runs.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ExportError(f"{path}: no such weights file") from None
    except Exception as exc:  # safetensors/pickle raise various types for foreign files
        raise ExportError(
            f"{path}: refused to load weights: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise ExportError(f"{path}: not a state dict of tensors")
    return dict(state)


def import_model_file(path: str | os.PathLike[str]) -> ModuleType:
    """Import a generated ``model.py`` as a fresh module (not left in ``sys.modules``)."""
    name = f"hadnas_exported_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise ExportError(f"{path}: cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def load_exported(folder: str | os.PathLike[str]) -> nn.Module:
    """The exported ``Model`` of ``folder`` with its weights loaded (in eval mode)."""
    return _load(Path(folder))[0]


def _load(folder: Path) -> tuple[nn.Module, ModuleType]:
    module = import_model_file(folder / "model.py")
    model = module.Model()
    model.load_state_dict(load_weights(folder / WEIGHTS_FILE))
    return model.eval(), module


def verify_export(folder: str | os.PathLike[str], built: nn.Module, batch_size: int = 2) -> None:
    """Raise :class:`ExportError` unless ``folder``'s model reproduces ``built``'s outputs."""
    try:
        exported, module = _load(Path(folder))
    except HadnasError:
        raise
    except Exception as exc:
        raise ExportError(
            f"the generated model does not load: {type(exc).__name__}: {exc}"
        ) from exc
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        inputs = module.ModelConfig().example_inputs(batch_size)
    was_training = built.training
    built.eval()
    try:
        with torch.no_grad():
            want, got = built(*inputs), exported(*inputs)
    finally:
        built.train(was_training)
    if want.shape != got.shape or not torch.allclose(
        want, got, rtol=1e-5, atol=1e-6, equal_nan=True
    ):
        diff = (want - got).abs().max().item() if want.shape == got.shape else "shape"
        raise ExportError(
            f"the generated model does not reproduce the built model (max |Δ| = {diff})"
        )
