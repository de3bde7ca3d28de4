"""Architecture → standalone ``model.py`` source (torch and the standard library only).

The layout follows nanoGPT: a module docstring, sorted imports, the primitive classes actually
used (copied verbatim), one small container class per repeat-block copy, a ``@dataclass``
config, and a ``Model`` whose ``forward`` has one line per node with its tensor shape. The
module tree is read off the built model, so ``state_dict`` keys are the built model's by
construction; every identifier comes from a :class:`Namespace` and every literal from
:func:`~hadnas.export._literals.literal`. Subclass :class:`ModelCodeGen` for output variants.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from torch import nn

from hadnas.build._codegen import Namespace
from hadnas.exceptions import ExportError
from hadnas.export._audit import audit_source
from hadnas.export._format import INDENT, LINE_LENGTH, Bracketed, call, layout
from hadnas.export._literals import ImportTable, literal_tree, string_literal
from hadnas.export._names import camel, checked, validate_architecture
from hadnas.export._sources import SourceCollector

if TYPE_CHECKING:
    from hadnas.ir import ArchGraph
    from hadnas.space import Architecture

#: names the generated file binds itself; copied definitions and locals never take them
RESERVED = frozenset({"torch", "nn", "F", "math", "dataclass", "annotations", "self"})


@dataclass
class _Leaf:
    attr: str
    path: str


@dataclass
class _Group:
    attr: str
    path: str
    children: list[_Leaf | _Group | _List] = field(default_factory=list)


@dataclass
class _List:
    attr: str
    path: str
    items: list[_Leaf | _Group | _List] = field(default_factory=list)


@dataclass
class _ContainerClass:
    name: str
    lines: list[str]
    paths: list[str] = field(default_factory=list)


class ModelCodeGen:
    """Generates the source of one architecture; ``generate()`` returns the file's text."""

    model_class = "Model"
    config_class = "ModelConfig"

    def __init__(
        self, arch: Architecture, model: nn.Module | None = None, *, trial: int | None = None
    ) -> None:
        validate_architecture(arch)  # before the graph, the build, or any generated text
        self.arch = arch
        self.graph: ArchGraph = arch.graph
        if model is None:
            from hadnas.build import build

            model = build(self.graph)
        self.model = model
        self.trial = trial if isinstance(trial, int) and not isinstance(trial, bool) else None
        self.names = Namespace(set(RESERVED) | {self.model_class, self.config_class})
        self.imports = ImportTable(self.names)
        self.sources = SourceCollector(self.names, self.imports)
        self.containers: dict[tuple[str, ...], _ContainerClass] = {}
        self.module_nodes = {
            n for n in self.graph.live_nodes() if self._inline(n, self._dummy_args(n)) is None
        }

    # -- the module tree ----------------------------------------------------------------------
    def _dummy_args(self, name: str) -> list[str]:
        return [f"a{i}" for i in range(len(self.graph.attrs(name).inputs))]

    def _inline(self, name: str, args: list[str]) -> str | None:
        return self.graph.defs[name].inline(args, self.graph.in_specs(name))

    def _tree(self, module: nn.Module, path: str, attr: str) -> _Leaf | _Group | _List:
        if path in self.module_nodes:
            return _Leaf(attr, path)
        if (
            next(module.parameters(recurse=False), None) is not None
            or next(module.buffers(recurse=False), None) is not None
        ):
            raise ExportError(f"{path}: a container of the built model holds tensors itself")
        children = [
            self._tree(m, f"{path}.{n}" if path else n, n) for n, m in module.named_children()
        ]
        for child in children:
            if not isinstance(module, nn.ModuleList):
                checked(child.attr, "attribute name")
        if isinstance(module, nn.ModuleList):
            return _List(attr, path, children)
        return _Group(attr, path, children)

    def _node_init(self, path: str) -> Bracketed:
        d, ins = self.graph.defs[path], self.graph.in_specs(path)
        where = f"node {path!r} (op {d.op!r})"
        cls = d.module_class(ins)
        built = self.model.get_submodule(path)
        if type(built) is not cls:
            raise ExportError(
                f"{where}: built module is {type(built).__name__} but module_class "
                f"says {cls.__name__}; primitives must build module_class(ins)"
            )
        ref = self.sources.class_ref(cls, where)
        self.sources.copy_helpers(tuple(getattr(d, "helpers", ())), where)
        kwargs = _without_defaults(cls, d.module_kwargs(ins))
        try:
            args = {
                checked(k, "keyword argument"): literal_tree(v, self.imports)
                for k, v in kwargs.items()
            }
        except ExportError as exc:
            raise ExportError(f"{where}: {exc}") from None
        return call(ref, **args)

    def _init_expr(self, node: _Leaf | _Group | _List) -> str | Bracketed:
        if isinstance(node, _Leaf):
            return self._node_init(node.path)
        if isinstance(node, _Group):
            lines = self._container_lines(node)
            return self._container(lines, node.path, camel(node.path)) + "()"
        nn_ = self.imports.module("torch.nn", "nn")
        bodies = [self._container_lines(i) if isinstance(i, _Group) else None for i in node.items]
        alike = (
            len(bodies) > 1
            and all(b for b in bodies)
            and len({tuple(b or ()) for b in bodies}) == 1
        )
        exprs: list[str | Bracketed] = []
        for item, body in zip(node.items, bodies):
            if body is None:
                exprs.append(self._init_expr(item))
            elif not body:
                exprs.append(f"{nn_}.Module()")
            else:
                hint = camel(node.path) + "Block" + ("" if alike else item.attr)
                exprs.append(self._container(body, item.path, hint) + "()")
        if alike:
            return f"{nn_}.ModuleList([{exprs[0]} for _ in range({len(exprs)})])"
        return call(f"{nn_}.ModuleList", Bracketed("", tuple(exprs), "[", "]"))

    def _container_lines(self, node: _Group) -> list[str]:
        lines = []
        for child in node.children:
            lines += layout(f"self.{child.attr} = ", self._init_expr(child), INDENT * 2)
        return lines

    def _container(self, lines: list[str], path: str, hint: str) -> str:
        key = tuple(lines)
        if key not in self.containers:
            name = checked(self.names.create(f"container:{path}", hint), "class name")
            self.containers[key] = _ContainerClass(name, lines)
        self.containers[key].paths.append(path)
        return self.containers[key].name

    # -- forward -------------------------------------------------------------------------------
    def _forward(self) -> list[str]:
        ns = Namespace(set(RESERVED) | set(self.names.used) | set(self.imports.bound))
        graph = self.graph
        args = [checked(ns.create(f"input:{n}", n), "argument name") for n in graph.input_names()]
        head: list[str] = []
        body: list[str] = []
        copies: dict[str, str] = {}

        def access(parts: list[str]) -> str:
            digits = [i for i, p in enumerate(parts) if p.isdigit()]
            if not digits:
                return "self." + ".".join(parts)
            k = digits[-1]
            prefix = ".".join(parts[: k + 1])
            if prefix not in copies:
                list_parts = parts[:k]
                owner = access(list_parts)
                copies_list = self.model.get_submodule(".".join(list_parts))
                assert isinstance(copies_list, nn.ModuleList)
                count = len(copies_list)
                names = [
                    checked(
                        ns.create(
                            f"copy:{'.'.join([*list_parts, str(i)])}",
                            "_".join([*list_parts, str(i)]),
                        ),
                        "variable name",
                    )
                    for i in range(count)
                ]
                for i, var in enumerate(names):
                    copies[".".join([*list_parts, str(i)])] = var
                unpack = f"{INDENT * 2}{', '.join(names)} = {owner}"
                if count == 1 or len(unpack) > LINE_LENGTH:
                    head.extend(f"{INDENT * 2}{v} = {owner}[{i}]" for i, v in enumerate(names))
                else:
                    head.append(unpack)
            return copies[prefix] + "".join(f".{p}" for p in parts[k + 1 :])

        for name in graph.live_nodes():
            a = graph.attrs(name)
            var = checked(ns.create(f"node:{name}", name.replace(".", "_")), "variable name")
            call_args = [
                ns.by_key[f"input:{s}"] if f"input:{s}" in ns.by_key else ns.by_key[f"node:{s}"]
                for s in a.inputs
            ]
            expr: str | Bracketed
            inline = self._inline(name, call_args)
            if inline is None:
                expr = Bracketed(access(name.split(".")), tuple(call_args))
            else:
                expr = _normalize_inline(inline, set(call_args), f"node {name!r} (op {a.op!r})")
            body += self._assign(var, expr, _comment(graph.specs[name]))
        out = (
            ns.by_key[f"node:{graph.output}"]
            if f"node:{graph.output}" in ns.by_key
            else (ns.by_key[f"input:{graph.output}"])
        )
        body.append(f"{INDENT * 2}return {out}")
        params = ", ".join(f"{a}: torch.Tensor" for a in args)
        ins = ", ".join(f"{n} {graph.specs[n]}" for n in graph.input_names())
        doc = f'{INDENT * 2}"""{ins} -> {graph.specs[graph.output]}."""'
        if len(doc) > LINE_LENGTH:
            doc = (
                f'{INDENT * 2}"""Inputs in declared order; output {graph.specs[graph.output]}."""'
            )
        signature = f"{INDENT}def forward(self, {params}) -> torch.Tensor:"
        if len(signature) > LINE_LENGTH:
            signature = "\n".join(
                [f"{INDENT}def forward(", f"{INDENT * 2}self,"]
                + [f"{INDENT * 2}{a}: torch.Tensor," for a in args]
                + [f"{INDENT}) -> torch.Tensor:"]
            )
        return [signature, _comment_safe(doc), *head, *body]

    def _assign(self, var: str, expr: str | Bracketed, comment: str) -> list[str]:
        indent = INDENT * 2
        lines = (
            layout(f"{var} = ", expr, indent)
            if isinstance(expr, Bracketed)
            else [f"{indent}{var} = {expr}"]
        )
        if len(lines) == 1 and len(lines[0]) > LINE_LENGTH:
            lines = [f"{indent}{var} = (", f"{indent}{INDENT}{expr}", f"{indent})"]
        if len(lines) == 1 and len(lines[0]) + len(comment) + 4 <= LINE_LENGTH:
            return [f"{lines[0]}  # {comment}"]
        return [f"{indent}# {comment}", *lines]

    # -- the file ------------------------------------------------------------------------------
    def generate(self) -> str:
        self.imports.member("__future__", "annotations")
        self.imports.member("dataclasses", "dataclass")
        self.imports.module("torch", "torch")
        nn_ = self.imports.module("torch.nn", "nn")
        root = self._tree(self.model, "", "")
        assert isinstance(root, _Group)
        init = []
        for child in root.children:
            init += layout(f"self.{child.attr} = ", self._init_expr(child), INDENT * 2)
        attrs = Namespace({c.attr for c in root.children})
        config_attr = checked(attrs.create("config"), "attribute name")
        forward = self._forward()
        parts = [self._docstring(), self.imports.render().rstrip("\n")]
        if self.sources.constants:
            parts.append(
                "\n".join(self.sources.constants[k] for k in sorted(self.sources.constants))
            )
        parts += self.sources.definitions()
        parts += [self._container_source(c, nn_) for c in self.containers.values()]
        parts.append(self._config_source())
        model = [
            f"class {self.model_class}({nn_}.Module):",
            f'{INDENT}"""{self._title()}"""',
            "",
            f"{INDENT}def __init__(self, config: {self.config_class} | None = None) -> None:",
            f"{INDENT * 2}super().__init__()",
            f"{INDENT * 2}self.{config_attr} = config or {self.config_class}()",
            *init,
            "",
            *forward,
        ]
        parts.append("\n".join(model))
        source = "\n\n\n".join(parts[1:])
        source = parts[0] + "\n\n" + source + "\n"
        problems = audit_source(source)
        if problems:
            raise ExportError(
                "generated code failed the safety audit:\n  " + "\n  ".join(problems)
            )
        return source

    def _title(self) -> str:
        trial = f", trial {self.trial}" if self.trial is not None else ""
        return f"The architecture {self.arch.name}{trial}, exported by hadnas."

    def _docstring(self) -> str:
        graph = self.graph
        ins = ", ".join(f"{n} {graph.specs[n]}" for n in graph.input_names())
        about = (
            "Standalone PyTorch code: it needs torch and the Python standard library only. "
            f"Inputs: {ins}; output: {graph.specs[graph.output]}. Load the exported weights with::"
        )
        lines = [
            f'"""{self._title()}',
            "",
            textwrap.fill(about, LINE_LENGTH, break_long_words=False, break_on_hyphens=False),
            "",
            f"{INDENT}from safetensors.torch import load_file",
            "",
            f"{INDENT}model = {self.model_class}()",
            f'{INDENT}model.load_state_dict(load_file("model.safetensors"))',
            f"{INDENT}model.eval()",
            f"{INDENT}y = model(*{self.config_class}().example_inputs())",
            '"""',
        ]
        return _comment_safe("\n".join(lines))

    def _container_source(self, c: _ContainerClass, nn_: str) -> str:
        first = c.paths[0]
        block, _, index = first.rpartition(".")
        if index.isdigit():
            what = (
                f"A copy of the repeat block ``{block}``"
                if len(c.paths) > 1
                else (f"Copy {index} of the repeat block ``{block}``")
            )
        else:
            what = f"The node group ``{first}``"
        lines = [
            f"class {c.name}({nn_}.Module):",
            f'{INDENT}"""{what}."""',
            "",
            f"{INDENT}def __init__(self) -> None:",
            f"{INDENT * 2}super().__init__()",
            *c.lines,
        ]
        return "\n".join(lines)

    def _config_source(self) -> str:
        graph = self.graph
        fields, tensors = [], []
        for name in graph.input_names():
            spec = graph.specs[name]
            shape_f = checked(f"{name}_shape", "field name")
            dtype_f = checked(f"{name}_dtype", "field name")
            dtype = {"float32": "torch.float32", "int64": "torch.int64"}.get(spec.dtype)
            if dtype is None:
                raise ExportError(f"input {name!r}: dtype {spec.dtype!r} cannot be exported")
            shape = literal_tree(tuple(int(d) for d in spec.shape), self.imports)
            shape_text = shape if isinstance(shape, str) else shape.flat()
            fields += layout(f"{shape_f}: tuple[int, ...] = ", shape, INDENT)
            fields.append(f"{INDENT}{dtype_f}: torch.dtype = {dtype}")
            maker = "zeros" if spec.dtype == "int64" else "randn"
            tensors.append(
                call(f"torch.{maker}", "batch_size", f"*self.{shape_f}", dtype=f"self.{dtype_f}")
            )
            del shape_text
        result = Bracketed("", tuple(tensors), "(", ")", is_tuple=True)
        lines = [
            "@dataclass(frozen=True)",
            f"class {self.config_class}:",
            f'{INDENT}"""Per-sample shape and dtype of each input (the batch dimension comes '
            'first)."""',
            "",
            *fields,
            "",
            f"{INDENT}def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:",
            f'{INDENT * 2}"""Example inputs: random floats, zero integer ids."""',
            *layout("return ", result, INDENT * 2),
        ]
        return "\n".join(lines)


