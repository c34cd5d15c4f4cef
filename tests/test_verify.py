"""Event-sourced verification: the pure replay on synthetic events, then real histories on Anvil."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from provenance.chain import Chain
from provenance.compiler import load_artifact
from provenance.deploy import Deployment, deploy
from provenance.encoding import hash_file
from provenance.gs1 import batch_id, gs1_check_digit, gtin_to_int, lot_to_bytes32
from provenance.logs import Event
from provenance.records import Role
from provenance.units import uom_to_bytes
from provenance.verify import (
    ERROR,
    INFO,
    WARNING,
    History,
    Verdict,
    analyze,
    verify,
)
from tests.support.index import verify_both_ways

# ============================================================================ synthetic events

P, C, R, X, K = ("0x" + c * 40 for c in "12345")  # producer, carrier, retailer, stranger, certifier
ZERO32 = "0x" + "00" * 32
DOC = "0x" + "d0" * 32
GTIN = int("0950600013435" + str(gs1_check_digit("0950600013435")))
B1 = "0x" + "b1" * 32
B2 = "0x" + "b2" * 32
B3 = "0x" + "b3" * 32
LOT = "0x" + "4c4f5431".ljust(64, "0")  # "LOT1"
#: `max_range` for one `eth_getLogs` call per query whatever the chain's length.
WHOLE_CHAIN = 10**12
KGM = "0x4b474d"


class Log:
    """Builds synthetic events with increasing (block, log index); `same_tx=True` puts an event
    in the transaction of the previous one (a tender, a settlement)."""

    def __init__(self) -> None:
        self.block = itertools.count(1)
        self.ids = itertools.count(1)
        self.events: list[Event] = []
        self.deals: list[Event] = []
        self.last = (0, 0, "")

    def _event(self, name: str, args: dict[str, Any], same_tx: bool) -> Event:
        if same_tx:
            block, index, tx = self.last[0], self.last[1] + 1, self.last[2]
        else:
            block = next(self.block)
            index, tx = 0, f"0x{block:064x}"
        self.last = (block, index, tx)
        args.setdefault("at", 1_000 + block)
        return Event(name, args, block, index, tx)

    def __call__(self, name: str, same_tx: bool = False, **args: Any) -> Log:
        self.events.append(self._event(name, args, same_tx))
        return self

    def deal(self, name: str, same_tx: bool = False, **args: Any) -> Log:
        """An agreements-contract event."""
        self.deals.append(self._event(name, args, same_tx))
        return self

    def register(self, account: str, roles: Role) -> Log:
        return self(
            "ParticipantRegistered", account=account, id=next(self.ids), roles=int(roles), gln=0,
            metadataHash=ZERO32,
        )  # fmt: skip

    def create(self, batch: str = B1, creator: str = P, quantity: int = 100) -> Log:
        return self(
            "BatchCreated", batchId=batch, creator=creator, gtin=GTIN, lot=LOT,
            quantity=quantity, uom=KGM, document=DOC,
        )  # fmt: skip

    def initiate(
        self, frm: str, to: str, batch: str = B1, title: bool = True, same_tx: bool = False
    ) -> Log:
        return self(
            "HandoffInitiated", same_tx, batchId=batch, **{"from": frm}, to=to, location=0,
            bizStep=1, disposition=1, transferOwnership=title, document=ZERO32,
        )  # fmt: skip

    def accept(self, frm: str, to: str, batch: str = B1, same_tx: bool = False) -> Log:
        return self("HandoffAccepted", same_tx, batchId=batch, **{"from": frm}, to=to,
                    document=ZERO32)  # fmt: skip

    def history(self, batch: str = B1, now: int = 10_000) -> History:
        return History(
            batch_id=batch, events=tuple(self.events), now=now, agreement_events=tuple(self.deals)
        )


def everyone() -> Log:
    log = Log()
    log.register(P, Role.PRODUCER).register(C, Role.CARRIER).register(R, Role.RETAILER)
    return log.register(K, Role.CERTIFIER)


def errors(report: Any) -> list[str]:
    return [r.message for r in report.reasons if r.severity == ERROR]


def test_clean_history_is_verified_with_a_full_timeline() -> None:
    log = everyone().create().initiate(P, C).accept(P, C).initiate(C, R).accept(C, R)
    report = analyze(log.history(), names={P: "Farm"})
    assert report.verdict is Verdict.VERIFIED and report.exit_code == 0
    assert [t.event for t in report.timeline] == [
        "BatchCreated", "HandoffInitiated", "HandoffAccepted", "HandoffInitiated",
        "HandoffAccepted",
    ]  # fmt: skip
    first = report.timeline[0]
    assert first.actor is not None and first.actor.name == "Farm"
    assert first.actor.roles == ("producer",)
    assert report.timeline[1].biz_step == "shipping" and report.timeline[1].disposition
    assert report.lineage.origin == "created" and report.lineage.quantity == 100


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda log: log.create().accept(P, C), "without a matching initiated handoff"),
        (lambda log: log.create().initiate(C, R), "was not its custodian"),
        (lambda log: log.create().initiate(P, C).accept(P, R), "without a matching initiated"),
        (lambda log: log.create().initiate(P, C).initiate(P, R), "while one was pending"),
        (lambda log: log.create(creator=C), "did not hold the producer role"),
        (lambda log: log.create(creator=X), "not a registered participant"),
        (
            lambda log: (
                log.create()("ParticipantSuspended", account=C, reason=ZERO32)
                .initiate(P, C)
                .accept(P, C)
            ),
            "was suspended at the handoff acceptance",
        ),
        (lambda log: log.initiate(P, C), "no creation event"),
        (
            lambda log: log.create()(
                "BatchConsumed", batchId=B1, by=P, kind=1, loss=0, document=ZERO32
            ).initiate(P, C),
            "after it was consumed",
        ),
        (
            lambda log: log.create()(
                "AttestationIssued",
                subject=B1,
                claim=DOC,
                issuer=C,
                attestationId=DOC,
                evidence=ZERO32,
                validFrom=0,
                validUntil=2**40,
            ),
            "did not hold the certifier role",
        ),
        (
            lambda log: log.create()(
                "BatchRecalled", batchId=B1, by=P, reason=ZERO32, document=ZERO32
            ),
            "this batch LOT1 (0xb1b1b1b1…) was recalled",
        ),
    ],
)
def test_broken_histories_fail(build: Callable[[Log], Any], message: str) -> None:
    log = everyone()
    build(log)
    report = analyze(log.history())
    assert report.verdict is Verdict.FAILED and report.exit_code == 2
    assert any(message in m for m in errors(report)), errors(report)


def split(log: Log, parts: list[tuple[str, int]], loss: int, parent: str = B1) -> Log:
    log("BatchConsumed", batchId=parent, by=P, kind=1, loss=loss, document=ZERO32)
    for child, quantity in parts:
        log("BatchSplit", childId=child, parentId=parent, lot=LOT, quantity=quantity)
    return log


def test_split_must_conserve_quantity() -> None:
    good = split(everyone().create(), [(B2, 60), (B3, 30)], loss=10)
    assert analyze(good.history(B2)).verdict is Verdict.VERIFIED
    bad = split(everyone().create(), [(B2, 60), (B3, 30)], loss=5)
    assert any("does not add up" in m for m in errors(analyze(bad.history(B2))))


def test_split_child_inherits_custody_and_lineage() -> None:
    log = split(everyone().create(), [(B2, 60), (B3, 40)], loss=0).initiate(P, C, B2)
    log.accept(P, C, B2)
    report = analyze(log.history(B2))
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.lineage.origin == "split" and report.lineage.quantity == 60
    assert [p.batch_id for p in report.lineage.parents] == [B1]
    assert report.lineage.gtin == str(GTIN).zfill(14)


def test_recall_of_a_sibling_or_descendant_only_warns() -> None:
    log = split(everyone().create(), [(B2, 50), (B3, 50)], loss=0)
    log("BatchRecalled", batchId=B3, by=P, reason=ZERO32, document=ZERO32)
    sibling = analyze(log.history(B2))
    assert sibling.verdict is Verdict.WARNING and sibling.exit_code == 1
    assert [(r.batch_id, r.relation) for r in sibling.recalls] == [(B3, "sibling")]
    parent = analyze(log.history(B1))
    assert [(r.batch_id, r.relation) for r in parent.recalls] == [(B3, "descendant")]
    assert parent.verdict is Verdict.WARNING


def test_suspension_after_the_fact_warns() -> None:
    log = everyone().create().initiate(P, C).accept(P, C)
    log("ParticipantSuspended", account=P, reason=ZERO32)
    report = analyze(log.history())
    assert report.verdict is Verdict.WARNING
    assert any("suspended since" in r.message for r in report.reasons if r.severity == WARNING)


def attest(log: Log, valid_until: int, revoked_at_block: bool = False) -> Log:
    log(
        "AttestationIssued", subject=B1, claim=DOC, issuer=K, attestationId="0x" + "aa" * 32,
        evidence="0x" + "ee" * 32, validFrom=0, validUntil=valid_until,
    )  # fmt: skip
    if revoked_at_block:
        log(
            "AttestationRevoked", subject=B1, claim=DOC, issuer=K,
            attestationId="0x" + "aa" * 32, reason=ZERO32,
        )  # fmt: skip
    return log


@pytest.mark.parametrize(
    ("valid_until", "revoke", "verdict", "at_use", "now"),
    [
        (10**9, False, Verdict.VERIFIED, True, True),
        (1_004, False, Verdict.WARNING, False, False),  # expired before the batch was handed on
        (5_000, False, Verdict.VERIFIED, True, False),  # expired since: info only
        (10**9, True, Verdict.FAILED, False, False),  # revoked before use
    ],
)
def test_attestation_validity_at_use_and_now(
    valid_until: int, revoke: bool, verdict: Verdict, at_use: bool, now: bool
) -> None:
    log = attest(everyone().create(), valid_until, revoke)
    log.initiate(P, C).accept(P, C)  # the batch is used (handed on) after the attestation
    report = analyze(log.history(B1, now=10_000))
    assert report.verdict is verdict, report.reasons
    (view,) = report.attestations
    assert (view.valid_at_use, view.valid_now) == (at_use, now)


def test_documents_must_be_anchored() -> None:
    log = everyone().create()
    ok = analyze(log.history(), docs=[("invoice.pdf", DOC)])
    assert ok.verdict is Verdict.VERIFIED and ok.documents[0].matched
    bad = analyze(log.history(), docs=[("forged.pdf", "0x" + "99" * 32)])
    assert bad.verdict is Verdict.FAILED
    assert any("forged.pdf" in m and "not anchored" in m for m in errors(bad))


def test_report_json_has_stable_keys() -> None:
    report = analyze(everyone().create().history())
    data = json.loads(report.to_json())
    assert data["verdict"] == "VERIFIED" and data["exit_code"] == 0
    assert set(data) == {
        "agreement", "agreements", "attestations", "batch_id", "checked_at", "custodian",
        "documents", "exit_code", "lineage", "owner", "reasons", "recalls", "stats", "timeline",
        "titles", "verdict", "source", "as_of", "unconfirmed",
    }  # fmt: skip
    assert data["owner"] == data["custodian"] == P


def _unconfirmed(log: Log, *events: Event, batch: str = B1) -> History:
    keys = frozenset(e.key for e in events)
    return dataclasses.replace(log.history(batch), unconfirmed=keys, confirmations=12)


def test_an_unconfirmed_recall_is_shown_but_does_not_fail_the_verdict() -> None:
    log = everyone().create().initiate(P, C).accept(P, C)
    log("BatchRecalled", batchId=B1, by=P, reason=ZERO32, document=ZERO32)
    recall = log.events[-1]
    assert analyze(log.history()).verdict is Verdict.FAILED  # confirmed, it fails the batch
    report = analyze(_unconfirmed(log, recall))
    assert report.verdict is Verdict.VERIFIED and not errors(report)
    assert [r.batch_id for r in report.recalls] == [B1]  # shown all the same
    assert [(u.event, u.block, u.log_index) for u in report.unconfirmed] == [
        ("BatchRecalled", recall.block_number, 0)]  # fmt: skip
    infos = [r.message for r in report.reasons if r.severity == INFO]
    assert any(m.startswith("not yet confirmed: this batch LOT1") for m in infos), infos
    assert any("1 event(s) within 12 block(s)" in m and "would make it FAILED" in m
               for m in infos), infos  # fmt: skip
    assert report.to_dict()["unconfirmed"][0]["event"] == "BatchRecalled"


def test_an_unconfirmed_lift_does_not_clear_a_recall() -> None:
    log = everyone().create()
    log("BatchRecalled", batchId=B1, by=P, reason=ZERO32, document=ZERO32)
    log("RecallLifted", batchId=B1, by=P, reason=ZERO32, document=ZERO32)
    lift = log.events[-1]
    assert analyze(log.history()).verdict is Verdict.VERIFIED
    report = analyze(_unconfirmed(log, lift))
    assert report.verdict is Verdict.FAILED
    assert any("would make it VERIFIED" in r.message for r in report.reasons)
    assert [r.lifted_at is not None for r in report.recalls] == [True]  # the lift is shown


def test_unconfirmed_events_that_change_nothing_only_say_so() -> None:
    log = everyone().create().initiate(P, C).accept(P, C)
    accepted = log.events[-1]
    report = analyze(_unconfirmed(log, accepted))
    assert report.verdict is Verdict.VERIFIED
    assert report.custodian == C  # the replay counts the unconfirmed acceptance
    assert not any("would make it" in r.message for r in report.reasons)
    assert analyze(log.history()).unconfirmed == ()


def propose(log: Log, agreement: int = 1, buyer: str = R) -> Log:
    """Agreement `agreement` (buyer R, supplier P, no carrier, 1 ETH for 100 KGM)."""
    terms = {
        "buyer": buyer, "supplier": P, "arbiter": X, "carrier": "0x" + "00" * 20,
        "token": "0x" + "00" * 20, "gtin": GTIN, "quantity": 100, "uom": KGM, "toleranceBps": 0,
        "price": 10**18, "deliveryDeadline": 500, "gracePeriod": 10**6,
        "inspectionPeriod": 86_400, "arbiterTimeout": 86_400, "penaltyBpsPerDay": 100,
        "penaltyCapBps": 1_000, "requiredClaims": [], "document": DOC, "salt": 0,
    }  # fmt: skip
    return log.deal(
        "AgreementProposed", id=agreement, buyer=buyer, supplier=P, terms=terms, proposer=R
    )


def deliver(
    log: Log, agreement: int = 1, batch: str = B1, buyer: str = R, days_late: int = 2,
    settle: bool = True,
) -> Log:  # fmt: skip
    """`propose`d, tendered (the registry's HandoffInitiated in the same transaction), accepted
    with settlement."""
    propose(log, agreement, buyer)
    log.initiate(P, buyer, batch)
    log.deal("DeliveryTendered", same_tx=True, id=agreement, batchId=batch, daysLate=days_late)
    if settle:
        log.accept(P, buyer, batch)
        log.deal(
            "DeliverySettled", same_tx=True, id=agreement, batchId=batch,
            supplierAmount=98 * 10**16, buyerAmount=2 * 10**16, daysLate=days_late,
        )  # fmt: skip
    return log


def test_a_settled_delivery_is_reported_with_title_and_lateness_at_the_tender() -> None:
    log = deliver(everyone().create())
    report = analyze(log.history(), docs=[("contract.pdf", DOC)])
    assert report.verdict is Verdict.VERIFIED, report.reasons
    (delivery,) = report.agreements
    assert report.agreement == delivery
    assert (delivery.status, delivery.days_late, delivery.tenders) == ("settled", 2, 1)
    assert delivery.supplier_amount == 98 * 10**16 and delivery.penalty == 2 * 10**16
    assert delivery.buyer == R and delivery.carrier is None
    (title,) = report.titles
    assert (title.from_, title.to, title.via, title.agreement_id) == (P, R, "delivery", 1)
    assert report.owner == report.custodian == R
    tender = next(t for t in report.timeline if t.event == "HandoffInitiated")
    assert tender.details["tender"] and tender.details["agreement"] == 1
    assert any("settled: 2 day(s) late at the tender" in r.message for r in report.reasons)
    assert "terms of agreement 1" in report.documents[0].matched


def test_a_settlement_the_registry_does_not_show_fails() -> None:
    log = deliver(everyone().create(), settle=False)
    log.deal(
        "DeliverySettled", id=1, batchId=B1, supplierAmount=10**18, buyerAmount=0, daysLate=0
    )  # a settlement in a transaction without the buyer's acceptance
    report = analyze(log.history())
    assert report.verdict is Verdict.FAILED
    assert any("does not show accepted by its buyer" in m for m in errors(report))


def test_a_tender_the_registry_does_not_show_fails() -> None:
    log = propose(everyone().create())
    log.deal("DeliveryTendered", id=1, batchId=B1, daysLate=0)
    report = analyze(log.history())
    assert any("the registry's log does not show" in m for m in errors(report))


def test_an_open_dispute_warns_and_its_resolution_informs() -> None:
    log = deliver(everyone().create(), settle=False)
    log("HandoffCancelled", batchId=B1, **{"from": P}, to=R, document=ZERO32)
    log("DeliveryReleased", same_tx=True, batchId=B1, agreementId=1)
    log.deal("DisputeRaised", same_tx=True, id=1, by=R, kind=1, reason=ZERO32)
    rejected = analyze(log.history())
    assert rejected.verdict is Verdict.WARNING, rejected.reasons
    assert rejected.agreements[0].status == "rejected" and rejected.agreements[0].rejections == 1
    assert rejected.owner == P and rejected.custodian == P  # the goods stayed with the supplier
    released = [t for t in rejected.timeline if t.event == "HandoffCancelled"]
    assert released[0].details["released"] == 1
    log.deal(
        "DisputeResolved", id=1, supplierAmount=0, buyerAmount=10**18, delivered=False,
        byDefault=True,
    )  # fmt: skip
    resolved = analyze(log.history())
    assert resolved.verdict is Verdict.VERIFIED, resolved.reasons
    view = resolved.agreements[0]
    assert (view.status, view.dispute, view.resolved_by_default) == ("resolved", "rejected", True)


def test_a_rejected_delivery_tendered_again_and_settled_is_cured() -> None:
    log = deliver(everyone().create(), settle=False)
    log("HandoffCancelled", batchId=B1, **{"from": P}, to=R, document=ZERO32)
    log("DeliveryReleased", same_tx=True, batchId=B1, agreementId=1)
    log.deal("DisputeRaised", same_tx=True, id=1, by=R, kind=1, reason=ZERO32)
    log.initiate(P, R)
    log.deal("DeliveryTendered", same_tx=True, id=1, batchId=B1, daysLate=3)
    log.accept(P, R)
    log.deal(
        "DeliverySettled", same_tx=True, id=1, batchId=B1, supplierAmount=97 * 10**16,
        buyerAmount=3 * 10**16, daysLate=3,
    )  # fmt: skip
    report = analyze(log.history())
    assert report.verdict is Verdict.VERIFIED, report.reasons
    (view,) = report.agreements
    assert (view.status, view.tenders, view.rejections, view.days_late) == ("settled", 2, 1, 3)


def test_title_passed_by_an_award_is_replayed() -> None:
    log = deliver(everyone().create(), settle=False)
    log.deal("DisputeRaised", id=1, by=P, kind=2, reason=ZERO32)
    log("TitleTransferred", batchId=B1, agreementId=1, **{"from": P}, to=R)
    log.deal(
        "DisputeResolved", same_tx=True, id=1, supplierAmount=10**18, buyerAmount=0,
        delivered=True, byDefault=True,
    )  # fmt: skip
    report = analyze(log.history())
    assert report.owner == R and report.custodian == P  # title passed; custody when collected
    assert report.titles[-1].via == "award"
    assert report.agreements[0].delivered is True


def test_a_lifted_recall_is_information_only() -> None:
    log = everyone().create()
    log("BatchRecalled", batchId=B1, by=P, reason=ZERO32, document=DOC)
    log("RecallLifted", batchId=B1, by=X, reason=ZERO32, document=ZERO32)
    report = analyze(log.history())
    assert report.verdict is Verdict.VERIFIED, report.reasons
    (recall,) = report.recalls
    assert recall.lifted_by == X and recall.document == DOC and not recall.active
    assert any("lifted the recall" in r.message for r in report.reasons)
    assert not report.lineage.recalled


def test_a_recalled_ancestor_reaches_a_transform_output() -> None:
    log = everyone().create()
    log("BatchConsumed", batchId=B1, by=P, kind=3, loss=0, document=ZERO32)
    log("BatchCreated", same_tx=True, batchId=B2, creator=P, gtin=GTIN, lot=LOT, quantity=5,
        uom=KGM, document=ZERO32)  # fmt: skip
    log("BatchDerived", same_tx=True, childId=B2, parentId=B1, kind=3)
    log("BatchRecalled", batchId=B1, by=P, reason=ZERO32, document=ZERO32)
    report = analyze(log.history(B2))
    assert report.verdict is Verdict.FAILED
    assert [(r.batch_id, r.relation) for r in report.recalls] == [(B1, "ancestor")]


def test_a_migrated_key_keeps_the_participant_and_its_batches() -> None:
    log = everyone().create()
    log("ParticipantMigrated", **{"from": P}, to=X, id=1, reason=ZERO32)
    log.initiate(X, C, title=False).accept(X, C)
    report = analyze(log.history())
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.custodian == C and report.owner == P


# ============================================================================ on Anvil

ROLES = {
    1: Role.PRODUCER,
    2: Role.CARRIER,
    3: Role.PROCESSOR,
    4: Role.RETAILER,
    5: Role.CERTIFIER,
}
RAW_GTIN = "09506000134352"
PREFIX, PREFIX_LENGTH = 9506000, 7  # the producer's


@pytest.fixture(scope="module")
def setup(
    anvil_chain: Chain, accounts: list[LocalAccount]
) -> Iterator[tuple[Deployment, Contract]]:
    w3 = anvil_chain.w3
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    deployment = deploy(anvil_chain, accounts[0], save=False)
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(deployment.registry),
        abi=load_artifact("ProvenanceRegistry").abi,
    )
    for index, role in ROLES.items():
        send(registry.functions.registerParticipant(
            accounts[index].address, int(role), 0, b"\x00" * 32), accounts[0].address)  # fmt: skip
    send(registry.functions.assignPrefix(accounts[1].address, PREFIX, PREFIX_LENGTH),
         accounts[0].address)  # fmt: skip
    yield deployment, registry
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def send(call: Any, sender: str, value: int = 0) -> Any:
    tx = call.transact({"from": sender, "gas": 1_000_000, "value": value})  # no estimate
    receipt = call.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.002)
    assert receipt["status"] == 1
    return receipt


_lots = itertools.count(1)
Z32 = b"\x00" * 32


class Scenario:
    def __init__(
        self, chain: Chain, registry: Contract, accounts: list[LocalAccount], root: Path
    ) -> None:
        self.chain, self.r, self.a = chain, registry, accounts
        self.root = root  # where its index is synced
        self.gtin = gtin_to_int(RAW_GTIN)
        self.lots: dict[str, str] = {}

    def addr(self, i: int) -> str:
        return self.a[i].address

    def create(self, quantity: int = 100, document: bytes = Z32) -> str:
        lot = f"V{next(_lots)}-{id(self) % 10_000}"
        send(
            self.r.functions.createBatch(
                self.gtin, lot_to_bytes32(lot), quantity, uom_to_bytes("KGM"), document
            ),
            self.addr(1),
        )
        bid = batch_id(self.gtin, lot)
        self.lots[bid] = lot
        return bid

    def handoff(self, batch: str, frm: int, to: int, document: bytes = Z32) -> None:
        h = (batch, self.addr(frm), self.addr(to), 0, 1, 1, True, document)
        send(self.r.functions.initiateHandoff(h), self.addr(frm))
        send(self.r.functions.acceptHandoff(batch, document), self.addr(to))

    def split(self, batch: str, quantities: list[int], by: int = 1) -> list[str]:
        parent = self.lots[batch]
        lots = [f"{parent}-{next(_lots)}" for _ in quantities]
        parts = [(lot_to_bytes32(lot), q) for lot, q in zip(lots, quantities, strict=True)]
        send(self.r.functions.splitBatch(batch, lot_to_bytes32(parent), parts, 0, Z32),
             self.addr(by))  # fmt: skip
        children = [batch_id(self.gtin, lot) for lot in lots]
        self.lots.update(zip(children, lots, strict=True))
        return children

    def recall(self, batch: str, by: int = 1) -> None:
        send(self.r.functions.recallBatch(batch, b"\x07" * 32, Z32), self.addr(by))

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def scenario(
    setup: tuple[Deployment, Contract], anvil_chain: Chain, accounts: list[LocalAccount],
    snapshot: None, tmp_path: Path,
) -> Scenario:  # fmt: skip
    return Scenario(anvil_chain, setup[1], accounts, tmp_path / "home")


def check(scenario: Scenario, deployment: Deployment, batch: str, **kwargs: Any) -> Any:
    """`verify` over RPC and through an index synced now: the same report field by field (but
    for how the events were read), or the test fails (`tests/support/index.py`)."""
    return verify_both_ways(scenario.chain, deployment, batch, scenario.root, **kwargs)


@pytest.mark.anvil
def test_happy_path_on_chain_is_verified_and_documents_match(
    scenario: Scenario, setup: tuple[Deployment, Contract], tmp_path: Path
) -> None:
    doc = tmp_path / "harvest.pdf"
    doc.write_bytes(b"harvest certificate 2026")
    digest = bytes.fromhex(hash_file(doc)[2:])
    batch = scenario.create(document=digest)
    scenario.handoff(batch, 1, 2)
    scenario.handoff(batch, 2, 4)
    now = scenario.now()
    send(
        scenario.r.functions.attest(batch, b"\x01" * 32, b"\x02" * 32, 0, now + 10**6),
        scenario.addr(5),
    )
    names = {scenario.addr(1): "Farm", scenario.addr(4): "Shop"}
    report = check(scenario, setup[0], batch, docs=[doc], names=names)
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert [t.event for t in report.timeline].count("HandoffAccepted") == 2
    assert report.timeline[-1].actor is not None and report.timeline[-1].actor.name == "Shop"
    assert report.documents[0].matched and report.attestations[0].valid_now
    assert report.stats.get_logs_calls >= 3 and report.stats.logs_fetched > 0
    assert report.owner == report.custodian == scenario.addr(4)
    assert [t.via for t in report.titles] == ["sale", "sale"]

    other = tmp_path / "forged.pdf"
    other.write_bytes(b"something else")
    failed = check(scenario, setup[0], batch, docs=[other])
    assert failed.verdict is Verdict.FAILED


@pytest.mark.anvil
def test_recalled_ancestor_fails_and_recalled_child_warns(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    parent = scenario.create(100)
    left, right = scenario.split(parent, [40, 60])
    scenario.recall(right)
    warn = check(scenario, setup[0], left)
    assert warn.verdict is Verdict.WARNING, warn.reasons
    assert [(r.batch_id, r.relation) for r in warn.recalls] == [(right, "sibling")]
    assert check(scenario, setup[0], parent).verdict is Verdict.WARNING

    scenario.recall(parent)
    failed = check(scenario, setup[0], left)
    assert failed.verdict is Verdict.FAILED
    assert {r.relation for r in failed.recalls} == {"ancestor", "sibling"}
    assert failed.lineage.parents[0].batch_id == parent
    send(setup[1].functions.liftRecall(parent, b"\x08" * 32, Z32), scenario.addr(0))
    lifted = check(scenario, setup[0], left)
    assert lifted.verdict is Verdict.WARNING, lifted.reasons  # the sibling's recall stays
    assert [r.lifted_at is not None for r in lifted.recalls if r.batch_id == parent] == [True]
    print(f"split child with recalled parent and sibling: {failed.stats}")


@pytest.mark.anvil
def test_suspended_after_acting_warns_on_chain(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    batch = scenario.create()
    scenario.handoff(batch, 1, 2)
    send(
        scenario.r.functions.suspendParticipant(scenario.addr(2), b"\x01" * 32),
        scenario.addr(0),
    )
    report = check(scenario, setup[0], batch)
    assert report.verdict is Verdict.WARNING, report.reasons


@pytest.mark.anvil
def test_a_migrated_key_is_the_same_participant_on_chain(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    batch = scenario.create()
    scenario.handoff(batch, 1, 2)
    new_key = scenario.addr(8)
    send(scenario.r.functions.migrateParticipant(scenario.addr(2), new_key, b"\x02" * 32),
         scenario.addr(0))  # fmt: skip
    h = (batch, new_key, scenario.addr(4), 0, 1, 1, False, Z32)
    send(scenario.r.functions.initiateHandoff(h), new_key)
    send(scenario.r.functions.acceptHandoff(batch, Z32), scenario.addr(4))
    report = check(scenario, setup[0], batch)
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.custodian == scenario.addr(4)
    send(scenario.r.functions.migrateParticipant(new_key, scenario.addr(2), b"\x02" * 32),
         scenario.addr(0))  # fmt: skip


@pytest.mark.anvil
def test_attestation_expired_before_use_warns_on_chain(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    batch = scenario.create()
    now = scenario.now()
    send(
        scenario.r.functions.attest(batch, b"\x01" * 32, b"\x02" * 32, now, now + 100),
        scenario.addr(5),
    )
    scenario.chain.w3.provider.make_request("evm_increaseTime", [1_000])  # type: ignore[arg-type]
    scenario.handoff(batch, 1, 2)
    report = check(scenario, setup[0], batch)
    assert report.verdict is Verdict.WARNING, report.reasons
    (view,) = report.attestations
    assert not view.valid_at_use and not view.valid_now


@pytest.mark.anvil
def test_get_logs_calls_do_not_grow_with_the_number_of_events(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    counts = []
    for handoffs in (10, 100):
        batch = scenario.create()
        for i in range(handoffs):
            frm, to = (1, 2) if i % 2 == 0 else (2, 1)
            scenario.handoff(batch, frm, to)
        # one page for the whole chain: the calls counted are the queries (pages are tested below)
        report = check(scenario, setup[0], batch, max_range=WHOLE_CHAIN)
        assert report.verdict is Verdict.VERIFIED
        assert len([t for t in report.timeline if t.event == "HandoffAccepted"]) == handoffs
        counts.append((report.stats.get_logs_calls, report.stats.rpc_calls))
    assert counts[0] == counts[1], counts
    print(f"getLogs/RPC calls for 10 and 100 handoffs: {counts}")


@pytest.mark.anvil
def test_pages_of_blocks_give_the_same_report_and_the_json_streams_the_same_text(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    import io

    batch = scenario.create()
    for i in range(12):
        frm, to = (1, 2) if i % 2 == 0 else (2, 1)
        scenario.handoff(batch, frm, to)
    whole = verify(scenario.chain, setup[0], batch, max_range=WHOLE_CHAIN)
    paged = verify(scenario.chain, setup[0], batch, max_range=3)
    assert paged.stats.get_logs_calls > whole.stats.get_logs_calls
    assert replace(paged, stats=whole.stats) == whole
    streamed = io.StringIO()
    whole.write_json(streamed)
    assert streamed.getvalue() == whole.to_json()
    assert json.loads(streamed.getvalue())["timeline"][-1]["event"] == "HandoffAccepted"


@pytest.mark.anvil
def test_merge_lineage_and_conservation_on_chain(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    first, second = scenario.create(30), scenario.create(50)
    lot = f"{scenario.lots[first]}-M"
    send(scenario.r.functions.mergeBatches([first, second], lot_to_bytes32(scenario.lots[first]),
                                           lot_to_bytes32(lot), 5, Z32),
         scenario.addr(1))  # fmt: skip
    merged = batch_id(scenario.gtin, lot)
    report = check(scenario, setup[0], merged)
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.lineage.origin == "merge" and report.lineage.quantity == 75
    assert {p.batch_id for p in report.lineage.parents} == {first, second}
    assert report.stats.batches == 3
    assert report.owner == scenario.addr(1)
    print(f"merge lineage of 3 batches: {report.stats}")


def _agreements(scenario: Scenario, deployment: Deployment) -> Contract:
    return scenario.chain.w3.eth.contract(
        address=Web3.to_checksum_address(deployment.agreements),
        abi=load_artifact("SupplyAgreements").abi,
    )


def _deliver(
    scenario: Scenario, deployment: Deployment, batch: str, document: bytes = Z32,
    late: int = 0,
) -> int:  # fmt: skip
    """Agreement buyer 4 / supplier 1 over `batch`: proposed, accepted, funded, tendered
    straight to the buyer (`late` seconds after the deadline), accepted (settled)."""
    agreements = _agreements(scenario, deployment)
    buyer, supplier = scenario.addr(4), scenario.addr(1)
    terms = (
        buyer, supplier, scenario.addr(6), "0x" + "00" * 20, "0x" + "00" * 20, scenario.gtin,
        100, uom_to_bytes("KGM"), 0, 10**18, scenario.now() + 3_600, 10 * 86_400, 86_400, 86_400,
        100, 1_000, [], document, 7,
    )  # fmt: skip
    send(agreements.functions.propose(terms), buyer)
    agreement_id = int(agreements.functions.agreementCount().call())
    send(agreements.functions.accept(agreement_id, terms), supplier)
    send(agreements.functions.fund(agreement_id, terms), buyer, value=10**18)
    if late:
        scenario.chain.advance_time(3_600 + late)
    send(agreements.functions.tender(agreement_id, terms, batch, (0, 1, 1, Z32), []), supplier)
    send(agreements.functions.acceptDelivery(agreement_id, terms, batch, Z32), buyer)
    return agreement_id


@pytest.mark.anvil
def test_agreement_that_took_the_batch_is_reported(
    scenario: Scenario, setup: tuple[Deployment, Contract], tmp_path: Path
) -> None:
    deployment = setup[0]
    contract_text = tmp_path / "contract.txt"
    contract_text.write_bytes(b"supply 100 KGM")
    batch = scenario.create(100)
    agreement_id = _deliver(
        scenario, deployment, batch, bytes.fromhex(hash_file(contract_text)[2:]), late=2 * 86_400
    )
    report = check(scenario, deployment, batch, docs=[contract_text])
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.agreement is not None and report.agreement.agreement_id == agreement_id
    assert report.agreement.days_late == 2 and report.agreement.status == "settled"
    assert (
        report.agreement.supplier_amount == 98 * 10** 16
        and report.agreement.buyer == scenario.addr(4)
    )
    assert report.agreement.penalty == 2 * 10**16
    events = [t.event for t in report.timeline]
    assert events.count("HandoffInitiated") == events.count("HandoffAccepted") == 1
    assert report.titles[-1].via == "delivery" and report.owner == scenario.addr(4)


@pytest.mark.anvil
def test_agreement_that_took_an_ancestor_is_reported_per_batch(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    deployment = setup[0]
    parent = scenario.create(100)
    agreement_id = _deliver(scenario, deployment, parent)
    child, _other = scenario.split(parent, [60, 40], by=4)
    report = check(scenario, deployment, child)
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.agreement is None  # nothing paid for the child itself
    (paid,) = report.agreements
    assert paid.batch_id == parent and paid.agreement_id == agreement_id
    assert paid.supplier == scenario.addr(1) and paid.supplier_amount == 10**18
    assert report.to_dict()["agreements"][0]["batch_id"] == parent
    assert report.owner == scenario.addr(4)  # title passed with the delivery, kept by the split


@pytest.mark.anvil
def test_agreement_lookup_calls_do_not_grow_with_the_number_of_events(
    scenario: Scenario, setup: tuple[Deployment, Contract]
) -> None:
    deployment = setup[0]
    parent = scenario.create(100)
    _deliver(scenario, deployment, parent)
    child, _other = scenario.split(parent, [60, 40], by=4)
    counts = []
    for handoffs in (2, 40):
        for i in range(handoffs):
            frm, to = (4, 2) if i % 2 == 0 else (2, 4)
            scenario.handoff(child, frm, to)
        report = check(scenario, deployment, child, max_range=WHOLE_CHAIN)
        assert len(report.agreements) == 1
        counts.append((report.stats.get_logs_calls, report.stats.rpc_calls))
    assert counts[0] == counts[1], counts
