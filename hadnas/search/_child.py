"""The trial process: a long-lived child that builds, times and trains architectures.

Started once per worker (``python -m hadnas.search._child FD``) and reused across trials, so
importing torch and loading the dataset are paid once, not per trial. It is killed and
restarted only after a timeout, a crash or an out-of-memory kill. It dies with its parent
(``PR_SET_PDEATHSIG`` plus a watchdog), ignores SIGINT (the parent decides), and limits its
address space with ``RLIMIT_AS`` when a memory limit is given.

Protocol (pickled tuples over a socket): parent sends ``("job", dict)`` or ``("stop",)``;
child answers ``("pre", metrics)`` (then waits for ``"go"``/``"skip"`` when asked to),
``("epoch", n, metrics)`` (then waits for ``"continue"``/``"prune"`` when pruning), and ends
each job with ``("done", metrics)``, ``("pruned", metrics)``, ``("skipped", metrics)`` or
``("error", reason, message, metrics)``.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

_TASK_KEYS = ("dataset", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "val_fraction")
_OOM_TEXT = ("can't allocate memory", "out of memory", "cannot allocate memory")


class _Fixed:
    """A trial that answers every ``suggest_*`` from recorded parameters (no Optuna needed)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self.params[name]

    def suggest_int(self, name: str, *args: Any, **kwargs: Any) -> int:
        return int(self.params[name])

    def suggest_float(self, name: str, *args: Any, **kwargs: Any) -> float:
        return float(self.params[name])


