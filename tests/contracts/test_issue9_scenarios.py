"""Issue 9's ten attack scenarios, each carried out against the new contracts and refused.

Every test performs the attack as the issue describes it (adapted to the new entry points: a
delivery is now a `tender` and the buyer's `acceptDelivery`) and asserts the exact refusal, then
that nobody lost goods or money. The properties behind them are tested at length in the unit
suites and the state machines; these are the issue's stories, one test each.
"""

from __future__ import annotations

from tests.support.contracts import (
    CARRIER,
    CERTIFIER,
    CLAIM_ORGANIC,
    CONSUMED,
    DAY,
    DOC,
    FUNDED,
    GTIN,
    GTIN_B,
    GTIN_P,
    KGM,
    LEG,
    PRODUCER,
    REASON,
    REFUNDED,
    RESOLVED,
    SETTLED,
    World,
    lot,
)


def test_scenario_1_someone_elses_delivery_cannot_pay_my_agreement(w: World) -> None:
    s1 = w.terms()
    s2 = w.terms(supplier=w.rival)  # a second supplier of the same GTIN to the same buyer
    first, second = w.funded(s1), w.funded(s2)
    x = w.create()
    w.tender(first, s1, x)
    # S2 cannot tender S1's goods, nor settle its agreement with them
    w.reverts(
        w.agr.tender(second, s2.as_tuple(), x, LEG, []),
        w.rival,
        "RegistryHandoffPending",
        x,
        w.buyer,
    )
    w.reverts(
        w.agr.acceptDelivery(second, s2.as_tuple(), x, DOC),
        w.buyer,
        "AgreementsWrongStatus",
        second,
        FUNDED,
    )
    # nor can the buyer's own stock, or goods bought elsewhere, pay S2's agreement
    stock = w.create()
    w.move(stock, w.producer, w.buyer, own=True)
    w.reverts(
        w.agr.tender(second, s2.as_tuple(), stock, LEG, []),
        w.rival,
        "RegistryNotOwner",
        stock,
        w.rival,
    )
    # an unregistered "supplier" gets nowhere either
    ghost = w.terms(supplier=w.stranger)
    ghost_id = w.funded(ghost)
    w.reverts(
        w.agr.tender(ghost_id, ghost.as_tuple(), stock, LEG, []),
        w.stranger,
        "RegistryUnknownParticipant",
        w.stranger,
    )
    # S1 is paid for its delivery; nothing can make the buyer reclaim it
    w.accept_delivery(first, s1, x)
    assert (w.status(first), w.credit(w.supplier)) == (SETTLED, s1.price)


def test_scenario_2_a_carrier_cannot_sell_goods_it_only_carries(w: World) -> None:
    x = w.create()
    w.move(x, w.producer, w.carrier)  # custody only: the producer keeps title
    w.send(w.reg.updateParticipant(w.carrier, CARRIER | PRODUCER, 0, DOC), w.admin)
    # (a) the carrier buys from a throw-away supplier for 1 wei: that supplier owns nothing
    fake = w.terms(buyer=w.carrier, supplier=w.rival, price=1)
    fake_id = w.funded(fake)
    w.reverts(
        w.agr.tender(fake_id, fake.as_tuple(), x, LEG, []), w.rival, "RegistryNotOwner", x, w.rival
    )
    # (b) the carrier offers the producer's goods to an honest buyer
    offer = w.terms(supplier=w.carrier)
    offer_id = w.funded(offer)
    w.reverts(
        w.agr.tender(offer_id, offer.as_tuple(), x, LEG, []),
        w.carrier,
        "RegistryNotOwner",
        x,
        w.carrier,
    )
    # and title never moves by a carrier's handoff
    w.reverts(
        w.reg.initiateHandoff(w.handoff(x, w.carrier, w.buyer, own=True)),
        w.carrier,
        "RegistryNotOwner",
        x,
        w.carrier,
    )
    assert w.batch(x).owner == w.producer


def test_scenario_3_one_delivery_cannot_pay_several_agreements(w: World) -> None:
    first, more = w.terms(), w.terms()
    paid, again = w.funded(first), w.funded(more)
    x = w.create("X")
    w.tender(paid, first, x)
    w.accept_delivery(paid, first, x)
    # split, relabelled 1:1, or sent round a warehouse and back: still the buyer's goods
    half, rest = w.split(x, "X", [("X1", 50), ("X2", 50)], 0, w.buyer)
    w.move(half, w.buyer, w.processor)
    (relabelled,) = w.transform([half], [(GTIN_P, "R1", 50, KGM)], w.processor)
    w.move(rest, w.buyer, w.carrier)
    w.move(rest, w.carrier, w.supplier)  # back at the supplier's, custody only
    refusals = [
        (x, "RegistryBatchNotActive", (x, CONSUMED)),
        (rest, "RegistryNotOwner", (rest, w.supplier)),
        (relabelled, "RegistryNotOwner", (relabelled, w.supplier)),
    ]
    for goods, error, args in refusals:
        w.reverts(w.agr.tender(again, more.as_tuple(), goods, LEG, []), w.supplier, error, *args)
    assert (w.status(again), w.credit(w.supplier)) == (FUNDED, first.price)


