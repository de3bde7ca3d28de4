"""Copy the source of primitive modules and their helpers into a standalone file.

A primitive's module class (and each helper it lists, or that its code refers to) is copied with
:func:`inspect.getsource`. The names its code reads from its own module's globals are found with
:mod:`symtable` and resolved one by one: an allow-listed module becomes an import (``nn``,
``torch``, ``math``...), a torch class or function becomes ``nn.X``/``torch.X``, a plain constant
becomes ``NAME = <literal>``, and a function or class is copied too (recursively). Anything else
is refused with an :class:`ExportError` naming the primitive and the name, never guessed at.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import io
import symtable
import sys
import textwrap
import tokenize
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hadnas.build._codegen import Namespace
from hadnas.exceptions import ExportError
from hadnas.export._format import Bracketed, layout
from hadnas.export._literals import (
    ALLOWED_MODULES,
    ImportTable,
    literal_tree,
    module_binding,
    torch_reference,
)
from hadnas.export._names import checked


@dataclass
class Copied:
    """One copied top-level definition, with the name it gets in the generated file."""

    obj: Any
    name: str
    source: str = ""
    deps: list[int] = field(default_factory=list)  # ids of copied objects it needs first


def _key(obj: Any) -> int:
    return id(obj)


def _is_copyable(obj: Any) -> bool:
    if not isinstance(obj, (type, types.FunctionType)):
        return False
    module = getattr(obj, "__module__", "") or ""
    return module not in ALLOWED_MODULES and not module.startswith(("torch.", "builtins"))


@functools.lru_cache(maxsize=512)
def _source_of(obj: Any) -> str:
    # inspect.getsource re-parses the whole defining module on every call (Python 3.11)
    return textwrap.dedent(inspect.getsource(obj))


def free_names(source: str) -> list[str]:
    """Global names ``source`` (one top-level def or class) reads, in order of appearance."""
    table = symtable.symtable(source, "<copied>", "exec")
    found: set[str] = set()
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}

    def walk(t: symtable.SymbolTable) -> None:
        for s in t.get_symbols():
            if s.is_referenced() and s.is_global() and s.get_name() not in defined:
                found.add(s.get_name())
        for child in t.get_children():
            walk(child)

    walk(table)
    order: list[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in found and tok.string not in order:
            order.append(tok.string)
    return order


def rename(source: str, mapping: dict[str, str]) -> str:
    """Rename global ``mapping`` names in ``source``; attributes and keywords stay untouched."""
    if all(k == v for k, v in mapping.items()):
        return source
    lines = source.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits: list[tuple[int, int, int, str]] = []
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if tok.type != tokenize.NAME or mapping.get(tok.string, tok.string) == tok.string:
            continue
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if prev is not None and prev.type == tokenize.OP and prev.string == ".":
            continue  # obj.name: an attribute
        if depth and nxt is not None and nxt.type == tokenize.OP and nxt.string == "=":
            continue  # f(name=...): a keyword argument
        (row, col), (_, end) = tok.start, tok.end
        edits.append((row, col, end, mapping[tok.string]))
    for row, col, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[end:]
    return "".join(lines)


class SourceCollector:
    """Resolves class references and copies definitions for one generated file."""

    def __init__(self, names: Namespace, imports: ImportTable) -> None:
        self.names = names
        self.imports = imports
        self.copied: dict[int, Copied] = {}
        self.order: list[int] = []  # dependency order (a definition after what it needs)
        self.constants: dict[str, str] = {}  # generated name -> source line(s)
        self._const_keys: dict[tuple[str, str], str] = {}
        self._active: set[int] = set()

    # -- public -----------------------------------------------------------------------------
    def class_ref(self, cls: type, where: str) -> str:
        """Expression naming ``cls`` in the generated file (``nn.Linear``, ``PolyCCP``)."""
        ref = torch_reference(cls, self.imports)
        if ref is not None:
            return ref
        if not _is_copyable(cls):
            raise ExportError(
                f"{where}: module class {cls.__module__}.{cls.__qualname__} is neither a public "
                "torch.nn class nor a class whose source can be copied"
            )
        return self.copy(cls, where)

    def copy(self, obj: Any, where: str) -> str:
        """Copy ``obj`` (and what it needs) once; return its name in the generated file."""
        key = _key(obj)
        if key in self.copied:
            return self.copied[key].name
        qualname = getattr(obj, "__qualname__", "?")
        if "<locals>" in qualname or "." in qualname:
            raise ExportError(
                f"{where}: {obj.__module__}.{qualname} is not defined at module level, so its "
                "source cannot be copied into a standalone file; move it to module level"
            )
        name = checked(self.names.create(f"copy:{obj.__module__}.{qualname}", obj.__name__))
        entry = Copied(obj, name)
        self.copied[key] = entry
        self._active.add(key)
        try:
            entry.source = self._copy_source(entry, where)
        finally:
            self._active.discard(key)
        self.order.append(key)
        return name

    def copy_helpers(self, helpers: tuple[Callable[..., Any] | type, ...], where: str) -> None:
        for helper in helpers:
            if _is_copyable(helper):
                self.copy(helper, where)

    # -- internals --------------------------------------------------------------------------
    def _copy_source(self, entry: Copied, where: str) -> str:
        obj = entry.obj
        label = f"{obj.__module__}.{obj.__qualname__}"
        try:
            source = _source_of(obj)
        except (OSError, TypeError) as exc:
            raise ExportError(f"{where}: cannot read the source of {label}: {exc}") from None
        try:
            names = free_names(source)
        except SyntaxError as exc:
            raise ExportError(f"{where}: the source of {label} does not parse: {exc}") from None
        module = sys.modules.get(obj.__module__)
        module_globals: dict[str, Any] = getattr(obj, "__globals__", None) or (
            vars(module) if module is not None else {}
        )
        mapping = {obj.__name__: entry.name}
        for name in names:
            if name == "__class__":
                continue
            if name not in module_globals:
                if hasattr(builtins, name):
                    continue
                raise ExportError(
                    f"{where}: {label} uses {name!r}, which its module does not define"
                )
            mapping[name] = self._resolve(name, module_globals[name], f"{where}: {label}")
        return rename(source, mapping)

    def _resolve(self, name: str, value: Any, where: str) -> str:
        if isinstance(value, types.ModuleType):
            bound = module_binding(value, name, self.imports)
            if bound is None:
                raise ExportError(
                    f"{where} uses module {value.__name__!r} (as {name!r}); generated code may "
                    f"import only {', '.join(m for m in ALLOWED_MODULES if m != '__future__')}"
                )
            return bound
        if getattr(builtins, name, None) is value:
            return name
        member = self._allowed_member(name, value)
        if member is not None:
            return member
        ref = torch_reference(value, self.imports)
        if ref is not None:
            return self._constant(name, ref)
        if _is_copyable(value):
            if _key(value) in self._active:  # mutual recursion: the name is bound at call time
                return self.copied[_key(value)].name
            return self.copy(value, where)
        try:
            text = literal_tree(value, self.imports)
        except ExportError as exc:
            raise ExportError(f"{where} uses global {name!r}: {exc}") from None
        return self._constant(name, text)

    def _allowed_member(self, name: str, value: Any) -> str | None:
        """``from typing import Any`` / ``from torch import Tensor`` style bindings."""
        owner = getattr(value, "__module__", None)
        candidates = [owner] if owner in ALLOWED_MODULES else []
        candidates += [m for m in ALLOWED_MODULES if m not in candidates and m != "__future__"]
        for module_name in candidates:
            module = sys.modules.get(module_name) if module_name else None
            if module is not None and getattr(module, name, object()) is value:
                return self.imports.member(module_name, name)
        return None

    def _constant(self, name: str, text: str | Bracketed) -> str:
        key = (name, text if isinstance(text, str) else text.flat())
        if key not in self._const_keys:
            const = checked(self.names.create(f"const:{key[0]}:{key[1]}", name))
            self._const_keys[key] = const
            self.constants[const] = "\n".join(layout(f"{const} = ", text, ""))
        return self._const_keys[key]

    def definitions(self) -> list[str]:
        """Copied sources in dependency order (a definition comes after what it uses)."""
        return [self.copied[k].source.rstrip("\n") for k in self.order]
