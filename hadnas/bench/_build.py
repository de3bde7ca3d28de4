"""Build a table: train every architecture of a finite space once and time it.

Training uses the task block of the space and :func:`hadnas.tasks.train_and_evaluate`, as a
search trial does, in this process with ``search.threads`` torch threads and one seed for all
architectures. Latency is measured after training, on freshly built (untrained, same cost)
models, ``chunk`` architectures at a time interleaved with the latency package's protocol, so
every model in a chunk sees the same phases of a noisy machine. A partial table is saved every
``save_every`` architectures and ``resume`` continues it.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hadnas.bench._enumerate import choice_key, enumerate_architectures
from hadnas.bench._table import BenchEntry, BenchTable, load_table
from hadnas.space import Architecture, SearchSpace, load_space

log = logging.getLogger(__name__)

_TASK_KEYS = ("dataset", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "val_fraction")
_KEEP = ("accuracy", "r2", "loss", "train_loss", "train_seconds")


def _data(arch: Architecture, seed: int, base_dir: str | None) -> Any:
    from hadnas.tasks import load_dataset, prepare

    task = dict(arch.task)
    options = {k: v for k, v in task.items() if k not in _TASK_KEYS}
    ds = load_dataset(task["dataset"], seed=seed, base_dir=base_dir, **options)
    data = prepare(ds, seed=seed, val_fraction=task.get("val_fraction"))
    data.check_inputs([(i.name, i.shape, i.dtype) for i in arch.inputs])
    return data


def train_one(arch: Architecture, data: Any, seed: int) -> tuple[str, dict[str, float]]:
    """Train one architecture as a search trial would; ``("failed", {})`` if it diverges."""
    import hadnas
    from hadnas.tasks import NonFiniteLoss, train_and_evaluate

    task = arch.task
    model = hadnas.build(arch, seed=seed)
    try:
        res = train_and_evaluate(
            model,
            data,
            input_names=arch.input_names,
            epochs=int(task["epochs"]),
            batch_size=int(task["batch_size"]),
            lr=float(task["lr"]),
            optimizer=str(task.get("optimizer", "adamw")),
            weight_decay=float(task.get("weight_decay", 0.0)),
            seed=seed,
        )
    except NonFiniteLoss as exc:
        log.info("architecture %s diverged: %s", dict(arch.params), exc)
        return "failed", {}
    return "ok", {k: round(float(res[k]), 6) for k in _KEEP if k in res}


def measure_chunk(archs: list[Architecture]) -> list[dict[str, float]]:
    """``latency_ms`` and its spread for each architecture, measured interleaved."""
    import hadnas
    from hadnas.latency import make_inputs, measure_many

    spec = archs[0].spec.latency
    cands = [(hadnas.build(a, seed=0), make_inputs(a.graph, spec.batch_size)) for a in archs]
    results = measure_many(cands, spec)
    return [{"latency_ms": round(r.ms, 6), "latency_spread": round(r.spread, 4)} for r in results]


def build_table(
    space: SearchSpace | str | Path,
    output: str | Path,
    *,
    seed: int = 0,
    max_archs: int = 2000,
    limit: int | None = None,
    resume: bool = False,
    chunk: int = 16,
    save_every: int = 25,
    command: str | None = None,
    progress: Callable[[int, int, BenchEntry], None] | None = None,
) -> BenchTable:
    """Train and time every architecture of ``space``; write the table to ``output``.

    Args:
        seed: Training seed of every architecture (the data split uses ``search.seed``).
        max_archs: Refuse a space with more architectures than this.
        limit: Only the first ``limit`` architectures (a partial table, for tests).
        resume: Keep the entries already in ``output`` and train the rest.
        command: The rebuild command recorded in the table (default: the CLI equivalent).
    """
    import torch

    import hadnas
    from hadnas.latency import fingerprint

    if not isinstance(space, SearchSpace):
        space = load_space(space)
    spec = space.spec
    text = Path(spec.file).read_text(encoding="utf-8")
    archs = list(enumerate_architectures(space, limit=max_archs))
    if limit is not None:
        archs = archs[:limit]
    done: dict[str, BenchEntry] = {}
    if resume and Path(output).is_file():
        done = {e.key: e for e in load_table(output).entries}
    base_dir = str(Path(spec.file).parent)
    threads = torch.get_num_threads()
    torch.set_num_threads(int(spec.search.threads))
    t0 = time.perf_counter()
    meta: dict[str, Any] = {
        "space": spec.name,
        "space_file": spec.file,
        "command": command or f"hadnas bench build {spec.file} -o {output}",
        "architectures": len(archs),
        "train": {"seed": seed, "data_seed": spec.search.seed, "threads": spec.search.threads,
                  "note": "one training run per architecture, the space's task block"},
        "latency": {"protocol": "hadnas.latency.measure_many, interleaved chunks of "
                    f"{chunk}", **dataclasses.asdict(spec.latency)},
        "machine": {"fingerprint": fingerprint(spec.latency.threads).to_dict(),
                    "platform": platform.platform()},
        "versions": {"hadnas": hadnas.__version__, "torch": torch.__version__},
    }  # fmt: skip
    results: dict[str, BenchEntry] = {}
    keys = [choice_key(dict(a.params)) for a in archs]

    def flush(pending: list[tuple[Architecture, str, dict[str, float]]]) -> None:
        for (a, st, m), lat in zip(pending, measure_chunk([p[0] for p in pending])):
            entry = BenchEntry(dict(a.params), {**m, **lat}, st)
            results[entry.key] = entry
            if progress is not None:
                progress(len(results), len(archs), entry)
        pending.clear()

    def table(complete: bool) -> BenchTable:
        meta["build_seconds"] = round(time.perf_counter() - t0, 1)
        meta["complete"] = complete
        return BenchTable(text, tuple(results[k] for k in keys if k in results), meta)

    try:
        data = _data(archs[0], spec.search.seed, base_dir)
        pending: list[tuple[Architecture, str, dict[str, float]]] = []
        for arch, key in zip(archs, keys):
            if key in done:
                results[key] = done[key]
                continue
            status, metrics = train_one(arch, data, seed)
            pending.append((arch, status, {**arch.graph.totals(), **metrics}))
            if len(pending) == chunk:
                flush(pending)
                if len(results) % save_every < chunk:
                    table(False).save(output)
        if pending:
            flush(pending)
    finally:
        torch.set_num_threads(threads)
    result = table(len(results) == len(archs) and limit is None)
    result.save(output)
    return result
