"""SupplyAgreements: the lifecycle of a delivery bound to the supplier's handoff and settled on
the buyer's acceptance, every revert byte for byte, time, hostile tokens, reentrancy, payout math.

Deliveries run through the real registry that created the contract: the supplier (the farm)
commissions a batch, tenders it (a bound handoff to the buyer, or to the carrier the terms name)
and the buyer's `acceptDelivery` completes it and settles in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import example, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from tests.support.contracts import (
    ACCEPTED,
    ACTIVE,
    CANCELLED,
    CARRIER,
    CERTIFIER,
    CLAIM_COLD_CHAIN,
    CLAIM_ORGANIC,
    DAY,
    DISPUTED,
    DOC,
    ESCALATED,
    ETH,
    FAR,
    FUNDED,
    GTIN,
    GTIN_B,
    KGM,
    LEG,
    LTR,
    MAX_CLAIMS,
    NO_DISPUTE,
    NONE,
    PROPOSED,
    REASON,
    REFUNDED,
    REJECTED,
    RESOLVED,
    SETTLED,
    STATUS_NAMES,
    TENDERED,
    ZERO,
    ZERO32,
    Terms,
    World,
    batch_id,
    days_late,
    escrow_of,
    lot,
    payout_of,
    within_tolerance,
)

# ---------------------------------------------------------------- helpers


@dataclass
class Deal:
    """An agreement, its terms and the batch tendered under it (if any)."""

    id: int
    terms: Terms
    batch: bytes = ZERO32

    @property
    def t(self) -> tuple[Any, ...]:
        return self.terms.as_tuple()


def deal(
    w: World,
    status: int = FUNDED,
    kind: int = NO_DISPUTE,
    lot_text: str | None = None,
    **changes: Any,
) -> Deal:
    """A new agreement driven to `status` (DISPUTED: of `kind`) along the shortest path; a batch
    it tenders has lot `lot_text` (default: a fresh one)."""
    terms = w.terms(**changes)
    if status in (PROPOSED, ACCEPTED, CANCELLED):
        d = Deal(w.propose(terms), terms)
        if status == ACCEPTED:
            w.send(w.agr.accept(d.id, d.t), terms.supplier)
        if status == CANCELLED:
            w.send(w.agr.cancel(d.id, d.t), terms.buyer)
        return d
    d = Deal(w.funded(terms), terms)
    if status == FUNDED:
        return d
    if status == REFUNDED:
        w.at(terms.closes_at + 1)
        w.send(w.agr.reclaim(d.id, d.t), terms.buyer)
        return d
    d.batch = w.create(lot_text, quantity=terms.quantity, gtin=terms.gtin, uom=terms.uom)
    w.tender(d.id, terms, d.batch, proofs_for(w, terms, d.batch))
    if status == SETTLED:
        deliver(w, d)
    elif status in (DISPUTED, RESOLVED) and kind != ESCALATED:
        w.send(w.agr.rejectDelivery(d.id, d.t, d.batch, REASON), terms.buyer)
    elif status in (DISPUTED, RESOLVED):
        w.at(w.now() + terms.inspection_period + 1)
        w.send(w.agr.escalate(d.id, d.t, REASON), terms.supplier)
    if status == RESOLVED:
        w.send(w.agr.resolve(d.id, d.t, d.batch, terms.escrow // 2, False), terms.arbiter)
    return d


def proofs_for(w: World, terms: Terms, bid: bytes) -> list[tuple[bytes, bytes]]:
    """Issue each required claim on `bid` by its named attester; the proofs that cite them."""
    return [w.attest(bid, claim, by=attester) for claim, attester in terms.required_claims]


def deliver(w: World, d: Deal) -> Any:
    """Bring the tendered goods to the buyer (through the carrier for FCA) and accept them."""
    if d.terms.carrier != ZERO:
        w.send(w.reg.acceptHandoff(d.batch, DOC), d.terms.carrier)
        w.initiate(d.batch, d.terms.carrier, d.terms.buyer)
    return w.accept_delivery(d.id, d.terms, d.batch)


def held(w: World, token: str = ETH) -> int:
    """What the agreements contract holds in `token`."""
    return w.balance(w.agreements.address, token)


def ids(rows: list[tuple[Any, ...]]) -> list[str]:
    return [str(r[0]) for r in rows]


# ================================================================ propose, accept, cancel


def test_propose_stores_the_full_terms_hash_and_emits_the_terms(w: World) -> None:
    terms = w.terms(required_claims=((CLAIM_ORGANIC, w.certifier),), carrier=w.carrier)
    receipt = w.send(w.agr.propose(terms.as_tuple()), w.buyer)
    ev = w.event(receipt, "AgreementProposed")
    assert (ev.id, ev.buyer, ev.supplier, ev.proposer, ev.at) == (
        1,
        w.buyer,
        w.supplier,
        w.buyer,
        w.now(),
    )
    assert w.agr.termsHashOf(1).call() == terms.hash() == w.agr.hashTerms(terms.as_tuple()).call()
    rebuilt = tuple(
        [tuple(dict(c).values()) for c in v] if isinstance(v, list) else v
        for v in dict(ev.terms).values()
    )
    assert keccak(encode([Terms.ABI], [rebuilt])) == terms.hash()  # the log rebuilds the terms
    assert (w.status(1), w.agr.agreementCount().call()) == (PROPOSED, 1)
    assert w.state(1) == (PROPOSED, NO_DISPUTE, 0, 0, b"\0" * 19)


@pytest.mark.parametrize("proposer", ["buyer", "supplier"])
def test_the_party_that_did_not_propose_accepts(w: World, proposer: str) -> None:
    terms = w.terms()
    agreement = w.propose(terms, by=getattr(w, proposer))
    other = w.supplier if proposer == "buyer" else w.buyer
    for caller in (getattr(w, proposer), w.arbiter, w.stranger):
        w.reverts(
            w.agr.accept(agreement, terms.as_tuple()),
            caller,
            "AgreementsNotCounterparty",
            agreement,
            caller,
        )
    receipt = w.send(w.agr.accept(agreement, terms.as_tuple()), other)
    ev = w.event(receipt, "AgreementAccepted")
    assert (ev.id, ev.by) == (agreement, other)
    assert w.status(agreement) == ACCEPTED


PARTIES = ("buyer", "supplier", "arbiter", "carrier")
ONE_CLAIM = "one claim"

PROPOSE_ERRORS: list[tuple[str, dict[str, Any], str, tuple[Any, ...]]] = [
    # (label, changes, error, args): names in changes are World accounts, in args Terms fields
    ("zero supplier", {"supplier": ZERO}, "AgreementsInvalidParties", PARTIES),
    ("zero arbiter", {"arbiter": ZERO}, "AgreementsInvalidParties", PARTIES),
    ("buyer is supplier", {"supplier": "buyer"}, "AgreementsInvalidParties", PARTIES),
    ("arbiter is buyer", {"arbiter": "buyer"}, "AgreementsInvalidParties", PARTIES),
    ("arbiter is supplier", {"arbiter": "supplier"}, "AgreementsInvalidParties", PARTIES),
    ("carrier is buyer", {"carrier": "buyer"}, "AgreementsInvalidParties", PARTIES),
    ("carrier is supplier", {"carrier": "supplier"}, "AgreementsInvalidParties", PARTIES),
    ("cap over 100%", {"penalty_cap_bps": 10_001}, "AgreementsInvalidBps", (10_001, 0)),
    ("tolerance over 100%", {"tolerance_bps": 10_001}, "AgreementsInvalidBps", (1_000, 10_001)),
    ("zero price", {"price": 0}, "AgreementsInvalidAmounts", (0, 100)),
    ("zero quantity", {"quantity": 0}, "AgreementsInvalidAmounts", ("price", 0)),
    ("quantity over 48 bits", {"quantity": 2**48}, "AgreementsInvalidAmounts", ("price", 2**48)),
    (
        "escrow overflows",
        {"price": 2**256 - 1, "tolerance_bps": 1},
        "AgreementsInvalidAmounts",
        (2**256 - 1, 100),
    ),
    (
        "deadline now",
        {"delivery_deadline": "now"},
        "AgreementsDeadlineInPast",
        ("delivery_deadline", "now"),
    ),
    ("deadline past", {"delivery_deadline": 1}, "AgreementsDeadlineInPast", (1, "now")),
    ("no inspection", {"inspection_period": 0}, "AgreementsInvalidPeriods", (0, "arbiter_timeout")),
    (
        "no arbiter time",
        {"arbiter_timeout": 0},
        "AgreementsInvalidPeriods",
        ("inspection_period", 0),
    ),
    ("9 claims", {"required_claims": 9}, "AgreementsTooManyClaims", (9, MAX_CLAIMS)),
    (
        "attester zero",
        {"required_claims": ZERO},
        "AgreementsInvalidAttester",
        (CLAIM_ORGANIC, ZERO),
    ),
    (
        "buyer attests",
        {"required_claims": "buyer"},
        "AgreementsInvalidAttester",
        (CLAIM_ORGANIC, "buyer"),
    ),
    (
        "supplier attests",
        {"required_claims": "supplier"},
        "AgreementsInvalidAttester",
        (CLAIM_ORGANIC, "supplier"),
    ),
]


def resolve_terms(w: World, changes: dict[str, Any]) -> Terms:
    """Terms with `changes`: names become accounts; `required_claims` an attester or a count."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "required_claims":
            if isinstance(value, int):
                value = ((CLAIM_ORGANIC, w.certifier),) * value
            else:
                attester = getattr(w, value) if value != ZERO else ZERO
                value = ((CLAIM_COLD_CHAIN, w.certifier), (CLAIM_ORGANIC, attester))
        elif value == "now":
            value = w.now()
        elif isinstance(value, str) and value != ZERO:
            value = getattr(w, value)
        values[name] = value
    return w.terms(**values)