def test_scenario_4_the_buyer_cannot_keep_the_goods_and_the_money(w: World) -> None:
    # (a) the acceptance settles: parking the goods afterwards changes nothing
    terms = w.terms()
    agreement = w.funded(terms)
    x = w.create()
    w.tender(agreement, terms, x)
    w.accept_delivery(agreement, terms, x)
    assert w.credit(w.supplier) == terms.price
    w.initiate(x, w.buyer, w.buyer2)  # parked with a second account
    w.mine_at(terms.closes_at + DAY)
    w.reverts(
        w.agr.reclaim(agreement, terms.as_tuple()),
        w.buyer,
        "AgreementsWrongStatus",
        agreement,
        SETTLED,
    )
    # (b) a dispute over a proven tender: a silent arbiter's default pays the supplier
    late = w.terms()
    second = w.funded(late)
    y = w.create()
    w.tender(second, late, y)
    w.at(w.state(second)[2] + late.inspection_period + 1)
    w.send(w.agr.escalate(second, late.as_tuple(), REASON), w.supplier)
    w.at(w.state(second)[3] + late.arbiter_timeout + 1)
    w.send(w.agr.resolveByDefault(second, late.as_tuple(), y), w.stranger)
    assert (w.status(second), w.batch(y).owner) == (RESOLVED, w.buyer)
    assert w.credit(w.supplier) == terms.price + late.price
    # (c) no tender after deadline + grace, and no reclaim while a tender is pending
    third_terms = w.terms()
    third = w.funded(third_terms)
    w.mine_at(third_terms.closes_at + 1)
    z = w.create()
    w.reverts(
        w.agr.tender(third, third_terms.as_tuple(), z, LEG, []),
        w.supplier,
        "AgreementsTenderClosed",
        third,
        third_terms.closes_at,
        third_terms.closes_at + 1,
    )
    w.send(w.agr.reclaim(third, third_terms.as_tuple()), w.buyer)
    assert (w.status(third), w.batch(z).owner) == (REFUNDED, w.supplier)


def test_scenario_5_the_buyer_cannot_run_the_penalty_clock(w: World) -> None:
    terms = w.terms(delivery_deadline=w.now() + 20 * DAY, penalty_bps_per_day=100)
    agreement = w.funded(terms)
    x = w.create()
    w.at(terms.delivery_deadline - 10 * DAY)
    w.tender(agreement, terms, x)  # 10 days early
    w.at(terms.delivery_deadline + 12 * DAY)  # the buyer accepts 12 days after the deadline
    receipt = w.accept_delivery(agreement, terms, x)
    settled = w.event(receipt, "DeliverySettled")
    assert (settled.daysLate, settled.supplierAmount) == (0, terms.price)
    # funding after the deadline (which would make any delivery late) is refused
    other = w.terms(delivery_deadline=w.now() + DAY)
    other_id = w.propose(other)
    w.send(w.agr.accept(other_id, other.as_tuple()), w.supplier)
    w.mine_at(other.delivery_deadline + 1)
    w.reverts(
        w.agr.fund(other_id, other.as_tuple()),
        w.buyer,
        "AgreementsFundingClosed",
        other_id,
        other.delivery_deadline,
        other.delivery_deadline + 1,
        value=other.escrow,
    )


def test_scenario_6_recall_authority_does_not_drift(w: World) -> None:
    x = w.create("X")
    w.move(x, w.producer, w.carrier, own=True)
    (child,) = w.split(x, "X", [("X1", 100)], 0, w.carrier)  # a carrier splits 1:1
    w.reverts(
        w.reg.recallBatch(child, REASON, DOC), w.carrier, "RegistryNotRecaller", child, w.carrier
    )
    assert w.batch(child).origin == w.producer  # the real producer keeps the right
    # a suspended producer (a stolen key) recalls nothing
    w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    w.reverts(
        w.reg.recallBatch(child, REASON, DOC), w.producer, "RegistryNotRecaller", child, w.producer
    )
    # the operator recalls, and can lift a mistaken recall
    w.send(w.reg.recallBatch(child, REASON, DOC), w.admin)
    w.send(w.reg.liftRecall(child, REASON, DOC), w.admin)
    assert w.batch(child).recalled is False


