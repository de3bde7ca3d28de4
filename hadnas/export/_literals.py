"""Literals and imports of generated code.

Every value that reaches ``model.py`` is rendered here: plain Python values with ``repr`` (strings
re-quoted with double quotes only when that is the very same literal, so the file is already in
ruff-format style), torch classes and functions as ``nn.X`` / ``torch.X``. Anything else is
refused, so no object can inject code through its ``repr``. :class:`ImportTable` collects the
allow-listed imports and renders them sorted, isort style, for a byte-stable import block.
"""

from __future__ import annotations

import ast
import math
import sys
import types
from typing import Any

import torch
from torch import nn

from hadnas.build._codegen import Namespace
from hadnas.exceptions import ExportError
from hadnas.export._format import Bracketed, prefixed

#: modules generated code may import (and nothing else): torch and a few stdlib modules
ALLOWED_MODULES = (
    "__future__",
    "collections.abc",
    "dataclasses",
    "math",
    "typing",
    "torch",
    "torch.nn",
    "torch.nn.functional",
)
STDLIB_MODULES = frozenset({"__future__", "collections.abc", "dataclasses", "math", "typing"})


#: the names generated code binds by itself, each to its one canonical import
CANONICAL_IMPORTS: dict[str, tuple[str, str | None]] = {
    "annotations": ("__future__", "annotations"),
    "dataclass": ("dataclasses", "dataclass"),
    "math": ("math", None),
    "torch": ("torch", None),
    "nn": ("torch.nn", None),
    "F": ("torch.nn.functional", None),
}


class ImportTable:
    """The import statements of one generated file, keyed by the name each one binds.

    With a ``names`` namespace, an import never takes a name something else already uses: it
    gets a fresh alias instead (``from typing import Any as Any_1``), returned to the caller.
    """

    def __init__(self, names: Namespace | None = None) -> None:
        self.bound: dict[str, tuple[str, str | None]] = {}  # name -> (module, member or None)
        self.names = names

    def module(self, module: str, alias: str) -> str:
        """Bind module ``module`` to ``alias`` (``nn`` → ``from torch import nn``)."""
        return self._bind(alias, module, None)

    def member(self, module: str, name: str) -> str:
        """Bind ``module.name`` to ``name`` (``from typing import Any``)."""
        return self._bind(name, module, name)

    def _bind(self, alias: str, module: str, member: str | None) -> str:
        if module not in ALLOWED_MODULES:
            raise ExportError(f"generated code may not import {module!r}")
        target = (module, member)
        if self.bound.get(alias) == target:
            return alias
        taken = alias in self.bound or (
            self.names is not None
            and alias in self.names.used
            and CANONICAL_IMPORTS.get(alias) != target
        )
        if taken:
            if self.names is None:
                raise ExportError(f"name {alias!r} would be imported from {module} and elsewhere")
            alias = self.names.create(f"import:{module}:{member}", alias)
        if self.names is not None:
            self.names.used.add(alias)
        self.bound[alias] = target
        return alias

    def render(self) -> str:
        """Sorted import block: ``__future__``, stdlib, then torch; straight imports first."""
        sections: dict[int, list[tuple[int, str, str, str]]] = {0: [], 1: [], 2: []}
        for alias, (module, member) in self.bound.items():
            section = 0 if module == "__future__" else 1 if module in STDLIB_MODULES else 2
            if member is None and "." not in module:
                line = f"import {module}" + (f" as {alias}" if alias != module else "")
                sections[section].append((0, module, alias, line))
            else:
                parent, _, last = (module, "", member) if member else module.rpartition(".")
                name = last if alias == last else f"{last} as {alias}"
                sections[section].append((1, parent, name, ""))
        blocks = []
        for section in (0, 1, 2):
            rows = sections[section]
            lines = sorted(r[3] for r in rows if r[0] == 0)
            froms: dict[str, list[str]] = {}
            for kind, parent, name, _ in rows:
                if kind == 1:
                    froms.setdefault(parent, []).append(name)
            for parent in sorted(froms):
                names = sorted(set(froms[parent]), key=_member_key)
                plain = [n for n in names if " as " not in n]
                statements = [[n] for n in names if " as " in n] + ([plain] if plain else [])
                for group in sorted(statements, key=lambda g: _member_key(g[0])):
                    lines.append(f"from {parent} import {', '.join(group)}")
            if lines:
                blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"


