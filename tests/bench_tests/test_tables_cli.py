"""The shipped tables are complete and current, and ``hadnas bench`` works end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hadnas.bench import count_architectures, list_tables, load_table, stale_warning
from hadnas.cli import main
from tests._helpers import ROOT

SHIPPED = ("sign-product-poly", "friedman-poly")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_table_is_complete_and_matches_its_space_file(name: str) -> None:
    assert name in list_tables()
    table = load_table(name)
    assert table.meta["complete"] is True
    assert len(table) == count_architectures(table.space) == table.meta["architectures"]
    space_file = ROOT / table.meta["space_file"]
    assert stale_warning(table, space_file) is None, "rebuild the table: its space changed"
    metrics = {o.metric for o in table.space.spec.objectives} | {"params", "latency_ms"}
    for entry in table.entries:
        assert entry.ok and metrics <= set(entry.metrics), entry
    assert load_table(space_file).entries == table.entries  # a space path finds its table


def test_replay_command_prints_figures_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    argv = ["bench", "friedman-poly", "--sampler", "tpe", "--trials", "8", "--seeds", "2"]
    assert main([*argv, "--constraint", "params<=400", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "tpe" in text and "random" in text and "infeasible" in text
    data = json.loads(out.read_text())
    assert set(data["samplers"]) == {"tpe", "random"}
    for figures in data["samplers"].values():
        assert figures["infeasible_trained"] == 0 and len(figures["reach"]) == 2


def test_list_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "list"]) == 0
    assert "sign-product-poly: 345 architectures" in capsys.readouterr().out
    assert main(["bench", "no-such-table"]) == 2
    assert "no benchmark table" in capsys.readouterr().err
    assert main(["bench", "friedman-poly", "--constraint", "params<400"]) == 2
    assert "METRIC<=VALUE" in capsys.readouterr().err
    assert main(["bench", "build", "x.yaml"]) == 2


def test_build_command_trains_and_times_a_few(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "small.yaml"
    space.write_text(
        "hadnas: 1\nname: small\n"
        "task: {dataset: sign_product, n_samples: 200, epochs: 1, batch_size: 64}\n"
        "inputs: {x: {shape: [8]}}\n"
        "nodes:\n  l1: {choice: [{op: linear, out: 4}, {op: poly_ccp, degree: {int: [1, 3]}, "
        "rank: 4, out: 4}]}\n  head: {op: linear, out: 2}\n"
        "output: head\nobjectives: {accuracy: max, latency_ms: min}\n",
        encoding="utf-8",
    )
    out = tmp_path / "small.json"
    assert main(["bench", "build", str(space), "-o", str(out), "--limit", "3"]) == 0
    assert "wrote" in capsys.readouterr().out
    table = load_table(out)
    assert len(table) == 3 and table.meta["complete"] is False
    assert all(e.metrics["latency_ms"] > 0 and "accuracy" in e.metrics for e in table.entries)
    assert main(["bench", "build", str(space), "-o", str(out), "--resume"]) == 0
    table = load_table(out)
    assert len(table) == 4 and table.meta["complete"] is True
    assert main(["bench", str(out), "--trials", "4", "--seeds", "1"]) == 0
