"""AgreementsClient against the real contracts on Anvil."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from provenance.agreements import AgreementsClient
from provenance.chain import Chain, dev_accounts
from provenance.compiler import load_artifact
from provenance.deploy import Deployment, deploy
from provenance.exceptions import InvalidInput, NotFoundError, PermissionDenied, StateConflict
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from provenance.types import AgreementStatus, AgreementTerms, Role, text_to_bytes32

GTIN = "04006381333931"
ADMIN, BUYER, SUPPLIER, ARBITER, CERTIFIER, STRANGER = dev_accounts(6)
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

    def registry(self, account: LocalAccount) -> RegistryClient:
        return RegistryClient.from_deployment(self.chain, self.deployment, self.tx(account))

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        self.chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

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
            penalty_bps_per_day=100,
            penalty_cap_bps=1000,
            arbiter_timeout=DAY,
        )
        return dataclasses.replace(base, **changes)

    def deliver(self, lot: str = "L1", qty: int = 100) -> str:
        """Supplier creates a batch and hands it to the buyer."""
        supplier, buyer = self.registry(SUPPLIER), self.registry(BUYER)
        bid, _ = supplier.create_batch(GTIN, lot, qty)
        supplier.initiate_handoff(supplier.make_handoff(bid, BUYER.address))
        buyer.accept_handoff(bid)
        return bid


@pytest.fixture
def env(anvil_chain: Chain, deployment: Deployment, snapshot: None, tmp_path: Path) -> Env:
    e = Env(anvil_chain, deployment, tmp_path)
    admin = e.registry(ADMIN)
    admin.register_participant(SUPPLIER.address, Role.PRODUCER)
    admin.register_participant(BUYER.address, Role.RETAILER)
    admin.register_participant(CERTIFIER.address, Role.CERTIFIER)
    return e


def test_propose_accept_fund_deliver_withdraw(env: Env) -> None:
    terms = env.terms()
    agreement_id, _ = env.agreements(BUYER).propose(terms)
    assert agreement_id == 1
    reader = env.agreements()
    got = reader.get(agreement_id)
    assert got.terms == terms and got.status == AgreementStatus.PROPOSED
    assert got.proposer == BUYER.address
    assert reader.hash_terms(terms) == terms.terms_hash()
    env.agreements(SUPPLIER).accept(agreement_id)  # terms rebuilt from the event
    [funded] = env.agreements(BUYER).fund(agreement_id)
    assert funded.ok and env.chain.w3.eth.get_balance(reader.address) == PRICE
    bid = env.deliver()
    env.agreements(STRANGER).claim_delivery(agreement_id, bid)
    assert reader.status_of(agreement_id) == AgreementStatus.SETTLED
    assert reader.credit_of(SUPPLIER.address) == PRICE
    env.agreements(SUPPLIER).withdraw()
    assert reader.credit_of(SUPPLIER.address) == 0


def test_late_delivery_pays_a_penalty(env: Env) -> None:
    terms = env.terms()
    agreement_id, _ = env.agreements(SUPPLIER).propose(terms)
    env.agreements(BUYER).accept(agreement_id)
    env.agreements(BUYER).fund(agreement_id)
    bid = env.deliver()
    env.travel(DAY * 3 + 10)  # two whole days late
    env.agreements(BUYER).claim_delivery(agreement_id, bid)
    assert (
        env.agreements().credit_of(BUYER.address) == terms.penalty_for(2) == PRICE * 200 // 10_000
    )


def test_signed_proposal_starts_accepted(env: Env) -> None:
    terms = env.terms(salt=1)
    relayer = env.agreements(STRANGER)
    agreement_id, _ = relayer.propose_signed(
        terms, buyer=relayer.sign(BUYER, terms), supplier=relayer.sign(SUPPLIER, terms)
    )
    assert relayer.status_of(agreement_id) == AgreementStatus.ACCEPTED
    supplier = env.agreements(SUPPLIER)
    second, _ = supplier.propose_signed(
        dataclasses.replace(terms, salt=2),
        buyer=supplier.sign(BUYER, dataclasses.replace(terms, salt=2)),
    )
    assert second == agreement_id + 1


def test_dispute_resolve_and_default(env: Env) -> None:
    a, _ = env.agreements(BUYER).propose(env.terms(salt=1))
    b, _ = env.agreements(BUYER).propose(env.terms(salt=2))
    for agreement_id in (a, b):
        env.agreements(SUPPLIER).accept(agreement_id)
        env.agreements(BUYER).fund(agreement_id)
        env.agreements(BUYER).dispute(agreement_id, "quality")
    with pytest.raises(PermissionDenied, match="not the arbiter"):
        env.agreements(BUYER).resolve(a, PRICE // 2)
    with pytest.raises(InvalidInput, match="exceeds the price"):
        env.agreements(ARBITER).resolve(a, PRICE + 1)
    env.agreements(ARBITER).resolve(a, PRICE // 4)
    assert env.agreements().credit_of(SUPPLIER.address) == PRICE // 4
    with pytest.raises(StateConflict, match="arbiter of agreement 2 still has time"):
        env.agreements(STRANGER).resolve_by_default(b)
    env.travel(DAY + 10)
    env.agreements(STRANGER).resolve_by_default(b)
    assert env.agreements().status_of(b) == AgreementStatus.RESOLVED


def test_reclaim_after_grace_and_cancel(env: Env) -> None:
    a, _ = env.agreements(BUYER).propose(env.terms(salt=1))
    env.agreements(SUPPLIER).accept(a)
    env.agreements(BUYER).fund(a)
    with pytest.raises(StateConflict, match="cannot be reclaimed before"):
        env.agreements(BUYER).reclaim(a)
    env.travel(2 * DAY + 10)
    env.agreements(BUYER).reclaim(a)
    assert env.agreements().status_of(a) == AgreementStatus.REFUNDED
    b, _ = env.agreements(BUYER).propose(env.terms(salt=2))
    env.agreements(SUPPLIER).cancel(b)
    assert env.agreements().status_of(b) == AgreementStatus.CANCELLED


def test_required_claims_need_attestation_refs(env: Env) -> None:
    claim = text_to_bytes32("organic")
    a, _ = env.agreements(BUYER).propose(env.terms(required_claims=(claim,)))
    env.agreements(SUPPLIER).accept(a)
    env.agreements(BUYER).fund(a)
    bid = env.deliver()
    with pytest.raises(InvalidInput, match="requires 1 attestation"):
        env.agreements(BUYER).claim_delivery(a, bid)
    evidence = "0x" + "ee" * 32
    with pytest.raises(InvalidInput, match="not backed by a valid attestation"):
        env.agreements(BUYER).claim_delivery(a, bid, [(CERTIFIER.address, evidence)])
    env.registry(CERTIFIER).attest(bid, "organic", evidence, valid_from=env.now() - 10)
    env.agreements(BUYER).claim_delivery(a, bid, [(CERTIFIER.address, evidence)])
    assert env.agreements().status_of(a) == AgreementStatus.SETTLED


def test_erc20_funding_approves_first(env: Env) -> None:
    w3 = env.chain.w3
    artifact = load_artifact("MockERC20")  # packaged: no compile in this test
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    deployer = w3.eth.accounts[0]
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor("Token", "TOK").transact({"from": deployer}), poll_latency=0.01
    )
    token = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    w3.eth.wait_for_transaction_receipt(
        token.functions.mint(BUYER.address, PRICE).transact({"from": deployer}), poll_latency=0.01
    )
    a, _ = env.agreements(BUYER).propose(env.terms(token=token.address))
    env.agreements(SUPPLIER).accept(a)
    approve, fund = env.agreements(BUYER).fund(a)
    assert approve.ok and fund.ok
    assert token.functions.balanceOf(env.agreements().address).call() == PRICE


def test_client_side_checks_and_unknown_ids(env: Env) -> None:
    with pytest.raises(InvalidInput, match="must be non-zero and distinct"):
        env.agreements(BUYER).propose(env.terms(arbiter=BUYER.address))
    with pytest.raises(InvalidInput, match="must be greater than zero"):
        env.agreements(BUYER).propose(env.terms(price=0))
    with pytest.raises(NotFoundError, match="unknown agreement 42"):
        env.agreements().get(42)
    with pytest.raises(InvalidInput, match="not in the future"):
        env.agreements(BUYER).propose(env.terms(delivery_deadline=1))
