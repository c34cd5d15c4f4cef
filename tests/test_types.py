"""Identifiers and code tables: GTIN, lot, batch id, Digital Link, roles, CBV, UoM, addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.exceptions import InvalidInput
from provenance.types import (
    BIZ_STEPS,
    DISPOSITIONS,
    GS1_CSET82,
    TERMS_KEYS,
    AgreementTerms,
    CompanyPrefix,
    RequiredClaim,
    Role,
    batch_id,
    biz_step_code,
    bytes32_to_text,
    did_pkh,
    digital_link,
    disposition_code,
    gs1_check_digit,
    hash_file,
    lot_extends,
    lot_from_bytes32,
    lot_to_bytes32,
    normalize_gtin,
    parse_digital_link,
    text_to_bytes32,
    uom_from_bytes,
    uom_to_bytes,
    validate_address,
    validate_gln,
)

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


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
    assert normalize_gtin(given_) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("4006381333932", r"wrong check digit 2, expected 1 \(4006381333931\)"),
        ("40063813339", "expected 8, 12, 13 or 14 digits, got 11"),
        ("4006381333a31", "only digits"),
        ("", "only digits"),
        ("00000000", "must not be zero"),
        (10**15, "expected 8, 12, 13 or 14 digits"),
    ],
)
def test_invalid_gtin_is_rejected_with_the_fix(bad: str | int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalize_gtin(bad)


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
        normalize_gtin(gtin)
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
    assert parse_digital_link(uri) == (normalize_gtin(gtin), lot)


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
    ("value", "expected"),
    [
        ("producer", Role.PRODUCER),
        ("Producer,carrier", Role.PRODUCER | Role.CARRIER),
        ("PROCESSOR|RETAILER", Role.PROCESSOR | Role.RETAILER),
        (["certifier", "distributor"], Role.CERTIFIER | Role.DISTRIBUTOR),
        (63, Role(63)),
    ],
)
def test_role_parse(value: str | int | list[str], expected: Role) -> None:
    assert Role.parse(value) == expected


@pytest.mark.parametrize("bad", ["farmer", "", 0, 64])
def test_role_parse_rejects_unknown(bad: str | int) -> None:
    with pytest.raises(InvalidInput):
        Role.parse(bad)


def test_role_values_match_the_contract() -> None:
    assert [int(r) for r in Role] == [1, 2, 4, 8, 16, 32]
    assert (Role.PRODUCER | Role.CERTIFIER).names() == ["producer", "certifier"]


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


@pytest.mark.parametrize(("code", "raw"), [("KGM", b"KGM"), ("h87", b"H87"), ("EA", b"EA\0")])
def test_uom_round_trip(code: str, raw: bytes) -> None:
    assert uom_to_bytes(code) == raw
    assert uom_from_bytes(raw) == code.upper()


def test_uom_rejects_garbage() -> None:
    with pytest.raises(InvalidInput, match="UN/ECE Rec 20"):
        uom_to_bytes("kilos")


@pytest.mark.parametrize(
    ("value", "expected"), [("4012345000009", 4012345000009), (None, 0), ("", 0), (0, 0)]
)
def test_gln(value: str | int | None, expected: int) -> None:
    assert validate_gln(value) == expected


@pytest.mark.parametrize(
    ("bad", "message"), [("4012345000008", "expected 9"), ("12345678901234", "13")]
)
def test_gln_rejects_bad(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_gln(bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("0x123", "40 hex digits"),
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "bad checksum"),
        ("0x" + "0" * 40, "zero address"),
    ],
)
def test_validate_address_errors(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_address(bad)


def test_validate_address_checksums_lowercase() -> None:
    assert validate_address(A.lower()) == A
    assert did_pkh(31337, A.lower()) == f"did:pkh:eip155:31337:{A}"


def test_hash_file_is_keccak256(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(b"hello")
    assert hash_file(path) == "0x" + keccak(b"hello").hex()
    with pytest.raises(InvalidInput, match="cannot read document"):
        hash_file(tmp_path / "missing")


def test_text_to_bytes32_round_trip() -> None:
    assert bytes32_to_text(text_to_bytes32("organic")) == "organic"
    h = "0x" + "ab" * 32
    assert text_to_bytes32(h) == h
    with pytest.raises(InvalidInput, match="at most 32"):
        text_to_bytes32("x" * 33)


def test_agreement_terms_tuple_round_trip_and_hash() -> None:
    terms = AgreementTerms(
        buyer=A,
        supplier="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        arbiter="0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        carrier="0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
        gtin="04006381333931",
        quantity=10,
        uom="KGM",
        tolerance_bps=250,
        price=10**18,
        delivery_deadline=2_000_000_000,
        required_claims=(RequiredClaim("organic", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),),
        salt=7,
    )
    assert AgreementTerms.from_tuple(terms.to_tuple()) == terms
    by_name = dict(zip(TERMS_KEYS, terms.to_tuple(), strict=True))
    by_name["requiredClaims"] = [
        {"claim": c[0], "attester": c[1]} for c in by_name["requiredClaims"]
    ]
    assert AgreementTerms.from_tuple(by_name) == terms  # as an event decoder gives it
    assert terms.terms_hash().startswith("0x") and len(terms.terms_hash()) == 66
    assert terms.penalty_for(3) == 0 and terms.tender_point == terms.carrier
    assert terms.required_claims[0].claim == text_to_bytes32("organic")


@pytest.mark.parametrize(
    ("price", "tolerance", "escrow"),
    [(10**18, 0, 10**18), (10**18, 250, 1025 * 10**15), (1, 1, 2), (3, 3333, 4), (7, 10_000, 14)],
)
def test_escrow_rounds_the_tolerance_up(price: int, tolerance: int, escrow: int) -> None:
    terms = AgreementTerms(A, A, A, "04006381333931", 10, "KGM", price, 1, tolerance_bps=tolerance)
    assert terms.escrow() == escrow


@given(
    quantity=st.integers(1, 10**6),
    delivered=st.integers(0, 2 * 10**6),
    tolerance=st.integers(0, 10_000),
    days=st.integers(0, 400),
    rate=st.integers(0, 10_000),
    cap=st.integers(0, 10_000),
)
@example(quantity=100, delivered=100, tolerance=0, days=1, rate=250, cap=1_000)
def test_payout_conserves_the_escrow_and_caps_the_penalty(
    quantity: int, delivered: int, tolerance: int, days: int, rate: int, cap: int
) -> None:
    terms = AgreementTerms(
        A, A, A, "04006381333931", quantity, "KGM", 10**18, 1, tolerance_bps=tolerance,
        penalty_bps_per_day=rate, penalty_cap_bps=cap,
    )  # fmt: skip
    if not terms.within_tolerance(delivered):
        return
    supplier, buyer = terms.payout(delivered, days)
    payment = terms.price * delivered // quantity
    assert supplier + buyer == terms.escrow() and 0 <= supplier <= payment
    assert payment - supplier <= payment * cap // 10_000
    assert terms.payout(delivered, days + 1)[0] <= supplier  # later never pays more


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        ("123", "expected 4-12"),
        ("1234567890123", "expected 4-12"),
        ("12a4", "only digits"),
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
