"""Train a model on a :class:`TaskData` and report validation metrics.

Training is deterministic under ``seed`` (global torch seed for dropout and the like, a private
``torch.Generator`` for shuffling; no worker processes). Every loss and gradient is checked, so
a diverging run stops before a non-finite update is applied and raises :class:`NonFiniteLoss`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from hadnas.exceptions import TaskError
from hadnas.tasks._errors import NonFiniteLoss
from hadnas.tasks._prepare import TaskData

OPTIMIZERS = ("adamw", "adam", "sgd")
STEP_LOG_ENV = "HADNAS_STEP_LOG"
"""If set, a file that gets one JSON line when a training run takes its first step and one when
it ends, so a test can check across processes that no training step ran."""

_total_steps = 0


def total_steps() -> int:
    """Optimizer steps taken by :func:`train_and_evaluate` in this process so far."""
    return _total_steps


def _log_step_event(event: str, **fields: Any) -> None:
    path = os.environ.get(STEP_LOG_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n")


def make_optimizer(
    name: str, params: Sequence[nn.Parameter], lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    """``adamw``, ``adam``, or ``sgd`` (momentum 0.9)."""
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    close = difflib.get_close_matches(str(name), OPTIMIZERS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TaskError(f"unknown optimizer {name!r}{hint} (known: {', '.join(OPTIMIZERS)})")


def select_outputs(out: torch.Tensor, y: torch.Tensor, data: TaskData) -> torch.Tensor:
    """The part of a model output that is scored against ``y``.

    A sequence output ``(B, T, C)`` is read at ``data.target_position`` (default -1) for
    classification; ``(B, C)`` is used as is. Regression outputs are reshaped to ``y``'s shape.
    """
    if data.kind == "classification":
        if out.dim() == 3:
            pos = -1 if data.target_position is None else data.target_position
            out = out[:, list(pos), :] if isinstance(pos, tuple) else out[:, pos, :]
        want = (*y.shape, out.shape[-1])
        if out.dim() != y.dim() + 1 or tuple(out.shape) != want:
            raise TaskError(
                f"the model's output {list(out.shape)} cannot be scored against targets "
                f"{list(y.shape)} of dataset {data.name!r}; expected (B, C)"
                + (" or (B, T, C)" if data.target_position is not None else "")
            )
        if data.num_classes is not None and out.shape[-1] < data.num_classes:
            raise TaskError(
                f"the model emits {out.shape[-1]} class scores but dataset {data.name!r} has "
                f"{data.num_classes} classes; set the output layer's width to {data.num_classes}"
            )
        return out
    if out.dim() == 3 and data.target_position is not None:
        pos = data.target_position
        out = out[:, list(pos), :] if isinstance(pos, tuple) else out[:, pos, :]
    if out.numel() != y.numel():
        raise TaskError(
            f"the model's output {list(out.shape)} does not match regression targets "
            f"{list(y.shape)} of dataset {data.name!r}; the output layer should emit "
            f"{1 if y.dim() == 1 else y.shape[-1]} value(s) per sample"
        )
    return out.reshape(y.shape)


def _loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    out = out.float()  # reduced-precision outputs still get a float32 loss
    if kind == "classification":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.mse_loss(out, y)


@torch.no_grad()
def evaluate(
    model: nn.Module, data: TaskData, input_names: Sequence[str], batch_size: int = 1024
) -> dict[str, float]:
    """Validation ``loss`` and ``accuracy`` (classification) or ``r2`` (regression)."""
    was_training = model.training
    model.eval()
    device = _device(model)
    xs = data.tensors("val", input_names)
    outs = []
    for i in range(0, data.n_val, batch_size):
        batch = [x[i : i + batch_size].to(device) for x in xs]
        y = data.y_val[i : i + batch_size].to(device)
        outs.append(select_outputs(model(*batch), y, data).float().cpu())
    model.train(was_training)
    out, y = torch.cat(outs), data.y_val
    loss = float(_loss(out, y, data.kind))
    if data.kind == "classification":
        return {"accuracy": float((out.argmax(-1) == y).float().mean()), "loss": loss}
    sst = ((y - y.mean(0)) ** 2).sum(0).clamp_min(1e-12)
    r2 = 1.0 - ((y - out) ** 2).sum(0) / sst
    return {"r2": float(r2.mean()), "loss": loss}


def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _grad_norm(params: Sequence[nn.Parameter]) -> float:
    """Largest gradient entry: the max norm is non-finite exactly when some entry is (the
    2-norm could overflow on large finite gradients). One device sync per step."""
    grads = [p.grad for p in params if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads, norm_type=math.inf)) if grads else 0.0


def train_and_evaluate(
    model: nn.Module,
    data: TaskData,
    *,
    input_names: Sequence[str],
    epochs: int,
    batch_size: int,
    lr: float,
    optimizer: str = "adamw",
    weight_decay: float = 0.0,
    seed: int = 0,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Train ``model`` (called as ``model(*inputs in input_names order)``) and validate it.

    Cross-entropy for classification, MSE for regression. ``on_epoch(epoch, metrics)`` runs
    after each epoch (numbered from 1) with the validation metrics plus ``train_loss``; it may
    raise (e.g. ``optuna.TrialPruned``) to stop. ``max_seconds`` is a soft budget checked
    after every step (the hard limit belongs to the trial's process). Returns the final
    validation metrics (``accuracy`` or ``r2``, and ``loss``) plus ``train_loss``,
    ``epochs_run``, ``steps``, ``train_seconds`` and ``time_limited``.

    Raises:
        NonFiniteLoss: a training loss or gradient, or the validation loss, is NaN or infinite.
        TaskError: the model's outputs cannot be scored against the dataset's targets.
    """
    global _total_steps
    if epochs < 0 or batch_size < 1 or not lr > 0:
        raise TaskError(
            f"need epochs >= 0, batch_size >= 1 and lr > 0, got {epochs=}, {batch_size=}, {lr=}"
        )
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    device = _device(model)
    xs = [x.to(device) for x in data.tensors("train", input_names)]
    ys = data.y_train.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(optimizer, params, lr, weight_decay) if params else None
    step, epochs_run, train_loss, time_limited = 0, 0, math.nan, False
    metrics: dict[str, float] | None = None
    start = time.perf_counter()
    model.train()
    try:
        for epoch in range(1, epochs + 1 if opt is not None else 1):
            perm = torch.randperm(data.n_train, generator=gen).to(device)
            total, seen = 0.0, 0
            for idx in perm.split(batch_size):
                y = ys[idx]
                loss = _loss(select_outputs(model(*(x[idx] for x in xs)), y, data), y, data.kind)
                step += 1
                value = loss.item()
                if not math.isfinite(value):
                    raise NonFiniteLoss(step, epoch, value, "loss")
                opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]
                loss.backward()
                gnorm = _grad_norm(params)
                if not math.isfinite(gnorm):
                    raise NonFiniteLoss(step, epoch, gnorm, "gradient")
                opt.step()  # type: ignore[union-attr]
                _total_steps += 1
                if step == 1:
                    _log_step_event("first_step")
                total, seen = total + value * len(idx), seen + len(idx)
                if max_seconds is not None and time.perf_counter() - start > max_seconds:
                    time_limited = True
                    break
            epochs_run, train_loss = epoch, total / max(seen, 1)
            metrics = _checked_eval(model, data, input_names, step, epoch)
            if on_epoch is not None:
                on_epoch(epoch, {**metrics, "train_loss": train_loss})
            if time_limited:
                break
    finally:
        if step:
            _log_step_event("end", steps=step)
    if metrics is None:  # nothing trained (no epochs, or no trainable parameters)
        metrics = _checked_eval(model, data, input_names, step, epochs_run)
    return {
        **metrics,
        "train_loss": train_loss,
        "epochs_run": epochs_run,
        "steps": step,
        "train_seconds": time.perf_counter() - start,
        "time_limited": time_limited,
    }


def _checked_eval(
    model: nn.Module, data: TaskData, input_names: Sequence[str], step: int, epoch: int
) -> dict[str, float]:
    metrics = evaluate(model, data, input_names)
    if not math.isfinite(metrics["loss"]):
        raise NonFiniteLoss(step, epoch, metrics["loss"], "validation loss")
    return metrics
