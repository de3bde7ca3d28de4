"""Names become Python identifiers in generated code: only boring ones are allowed."""

from __future__ import annotations

import pytest

from hadnas.spec._names import NAME_RE, STUDY_NAME_RE, name_problem


@pytest.mark.parametrize("name", ["x", "stem", "body2", "_private", "mix_1", "A" * 64, "Lin"])
def test_good_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("class", "is a Python keyword"),
        ("lambda", "is a Python keyword"),
        ("match", "is a Python keyword"),  # soft keyword
        ("print", "shadows a Python builtin"),
        ("open", "shadows a Python builtin"),
        ("__import__", "is reserved"),
        ("__init__", "is reserved"),
        ("train", "is reserved"),  # nn.Module.train
        ("forward", "is reserved"),
        ("parameters", "is reserved"),
        ("training", "is reserved"),  # an nn.Module instance attribute
        ("_modules", "is reserved"),
        ("self", "is reserved"),
        ("torch", "is reserved"),
        ("source", "is reserved"),  # HadnasModel.source
        ("input_names", "is reserved"),
        ("x=open('/etc/passwd')", "not a plain ASCII identifier"),
        ("a.b", "not a plain ASCII identifier"),
        ("1st", "not a plain ASCII identifier"),
        ("", "not a plain ASCII identifier"),
        ("bаd", "not a plain ASCII identifier"),  # Cyrillic а
        ("ｘ", "not a plain ASCII identifier"),  # fullwidth x (NFKC-normalises to 'x')
        ("a" * 65, "at most 64 characters"),
        ("a" * 10_000, "not a plain ASCII identifier"),
        ("on", "reads as a boolean in YAML"),
        ("Yes", "reads as a boolean in YAML"),
        ("null", "reads as null in YAML"),
        (3, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_bad_names(name: object, message: str) -> None:
    problem = name_problem(name, "node name")
    assert problem is not None and message in problem


def test_long_names_are_shortened_in_messages() -> None:
    problem = name_problem("a" * 10_000)
    assert problem is not None and len(problem) < 300


@pytest.mark.parametrize("name", ["digits-gated-poly", "a", "x_1-2"])
def test_study_names(name: str) -> None:
    assert STUDY_NAME_RE.match(name)


@pytest.mark.parametrize("name", ["Digits", "-a", "a b", "a" * 65, "ä"])
def test_bad_study_names(name: str) -> None:
    assert not STUDY_NAME_RE.match(name)


def test_name_regex_is_anchored() -> None:
    assert NAME_RE.match("ok\n")  # `$` accepts a trailing newline: hence fullmatch
    assert name_problem("ok\n") is not None
    assert not STUDY_NAME_RE.fullmatch("ok\n")
