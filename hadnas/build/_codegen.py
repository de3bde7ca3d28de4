"""Forward-method source generation shared by the builder (and reused by the exporter).

Identifiers come from :class:`Namespace`, which only hands out legal, unique names that shadow
no keyword, builtin or reserved name; node names were validated by the DSL before reaching it.
"""

from __future__ import annotations

import builtins
import keyword
import re


class Namespace:
    """Unique, legal Python identifiers derived from arbitrary node names (fx ``_Namespace``)."""

    _ILLEGAL = re.compile(r"[^0-9A-Za-z_]")

    def __init__(self, reserved: set[str] | None = None) -> None:
        self.used: set[str] = {"self", *(reserved or ())}
        self.by_key: dict[str, str] = {}

    def create(self, key: str, hint: str | None = None) -> str:
        if key in self.by_key:
            return self.by_key[key]
        base = self._ILLEGAL.sub("_", hint or key) or "v"
        if base[0].isdigit():
            base = "_" + base
        if keyword.iskeyword(base) or hasattr(builtins, base):
            base += "_"
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        self.by_key[key] = name
        return name


def module_access(node_name: str, root: str = "self") -> str:
    """``body.1.mix`` → ``self.body[1].mix`` (digits are ModuleList indices)."""
    out = root
    for part in node_name.split("."):
        out += f"[{int(part)}]" if part.isdigit() else f".{part}"
    return out
