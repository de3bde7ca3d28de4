"""SearchSpace: sample or suggest architectures from a validated spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hadnas.exceptions import Diagnostic, GraphError, SpecError
from hadnas.space._arch import Architecture, ResolvedNode
from hadnas.space._resolve import define_by_run
from hadnas.space._trial import ExtremeTrial, RandomTrial, Recorder
from hadnas.spec import FloatRange, IntRange, SpaceSpec, load_spec
from hadnas.spec._schema import Choice, is_domain

PROBE_SAMPLES = 24


class SearchSpace:
    """A validated space. ``suggest(trial)`` inside an Optuna objective; ``sample(seed=)`` alone.

    Example::

        space = hadnas.load_space("search_spaces/digits_gated_poly.yaml")

        def objective(trial):
            arch = space.suggest(trial)
            model = hadnas.build(arch)
            ...
    """

    def __init__(self, spec: SpaceSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    def suggest(self, trial: Any) -> Architecture:
        """Define-by-run: ask ``trial`` (``optuna.Trial``, ``FixedTrial``…) for every choice."""
        return define_by_run(self.spec, trial)

    def sample(self, seed: int | None = 0) -> Architecture:
        """A uniformly random architecture (reproducible for a given seed)."""
        return define_by_run(self.spec, Recorder(RandomTrial(seed)))

    def extremes(self) -> tuple[Architecture, Architecture]:
        """The all-first/lowest and all-last/highest architectures (cheap bound probes)."""
        return (define_by_run(self.spec, ExtremeTrial(False)),
                define_by_run(self.spec, ExtremeTrial(True)))  # fmt: skip

    @property
    def is_fixed(self) -> bool:
        """True when no choice is left (e.g. a loaded ``arch.yaml``)."""
        recorder = Recorder(RandomTrial(0))
        define_by_run(self.spec, recorder)
        return not recorder.params

    def architecture(self) -> Architecture:
        """The one architecture of a fixed space (raises if choices remain)."""
        recorder = Recorder(RandomTrial(0))
        arch = define_by_run(self.spec, recorder)
        if recorder.params:
            left = ", ".join(recorder.params)
            raise SpecError([Diagnostic(None, "", f"space {self.name!r} still has choices "
                                        f"({left}); sample or search it first")])  # fmt: skip
        return arch

    def check(self, samples: int = PROBE_SAMPLES) -> list[Diagnostic]:
        """Probe the space: build the IR of extreme and random samples; collect shape errors
        and constraints that none of them meets. Returns warnings; raises on errors."""
        errors: dict[str, Diagnostic] = {}
        warnings: dict[str, Diagnostic] = {}
        fixed = self.is_fixed
        archs = [self.sample(0)] if fixed else [
            *self.extremes(), *(self.sample(seed) for seed in range(samples))]  # fmt: skip
        totals = []
        for arch in archs:
            try:
                graph = arch.graph
            except GraphError as exc:
                for d in exc.diagnostics:
                    errors.setdefault(d.path, d)  # one per place, not one per copy or sample
                continue
            for w in graph.warnings:
                warnings.setdefault(w.path + w.message, w)
            totals.append(graph.totals())
        if errors:
            msgs = list(errors.values())
            if len(archs) > 1 and not fixed:
                msgs = [Diagnostic(d.loc, d.path, f"{d.message} (in some sampled architectures)")
                        for d in msgs]  # fmt: skip
            raise GraphError(msgs)
        for c in self.spec.constraints:
            if c.metric not in ("params", "flops", "bytes") or not totals:
                continue
            values = [t[c.metric] for t in totals]
            if c.violation(min(values) if c.max is not None else max(values)) > 0:
                best = min(values) if c.max is not None else max(values)
                if fixed:  # an infeasible architecture is still one to show, draw, export
                    warnings.setdefault(c.metric, Diagnostic(c.loc, f"constraints.{c.metric}",
                        f"this architecture has {c.metric} = {best}, which violates the "
                        "constraint", "warning"))  # fmt: skip
                    continue
                raise SpecError([Diagnostic(c.loc, f"constraints.{c.metric}",
                    f"no probed architecture ({len(archs)} incl. the smallest and largest choice) "
                    f"meets this constraint: best {c.metric} seen is {best}; relax the bound or "
                    "shrink the space")])  # fmt: skip
        return list(warnings.values())

    def num_choices(self) -> int:
        """Number of distinct parameter domains (a rough size indicator)."""
        return len(self.sample(0).params)

    def __repr__(self) -> str:
        return f"SearchSpace({self.name!r}, file={self.spec.file!r})"


def load_space(source: str | Path, *, text: str | None = None, check: bool = True) -> SearchSpace:
    """Load, validate and (with ``check``) probe a space or an architecture YAML file."""
    space = SearchSpace(load_spec(source, text=text))
    if check:
        space.check()
    return space


__all__ = [
    "Architecture",
    "ResolvedNode",
    "SearchSpace",
    "load_space",
    "define_by_run",
    "RandomTrial",
    "Choice",
    "IntRange",
    "FloatRange",
    "is_domain",
]
