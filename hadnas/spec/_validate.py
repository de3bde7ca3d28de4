"""Raw YAML data → :class:`SpaceSpec`, collecting every problem with its location."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any

from hadnas.exceptions import Diagnostic, SpecError, UnknownNameError
from hadnas.primitives import get_primitive
from hadnas.primitives._base import Param
from hadnas.spec._names import STUDY_NAME_RE, name_problem
from hadnas.spec._schema import (
    DSL_VERSION,
    BlockSpec,
    Choice,
    ConstraintSpec,
    FloatRange,
    InputSpec,
    IntRange,
    LatencySpec,
    NodeOption,
    NodeSpec,
    ObjectiveSpec,
    SearchSpec,
    SpaceSpec,
    TaskSpec,
    VarRef,
    frozen_map,
    is_domain,
)
from hadnas.spec._yaml import Document, Path, format_path

TOP_KEYS = (
    "hadnas", "name", "description", "task", "inputs", "vars", "nodes", "output",
    "objectives", "constraints", "latency", "search", "sampled",
)  # fmt: skip
TASK_KEYS = ("dataset", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "val_fraction")
OPTIMIZERS = ("adamw", "adam", "sgd")
METRICS = ("accuracy", "loss", "r2", "latency_ms", "params", "flops", "bytes")
PRE_TRAINING_METRICS = ("latency_ms", "params", "flops", "bytes")
DIRECTIONS = {"max": "maximize", "maximize": "maximize", "min": "minimize", "minimize": "minimize"}
SAMPLERS = ("tpe", "nsga2", "random", "gp", "cmaes", "qmc", "grid")
PRUNERS = ("none", "median", "hyperband")
LATENCY_MODES = ("measure", "predict", "both")
DTYPES = ("float32", "int64")
NODE_KEYS = ("op", "in", "choice", "repeat", "nodes", "copies", "description")
DOMAIN_KEYS = ("choice", "int", "float", "log")


def _suggest(name: str, candidates: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class Validator:
    """Walks the document once; every check appends a located :class:`Diagnostic`."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.diags: list[Diagnostic] = []
        self.var_names: set[str] = set()
        self.vars: dict[str, Any] = {}

    # -- reporting ----------------------------------------------------------------------------
    def error(self, path: Path, message: str, *, key: bool = False) -> None:
        self.diags.append(Diagnostic(self.doc.loc(path, key=key), format_path(path), message))

    def mapping(self, value: Any, path: Path, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"{what} must be a mapping, got {type(value).__name__} {value!r}")
        return None

    def unknown_keys(self, d: dict[str, Any], allowed: tuple[str, ...], path: Path) -> None:
        for key in d:
            if key not in allowed:
                self.error(
                    (*path, key),
                    f"unknown key {key!r}{_suggest(key, allowed)} (allowed: {', '.join(allowed)})",
                    key=True,
                )

    def int_field(
        self, d: dict[str, Any], key: str, path: Path, default: int, low: int = 1
    ) -> int:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.error((*path, key), f"{key} must be an integer >= {low}, got {value!r}")
            return default
        return value

    def enum_field(
        self, d: dict[str, Any], key: str, path: Path, allowed: tuple[str, ...], default: str
    ) -> str:
        value = d.get(key, default)
        if value not in allowed:
            hint = _suggest(str(value), allowed)
            self.error((*path, key), f"{key} {value!r} is not one of {list(allowed)}{hint}")
            return default
        return str(value)

    # -- values and domains -------------------------------------------------------------------
    def value(self, raw: Any, path: Path, check: Callable[[Any], str | None] | None = None) -> Any:
        """A scalar, a ``$var`` or a domain; ``check`` validates every value it can take."""
        if isinstance(raw, str) and raw.startswith("$"):
            name = raw[1:]
            if name == "in":
                self.error(path, "$in may only be used in `in:` inside a repeat block")
                return None
            if name not in self.var_names:
                known = sorted(self.var_names)
                self.error(
                    path, f"unknown variable ${name}{_suggest(name, known)} (vars: {known})"
                )
                return None
            if check is not None:
                for v in self._domain_values(self.vars.get(name)):
                    problem = check(v)
                    if problem:
                        self.error(path, f"${name} can be {v!r}, but {problem}")
                        break
            return VarRef(name)
        if isinstance(raw, dict) and any(k in raw for k in DOMAIN_KEYS):
            domain = self.domain(raw, path)
            if domain is not None and check is not None:
                for v in self._domain_values(domain):
                    problem = check(v)
                    if problem:
                        self.error(path, f"the domain allows {v!r}, but {problem}")
                        break
            return domain
        if isinstance(raw, (dict, list)) and check is not None:
            self.error(
                path, f"expected a scalar or a domain ({', '.join(DOMAIN_KEYS)}), got {raw!r}"
            )
            return None
        if check is not None:
            problem = check(raw)
            if problem:
                self.error(path, problem)
        return raw

    @staticmethod
    def _domain_values(domain: Any) -> list[Any]:
        """Values worth checking: every choice option, or both ends of a range."""
        if isinstance(domain, Choice):
            return list(domain.options)
        if isinstance(domain, (IntRange, FloatRange)):
            return [domain.low, domain.high]
        return [domain] if domain is not None else []

    def domain(self, raw: dict[str, Any], path: Path) -> Any:
        kinds = [k for k in DOMAIN_KEYS if k in raw]
        ranged = "int" in kinds or "float" in kinds
        if "log" in kinds and ranged and isinstance(raw["log"], bool):
            kinds.remove("log")
        if len(kinds) != 1:
            self.error(path, f"a domain has exactly one of {list(DOMAIN_KEYS)}, got {kinds}")
            return None
        kind = kinds[0]
        allowed = {"choice": ("choice",), "int": ("int", "step", "log"),
                   "float": ("float", "step", "log"), "log": ("log",)}[kind]  # fmt: skip
        self.unknown_keys(raw, allowed, path)
        body = raw[kind]
        if kind == "choice":
            if not isinstance(body, list) or not body:
                self.error((*path, "choice"), f"choice needs a non-empty list, got {body!r}")
                return None
            bad = [o for o in body if isinstance(o, (dict, list))]
            if bad:
                self.error((*path, "choice"), f"choice options must be scalars, got {bad[0]!r}")
                return None
            if len({repr(o) for o in body}) != len(body):
                self.error((*path, "choice"), f"choice options must be distinct, got {body!r}")
            return Choice(tuple(body))
        if not (isinstance(body, list) and len(body) == 2 and all(_is_number(x) for x in body)):
            self.error((*path, kind), f"{kind} needs [low, high] numbers, got {body!r}")
            return None
        low, high = body
        log = kind == "log" or bool(raw.get("log", False))
        if low > high:
            self.error((*path, kind), f"low <= high must hold, got low={low!r}, high={high!r}")
            return None
        if log and low <= 0:
            self.error((*path, kind), f"a log domain needs low > 0, got low={low!r}")
            return None
        if kind == "int":
            if not all(isinstance(x, int) for x in body):
                self.error((*path, kind), f"int bounds must be integers, got {body!r}")
                return None
            step = raw.get("step", 1)
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                self.error((*path, "step"), f"step must be an integer >= 1, got {step!r}")
                return None
            if log and step != 1:
                self.error((*path, "step"), "a log int domain cannot have a step (Optuna rule)")
            return IntRange(low, high, step, log)
        if not all(math.isfinite(x) for x in body):
            self.error((*path, kind), f"bounds must be finite, got {body!r}")
            return None
        step = raw.get("step")
        if step is not None and (not _is_number(step) or step <= 0 or log):
            self.error(
                (*path, "step"), f"step must be a positive number (not with log), got {step!r}"
            )
            step = None
        return FloatRange(float(low), float(high), log, step)

    # -- sections -----------------------------------------------------------------------------
    def run(self) -> SpaceSpec | None:
        data = self.mapping(self.doc.data, (), "a hadnas file")
        if data is None:
            return None
        self.unknown_keys(data, TOP_KEYS, ())
        version = data.get("hadnas")
        if version != DSL_VERSION:
            self.error(
                ("hadnas",),
                f"`hadnas: {DSL_VERSION}` (the DSL version) is required, got {version!r}",
            )
        name = data.get("name")
        if not isinstance(name, str) or not STUDY_NAME_RE.fullmatch(name):
            self.error(
                ("name",), f"name must match [a-z0-9][a-z0-9_-]* (≤ 64 chars), got {name!r}"
            )
            name = "space"
        description = data.get("description", "")
        if not isinstance(description, str):
            self.error(("description",), "description must be a string")
            description = ""
        self.parse_vars(data.get("vars", {}))
        inputs = self.parse_inputs(data.get("inputs"))
        task = self.parse_task(data.get("task"))
        raw_nodes = data.get("nodes")
        top_names = [i.name for i in inputs]
        nodes: tuple[Any, ...] = ()
        if not isinstance(raw_nodes, dict) or not raw_nodes:
            self.error(("nodes",), "nodes must be a non-empty mapping of node name → node")
        else:
            nodes = self.parse_scope(raw_nodes, ("nodes",), top_names, in_block=False)
        output = data.get("output")
        node_names = [n.name for n in nodes]
        declared = list(raw_nodes) if isinstance(raw_nodes, dict) else []
        if not isinstance(output, str) or output not in declared:
            hint = _suggest(str(output), node_names)
            self.error(("output",), f"output must name a top-level node, got {output!r}{hint}")
            output = node_names[-1] if node_names else ""
        objectives = self.parse_objectives(data.get("objectives", {"accuracy": "max"}))
        constraints = self.parse_constraints(data.get("constraints", {}))
        latency = self.parse_latency(data.get("latency", {}))
        search = self.parse_search(data.get("search", {}))
        sampled = data.get("sampled", {})
        if not isinstance(sampled, dict):
            self.error(("sampled",), "sampled must be a mapping of parameter name → value")
            sampled = {}
        if self.diags:
            return None
        return SpaceSpec(
            version=DSL_VERSION,
            name=name,
            description=description,
            task=task,
            inputs=inputs,
            vars=frozen_map(self.vars),
            nodes=nodes,
            output=output,
            objectives=objectives,
            constraints=constraints,
            latency=latency,
            search=search,
            sampled=frozen_map(sampled),
            file=self.doc.file,
            output_loc=self.doc.loc(("output",)),
        )

    def parse_vars(self, raw: Any) -> None:
        d = self.mapping(raw, ("vars",), "vars")
        if d is None:
            return
        for name in d:
            problem = name_problem(name, "variable name")
            if problem:
                self.error(("vars", name), problem, key=True)
        self.var_names = set(d)
        for name, value in d.items():
            if isinstance(value, str) and value.startswith("$"):
                self.error(("vars", name), "a variable cannot refer to another variable")
                continue
            if isinstance(value, list) or (
                isinstance(value, dict) and not any(k in value for k in DOMAIN_KEYS)
            ):
                self.error(("vars", name), "a variable is a scalar or a domain "
                           f"({', '.join(DOMAIN_KEYS)}), got {value!r}")  # fmt: skip
                continue
            self.vars[name] = self.value(value, ("vars", name))

    def parse_inputs(self, raw: Any) -> tuple[InputSpec, ...]:
        d = self.mapping(raw, ("inputs",), "inputs")
        if not d:
            if d is not None:
                self.error(("inputs",), "declare at least one input, e.g. `x: {shape: [64]}`")
            return ()
        out = []
        for name, body in d.items():
            path = ("inputs", name)
            problem = name_problem(name, "input name")
            if problem:
                self.error(path, problem, key=True)
                continue
            spec = self.mapping(body, path, f"input {name!r}")
            if spec is None:
                continue
            self.unknown_keys(spec, ("shape", "dtype"), path)
            shape = spec.get("shape")
            if not (
                isinstance(shape, list)
                and 1 <= len(shape) <= 3
                and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
            ):
                self.error(
                    (*path, "shape"),
                    "shape must be a list of 1 to 3 positive integers (per sample, no batch "
                    f"dimension), got {shape!r}",
                )
                continue
            dtype = self.enum_field(spec, "dtype", path, DTYPES, "float32")
            out.append(InputSpec(name, tuple(shape), dtype, self.doc.loc(path, key=True)))
        return tuple(out)

    def parse_task(self, raw: Any) -> TaskSpec:
        d = self.mapping(raw, ("task",), "task")
        if d is None:
            return TaskSpec(dataset="?")
        path = ("task",)
        dataset = d.get("dataset")
        if not isinstance(dataset, str) or not dataset:
            self.error(
                (*path, "dataset"),
                "task.dataset is required: a built-in dataset name, "
                "'package.module:function', an entry point or a .npz/.csv path",
            )
            dataset = "?"

        def positive_int(v: Any) -> str | None:
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 1
            return None if ok else f"must be an integer >= 1, got {v!r}"

        def positive_float(v: Any) -> str | None:
            ok = _is_number(v) and v > 0 and math.isfinite(v)
            return None if ok else f"must be a positive number, got {v!r}"

        def non_negative(v: Any) -> str | None:
            return None if _is_number(v) and v >= 0 else f"must be a number >= 0, got {v!r}"

        def optimizer(v: Any) -> str | None:
            if v in OPTIMIZERS:
                return None
            hint = _suggest(str(v), OPTIMIZERS)
            return f"optimizer {v!r} is not one of {list(OPTIMIZERS)}{hint}"

        kwargs: dict[str, Any] = {}
        for key, check in (("epochs", positive_int), ("batch_size", positive_int),
                           ("lr", positive_float), ("weight_decay", non_negative),
                           ("optimizer", optimizer)):  # fmt: skip
            if key in d:
                kwargs[key] = self.value(d[key], (*path, key), check)
        val_fraction = d.get("val_fraction", 0.2)
        if not _is_number(val_fraction) or not 0 < val_fraction < 1:
            self.error(
                (*path, "val_fraction"), f"val_fraction must be in (0, 1), got {val_fraction!r}"
            )
            val_fraction = 0.2
        options = {k: v for k, v in d.items() if k not in TASK_KEYS}
        for key, value in options.items():
            if isinstance(value, (dict, list)):
                self.error((*path, key), f"dataset option {key!r} must be a plain scalar")
        self.check_dataset(dataset, options, path)
        return TaskSpec(
            dataset=dataset,
            val_fraction=float(val_fraction),
            options=frozen_map(options),
            loc=self.doc.loc(path),
            **kwargs,
        )

    def check_dataset(self, dataset: str, options: dict[str, Any], path: Path) -> None:
        """Known dataset and option names, for registered datasets only: a
        ``package.module:function`` or a data file is not imported or read while validating."""
        if dataset == "?" or ":" in dataset or dataset.endswith((".npz", ".csv")):
            return
        from hadnas.exceptions import TaskError
        from hadnas.tasks._registry import _options, get_dataset

        try:
            accepted, takes_any = _options(get_dataset(dataset))
        except TaskError as exc:
            self.error((*path, "dataset"), str(exc))
            return
        for key in [] if takes_any else options:
            if key not in accepted:
                self.error((*path, key), f"dataset {dataset!r} has no option {key!r}"
                           f"{_suggest(key, [*accepted, *TASK_KEYS])} (options: "
                           f"{', '.join(accepted) or 'none'})", key=True)  # fmt: skip

    # -- nodes --------------------------------------------------------------------------------
    def parse_scope(
        self, raw: dict[str, Any], path: Path, outer: list[str], *, in_block: bool
    ) -> tuple[NodeSpec | BlockSpec, ...]:
        names = list(raw)
        visible = set(outer) | set(names)
        out: list[NodeSpec | BlockSpec] = []
        for name, body in raw.items():
            npath = (*path, name)
            problem = name_problem(name, "node name")
            if problem:
                self.error(npath, problem, key=True)
                continue
            if name in outer and not in_block:
                self.error(npath, f"node {name!r} has the same name as an input", key=True)
                continue
            node = self.parse_node(name, body, npath, visible, in_block)
            if node is not None:
                out.append(node)
        return tuple(out)

    def refs(
        self, raw: Any, path: Path, visible: set[str], in_block: bool
    ) -> tuple[str, ...] | None:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            self.error(path, "`in` needs at least one reference")
            return None
        refs = []
        for i, ref in enumerate(items):
            p = (*path, i) if isinstance(raw, list) else path
            if not isinstance(ref, str):
                hint = " (YAML reads unquoted yes/no/on/off/true/false as booleans, null as null)"
                self.error(
                    p,
                    f"a reference must be a node or input name, got {ref!r}"
                    + (hint if isinstance(ref, bool) or ref is None else ""),
                )
                return None
            if ref == "$in":
                if not in_block:
                    self.error(p, "$in is only defined inside a repeat block")
                    return None
            elif ref not in visible:
                hint = _suggest(ref, sorted(visible))
                self.error(p, f"dangling reference {ref!r}: no node or input of that name{hint}")
                return None
            refs.append(ref)
        return tuple(refs)

    def parse_inputs_ref(
        self, raw: Any, path: Path, visible: set[str], in_block: bool
    ) -> tuple[str, ...] | Choice | None:
        if raw is None:
            if path in self.doc.key_locs:  # written `in:` with nothing after it
                self.error(path, "`in:` is empty (null); name a node or input, or leave it out")
            return None
        if isinstance(raw, dict) and "choice" in raw:
            self.unknown_keys(raw, ("choice",), path)
            opts = raw["choice"]
            if not isinstance(opts, list) or not opts:
                self.error((*path, "choice"), "an input choice needs a non-empty list")
                return None
            parsed = [self.refs(o, (*path, "choice", i), visible, in_block)
                      for i, o in enumerate(opts)]  # fmt: skip
            if any(p is None for p in parsed):
                return None
            return Choice(tuple(parsed))
        return self.refs(raw, path, visible, in_block)

    def parse_node(
        self, name: str, body: Any, path: Path, visible: set[str], in_block: bool
    ) -> NodeSpec | BlockSpec | None:
        d = self.mapping(body, path, f"node {name!r}")
        if d is None:
            return None
        loc = self.doc.loc(path, key=True)
        pstr = format_path(path)
        if "repeat" in d or "copies" in d:
            return self.parse_block(name, d, path, visible, in_block)
        inputs = self.parse_inputs_ref(d.get("in"), (*path, "in"), visible, in_block)
        if "choice" in d:
            if "op" in d:
                self.error((*path, "op"), "a node has either `op` or `choice`, not both")
                return None
            for key in d:
                if key not in ("in", "choice", "description"):
                    self.error((*path, key), f"unknown key {key!r} in a choice node: put "
                               "parameters inside each option", key=True)  # fmt: skip
            raw_opts = d["choice"]
            if not isinstance(raw_opts, list) or not raw_opts:
                self.error((*path, "choice"), "choice needs a non-empty list of options")
                return None
            options = [self.parse_option(o, (*path, "choice", i)) for i, o in enumerate(raw_opts)]
            if any(o is None for o in options):
                return None
            labelled = self.label_options([o for o in options if o is not None])
            return NodeSpec(name, inputs, labelled, True, pstr, loc)
        if "op" not in d:
            self.error(path, "a node needs `op:` (or `choice:` or `repeat:`)")
            return None
        option = self.parse_option({k: v for k, v in d.items() if k not in ("in", "description")},
                                   path)  # fmt: skip
        if option is None:
            return None
        return NodeSpec(name, inputs, (option,), False, pstr, loc)

    @staticmethod
    def label_options(options: list[NodeOption]) -> tuple[NodeOption, ...]:
        counts: dict[str, int] = {}
        for o in options:
            counts[o.op] = counts.get(o.op, 0) + 1
        seen: dict[str, int] = {}
        out = []
        for o in options:
            label = o.op
            if counts[o.op] > 1:
                seen[o.op] = seen.get(o.op, 0) + 1
                label = f"{o.op}_{seen[o.op]}"
            out.append(NodeOption(o.op, o.params, label, o.loc))
        return tuple(out)

    def parse_option(self, raw: Any, path: Path) -> NodeOption | None:
        d = self.mapping(raw, path, "a node option")
        if d is None:
            return None
        op = d.get("op")
        if not isinstance(op, str):
            self.error((*path, "op"), f"op must be a primitive name, got {op!r}")
            return None
        try:
            cls = get_primitive(op)
        except UnknownNameError as exc:
            self.error((*path, "op"), str(exc))
            return None
        params: dict[str, Any] = {}
        for key, raw_value in d.items():
            if key == "op":
                continue
            if key in ("in", "description"):
                self.error((*path, key), f"{key!r} belongs to the node, not to a choice option",
                           key=True)  # fmt: skip
                continue
            param = cls.hparams.get(key)
            if param is None:
                allowed = sorted(cls.hparams)
                listed = ", ".join(allowed) or "none"
                hint = _suggest(key, allowed)
                message = f"op {op!r} has no parameter {key!r}{hint} (parameters: {listed})"
                self.error((*path, key), message, key=True)
                continue
            params[key] = self.value(raw_value, (*path, key), _param_check(op, key, param))
        for key, param in cls.hparams.items():
            if param.required and key not in d:
                self.error(path, f"op {op!r} needs parameter {key!r} ({param.doc})")
        return NodeOption(op, frozen_map(params), op, self.doc.loc(path))

    def parse_block(
        self, name: str, d: dict[str, Any], path: Path, visible: set[str], in_block: bool
    ) -> BlockSpec | None:
        self.unknown_keys(d, ("repeat", "nodes", "copies", "in", "description"), path)
        inputs = None
        if "in" in d:
            parsed = self.parse_inputs_ref(d["in"], (*path, "in"), visible, in_block)
            if isinstance(parsed, Choice):
                self.error((*path, "in"), "a block's `in` cannot be a choice")
            elif parsed is not None and len(parsed) != 1:
                self.error((*path, "in"), "a block takes exactly one input")
            else:
                inputs = parsed
        loc = self.doc.loc(path, key=True)
        pstr = format_path(path)
        if "copies" in d:
            copies_raw = d["copies"]
            if "repeat" in d or "nodes" in d:
                self.error(path, "a block has either `copies` or `repeat` + `nodes`")
                return None
            if not isinstance(copies_raw, list):
                self.error((*path, "copies"), "copies must be a list of node mappings")
                return None
            copies = []
            for k, raw in enumerate(copies_raw):
                cd = self.mapping(raw, (*path, "copies", k), "a copy")
                if cd is not None and not cd:
                    self.error((*path, "copies", k), "a copy needs at least one node")
                if not cd:
                    return None
                copies.append(self.parse_scope(cd, (*path, "copies", k), sorted(visible),
                                               in_block=True))  # fmt: skip
            template = copies[0] if copies else ()
            return BlockSpec(name, len(copies), inputs, template, tuple(copies), pstr, loc)

        def count(v: Any) -> str | None:
            ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 64
            return None if ok else f"repeat must be an integer in [0, 64], got {v!r}"

        repeat = self.value(d.get("repeat"), (*path, "repeat"), count)
        if isinstance(repeat, FloatRange):
            self.error((*path, "repeat"), "repeat must be an integer or an int domain")
        raw_nodes = d.get("nodes")
        if not isinstance(raw_nodes, dict) or not raw_nodes:
            self.error((*path, "nodes"), "a repeat block needs a non-empty `nodes:` mapping")
            return None
        nodes = self.parse_scope(raw_nodes, (*path, "nodes"), sorted(visible), in_block=True)
        return BlockSpec(name, repeat, inputs, nodes, None, pstr, loc)

    # -- objectives, constraints, settings ----------------------------------------------------
    def parse_objectives(self, raw: Any) -> tuple[ObjectiveSpec, ...]:
        d = self.mapping(raw, ("objectives",), "objectives")
        if not d:
            if d is not None:
                self.error(("objectives",), "declare at least one objective, e.g. accuracy: max")
            return ()
        out = []
        for metric, direction in d.items():
            path = ("objectives", metric)
            if metric not in METRICS:
                self.error(path, f"unknown metric {metric!r}{_suggest(metric, METRICS)} "
                           f"(metrics: {', '.join(METRICS)})", key=True)  # fmt: skip
                continue
            if direction not in DIRECTIONS:
                self.error(path, f"direction must be max or min, got {direction!r}")
                continue
            out.append(ObjectiveSpec(metric, DIRECTIONS[direction]))
        return tuple(out)

    def parse_constraints(self, raw: Any) -> tuple[ConstraintSpec, ...]:
        d = self.mapping(raw, ("constraints",), "constraints")
        out = []
        for metric, body in (d or {}).items():
            path = ("constraints", metric)
            if metric not in METRICS:
                self.error(path, f"unknown metric {metric!r}{_suggest(metric, METRICS)}", key=True)
                continue
            b = self.mapping(body, path, f"constraint {metric!r}")
            if b is None:
                continue
            self.unknown_keys(b, ("max", "min"), path)
            bounds = {k: b.get(k) for k in ("max", "min")}
            if all(v is None for v in bounds.values()):
                self.error(path, "a constraint needs `max:` and/or `min:`")
                continue
            if any(v is not None and (not _is_number(v) or not math.isfinite(v))
                   for v in bounds.values()):  # fmt: skip
                self.error(path, f"constraint bounds must be finite numbers, got {b!r}")
                continue
            out.append(ConstraintSpec(metric, bounds["max"], bounds["min"], self.doc.loc(path)))
        return tuple(out)

    def parse_latency(self, raw: Any) -> LatencySpec:
        d = self.mapping(raw, ("latency",), "latency") or {}
        path = ("latency",)
        keys = ("batch_size", "threads", "mode", "warmup", "repeats", "rounds")
        self.unknown_keys(d, keys, path)
        return LatencySpec(
            batch_size=self.int_field(d, "batch_size", path, 1),
            threads=self.int_field(d, "threads", path, 1),
            mode=self.enum_field(d, "mode", path, LATENCY_MODES, "measure"),
            warmup=self.int_field(d, "warmup", path, 10, low=0),
            repeats=self.int_field(d, "repeats", path, 30),
            rounds=self.int_field(d, "rounds", path, 5),
        )

    def parse_search(self, raw: Any) -> SearchSpec:
        d = self.mapping(raw, ("search",), "search") or {}
        path = ("search",)
        keys = ("sampler", "trials", "seed", "pruner", "trial_timeout_s", "memory_limit_mb",
                "max_failed_trials", "threads")  # fmt: skip
        self.unknown_keys(d, keys, path)
        timeout = d.get("trial_timeout_s", 600.0)
        if not _is_number(timeout) or timeout <= 0:
            self.error((*path, "trial_timeout_s"), f"must be a positive number, got {timeout!r}")
            timeout = 600.0
        memory = d.get("memory_limit_mb")
        if memory is not None:
            memory = self.int_field(d, "memory_limit_mb", path, 4096, low=64)
        failed = d.get("max_failed_trials")
        if failed is not None:
            failed = self.int_field(d, "max_failed_trials", path, 10)
        return SearchSpec(
            sampler=self.enum_field(d, "sampler", path, SAMPLERS, "tpe"),
            trials=self.int_field(d, "trials", path, 20),
            seed=self.int_field(d, "seed", path, 0, low=0),
            pruner=self.enum_field(d, "pruner", path, PRUNERS, "none"),
            trial_timeout_s=float(timeout),
            memory_limit_mb=memory,
            max_failed_trials=failed,
            threads=self.int_field(d, "threads", path, 1),
        )


def _param_check(op: str, key: str, param: Param) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        problem = param.check(value)
        return f"{op}.{key} {problem}" if problem else None

    return check


def validate_document(doc: Document) -> SpaceSpec:
    """Validate a parsed document; raise :class:`SpecError` listing every problem."""
    validator = Validator(doc)
    spec = validator.run()
    if validator.diags or spec is None:
        # in file order (sorted is stable: problems at one place keep the order found)
        raise SpecError(sorted(validator.diags, key=lambda d: (d.loc.line, d.loc.col)
                               if d.loc is not None else (0, 0)))  # fmt: skip
    return spec


__all__ = ["validate_document", "is_domain", "METRICS", "PRE_TRAINING_METRICS", "SAMPLERS"]