@pytest.mark.parametrize(
    ("changes", "error", "args"), [c[1:] for c in PROPOSE_ERRORS], ids=ids(PROPOSE_ERRORS)
)
def test_propose_refuses_invalid_terms(
    w: World, changes: dict[str, Any], error: str, args: tuple[Any, ...]
) -> None:
    terms = resolve_terms(w, changes)
    now = w.now()
    expected = [
        now if a == "now" else getattr(terms, a) if isinstance(a, str) and a != ZERO else a
        for a in args
    ]
    w.reverts(w.agr.propose(terms.as_tuple()), terms.buyer, error, *expected)
    assert w.agr.agreementCount().call() == 0


@pytest.mark.parametrize("sender", ["arbiter", "stranger", "carrier"])
def test_propose_by_a_non_party_reverts(w: World, sender: str) -> None:
    terms = w.terms(carrier=w.carrier)
    caller = getattr(w, sender)
    w.reverts(w.agr.propose(terms.as_tuple()), caller, "AgreementsNotParty", 0, caller)


def test_propose_accepts_the_extremes(w: World) -> None:
    terms = w.terms(
        penalty_cap_bps=10_000,
        tolerance_bps=10_000,
        quantity=2**48 - 1,
        required_claims=((CLAIM_ORGANIC, w.certifier),) * MAX_CLAIMS,
        carrier=w.arbiter,  # the arbiter may also be the carrier: neither party
        price=2**255 - 1,
    )
    assert w.status(w.propose(terms)) == PROPOSED
    assert w.agr.escrowOf(terms.as_tuple()).call() == 2**256 - 2


def test_identical_terms_are_separate_agreements(w: World) -> None:
    terms = w.terms()
    first, second = w.propose(terms), w.propose(terms)
    third = w.propose(terms.replace(salt=terms.salt + 1))
    assert (first + 1, first + 2) == (second, third)
    assert w.agr.termsHashOf(first).call() == w.agr.termsHashOf(second).call()
    assert w.agr.termsHashOf(third).call() != w.agr.termsHashOf(first).call()


@pytest.mark.parametrize("canceller", ["buyer", "supplier"])
@pytest.mark.parametrize("status", [PROPOSED, ACCEPTED], ids=["Proposed", "Accepted"])
def test_either_party_cancels_before_funding(w: World, status: int, canceller: str) -> None:
    d = deal(w, status)
    receipt = w.send(w.agr.cancel(d.id, d.t), getattr(w, canceller))
    ev = w.event(receipt, "AgreementCancelled")
    assert (ev.id, ev.by) == (d.id, getattr(w, canceller))
    assert w.status(d.id) == CANCELLED
    w.reverts(w.agr.cancel(d.id, d.t), w.buyer, "AgreementsWrongStatus", d.id, CANCELLED)


def test_cancel_by_a_stranger_reverts(w: World) -> None:
    d = deal(w, PROPOSED)
    for caller in (w.arbiter, w.stranger):
        w.reverts(w.agr.cancel(d.id, d.t), caller, "AgreementsNotParty", d.id, caller)


def test_once_funded_only_the_supplier_cancels_and_the_buyer_is_refunded(w: World) -> None:
    d = deal(w, FUNDED, tolerance_bps=250)
    for caller in (w.buyer, w.arbiter):
        w.reverts(w.agr.cancel(d.id, d.t), caller, "AgreementsNotSupplier", d.id, caller)
    receipt = w.send(w.agr.cancel(d.id, d.t), w.supplier)
    assert w.event(receipt, "AgreementCancelled").by == w.supplier
    assert w.event(receipt, "AgreementRefunded").amount == d.terms.escrow
    assert (w.status(d.id), w.credit(w.buyer), w.credit(w.supplier)) == (
        REFUNDED,
        d.terms.escrow,
        0,
    )


# ================================================================ fund


