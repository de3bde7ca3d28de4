"""The safe YAML layer: plain data only, every value located, bombs refused before expansion."""

from __future__ import annotations

import pytest

from hadnas.exceptions import Loc, SpecError
from hadnas.spec import parse_yaml
from hadnas.spec._yaml import MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED_NODES, format_path


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "f.yaml")
    assert len(info.value.diagnostics) == 1
    return str(info.value)


def test_plain_values_and_their_locations() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2.5, d: true}\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": 2.5, "d": True}]}
    assert doc.loc(("a",)) == Loc("f.yaml", 1, 4)
    assert doc.loc(("a",), key=True) == Loc("f.yaml", 1, 1)
    assert doc.loc(("b", 1, "d")) == Loc("f.yaml", 4, 17)
    # an unknown path falls back to the closest known parent
    assert doc.loc(("b", 1, "nope", 3)) == Loc("f.yaml", 4, 5)


def test_timestamps_stay_strings() -> None:
    assert parse_yaml("when: 2024-01-02\n").data == {"when": "2024-01-02"}


def test_format_path() -> None:
    assert format_path(("nodes", "body", "nodes", "mix")) == "nodes.body.nodes.mix"
    assert format_path(("nodes", "fuse", "choice", 3, "op")) == "nodes.fuse.choice[3].op"
    assert format_path(()) == ""


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "a: !!python/name:os.system\n",
        "a: !!python/object:collections.OrderedDict {}\n",
        "a: !custom 3\n",
        "a: !!set {x, y}\n",
        "a: !!binary aGVsbG8=\n",
        "!!python/object/apply:os.system\n- echo\n",
    ],
)
def test_tags_are_refused(text: str) -> None:
    message = _error(text)
    assert "is not allowed" in message and message.startswith("f.yaml:")


def test_duplicate_keys_name_both_locations() -> None:
    message = _error("nodes:\n  a: 1\n  b: 2\n  a: 3\n")
    assert message.startswith("f.yaml:4:3: nodes.a: duplicate key 'a'")
    assert "first defined at f.yaml:2:3" in message


def test_merge_keys_and_complex_keys_are_refused() -> None:
    assert "no complex keys or '<<' merges" in _error("base: &b {x: 1}\nc:\n  <<: *b\n")
    assert "plain strings" in _error("? [a, b]\n: 1\n")


def _laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_exploding_level() -> None:
    message = _error(_laughs(9))
    assert "alias bomb" in message
    # 9**5 > MAX_EXPANDED_NODES >= 9**4: the fifth list (line 5) is the first too big one
    assert 9**4 < MAX_EXPANDED_NODES < 9**5
    assert message.startswith("f.yaml:5:")


def test_a_few_aliases_are_fine() -> None:
    assert parse_yaml(_laughs(3)).data["l2"][0][0][0] == "lol"


def test_alias_flood_is_refused_while_streaming() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert f"more than {MAX_ALIASES} aliases" in _error(text)


def test_recursive_alias_is_refused() -> None:
    assert "recursive alias" in _error("a: &a [1, *a]\n")


def test_deep_nesting_is_refused() -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert f"deeper than {MAX_DEPTH}" in _error(deep)
    ok = "a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    parse_yaml(ok)


def test_huge_scalars_and_documents_are_refused() -> None:
    assert "exceeds the limit" in _error("a: " + "x" * 20_000 + "\n")
    assert "larger than" in _error("# " + "x" * 1_000_001 + "\n")


def test_empty_and_multi_document_files() -> None:
    assert "the file is empty" in _error("# only a comment\n")
    assert "the file is empty" in _error("")
    assert "YAML error" in _error("a: 1\n---\nb: 2\n")


def test_syntax_errors_are_located() -> None:
    message = _error("a: 1\nb: [1, 2\nc: 3\n")
    assert message.startswith("f.yaml:3:")
    assert "YAML syntax error" in message
    assert "YAML syntax error" in _error("a:\n\t- 1\n")


def test_overlong_keys_get_a_hint() -> None:
    message = _error("k" * 2000 + ": 1\n")
    assert "longer than 1024 characters" in message
