"""Test-only dataset for the distributed tests, imported by trial processes through
``"tests.distributed_tests._plugins:ctl"``.

Importing it also wraps the trial process's trainer, which reads two task options:

- ``objective: by_lr``: replace the trained ``accuracy`` by a value chosen by the trial's
  (searched) learning rate, see :data:`BY_LR`, to check how each backend records an invalid
  objective (dataset options cannot be searched themselves);
- ``hold``: a file path; after reporting epoch 1, the first trial to get there writes
  ``<hold>.held`` (holding its parent's pid: the worker or Ray actor) and waits while ``<hold>``
  exists, so a test can kill that process mid-trial. Later trials (retries) never hold.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

from hadnas.search import _child
from hadnas.tasks import Dataset

#: learning rate -> the accuracy a trial reports with ``objective: by_lr``
BY_LR: dict[float, Any] = {
    0.001: float("nan"),
    0.002: float("inf"),
    0.003: float("-inf"),
    0.004: "not a number",
    0.005: 0.5,
    0.006: None,
}


def ctl(n: int = 240, seed: int = 0, objective: str = "", hold: str = "") -> Dataset:
    """Two classes split by the sign of the first feature plus noise (as the search tests')."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return Dataset(inputs={"x": x}, y=y, kind="classification", num_classes=2)


def _held_train(original: Any) -> Any:
    def train(self: Any, model: Any, arch: Any, task: Any, data: Any, job: Any, metrics: Any):
        hold = str(task.get("hold") or "")
        if not hold:
            result = original(self, model, arch, task, data, job, metrics)
        else:
            import hadnas.tasks as tasks

            plain = tasks.train_and_evaluate

            def hold_after_first(*args: Any, on_epoch: Any = None, **kwargs: Any) -> Any:
                def on_epoch_held(epoch: int, values: dict[str, float]) -> None:
                    on_epoch(epoch, values)
                    if epoch == 1 and not os.path.exists(hold + ".held"):
                        with open(hold + ".held", "w") as fh:
                            fh.write(str(os.getppid()))
                        while os.path.exists(hold):
                            time.sleep(0.05)

                return plain(*args, on_epoch=on_epoch_held, **kwargs)

            tasks.train_and_evaluate = hold_after_first
            try:
                result = original(self, model, arch, task, data, job, metrics)
            finally:
                tasks.train_and_evaluate = plain
        if task.get("objective") == "by_lr":
            result["accuracy"] = BY_LR[round(float(task["lr"]), 6)]
        return result

    return train


# the trial process runs ``python -m hadnas.search._child``: its classes live in __main__
for _module in (sys.modules.get("__main__"), _child):
    _cls = getattr(_module, "TrialProcess", None)
    if _cls is not None and not getattr(_cls.train, "_hadnas_test_wrapped", False):
        _cls.train = _held_train(_cls.train)
        _cls.train._hadnas_test_wrapped = True  # type: ignore[attr-defined]
