"""The primitive registry and third-party primitives through the ``hadnas.primitives`` group.

A tiny plugin package is written to a temporary folder and really installed into the running
interpreter's environment (``pip install --no-deps --no-build-isolation --no-index``: offline,
a few seconds), then uninstalled. Its entry points name a :class:`PrimitiveDef` subclass and a
module that registers with the decorator; a YAML space uses both ops.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import hadnas
from hadnas.exceptions import UnknownNameError
from hadnas.primitives import Param, PrimitiveDef, _registry, get_primitive, list_primitives
from tests._helpers import space_yaml

PLUGIN = "hadnas-test-plugin"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "hadnas-test-plugin"
version = "0.0.1"
description = "A throw-away hadnas plugin written by the test suite."

[project.entry-points."hadnas.primitives"]
plugin_scale = "hadnas_test_plugin:ScaleDef"
plugin_extra = "hadnas_test_plugin.extra"

[tool.setuptools]
packages = ["hadnas_test_plugin"]
"""

INIT = '''\
"""A test plugin: a learned scalar gain, registered through an entry point naming the class."""

import torch
from torch import nn

from hadnas.primitives import Param, PrimitiveDef, TensorSpec


class Scale(nn.Module):
    """y = g · x with one learned scalar g."""

    def __init__(self, init: float = 1.0) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * x


class ScaleDef(PrimitiveDef):
    """A learned scalar gain (test plugin)."""

    op = "plugin_scale"
    layouts = frozenset({"V"})
    hparams = {"init": Param(float, 1.0, doc="initial gain")}
    module = Scale
    formula = "y = g x"
    complexity = "O(d)"
    examples = (({"init": 0.5}, (TensorSpec((4,)),)),)

    def module_kwargs(self, ins):
        return {"init": self.hp["init"]}

    def num_params(self, ins):
        return 1
'''

EXTRA = '''\
"""A test plugin module that registers with the decorator when imported."""

from torch import nn

from hadnas.primitives import PrimitiveDef, TensorSpec, register_primitive


class Negate(nn.Module):
    """y = -x."""

    def forward(self, x):
        return -x


@register_primitive
class NegateDef(PrimitiveDef):
    """Negation (test plugin)."""

    op = "plugin_negate"
    layouts = frozenset({"V"})
    module = Negate
    formula = "y = -x"
    complexity = "O(d)"
    examples = (({}, (TensorSpec((4,)),)),)

    def module_kwargs(self, ins):
        return {}

    def num_params(self, ins):
        return 0
'''


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("plugin")
    (root / "pyproject.toml").write_text(PYPROJECT)
    pkg = root / "hadnas_test_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(INIT)
    (pkg / "extra.py").write_text(EXTRA)
    proc = _pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(root))
    if proc.returncode != 0:
        pytest.fail(f"could not install the test plugin:\n{proc.stdout}\n{proc.stderr}")
    importlib.invalidate_caches()
    try:
        yield root
    finally:
        _pip("uninstall", "-y", PLUGIN)
        for name in [m for m in sys.modules if m.startswith("hadnas_test_plugin")]:
            del sys.modules[name]
        importlib.invalidate_caches()


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, type[PrimitiveDef]]:
    """A private copy of the registry, with entry points not yet loaded."""
    registry = dict(_registry._REGISTRY)
    monkeypatch.setattr(_registry, "_REGISTRY", registry)
    monkeypatch.setattr(_registry, "_ENTRY_POINTS_LOADED", False)
    return registry


# -- the registry -------------------------------------------------------------------------------
def test_get_and_list() -> None:
    assert get_primitive("linear").op == "linear"
    assert get_primitive(get_primitive("linear")) is get_primitive("linear")
    assert "poly_ccp" in list_primitives("poly_*") and "linear" not in list_primitives("poly_*")
    assert set(list_primitives(domain="fusion")) >= {"mlb", "mfb", "mutan", "block"}
    with pytest.raises(UnknownNameError, match="unknown op 'linaer'; did you mean 'linear'"):
        get_primitive("linaer")
    assert isinstance(UnknownNameError("x"), KeyError)


@pytest.mark.usefixtures("fresh_registry")
def test_register_warns_on_overwrite() -> None:
    class Mine(PrimitiveDef):
        op = "linear"

    with pytest.warns(UserWarning, match="'linear' is already registered by hadnas.primitives"):
        hadnas.register_primitive(Mine)
    assert get_primitive("linear") is Mine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hadnas.register_primitive(Mine)  # the same class again: no warning


@pytest.mark.usefixtures("fresh_registry")
def test_register_with_a_name_and_as_a_decorator_factory() -> None:
    @hadnas.register_primitive(name="test_renamed")
    class Renamed(PrimitiveDef):
        hparams = {"k": Param(int, 1)}

    assert get_primitive("test_renamed") is Renamed and Renamed.op == "test_renamed"
    with pytest.raises(ValueError, match="must be an identifier"):
        hadnas.register_primitive(Renamed, name="not valid")


# -- entry points -------------------------------------------------------------------------------
def test_entry_points_register_plugin_primitives(
    installed_plugin: Path, fresh_registry: dict[str, type[PrimitiveDef]]
) -> None:
    assert "plugin_scale" not in fresh_registry
    ops = list_primitives("plugin_*")  # the first lookup loads the entry points
    assert ops == ["plugin_negate", "plugin_scale"]
    assert get_primitive("plugin_scale").__module__ == "hadnas_test_plugin"
    text = space_yaml({"g": {"op": "plugin_scale", "init": 2.0}, "n": {"op": "plugin_negate"}})
    arch = hadnas.load_space("plugin.yaml", text=text).architecture()
    model = hadnas.build(arch)
    x = torch.randn(3, 8)
    assert torch.allclose(model(x), -2.0 * x)
    assert "g.gain" in model.state_dict()


def test_a_fresh_interpreter_finds_the_plugin(installed_plugin: Path, tmp_path: Path) -> None:
    space = tmp_path / "plugin.yaml"
    space.write_text(space_yaml({"g": {"op": "plugin_scale"}, "n": {"op": "plugin_negate"}}))
    code = "import sys, hadnas.cli; sys.exit(hadnas.cli.main(['validate', sys.argv[1]]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(space)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "OK (architecture)" in proc.stdout
