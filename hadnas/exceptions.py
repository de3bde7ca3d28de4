"""Exception hierarchy: every user mistake is a :class:`HadnasError` with a located message.

The CLI turns any ``HadnasError`` into exit code 2 and prints its message without a traceback;
anything else is a bug in hadnas and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Loc:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One located problem: ``FILE:LINE:COL: PATH: message``."""

    loc: Loc | None
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = str(self.loc) if self.loc is not None else "<unknown>:0:0"
        path = self.path or "<root>"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {path}: {prefix}{self.message}"


class HadnasError(Exception):
    """Base class of every error hadnas raises for a user mistake."""


class SpecError(HadnasError):
    """A search space (or architecture) file is invalid; carries every problem found at once."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class GraphError(SpecError):
    """The resolved graph of an architecture is invalid (cycle, arity, shape mismatch...)."""


class UnknownNameError(HadnasError, KeyError):
    """An unknown primitive, dataset, sampler... with a "did you mean" suggestion."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class BuildError(HadnasError):
    """An architecture could not be turned into a module."""


class ExportError(HadnasError):
    """An architecture could not be exported as standalone code."""


class TaskError(HadnasError):
    """A dataset or task is unknown, malformed, or does not match the space's inputs."""


class SearchError(HadnasError):
    """A search could not run (bad storage URL, finished study, failure budget exceeded...)."""


class InfeasibleTrial(HadnasError):
    """A trial's architecture violates a hard constraint; it is recorded and never trained."""