def test_fund_escrows_the_price_plus_the_tolerance_rounded_up(w: World) -> None:
    d = deal(w, ACCEPTED, price=10**18 + 1, tolerance_bps=333)
    escrow = 10**18 + 1 + -(-(10**18 + 1) * 333 // 10_000)
    assert d.terms.escrow == escrow == w.agr.escrowOf(d.t).call()
    receipt = w.send(w.agr.fund(d.id, d.t), w.buyer, escrow)
    ev = w.event(receipt, "AgreementFunded")
    assert (ev.id, ev.token, ev.amount) == (d.id, ETH, escrow)
    assert (w.status(d.id), held(w)) == (FUNDED, escrow)


@pytest.mark.parametrize("offset", [-1, 1, None], ids=["short", "over", "price only"])
def test_fund_takes_exactly_the_escrow_in_eth(w: World, offset: int | None) -> None:
    d = deal(w, ACCEPTED, tolerance_bps=500)
    value = d.terms.price if offset is None else d.terms.escrow + offset
    w.reverts(
        w.agr.fund(d.id, d.t),
        w.buyer,
        "AgreementsWrongValue",
        d.id,
        d.terms.escrow,
        value,
        value=value,
    )


def test_fund_in_a_token_takes_no_eth(w: World) -> None:
    token = w.token()
    d = deal(w, ACCEPTED, token=token.address, price=5_000)
    w.reverts(w.agr.fund(d.id, d.t), w.buyer, "AgreementsWrongValue", d.id, 0, 1, value=1)
    receipt = w.send(w.agr.fund(d.id, d.t), w.buyer)
    assert w.event(receipt, "AgreementFunded").token == token.address
    assert held(w, token.address) == 5_000


def test_fund_is_for_the_buyer_once(w: World) -> None:
    d = deal(w, ACCEPTED)
    for caller in (w.supplier, w.stranger):
        w.reverts(
            w.agr.fund(d.id, d.t),
            caller,
            "AgreementsNotBuyer",
            d.id,
            caller,
            value=d.terms.escrow,
        )
    w.send(w.agr.fund(d.id, d.t), w.buyer, d.terms.escrow)
    w.reverts(
        w.agr.fund(d.id, d.t), w.buyer, "AgreementsWrongStatus", d.id, FUNDED, value=d.terms.escrow
    )


def test_funding_closes_at_the_deadline(w: World) -> None:
    """Scenario 5: funding after the deadline would make any delivery late."""
    d = deal(w, ACCEPTED)
    deadline = d.terms.delivery_deadline
    w.mine_at(deadline + 1)
    w.reverts(
        w.agr.fund(d.id, d.t),
        w.buyer,
        "AgreementsFundingClosed",
        d.id,
        deadline,
        deadline + 1,
        value=d.terms.escrow,
    )
    other = deal(w, ACCEPTED, delivery_deadline=w.now() + 100)
    w.at(other.terms.delivery_deadline)  # the deadline itself is still open
    w.send(w.agr.fund(other.id, other.t), w.buyer, other.terms.escrow)


def test_a_fee_on_transfer_token_is_refused(w: World) -> None:
    token = w.token("FeeOnTransferToken")
    d = deal(w, ACCEPTED, token=token.address, price=10_000)
    w.reverts(
        w.agr.fund(d.id, d.t), w.buyer, "AgreementsTransferMismatch", token.address, 10_000, 9_900
    )


def test_a_no_return_token_works_through_safe_erc20(w: World) -> None:
    token = w.token("NoReturnToken")
    d = deal(w, SETTLED, token=token.address, price=1_000)
    w.send(w.agr.withdraw(token.address), w.supplier)
    assert token.functions.balanceOf(w.supplier).call() == 1_000
    assert w.status(d.id) == SETTLED


def test_token_funding_failures_revert_the_whole_funding(w: World) -> None:
    no_return = w.token("NoReturnToken")
    w.send(no_return.functions.approve(w.agreements.address, 0), w.buyer)
    d = deal(w, ACCEPTED, token=no_return.address, price=1_000)
    assert w.revert_of(w.agr.fund(d.id, d.t), w.buyer).name == "Error(NoReturnToken: allowance)"
    plain = w.token()
    w.send(plain.functions.approve(w.agreements.address, 10), w.buyer)
    d2 = deal(w, ACCEPTED, token=plain.address, price=1_000)
    w.reverts(
        w.agr.fund(d2.id, d2.t),
        w.buyer,
        "ERC20InsufficientAllowance",
        w.agreements.address,
        10,
        1_000,
    )
    broken = w.token("RevertingToken")
    d3 = deal(w, ACCEPTED, token=broken.address, price=1_000)
    w.send(broken.functions.setBroken(True), w.admin)
    w.reverts(w.agr.fund(d3.id, d3.t), w.buyer, "RevertingTokenBroken")
    assert [w.status(x.id) for x in (d, d2, d3)] == [ACCEPTED] * 3


# ================================================================ tender


@pytest.mark.parametrize("fca", [False, True], ids=["DAP", "FCA"])
def test_tender_binds_the_suppliers_batch_and_starts_the_clock(w: World, fca: bool) -> None:
    d = deal(w, FUNDED, carrier=w.carrier if fca else ZERO)
    bid = w.create()
    at = w.at(w.now() + 10)
    receipt = w.tender(d.id, d.terms, bid)
    ev = w.event(receipt, "DeliveryTendered")
    assert (ev.id, ev.batchId, ev.daysLate, ev.at) == (d.id, bid, 0, at)
    handoff = w.event(receipt, "HandoffInitiated")  # the registry's record of the same tender
    assert (handoff.batchId, handoff["from"], handoff.to) == (bid, w.supplier, d.terms.tender_point)
    assert w.state(d.id) == (TENDERED, NO_DISPUTE, at, 0, bid[:19])
    info = w.batch(bid)
    assert (info.bound_to, info.pending_to, info.tender_leg) == (
        w.buyer,
        d.terms.tender_point,
        True,
    )


@pytest.mark.parametrize("status", [PROPOSED, ACCEPTED], ids=["Proposed", "Accepted"])
def test_tender_before_funding_reverts(w: World, status: int) -> None:
    d = deal(w, status)
    bid = w.create()
    w.reverts(
        w.agr.tender(d.id, d.t, bid, LEG, []), w.supplier, "AgreementsWrongStatus", d.id, status
    )


def test_tender_is_for_the_supplier(w: World) -> None:
    d = deal(w, FUNDED)
    bid = w.create()
    for caller in (w.buyer, w.carrier, w.stranger):
        w.reverts(
            w.agr.tender(d.id, d.t, bid, LEG, []), caller, "AgreementsNotSupplier", d.id, caller
        )


def test_tender_closes_at_deadline_plus_grace(w: World) -> None:
    """Scenario 4c: a tender after deadline + grace is refused, so no late reclaim race exists."""
    d = deal(w, FUNDED)
    closes = d.terms.closes_at
    bid = w.create()
    w.mine_at(closes + 1)
    w.reverts(
        w.agr.tender(d.id, d.t, bid, LEG, []),
        w.supplier,
        "AgreementsTenderClosed",
        d.id,
        closes,
        closes + 1,
    )
    other = deal(w, FUNDED, delivery_deadline=w.now() + DAY)
    w.at(other.terms.closes_at)  # the last second is still open
    receipt = w.tender(other.id, other.terms, bid)
    assert w.event(receipt, "DeliveryTendered").daysLate == other.terms.grace_period // DAY


TOLERANCE = [
    # (tolerance bps, delivered, accepted)
    (0, 100, True),
    (0, 99, False),
    (0, 101, False),
    (500, 95, True),
    (500, 105, True),
    (500, 94, False),
    (500, 106, False),
    (10_000, 1, True),
    (10_000, 200, True),
    (10_000, 201, False),
]


@pytest.mark.parametrize(("tolerance", "delivered", "accepted"), TOLERANCE)
def test_tender_quantity_within_the_tolerance(
    w: World, tolerance: int, delivered: int, accepted: bool
) -> None:
    d = deal(w, FUNDED, tolerance_bps=tolerance)
    bid = w.create(quantity=delivered)
    call = w.agr.tender(d.id, d.t, bid, LEG, [])
    if accepted:
        w.send(call, w.supplier)
        assert w.status(d.id) == TENDERED
    else:
        w.reverts(call, w.supplier, "AgreementsQuantityOutOfTolerance", bid, 100, delivered)


def test_tender_of_another_product_or_unit_reverts(w: World) -> None:
    d = deal(w, FUNDED)
    other = w.create(gtin=GTIN_B)
    w.reverts(
        w.agr.tender(d.id, d.t, other, LEG, []),
        w.supplier,
        "AgreementsGtinMismatch",
        other,
        GTIN,
        GTIN_B,
    )
    litres = w.create(uom=LTR)
    w.reverts(
        w.agr.tender(d.id, d.t, litres, LEG, []),
        w.supplier,
        "AgreementsUomMismatch",
        litres,
        KGM,
        LTR,
    )


def claims_deal(w: World) -> tuple[Deal, bytes, bytes]:
    """A funded agreement requiring ORGANIC from the certifier; a batch split from a parent."""
    d = deal(w, FUNDED, required_claims=((CLAIM_ORGANIC, w.certifier),))
    parent = w.create("PARENT", 300)
    child, _, _ = w.split(
        parent, "PARENT", [("PARENT-1", 100), ("PARENT-2", 100), ("PARENT-3", 100)], 0, w.producer
    )
    return d, parent, child


def test_required_claims_are_checked_on_the_batch_or_an_ancestor(w: World) -> None:
    d, parent, child = claims_deal(w)
    proof = w.attest(parent, CLAIM_ORGANIC)  # certified before the split: not stripped by it
    w.tender(d.id, d.terms, child, [proof])
    assert w.status(d.id) == TENDERED
    d2 = deal(w, FUNDED, required_claims=d.terms.required_claims)
    own = w.create("OWN")
    w.tender(d2.id, d2.terms, own, [w.attest(own, CLAIM_ORGANIC)])


def _missing(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return []


def _extra(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(child, CLAIM_ORGANIC)] * 2


def _unissued(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [(child, DOC)]


def _other_claim(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(child, CLAIM_COLD_CHAIN)]


def _other_attester(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    w.send(w.reg.updateParticipant(w.carrier2, CARRIER | CERTIFIER, 0, DOC), w.admin)
    return [w.attest(child, CLAIM_ORGANIC, by=w.carrier2)]


def _self_certified(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    """Scenario 10: the supplier, also a certifier, attests its own goods a minute before."""
    w.send(w.reg.updateParticipant(w.supplier, 1 | CERTIFIER, 0, DOC), w.admin)
    return [w.attest(child, CLAIM_ORGANIC, by=w.supplier)]


def _expired(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(child, CLAIM_ORGANIC, valid_from=0, valid_until=w.now() - 1)]


def _not_yet(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(child, CLAIM_ORGANIC, valid_from=w.now() + DAY)]


def _revoked(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    proof = w.attest(child, CLAIM_ORGANIC)
    w.send(
        w.reg.revokeAttestation(child, CLAIM_ORGANIC, w.certifier, proof[1], REASON), w.certifier
    )
    return [proof]


def _suspended_certifier(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    proof = w.attest(child, CLAIM_ORGANIC)
    w.send(w.reg.suspendParticipant(w.certifier, REASON), w.admin)
    return [proof]


def _sibling(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(batch_id(GTIN, lot("PARENT-2")), CLAIM_ORGANIC)]


def _unrelated(w: World, parent: bytes, child: bytes) -> list[tuple[bytes, bytes]]:
    return [w.attest(w.create(), CLAIM_ORGANIC)]


CLAIM_FAILURES = [
    _missing,
    _extra,
    _unissued,
    _other_claim,
    _other_attester,
    _self_certified,
    _expired,
    _not_yet,
    _revoked,
    _suspended_certifier,
    _sibling,
    _unrelated,
]


@pytest.mark.parametrize("make", CLAIM_FAILURES, ids=lambda f: f.__name__.strip("_"))
def test_a_tender_without_a_valid_required_claim_reverts(
    w: World, make: Callable[[World, bytes, bytes], list[tuple[bytes, bytes]]]
) -> None:
    d, parent, child = claims_deal(w)
    proofs = make(w, parent, child)
    call = w.agr.tender(d.id, d.t, child, LEG, proofs)
    if len(proofs) != 1:
        w.reverts(call, w.supplier, "AgreementsClaimCount", 1, len(proofs))
    else:
        w.reverts(
            call,
            w.supplier,
            "AgreementsClaimInvalid",
            child,
            CLAIM_ORGANIC,
            w.certifier,
            proofs[0][0],
        )
    assert w.status(d.id) == FUNDED


# ================================================================ lateness, one delivery each


@pytest.mark.parametrize(
    ("seconds_late", "late"),
    [
        (-3600, 0),
        (0, 0),
        (DAY - 1, 0),
        (DAY, 1),
        (2 * DAY - 1, 1),
        (3 * DAY + 3600, 3),
        (5 * DAY, 5),
    ],
)
def test_lateness_is_whole_days_from_the_deadline_to_the_tender(
    w: World, seconds_late: int, late: int
) -> None:
    d = deal(w, FUNDED, price=10**18 + 7, penalty_bps_per_day=300, penalty_cap_bps=1_000)
    d.batch = w.create()
    tendered_at = w.at(d.terms.delivery_deadline + seconds_late)
    receipt = w.tender(d.id, d.terms, d.batch)
    assert (
        w.event(receipt, "DeliveryTendered").daysLate
        == late
        == days_late(d.terms.delivery_deadline, tendered_at)
    )
    # the buyer takes its time: acceptance 9 days later changes nothing (scenario 5)
    w.at(tendered_at + 9 * DAY)
    receipt = deliver(w, d)
    ev = w.event(receipt, "DeliverySettled")
    supplier, buyer = d.terms.payout(100, late)
    assert (ev.daysLate, ev.supplierAmount, ev.buyerAmount) == (late, supplier, buyer)
    assert supplier == d.terms.price - d.terms.price * min(300 * late, 1_000) // 10_000


def test_one_delivery_pays_one_agreement(w: World) -> None:
    """Scenarios 1 and 3: nobody else's delivery, nor the same goods again, pays an agreement."""
    first = deal(w, SETTLED, lot_text="L1")
    second = deal(w, FUNDED)
    # the delivered batch now belongs to the buyer: the supplier cannot tender it again
    w.reverts(
        w.agr.tender(second.id, second.t, first.batch, LEG, []),
        w.supplier,
        "RegistryNotOwner",
        first.batch,
        w.supplier,
    )
    # nor can the buyer's split children or a round trip back to the supplier's custody
    kids = w.split(first.batch, "L1", [("L1A", 50), ("L1B", 50)], 0, w.buyer)
    w.move(kids[0], w.buyer, w.supplier)  # custody only: title stays with the buyer
    w.reverts(
        w.agr.tender(second.id, second.t, kids[0], LEG, []),
        w.supplier,
        "RegistryNotOwner",
        kids[0],
        w.supplier,
    )
    # a rival "supplier" of another agreement cannot use the goods either (scenario 1)
    rival = deal(w, FUNDED, supplier=w.rival)
    tendered = deal(w, TENDERED)
    w.reverts(
        w.agr.tender(rival.id, rival.t, tendered.batch, LEG, []),
        w.rival,
        "RegistryHandoffPending",
        tendered.batch,
        w.buyer,
    )
    w.reverts(
        w.agr.acceptDelivery(rival.id, rival.t, tendered.batch, DOC),
        w.buyer,
        "AgreementsWrongStatus",
        rival.id,
        FUNDED,
    )


def test_a_carrier_cannot_sell_goods_it_only_carries(w: World) -> None:
    """Scenario 2: custody is not title; a bound delivery ends at the buyer only."""
    bid = w.create()
    w.move(bid, w.producer, w.carrier)
    w.send(w.reg.updateParticipant(w.carrier, CARRIER | 1, 0, DOC), w.admin)
    scam = deal(w, FUNDED, supplier=w.carrier, price=1)
    w.reverts(
        w.agr.tender(scam.id, scam.t, bid, LEG, []), w.carrier, "RegistryNotOwner", bid, w.carrier
    )


# ================================================================ withdrawTender


def test_withdraw_tender_releases_the_batch_and_the_agreement_is_funded_again(w: World) -> None:
    d = deal(w, TENDERED)
    receipt = w.send(w.agr.withdrawTender(d.id, d.t, d.batch), w.supplier)
    assert w.event(receipt, "TenderWithdrawn").batchId == d.batch
    assert w.event(receipt, "DeliveryReleased").agreementId == d.id
    assert w.event(receipt, "HandoffCancelled").to == w.buyer
    info = w.batch(d.batch)
    assert (info.custodian, info.owner, info.pending_to, info.bound_to, info.tender_leg) == (
        w.supplier,
        w.supplier,
        ZERO,
        ZERO,
        False,
    )
    assert w.status(d.id) == FUNDED
    w.tender(d.id, d.terms, d.batch)  # and tendered again
    assert w.status(d.id) == TENDERED


def test_withdraw_tender_reverts(w: World) -> None:
    d = deal(w, TENDERED, carrier=w.carrier)
    other = w.create()
    w.reverts(
        w.agr.withdrawTender(d.id, d.t, d.batch), w.buyer, "AgreementsNotSupplier", d.id, w.buyer
    )
    w.reverts(
        w.agr.withdrawTender(d.id, d.t, other),
        w.supplier,
        "AgreementsNotTenderedBatch",
        d.id,
        other,
    )
    w.send(w.reg.acceptHandoff(d.batch, DOC), w.carrier)  # the tender point has the goods
    w.reverts(
        w.agr.withdrawTender(d.id, d.t, d.batch),
        w.supplier,
        "AgreementsTenderInTransit",
        d.id,
        d.batch,
    )
    funded = deal(w, FUNDED)
    w.reverts(
        w.agr.withdrawTender(funded.id, funded.t, d.batch),
        w.supplier,
        "AgreementsWrongStatus",
        funded.id,
        FUNDED,
    )


# ================================================================ acceptDelivery


def test_accepting_a_delivery_settles_in_the_same_transaction(w: World) -> None:
    d = deal(w, TENDERED, tolerance_bps=500)
    receipt = w.accept_delivery(d.id, d.terms, d.batch)
    settled = w.event(receipt, "DeliverySettled")
    supplier, buyer = d.terms.payout(100, 0)
    assert (settled.id, settled.batchId, settled.supplierAmount, settled.buyerAmount) == (
        d.id,
        d.batch,
        supplier,
        buyer,
    )
    assert (supplier, buyer) == (d.terms.price, d.terms.escrow - d.terms.price)
    accepted = w.event(receipt, "HandoffAccepted")  # the registry's completion, same transaction
    assert (accepted.batchId, accepted["from"], accepted.to, accepted.document) == (
        d.batch,
        w.supplier,
        w.buyer,
        DOC,
    )
    info = w.batch(d.batch)
    assert (info.custodian, info.owner, info.pending_to, info.bound_to, info.state) == (
        w.buyer,
        w.buyer,
        ZERO,
        ZERO,
        ACTIVE,
    )
    assert (w.status(d.id), w.credit(w.supplier), w.credit(w.buyer)) == (SETTLED, supplier, buyer)
    assert held(w) == d.terms.escrow


def test_an_fca_delivery_reaches_the_buyer_through_carriers(w: World) -> None:
    d = deal(w, TENDERED, carrier=w.carrier)
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
        w.buyer,
        "RegistryNotRecipient",
        d.batch,
        w.buyer,
    )
    w.send(w.reg.acceptHandoff(d.batch, DOC), w.carrier)
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
        w.buyer,
        "RegistryNotRecipient",
        d.batch,
        w.buyer,
    )
    w.move(d.batch, w.carrier, w.carrier2)
    w.initiate(d.batch, w.carrier2, w.buyer)
    receipt = w.accept_delivery(d.id, d.terms, d.batch)
    accepted = w.event(receipt, "HandoffAccepted")
    assert (accepted["from"], accepted.to) == (w.carrier2, w.buyer)
    info = w.batch(d.batch)
    assert (info.custodian, info.owner, info.bound_to) == (w.buyer, w.buyer, ZERO)
    assert w.credit(w.supplier) == d.terms.price


@pytest.mark.parametrize(
    ("delivered", "tolerance"), [(95, 500), (105, 500), (1, 10_000), (199, 10_000)]
)
def test_a_delivery_is_paid_pro_rata_and_the_rest_returns_to_the_buyer(
    w: World, delivered: int, tolerance: int
) -> None:
    d = deal(w, FUNDED, price=10**18 + 3, tolerance_bps=tolerance)
    d.batch = w.create(quantity=delivered)
    w.tender(d.id, d.terms, d.batch)
    receipt = w.accept_delivery(d.id, d.terms, d.batch)
    ev = w.event(receipt, "DeliverySettled")
    payment = (10**18 + 3) * delivered // 100
    assert (ev.supplierAmount, ev.buyerAmount) == (payment, d.terms.escrow - payment)


def test_accept_delivery_reverts(w: World) -> None:
    d = deal(w, TENDERED)
    other = w.create()
    for caller in (w.supplier, w.stranger):
        w.reverts(
            w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
            caller,
            "AgreementsNotBuyer",
            d.id,
            caller,
        )
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, other, DOC),
        w.buyer,
        "AgreementsNotTenderedBatch",
        d.id,
        other,
    )
    w.send(w.reg.recallBatch(d.batch, REASON, DOC), w.supplier)
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC), w.buyer, "RegistryBatchRecalled", d.batch
    )
    w.send(w.reg.liftRecall(d.batch, REASON, DOC), w.admin)
    w.send(w.reg.suspendParticipant(w.buyer, REASON), w.admin)
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
        w.buyer,
        "RegistryParticipantInactive",
        w.buyer,
    )
    w.send(w.reg.reinstateParticipant(w.buyer), w.admin)
    w.accept_delivery(d.id, d.terms, d.batch)
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
        w.buyer,
        "AgreementsWrongStatus",
        d.id,
        SETTLED,
    )


