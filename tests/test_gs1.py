"""GS1 keys: GTIN, GLN, lot, batch id, Digital Link (and its short form), company prefix."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.exceptions import InvalidInput
from provenance.gs1 import (
    GS1_CSET82,
    BatchRef,
    CompanyPrefix,
    Gln,
    Gtin,
    Lot,
    batch_id,
    digital_link,
    gs1_check_digit,
    lot_extends,
    lot_from_bytes32,
    lot_to_bytes32,
    parse_digital_link,
)


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("10614141000415", "10614141000415"),  # GTIN-14
        ("4006-3813 33931", "04006381333931"),
        (4006381333931, "04006381333931"),
    ],
)
def test_normalize_gtin_pads_to_14_digits(given_: str | int, expected: str) -> None:
    assert Gtin(given_) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("4006381333932", r"wrong check digit 2, expected 1 \(4006381333931\)"),
        ("40063813339", "expected 8, 12, 13 or 14 digits, got 11"),
        ("4006381333a31", "only the digits 0-9"),
        ("", "only the digits 0-9"),
        ("00000000", "must not be zero"),
        (10**15, "expected 8, 12, 13 or 14 digits"),
    ],
)
def test_invalid_gtin_is_rejected_with_the_fix(bad: str | int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Gtin(bad)


gtin_bodies = st.integers(min_value=1, max_value=10**13 - 1).map(lambda n: str(n).zfill(13))
lots = st.text(alphabet=sorted(GS1_CSET82), min_size=1, max_size=20)


@given(gtin_bodies)
@example("0000000000001")
@example("9999999999999")
def test_exactly_one_check_digit_is_valid(body: str) -> None:
    valid = [d for d in range(10) if _ok(body + str(d))]
    assert valid == [gs1_check_digit(body)]


def _ok(gtin: str) -> bool:
    try:
        Gtin(gtin)
        return True
    except InvalidInput:
        return False


@given(lots)
@example("A")
@example("x" * 20)
@example("!\"%&'()*+,-./:;<=>?_")
def test_lot_round_trips_through_bytes32(lot: str) -> None:
    raw = lot_to_bytes32(lot)
    assert len(raw) == 32 and raw.startswith(lot.encode())
    assert lot_from_bytes32(raw) == lot
    assert lot_from_bytes32("0x" + raw.hex()) == lot


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "must not be empty"),
        ("x" * 21, "21 characters"),
        ("a b", "character set 82"),
        ("lot#1", "'#'"),
        ("café", "'é'"),
    ],
)
def test_invalid_lot_is_rejected(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        lot_to_bytes32(bad)


@given(gtin_bodies, lots)
@example("0000000000001", "A")
def test_batch_id_is_keccak_of_abi_encoded_gtin_and_lot(body: str, lot: str) -> None:
    gtin = body + str(gs1_check_digit(body))
    expected = keccak(encode(["uint256", "bytes32"], [int(gtin), lot.encode().ljust(32, b"\0")]))
    assert batch_id(gtin, lot) == "0x" + expected.hex()
    assert batch_id(gtin.lstrip("0") and int(gtin), lot) == batch_id(gtin, lot)


@given(gtin_bodies, lots)
@example("0000000000001", "A/B?%")
def test_digital_link_round_trips(body: str, lot: str) -> None:
    gtin = body + str(gs1_check_digit(body))
    uri = digital_link(gtin, lot)
    assert uri.startswith("https://id.gs1.org/01/")
    assert parse_digital_link(uri) == (Gtin(gtin), lot)


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/04006381333931/10/LOT-1",
        "https://example.com/shop/01/04006381333931/10/LOT-1?foo=bar",
        "01/4006381333931/10/LOT-1",
        "/01/04006381333931/10/LOT-1/",
    ],
)
def test_parse_digital_link_accepts_other_hosts_and_short_form(uri: str) -> None:
    assert parse_digital_link(uri) == ("04006381333931", "LOT-1")


@pytest.mark.parametrize(
    "uri", ["https://id.gs1.org/01/04006381333931", "https://x/01/04006381333932/10/A", "junk"]
)
def test_parse_digital_link_rejects_non_batch_links(uri: str) -> None:
    with pytest.raises(InvalidInput):
        parse_digital_link(uri)


@pytest.mark.parametrize(
    ("value", "expected"), [("4012345000009", 4012345000009), (None, 0), ("", 0), (0, 0)]
)
def test_gln(value: str | int | None, expected: int) -> None:
    assert Gln(value) == expected


@pytest.mark.parametrize(
    ("bad", "message"), [("4012345000008", "expected 9"), ("12345678901234", "13")]
)
def test_gln_rejects_bad(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Gln(bad)


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        ("123", "expected 4-12"),
        ("1234567890123", "expected 4-12"),
        ("12a4", "only the digits 0-9"),
        ("0212345", "restricted-circulation"),
        ("2012345", "restricted-circulation"),
        ("0412345", "restricted-circulation"),
        ("0512345", "coupon"),
        ("9812345", "coupon"),
        ("9912345", "coupon"),
        ("0000", "GTIN-8 space"),
        ("000001234", "GTIN-8 space"),
        ("000000123456", "RCN-8"),
        ("000002123456", "RCN-8"),
    ],
)
def test_company_prefix_rules_match_the_registry(digits: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CompanyPrefix.parse(digits)


def test_company_prefix_keeps_leading_zeros_and_covers_gtins() -> None:
    prefix = CompanyPrefix.parse("0614141")
    assert (prefix.value, prefix.length, str(prefix)) == (614141, 7, "0614141")
    assert CompanyPrefix.of(614141, 7) == prefix
    assert prefix.covers("10614141000415") and prefix.covers("0614141000418")
    assert not prefix.covers("04006381333931")
    assert CompanyPrefix.parse("000001234567").length == 12  # one GTIN-8, explicitly
    assert CompanyPrefix.parse("0012345").digits == "0012345"  # a UPC company prefix


@pytest.mark.parametrize(
    ("parent", "lot", "extends"),
    [("L1", "L1-A", True), ("L1", "L1", False), ("L1", "L2-A", False), ("L1-A", "L1", False)],
)
def test_a_derived_lot_extends_its_parent(parent: str, lot: str, extends: bool) -> None:
    assert lot_extends(parent, lot) is extends


@pytest.mark.parametrize(
    "digits", ["٠٩٥٠٦٠٠٠١٣٤٣٥٢", "０９５０６０００１３４３５２", "9506000134352²"]
)
def test_a_gtin_is_ascii_digits_only_as_every_number_is(digits: str) -> None:
    with pytest.raises(InvalidInput, match="only the digits 0-9"):
        Gtin(digits)


@pytest.mark.parametrize(
    "form",
    [
        "https://id.gs1.org/01/09506000134352/10/LOT1",
        "https://resolver.example/shop/01/09506000134352/10/LOT1?x=1",
        "01/09506000134352/10/LOT1",
        "01/9506000134352/10/LOT1",
        "/01/09506000134352/10/LOT1/",
    ],
)
def test_a_batch_ref_takes_every_digital_link_form_the_messages_advertise(form: str) -> None:
    assert BatchRef(form) == batch_id("09506000134352", "LOT1")


def test_a_batch_ref_takes_a_batch_id_in_any_case() -> None:
    bid = batch_id("09506000134352", "LOT1")
    assert BatchRef(bid.upper().replace("0X", "0x")) == bid


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("0x12", "expected a batch id .* or a GS1 Digital Link"),
        ("junk", "01/09506000134352/10/LOT1"),
        ("01/09506000134353/10/LOT1", "wrong check digit 3, expected 2"),
        ("01/09506000134352/10/LOT 1", "character set 82"),
    ],
)
def test_a_bad_batch_ref_says_what_is_wrong(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        BatchRef(bad)


def test_a_lot_read_from_the_chain_is_shown_even_when_no_client_should_have_written_it() -> None:
    assert lot_from_bytes32(b"\xff\x00" + b"\0" * 30).startswith("0xff00")
    assert Lot("L1").extends("L") and not Lot("L1").extends("L1")
