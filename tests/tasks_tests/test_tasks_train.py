"""Training: learning, determinism, non-finite detection, callbacks and output handling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from hadnas.exceptions import HadnasError, TaskError
from hadnas.tasks import (
    NonFiniteLoss,
    TaskData,
    load_dataset,
    prepare,
    total_steps,
    train_and_evaluate,
)
from hadnas.tasks.train import STEP_LOG_ENV


@pytest.fixture(scope="module")
def digits() -> TaskData:
    return prepare(load_dataset("digits"), seed=0)


def _linear(seed: int = 0, out: int = 10) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(64, out)


def test_linear_model_learns_digits(digits: TaskData) -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    before = total_steps()
    m = train_and_evaluate(
        _linear(),
        digits,
        input_names=["x"],
        epochs=4,
        batch_size=64,
        lr=1e-2,
        on_epoch=lambda e, met: seen.append((e, met)),
    )
    assert m["accuracy"] > 0.9
    assert m["epochs_run"] == 4 and m["steps"] == 4 * -(-digits.n_train // 64)
    assert total_steps() - before == m["steps"]
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    assert set(seen[-1][1]) == {"accuracy", "loss", "train_loss"}
    assert seen[-1][1]["accuracy"] == m["accuracy"] and m["loss"] > 0 and m["train_seconds"] > 0


def test_training_is_deterministic_under_seed(digits: TaskData) -> None:
    kw = dict(input_names=["x"], epochs=2, batch_size=32, lr=1e-2, optimizer="sgd")
    a = train_and_evaluate(_linear(), digits, seed=3, **kw)
    b = train_and_evaluate(_linear(), digits, seed=3, **kw)
    c = train_and_evaluate(_linear(), digits, seed=4, **kw)
    assert a["loss"] == b["loss"] and a["train_loss"] == b["train_loss"]
    assert a["loss"] != c["loss"]


class _NaNAt(nn.Module):
    """A linear model whose ``bad``-th training forward returns NaN."""

    def __init__(self, bad: int) -> None:
        super().__init__()
        self.lin, self.calls, self.bad = nn.Linear(64, 10), 0, bad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls == self.bad:
                return self.lin(x) * float("nan")
        return self.lin(x)


def test_nan_loss_stops_at_that_step(digits: TaskData) -> None:
    model = _NaNAt(bad=30)  # in epoch 2: 23 steps per epoch
    weights = model.lin.weight.detach().clone()
    with pytest.raises(NonFiniteLoss) as err:
        train_and_evaluate(model, digits, input_names=["x"], epochs=5, batch_size=64, lr=1e-2)
    exc = err.value
    assert (exc.step, exc.epoch, exc.what) == (30, 2, "loss") and exc.value != exc.value
    assert model.calls == 30  # no further step ran
    assert torch.isfinite(model.lin.weight).all() and not torch.equal(weights, model.lin.weight)
    assert isinstance(exc, HadnasError) and exc.fail_reason == "non_finite_loss"
    assert "non-finite loss (nan) at step 30 (epoch 2)" in str(exc)
    again = pickle.loads(pickle.dumps(exc))  # crosses process boundaries intact
    assert (again.step, again.epoch, again.what) == (30, 2, "loss")


class _BadGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: object, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx: object, g: torch.Tensor) -> torch.Tensor:
        return g * float("inf")


class _InfGrad(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BadGrad.apply(self.lin(x))


def test_non_finite_gradient_is_caught_before_the_update(digits: TaskData) -> None:
    model = _InfGrad()
    weights = model.lin.weight.detach().clone()
    with pytest.raises(NonFiniteLoss) as err:
        train_and_evaluate(model, digits, input_names=["x"], epochs=1, batch_size=64, lr=1e-2)
    assert (err.value.step, err.value.what) == (1, "gradient")
    assert torch.equal(model.lin.weight, weights)  # the bad update never happened


class _Cubic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(64, 16), nn.Linear(64, 16), nn.Linear(64, 16)
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.a(x) * self.b(x) * self.c(x))


def test_huge_learning_rate_diverges_into_non_finite_loss(digits: TaskData) -> None:
    torch.manual_seed(0)
    model = _Cubic()
    with pytest.raises(NonFiniteLoss) as err:
        train_and_evaluate(
            model, digits, input_names=["x"], epochs=3, batch_size=64, lr=1e6, optimizer="sgd"
        )
    assert 1 <= err.value.step <= 10 and err.value.epoch == 1


def test_on_epoch_may_stop_training(digits: TaskData) -> None:
    class Prune(Exception):
        pass

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        if epoch == 2:
            raise Prune

    with pytest.raises(Prune):
        train_and_evaluate(
            _linear(),
            digits,
            input_names=["x"],
            epochs=5,
            batch_size=64,
            lr=1e-2,
            on_epoch=on_epoch,
        )


def test_max_seconds_is_a_soft_budget(digits: TaskData) -> None:
    m = train_and_evaluate(
        _linear(), digits, input_names=["x"], epochs=50, batch_size=8, lr=1e-3, max_seconds=0.0
    )
    assert m["time_limited"] and m["steps"] == 1 and m["epochs_run"] == 1


def test_zero_epochs_runs_no_step_and_logs_nothing(
    digits: TaskData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "steps.jsonl"
    monkeypatch.setenv(STEP_LOG_ENV, str(log))
    before = total_steps()
    m = train_and_evaluate(_linear(), digits, input_names=["x"], epochs=0, batch_size=64, lr=1e-3)
    assert m["steps"] == 0 and m["epochs_run"] == 0 and total_steps() == before
    assert not log.exists()
    train_and_evaluate(_linear(), digits, input_names=["x"], epochs=1, batch_size=512, lr=1e-3)
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events == ["first_step", "end"]


def test_regression_reports_r2() -> None:
    data = prepare(load_dataset("friedman", n_samples=600), seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
    m = train_and_evaluate(model, data, input_names=["x"], epochs=15, batch_size=32, lr=3e-3)
    assert "accuracy" not in m and m["r2"] > 0.6


class _SeqModel(nn.Module):
    """Embedding + causal running mean: emits (B, T, C) logits."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.emb, self.head = nn.Embedding(vocab, 32), nn.Linear(64, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        e = self.emb(tokens)
        steps = torch.arange(1, e.shape[1] + 1, device=e.device).view(1, -1, 1)
        return self.head(torch.cat([e, e.cumsum(1) / steps], -1))


