"""Units of measure (the UN/ECE Rec 20 codes accepted) and quantities."""

from __future__ import annotations

import pytest

from provenance.exceptions import InvalidInput
from provenance.units import UNITS, Quantity, Uom, uom_from_bytes, uom_to_bytes


@pytest.mark.parametrize(("code", "raw"), [("KGM", b"KGM"), ("h87", b"H87"), ("EA", b"EA\0")])
def test_uom_round_trip(code: str, raw: bytes) -> None:
    assert uom_to_bytes(code) == raw
    assert uom_from_bytes(raw) == code.upper()


def test_uom_rejects_garbage() -> None:
    with pytest.raises(InvalidInput, match="UN/ECE Rec 20"):
        uom_to_bytes("kilos")


@pytest.mark.parametrize("code", ["XYZ", "KMG", "ABC", "ZZ"])
def test_an_unknown_unit_code_is_refused_with_the_accepted_ones(code: str) -> None:
    with pytest.raises(InvalidInput, match=f"unknown unit of measure '{code}': accepted UN/ECE"):
        Uom(code)


def test_every_accepted_unit_has_the_form_the_registry_checks() -> None:
    assert {"KGM", "GRM", "LTR", "H87", "C62", "EA"} <= set(UNITS)
    for code in UNITS:
        assert Uom(code.lower()) == code and 2 <= len(code) <= 3
        assert uom_from_bytes(uom_to_bytes(code)) == code


def test_a_unit_read_from_the_chain_is_shown_as_stored() -> None:
    assert uom_from_bytes(b"XYZ") == "XYZ"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("٣", "digits 0-9"),  # Arabic-Indic three: refused like in a GTIN
        ("３", "digits 0-9"),
        ("1.5", "digits 0-9"),
        ("-1", "digits 0-9"),
        ("0", "greater than zero"),
        ("00", "greater than zero"),
        (str(2**48), "at most 281474976710655"),
        (True, "whole number"),
    ],
)
def test_a_quantity_is_a_whole_number_of_ascii_digits_in_range(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Quantity(value)


def test_a_loss_may_be_zero() -> None:
    assert Quantity("0", "loss", allow_zero=True) == 0
    assert Quantity("1_000") == 1000 and Quantity(2**48 - 1) == 2**48 - 1
