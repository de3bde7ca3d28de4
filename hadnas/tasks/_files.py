"""Datasets stored in files, for users who have arrays rather than a Python function.

Layouts:

* ``.npz`` — key ``x`` (one input, named ``x``) or keys ``x_<name>`` (one input per name, e.g.
  ``x_left`` and ``x_right``), plus ``y``. Floating arrays are features (float32, standardised);
  integer arrays are tokens (int64, left alone), so cast integer-valued *features* to float
  before saving. Optional scalar keys: ``kind`` (``"classification"``/``"regression"``),
  ``num_classes``, ``target_position``.
* ``.csv`` — a header row; the target column is ``y`` or ``target`` (or the ``target=``
  option); every other column is a numeric feature of the single input ``x``. String targets
  are class labels (mapped to ids in sorted order).

Without ``kind``, integer-valued targets mean classification and anything else regression.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from hadnas.exceptions import TaskError
from hadnas.tasks._dataset import Dataset


def _infer_kind(y: np.ndarray, kind: str | None) -> str:
    if kind is not None:
        return kind
    if np.issubdtype(y.dtype, np.integer):
        return "classification"
    finite = np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y))
    return "classification" if finite and np.all(y == np.round(y)) else "regression"


def load_npz(path: str | Path, kind: str | None = None, num_classes: int | None = None) -> Dataset:
    """A dataset from a ``.npz`` file (layout in the module docstring)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise TaskError(f"cannot read dataset file {str(path)!r}: {exc}") from exc
    if "y" not in arrays:
        raise TaskError(f"{path}: missing key 'y' (keys: {', '.join(sorted(arrays))})")
    named = {k[2:]: v for k, v in arrays.items() if k.startswith("x_")}
    if "x" in arrays and named:
        raise TaskError(f"{path}: use either key 'x' or keys 'x_<input>', not both")
    inputs = {"x": arrays["x"]} if "x" in arrays else named
    if not inputs:
        raise TaskError(f"{path}: no input arrays; expected key 'x' or keys 'x_<input>'")
    y = arrays["y"]
    kind = kind or (str(arrays["kind"]) if "kind" in arrays else None)
    if num_classes is None and "num_classes" in arrays:
        num_classes = int(arrays["num_classes"])
    pos: Any = None
    if "target_position" in arrays:
        tp = np.asarray(arrays["target_position"])
        pos = int(tp) if tp.ndim == 0 else tuple(int(p) for p in tp)
    return Dataset(
        inputs=inputs,
        y=y,
        kind=_infer_kind(y, kind),  # type: ignore[arg-type]
        num_classes=num_classes,
        target_position=pos,
    )


def load_csv(
    path: str | Path,
    target: str | None = None,
    kind: str | None = None,
    num_classes: int | None = None,
) -> Dataset:
    """A dataset from a ``.csv`` file (layout in the module docstring)."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read dataset file {str(path)!r}: {exc}") from exc
    if len(rows) < 2:
        raise TaskError(f"{path}: expected a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    col = target or next((c for c in ("y", "target") if c in header), None)
    if col is None or col not in header:
        raise TaskError(
            f"{path}: no target column {col or 'y/target'!r} (columns: {', '.join(header)}); "
            f"name it 'y' or 'target', or pass the option target=<column>"
        )
    ti = header.index(col)
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    feats, labels = [], []
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise TaskError(f"{path}:{line}: {len(row)} fields, header has {len(header)}")
        try:
            feats.append([float(v) for i, v in enumerate(row) if i != ti])
        except ValueError as exc:
            raise TaskError(f"{path}:{line}: non-numeric feature ({exc})") from exc
        labels.append(row[ti].strip())
    y = _parse_labels(labels)
    return Dataset(
        inputs={"x": np.asarray(feats, dtype=np.float32)},
        y=y,
        kind=_infer_kind(y, kind),  # type: ignore[arg-type]
        num_classes=num_classes,
    )


def _parse_labels(labels: list[str]) -> np.ndarray:
    try:
        return np.asarray([float(v) for v in labels])
    except ValueError:
        classes = sorted(set(labels))
        return np.asarray([classes.index(v) for v in labels], dtype=np.int64)
