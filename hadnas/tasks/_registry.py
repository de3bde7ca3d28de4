"""Dataset lookup: registered names, ``hadnas.datasets`` entry points, ``pkg.mod:fn``, files.

A dataset function takes keyword options plus ``seed`` and returns a :class:`Dataset`. Options
are checked against its signature, so a typo in a space's ``task:`` section is reported with the
accepted names instead of surfacing as a ``TypeError`` deep inside a trial.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import inspect
import warnings
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from hadnas.exceptions import TaskError
from hadnas.tasks import _files
from hadnas.tasks._dataset import Dataset

DatasetFn = Callable[..., Dataset]
F = TypeVar("F", bound=DatasetFn)

ENTRY_POINT_GROUP = "hadnas.datasets"
FILE_SUFFIXES = (".npz", ".csv")

_REGISTRY: dict[str, DatasetFn] = {}
_ENTRY_POINTS: dict[str, metadata.EntryPoint] | None = None  # read once, loaded on use


def register_dataset(name: str | None = None) -> Callable[[F], F]:
    """Decorator registering a dataset function under ``name`` (default: its ``__name__``).

    Re-registering a name warns and replaces the earlier function, so a plugin can deliberately
    shadow a built-in while an accidental clash stays visible.
    """

    def deco(fn: F) -> F:
        key = name or fn.__name__
        if not key.isidentifier():
            raise ValueError(f"dataset name must be an identifier, got {key!r}")
        old = _REGISTRY.get(key)
        if old is not None and old is not fn:
            warnings.warn(
                f"dataset {key!r} is already registered by {old.__module__}.{old.__qualname__}; "
                f"{fn.__module__}.{fn.__qualname__} replaces it",
                stacklevel=2,
            )
        _REGISTRY[key] = fn
        return fn

    return deco


def _entry_points() -> dict[str, metadata.EntryPoint]:
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        _ENTRY_POINTS = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return _ENTRY_POINTS


def _reset_entry_points() -> None:
    """Forget the entry points read so far (tests install plugins at run time)."""
    global _ENTRY_POINTS
    _ENTRY_POINTS = None


def list_datasets(pattern: str = "*") -> list[str]:
    """Sorted names of registered and entry-point datasets matching a glob ``pattern``."""
    names = set(_REGISTRY) | set(_entry_points())
    return sorted(n for n in names if fnmatch.fnmatch(n, pattern))


def get_dataset(name: str, *, base_dir: str | Path | None = None) -> DatasetFn:
    """The dataset function for ``name``.

    ``name`` is tried, in order, as: a path ending in ``.npz``/``.csv`` (relative to
    ``base_dir``, e.g. the space file's folder, else the working directory); a registered name;
    ``"package.module:function"``; an entry point of the ``hadnas.datasets`` group.
    """
    if not isinstance(name, str) or not name:
        raise TaskError(f"a dataset must be a non-empty string, got {name!r}")
    if name.lower().endswith(FILE_SUFFIXES):
        path = Path(name).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise TaskError(f"dataset file {str(path)!r} does not exist")
        loader = _files.load_npz if path.suffix.lower() == ".npz" else _files.load_csv
        return partial(loader, path)
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        return _import_function(name)
    eps = _entry_points()
    if name in eps:
        return _load_entry_point(eps[name])
    known = list_datasets()
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise TaskError(
        f"unknown dataset {name!r}{hint} (known datasets: {', '.join(known)}; or give "
        f"'package.module:function', or a .npz/.csv file)"
    )


def _import_function(spec: str) -> DatasetFn:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise TaskError(f"dataset {spec!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TaskError(f"dataset {spec!r}: cannot import module {module_name!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TaskError(f"dataset {spec!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise TaskError(f"dataset {spec!r} is not callable")
    return obj


def _load_entry_point(ep: metadata.EntryPoint) -> DatasetFn:
    try:
        obj = ep.load()
    except Exception as exc:  # a broken plugin must not look like an unknown dataset
        raise TaskError(
            f"dataset entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
        ) from exc
    if inspect.ismodule(obj):  # a module registering datasets on import
        if ep.name in _REGISTRY:
            return _REGISTRY[ep.name]
        raise TaskError(
            f"entry point {ep.name!r} imported {ep.value!r}, which registers no {ep.name!r}"
        )
    if not callable(obj):
        raise TaskError(f"dataset entry point {ep.name!r} ({ep.value}) is not callable")
    return obj


def dataset_options(name: str, *, base_dir: str | Path | None = None) -> dict[str, Any]:
    """Accepted keyword options of a dataset and their defaults (``seed`` excluded).

    A function taking ``**kwargs`` accepts anything; its named options are still listed.
    """
    return _options(get_dataset(name, base_dir=base_dir))[0]


def _options(fn: DatasetFn) -> tuple[dict[str, Any], bool]:
    sig = inspect.signature(fn)
    opts: dict[str, Any] = {}
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "seed":
            opts[p.name] = None if p.default is p.empty else p.default
    return opts, var_kw


def load_dataset(
    name: str, *, seed: int = 0, base_dir: str | Path | None = None, **options: Any
) -> Dataset:
    """Resolve ``name`` (see :func:`get_dataset`), check ``options`` and build the dataset."""
    fn = get_dataset(name, base_dir=base_dir)
    accepted, var_kw = _options(fn)
    unknown = sorted(set(options) - set(accepted))
    if unknown and not var_kw:
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, list(accepted), n=1, cutoff=0.6)
            hints.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise TaskError(
            f"dataset {name!r} has no option {', '.join(hints)}; accepted options: "
            f"{', '.join(accepted) or 'none'}"
        )
    kwargs = dict(options)
    if "seed" in inspect.signature(fn).parameters or var_kw:
        kwargs["seed"] = seed
    try:
        ds = fn(**kwargs)
    except TaskError:
        raise
    except (TypeError, ValueError) as exc:
        raise TaskError(f"dataset {name!r} with options {options}: {exc}") from exc
    if not isinstance(ds, Dataset):
        raise TaskError(f"dataset {name!r} returned {type(ds).__name__}, not hadnas.tasks.Dataset")
    return ds if ds.name else dataclasses.replace(ds, name=name)