def test_operator_actions_after_the_tender_do_not_redirect_the_payment(w: World) -> None:
    """A suspended or migrated supplier is still paid what the tender fixed."""
    d = deal(w, TENDERED)
    w.send(w.reg.suspendParticipant(w.supplier, REASON), w.admin)
    w.accept_delivery(d.id, d.terms, d.batch)
    assert w.credit(w.supplier) == d.terms.price
    w.send(w.reg.reinstateParticipant(w.supplier), w.admin)
    m = deal(w, TENDERED)
    w.send(w.reg.migrateParticipant(w.supplier, w.stranger, REASON), w.admin)
    receipt = w.accept_delivery(m.id, m.terms, m.batch)
    assert w.event(receipt, "DeliverySettled").supplierAmount == m.terms.price
    assert w.credit(w.supplier) == 2 * d.terms.price  # the agreement names the old address
    assert w.batch(m.batch).owner == w.buyer


def test_a_recall_before_acceptance_blocks_settlement_and_after_it_changes_nothing(
    w: World,
) -> None:
    parent = w.create("PR", 100)
    (child,) = w.split(parent, "PR", [("PR1", 100)], 0, w.producer)
    terms = w.terms()
    first = Deal(w.funded(terms), terms, child)
    w.tender(first.id, terms, child)
    w.send(w.reg.recallBatch(parent, REASON, DOC), w.producer)
    w.reverts(
        w.agr.acceptDelivery(first.id, first.t, child, DOC),
        w.buyer,
        "RegistryAncestorRecalled",
        child,
        1,
    )
    w.send(w.agr.rejectDelivery(first.id, first.t, child, REASON), w.buyer)  # the buyer's way out
    settled = deal(w, SETTLED)
    w.send(w.reg.recallBatch(settled.batch, REASON, DOC), w.producer)
    assert (w.status(settled.id), w.credit(w.supplier)) == (SETTLED, settled.terms.price)


