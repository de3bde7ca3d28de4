"""Every registered primitive × each of its examples through the shipped conformance suite."""

from __future__ import annotations

import pytest

from hadnas.primitives import get_primitive, list_primitives
from hadnas.testing import BasicPrimitiveTestCase, PrimitiveCase, registry_cases

CASES = registry_cases()


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> PrimitiveCase:
    return request.param


class TestConformance(BasicPrimitiveTestCase):
    pass


@pytest.mark.parametrize("op", list_primitives())
def test_every_primitive_has_examples_for_each_layout(op: str) -> None:
    cls = get_primitive(op)
    assert cls.examples, f"{op} has no examples; the conformance suite cannot test it"
    covered = {ins[0].layout for _, ins in cls.examples}
    assert covered >= set(cls.layouts), (
        f"{op}: no example for layouts {set(cls.layouts) - covered}"
    )
    assert cls.__doc__ and cls.formula and cls.complexity, f"{op}: document formula/complexity"