def test_scenario_7_a_recall_reaches_the_descendants(w: World) -> None:
    terms = w.terms()
    agreement = w.funded(terms)
    x = w.create("X")
    (child,) = w.split(x, "X", [("X1", 100)], 0, w.producer)  # split 1:1 ahead of the recall
    w.send(w.reg.recallBatch(x, REASON, DOC), w.producer)
    number = w.batch(x).lineage_number
    w.reverts(
        w.agr.tender(agreement, terms.as_tuple(), child, LEG, []),
        w.supplier,
        "RegistryAncestorRecalled",
        child,
        number,
    )
    w.reverts(
        w.reg.initiateHandoff(w.handoff(child, w.producer, w.carrier)),
        w.producer,
        "RegistryAncestorRecalled",
        child,
        number,
    )
    assert w.batch(child).lineage_recalled is True


def test_scenario_8_nobody_mints_another_brands_gtin(w: World) -> None:
    # (a) front-running the brand's createBatch
    w.reverts(
        w.reg.createBatch(GTIN, lot("2026-B"), 1, KGM, DOC),
        w.rival,
        "RegistryNotPrefixHolder",
        GTIN,
        w.rival,
    )
    # (b) pre-creating the brand's planned lots by splitting a batch of its GTIN
    held = w.create("2026-A")
    w.move(held, w.producer, w.carrier, own=True)
    w.reverts(
        w.reg.splitBatch(held, lot("2026-A"), [(lot("2026-B"), 100)], 0, DOC),
        w.carrier,
        "RegistryLotNotExtended",
        lot("2026-A"),
        lot("2026-B"),
    )
    # (c) a processor without the brand's prefix turning 1 KGM into 2^48 - 1 of its GTIN
    one = w.create("ONE", 1)
    w.move(one, w.producer, w.processor)
    w.reverts(
        w.reg.transformBatches([one], [(GTIN_B, lot("BIG"), 2**48 - 1, KGM)], DOC),
        w.processor,
        "RegistryNotPrefixHolder",
        GTIN_B,
        w.processor,
    )
    w.reverts(
        w.reg.transformBatches([one], [(GTIN_P, lot("BIG"), 2**48 - 1, KGM)], DOC),
        w.carrier,
        "RegistryMissingRole",
        w.carrier,
        3,
    )


def test_scenario_9_the_registry_admin_cannot_decide_an_escrow(w: World) -> None:
    terms = w.terms()
    agreement = w.funded(terms)
    x = w.create()
    w.tender(agreement, terms, x)
    for call in (
        w.reg.releaseDelivery(x, agreement),
        w.reg.completeDelivery(x, w.buyer, w.supplier, DOC),
        w.reg.transferTitle(x, agreement),
        w.reg.bindDelivery(x, w.supplier, w.buyer, w.buyer, LEG),
    ):
        w.reverts(call, w.admin, "RegistryNotSettlement", w.admin)
    # operator actions after the tender only open the arbiter's path: a recall blocks the
    # acceptance while it lasts, a suspension of the supplier changes nothing
    w.send(w.reg.recallBatch(x, REASON, DOC), w.admin)
    w.reverts(
        w.agr.acceptDelivery(agreement, terms.as_tuple(), x, DOC),
        w.buyer,
        "RegistryBatchRecalled",
        x,
    )
    w.send(w.reg.liftRecall(x, REASON, DOC), w.admin)
    w.send(w.reg.suspendParticipant(w.supplier, REASON), w.admin)
    w.accept_delivery(agreement, terms, x)
    assert w.credit(w.supplier) == terms.price
    assert w.reg.settlement().call() == w.agreements.address  # fixed at deployment


def test_scenario_10_a_party_cannot_certify_its_own_goods(w: World) -> None:
    own = w.terms(required_claims=((CLAIM_ORGANIC, w.supplier),))
    w.reverts(
        w.agr.propose(own.as_tuple()),
        w.buyer,
        "AgreementsInvalidAttester",
        CLAIM_ORGANIC,
        w.supplier,
    )
    terms = w.terms(required_claims=((CLAIM_ORGANIC, w.certifier),))
    agreement = w.funded(terms)
    x = w.create()
    w.send(w.reg.updateParticipant(w.supplier, PRODUCER | CERTIFIER, 0, DOC), w.admin)
    proof = w.attest(x, CLAIM_ORGANIC, by=w.supplier)  # a minute before tendering
    w.reverts(
        w.agr.tender(agreement, terms.as_tuple(), x, LEG, [proof]),
        w.supplier,
        "AgreementsClaimInvalid",
        x,
        CLAIM_ORGANIC,
        w.certifier,
        x,
    )
