"""``hadnas export RUN_DIR`` and ``hadnas train ARCH.yaml`` on run folders like a search writes.

The run folders here are written directly (``arch.yaml``, ``metrics.json``, weights,
``summary.json``), so the tests need no search; one slow test runs a real search end to end.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

import hadnas
from hadnas.cli import main
from hadnas.export import load_exported
from tests._helpers import TINY
from tests.export_tests.test_standalone import write_payload

ROOT = Path(__file__).resolve().parents[2]
SPACE = TINY.replace("shape: [12]", "shape: [64]").replace("out: 3}", "out: 10}")
DIRECTIONS = [
    {"metric": "accuracy", "direction": "maximize"},
    {"metric": "params", "direction": "minimize"},
]


def make_run(
    root: Path, values: dict[int, list[float]], *, weights: bool = True, summary: bool = True
) -> Path:
    """A run folder with one trial per entry of ``values`` (accuracy, params)."""
    run = root / "runs" / "tiny"
    space_file = root / "tiny.yaml"
    space_file.write_text(SPACE)
    space = hadnas.load_space(space_file)
    (run / "trials").mkdir(parents=True)
    (run / "space.yaml").write_text(SPACE)
    (run / "run.json").write_text(json.dumps({"space_file": str(space_file)}))
    rows = []
    for number, vals in values.items():
        arch = space.sample(number)
        folder = run / "trials" / str(number)
        folder.mkdir()
        (folder / "arch.yaml").write_text(arch.to_yaml())
        metrics = {"accuracy": vals[0], "params": vals[1], "loss": 0.5, "data_seconds": 1.0}
        record = {
            "number": number,
            "state": "complete",
            "values": vals,
            "fail_reason": None,
            "metrics": metrics,
            "objectives": dict(zip(("accuracy", "params"), vals)),
        }
        (folder / "metrics.json").write_text(json.dumps(record))
        if weights:
            state = hadnas.build(arch, seed=number).state_dict()
            save_file(
                {k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors")
            )
        rows.append({"number": number, "status": "complete", "values": vals})
    if summary:
        front = [r for r in rows if r["number"] in (1, 2)]  # the tests pick values to match
        front.sort(key=lambda r: -r["values"][0])
        (run / "summary.json").write_text(
            json.dumps({"objectives": DIRECTIONS, "best": front, "trials": rows})
        )
    return run


VALUES = {0: [0.80, 5000.0], 1: [0.95, 4000.0], 2: [0.90, 1000.0], 3: [0.85, 2000.0]}


def _same_weights(out: Path, trial_dir: Path) -> bool:
    a, b = (
        load_file(str(out / "model.safetensors")),
        load_file(str(trial_dir / "model.safetensors")),
    )
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_export_best(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path, VALUES)
    assert main(["export", str(run), "--best", "-o", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    assert _same_weights(out, run / "trials" / "1")
    readme = (out / "README.md").read_text()
    assert "trial 1" in readme and "0.95" in readme and "trained during the search" in readme
    assert "data_seconds" not in readme  # timings stay in export.json
    assert "exported" in capsys.readouterr().out
    load_exported(out)  # loads and runs


def test_export_default_is_best_and_trial_n(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES)
    assert main(["export", str(run), "-o", str(tmp_path / "best")]) == 0
    assert _same_weights(tmp_path / "best", run / "trials" / "1")
    assert main(["export", str(run), "--trial", "3", "-o", str(tmp_path / "t3")]) == 0
    assert _same_weights(tmp_path / "t3", run / "trials" / "3")
    assert json.loads((tmp_path / "t3" / "export.json").read_text())["trial"] == 3


def test_export_pareto(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES)
    assert main(["-q", "export", str(run), "--pareto", "-o", str(tmp_path / "front")]) == 0
    assert sorted(p.name for p in (tmp_path / "front").iterdir()) == ["trial_1", "trial_2"]
    for n in (1, 2):
        assert _same_weights(tmp_path / "front" / f"trial_{n}", run / "trials" / str(n))


def test_front_without_summary(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES, summary=False)
    assert main(["export", str(run), "--pareto", "-o", str(tmp_path / "front")]) == 0
    assert sorted(p.name for p in (tmp_path / "front").iterdir()) == ["trial_1", "trial_2"]


def test_trial_without_weights_gets_fresh_ones(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES, weights=False)
    assert main(["export", str(run), "--trial", "0", "-o", str(tmp_path / "out")]) == 0
    assert "fresh (untrained)" in (tmp_path / "out" / "README.md").read_text()


def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path, VALUES)
    assert main(["export", str(run), "--trial", "9", "-o", str(tmp_path / "o")]) == 2
    assert "trial 9" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2


def test_pickled_trial_weights_are_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES)
    marker = tmp_path / "MARKER"
    write_payload(run / "trials" / "1" / "model.safetensors", marker)
    assert main(["export", str(run), "--best", "-o", str(tmp_path / "out")]) == 2
    assert not marker.exists()
    assert not (tmp_path / "out" / "model.py").exists()


def test_train_then_export(tmp_path: Path) -> None:
    arch_file = tmp_path / "arch.yaml"
    space = hadnas.load_space("tiny.yaml", text=SPACE)
    arch_file.write_text(space.sample(2).to_yaml())
    out = tmp_path / "out"
    assert main(["-q", "train", str(arch_file), "--epochs", "1", "-o", str(out)]) == 0
    record = json.loads((out / "export.json").read_text())
    assert 0.0 <= record["metrics"]["accuracy"] <= 1.0
    assert record["training"]["epochs"] == 1 and record["dataset"] == "digits"
    stats = load_file(str(out / "preprocess.safetensors"))
    assert stats["x.mean"].shape == (64,) and stats["x.std"].shape == (64,)
    assert "preprocess.safetensors" in (out / "README.md").read_text()
    load_exported(out)


def test_export_retrain(tmp_path: Path) -> None:
    run = make_run(tmp_path, VALUES)
    out = tmp_path / "out"
    assert main(["-q", "export", str(run), "--trial", "2", "--retrain", "1", "-o", str(out)]) == 0
    record = json.loads((out / "export.json").read_text())
    assert record["trial"] == 2 and "retrained" in record["weights"]
    assert not _same_weights(out, run / "trials" / "2")


def test_train_refuses_a_space_with_choices(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    assert main(["train", str(path), "-o", str(tmp_path / "out")]) == 2


def test_cli_module_imports_only_argparse() -> None:
    tree = ast.parse((ROOT / "hadnas" / "cli" / "_export.py").read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {getattr(n, "module", None) for n in top}
    assert names - {None, "argparse", "annotations", "__future__", "typing", "Any"} == set()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("export", "train"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "-o OUT_DIR" in capsys.readouterr().out


@pytest.mark.slow
def test_real_search_then_export(tmp_path: Path) -> None:
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text(SPACE)
    result: Any = hadnas.search(space_file, hadnas.SearchConfig(trials=2, runs_dir=tmp_path))
    out = tmp_path / "out"
    assert main(["export", str(result.run_dir), "--pareto", "-o", str(out)]) == 0
    folders = sorted(out.iterdir())
    assert folders and all(f.name.startswith("trial_") for f in folders)
    for folder in folders:
        load_exported(folder)
        assert "trained during the search" in (folder / "README.md").read_text()
