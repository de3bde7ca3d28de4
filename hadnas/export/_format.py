"""A tiny code layout engine: emits calls and collections the way ruff-format would.

Generated files must be formatted without running a formatter at export time (ruff is a dev
tool, not a dependency), so the few statement shapes the code generator emits are laid out
here with ruff's rules: keep a statement on one line when it fits in :data:`LINE_LENGTH`;
otherwise split at the last bracket, try the contents on one indented line, and else put one
item per line with a trailing comma.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_LENGTH = 99
INDENT = "    "


@dataclass(frozen=True)
class Bracketed:
    """``head(items...)`` or a bare ``[items...]`` / ``(items...)`` / ``{items...}``."""

    head: str
    items: tuple[str | Bracketed, ...]
    open: str = "("
    close: str = ")"
    is_tuple: bool = False  # a one-element tuple keeps its comma: ``(1,)``

    def inner(self) -> str:
        text = ", ".join(i if isinstance(i, str) else i.flat() for i in self.items)
        return text + "," if self.is_tuple and len(self.items) == 1 else text

    def flat(self) -> str:
        return f"{self.head}{self.open}{self.inner()}{self.close}"


def call(func: str, *args: str | Bracketed, **kwargs: str | Bracketed) -> Bracketed:
    """``func(args..., key=value...)`` as a layout tree."""
    items: list[str | Bracketed] = list(args)
    for key, value in kwargs.items():
        items.append(f"{key}={value}" if isinstance(value, str) else prefixed(f"{key}=", value))
    return Bracketed(func, tuple(items))


def prefixed(prefix: str, node: Bracketed) -> Bracketed:
    """``node`` with ``prefix`` glued before it (``key=`` of a keyword argument)."""
    return Bracketed(prefix + node.head, node.items, node.open, node.close, node.is_tuple)


def layout(prefix: str, node: str | Bracketed, indent: str, suffix: str = "") -> list[str]:
    """Lines of ``prefix + node + suffix`` at ``indent``, split like ruff-format when too long."""
    flat = node if isinstance(node, str) else node.flat()
    line = f"{indent}{prefix}{flat}{suffix}"
    if len(line) <= LINE_LENGTH or isinstance(node, str) or not node.items:
        return [line]
    inner_indent = indent + INDENT
    head = [f"{indent}{prefix}{node.head}{node.open}"]
    tail = [f"{indent}{node.close}{suffix}"]
    one_line = node.inner()
    if len(inner_indent + one_line) <= LINE_LENGTH:
        return head + [inner_indent + one_line] + tail
    body: list[str] = []
    for item in node.items:
        body += layout("", item, inner_indent, ",")
    return head + body + tail
