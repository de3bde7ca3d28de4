from __future__ import annotations

import json

import pytest

from hadnas.cli import main
from hadnas.latency._check import compare, render
from tests._helpers import TINY


def test_compare_rows() -> None:
    p1 = [1.0, 2.0, 3.0, 4.0]
    p2 = [1.0, 2.1, 3.0, 5.0]
    lut = [1.0, 2.05, 3.3, 4.5]
    flops = [2.0, 2.0, 2.0, 2.0]
    meas, pred, base = compare(p1, p2, lut, flops)
    assert meas.within_10 == 0.75 and meas.spearman == pytest.approx(1.0)
    assert pred.within_10 == 1.0 and pred.spearman == pytest.approx(1.0)
    assert base.within_10 == 0.25 and base.rmspe > pred.rmspe
    assert meas.n == 4


def test_compare_at_table_speed_divides_by_the_slowdown() -> None:
    p1, p2 = [2.0, 4.0], [3.0, 6.0]  # pass 1 ran 2x slower than the table, pass 2 3x
    rows = compare(p1, p2, [1.0, 2.0], [1.0, 1.0], speed=(2.0, 3.0))
    assert [r.name for r in rows][3:] == [
        "predictor (LUT), at table speed",
        "FLOPs-linear, at table speed",
    ]
    assert rows[3].within_10 == 1.0 and rows[3].rmspe == pytest.approx(0.0)
    assert rows[1].within_10 == 0.0  # as measured, the machine's slow phase shows


def test_render_has_one_row_per_method() -> None:
    from hadnas.latency import CheckReport

    rows = compare([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0])
    table = render(CheckReport(rows, [1.0], [1.0], [1.0], [1.0], 1.0, (0.1, 0.2), "fp"))
    assert table.row_count == 3


@pytest.fixture
def tiny_file(write):
    fast = "latency: {batch_size: 1, threads: 1, warmup: 1, repeats: 2, rounds: 2}\n"
    return write("tiny.yaml", TINY + fast)


def test_cli_latency_commands(tiny_file, table_dir, capsys) -> None:
    assert main(["latency", "measure", str(tiny_file), "--samples", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and rows[0]["arch"] == "seed 0" and rows[0]["ms"] > 0

    assert main(["latency", "predict", str(tiny_file)]) == 2  # no table yet: a clear error
    assert "hadnas latency profile" in capsys.readouterr().err

    assert (
        main(
            ["latency", "profile", str(tiny_file), "--samples", "5", "--calibrate", "3", "--json"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["op_configs"] > 0 and summary["calibration_models"] == 3

    assert main(["latency", "predict", str(tiny_file), "--samples", "2", "--json"]) == 0
    preds = json.loads(capsys.readouterr().out)
    assert [p["arch"] for p in preds] == ["seed 0", "seed 1"] and preds[0]["lut_ms"] > 0

    assert main(["latency", "check", str(tiny_file), "--samples", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [r["name"].split()[0] for r in report["rows"]]
    assert names[:3] == ["measurement", "predictor", "FLOPs-linear"] and len(names) == 5
    assert len(report["pass1"]) == 3


def test_cli_help_lists_subcommands(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["latency", "--help"])
    out = capsys.readouterr().out
    for name in ("measure", "profile", "predict", "check"):
        assert name in out
