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
from hadnas.spec._yaml import MAX_BYTES, parse_yaml


def load_spec(source: str | Path, *, text: str | None = None) -> SpaceSpec:
    """Parse and validate a space from a path (or from ``text``, with ``source`` as its name)."""
    if text is None:
        text = _read(Path(source), str(source))
    return validate_document(parse_yaml(text, str(source)))


def _read(path: Path, name: str) -> str:
    """The file's text; too large, unreadable or non-UTF-8 files are located errors."""
    try:
        if path.stat().st_size > MAX_BYTES:  # refuse before reading a huge file into memory
            message = f"file is larger than {MAX_BYTES} bytes; a search space is small"
            raise SpecError([Diagnostic(Loc(name, 1, 1), "", message)])
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError([Diagnostic(Loc(name, 0, 0), "", "no such file")]) from None
    except OSError as exc:
        raise SpecError([Diagnostic(Loc(name, 0, 0), "", f"cannot read: {exc}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        message = f"not UTF-8 text: byte {data[exc.start]:#04x} cannot be decoded ({exc.reason})"
        raise SpecError([Diagnostic(Loc(name, line, col), "", message)]) from None


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
