"""Export trials of a run folder (``runs/<name>/``): one trial, the best, or the Pareto front.

The folder alone is enough: ``summary.json`` names the best trial or the Pareto front (feasible
trials only), each ``trials/<n>/`` holds ``arch.yaml``, ``metrics.json`` and, when the search
saved them, the trained weights ``model.safetensors``. Without a summary the front is rebuilt
from the trials' ``metrics.json``. Weights are read with safetensors only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hadnas.exceptions import ExportError
from hadnas.export._artifacts import WEIGHTS_FILE, export, load_weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a run folder, as the exporter sees it."""

    number: int
    folder: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    objectives: dict[str, Any] = field(default_factory=dict)
    status: str = "complete"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: cannot read: {exc}") from None


def _record(run: Path, number: int) -> TrialRecord:
    folder = run / "trials" / str(number)
    if not (folder / "arch.yaml").is_file():
        raise ExportError(f"{run}: trial {number} has no arch.yaml ({folder})")
    data = _read_json(folder / "metrics.json") or {}
    status = data.get("fail_reason") or data.get("state") or "unknown"
    return TrialRecord(
        number,
        folder,
        _scalars(data.get("metrics") or {}),
        _scalars(data.get("objectives") or {}),
        str(status),
    )


def _scalars(d: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in d.items() if isinstance(v, (int, float, str, bool))}


def select_trials(
    run_dir: str | os.PathLike[str], *, trial: int | None = None, pareto: bool = False
) -> list[TrialRecord]:
    """The trial ``trial``; else the Pareto front (``pareto``) or the best trial."""
    run = Path(run_dir)
    if not run.is_dir():
        raise ExportError(f"{run}: no such run folder")
    if trial is not None:
        return [_record(run, int(trial))]
    numbers = _front(run)
    if not numbers:
        raise ExportError(f"{run}: no complete, feasible trial to export yet (see hadnas report)")
    return [_record(run, n) for n in (numbers if pareto else numbers[:1])]


def _front(run: Path) -> list[int]:
    """Trial numbers of the front, best first (by the first objective), from summary.json."""
    summary = _read_json(run / "summary.json")
    if isinstance(summary, dict) and isinstance(summary.get("best"), list):
        return [int(r["number"]) for r in summary["best"] if "number" in r]
    log.info("%s: no summary.json; rebuilding the front from trials/*/metrics.json", run)
    space = run / "space.yaml"
    from hadnas.space import load_space

    objectives = load_space(space, check=False).spec.objectives if space.is_file() else ()
    rows = []
    for folder in sorted((run / "trials").glob("*"), key=lambda p: (len(p.name), p.name)):
        data = _read_json(folder / "metrics.json") if folder.name.isdigit() else None
        if not data or data.get("state") != "complete" or data.get("fail_reason"):
            continue
        values = data.get("values")
        if not values or len(values) != len(objectives):
            continue
        rows.append((int(folder.name), [float(v) for v in values]))
    signs = [1.0 if o.direction == "minimize" else -1.0 for o in objectives]
    mins = [[s * v for s, v in zip(signs, vals)] for _, vals in rows]
    front = [
        i
        for i, a in enumerate(mins)
        if not any(all(x <= y for x, y in zip(b, a)) and b != a for b in mins)
    ]
    return [rows[i][0] for i in sorted(front, key=lambda i: (mins[i], rows[i][0]))]


def _epochs(n: object) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def export_run(
    run_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    trial: int | None = None,
    pareto: bool = False,
    retrain: int | None = None,
    seed: int = 0,
) -> list[Path]:
    """Export trials of a run folder; with ``pareto`` each goes to ``out_dir/trial_<n>/``."""
    run = Path(run_dir)
    records = select_trials(run, trial=trial, pareto=pareto)
    info = _read_json(run / "run.json") or {}
    space_file = info.get("space_file") if isinstance(info, dict) else None
    outs = []
    for rec in records:
        if rec.status != "complete":
            log.warning(
                "trial %d is %s, not complete; exporting its architecture anyway",
                rec.number,
                rec.status,
            )
        target = Path(out_dir) / f"trial_{rec.number}" if pareto else Path(out_dir)
        outs.append(_export_one(run, rec, target, space_file, retrain, seed))
    return outs


def _export_one(
    run: Path,
    rec: TrialRecord,
    target: Path,
    space_file: str | None,
    retrain: int | None,
    seed: int,
) -> Path:
    from hadnas.space import load_space

    arch = load_space(rec.folder / "arch.yaml").architecture()
    meta: dict[str, Any] = {
        "run": str(run),
        "trial": rec.number,
        "space_file": space_file or str(run / "space.yaml"),
        "search_metrics": {**rec.metrics, **rec.objectives},
    }
    if retrain is not None:
        from hadnas.export._train import train_and_export

        base_dir = Path(space_file).parent if space_file else rec.folder
        return train_and_export(
            arch, target, epochs=retrain, seed=seed, base_dir=base_dir, metadata=meta
        )
    weights = rec.folder / WEIGHTS_FILE
    meta["metrics"] = meta.pop("search_metrics")
    if weights.is_file():
        state = load_weights(weights)
        epochs = arch.task.get("epochs")
        meta["weights"] = f"trained during the search (trial {rec.number}, {_epochs(epochs)})"
        meta["trained_by_hadnas"] = True
        from hadnas.export._train import PREPROCESS_FILE

        stats = rec.folder / PREPROCESS_FILE
        if stats.is_file():  # the input standardisation the weights were trained with
            meta["preprocessing"] = PREPROCESS_FILE
        out = export(arch, target, state, metadata=meta)
        if stats.is_file():
            shutil.copyfile(stats, out / PREPROCESS_FILE)
        return out
    log.warning(
        "trial %d has no saved weights; exporting fresh weights (use --retrain EPOCHS "
        "to train them)",
        rec.number,
    )
    meta["weights"] = "fresh (untrained) initialisation with seed 0: the search saved none"
    return export(arch, target, None, metadata=meta)
