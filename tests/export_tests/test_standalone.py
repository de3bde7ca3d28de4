"""Exported code runs without hadnas and reproduces the built model, for every case.

One subprocess (``python -I -S``: no hadnas on the path, an audit hook denying process
creation, sockets, unpickling and file writes) checks every export of the session, so the
suite pays one interpreter start-up: exact outputs in float64, within 1e-6 in float32.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from tests.export_tests.conftest import CASES

CHECKER = Path(__file__).with_name("_standalone_check.py")


class _Payload:
    """Unpickling this runs ``os.system("touch MARKER")``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        import os

        return (os.system, (f"touch {self.marker}",))


def write_payload(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"stem.weight": _Payload(marker)}, protocol=2))


def run_checker(entries: list[dict[str, Any]], tmp: Path) -> dict[str, str | None]:
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps({"site": site, "entries": entries}))
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(CHECKER), str(manifest)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def standalone(exported: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("standalone")
    entries: list[dict[str, Any]] = []
    for case in CASES:
        n_inputs = len(case.arch.inputs)
        entries.append(
            {"kind": "model", "id": case.id, "dir": str(exported[case.id]), "n_inputs": n_inputs}
        )
    weights, marker = tmp / "model.safetensors", tmp / "MARKER"
    write_payload(weights, marker)
    entries.append(
        {"kind": "pickle", "id": "<pickle>", "weights": str(weights), "marker": str(marker)}
    )
    results = run_checker(entries, tmp)
    assert not marker.exists()
    return results


def test_hadnas_is_not_importable_there(standalone: dict) -> None:
    assert "<hadnas importable>" not in standalone, standalone.get("<hadnas importable>")
    assert "<hadnas imported>" not in standalone, standalone.get("<hadnas imported>")


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_reproduces_built_model(standalone: dict, case_id: str) -> None:
    assert case_id in standalone
    assert standalone[case_id] is None, standalone[case_id]


def test_pickle_weights_refused_and_nothing_runs(standalone: dict) -> None:
    assert standalone["<pickle>"] is None, standalone["<pickle>"]
