"""Build a table: train every architecture of a finite space once and time it.

Training uses the task block of the space and :func:`hadnas.tasks.train_and_evaluate`, as a
search trial does, in this process with ``search.threads`` torch threads and one seed for all
architectures. A partial table is saved as training goes; ``resume`` continues it.

Latency is measured afterwards on freshly built models (untrained, same cost), ``chunk`` at a
time interleaved with the latency package's protocol. A shared machine drifts between slow and
fast phases, which would rank two equal-cost models measured minutes apart differently, so
every chunk also times a fixed reference model: an architecture's ``latency_ms`` is its ratio
to the reference in its chunk times the reference's median time, and the median over
``passes`` passes, each in a new random chunking.
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


def measure_latency(
    archs: list[Architecture], *, chunk: int = 24, passes: int = 3, seed: int = 0
) -> list[dict[str, float]]:
    """Reference-normalised ``latency_ms`` (and the spread over passes) of each architecture.

    The reference is ``archs[0]``; each pass shuffles the others into chunks of ``chunk``.
    """
    import random
    import statistics

    import hadnas
    from hadnas.latency import make_inputs, measure_many

    spec = archs[0].spec.latency

    def cand(a: Architecture) -> tuple[Any, list[Any]]:
        return hadnas.build(a, seed=0), make_inputs(a.graph, spec.batch_size)

    ref = cand(archs[0])
    ratios: list[list[float]] = [[] for _ in archs]
    ref_ms: list[float] = []
    rng = random.Random(seed)
    for _ in range(passes):
        order = list(range(len(archs)))
        rng.shuffle(order)
        for k in range(0, len(order), chunk):
            part = order[k : k + chunk]
            res = measure_many([ref, *(cand(archs[i]) for i in part)], spec)
            ref_ms.append(res[0].ms)
            for i, r in zip(part, res[1:]):
                ratios[i].append(r.ms / res[0].ms)
    nominal = statistics.median(ref_ms)
    out = []
    for rs in ratios:
        med = statistics.median(rs)
        spread = (max(rs) - min(rs)) / med if med > 0 else 0.0
        out.append({"latency_ms": round(med * nominal, 6), "latency_spread": round(spread, 4)})
    return out


def build_table(
    space: SearchSpace | str | Path,
    output: str | Path,
    *,
    seed: int = 0,
    max_archs: int = 2000,
    limit: int | None = None,
    resume: bool = False,
    chunk: int = 24,
    passes: int = 3,
    save_every: int = 25,
    command: str | None = None,
    progress: Callable[[int, int, BenchEntry], None] | None = None,
) -> BenchTable:
    """Train and time every architecture of ``space``; write the table to ``output``.

    Args:
        seed: Training seed of every architecture (the data split uses ``search.seed``).
        max_archs: Refuse a space with more architectures than this.
        limit: Only the first ``limit`` architectures (a partial table, for tests).
        resume: Keep the trained entries already in ``output`` and train the rest (latency
            is measured again for all: it is cheap, and must be measured together).
        chunk: Architectures per interleaved latency measurement (plus the reference).
        passes: Latency passes; the median ratio to the reference is kept.
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
    before = 0.0
    if resume and Path(output).is_file():
        previous = load_table(output)
        done = {e.key: e for e in previous.entries}
        before = float(previous.meta.get("build_seconds", 0.0)) - float(
            previous.meta.get("latency", {}).get("seconds", 0.0)
        )
    base_dir = str(Path(spec.file).parent)
    threads = torch.get_num_threads()
    torch.set_num_threads(int(spec.search.threads))
    t0 = time.perf_counter()
    meta: dict[str, Any] = {
        "space": spec.name,
        "space_file": spec.file,
        "command": command or f"hadnas bench build {spec.file} -o {output}",
        "architectures": len(archs),
        "train": {
            "seed": seed,
            "data_seed": spec.search.seed,
            "threads": spec.search.threads,
            "note": "one training run per architecture, the space's task block",
        },
        "latency": {
            "protocol": f"hadnas.latency.measure_many, interleaved chunks of {chunk} "
            "plus a reference model (the first architecture); latency_ms = median over "
            f"{passes} passes of the ratio to the reference x its median ms",
            **dataclasses.asdict(spec.latency),
        },
        "machine": {
            "fingerprint": fingerprint(spec.latency.threads).to_dict(),
            "platform": platform.platform(),
        },
        "versions": {"hadnas": hadnas.__version__, "torch": torch.__version__},
    }
    results: dict[str, BenchEntry] = {}
    keys = [choice_key(dict(a.params)) for a in archs]

    def table(complete: bool) -> BenchTable:
        meta["build_seconds"] = round(time.perf_counter() - t0 + before, 1)
        meta["complete"] = complete
        return BenchTable(text, tuple(results[k] for k in keys if k in results), meta)

    try:
        data = _data(archs[0], spec.search.seed, base_dir)
        for n, (arch, key) in enumerate(zip(archs, keys), 1):
            if key in done:
                results[key] = done[key]
                continue
            status, metrics = train_one(arch, data, seed)
            results[key] = BenchEntry(
                dict(arch.params), {**arch.graph.totals(), **metrics}, status
            )
            if progress is not None:
                progress(n, len(archs), results[key])
            if n % save_every == 0:
                table(False).save(output)
        t1 = time.perf_counter()
        timed = measure_latency(archs, chunk=chunk, passes=passes)
        for key, lat in zip(keys, timed):
            e = results[key]
            results[key] = BenchEntry(e.choices, {**e.metrics, **lat}, e.status)
        meta["latency"]["seconds"] = round(time.perf_counter() - t1, 1)
    finally:
        torch.set_num_threads(threads)
    result = table(len(results) == len(archs) and limit is None)
    result.save(output)
    return result
