"""Split a :class:`Dataset` per seed, standardise on the train split, and bind space inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hadnas.exceptions import TaskError
from hadnas.tasks._dataset import Dataset, Kind, TargetPosition

DEFAULT_VAL_FRACTION = 0.2
_DTYPE_ALIASES = {"float": "float32", "int": "int64", "long": "int64"}

Declared = Sequence[tuple[str, Sequence[int], str | None]]


@dataclass(frozen=True, eq=False)
class TaskData:
    """A dataset split into train/validation tensors, ready for training.

    Float inputs are standardised per element with train-split statistics (``stats``); a
    constant feature gets std 1. Regression targets are standardised the same way
    (``y_stats``), so losses are in units of the train targets' standard deviation.
    """

    name: str
    kind: Kind
    num_classes: int | None
    target_position: TargetPosition
    train: dict[str, torch.Tensor]
    val: dict[str, torch.Tensor]
    y_train: torch.Tensor
    y_val: torch.Tensor
    train_index: np.ndarray
    val_index: np.ndarray
    stats: dict[str, tuple[np.ndarray, np.ndarray]]
    y_stats: tuple[np.ndarray, np.ndarray] | None
    seed: int

    @property
    def input_specs(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Per-sample shape and dtype of each dataset input, in the dataset's order."""
        return {k: (tuple(v.shape[1:]), _dtype_name(v.dtype)) for k, v in self.train.items()}

    def resolve(self, names: Sequence[str]) -> list[str]:
        """The dataset input bound to each declared name (a lone input binds to any name)."""
        if len(self.train) == 1 and len(names) == 1:
            return list(self.train)
        missing = [n for n in names if n not in self.train]
        if missing:
            self._fail([f"the dataset has no input {m!r}" for m in missing], None)
        return list(names)

    def check_inputs(self, declared: Declared) -> dict[str, str]:
        """Check the space's ``(name, shape, dtype)`` inputs; return declared -> dataset name.

        Inputs match by name, except that a dataset with exactly one input binds to a single
        declared input whatever its name. The space may leave dataset inputs unused.
        """
        problems: list[str] = []
        names = [d[0] for d in declared]
        if not names:
            problems.append("the space declares no inputs")
        elif len(self.train) == 1 and len(names) == 1:
            bound = list(self.train)
        else:
            bound = names
            problems += [f"the dataset has no input {n!r}" for n in names if n not in self.train]
        if len(set(names)) != len(names):
            problems.append("the space declares the same input twice")
        if not problems:
            specs = self.input_specs
            for (name, shape, dtype), src in zip(declared, bound):
                want_shape, want_dtype = specs[src]
                got = _norm_dtype(dtype)
                label = f"input {name!r}" + (
                    f" (bound to the dataset's {src!r})" if src != name else ""
                )
                if tuple(int(s) for s in shape) != want_shape:
                    problems.append(
                        f"{label} is declared with shape {list(shape)}, "
                        f"but the dataset's is {list(want_shape)}"
                    )
                if got != want_dtype:
                    problems.append(
                        f"{label} is declared {got}, but the dataset's is {want_dtype}"
                    )
        if problems:
            self._fail(problems, declared)
        return dict(zip(names, bound))

    def _fail(self, problems: list[str], declared: Declared | None) -> None:
        provided = ", ".join(f"{k} {_fmt_spec(*v)}" for k, v in self.input_specs.items())
        hint = ", ".join(
            f"{k}: {{shape: {list(s)}" + (", dtype: int64}" if d == "int64" else "}")
            for k, (s, d) in self.input_specs.items()
        )
        lines = [f"dataset {self.name!r} does not match the space's inputs:"]
        lines += [f"  - {p}" for p in problems]
        lines.append(f"The dataset provides: {provided}.")
        if declared is not None:
            shown = ", ".join(f"{n} {_fmt_spec(tuple(s), _norm_dtype(d))}" for n, s, d in declared)
            lines.append(f"The space declares: {shown or 'nothing'}.")
        lines.append(
            f"To fix it, declare `inputs: {{{hint}}}` in the space, "
            "or choose a dataset whose inputs match."
        )
        raise TaskError("\n".join(lines))

    def tensors(self, split: str, names: Sequence[str]) -> list[torch.Tensor]:
        """The ``split`` ("train" or "val") input tensors in the declared ``names`` order."""
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        source = self.train if split == "train" else self.val
        return [source[n] for n in self.resolve(names)]

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_val(self) -> int:
        return len(self.y_val)


