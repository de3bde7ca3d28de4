"""The DSL: YAML text → validated, frozen :class:`SpaceSpec` (errors located as FILE:LINE:COL)."""

from __future__ import annotations

from pathlib import Path

from hadnas.exceptions import Diagnostic, Loc, SpecError
from hadnas.spec._schema import (
    DSL_VERSION,
    BlockSpec,
    Choice,
    ConstraintSpec,
    FloatRange,
    InputSpec,
    IntRange,
    LatencySpec,
    NodeOption,
    NodeSpec,
    ObjectiveSpec,
    SearchSpec,
    SpaceSpec,
    TaskSpec,
    VarRef,
)
from hadnas.spec._validate import validate_document
from hadnas.spec._yaml import parse_yaml


def load_spec(source: str | Path, *, text: str | None = None) -> SpaceSpec:
    """Parse and validate a space from a path (or from ``text``, with ``source`` as its name)."""
    if text is None:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError([Diagnostic(Loc(str(source), 0, 0), "", "no such file")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError([Diagnostic(Loc(str(source), 0, 0), "", f"cannot read: {exc}")]) from None
    return validate_document(parse_yaml(text, str(source)))


__all__ = [
    "DSL_VERSION",
    "BlockSpec",
    "Choice",
    "ConstraintSpec",
    "FloatRange",
    "InputSpec",
    "IntRange",
    "LatencySpec",
    "NodeOption",
    "NodeSpec",
    "ObjectiveSpec",
    "SearchSpec",
    "SpaceSpec",
    "TaskSpec",
    "VarRef",
    "load_spec",
    "parse_yaml",
]
