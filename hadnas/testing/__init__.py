"""Test suites shipped with hadnas, so third-party primitives inherit the same checks."""

from __future__ import annotations

from hadnas.testing.primitive_suite import (
    STANDALONE_HEADER,
    BasicPrimitiveTestCase,
    PrimitiveCase,
    is_causal_case,
    registry_cases,
    seeded_call,
)

__all__ = [
    "STANDALONE_HEADER",
    "BasicPrimitiveTestCase",
    "PrimitiveCase",
    "is_causal_case",
    "registry_cases",
    "seeded_call",
]