def prepare(dataset: Dataset, seed: int = 0, val_fraction: float | None = None) -> TaskData:
    """Split ``dataset`` with a per-seed permutation and standardise on the train split.

    Classification is split stratified (when every class has two samples and ``y`` is 1-D).
    ``val_fraction`` defaults to the dataset's own preference, else 0.2.
    """
    frac = val_fraction if val_fraction is not None else dataset.val_fraction
    frac = DEFAULT_VAL_FRACTION if frac is None else frac
    if not 0.0 < frac < 1.0:
        raise TaskError(f"val_fraction must be in (0, 1), got {frac}")
    train_idx, val_idx = _split(dataset, seed, frac)
    stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    train: dict[str, torch.Tensor] = {}
    val: dict[str, torch.Tensor] = {}
    for name, arr in dataset.inputs.items():
        tr, va = arr[train_idx], arr[val_idx]
        if arr.dtype == np.float32:
            mean, std = _moments(tr)
            stats[name] = (mean, std)
            tr, va = (tr - mean) / std, (va - mean) / std
        train[name], val[name] = (
            torch.from_numpy(np.ascontiguousarray(tr)),
            torch.from_numpy(np.ascontiguousarray(va)),
        )
    y_tr, y_va = dataset.y[train_idx], dataset.y[val_idx]
    y_stats = None
    if dataset.kind == "regression":
        y_stats = _moments(y_tr)
        y_tr, y_va = (y_tr - y_stats[0]) / y_stats[1], (y_va - y_stats[0]) / y_stats[1]
    return TaskData(
        name=dataset.name,
        kind=dataset.kind,
        num_classes=dataset.num_classes,
        target_position=dataset.target_position,
        train=train,
        val=val,
        y_train=torch.from_numpy(np.ascontiguousarray(y_tr)),
        y_val=torch.from_numpy(np.ascontiguousarray(y_va)),
        train_index=train_idx,
        val_index=val_idx,
        stats=stats,
        y_stats=y_stats,
        seed=seed,
    )


def _split(dataset: Dataset, seed: int, frac: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(dataset)
    n_val = int(round(n * frac))
    if n < 2 or not 1 <= n_val < n:
        raise TaskError(
            f"dataset {dataset.name!r}: {n} samples cannot be split with val_fraction={frac}"
        )
    rng = np.random.default_rng(seed)
    y = dataset.y
    if dataset.kind == "classification" and y.ndim == 1:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            return _stratified(rng, y, classes, counts, n_val)
    perm = rng.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _stratified(
    rng: np.random.Generator, y: np.ndarray, classes: np.ndarray, counts: np.ndarray, n_val: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class validation quotas by largest remainder, so class shares match the whole set."""
    exact = counts * n_val / len(y)
    quota = np.floor(exact).astype(int)
    extra = n_val - quota.sum()
    order = np.lexsort((rng.random(len(classes)), -(exact - quota)))  # ties broken by the seed
    quota[order[:extra]] += 1
    quota = np.minimum(quota, counts - 1)  # keep every class in the train split
    val = [rng.permutation(np.flatnonzero(y == c))[:q] for c, q in zip(classes, quota)]
    val_idx = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64)
    std = np.where(std < 1e-8, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def _norm_dtype(dtype: str | None) -> str:
    d = "float32" if dtype is None else str(dtype).removeprefix("torch.")
    return _DTYPE_ALIASES.get(d, d)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _fmt_spec(shape: tuple[int, ...], dtype: str) -> str:
    return f"(shape {list(shape)}, {dtype})"
