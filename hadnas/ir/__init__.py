"""The IR: a networkx DAG per architecture, with lint, shape inference and analytic costs."""

from __future__ import annotations

from hadnas.ir.graph import IR_VERSION, ArchGraph, NodeAttrs, NodeStats

__all__ = ["IR_VERSION", "ArchGraph", "NodeAttrs", "NodeStats"]
