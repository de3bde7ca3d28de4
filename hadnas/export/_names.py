"""Identifier checks for generated code: node names before generation, every emitted name after.

The DSL already refuses hostile names, but an :class:`~hadnas.space.Architecture` can also be
made in Python (or come from an older hadnas), so the exporter checks again, *before* it touches
the graph or writes anything: each dotted part of a node name must be a legal DSL name or a copy
index. Identifiers the code generator invents go through :func:`checked` as they are emitted.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hadnas.exceptions import Diagnostic, ExportError, Loc
from hadnas.spec._names import STUDY_NAME_RE, name_problem

if TYPE_CHECKING:
    from hadnas.space import Architecture

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_COPY_INDEX_RE = re.compile(r"^(0|[1-9][0-9]{0,5})$")


def _shown(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


def node_name_problem(name: object) -> str | None:
    """Why ``name`` (a full dotted node name such as ``body.1.mix``) cannot be exported."""
    if not isinstance(name, str):
        return f"node name must be a string, got {type(name).__name__} {_shown(name)}"
    if len(name) > 1024:
        return f"node name {_shown(name)} is {len(name)} characters long (at most 1024)"
    parts = name.split(".")
    for i, part in enumerate(parts):
        if _COPY_INDEX_RE.match(part) and 0 < i < len(parts) - 1:
            continue
        problem = name_problem(part, "node name part" if len(parts) > 1 else "node name")
        if problem:
            return problem + (f" (in {_shown(name)})" if len(parts) > 1 else "")
    return None


def _node_problem(
    name: object, op: object, inputs: Sequence[object], hp: Sequence[Any]
) -> str | None:
    problem = node_name_problem(name)
    if problem:
        return problem
    if not isinstance(op, str) or not _IDENT_RE.match(op):
        return f"op {_shown(op)} is not an identifier"
    for src in inputs:
        if node_name_problem(src) is not None:
            return f"input reference {_shown(src)} is not a legal node or input name"
    for key, _ in hp:
        if not isinstance(key, str) or not _IDENT_RE.match(key):
            return f"hyper-parameter name {_shown(key)} is not an identifier"
    return None


def validate_architecture(arch: Architecture) -> None:
    """Raise one located :class:`ExportError` listing every name that cannot become code."""
    file = getattr(arch.spec, "file", "<arch>")
    problems: list[Diagnostic] = []
    if not isinstance(arch.spec.name, str) or not STUDY_NAME_RE.fullmatch(arch.spec.name):
        problems.append(
            Diagnostic(
                Loc(file, 1, 1),
                "name",
                f"study name {_shown(arch.spec.name)} "
                "is not [a-z0-9][a-z0-9_-]* (at most 64 characters)",
            )
        )
    seen: set[str] = set()
    for spec in arch.inputs:
        problem = name_problem(spec.name, "input name")
        if problem is None and spec.name in seen:
            problem = f"input name {spec.name!r} is used twice"
        if problem:
            problems.append(Diagnostic(spec.loc or Loc(file, 0, 0), "inputs", problem))
        seen.add(str(spec.name))
    for node in arch.nodes:
        problem = _node_problem(node.name, node.op, node.inputs, node.hp)
        if problem is None and node.name in seen:
            problem = f"node name {node.name!r} is used twice"
        if problem:
            problems.append(Diagnostic(node.loc or Loc(file, 0, 0), node.path or "nodes", problem))
        seen.add(str(node.name))
    if not isinstance(arch.output, str) or node_name_problem(arch.output):
        problems.append(
            Diagnostic(
                getattr(arch.spec, "output_loc", None) or Loc(file, 0, 0),
                "output",
                f"output {_shown(arch.output)} is not a legal node name",
            )
        )
    if problems:
        raise ExportError("cannot export: illegal names\n" + "\n".join(str(p) for p in problems))


def checked(name: str, what: str = "identifier") -> str:
    """``name`` if it is a safe identifier to emit; otherwise an :class:`ExportError`.

    Generated code only contains identifiers that pass this check (ASCII, not a keyword), so no
    name can smuggle code, Unicode look-alikes or bidirectional marks into ``model.py``.
    """
    if (
        not isinstance(name, str)
        or not _IDENT_RE.match(name)
        or keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
    ):
        raise ExportError(f"refusing to emit {what} {_shown(name)}: not a plain ASCII identifier")
    return name


def camel(path: str) -> str:
    """``body.0`` → ``Body0``; ``gated_pairs`` → ``GatedPairs`` (for container class names)."""
    words = re.split(r"[^0-9A-Za-z]+", path)
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Block"
