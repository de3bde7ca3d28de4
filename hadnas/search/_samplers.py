"""Samplers and pruners from the space's ``search:`` block, seeded and checked up front.

A combination that cannot work (pruning a multi-objective study, CMA-ES on two objectives,
a grid over a continuous range) is refused before any trial runs, with the fix in the message.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hadnas.exceptions import SearchError

if TYPE_CHECKING:
    import optuna

    from hadnas.space import SearchSpace

SAMPLERS = ("tpe", "nsga2", "random", "gp", "cmaes", "qmc", "grid")
PRUNERS = ("none", "median", "hyperband")
TRAINING_METRICS = ("accuracy", "loss", "r2")


class _Probe:
    """A trial-like object recording each parameter's kind and domain over a few samples."""

    def __init__(self, seed: int) -> None:
        from hadnas.space import RandomTrial

        self.trial = RandomTrial(seed)
        self.domains: dict[str, tuple[str, Any]] = {}

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.domains[name] = ("categorical", tuple(choices))
        return self.trial.suggest_categorical(name, choices)

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        self.domains[name] = ("int", tuple(range(low, high + 1, step)))
        return self.trial.suggest_int(name, low, high, step=step, log=log)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        self.domains[name] = ("float", (low, high))
        return self.trial.suggest_float(name, low, high, step=step, log=log)


def probe_domains(space: SearchSpace, samples: int = 32) -> dict[str, tuple[str, Any]]:
    """Every parameter seen over ``samples`` random architectures, with its kind and domain."""
    from hadnas.space import define_by_run

    domains: dict[str, tuple[str, Any]] = {}
    for seed in range(samples):
        probe = _Probe(seed)
        define_by_run(space.spec, probe)
        domains.update(probe.domains)
    return domains


def make_sampler(
    space: SearchSpace, *, trials: int, seed: int, workers: int = 1
) -> optuna.samplers.BaseSampler:
    """The space's sampler; ``seed`` differs per worker so workers do not propose twins."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    spec = space.spec.search
    name = spec.sampler
    n_obj = len(space.spec.objectives)
    warnings.filterwarnings("ignore", category=ExperimentalWarning)
    if name == "tpe":
        # Optuna starts TPE after 10 random trials; scale that with small budgets too
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=workers > 1,
            n_startup_trials=max(4, min(10, trials // 4)),
        )
    if name == "nsga2":
        # Optuna's default population (50) would leave a 30-trial study in generation 0, i.e.
        # random search: scale it with the budget so a few generations run.
        population = max(4, min(50, trials // 5))
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "qmc":
        return optuna.samplers.QMCSampler(
            seed=seed, scramble=True, warn_independent_sampling=False
        )
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    if name == "cmaes":
        if n_obj > 1:
            raise SearchError(
                f"{space.spec.file}: search.sampler: cmaes optimises one objective, "
                f"but the space declares {n_obj}; use nsga2, tpe or gp"
            )
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise SearchError(
                "search.sampler: cmaes needs the `cmaes` package "
                "(pip install cmaes); or use tpe or gp"
            ) from None
        domains = probe_domains(space)
        if not any(kind != "categorical" for kind, _ in domains.values()):
            raise SearchError(
                f"{space.spec.file}: search.sampler: cmaes needs numeric "
                "(int/float/log) domains, but every choice in this space is "
                "categorical; use tpe"
            )
        warnings.filterwarnings("ignore", message=".*CmaEsSampler will not use them.*")
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "grid":
        domains = probe_domains(space)
        floats = [k for k, (kind, _) in domains.items() if kind == "float"]
        if floats:
            raise SearchError(
                f"{space.spec.file}: search.sampler: grid needs finite domains, "
                f"but {', '.join(floats)} are continuous; use choice: lists "
                "or another sampler"
            )
        grid = {k: list(values) for k, (_, values) in domains.items()}
        return optuna.samplers.GridSampler(grid, seed=seed)
    raise SearchError(f"unknown sampler {name!r} (samplers: {', '.join(SAMPLERS)})")


def make_pruner(space: SearchSpace) -> optuna.pruners.BasePruner | None:
    """``median``/``hyperband`` on per-epoch reports; refused for several objectives."""
    import optuna

    spec = space.spec
    name = spec.search.pruner
    if name == "none":
        return None
    if len(spec.objectives) > 1:
        raise SearchError(
            f"{spec.file}: search.pruner: {name} cannot prune a study with "
            f"{len(spec.objectives)} objectives (Optuna prunes on one reported "
            "value); remove the pruner or keep one objective"
        )
    if spec.objectives[0].metric not in TRAINING_METRICS:
        raise SearchError(
            f"{spec.file}: search.pruner: {name} prunes on per-epoch values, but "
            f"the objective {spec.objectives[0].metric} is known before "
            "training; remove the pruner"
        )
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    epochs = space.spec.task.epochs
    max_resource = epochs if isinstance(epochs, int) else "auto"
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_resource)
