"""Safe YAML parsing with source positions.

``yaml.safe_load`` blocks Python tags but lets duplicate keys through (the last one silently
wins) and happily expands alias bombs. This module parses in three bounded steps instead:

1. stream the events once, rejecting deep nesting and too many aliases before anything is built;
2. compose the node graph (aliases stay shared, so this is linear in the text);
3. walk the nodes into plain Python values under an expansion budget, rejecting unknown tags and
   duplicate keys, and recording the position of every value and key by its path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from hadnas.exceptions import Diagnostic, Loc, SpecError

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_ALIASES = 256
MAX_EXPANDED_NODES = 20_000
MAX_SCALAR_CHARS = 10_000

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}

Path = tuple[str | int, ...]

# libyaml when PyYAML has it: the same events and marks, 15-50x faster, so the bounds above are
# reached in milliseconds (pure-Python PyYAML needs seconds for a 1 MB document)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BRACKET_RUN = re.compile(r"(?:[\[{][ \t\r\n]*){" + str(MAX_DEPTH + 1) + "}")
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels; flatten the document"


def format_path(path: Path) -> str:
    """Render ``("nodes", "body", "nodes", "mix")`` as ``nodes.body.nodes.mix`` (ints: ``[i]``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _shown(part)
    return out


def _shown(key: str) -> str:
    """A key as it can appear in a one-line message: escaped and at most 64 characters."""
    if not key.isprintable():
        key = key.encode("unicode_escape").decode("ascii")
    return key if len(key) <= 64 else key[:40] + "..."


@dataclass
class Document:
    """Parsed YAML plus where each value (and each mapping key) came from."""

    data: Any
    file: str
    value_locs: dict[Path, Loc] = field(default_factory=dict)
    key_locs: dict[Path, Loc] = field(default_factory=dict)

    def loc(self, path: Path, *, key: bool = False) -> Loc:
        """Best known position for ``path``: its own, else the closest parent's."""
        table = self.key_locs if key else self.value_locs
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.value_locs:
                return self.value_locs[p]
            p = p[:-1]
        return self.value_locs.get((), Loc(self.file, 1, 1))


def _loc(file: str, mark: Any) -> Loc:
    return Loc(file, mark.line + 1, mark.column + 1)


def _fail(file: str, mark: Any, message: str, path: Path = ()) -> SpecError:
    loc = _loc(file, mark) if mark is not None else Loc(file, 1, 1)
    return SpecError([Diagnostic(loc, format_path(path), message)])


def _prescan(text: str, file: str) -> None:
    """Reject deep nesting and alias floods while streaming, before any node is composed."""
    # a run of opening brackets is the usual depth bomb; pure-Python PyYAML would scan all of
    # it (quadratically) before yielding the first event, so catch it with a linear search
    run = _BRACKET_RUN.search(text)
    if run is not None:
        line = text.count("\n", 0, run.start())
        col = run.start() - (text.rfind("\n", 0, run.start()) + 1)
        raise SpecError([Diagnostic(Loc(file, line + 1, col + 1), "", _TOO_DEEP)])
    depth = aliases = values = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                values += 1
                if values > MAX_EXPANDED_NODES:
                    raise _fail(
                        file,
                        event.start_mark,
                        f"more than {MAX_EXPANDED_NODES} values; a search space is small",
                    )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(file, event.start_mark, _TOO_DEEP)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _fail(
                        file,
                        event.start_mark,
                        f"more than {MAX_ALIASES} aliases (*name); "
                        "hadnas refuses documents that could expand without bound",
                    )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc.context)
        if "maximum nesting depth" in problem:  # libyaml's own limit, far above ours
            raise _fail(file, mark, _TOO_DEEP) from None
        if mark is not None and mark.column > 1024 and "mapping values" in problem:
            # PyYAML only recognises keys of at most 1024 characters
            problem += " (a key longer than 1024 characters? names have at most 64)"
        ctx = exc.context_mark
        if exc.problem and exc.context and ctx is not None and mark is not None and (
                ctx.line, ctx.column) != (mark.line, mark.column):  # fmt: skip
            # where the unfinished construct started: often the line to fix
            problem += f" ({exc.context} started at line {ctx.line + 1}, column {ctx.column + 1})"
        raise _fail(file, mark, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:  # reader errors (bad characters) carry no mark
        raise _fail(file, None, f"YAML error: {exc}") from None


class _Walker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.budget = MAX_EXPANDED_NODES
        self.value_locs: dict[Path, Loc] = {}
        self.key_locs: dict[Path, Loc] = {}
        self.constructor = SafeConstructor()

    def walk(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _fail(
                self.file,
                node.start_mark,
                f"document expands to more than {MAX_EXPANDED_NODES} values "
                "(an alias bomb?); write the values out or shrink the file",
                path,
            )
        if depth > MAX_DEPTH:
            raise _fail(self.file, node.start_mark, "nesting too deep", path)
        self.value_locs.setdefault(path, _loc(self.file, node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, _STD + "seq", path)
            return [self.walk(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, _STD + "map", path)
            return self._mapping(node, path, depth)
        raise _fail(self.file, node.start_mark, "unsupported YAML node", path)

    def _check_tag(self, node: yaml.Node, expected: str, path: Path) -> None:
        if node.tag != expected:
            raise _fail(
                self.file,
                node.start_mark,
                f"YAML tag {node.tag!r} is not allowed: hadnas files hold plain data only "
                "(remove the tag)",
                path,
            )

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._check_tag(node, _STD + "str", path)
        if len(node.value) > MAX_SCALAR_CHARS:
            raise _fail(
                self.file,
                node.start_mark,
                f"value of {len(node.value)} characters exceeds the limit of {MAX_SCALAR_CHARS}",
                path,
            )
        if node.tag == _STD + "timestamp":
            return node.value
        try:
            return self.constructor.construct_object(node, deep=False)
        except (yaml.YAMLError, ValueError) as exc:
            raise _fail(self.file, node.start_mark, f"bad scalar: {exc}", path) from None

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Loc] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _STD + "merge":
                raise _fail(
                    self.file,
                    key_node.start_mark,
                    "mapping keys must be plain strings (no complex keys or '<<' merges)",
                    path,
                )
            key = key_node.value
            here = _loc(self.file, key_node.start_mark)
            if key in seen:
                raise SpecError(
                    [
                        Diagnostic(
                            here,
                            format_path((*path, key)),
                            f"duplicate key {key!r} (first defined at {seen[key]}); "
                            "YAML would silently keep only the last one — remove one of them",
                        )
                    ]
                )
            seen[key] = here
            self.key_locs[(*path, key)] = here
            out[key] = self.walk(value_node, (*path, key), depth + 1)
        return out


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Size of the fully expanded tree, memoised per shared node: linear in the node graph."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key not in sizes:
            sizes[key] = -1  # in progress: meeting it again below itself means a recursive alias
            sizes[key] = min(1 + sum(size(c) for c in _children(node)), 10 * MAX_EXPANDED_NODES)
        elif sizes[key] < 0:
            raise _fail(
                file,
                node.start_mark,
                "recursive alias: this anchored value contains an alias to itself; "
                "a hadnas file is a tree of plain values",
            )
        return sizes[key]

    if size(root) <= MAX_EXPANDED_NODES:
        return
    node = root  # descend to the innermost node that alone exceeds the budget, to point at it
    while True:
        big = [c for c in _children(node) if sizes[id(c)] > MAX_EXPANDED_NODES]
        if not big:
            break
        node = big[0]
    raise _fail(
        file,
        node.start_mark,
        f"document expands to more than {MAX_EXPANDED_NODES} values through aliases "
        "(an alias bomb?); write the values out or shrink the file",
    )


def parse_yaml(text: str, file: str = "<string>") -> Document:
    """Parse one YAML document safely; raise :class:`SpecError` with a located message."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise _fail(file, None, f"file is larger than {MAX_BYTES} bytes; a search space is small")
    _prescan(text, file)
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _fail(file, mark, f"YAML error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(file, None, f"YAML error: {exc}") from None
    except RecursionError:
        raise _fail(file, None, "nesting too deep") from None
    if root is None:
        raise _fail(file, None, "the file is empty; expected a mapping starting with 'hadnas: 1'")
    _check_expansion(root, file)
    walker = _Walker(file)
    data = walker.walk(root, ())
    return Document(data, file, walker.value_locs, walker.key_locs)
