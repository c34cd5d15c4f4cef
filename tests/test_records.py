"""Records: roles, agreement terms and the contract's escrow and payout arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.encoding import text_to_bytes32
from provenance.exceptions import InvalidInput
from provenance.records import TERMS_KEYS, AgreementTerms, RequiredClaim, Role

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


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
