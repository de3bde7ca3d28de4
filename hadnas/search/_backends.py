"""Search backends by name, imported on first use (``import hadnas`` never imports Ray)."""

from __future__ import annotations

import importlib

from hadnas.exceptions import SearchError
from hadnas.search._base import BaseSearchBackend

#: backend name -> "module:class"; the ray backend is optional (``pip install hadnas[ray]``)
BACKENDS = {
    "optuna": "hadnas.search._optuna:OptunaBackend",
    "ray": "hadnas.search.ray_backend:RayBackend",
}


def get_backend(name: str) -> type[BaseSearchBackend]:
    if name not in BACKENDS:
        raise SearchError(f"unknown backend {name!r} (backends: {', '.join(BACKENDS)})")
    module, _, attr = BACKENDS[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise SearchError(f"backend {name!r} is not available in this version") from None
        raise SearchError(
            f"backend {name!r} needs {exc.name!r}: pip install 'hadnas[{name}]'"
        ) from None
    return getattr(mod, attr)
