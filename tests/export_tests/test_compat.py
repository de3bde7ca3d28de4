"""Exports of earlier hadnas releases keep working (reliability scenario 24).

``assets/<version>/`` holds an export written by that release (``model.py``, weights,
``arch.yaml``, ``export.json``). Each must still load standalone, its weights must still load
into today's built model, and today's exporter must re-export it. When cutting a release, add
its assets (never rewrite old ones) with::

    HADNAS_WRITE_RELEASE_ASSETS=1 .venv/bin/pytest tests/export_tests/test_compat.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

import hadnas
from hadnas.export import load_exported, load_weights

ASSETS = Path(__file__).with_name("assets")
SPACE = """\
hadnas: 1
name: compat
task: {dataset: digits}
inputs:
  x: {shape: [6]}
nodes:
  stem: {op: linear, in: x, out: 4}
  body:
    repeat: 2
    nodes:
      mix: {op: poly_ccp, in: $in, degree: 2, rank: 3}
      res: {op: add, in: [mix, $in]}
  head: {op: linear, in: body, out: 3}
output: head
"""

if os.environ.get("HADNAS_WRITE_RELEASE_ASSETS") == "1":
    target = ASSETS / hadnas.__version__
    if not target.exists():
        arch = hadnas.load_space("compat.yaml", text=SPACE).architecture()
        hadnas.export(arch, target, hadnas.build(arch, seed=0).state_dict(), metadata={"trial": 0})

RELEASES = sorted(p for p in ASSETS.glob("*") if p.is_dir())


def test_there_is_an_asset_for_this_release() -> None:
    assert (ASSETS / hadnas.__version__ / "model.py").is_file()


@pytest.mark.parametrize("release", RELEASES, ids=[p.name for p in RELEASES])
def test_old_export_still_works(release: Path, tmp_path: Path) -> None:
    record = json.loads((release / "export.json").read_text())
    assert record["format"] == "hadnas-export" and record["format_version"] <= 1
    old = load_exported(release)
    arch = hadnas.load_space(release / "arch.yaml").architecture()
    built = hadnas.build(arch)
    built.load_state_dict(load_weights(release / "model.safetensors"))  # same keys today
    x = torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(old(x), built.eval()(x))
    again = hadnas.export(release / "arch.yaml", tmp_path / "again", built.state_dict())
    with torch.no_grad():
        assert torch.equal(load_exported(again)(x), old(x))
