"""The public surface: ``import hadnas`` stays light, and ``__all__`` changes only on purpose."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import hadnas
from tests._helpers import ROOT

#: Changing the public API is a decision: update this snapshot in the same change, on purpose.
PUBLIC_API = [
    "ArchGraph",
    "Architecture",
    "BuildError",
    "Diagnostic",
    "ExportError",
    "GraphError",
    "HadnasError",
    "HadnasModel",
    "InfeasibleTrial",
    "Param",
    "PrimitiveDef",
    "SearchError",
    "SearchSpace",
    "SpecError",
    "TaskError",
    "TensorSpec",
    "__version__",
    "build",
    "define_by_run",
    "get_primitive",
    "list_primitives",
    "load_space",
    "register_primitive",
    "export",
    "search",
    "SearchConfig",
    "register_dataset",
    "list_datasets",
    "load_dataset",
]

#: never imported by ``import hadnas`` (optional, slow, or only needed by one command)
HEAVY = [
    "ray",
    "tensorboard",
    "tensorboardX",
    "optuna",
    "matplotlib",
    "sklearn",
    "pandas",
    "scipy",
    "rich",
    "safetensors",
    "psycopg2",
    "sqlalchemy",
]

PROBE = """
import json, sys
heavy = set({heavy!r})
def loaded():
    return sorted({{m.split(".")[0] for m in sys.modules}} & heavy)
import hadnas
after_import = loaded()
import torch
arch = hadnas.load_space({space!r}).sample(0)
hadnas.build(arch)(torch.randn(2, 64))
print(json.dumps([after_import, loaded()]))
"""


@pytest.mark.timeout(240)
def test_import_hadnas_and_building_a_model_stay_light() -> None:
    space = str(ROOT / "search_spaces" / "digits_gated_poly.yaml")
    code = PROBE.format(heavy=HEAVY, space=space)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    after_import, after_build = json.loads(proc.stdout.strip().splitlines()[-1])
    assert after_import == [], f"import hadnas loaded {after_import}"
    assert after_build == [], f"load_space + build loaded {after_build}"


def test_all_snapshot() -> None:
    assert hadnas.__all__ == PUBLIC_API


@pytest.mark.parametrize("name", PUBLIC_API)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(hadnas, name) is not None


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hadnas.nope  # noqa: B018


def test_version() -> None:
    assert hadnas.__version__.count(".") >= 2
