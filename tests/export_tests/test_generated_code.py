"""Properties of every generated file: audit, imports, ruff, byte stability, state_dict keys."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hadnas
from hadnas.export import audit_source, import_model_file, to_source
from tests.export_tests.conftest import CASES

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_IMPORTS = {
    "__future__",
    "collections.abc",
    "dataclasses",
    "math",
    "typing",
    "torch",
    "torch.nn",
    "torch.nn.functional",
}
BANNED_NAMES = {"eval", "exec", "open", "__import__", "compile", "globals", "locals", "vars"}


def _independent_audit(source: str) -> list[str]:
    """A second, simpler audit than hadnas's own (so a bug in one does not hide a problem)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name not in ALLOWED_IMPORTS]
        elif isinstance(node, ast.ImportFrom):
            if node.module not in ALLOWED_IMPORTS or node.level:
                problems.append(f"from {node.module}")
        elif isinstance(node, ast.Name) and node.id in BANNED_NAMES:
            problems.append(node.id)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr":
            name = node.args[1] if len(node.args) > 1 else None
            prefix = (
                name.value
                if isinstance(name, ast.Constant)
                else (
                    name.values[0].value
                    if isinstance(name, ast.JoinedStr) and isinstance(name.values[0], ast.Constant)
                    else "__"
                )
            )
            if not isinstance(prefix, str) or prefix.startswith("_"):
                problems.append("getattr with a computed or dunder name")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            if node.attr not in ("__init__", "__class__", "__name__", "__qualname__"):
                problems.append(node.attr)
    return problems


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_audit_passes(exported: dict[str, Path], case_id: str) -> None:
    source = (exported[case_id] / "model.py").read_text()
    assert audit_source(source) == []
    assert _independent_audit(source) == []


def test_audit_catches_hostile_code() -> None:
    hostile = {
        "import os\n": "import of 'os'",
        "from subprocess import run\n": "'subprocess'",
        "x = eval('1')\n": "eval",
        "def f():\n    return __import__('os')\n": "__import__",
        "def f(m, n):\n    return getattr(m, n)\n": "computed",
        "def f(m):\n    return getattr(m, '__globals__')\n": "dunder",
        "def f(m):\n    return m.__globals__\n": "__globals__",
        "print('hi')\n": "top-level",
        "X = open('M', 'w')\n": "open",
        "def f():\n    return torch.load('w.pt')\n": "torch.load",
    }
    for source, needle in hostile.items():
        problems = audit_source(source)
        assert problems and any(needle in p for p in problems), (source, problems)


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_state_dict_keys_are_the_built_models(exported: dict[str, Path], case_id: str) -> None:
    case = next(c for c in CASES if c.id == case_id)
    built = hadnas.build(case.arch)
    module = import_model_file(exported[case_id] / "model.py")
    assert list(module.Model().state_dict()) == list(built.state_dict())


def test_byte_stable_across_processes() -> None:
    """Same input, same bytes: twice here, and in a process with another hash seed."""
    path = ROOT / "search_spaces" / "digits_gated_poly.yaml"
    arch = hadnas.load_space(path).sample(0)
    first = to_source(arch)
    assert to_source(arch) == first
    code = (
        "import sys, hadnas; from hadnas.export import to_source; "
        f"sys.stdout.write(to_source(hadnas.load_space({str(path)!r}).sample(0)))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout
    assert out == first


def _ruff() -> str | None:
    venv_ruff = Path(sys.executable).with_name("ruff")
    return str(venv_ruff) if venv_ruff.exists() else shutil.which("ruff")


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed")
def test_ruff_check_clean(exported: dict[str, Path], tmp_path: Path) -> None:
    files = [str(exported[c.id] / "model.py") for c in CASES]
    config = str(ROOT / "pyproject.toml")
    proc = subprocess.run(
        [_ruff(), "check", "--no-cache", "--config", config, *files],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed")
def test_ruff_formatted(exported: dict[str, Path]) -> None:
    """Generated files are already in ruff-format style (copied primitive sources included)."""
    files = [str(exported[c.id] / "model.py") for c in CASES]
    config = str(ROOT / "pyproject.toml")
    proc = subprocess.run(
        [_ruff(), "format", "--no-cache", "--config", config, "--diff", *files],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