# ================================================================ rejectDelivery and re-tender


def test_reject_delivery_returns_the_goods_and_opens_a_refund_dispute(w: World) -> None:
    d = deal(w, TENDERED)
    at = w.at(w.now() + 60)
    receipt = w.send(w.agr.rejectDelivery(d.id, d.t, d.batch, REASON), w.buyer)
    raised = w.event(receipt, "DisputeRaised")
    assert (raised.id, raised.by, raised.kind, raised.reason) == (d.id, w.buyer, REJECTED, REASON)
    assert w.event(receipt, "DeliveryReleased").batchId == d.batch
    assert w.event(receipt, "HandoffCancelled").to == w.buyer
    status, kind, _, disputed_at, _ = w.state(d.id)
    assert (status, kind, disputed_at) == (DISPUTED, REJECTED, at)
    info = w.batch(d.batch)
    assert (info.custodian, info.owner, info.pending_to, info.bound_to) == (
        w.supplier,
        w.supplier,
        ZERO,
        ZERO,
    )


def test_an_fca_rejection_leaves_the_goods_with_the_carrier_for_the_supplier(w: World) -> None:
    d = deal(w, TENDERED, carrier=w.carrier)
    w.send(w.reg.acceptHandoff(d.batch, DOC), w.carrier)
    w.initiate(d.batch, w.carrier, w.buyer)
    w.send(w.agr.rejectDelivery(d.id, d.t, d.batch, REASON), w.buyer)
    info = w.batch(d.batch)
    assert (info.custodian, info.owner, info.pending_to, info.bound_to) == (
        w.carrier,
        w.supplier,
        ZERO,
        ZERO,
    )
    w.move(d.batch, w.carrier, w.supplier)  # the carrier brings them back


def test_a_retender_restarts_the_clock(w: World) -> None:
    d = deal(w, FUNDED, penalty_bps_per_day=100, penalty_cap_bps=10_000)
    d.batch = w.create()
    w.at(d.terms.delivery_deadline - DAY)
    w.tender(d.id, d.terms, d.batch)  # on time
    w.send(w.agr.rejectDelivery(d.id, d.t, d.batch, REASON), w.buyer)
    cure = w.create()
    at = w.at(d.terms.delivery_deadline + 2 * DAY + 5)
    receipt = w.tender(d.id, d.terms, cure)
    assert w.event(receipt, "DeliveryTendered").daysLate == 2
    assert w.state(d.id) == (TENDERED, NO_DISPUTE, at, 0, cure[:19])
    w.reverts(
        w.agr.acceptDelivery(d.id, d.t, d.batch, DOC),
        w.buyer,
        "AgreementsNotTenderedBatch",
        d.id,
        d.batch,
    )
    receipt = w.accept_delivery(d.id, d.terms, cure)
    assert w.event(receipt, "DeliverySettled").supplierAmount == d.terms.price * 98 // 100


def test_no_retender_after_deadline_plus_grace(w: World) -> None:
    d = deal(w, DISPUTED, kind=REJECTED)
    cure = w.create()  # before the clock is set: its own block would move the clock on
    w.mine_at(d.terms.closes_at + 1)
    w.reverts(
        w.agr.tender(d.id, d.t, cure, LEG, []),
        w.supplier,
        "AgreementsTenderClosed",
        d.id,
        d.terms.closes_at,
        d.terms.closes_at + 1,
    )


def test_reject_delivery_reverts(w: World) -> None:
    d = deal(w, TENDERED)
    other = w.create()
    for caller in (w.supplier, w.arbiter):
        w.reverts(
            w.agr.rejectDelivery(d.id, d.t, d.batch, REASON),
            caller,
            "AgreementsNotBuyer",
            d.id,
            caller,
        )
    w.reverts(
        w.agr.rejectDelivery(d.id, d.t, other, REASON),
        w.buyer,
        "AgreementsNotTenderedBatch",
        d.id,
        other,
    )
    funded = deal(w, FUNDED)
    w.reverts(
        w.agr.rejectDelivery(funded.id, funded.t, d.batch, REASON),
        w.buyer,
        "AgreementsWrongStatus",
        funded.id,
        FUNDED,
    )


# ================================================================ escalate


def test_escalate_after_the_inspection_period(w: World) -> None:
    d = deal(w, TENDERED)
    tendered_at = w.state(d.id)[2]
    after = tendered_at + d.terms.inspection_period
    w.mine_at(after)
    w.reverts(
        w.agr.escalate(d.id, d.t, REASON),
        w.supplier,
        "AgreementsInspectionPending",
        d.id,
        after,
        after,
    )
    w.reverts(w.agr.escalate(d.id, d.t, REASON), w.buyer, "AgreementsNotSupplier", d.id, w.buyer)
    at = w.at(after + 1)
    receipt = w.send(w.agr.escalate(d.id, d.t, REASON), w.supplier)
    raised = w.event(receipt, "DisputeRaised")
    assert (raised.by, raised.kind, raised.reason) == (w.supplier, ESCALATED, REASON)
    assert w.state(d.id)[:4] == (DISPUTED, ESCALATED, tendered_at, at)
    assert w.batch(d.batch).bound_to == w.buyer  # the tender stands
    w.reverts(
        w.agr.rejectDelivery(d.id, d.t, d.batch, REASON),
        w.buyer,
        "AgreementsWrongStatus",
        d.id,
        DISPUTED,
    )
    w.reverts(
        w.agr.withdrawTender(d.id, d.t, d.batch),
        w.supplier,
        "AgreementsWrongStatus",
        d.id,
        DISPUTED,
    )
    w.reverts(
        w.agr.escalate(d.id, d.t, REASON), w.supplier, "AgreementsWrongStatus", d.id, DISPUTED
    )


