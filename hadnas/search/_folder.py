"""The run folder ``runs/<name>/``: everything a search produced, usable from the folder alone.

Layout (the contract of ``docs/search.md``)::

    run.json            how to reopen the study: storage, study name, config, hadnas version
    space.yaml          the space exactly as searched
    journal.log         the study storage (embedded default)
    trials/<number>/    arch.yaml, metrics.json, model.safetensors, TensorBoard event files
    summary.json        counts, best / Pareto-front trials, one line per trial
    pareto.png          the Pareto front (or best-so-far curve for one objective)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hadnas.exceptions import SearchError
from hadnas.version import __version__


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN/inf: write them as strings ("nan", "inf", "-inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    """Write atomically (tmp + rename) so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps(_clean(data), indent=2, default=_json_default, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, path)


class RunFolder:
    """Paths and files of one run folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- paths -------------------------------------------------------------------------------
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def space_yaml(self) -> Path:
        return self.path / "space.yaml"

    @property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @property
    def pareto_png(self) -> Path:
        return self.path / "pareto.png"

    def trial_dir(self, number: int) -> Path:
        return self.path / "trials" / str(int(number))

    def exists(self) -> bool:
        return self.run_json.is_file()

    # -- run.json ----------------------------------------------------------------------------
    def read_run(self) -> dict[str, Any]:
        try:
            return json.loads(self.run_json.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SearchError(
                f"{self.path}: not a hadnas run folder (no run.json); give the "
                "folder a `hadnas search` created"
            ) from None
        except (OSError, ValueError) as exc:
            raise SearchError(f"{self.run_json}: cannot read: {exc}") from None

    def write_run(self, data: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.run_json, {"hadnas_version": __version__, **data})

    # -- lock --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock among the processes of this machine that use this folder."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- trials ------------------------------------------------------------------------------
    def write_arch(self, number: int, arch_yaml: str) -> Path:
        d = self.trial_dir(number)
        d.mkdir(parents=True, exist_ok=True)
        (d / "arch.yaml").write_text(arch_yaml, encoding="utf-8")
        return d

    def write_metrics(self, number: int, data: dict[str, Any]) -> None:
        d = self.trial_dir(number)
        d.mkdir(parents=True, exist_ok=True)
        write_json(d / "metrics.json", data)

    def read_metrics(self, number: int) -> dict[str, Any] | None:
        try:
            return json.loads((self.trial_dir(number) / "metrics.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
