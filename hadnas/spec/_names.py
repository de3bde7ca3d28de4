"""Which user-given names are legal. They end up as Python identifiers in generated code."""

from __future__ import annotations

import builtins
import keyword
import re
from functools import lru_cache

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
STUDY_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# generated code and built models use these (``HadnasModel.source``, ``.input_names``)
_EXTRA_RESERVED = {
    "self", "torch", "nn", "F", "math", "dataclass", "Tensor", "hadnas", "source", "input_names",
}  # fmt: skip


# plain YAML 1.1 scalars that PyYAML resolves to booleans or null, not to strings
_YAML_NON_STRINGS = {"yes", "no", "on", "off", "true", "false", "null"}


@lru_cache(maxsize=1)
def _module_attributes() -> frozenset[str]:
    from torch import nn  # deferred: torch import is slow and only names need it

    return frozenset(dir(nn.Module)) | frozenset(nn.Module().__dict__)


def name_problem(name: object, what: str = "name") -> str | None:
    """Why ``name`` cannot name a node or input, or None when it can."""
    if not isinstance(name, str):
        return f"{what} must be a string, got {type(name).__name__} {name!r}"
    shown = name if len(name) <= 40 else name[:40] + "..."
    if not NAME_RE.fullmatch(name):  # fullmatch: `$` alone accepts a trailing "\n"
        return (
            f"{what} {shown!r} is not a plain ASCII identifier "
            "(letters, digits, '_', not starting with a digit, at most 64 characters)"
        )
    if name.lower() in _YAML_NON_STRINGS:
        return (
            f"{what} {name!r} reads as {'null' if name.lower() == 'null' else 'a boolean'} "
            f"in YAML, so `in: {name}` could not refer to it; rename it (e.g. {name + '_'!r})"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{what} {name!r} is a Python keyword; rename it (e.g. {name + '_'!r})"
    if hasattr(builtins, name) and not name.startswith("__"):
        return f"{what} {name!r} shadows a Python builtin; rename it (e.g. {name + '_'!r})"
    if name.startswith("__") or name in _EXTRA_RESERVED or name in _module_attributes():
        return (
            f"{what} {name!r} is reserved (torch.nn.Module or generated code uses it); rename it"
        )
    return None
