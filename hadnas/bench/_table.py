"""A tabular benchmark: every architecture of a space with its trained and measured metrics.

The JSON file carries the space's YAML text, so a table replays from the file alone (the
shipped ones live in ``hadnas/bench/data/``), plus how it was made: the command that rebuilds
it, the training protocol, the latency protocol and the machine's fingerprint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hadnas.bench._enumerate import choice_key
from hadnas.exceptions import HadnasError
from hadnas.space import SearchSpace, load_space

FORMAT = "hadnas-bench/1"
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BenchEntry:
    """One architecture: its Optuna parameters and what training and timing it gave.

    ``status`` is ``ok`` or ``failed`` (training diverged); a failed entry has no training
    metrics, and a replayed trial that proposes it fails as the real trial would.
    """

    choices: Mapping[str, Any]
    metrics: Mapping[str, float]
    status: str = "ok"

    @property
    def key(self) -> str:
        return choice_key(dict(self.choices))

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"choices": dict(self.choices), **dict(self.metrics)}
        if self.status != "ok":
            out["status"] = self.status
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BenchEntry:
        metrics = {k: v for k, v in data.items() if k not in ("choices", "status")}
        return cls(dict(data["choices"]), metrics, str(data.get("status", "ok")))


@dataclass(frozen=True)
class BenchTable:
    """Entries of one space; ``lookup(params)`` is what a replayed trial "trains"."""

    space_yaml: str
    entries: tuple[BenchEntry, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def space(self) -> SearchSpace:
        return load_space(f"{self.name}.yaml", text=self.space_yaml, check=False)

    @property
    def name(self) -> str:
        return str(self.meta.get("space") or _name_of(self.space_yaml))

    @cached_property
    def _index(self) -> dict[str, BenchEntry]:
        return {e.key: e for e in self.entries}

    def lookup(self, params: Mapping[str, Any]) -> BenchEntry:
        """The entry of an architecture given its Optuna parameters (``arch.params``)."""
        try:
            return self._index[choice_key(dict(params))]
        except KeyError:
            if self.meta.get("complete") is False:
                raise HadnasError(
                    f"architecture {dict(params)} is not in the table of {self.name!r}, which "
                    f"is partial ({len(self)} of {self.meta.get('architectures')} "
                    "architectures); finish it with `hadnas bench build SPACE.yaml -o "
                    "TABLE.json --resume`"
                ) from None
            raise HadnasError(
                f"architecture {dict(params)} is not in the table of {self.name!r}; the table "
                "was built from another version of the space: rebuild it with "
                f"`{self.meta.get('command', 'hadnas bench build SPACE.yaml -o FILE')}`"
            ) from None

    def __len__(self) -> int:
        return len(self.entries)

    def to_json(self) -> str:
        """One entry per line, so a rebuilt table diffs line by line."""
        head = json.dumps(
            {"format": FORMAT, **dict(self.meta), "space_yaml": self.space_yaml},
            indent=1,
            sort_keys=False,
        )
        rows = ",\n".join("  " + json.dumps(e.to_dict(), sort_keys=True) for e in self.entries)
        return head[:-2] + ',\n "entries": [\n' + rows + "\n ]\n}\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path


def _name_of(space_yaml: str) -> str:
    import yaml

    return str((yaml.safe_load(space_yaml) or {}).get("name", "space"))


def table_from_dict(data: Mapping[str, Any]) -> BenchTable:
    if data.get("format") != FORMAT:
        raise HadnasError(f"not a hadnas benchmark table (format {data.get('format')!r})")
    meta = {k: v for k, v in data.items() if k not in ("format", "space_yaml", "entries")}
    entries = tuple(BenchEntry.from_dict(e) for e in data["entries"])
    return BenchTable(str(data["space_yaml"]), entries, meta)


def list_tables() -> list[str]:
    """Names of the tables shipped with hadnas (``hadnas/bench/data/*.json``)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.json"))


def load_table(source: str | Path) -> BenchTable:
    """A table by shipped name (``sign-product-poly``), JSON path, or the space's YAML path.

    A YAML path selects the shipped table of the space's ``name``; if the file's text differs
    from the space the table was built from, the table's own copy is used (and said so by
    :func:`stale_warning`).
    """
    path = Path(source)
    if path.suffix == ".json" and path.is_file():
        return table_from_dict(json.loads(path.read_text(encoding="utf-8")))
    name = str(source)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        name = _name_of(path.read_text(encoding="utf-8"))
    shipped = DATA_DIR / f"{name}.json"
    if shipped.is_file():
        return table_from_dict(json.loads(shipped.read_text(encoding="utf-8")))
    known = ", ".join(list_tables()) or "none"
    raise HadnasError(
        f"no benchmark table for {str(source)!r} (shipped tables: {known}); build one with "
        f"`hadnas bench build SPACE.yaml -o TABLE.json` and pass TABLE.json"
    )


def stale_warning(table: BenchTable, source: str | Path) -> str | None:
    """A note when ``source`` is a space file whose text is not the one the table was built
    from (comments aside), else None."""
    path = Path(source)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return None
    import yaml

    if yaml.safe_load(path.read_text(encoding="utf-8")) == yaml.safe_load(table.space_yaml):
        return None
    return (
        f"{path} differs from the space the table {table.name!r} was built from; replaying "
        f"the table's copy (rebuild with: {table.meta.get('command', 'hadnas bench build')})"
    )


def finite(values: Iterable[Any]) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