def _without_defaults(cls: type, kwargs: dict[str, object]) -> dict[str, object]:
    """Drop keyword arguments equal to the constructor's defaults, as a person would write."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return dict(kwargs)
    out = {}
    for key, value in kwargs.items():
        p = params.get(key)
        default = p.default if p is not None else inspect.Parameter.empty
        if default is inspect.Parameter.empty or type(default) is not type(value):
            out[key] = value
        elif default != value:
            out[key] = value
    return out


def _comment(spec: object) -> str:
    text = str(spec)
    if not all(c.isalnum() or c in "(), ._" for c in text) or not text.isascii():
        raise ExportError(f"refusing to emit the shape comment {text!r}")
    return text


def _comment_safe(text: str) -> str:
    if not text.isascii() or "\\" in text or "\r" in text:
        raise ExportError("internal error: generated text is not plain ASCII")
    return text


def _normalize_inline(expr: str, args: set[str], where: str) -> str:
    """Parse a primitive's inline expression, check its names, and lay it out ruff-style."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ExportError(f"{where}: inline expression {expr!r} does not parse: {exc}") from None
    strings: dict[str, str] = {}
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Name) and sub.id not in args and sub.id != "torch":
            raise ExportError(
                f"{where}: inline expression {expr!r} uses {sub.id!r}; "
                "it may only use its arguments, torch and literals"
            )
        if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
            raise ExportError(f"{where}: inline expression {expr!r} uses a private name")
    for sub in ast.walk(tree):
        for fld, value in ast.iter_fields(sub):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                placeholder = f"__hadnas_str_{len(strings)}__"
                strings[placeholder] = string_literal(value.value)
                setattr(sub, fld, ast.Name(placeholder, ast.Load()))
    text = ast.unparse(tree)
    for placeholder, lit in strings.items():
        text = text.replace(placeholder, lit)
    return text
