"""AgreementsClient against the real contracts on Anvil: terms rebuilt from events, the tender,
acceptance that settles, rejection, escalation, resolution, exits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from provenance.agreements import AgreementsClient
from provenance.chain import Chain, dev_accounts
from provenance.compiler import Artifact
from provenance.deploy import Deployment, deploy
from provenance.exceptions import InvalidInput, NotFoundError, PermissionDenied, StateConflict
from provenance.records import (
    AgreementStatus,
    AgreementTerms,
    DisputeKind,
    Leg,
    RequiredClaim,
    Role,
)
from provenance.registry import RegistryClient
from provenance.transactions import Transactor

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

GTIN = "04006381333931"
ADMIN, BUYER, SUPPLIER, ARBITER, CERTIFIER, STRANGER, CARRIER = dev_accounts(7)
PRICE = 10**18
DAY = 86_400


@pytest.fixture(scope="module")
def deployment(anvil_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return deploy(anvil_chain, ADMIN, root=tmp_path_factory.mktemp("deploy"))


@dataclass
class Env:
    chain: Chain
    deployment: Deployment
    root: Path

    def tx(self, account: LocalAccount) -> Transactor:
        return Transactor(self.chain, account, root=self.root)

    def agreements(self, account: LocalAccount | None = None) -> AgreementsClient:
        return AgreementsClient.from_deployment(
            self.chain, self.deployment, self.tx(account) if account else None
        )

    def registry(self, account: LocalAccount | None = None) -> RegistryClient:
        tx = self.tx(account) if account else None
        return RegistryClient.from_deployment(self.chain, self.deployment, tx)

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    def terms(self, **changes: Any) -> AgreementTerms:
        base = AgreementTerms(
            buyer=BUYER.address,
            supplier=SUPPLIER.address,
            arbiter=ARBITER.address,
            gtin=GTIN,
            quantity=100,
            uom="KGM",
            price=PRICE,
            delivery_deadline=self.now() + DAY,
            grace_period=DAY,
            inspection_period=DAY,
            penalty_bps_per_day=100,
            penalty_cap_bps=1000,
            arbiter_timeout=DAY,
        )
        return dataclasses.replace(base, **changes)

    def funded(self, **changes: Any) -> tuple[int, AgreementTerms]:
        terms = self.terms(**changes)
        agreement_id, _ = self.agreements(BUYER).propose(terms)
        self.agreements(SUPPLIER).accept(agreement_id)
        self.agreements(BUYER).fund(agreement_id)
        return agreement_id, terms

    def batch(self, lot: str = "L1", qty: int = 100) -> str:
        return self.registry(SUPPLIER).create_batch(GTIN, lot, qty)[0]


@pytest.fixture
def env(anvil_chain: Chain, deployment: Deployment, snapshot: None, tmp_path: Path) -> Env:
    e = Env(anvil_chain, deployment, tmp_path)
    admin = e.registry(ADMIN)
    admin.register_participant(SUPPLIER.address, Role.PRODUCER)
    admin.register_participant(BUYER.address, Role.RETAILER)
    admin.register_participant(CERTIFIER.address, Role.CERTIFIER)
    admin.register_participant(CARRIER.address, Role.CARRIER)
    admin.assign_prefix(SUPPLIER.address, "4006381")
    return e


def test_propose_accept_fund_tender_accept_withdraw(env: Env) -> None:
    terms = env.terms()
    agreement_id, _ = env.agreements(BUYER).propose(terms)
    assert agreement_id == 1
    reader = env.agreements()
    got = reader.get(agreement_id)
    assert got.terms == terms and got.status == AgreementStatus.PROPOSED
    assert got.proposer == BUYER.address and got.tendered_batch is None
    assert reader.hash_terms(terms) == terms.terms_hash() == reader.terms_hash_of(agreement_id)
    assert reader.escrow_of(terms) == terms.escrow() == PRICE
    env.agreements(SUPPLIER).accept(agreement_id)  # terms rebuilt from the event
    [funded] = env.agreements(BUYER).fund(agreement_id)
    assert funded.ok and env.chain.w3.eth.get_balance(reader.address) == PRICE
    bid = env.batch()
    env.agreements(SUPPLIER).tender(agreement_id, bid, leg=Leg(biz_step=1))
    tendered = reader.get(agreement_id)
    assert tendered.status == AgreementStatus.TENDERED and tendered.tendered_batch == bid
    assert tendered.days_late == 0 and tendered.tendered_at > 0
    assert reader.agreement_of_batch(bid) == agreement_id
    assert env.registry().get_batch(bid).bound_to == BUYER.address
    with pytest.raises(StateConflict, match="bound to an agreement with buyer"):
        env.registry(BUYER).accept_handoff(bid)  # the buyer accepts through the agreement
    env.agreements(BUYER).accept_delivery(agreement_id)  # the tendered batch from events
    assert reader.status_of(agreement_id) == AgreementStatus.SETTLED
    assert reader.credit_of(SUPPLIER.address) == PRICE
    assert env.registry().get_batch(bid).owner == BUYER.address
    env.agreements(SUPPLIER).withdraw()
    assert reader.credit_of(SUPPLIER.address) == 0


def test_a_late_tender_pays_a_penalty_fixed_at_the_tender(env: Env) -> None:
    agreement_id, terms = env.funded(tolerance_bps=500, grace_period=5 * DAY)
    assert terms.escrow() == PRICE * 105 // 100
    bid = env.batch(qty=97)
    env.travel(DAY * 3 + 10)  # two whole days late
    env.agreements(SUPPLIER).tender(agreement_id, bid)
    env.travel(DAY * 2)  # the buyer's delay does not count
    env.agreements(BUYER).accept_delivery(agreement_id, bid)
    supplier, buyer = terms.payout(97, 2)
    assert env.agreements().payout_for(terms, 97, 2) == (supplier, buyer)
    assert env.agreements().credit_of(SUPPLIER.address) == supplier
    assert env.agreements().credit_of(BUYER.address) == buyer == terms.escrow() - supplier
    assert supplier == PRICE * 97 // 100 - terms.penalty_for(2, 97)


def test_a_carrier_tender_point_and_required_claims(env: Env) -> None:
    claim = RequiredClaim("organic", CERTIFIER.address)
    agreement_id, terms = env.funded(carrier=CARRIER.address, required_claims=(claim,))
    assert terms.tender_point == CARRIER.address
    bid = env.batch()
    with pytest.raises(InvalidInput, match="requires 1 claim"):
        env.agreements(SUPPLIER).tender(agreement_id, bid)
    evidence = "0x" + "ee" * 32
    env.registry(CERTIFIER).attest(bid, "organic", evidence, valid_from=env.now() - 10)
    proofs = env.registry().claim_proofs(bid, terms.required_claims)
    env.agreements(SUPPLIER).tender(agreement_id, bid, proofs=proofs)
    carrier = env.registry(CARRIER)
    carrier.accept_handoff(bid)
    carrier.initiate_handoff(carrier.make_handoff(bid, BUYER.address))
    env.agreements(BUYER).accept_delivery(agreement_id)
    assert env.agreements().status_of(agreement_id) == AgreementStatus.SETTLED


def test_rejection_then_a_new_tender(env: Env) -> None:
    agreement_id, _ = env.funded()
    first, second = env.batch("L1"), env.batch("L2")
    env.agreements(SUPPLIER).tender(agreement_id, first)
    env.agreements(BUYER).reject_delivery(agreement_id, reason="wrong size")
    status, kind, _, disputed, _ = env.agreements().state_of(agreement_id)
    assert (status, kind) == (AgreementStatus.DISPUTED, DisputeKind.REJECTED) and disputed
    assert env.registry().get_batch(first).bound_to is None
    env.agreements(SUPPLIER).tender(agreement_id, second)
    assert env.agreements().tenders_of(agreement_id)[-1][0] == second
    env.agreements(BUYER).accept_delivery(agreement_id)
    assert env.agreements().status_of(agreement_id) == AgreementStatus.SETTLED


def test_withdraw_a_tender_then_cancel_refunds_the_buyer(env: Env) -> None:
    agreement_id, _ = env.funded()
    bid = env.batch()
    env.agreements(SUPPLIER).tender(agreement_id, bid)
    env.agreements(SUPPLIER).withdraw_tender(agreement_id)
    assert env.agreements().status_of(agreement_id) == AgreementStatus.FUNDED
    with pytest.raises(PermissionDenied, match="not the supplier of agreement 1"):
        env.agreements(BUYER).cancel(agreement_id)
    env.agreements(SUPPLIER).cancel(agreement_id)
    assert env.agreements().status_of(agreement_id) == AgreementStatus.REFUNDED
    assert env.agreements().credit_of(BUYER.address) == PRICE


def test_escalation_resolved_by_the_arbiter_and_by_default(env: Env) -> None:
    a, terms = env.funded(salt=1)
    b, _ = env.funded(salt=2)
    for agreement_id, lot in ((a, "A1"), (b, "B1")):
        env.agreements(SUPPLIER).tender(agreement_id, env.batch(lot))
    with pytest.raises(StateConflict, match="may still inspect the tender until"):
        env.agreements(SUPPLIER).escalate(a, "no answer")
    env.travel(DAY + 10)
    for agreement_id in (a, b):
        env.agreements(SUPPLIER).escalate(agreement_id, "no answer")
    with pytest.raises(PermissionDenied, match="not the arbiter"):
        env.agreements(BUYER).resolve(a, PRICE // 2)
    with pytest.raises(InvalidInput, match="exceeds the escrow"):
        env.agreements(ARBITER).resolve(a, terms.escrow() + 1)
    env.agreements(ARBITER).resolve(a, PRICE // 4, deliver=True)
    assert env.agreements().credit_of(SUPPLIER.address) == PRICE // 4
    assert env.registry().get_batch(env.agreements().tendered_batch(a)).owner == BUYER.address
    with pytest.raises(StateConflict, match=f"arbiter of agreement {b} still has time"):
        env.agreements(STRANGER).resolve_by_default(b)
    env.travel(DAY + 10)
    env.agreements(STRANGER).resolve_by_default(b)
    assert env.agreements().status_of(b) == AgreementStatus.RESOLVED
    assert env.agreements().credit_of(SUPPLIER.address) == PRICE // 4 + PRICE


def test_signed_proposal_starts_accepted_and_use_nonce_revokes_approvals(env: Env) -> None:
    terms = env.terms(salt=1)
    relayer = env.agreements(STRANGER)
    agreement_id, _ = relayer.propose_signed(
        terms, buyer=relayer.sign(BUYER, terms), supplier=relayer.sign(SUPPLIER, terms)
    )
    assert relayer.status_of(agreement_id) == AgreementStatus.ACCEPTED
    supplier = env.agreements(SUPPLIER)
    second = dataclasses.replace(terms, salt=2)
    stale = supplier.sign(BUYER, second)
    env.agreements(BUYER).use_nonce()
    with pytest.raises(StateConflict, match="uses nonce"):
        supplier.propose_signed(second, buyer=stale)
    other, _ = supplier.propose_signed(second, buyer=supplier.sign(BUYER, second))
    assert other == agreement_id + 1


def test_reclaim_after_grace_and_cancel(env: Env) -> None:
    a, _ = env.funded(salt=1)
    with pytest.raises(StateConflict, match="cannot be reclaimed before"):
        env.agreements(BUYER).reclaim(a)
    env.travel(2 * DAY + 10)
    env.agreements(BUYER).reclaim(a)
    assert env.agreements().status_of(a) == AgreementStatus.REFUNDED
    b, _ = env.agreements(BUYER).propose(env.terms(salt=2))
    env.agreements(SUPPLIER).cancel(b)
    assert env.agreements().status_of(b) == AgreementStatus.CANCELLED


def test_erc20_funding_approves_the_escrow_first(env: Env, artifacts: dict[str, Artifact]) -> None:
    w3 = env.chain.w3
    artifact = artifacts["MockERC20"]  # a test double: compiled by the tests, never shipped
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    deployer = w3.eth.accounts[0]
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor("Token", "TOK").transact({"from": deployer}), poll_latency=0.01
    )
    token = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    w3.eth.wait_for_transaction_receipt(
        token.functions.mint(BUYER.address, 2 * PRICE).transact({"from": deployer}),
        poll_latency=0.01,
    )
    terms = env.terms(token=token.address, tolerance_bps=100)
    a, _ = env.agreements(BUYER).propose(terms)
    env.agreements(SUPPLIER).accept(a)
    approve, fund = env.agreements(BUYER).fund(a)
    assert approve.ok and fund.ok
    assert token.functions.balanceOf(env.agreements().address).call() == terms.escrow()


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"arbiter": BUYER.address}, InvalidInput, "must be non-zero and distinct"),
        ({"carrier": SUPPLIER.address}, InvalidInput, "neither buyer nor supplier"),
        ({"price": 0}, InvalidInput, "must be greater than zero"),
        ({"tolerance_bps": 10_001}, InvalidInput, "at most 10000"),
        ({"inspection_period": 0}, InvalidInput, "must be greater than zero"),
        (
            {"required_claims": (RequiredClaim("organic", SUPPLIER.address),)},
            InvalidInput,
            "neither the buyer nor the supplier",
        ),
        (
            {"required_claims": (RequiredClaim("x", CERTIFIER.address),) * 9},
            InvalidInput,
            "too many required claims: 9, at most 8",
        ),
        ({"delivery_deadline": 1}, InvalidInput, "not in the future"),
        (
            {"required_claims": (RequiredClaim("organic", STRANGER.address),)},
            InvalidInput,
            "who is not a registered certifier",
        ),
        (
            {"required_claims": (RequiredClaim("organic", CARRIER.address),)},
            InvalidInput,
            "who is not a registered certifier",
        ),
    ],
)
def test_client_side_checks_say_what_the_contract_would(
    env: Env, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    nonce = env.chain.w3.eth.get_transaction_count(BUYER.address)
    with pytest.raises(error, match=message):
        env.agreements(BUYER).propose(env.terms(**changes))
    assert env.chain.w3.eth.get_transaction_count(BUYER.address) == nonce  # nothing was sent


def test_unknown_ids(env: Env) -> None:
    with pytest.raises(NotFoundError, match="unknown agreement 42"):
        env.agreements().get(42)
    with pytest.raises(NotFoundError, match="unknown agreement 42"):
        env.agreements().terms_of(42)