def test_sequence_outputs_are_scored_at_target_positions() -> None:
    data = prepare(load_dataset("selective_copy", n_train=200, n_val=50), seed=0)
    torch.manual_seed(0)
    m = train_and_evaluate(
        _SeqModel(10), data, input_names=["tokens"], epochs=1, batch_size=32, lr=1e-3
    )
    assert 0.0 <= m["accuracy"] <= 1.0 and m["steps"] == 7
    ar = prepare(load_dataset("assoc_recall", n_train=200, n_val=50), seed=0)
    m = train_and_evaluate(
        _SeqModel(20), ar, input_names=["tokens"], epochs=1, batch_size=32, lr=1e-3
    )
    assert m["steps"] == 7


def test_output_shape_errors_are_task_errors(digits: TaskData) -> None:
    with pytest.raises(TaskError, match="emits 5 class scores but dataset 'digits' has 10"):
        train_and_evaluate(
            _linear(out=5), digits, input_names=["x"], epochs=1, batch_size=64, lr=1
        )
    sc = prepare(load_dataset("selective_copy", n_train=40, n_val=10), seed=0)
    flat = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(160, 10))
    with pytest.raises(TaskError, match=r"cannot be scored against targets \[32, 8\]"):
        train_and_evaluate(flat, sc, input_names=["tokens"], epochs=1, batch_size=32, lr=1e-3)
    with pytest.raises(TaskError, match="unknown optimizer 'adamm'; did you mean 'adam'"):
        train_and_evaluate(
            _linear(), digits, input_names=["x"], epochs=1, batch_size=8, lr=1, optimizer="adamm"
        )
