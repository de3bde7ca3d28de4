"""The backend interface, the result of a search, and the run-folder setup every backend shares.

A backend's lifecycle: ``__init__(space, config)`` stores what to run; ``validate()`` refuses
impossible combinations before anything is written; ``run()`` searches and returns a
:class:`SearchResult`. All backends draw architectures through the same define-by-run call
(``space.suggest(trial)``) and evaluate them with the same
:class:`~hadnas.search._runner.TrialRunner`, so spaces, constraints, fail reasons and run
folders mean the same thing whichever backend ran them.
"""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hadnas.exceptions import SearchError
from hadnas.search._config import SearchConfig
from hadnas.search._folder import RunFolder
from hadnas.search._storage import resolve
from hadnas.space import SearchSpace


class SearchInterrupted(SearchError):
    """The search was stopped by SIGTERM/SIGINT; running trials were failed as preempted."""

    exit_code = 143


@dataclass
class SearchResult:
    """What a finished search left: where, how many trials of each kind, the best ones."""

    run_dir: Path
    study_name: str
    storage: str
    counts: dict[str, int] = field(default_factory=dict)
    best: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


class BaseSearchBackend(abc.ABC):
    """Subclass and implement :meth:`run`; register the class in ``BACKENDS``."""

    name: ClassVar[str] = ""

    def __init__(self, space: SearchSpace, config: SearchConfig) -> None:
        self.space = space
        self.config = config

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Refuse what cannot work before any file is written (no-op by default)."""

    @abc.abstractmethod
    def run(self) -> SearchResult:
        """Run the search to ``config.trials`` trials and return the result."""


def plugin_modules() -> list[str]:
    """Modules that registered user primitives or datasets: trial processes import them."""
    mods: set[str] = set()
    registries = [
        ("hadnas.primitives._registry", "_REGISTRY"),
        ("hadnas.tasks._registry", "_REGISTRY"),
    ]
    for module, attr in registries:
        reg = getattr(sys.modules.get(module), attr, None) or {}
        mods |= {getattr(obj, "__module__", "") for obj in reg.values()}
    if "__main__" in mods:
        raise SearchError(
            "a primitive or dataset is registered in your __main__ script; trial "
            "processes cannot import it. Move it into an importable module"
        )
    return sorted(m for m in mods if m and m != "hadnas" and not m.startswith("hadnas."))


def prepare_folder(
    space: SearchSpace, config: SearchConfig, backend: str
) -> tuple[RunFolder, dict[str, Any]]:
    """Create the run folder (or check it for ``resume``); return it and its ``run.json``."""
    name = config.name or space.name
    folder = RunFolder(Path(config.runs_dir) / name)
    text = _space_text(space)
    if folder.exists():
        if not config.resume:
            raise SearchError(
                f"{folder.path} already holds a run; add --resume to continue it "
                "or --name to start another"
            )
        info = folder.read_run()
        stored = folder.space_yaml.read_text("utf-8") if folder.space_yaml.is_file() else None
        if stored is not None and text != stored:
            raise SearchError(
                f"{space.spec.file} differs from {folder.space_yaml}, the space "
                "this run searched; resume with the stored file or start a new "
                "run with --name"
            )
        if config.storage is not None and resolve(config.storage, folder.path) != info["storage"]:
            raise SearchError(
                f"{folder.path} uses storage {info['storage']!r}, not "
                f"{config.storage!r}; drop --storage to resume it"
            )
        if info.get("backend", backend) != backend:
            raise SearchError(f"{folder.path} was searched with --backend {info['backend']}")
        if config.trials is not None:
            info["trials"] = config.trials
        info["config"] = {**info.get("config", {}), **config.to_dict(), "resume": True}
        folder.write_run(info)
        return folder, info
    if config.resume:
        raise SearchError(f"{folder.path}: nothing to resume (no run.json); drop --resume")
    trials = config.trials if config.trials is not None else space.spec.search.trials
    info = {
        "study_name": name,
        "backend": backend,
        "storage": resolve(config.storage, folder.path),
        "trials": trials,
        "space_file": str(Path(space.spec.file).resolve()),
        "plugins": plugin_modules(),
        "config": config.to_dict(),
    }
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.space_yaml.write_text(text, "utf-8")
    folder.write_run(info)
    return folder, info


def _space_text(space: SearchSpace) -> str:
    """The file text of ``space``, checked to still describe it (workers reload from it)."""
    from hadnas.spec import load_spec

    path = Path(space.spec.file)
    text = path.read_text("utf-8") if path.is_file() else None
    if text is None or load_spec(path, text=text) != space.spec:
        raise SearchError(
            f"{space.spec.file}: search needs the space as a file on disk that "
            "matches the loaded space (the run folder keeps it and worker "
            "processes reload it); write the modified space to a YAML file"
        )
    return text