def test_the_buyer_may_still_accept_an_escalated_tender(w: World) -> None:
    d = deal(w, DISPUTED, kind=ESCALATED)
    w.accept_delivery(d.id, d.terms, d.batch)
    assert (w.status(d.id), w.credit(w.supplier), w.batch(d.batch).owner) == (
        SETTLED,
        d.terms.price,
        w.buyer,
    )


# ================================================================ resolve, resolveByDefault


@pytest.mark.parametrize("award_bps", [0, 3_333, 10_000])
def test_the_arbiter_splits_a_rejected_dispute_and_the_goods_stay(w: World, award_bps: int) -> None:
    d = deal(w, DISPUTED, kind=REJECTED, tolerance_bps=100)
    award = d.terms.escrow * award_bps // 10_000
    receipt = w.send(w.agr.resolve(d.id, d.t, ZERO32, award, False), w.arbiter)
    ev = w.event(receipt, "DisputeResolved")
    assert (ev.supplierAmount, ev.buyerAmount, ev.delivered, ev.byDefault) == (
        award,
        d.terms.escrow - award,
        False,
        False,
    )
    assert (w.credit(w.supplier), w.credit(w.buyer)) == (award, d.terms.escrow - award)
    assert w.batch(d.batch).owner == w.supplier


def test_resolve_reverts(w: World) -> None:
    d = deal(w, DISPUTED, kind=REJECTED)
    escrow = d.terms.escrow
    for caller in (w.buyer, w.supplier):
        w.reverts(
            w.agr.resolve(d.id, d.t, d.batch, 0, False),
            caller,
            "AgreementsNotArbiter",
            d.id,
            caller,
        )
    w.reverts(
        w.agr.resolve(d.id, d.t, d.batch, escrow + 1, False),
        w.arbiter,
        "AgreementsAwardTooHigh",
        d.id,
        escrow + 1,
        escrow,
    )
    w.reverts(
        w.agr.resolve(d.id, d.t, d.batch, 0, True), w.arbiter, "AgreementsNothingToDeliver", d.id
    )
    e = deal(w, DISPUTED, kind=ESCALATED)
    w.reverts(
        w.agr.resolve(e.id, e.t, d.batch, 0, True),
        w.arbiter,
        "AgreementsNotTenderedBatch",
        e.id,
        d.batch,
    )
    t = deal(w, TENDERED)
    w.reverts(
        w.agr.resolve(t.id, t.t, t.batch, 0, False),
        w.arbiter,
        "AgreementsWrongStatus",
        t.id,
        TENDERED,
    )


@pytest.mark.parametrize("deliver_goods", [True, False])
def test_the_arbiter_decides_whether_an_escalated_delivery_passes(
    w: World, deliver_goods: bool
) -> None:
    d = deal(w, DISPUTED, kind=ESCALATED)
    receipt = w.send(w.agr.resolve(d.id, d.t, d.batch, 7, deliver_goods), w.arbiter)
    assert w.event(receipt, "DisputeResolved").delivered is deliver_goods
    info = w.batch(d.batch)
    if deliver_goods:
        moved = w.event(receipt, "TitleTransferred")
        assert (moved.batchId, moved.agreementId, moved["from"], moved.to) == (
            d.batch,
            d.id,
            w.supplier,
            w.buyer,
        )
        # title passed; the pending leg stays as custody only, now an ordinary handoff
        assert (info.owner, info.custodian, info.pending_to, info.bound_to, info.tender_leg) == (
            w.buyer,
            w.supplier,
            w.buyer,
            ZERO,
            False,
        )
        w.send(w.reg.acceptHandoff(d.batch, DOC), w.buyer)
        assert w.batch(d.batch).custodian == w.buyer
    else:
        assert w.event(receipt, "DeliveryReleased").agreementId == d.id
        assert (info.owner, info.custodian, info.pending_to, info.bound_to) == (
            w.supplier,
            w.supplier,
            ZERO,
            ZERO,
        )
    assert (w.credit(w.supplier), w.credit(w.buyer)) == (7, d.terms.escrow - 7)


def test_default_after_a_rejection_refunds_the_buyer_in_full(w: World) -> None:
    d = deal(w, DISPUTED, kind=REJECTED, tolerance_bps=50)
    default_after = w.state(d.id)[3] + d.terms.arbiter_timeout
    w.mine_at(default_after)
    w.reverts(
        w.agr.resolveByDefault(d.id, d.t, ZERO32),
        w.stranger,
        "AgreementsArbiterTimeoutPending",
        d.id,
        default_after,
        default_after,
    )
    w.at(default_after + 1)
    receipt = w.send(w.agr.resolveByDefault(d.id, d.t, ZERO32), w.stranger)  # anyone
    ev = w.event(receipt, "DisputeResolved")
    assert (ev.supplierAmount, ev.buyerAmount, ev.delivered, ev.byDefault) == (
        0,
        d.terms.escrow,
        False,
        True,
    )
    assert w.batch(d.batch).owner == w.supplier  # refund, and no goods: invariant 6


def test_default_after_an_escalation_pays_the_supplier_as_if_accepted(w: World) -> None:
    """Scenario 4b: a silent arbiter no longer refunds a buyer whose delivery is proven on chain."""
    d = deal(w, FUNDED, penalty_bps_per_day=200, tolerance_bps=1_000)
    d.batch = w.create(quantity=104)
    w.at(d.terms.delivery_deadline + 2 * DAY + 1)
    w.tender(d.id, d.terms, d.batch)
    w.at(w.now() + d.terms.inspection_period + 1)
    w.send(w.agr.escalate(d.id, d.t, REASON), w.supplier)
    w.mine_at(w.state(d.id)[3] + d.terms.arbiter_timeout + 1)
    w.reverts(
        w.agr.resolveByDefault(d.id, d.t, ZERO32),
        w.stranger,
        "AgreementsNotTenderedBatch",
        d.id,
        ZERO32,
    )
    receipt = w.send(w.agr.resolveByDefault(d.id, d.t, d.batch), w.stranger)
    supplier, buyer = d.terms.payout(104, 2)
    ev = w.event(receipt, "DisputeResolved")
    assert (ev.supplierAmount, ev.buyerAmount, ev.delivered, ev.byDefault) == (
        supplier,
        buyer,
        True,
        True,
    )
    assert w.event(receipt, "TitleTransferred").to == w.buyer
    assert w.batch(d.batch).owner == w.buyer


def test_default_of_an_escalation_stands_despite_a_buyers_suspension(w: World) -> None:
    d = deal(w, DISPUTED, kind=ESCALATED)
    w.send(w.reg.suspendParticipant(w.buyer, REASON), w.admin)
    w.mine_at(w.state(d.id)[3] + d.terms.arbiter_timeout + 1)
    w.send(w.agr.resolveByDefault(d.id, d.t, d.batch), w.stranger)
    assert (w.credit(w.supplier), w.batch(d.batch).owner) == (d.terms.price, w.buyer)


def test_a_recall_blocks_the_escalation_default_and_lets_the_buyer_reject(w: World) -> None:
    """A recall before acceptance blocks settlement, by default too; a lift restores the default."""
    d = deal(w, DISPUTED, kind=ESCALATED)
    w.reverts(
        w.agr.rejectDelivery(d.id, d.t, d.batch, REASON),
        w.buyer,
        "AgreementsWrongStatus",
        d.id,
        DISPUTED,
    )
    w.send(w.reg.recallBatch(d.batch, REASON, DOC), w.admin)
    w.mine_at(w.state(d.id)[3] + d.terms.arbiter_timeout + 1)
    w.reverts(
        w.agr.resolveByDefault(d.id, d.t, d.batch),
        w.stranger,
        "AgreementsGoodsRecalled",
        d.id,
        d.batch,
    )
    w.send(w.reg.liftRecall(d.batch, REASON, DOC), w.admin)
    w.send(w.agr.resolveByDefault(d.id, d.t, d.batch), w.stranger)
    assert (w.credit(w.supplier), w.batch(d.batch).owner) == (d.terms.price, w.buyer)


def test_after_an_escalation_the_buyer_rejects_recalled_goods_and_is_refunded(w: World) -> None:
    d = deal(w, DISPUTED, kind=ESCALATED)
    w.send(w.reg.recallBatch(d.batch, REASON, DOC), w.admin)
    w.send(w.agr.rejectDelivery(d.id, d.t, d.batch, REASON), w.buyer)
    assert w.state(d.id)[:2] == (DISPUTED, REJECTED)
    w.mine_at(w.state(d.id)[3] + d.terms.arbiter_timeout + 1)
    w.send(w.agr.resolveByDefault(d.id, d.t, d.batch), w.stranger)
    assert (w.credit(w.buyer), w.credit(w.supplier)) == (d.terms.escrow, 0)
    assert w.batch(d.batch).owner == w.supplier