def _member_key(name: str) -> tuple[int, str]:
    # isort "order by type": CONSTANTS, then Classes, then everything else; case-sensitive.
    base = name.split(" as ")[0]
    if base.isupper() and len(base) > 1:
        return (0, base)
    return (1, base) if base[:1].isupper() else (2, base)


def string_literal(text: str) -> str:
    """``repr(text)``, with double quotes when the content has no quote characters."""
    r = repr(text)
    if r.startswith("'") and '"' not in text and "'" not in text:
        r = '"' + r[1:-1] + '"'
    return r


def literal(value: Any, imports: ImportTable) -> str:
    """Source text for ``value``; raises :class:`ExportError` for anything not plain."""
    text = _literal(value, imports)
    if _is_plain(value):  # belt and braces: the text must evaluate back to the value
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            same = False
        if not same and not _has_special_float(value):
            raise ExportError(f"internal error: literal {text!r} does not round-trip")
    return text


def literal_tree(value: Any, imports: ImportTable) -> str | Bracketed:
    """Like :func:`literal`, as a layout tree so long collections can be split over lines."""
    flat = literal(value, imports)
    if not isinstance(value, (tuple, list, dict)) or not value:
        return flat
    if isinstance(value, dict):
        items: list[str | Bracketed] = []
        for k, v in value.items():
            key, sub = literal(k, imports), literal_tree(v, imports)
            items.append(f"{key}: {sub}" if isinstance(sub, str) else prefixed(f"{key}: ", sub))
        return Bracketed("", tuple(items), "{", "}")
    opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
    elements = tuple(literal_tree(v, imports) for v in value)
    return Bracketed("", elements, opening, closing, is_tuple=isinstance(value, tuple))


def _literal(value: Any, imports: ImportTable) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(float(value))
        m = imports.module("math", "math")
        return f"{m}.nan" if math.isnan(value) else (f"{m}.inf" if value > 0 else f"-{m}.inf")
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = [_literal(v, imports) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_literal(v, imports) for v in value)}]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise ExportError(f"cannot export a dict key of type {type(key).__name__}")
        pairs = (f"{_literal(k, imports)}: {_literal(v, imports)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, torch.dtype):
        return imports.module("torch", "torch") + "." + repr(value).split(".", 1)[1]
    ref = torch_reference(value, imports)
    if ref is not None:
        return ref
    raise ExportError(
        f"cannot export a value of type {type(value).__name__} ({value!r:.60}); module kwargs "
        "and constants must be plain Python values (None, bool, int, float, str, tuple, list, "
        "dict) or torch classes/functions"
    )


def torch_reference(obj: Any, imports: ImportTable) -> str | None:
    """``nn.X``, ``nn.functional.x`` or ``torch.x`` for a public torch object, else None."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return None
    if getattr(nn, name, None) is obj and not isinstance(obj, types.ModuleType):
        return f"{imports.module('torch.nn', 'nn')}.{name}"
    if getattr(nn.functional, name, None) is obj:
        return f"{imports.module('torch.nn', 'nn')}.functional.{name}"
    if getattr(torch, name, None) is obj and not isinstance(obj, types.ModuleType):
        return f"{imports.module('torch', 'torch')}.{name}"
    return None


def module_binding(module: types.ModuleType, alias: str, imports: ImportTable) -> str | None:
    """Import an allow-listed module under ``alias``; None when it is not allowed."""
    name = module.__name__
    if name not in ALLOWED_MODULES or sys.modules.get(name) is not module:
        return None
    return imports.module(name, alias)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _has_special_float(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (tuple, list)):
        return any(_has_special_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_special_float(v) for v in value.values())
    return False
