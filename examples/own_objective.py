"""Use hadnas as a plugin inside your own Optuna objective.

hadnas gives you the search space (``space.suggest(trial)``) and the model
(``hadnas.build``); you keep full control of the study, the training loop and the metric.
Run it: ``python examples/own_objective.py --trials 5``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import optuna
import torch

import hadnas
from hadnas.tasks import load_dataset, prepare

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "digits_gated_poly.yaml"


def main(trials: int = 5, epochs: int = 2) -> optuna.Study:
    space = hadnas.load_space(SPACE)
    data = prepare(load_dataset("digits", seed=0), seed=0)  # the same split for every trial
    x_train, y_train = data.train["x"], data.y_train
    x_val, y_val = data.val["x"], data.y_val

    def objective(trial: optuna.Trial) -> float:
        arch = space.suggest(trial)  # every choice of the space becomes a trial parameter
        params = arch.graph.totals()["params"]
        trial.set_constraint("params", params - 60_000)  # Optuna's <= 0 feasible convention
        model = hadnas.build(arch, seed=trial.number)  # forward(*inputs in declared order)
        opt = torch.optim.AdamW(model.parameters(), lr=float(arch.task["lr"]))
        for epoch in range(epochs):
            for idx in torch.randperm(len(y_train)).split(64):
                loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                acc = (model(x_val).argmax(-1) == y_val).float().mean().item()
            trial.report(acc, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return acc

    torch.set_num_threads(1)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    best = main(args.trials, args.epochs).best_trial
    print(f"best trial {best.number}: accuracy {best.value:.3f}")
    print("\n".join(f"  {k} = {v}" for k, v in best.params.items()))
