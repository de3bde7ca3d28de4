"""The primitive registry: ``@register_primitive``, ``get_primitive``, ``list_primitives``.

Third-party packages register primitives through the ``hadnas.primitives`` entry-point group;
the entry point may name a module (imported for its ``@register_primitive`` side effects) or a
:class:`PrimitiveDef` subclass. Entry points are loaded once, on first lookup.
"""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import TypeVar

from hadnas.exceptions import UnknownNameError
from hadnas.primitives._base import PrimitiveDef

_REGISTRY: dict[str, type[PrimitiveDef]] = {}
_ENTRY_POINTS_LOADED = False
ENTRY_POINT_GROUP = "hadnas.primitives"

T = TypeVar("T", bound=type[PrimitiveDef])


def register_primitive(cls: T | None = None, *, name: str | None = None) -> T | Callable[[T], T]:
    """Class decorator adding a :class:`PrimitiveDef` to the registry (warns on overwrite)."""

    def deco(c: T) -> T:
        op = name or c.op
        if not op or not op.isidentifier():
            raise ValueError(f"primitive name must be an identifier, got {op!r}")
        if op in _REGISTRY and _REGISTRY[op] is not c:
            warnings.warn(
                f"primitive {op!r} is already registered by {_REGISTRY[op].__module__}; "
                f"{c.__module__}.{c.__qualname__} replaces it",
                stacklevel=2,
            )
        c.op = op
        _REGISTRY[op] = c
        return c

    return deco(cls) if cls is not None else deco


def load_entry_points() -> None:
    """Import third-party primitives declared under the ``hadnas.primitives`` group."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True  # set first: a plugin importing hadnas must not recurse
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # one broken plugin must not take every command down
            warnings.warn(
                f"skipping hadnas.primitives entry point {ep.name!r} ({ep.value}): "
                f"{type(exc).__name__}: {exc}",
                stacklevel=2,
            )
            continue
        if isinstance(obj, type) and issubclass(obj, PrimitiveDef):
            register_primitive(obj, name=obj.op or ep.name)


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def get_primitive(op: str | type[PrimitiveDef]) -> type[PrimitiveDef]:
    """The class registered under ``op`` (a class is returned as is)."""
    if isinstance(op, type):
        return op
    load_entry_points()
    try:
        return _REGISTRY[op]
    except KeyError:
        known = sorted(_REGISTRY)
        raise UnknownNameError(
            f"unknown op {op!r}{did_you_mean(op, known)} (known ops: {', '.join(known)})"
        ) from None


def list_primitives(pattern: str = "*", domain: str | None = None) -> list[str]:
    """Sorted names of registered primitives matching a glob ``pattern`` and ``domain``."""
    load_entry_points()
    return sorted(
        op
        for op, cls in _REGISTRY.items()
        if fnmatch.fnmatch(op, pattern) and (domain is None or cls.domain == domain)
    )


def is_registered(op: str) -> bool:
    load_entry_points()
    return op in _REGISTRY