# ================================================================ reclaim


def test_reclaim_after_deadline_plus_grace_refunds_the_escrow(w: World) -> None:
    d = deal(w, FUNDED, tolerance_bps=700)
    closes = d.terms.closes_at
    w.mine_at(closes)
    w.reverts(w.agr.reclaim(d.id, d.t), w.buyer, "AgreementsNotRefundableYet", d.id, closes, closes)
    w.reverts(w.agr.reclaim(d.id, d.t), w.supplier, "AgreementsNotBuyer", d.id, w.supplier)
    w.at(closes + 1)
    receipt = w.send(w.agr.reclaim(d.id, d.t), w.buyer)
    assert w.event(receipt, "AgreementRefunded").amount == d.terms.escrow
    assert (w.status(d.id), w.credit(w.buyer)) == (REFUNDED, d.terms.escrow)


def test_the_buyer_cannot_reclaim_while_a_tender_is_pending(w: World) -> None:
    """Scenario 4a: no parking the goods and running out the clock."""
    d = deal(w, TENDERED)
    w.mine_at(d.terms.closes_at + 100 * DAY)
    w.reverts(w.agr.reclaim(d.id, d.t), w.buyer, "AgreementsWrongStatus", d.id, TENDERED)
    w.accept_delivery(d.id, d.terms, d.batch)  # ... and the goods are still paid for when taken
    assert w.credit(w.supplier) == d.terms.price


# ================================================================ withdraw and reentrancy


def test_both_sides_withdraw_their_credits(w: World) -> None:
    d = deal(w, FUNDED, penalty_bps_per_day=100)
    d.batch = w.create()
    w.at(d.terms.delivery_deadline + 3 * DAY)
    w.tender(d.id, d.terms, d.batch)
    w.accept_delivery(d.id, d.terms, d.batch)
    supplier, buyer = d.terms.payout(100, 3)
    for account, amount in ((w.supplier, supplier), (w.buyer, buyer)):
        before = w.balance(account)
        receipt = w.send(w.agr.withdraw(ETH), account)
        ev = w.event(receipt, "Withdrawn")
        assert (ev.account, ev.token, ev.amount) == (account, ETH, amount)
        assert w.balance(account) == before + amount - receipt.gasUsed * receipt.effectiveGasPrice
    assert held(w) == 0
    w.reverts(w.agr.withdraw(ETH), w.supplier, "AgreementsNothingToWithdraw", w.supplier, ETH)


def test_token_credits_are_withdrawn_per_token(w: World) -> None:
    token = w.token()
    d = deal(w, SETTLED, token=token.address, price=5_000_000)
    w.reverts(w.agr.withdraw(ETH), w.supplier, "AgreementsNothingToWithdraw", w.supplier, ETH)
    w.send(w.agr.withdraw(token.address), w.supplier)
    assert token.functions.balanceOf(w.supplier).call() == d.terms.price
    assert held(w, token.address) == 0


def test_a_reverting_token_keeps_the_credit_until_transfers_work(w: World) -> None:
    token = w.token("RevertingToken")
    deal(w, SETTLED, token=token.address, price=777)
    w.send(token.functions.setBroken(True), w.admin)
    w.reverts(w.agr.withdraw(token.address), w.supplier, "RevertingTokenBroken")
    assert w.credit(w.supplier, token.address) == 777
    w.send(token.functions.setBroken(False), w.admin)
    w.send(w.agr.withdraw(token.address), w.supplier)
    assert (w.credit(w.supplier, token.address), token.functions.balanceOf(w.supplier).call()) == (
        0,
        777,
    )


def attacker_supplier(w: World) -> tuple[Contract, Deal]:
    """A settled agreement whose supplier is a ReentrantAttacker contract (credit unwithdrawn)."""
    attacker = w.deploy(w.w3, "ReentrantAttacker", sender=w.admin)
    w.register(attacker.address, 1)
    bid = w.create("ATK")
    w.initiate(bid, w.producer, attacker.address, own=True)

    def act(target: Contract, call: Any) -> None:
        w.send(attacker.functions.execute(target.address, call._encode_transaction_data()), w.admin)

    act(w.registry, w.reg.acceptHandoff(bid, DOC))
    terms = w.terms(supplier=attacker.address, price=3 * 10**17)
    act(w.agreements, w.agr.propose(terms.as_tuple()))
    d = Deal(int(w.agr.agreementCount().call()), terms, bid)
    w.send(w.agr.accept(d.id, d.t), w.buyer)
    w.send(w.agr.fund(d.id, d.t), w.buyer, terms.escrow)
    act(w.agreements, w.agr.tender(d.id, d.t, bid, LEG, []))
    w.accept_delivery(d.id, terms, bid)
    return attacker, d


def test_a_reentrant_withdraw_fails_and_pays_once(w: World) -> None:
    attacker, d = attacker_supplier(w)
    deal(w, FUNDED)  # more ETH in the contract than the attacker's credit
    withdraw = w.agr.withdraw(ETH)._encode_transaction_data()
    w.send(attacker.functions.arm(w.agreements.address, withdraw), w.admin)
    w.send(attacker.functions.execute(w.agreements.address, withdraw), w.admin)
    assert attacker.functions.attempted().call() is True
    assert attacker.functions.reentrySucceeded().call() is False
    reentry = w.errors.decode(attacker.functions.reentryResult().call())
    assert reentry.name == "ReentrancyGuardReentrantCall"
    assert attacker.functions.received().call() == d.terms.price
    assert w.credit(attacker.address) == 0
    assert held(w) == w.terms().escrow


def test_a_reentrant_accept_of_a_settled_agreement_fails(w: World) -> None:
    attacker, d = attacker_supplier(w)
    again = w.agr.acceptDelivery(d.id, d.t, d.batch, DOC)._encode_transaction_data()
    w.send(attacker.functions.arm(w.agreements.address, again), w.admin)
    w.send(
        attacker.functions.execute(
            w.agreements.address, w.agr.withdraw(ETH)._encode_transaction_data()
        ),
        w.admin,
    )
    assert attacker.functions.reentrySucceeded().call() is False
    reentry = w.errors.decode(attacker.functions.reentryResult().call())
    assert (reentry.name, reentry.error_args) == ("AgreementsWrongStatus", (d.id, SETTLED))


def test_a_party_that_refuses_eth_keeps_its_credit(w: World) -> None:
    attacker, d = attacker_supplier(w)
    w.send(attacker.functions.setRejectPayments(True), w.admin)
    withdraw = w.agr.withdraw(ETH)._encode_transaction_data()
    w.reverts(
        attacker.functions.execute(w.agreements.address, withdraw),
        w.admin,
        "AgreementsEthTransferFailed",
        attacker.address,
        d.terms.price,
    )
    assert w.credit(attacker.address) == d.terms.price


# ================================================================ payout and escrow math


@pytest.mark.parametrize(
    ("price", "tolerance", "escrow"),
    [
        (1, 0, 1),
        (1, 1, 2),
        (9_999, 1, 10_000),
        (10_000, 1, 10_001),
        (10_001, 1, 10_003),
        (7, 10_000, 14),
    ],
)
def test_escrow_rounds_the_tolerance_up(w: World, price: int, tolerance: int, escrow: int) -> None:
    terms = w.terms(price=price, tolerance_bps=tolerance)
    assert w.agr.escrowOf(terms.as_tuple()).call() == escrow == escrow_of(price, tolerance)


