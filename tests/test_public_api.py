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
HEAVY = ["ray", "tensorboard", "tensorboardX", "optuna", "matplotlib", "sklearn", "pandas",
         "scipy", "rich", "safetensors", "psycopg2", "sqlalchemy"]  # fmt: skip

PROBE = """
import json, sys
{setup}
heavy = {heavy!r}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""


def _loaded_after(setup: str) -> list[str]:
    code = PROBE.format(setup=setup, heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(240)
def test_import_hadnas_and_building_a_model_stay_light() -> None:
    assert _loaded_after("import hadnas") == []
    setup = (
        "import hadnas, torch\n"
        f"arch = hadnas.load_space({str(ROOT / 'search_spaces' / 'digits_gated_poly.yaml')!r}).sample(0)\n"
        "hadnas.build(arch)(torch.randn(2, 64))"
    )
    assert _loaded_after(setup) == []


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
