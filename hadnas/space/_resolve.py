"""The one define-by-run function: a space + a trial → a fully resolved :class:`Architecture`.

Both search backends call :func:`define_by_run` (Optuna directly, Ray through ``OptunaSearch``);
``space.sample(seed=)`` calls it with a :class:`RandomTrial`. It only calls ``suggest_*`` and
builds small records: no tensors, no graph checks, so it is cheap inside a sampler loop.

Parameter names are stable and readable: ``width`` (a var), ``task.lr``, ``body.repeat``,
``body.1.mix.choice``, ``body.1.mix.poly_ccp.degree``, ``fuse.in``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hadnas.exceptions import Diagnostic, SpecError
from hadnas.primitives import get_primitive
from hadnas.space._arch import Architecture, ResolvedNode
from hadnas.space._trial import Recorder
from hadnas.spec import BlockSpec, Choice, FloatRange, IntRange, NodeSpec, SpaceSpec, VarRef

_Ref = tuple["_Scope", str]


@dataclass
class _Scope:
    prefix: str
    parent: _Scope | None
    dollar_in: _Ref | str | None = None
    table: dict[str, _Ref | str] = field(default_factory=dict)
    last: str | None = None  # local name of the last declared node


def suggest(trial: Any, name: str, value: Any, variables: dict[str, Any]) -> Any:
    """Turn a DSL value into a concrete one, asking ``trial`` for every domain."""
    if isinstance(value, VarRef):
        return variables[value.name]
    if isinstance(value, Choice):
        return trial.suggest_categorical(name, list(value.options))
    if isinstance(value, IntRange):
        return trial.suggest_int(name, value.low, value.high, step=value.step, log=value.log)
    if isinstance(value, FloatRange):
        if value.step is not None:
            return trial.suggest_float(name, value.low, value.high, step=value.step)
        return trial.suggest_float(name, value.low, value.high, log=value.log)
    return value


class _Resolver:
    def __init__(self, spec: SpaceSpec, trial: Any) -> None:
        self.spec = spec
        self.trial = trial
        self.vars: dict[str, Any] = {}
        self.protos: list[tuple[str, str, list[_Ref], dict[str, Any], NodeSpec]] = []

    def fail(self, node: NodeSpec | BlockSpec, message: str) -> SpecError:
        return SpecError([Diagnostic(node.loc, node.path, message)])

    def run(self) -> Architecture:
        spec = self.spec
        for name, value in spec.vars.items():
            self.vars[name] = suggest(self.trial, name, value, self.vars)
        task: dict[str, Any] = {"dataset": spec.task.dataset}
        for key in ("epochs", "batch_size", "lr", "optimizer", "weight_decay"):
            task[key] = suggest(self.trial, f"task.{key}", getattr(spec.task, key), self.vars)
        task["val_fraction"] = spec.task.val_fraction
        task.update(spec.task.options)
        top = _Scope("", None)
        for inp in spec.inputs:
            top.table[inp.name] = inp.name
        fixed = self.scope(spec.nodes, top)
        nodes = tuple(
            ResolvedNode(
                name,
                op,
                tuple(self.resolve(r) for r in refs),
                tuple(hp.items()),
                node.path,
                node.loc,
            )  # fmt: skip
            for name, op, refs, hp, node in self.protos
        )
        return Architecture(
            spec=spec,
            params=dict(getattr(self.trial, "params", {})) or dict(spec.sampled),
            task=task,
            inputs=spec.inputs,
            nodes=nodes,
            output=self.resolve((top, spec.output)),
            fixed_nodes=fixed,
        )

    def resolve(self, ref: _Ref, depth: int = 0) -> str:
        scope, name = ref
        if depth > 256:
            raise SpecError([Diagnostic(None, name, "references loop through empty blocks")])
        s: _Scope | None = scope
        while s is not None:
            target = s.dollar_in if name == "$in" else s.table.get(name)
            if target is not None:
                return target if isinstance(target, str) else self.resolve(target, depth + 1)
            s = s.parent
        raise SpecError([Diagnostic(None, name, f"dangling reference {name!r}")])

    def default_input(self, scope: _Scope, node: NodeSpec | BlockSpec) -> str:
        if scope.last is not None:
            return scope.last
        if scope.dollar_in is not None:
            return "$in"
        if len(self.spec.inputs) == 1:
            return self.spec.inputs[0].name
        raise self.fail(node, "no `in:` given and no previous node to default to; add `in:`")

    def scope(self, nodes: tuple[NodeSpec | BlockSpec, ...], scope: _Scope) -> dict[str, Any]:
        fixed: dict[str, Any] = {}
        for node in nodes:
            if isinstance(node, BlockSpec):
                fixed[node.name] = self.block(node, scope)
            else:
                fixed[node.name] = self.node(node, scope)
            scope.last = node.name
        return fixed

    def node(self, node: NodeSpec, scope: _Scope) -> dict[str, Any]:
        full = scope.prefix + node.name
        scope.table[node.name] = full
        if node.inputs is None:
            refs: tuple[str, ...] = (self.default_input(scope, node),)
        elif isinstance(node.inputs, Choice):
            labels = [",".join(o) for o in node.inputs.options]
            chosen = self.trial.suggest_categorical(f"{full}.in", labels)
            refs = node.inputs.options[labels.index(chosen)]
        else:
            refs = node.inputs
        if node.is_choice:
            labels = [o.label for o in node.options]
            label = self.trial.suggest_categorical(f"{full}.choice", labels)
            option = node.options[labels.index(label)]
            pname = f"{full}.{option.label}."
        else:
            option = node.options[0]
            pname = f"{full}."
        hp = {k: suggest(self.trial, pname + k, v, self.vars) for k, v in option.params.items()}
        for key, param in get_primitive(option.op).hparams.items():
            if key not in hp and param.default is not None and not param.required:
                hp[key] = param.default
        self.protos.append((full, option.op, [(scope, r) for r in refs], hp, node))
        return {"op": option.op, "in": refs[0] if len(refs) == 1 else list(refs), **hp}

    def block(self, block: BlockSpec, scope: _Scope) -> dict[str, Any]:
        full = scope.prefix + block.name
        if block.copies is not None:
            count = len(block.copies)
        else:
            count = int(suggest(self.trial, f"{full}.repeat", block.repeat, self.vars))
        given = block.inputs[0] if block.inputs else None
        block_in: _Ref = (scope, given if given else self.default_input(scope, block))
        previous: _Ref = block_in
        copies = []
        for k in range(count):
            nodes = block.copies[k] if block.copies is not None else block.nodes
            inner = _Scope(f"{full}.{k}.", scope, dollar_in=previous)
            copies.append(self.scope(nodes, inner))
            previous = (inner, nodes[-1].name)
        scope.table[block.name] = previous
        out: dict[str, Any] = {}
        if given:
            out["in"] = given
        out["copies"] = copies
        return out


def define_by_run(spec: SpaceSpec, trial: Any) -> Architecture:
    """Resolve every choice of ``spec`` by asking ``trial`` (an Optuna trial or look-alike)."""
    recorder = trial if isinstance(trial, Recorder) else Recorder(trial)
    return _Resolver(spec, recorder).run()