class _Stop(Exception):
    """The parent asked to skip (infeasible) or prune the job."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


def _die_with_parent() -> None:
    parent = os.getppid()
    try:  # Linux: the kernel kills us when the parent dies
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="hadnas-parent-watch").start()
    if os.getppid() != parent:
        os._exit(1)


def _limit_memory(limit_mb: int) -> None:
    """Cap the address space at what the imports took plus ``limit_mb``."""
    with open("/proc/self/statm") as fh:
        vm_bytes = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = vm_bytes + limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


class TrialProcess:
    """Runs jobs sent by the parent; caches prepared datasets across jobs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.data_cache: dict[str, Any] = {}
        self.spaces: dict[tuple[str, str], Any] = {}

    def serve(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "stop":
                return
            self.conn.send(self.run_job(msg[1]))

    def run_job(self, job: dict[str, Any]) -> tuple[Any, ...]:
        import torch

        from hadnas.exceptions import TaskError
        from hadnas.tasks import NonFiniteLoss, total_steps

        metrics: dict[str, Any] = {}
        steps0 = total_steps()
        try:
            kind = self._run(job, metrics)
            return (kind, metrics)
        except _Stop as stop:
            return (stop.kind, metrics)
        except NonFiniteLoss as exc:
            metrics.update(step=exc.step, epoch=exc.epoch, what=exc.what)
            return ("error", "non_finite_loss", str(exc), metrics)
        except (MemoryError, torch.OutOfMemoryError) as exc:
            return ("error", "oom", f"{type(exc).__name__}: {exc}", metrics)
        except TaskError as exc:
            metrics["fatal"] = "data" in metrics.get("phase", "")
            return ("error", "exception", str(exc), metrics)
        except Exception as exc:  # a trial's failure must never kill the worker
            if isinstance(exc, RuntimeError) and any(t in str(exc) for t in _OOM_TEXT):
                return ("error", "oom", f"{type(exc).__name__}: {exc}", metrics)
            tb = traceback.format_exc(limit=-8)
            return ("error", "exception", f"{type(exc).__name__}: {exc}\n{tb}", metrics)
        finally:
            metrics["steps"] = total_steps() - steps0

    def _run(self, job: dict[str, Any], metrics: dict[str, Any]) -> str:
        import torch

        from hadnas.build import build
        from hadnas.space import load_space

        t0 = time.perf_counter()
        torch.set_num_threads(int(job["threads"]))
        metrics["phase"] = "load"
        if job.get("space_text") is not None:  # resolve the parameters in the space (fast)
            key = (job["source"], job["space_text"])
            if key not in self.spaces:
                self.spaces[key] = load_space(job["source"], text=job["space_text"], check=False)
            arch = self.spaces[key].suggest(_Fixed(job["params"]))
        else:
            arch = load_space(job["source"], text=job["arch_yaml"], check=False).architecture()
        task = dict(arch.task)
        metrics["phase"] = "data"
        data = self.dataset(task, job)
        data.check_inputs([(i.name, i.shape, i.dtype) for i in arch.inputs])
        t1 = time.perf_counter()
        metrics["phase"] = "build"
        model = build(arch, seed=int(job["seed"]))
        t2 = time.perf_counter()
        if job["latency"]:
            metrics["phase"] = "latency"
            from hadnas.search._latency import latency_metrics

            metrics.update(latency_metrics(arch, model))
            torch.set_num_threads(int(job["threads"]))
        t3 = time.perf_counter()
        metrics.update(data_seconds=t1 - t0, build_seconds=t2 - t1, latency_seconds=t3 - t2)
        if job["wait_pre"]:
            self.conn.send(("pre", dict(metrics)))
            if self.conn.recv()[0] == "skip":
                raise _Stop("skipped")
        metrics["phase"] = "train"
        result = self.train(model, arch, task, data, job, metrics)
        metrics.update(result)
        metrics.pop("phase", None)
        if job.get("weights"):
            t4 = time.perf_counter()
            from safetensors.torch import save_file

            state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
            Path(job["weights"]).parent.mkdir(parents=True, exist_ok=True)
            save_file(state, job["weights"])
            from hadnas.export._train import PREPROCESS_FILE, _input_stats

            stats = _input_stats(data, arch)  # exports need the training standardisation
            if stats:
                save_file(stats, str(Path(job["weights"]).with_name(PREPROCESS_FILE)),
                          metadata={"format": "pt"})  # fmt: skip
            metrics["save_seconds"] = time.perf_counter() - t4
        return "done"

    def dataset(self, task: dict[str, Any], job: dict[str, Any]) -> Any:
        from hadnas.tasks import load_dataset, prepare

        options = {k: v for k, v in task.items() if k not in _TASK_KEYS}
        key = json.dumps(
            [
                task["dataset"],
                options,
                job["data_seed"],
                task.get("val_fraction"),
                job["base_dir"],
            ],
            sort_keys=True,
            default=str,
        )
        if key not in self.data_cache:
            ds = load_dataset(
                task["dataset"], seed=int(job["data_seed"]), base_dir=job["base_dir"], **options
            )
            self.data_cache[key] = prepare(
                ds, seed=int(job["data_seed"]), val_fraction=task.get("val_fraction")
            )
        return self.data_cache[key]

    def train(
        self,
        model: Any,
        arch: Any,
        task: dict[str, Any],
        data: Any,
        job: dict[str, Any],
        metrics: dict[str, Any],
    ) -> dict[str, Any]:
        from hadnas.tasks import train_and_evaluate

        def on_epoch(epoch: int, values: dict[str, float]) -> None:
            self.conn.send(("epoch", epoch, values))
            if job["pruning"] and self.conn.recv()[0] == "prune":
                metrics.update(values, epochs_run=epoch)
                raise _Stop("pruned")

        return train_and_evaluate(
            model,
            data,
            input_names=arch.input_names,
            epochs=int(task["epochs"]),
            batch_size=int(task["batch_size"]),
            lr=float(task["lr"]),
            optimizer=str(task.get("optimizer", "adamw")),
            weight_decay=float(task.get("weight_decay", 0.0)),
            seed=int(job["seed"]),
            on_epoch=on_epoch,
        )


def _warm_up() -> None:
    """One optimizer step on a toy model: the first one in a process loads lazy torch modules
    (seconds), which would otherwise be charged to the first trial."""
    import torch

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.zeros(1, 2)).sum().backward()
    opt.step()


def main(argv: list[str]) -> int:
    fd, plugins, memory_mb = int(argv[0]), json.loads(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    conn = Connection(fd)
    import torch  # noqa: F401  (paid once, before the memory cap and the first job)

    import hadnas.build  # noqa: F401
    import hadnas.tasks  # noqa: F401

    for module in plugins:
        importlib.import_module(module)
    _warm_up()
    if memory_mb > 0:
        _limit_memory(memory_mb)
    conn.send(("ready", os.getpid()))
    TrialProcess(conn).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
