"""Retrain a chosen architecture for longer on its task, then export it.

Searches train each candidate briefly; the winner deserves a full run. This trains the
architecture from scratch with the task of its ``arch.yaml`` (same dataset, options, split seed
and optimiser as the search) for more epochs, and exports the result with its validation
metrics and the input standardisation the model was trained with.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hadnas.exceptions import TaskError
from hadnas.export._artifacts import export
from hadnas.space import Architecture

log = logging.getLogger(__name__)

TASK_KEYS = ("dataset", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "val_fraction")
PREPROCESS_FILE = "preprocess.safetensors"
#: ``hadnas train`` without ``--epochs`` trains this many times the search's epochs
DEFAULT_EPOCH_FACTOR = 3


def train_architecture(
    arch: Architecture,
    *,
    epochs: int | None = None,
    seed: int = 0,
    base_dir: str | os.PathLike[str] | None = None,
    on_epoch: Callable[[int, Mapping[str, float]], None] | None = None,
) -> tuple[Any, dict[str, Any], Any]:
    """Build ``arch`` (seeded) and train it on its task; returns ``(model, metrics, data)``."""
    from hadnas.build import build
    from hadnas.tasks import load_dataset, prepare, train_and_evaluate

    task = dict(arch.task)
    if "dataset" not in task:
        raise TaskError(f"architecture {arch.name!r} has no task.dataset to train on")
    epochs = int(epochs if epochs is not None else DEFAULT_EPOCH_FACTOR * int(task["epochs"]))
    data_seed = int(arch.spec.search.seed) if arch.spec.search.seed is not None else 0
    options = {k: v for k, v in task.items() if k not in TASK_KEYS}
    folder = Path(base_dir) if base_dir is not None else None
    ds = load_dataset(task["dataset"], seed=data_seed, base_dir=folder, **options)
    data = prepare(ds, seed=data_seed, val_fraction=task.get("val_fraction"))
    data.check_inputs([(i.name, i.shape, i.dtype) for i in arch.inputs])
    model = build(arch, seed=seed)
    metrics = train_and_evaluate(
        model,
        data,
        input_names=arch.input_names,
        epochs=epochs,
        batch_size=int(task["batch_size"]),
        lr=float(task["lr"]),
        optimizer=str(task.get("optimizer", "adamw")),
        weight_decay=float(task.get("weight_decay", 0.0)),
        seed=seed,
        on_epoch=on_epoch,
    )
    return model, {**metrics, "epochs": epochs}, data


def train_and_export(
    arch: Architecture,
    out_dir: str | os.PathLike[str],
    *,
    epochs: int | None = None,
    seed: int = 0,
    base_dir: str | os.PathLike[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_epoch: Callable[[int, Mapping[str, float]], None] | None = None,
) -> Path:
    """:func:`train_architecture`, then :func:`~hadnas.export.export` with the metrics."""
    model, result, data = train_architecture(
        arch, epochs=epochs, seed=seed, base_dir=base_dir, on_epoch=on_epoch
    )
    metrics = {k: v for k, v in result.items() if k in ("accuracy", "r2", "loss", "train_loss")}
    meta = {
        **dict(metadata or {}),
        "metrics": metrics,
        "dataset": str(arch.task.get("dataset")),
        "training": {
            "epochs": result["epochs"],
            "epochs_run": result.get("epochs_run"),
            "seed": seed,
            "steps": result.get("steps"),
        },
        "weights": f"retrained from scratch for {result['epochs']} epoch(s), seed {seed}",
        "trained_by_hadnas": True,
    }
    stats = _input_stats(data, arch)
    if stats:
        meta["preprocessing"] = PREPROCESS_FILE
    out = export(arch, out_dir, model.state_dict(), metadata=meta)
    if stats:
        from safetensors.torch import save_file

        save_file(stats, str(out / PREPROCESS_FILE), metadata={"format": "pt"})
    return out


def _input_stats(data: Any, arch: Architecture) -> dict[str, Any]:
    """``<input>.mean`` / ``<input>.std`` tensors of the standardised float inputs."""
    import torch

    stats: dict[str, Any] = {}
    bound = data.resolve(list(arch.input_names))
    for name, source in zip(arch.input_names, bound):
        if source not in data.stats:
            continue
        mean, std = data.stats[source]
        stats[f"{name}.mean"] = torch.as_tensor(mean, dtype=torch.float32).contiguous()
        stats[f"{name}.std"] = torch.as_tensor(std, dtype=torch.float32).contiguous()
    return stats
