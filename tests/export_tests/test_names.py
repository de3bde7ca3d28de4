"""Hostile names never reach generated code (reliability scenario 22).

Two gates: the DSL refuses them at load time with FILE:LINE:COL, and the exporter refuses an
Architecture built in Python around the DSL, with a location, before it builds a model,
generates a line or creates the output folder.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import hadnas
from hadnas.exceptions import ExportError, SpecError
from hadnas.export import ModelCodeGen
from hadnas.export._literals import ImportTable, literal
from hadnas.export._names import checked
from tests._helpers import MINIMAL

HOSTILE = [
    "x; import os",
    'a")\nimport os#',
    "x=open('M','w').close()",
    'm");getattr(__import__("os"),"system")("touch M");("',
    "class",
    "match",
    "\ufb01lter",  # "ﬁlter": NFKC-normalises to the builtin `filter`
    "1abc",
    "",
    "\u202e",
    "sel\u0066",  # plain "self" spelled with an escape: reserved
    "__class__",
    "forward",
    "x" * 10_000,
]
LOCATED = re.compile(r":\d+:\d+: ")


def _space_with_node_name(name: str) -> str:
    doc = yaml.safe_load(MINIMAL)
    doc["nodes"] = {name: {"op": "linear", "in": "x", "out": 4}}
    doc["output"] = name
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6)


def _space_with_input_name(name: str) -> str:
    doc = yaml.safe_load(MINIMAL)
    doc["inputs"] = {name: {"shape": [8]}}
    doc["nodes"] = {"a": {"op": "linear", "in": name, "out": 4}}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6)


@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: repr(n)[:24])
def test_dsl_refuses_hostile_node_and_input_names(name: str) -> None:
    for text in (_space_with_node_name(name), _space_with_input_name(name)):
        with pytest.raises(SpecError) as info:
            hadnas.load_space("hostile.yaml", text=text)
        assert LOCATED.search(str(info.value)), str(info.value)[:300]


@pytest.fixture
def no_generation(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any build, IR construction or code generation (none may happen)."""
    calls: list[str] = []

    def spy(what: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            calls.append(what)
            raise AssertionError(f"{what} ran before the names were checked")

        return fail

    import hadnas.ir

    # `hadnas.build` is the function; the module is patched so `from hadnas.build import build`
    # inside the exporter sees the spy
    monkeypatch.setattr(sys.modules["hadnas.build"], "build", spy("build"))
    monkeypatch.setattr(hadnas.ir.ArchGraph, "from_architecture", spy("ir"))
    monkeypatch.setattr(ModelCodeGen, "generate", spy("generate"))
    return calls


BASE = hadnas.load_space("minimal.yaml", text=MINIMAL).architecture()  # before any spy


def _hostile_arch(name: str, where: str) -> hadnas.Architecture:
    arch = BASE
    if where == "node":
        node = dataclasses.replace(arch.nodes[0], name=name)
        return dataclasses.replace(arch, nodes=(node,), output=name)
    if where == "input":
        spec = dataclasses.replace(arch.inputs[0], name=name)
        node = dataclasses.replace(arch.nodes[0], inputs=(name,))
        return dataclasses.replace(arch, inputs=(spec,), nodes=(node,))
    node = dataclasses.replace(arch.nodes[0], op=name)
    return dataclasses.replace(arch, nodes=(node,))


@pytest.mark.parametrize("where", ["node", "input", "op"])
@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: repr(n)[:24])
def test_exporter_refuses_before_generating(
    name: str, where: str, tmp_path: Path, no_generation: list[str]
) -> None:
    if where == "op" and name in ("forward", "__class__", "sel\u0066", "match", "class"):
        pytest.skip("identifier-shaped op names are refused as unknown ops by the IR instead")
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        hadnas.export(_hostile_arch(name, where), out)
    message = str(info.value)
    assert LOCATED.search(message), message[:300]
    assert len(message) < 2000  # a 10 000-character name is shortened in the message
    assert no_generation == []
    assert not out.exists()


def test_dotted_parts_are_checked_one_by_one(tmp_path: Path, no_generation: list[str]) -> None:
    for name in ("body.0.class", "body.x;y.mix", "body.01.mix", "body..mix", "body.0"):
        with pytest.raises(ExportError):
            hadnas.export(_hostile_arch(name, "node"), tmp_path / "out")


@pytest.mark.parametrize(
    "name",
    [n for n in HOSTILE if not n.isidentifier() or n in ("class", "match")],
    ids=lambda n: repr(n)[:24],
)
def test_emitted_identifiers_are_checked(name: str) -> None:
    with pytest.raises(ExportError):
        checked(name)


@pytest.mark.parametrize("text", HOSTILE + ["'", '"', "\\", '"""', "\x00", "\n"])
def test_string_literals_round_trip(text: str) -> None:
    emitted = literal(text, ImportTable())
    assert ast.literal_eval(emitted) == text
    assert isinstance(ast.parse(emitted, mode="eval").body, ast.Constant)


def test_non_plain_values_are_refused() -> None:
    class Sneaky:
        def __repr__(self) -> str:
            return "__import__('os').system('touch M')"

    for value in (Sneaky(), {Sneaky(): 1}, [1, Sneaky()], {1, 2}, b"bytes", object):
        with pytest.raises(ExportError):
            literal(value, ImportTable())
