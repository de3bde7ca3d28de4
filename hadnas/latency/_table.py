"""The per-device latency table: profile data plus the fitted predictors, cached as JSON.

One file per device fingerprint, ``runs/latency/<fingerprint id>.json``. Profiling a second
space adds only the op configurations not yet in the file, and refits the predictors on all
whole-model samples, so the table grows into one per device rather than one per space.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadnas.exceptions import HadnasError
from hadnas.latency._base import GraphSample, OpEntry, ProfileData
from hadnas.latency._fingerprint import Fingerprint, fingerprint
from hadnas.latency._keys import graph_keys
from hadnas.latency._models import MODELS, FlopsLinearModel, LUTModel

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph
    from hadnas.space import Architecture

FORMAT = 1
DEFAULT_DIR = Path("runs") / "latency"
_LOADED: dict[tuple[str, float], LatencyTable] = {}


class LatencyTable:
    """Profile data, the fitted :class:`LUTModel` and :class:`FlopsLinearModel`, and where
    they are valid (``fingerprint``)."""

    def __init__(
        self,
        fp: Fingerprint,
        data: ProfileData | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.fingerprint = fp
        self.data = data or ProfileData()
        self.settings = dict(settings or {})
        self.lut = LUTModel()
        self.flops_linear = FlopsLinearModel()
        self.path: Path | None = None

    def fit(self) -> LatencyTable:
        self.lut.fit(self.data)
        self.flops_linear.fit(self.data)
        return self

    def predict(self, graph: ArchGraph, batch_size: int = 1) -> float:
        return self.lut.predict(graph, batch_size)

    def coverage(self, graph: ArchGraph, batch_size: int = 1) -> float:
        """Share of live nodes whose configuration was profiled (the rest are interpolated)."""
        keys = graph_keys(graph, batch_size)
        return sum(self.lut.covers(k) for k in keys) / max(len(keys), 1)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "fingerprint": self.fingerprint.to_dict(),
            "settings": self.settings,
            "ops": {k: asdict(e) for k, e in sorted(self.data.ops.items())},
            "graphs": [asdict(g) for g in self.data.graphs],
            "models": {m.name: m.to_dict() for m in (self.lut, self.flops_linear)},
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LatencyTable:
        if raw.get("format") != FORMAT:
            raise HadnasError(
                f"unsupported latency table format {raw.get('format')!r}; "
                "re-run `hadnas latency profile`"
            )
        data = ProfileData(
            ops={k: OpEntry(**v) for k, v in raw.get("ops", {}).items()},
            graphs=[
                GraphSample(**{**g, "nodes": [tuple(n) for n in g["nodes"]]})
                for g in raw.get("graphs", [])
            ],
        )
        table = cls(Fingerprint.from_dict(raw["fingerprint"]), data, raw.get("settings"))
        models = raw.get("models", {})
        for model in (table.lut, table.flops_linear):
            if model.name in models:
                model.fit_nodes(data)  # the per-op part is cheap and derived from the data
                model.load_dict(models[model.name])
            else:
                model.fit(data)
        return table

    def save(self, path: str | Path | None = None) -> Path:
        """Write atomically (a temp file then rename) so a concurrent reader never sees half."""
        target = Path(path) if path is not None else table_path(self.fingerprint)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, target)
        self.path = target
        return target

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        """Load a table file; loaded tables are memoised by path and modification time."""
        p = Path(path)
        try:
            stamp = (str(p.resolve()), p.stat().st_mtime)
        except OSError as exc:
            raise HadnasError(
                f"{p}: no latency table ({exc.strerror}); build one with "
                "`hadnas latency profile SPACE.yaml`"
            ) from None
        if stamp not in _LOADED:
            table = cls.from_dict(json.loads(p.read_text(encoding="utf-8")))
            table.path = p
            _LOADED[stamp] = table
        return _LOADED[stamp]


def table_path(fp: Fingerprint, root: str | Path | None = None) -> Path:
    """``<root>/<fingerprint id>.json``; root defaults to ``runs/latency`` (or
    ``$HADNAS_LATENCY_DIR``)."""
    base = (
        Path(root) if root is not None else Path(os.environ.get("HADNAS_LATENCY_DIR", DEFAULT_DIR))
    )
    return base / f"{fp.id}.json"


def load_table(
    threads: int = 1, device: str = "cpu", root: str | Path | None = None
) -> LatencyTable:
    """The cached table of this machine for ``threads`` on ``device`` (raises if missing)."""
    return LatencyTable.load(table_path(fingerprint(threads, device), root))


def predict_arch(
    arch_or_graph: Architecture | ArchGraph,
    table: LatencyTable | None = None,
    *,
    batch_size: int | None = None,
) -> float:
    """Predicted latency in ms (stable API used by search for ``mode: predict``/``both``).

    Args:
        arch_or_graph: an :class:`~hadnas.Architecture` or its graph.
        table: a :class:`LatencyTable`; default: this machine's cached table for the
            architecture's ``latency.threads`` (``hadnas latency profile`` builds it).
        batch_size: default the architecture's ``latency.batch_size`` (else 1).

    Nothing is built and torch never runs: the cost is one dictionary lookup per live node.
    """
    from hadnas.ir import ArchGraph

    spec = None if isinstance(arch_or_graph, ArchGraph) else arch_or_graph.spec.latency
    graph = arch_or_graph if isinstance(arch_or_graph, ArchGraph) else arch_or_graph.graph
    if table is None:
        table = load_table(spec.threads if spec is not None else 1)
    batch = batch_size if batch_size is not None else (spec.batch_size if spec else 1)
    return table.predict(graph, batch)


__all__ = ["LatencyTable", "MODELS", "load_table", "predict_arch", "table_path"]
