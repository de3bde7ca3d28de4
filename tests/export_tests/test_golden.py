"""Golden files: the exported source of each example space (seed 0), compared byte for byte.

A change in generated code shows up as a diff of ``golden/<space>.py.txt`` (kept as ``.txt`` so
formatters and linters never rewrite them). After an intended change, regenerate with::

    HADNAS_REGEN_GOLDEN=1 .venv/bin/pytest tests/export_tests/test_golden.py

and review the diff before committing.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

import hadnas
from hadnas.export import to_source
from tests.export_tests._cases import SPACES

GOLDEN = Path(__file__).with_name("golden")
REGEN = os.environ.get("HADNAS_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("space", SPACES, ids=[p.stem for p in SPACES])
def test_golden_source(space: Path) -> None:
    source = to_source(hadnas.load_space(space).sample(0))
    golden = GOLDEN / f"{space.stem}.py.txt"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(source.encode("utf-8"))
    assert golden.is_file(), f"no golden file {golden}; run with HADNAS_REGEN_GOLDEN=1"
    want = golden.read_bytes().decode("utf-8")
    if source != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True), source.splitlines(True), str(golden), "generated"
            )
        )
        pytest.fail(f"generated code changed (HADNAS_REGEN_GOLDEN=1 to accept):\n{diff[:6000]}")


def test_no_stale_golden_files() -> None:
    stems = {p.stem for p in SPACES}
    stale = [p.name for p in GOLDEN.glob("*.py.txt") if p.name[: -len(".py.txt")] not in stems]
    assert not stale, f"golden files without a space: {stale}"
