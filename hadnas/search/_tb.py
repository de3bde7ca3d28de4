"""TensorBoard event files per trial: curves per epoch and one row of the hparams table.

Written by the worker after each trial into ``trials/<number>/``, one event file per trial, so
``tensorboard --logdir runs/<name>/trials`` shows every trial's curves and the HPARAMS tab
compares them. Files are readable by TensorBoard's own ``EventAccumulator``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _hparam_value(value: Any) -> bool | str | float | int:
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_trial_events(
    log_dir: Path,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, float]],
    status: str,
) -> None:
    """Per-epoch scalars (``val/…``, ``train/loss``) and an hparams row (``hparam/…``)."""
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    writer = SummaryWriter(log_dir=str(log_dir), flush_secs=3600)
    try:
        for row in history:
            step = int(row.get("epoch", 0))
            for key, value in row.items():
                if key == "epoch" or not isinstance(value, (int, float)):
                    continue
                tag = "train/loss" if key == "train_loss" else f"val/{key}"
                writer.add_scalar(tag, float(value), step)
        final = {
            f"hparam/{k}": float(v)
            for k, v in metrics.items()
            if k in ("accuracy", "loss", "r2", "latency_ms", "params", "flops")
            and isinstance(v, (int, float))
            and math.isfinite(float(v))
        }
        hp = {k: _hparam_value(v) for k, v in params.items()}
        hp["status"] = status
        exp, ssi, sei = hparams(hp, final)
        fw = writer._get_file_writer()
        for summary in (exp, ssi, sei):
            fw.add_summary(summary)
        for key, value in final.items():
            writer.add_scalar(key, value)
    finally:
        writer.close()
