"""Search: run a space with Optuna (embedded journal storage) or Ray Tune; see docs/search.md.

::

    import hadnas
    result = hadnas.search("search_spaces/digits_gated_poly.yaml",
                           hadnas.SearchConfig(trials=30, workers=2))
    print(result.run_dir, result.best)
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from hadnas.search._backends import BACKENDS, get_backend
from hadnas.search._base import BaseSearchBackend, SearchInterrupted, SearchResult
from hadnas.search._config import SearchConfig
from hadnas.search._folder import RunFolder
from hadnas.search._outcome import FAIL_REASONS, TrialOutcome
from hadnas.search._runner import TrialRunner
from hadnas.space import SearchSpace, load_space


def search(space: SearchSpace | str | Path, config: SearchConfig | None = None) -> SearchResult:
    """Search ``space`` (a loaded space or a YAML path) and return where the results are.

    Raises:
        SearchError: bad configuration, an existing run folder without ``resume``, the failure
            budget spent, or no trial completed.
        SearchInterrupted: SIGTERM/SIGINT stopped the search (resume it with ``resume=True``).
    """
    config = config or SearchConfig()
    if not isinstance(space, SearchSpace):
        space = load_space(space)
    backend = get_backend(config.backend)(space, config)
    return backend.run()


class _CallableModule(types.ModuleType):
    """``hadnas.search`` is both this package and the :func:`search` facade: importing the
    package binds it as an attribute of ``hadnas``, so the module itself must be callable."""

    def __call__(self, *args: Any, **kwargs: Any) -> SearchResult:
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "BACKENDS",
    "FAIL_REASONS",
    "BaseSearchBackend",
    "RunFolder",
    "SearchConfig",
    "SearchInterrupted",
    "SearchResult",
    "TrialOutcome",
    "TrialRunner",
    "get_backend",
    "search",
]