@settings(max_examples=100, deadline=None)
@given(
    price=st.integers(1, 2**255),
    quantity=st.integers(1, 2**48 - 1),
    tolerance=st.integers(0, 10_000),
    bps=st.integers(0, 2**16 - 1),
    cap=st.integers(0, 10_000),
    late=st.integers(0, 2**64),
    spread=st.floats(0, 1),
)
@example(
    price=2**255,
    quantity=2**48 - 1,
    tolerance=10_000,
    bps=2**16 - 1,
    cap=10_000,
    late=2**64,
    spread=1.0,
)
@example(price=1, quantity=3, tolerance=0, bps=1, cap=1, late=1, spread=0.5)
@example(price=10**18, quantity=100, tolerance=500, bps=100, cap=1_000, late=10_001, spread=0.0)
def test_payout_for_matches_the_model_and_keeps_its_bounds(
    world: World,
    price: int,
    quantity: int,
    tolerance: int,
    bps: int,
    cap: int,
    late: int,
    spread: float,
) -> None:
    low = quantity - quantity * tolerance // 10_000
    high = min(quantity + quantity * tolerance // 10_000, 2**48 - 1)
    delivered = max(1, low + int((high - low) * spread))
    if not within_tolerance(quantity, tolerance, delivered):
        delivered = quantity
    price = min(price, (2**256 - 2) * 10_000 // (10_000 + tolerance))  # the escrow fits 256 bits
    terms = world.terms(
        price=price,
        quantity=quantity,
        tolerance_bps=tolerance,
        penalty_bps_per_day=bps,
        penalty_cap_bps=cap,
    )
    f = world.agr.payoutFor
    supplier, buyer = f(terms.as_tuple(), delivered, late).call()
    assert (supplier, buyer) == payout_of(price, quantity, tolerance, bps, cap, delivered, late)
    payment = price * delivered // quantity
    assert supplier + buyer == escrow_of(price, tolerance)  # conservation
    assert payment - payment * cap // 10_000 <= supplier <= payment <= escrow_of(price, tolerance)
    later, _ = f(terms.as_tuple(), delivered, late + 1).call()
    assert later <= supplier  # the penalty never shrinks with lateness


@pytest.mark.parametrize(
    ("change", "quantity", "error", "args"),
    [
        ({"penalty_cap_bps": 10_001}, 100, "AgreementsInvalidBps", (10_001, 0)),
        ({"tolerance_bps": 10_001}, 100, "AgreementsInvalidBps", (1_000, 10_001)),
        ({"quantity": 0}, 0, "AgreementsQuantityOutOfTolerance", (ZERO32, 0, 0)),
        ({}, 101, "AgreementsQuantityOutOfTolerance", (ZERO32, 100, 101)),
        ({"tolerance_bps": 100}, 98, "AgreementsQuantityOutOfTolerance", (ZERO32, 100, 98)),
    ],
)
def test_payout_for_refuses_terms_propose_would_refuse(
    w: World, change: dict[str, int], quantity: int, error: str, args: tuple
) -> None:
    terms = w.terms(**change)
    w.reverts(w.agr.payoutFor(terms.as_tuple(), quantity, 0), w.stranger, error, *args)


# ================================================================ status machine


OPS = [
    "accept",
    "cancel",
    "fund",
    "tender",
    "withdrawTender",
    "acceptDelivery",
    "rejectDelivery",
    "escalate",
    "reclaim",
    "resolve",
    "resolveByDefault",
]
ALLOWED: dict[tuple[int, int], set[str]] = {
    (PROPOSED, NO_DISPUTE): {"accept", "cancel"},
    (ACCEPTED, NO_DISPUTE): {"cancel", "fund"},
    (FUNDED, NO_DISPUTE): {"cancel", "tender", "reclaim"},
    (TENDERED, NO_DISPUTE): {"withdrawTender", "acceptDelivery", "rejectDelivery", "escalate"},
    (DISPUTED, REJECTED): {"tender", "resolve", "resolveByDefault"},
    (DISPUTED, ESCALATED): {"acceptDelivery", "resolve", "resolveByDefault"},
    (SETTLED, NO_DISPUTE): set(),
    (REFUNDED, NO_DISPUTE): set(),
    (RESOLVED, REJECTED): set(),
    (CANCELLED, NO_DISPUTE): set(),
}


def op_call(w: World, op: str, d: Deal, bid: bytes) -> tuple[Any, str, int]:
    """The call for `op` on `d`, its rightful sender and value."""
    t, terms = d.t, d.terms
    return {
        "accept": (w.agr.accept(d.id, t), terms.supplier, 0),
        "cancel": (w.agr.cancel(d.id, t), terms.supplier, 0),
        "fund": (w.agr.fund(d.id, t), terms.buyer, terms.escrow),
        "tender": (w.agr.tender(d.id, t, bid, LEG, []), terms.supplier, 0),
        "withdrawTender": (w.agr.withdrawTender(d.id, t, d.batch), terms.supplier, 0),
        "acceptDelivery": (w.agr.acceptDelivery(d.id, t, d.batch, DOC), terms.buyer, 0),
        "rejectDelivery": (w.agr.rejectDelivery(d.id, t, d.batch, REASON), terms.buyer, 0),
        "escalate": (w.agr.escalate(d.id, t, REASON), terms.supplier, 0),
        "reclaim": (w.agr.reclaim(d.id, t), terms.buyer, 0),
        "resolve": (w.agr.resolve(d.id, t, d.batch, 0, False), terms.arbiter, 0),
        "resolveByDefault": (w.agr.resolveByDefault(d.id, t, d.batch), w.stranger, 0),
    }[op]


@pytest.mark.parametrize(
    ("status", "kind"),
    list(ALLOWED),
    ids=[
        f"{STATUS_NAMES[s]}{'/' + ('Rejected', 'Escalated')[k - 1] if k else ''}"
        for s, k in ALLOWED
    ],
)
def test_operations_outside_their_status_revert_and_terminal_states_absorb(
    w: World, status: int, kind: int
) -> None:
    d = deal(w, status, kind)
    fresh = w.create()
    w.mine_at(w.now() + 60 * DAY)  # every time condition holds: only the status refuses
    before = (w.state(d.id), w.credit(w.buyer), w.credit(w.supplier), held(w))
    for op in OPS:
        if op in ALLOWED[(status, kind)]:
            continue
        call, sender, value = op_call(w, op, d, fresh)
        got = w.revert_of(call, sender, value)
        assert (op, got.name, got.error_args) == (op, "AgreementsWrongStatus", (d.id, status))
    assert (w.state(d.id), w.credit(w.buyer), w.credit(w.supplier), held(w)) == before


def test_unknown_agreements_and_other_terms_are_refused(w: World) -> None:
    d = deal(w, ACCEPTED)
    w.reverts(w.agr.accept(d.id + 1, d.t), w.supplier, "AgreementsUnknown", d.id + 1)
    w.reverts(w.agr.accept(0, d.t), w.supplier, "AgreementsUnknown", 0)
    assert w.status(d.id + 1) == NONE and w.agr.termsHashOf(d.id + 1).call() == ZERO32
    for changed in (
        d.terms.replace(price=d.terms.price - 1),
        d.terms.replace(carrier=w.carrier),
        d.terms.replace(required_claims=((CLAIM_ORGANIC, w.certifier),)),
    ):
        w.reverts(
            w.agr.fund(d.id, changed.as_tuple()),
            w.buyer,
            "AgreementsTermsMismatch",
            d.id,
            d.terms.hash(),
            changed.hash(),
            value=changed.escrow,
        )


def test_a_non_canonical_encoding_of_the_right_terms_is_refused(w: World) -> None:
    d = deal(w, ACCEPTED)
    data = bytearray(bytes.fromhex(w.agr.fund(d.id, d.t)._encode_transaction_data()[2:]))
    # selector | id | offset of terms | terms: dirty the padding of the buyer word
    data[4 + 64 + 3] = 0xFF
    params = {
        "from": w.buyer,
        "to": w.agreements.address,
        "data": "0x" + data.hex(),
        "value": hex(d.terms.escrow),
    }
    error = w.call_error(params)
    assert error is not None and error.name == "AgreementsTermsMismatch"
    assert error.error_args[:2] == (d.id, d.terms.hash())
    assert error.error_args[2] != d.terms.hash()


def test_the_contract_has_no_admin_surface(w: World) -> None:
    writes = sorted(
        item["name"]
        for item in w.agreements.abi
        if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")
    )
    assert writes == sorted(
        [
            "accept",
            "acceptDelivery",
            "cancel",
            "escalate",
            "fund",
            "propose",
            "proposeSigned",
            "reclaim",
            "rejectDelivery",
            "resolve",
            "resolveByDefault",
            "tender",
            "useNonce",
            "withdraw",
            "withdrawTender",
        ]
    )
    assert not any(item["type"] in ("receive", "fallback") for item in w.agreements.abi)
    params = {"from": w.admin, "to": w.agreements.address, "value": "0x1"}
    assert w.call_error(params) is not None  # plain ETH is refused: it could only be stuck there
    assert w.agr.MAX_CLAIMS().call() == MAX_CLAIMS
    assert FAR > 0 and CLAIM_COLD_CHAIN != CLAIM_ORGANIC


def test_payout_for_refuses_terms_whose_escrow_overflows(w: World) -> None:
    terms = w.terms(price=2**256 - 1, tolerance_bps=1)
    w.reverts(w.agr.propose(terms.as_tuple()), w.buyer, "AgreementsInvalidAmounts", 2**256 - 1, 100)
    call = w.agr.payoutFor(terms.as_tuple(), 100, 0)
    w.reverts(call, w.stranger, "AgreementsInvalidAmounts", 2**256 - 1, 100)
