"""CBV 2.0 vocabularies: business steps and dispositions."""

from __future__ import annotations

import pytest

from provenance.cbv import BIZ_STEPS, DISPOSITIONS, biz_step_code, disposition_code
from provenance.exceptions import InvalidInput


def test_cbv_tables_have_the_required_codes() -> None:
    assert BIZ_STEPS[1] == "shipping" and BIZ_STEPS[2] == "receiving"
    for name in [
        "shipping",
        "receiving",
        "departing",
        "arriving",
        "storing",
        "commissioning",
        "transforming",
        "inspecting",
        "packing",
        "unpacking",
        "loading",
        "holding",
        "retail_selling",
        "accepting",
    ]:
        assert name in BIZ_STEPS.values()
    for name in [
        "in_transit",
        "in_progress",
        "active",
        "recalled",
        "damaged",
        "conformant",
        "non_conformant",
        "sellable_accessible",
        "expired",
        "destroyed",
        "returned",
    ]:
        assert name in DISPOSITIONS.values()
    assert 0 not in BIZ_STEPS and 0 not in DISPOSITIONS
    assert max(BIZ_STEPS) < 256 and max(DISPOSITIONS) < 256
    assert len(set(BIZ_STEPS.values())) == len(BIZ_STEPS)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("shipping", 1),
        ("https://ref.gs1.org/cbv/BizStep-receiving", 2),
        ("urn:epcglobal:cbv:bizstep:shipping", 1),
        ("2", 2),
        (None, 0),
        ("", 0),
        (3, 3),
    ],
)
def test_biz_step_code_accepts_names_uris_and_codes(value: str | int | None, code: int) -> None:
    assert biz_step_code(value) == code


def test_disposition_code_and_errors() -> None:
    assert disposition_code("https://ref.gs1.org/cbv/Disp-in_transit") == 1
    with pytest.raises(InvalidInput, match="unknown disposition 'lost'"):
        disposition_code("lost")
    with pytest.raises(InvalidInput, match="unknown business step code 250"):
        biz_step_code(250)
