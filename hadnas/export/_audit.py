"""An AST audit of generated code: the last gate before anything is written.

``model.py`` may only import allow-listed modules, run nothing at import time but definitions
and constant assignments, and never reach the usual code-execution or file primitives. The
exporter refuses a file that fails the audit, and the tests audit every file it generates, so a
primitive whose copied source does something unexpected is caught rather than shipped.
"""

from __future__ import annotations

import ast

from hadnas.export._literals import ALLOWED_MODULES

BANNED_CALLS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "memoryview",
        "setattr",
        "delattr",
    }
)
ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "hasattr"})
BANNED_ATTRIBUTE_PATHS = frozenset(
    {
        "torch.load",
        "torch.save",
        "torch.hub",
        "torch.package",
        "torch.jit.load",
        "torch.classes",
        "torch.ops",
        "torch.utils.cpp_extension",
        "torch.from_file",
        "torch._C",
    }
)
ALLOWED_DUNDERS = frozenset({"__init__", "__class__", "__name__", "__qualname__"})
_TOP_LEVEL = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _literal_prefix(node: ast.AST) -> str | None:
    """The fixed leading text of a string constant or f-string, else None.

    ``getattr(m, f"bias_l{k}")`` is fine: a name that starts with a letter is never a dunder.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
            return first.value
    return None


def audit_source(source: str, filename: str = "model.py") -> list[str]:
    """Problems found in ``source`` (empty when it passes), each as ``FILE:LINE: message``."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return [f"{filename}:{exc.lineno}: does not parse: {exc.msg}"]
    problems: list[str] = []

    def bad(node: ast.AST, message: str) -> None:
        problems.append(f"{filename}:{getattr(node, 'lineno', 0)}: {message}")

    for i, stmt in enumerate(tree.body):
        is_docstring = (
            i == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        )
        if not is_docstring and not isinstance(stmt, _TOP_LEVEL):
            bad(stmt, f"top-level {type(stmt).__name__} statement (only definitions allowed)")
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            for sub in ast.walk(stmt.value):
                if isinstance(sub, ast.Call):
                    bad(sub, "a call at import time")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_MODULES:
                    bad(node, f"import of {alias.name!r} is not allowed")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module not in ALLOWED_MODULES:
                bad(node, f"import from {module!r} is not allowed")
            if any(alias.name == "*" for alias in node.names):
                bad(node, f"'from {module} import *' is not allowed")
        elif isinstance(node, ast.Name):
            if node.id in BANNED_CALLS or node.id in ("__builtins__", "__loader__", "__spec__"):
                bad(node, f"use of {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("__") and node.attr.endswith("__"):
                if node.attr not in ALLOWED_DUNDERS:
                    bad(node, f"access to dunder attribute {node.attr!r} is not allowed")
            dotted = _dotted(node)
            if dotted is not None and any(
                dotted == p or dotted.startswith(p + ".") for p in BANNED_ATTRIBUTE_PATHS
            ):
                bad(node, f"use of {dotted!r} is not allowed")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ATTRIBUTE_FUNCTIONS:
                prefix = _literal_prefix(node.args[1]) if len(node.args) > 1 else None
                if prefix is None:
                    bad(node, f"{node.func.id}() with a computed attribute name")
                elif prefix.startswith("_"):
                    bad(node, f"{node.func.id}() of a private or dunder attribute {prefix!r}")
    return problems
