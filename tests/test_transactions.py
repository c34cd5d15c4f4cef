"""Transactor on Anvil: send, decoded reverts, nonces under a lock, pipelining, offline queueing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain import Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.exceptions import (
    ChainUnreachable,
    InsufficientFunds,
    InvalidInput,
    NotFoundError,
    StateConflict,
    TransactionError,
)
from provenance.gs1 import batch_id, gs1_check_digit, lot_to_bytes32
from provenance.outbox import Outbox
from provenance.records import Role
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from provenance.units import uom_to_bytes
from tests.support import free_port

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

GTIN = "400638133393" + "1"


@pytest.fixture(scope="module")
def deployment(anvil_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path_factory.mktemp("deploy"))


@pytest.fixture
def admin() -> LocalAccount:
    return dev_accounts(1)[0]


@pytest.fixture
def producer(
    anvil_chain: Chain, deployment: Deployment, admin: LocalAccount, snapshot: None, tmp_path: Path
) -> LocalAccount:
    account = dev_accounts(3)[2]
    registry = RegistryClient(
        anvil_chain, deployment.registry, Transactor(anvil_chain, admin, root=tmp_path)
    )
    registry.register_participant(account.address, Role.PRODUCER)
    registry.assign_prefix(account.address, "4006381")  # GTIN's company prefix
    return account


def contract(chain: Chain, deployment: Deployment) -> object:
    return RegistryClient(chain, deployment.registry).contract


def create_call(chain: Chain, deployment: Deployment, lot: str, qty: int = 10) -> object:
    return RegistryClient(chain, deployment.registry).contract.functions.createBatch(
        int(GTIN), lot_to_bytes32(lot), qty, uom_to_bytes("KGM"), b"\0" * 32
    )


def test_send_returns_receipt_fields_and_journals(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    tx = Transactor(anvil_chain, producer, outbox, root=tmp_path)
    result = tx.send(create_call(anvil_chain, deployment, "L1"), description="create L1")
    assert result.status == 1 and result.ok and not result.queued
    assert result.gas_used and result.gas_used < 100_000
    assert result.block_number == anvil_chain.w3.eth.block_number
    [entry] = outbox.entries()
    assert (entry.tx_hash, entry.status, entry.description) == (
        result.tx_hash,
        "confirmed",
        "create L1",
    )
    assert entry.nonce == result.nonce


def test_revert_is_decoded_before_anything_is_signed(
    anvil_chain: Chain, deployment: Deployment, snapshot: None, tmp_path: Path
) -> None:
    stranger = dev_accounts(5)[4]
    outbox = Outbox(tmp_path / "outbox")
    before = anvil_chain.w3.eth.get_transaction_count(stranger.address)
    tx = Transactor(anvil_chain, stranger, outbox, root=tmp_path)
    with pytest.raises(NotFoundError, match="is not a registered participant") as info:
        tx.send(create_call(anvil_chain, deployment, "L1"))
    assert info.value.error_name == "RegistryUnknownParticipant"
    assert outbox.entries() == []
    assert anvil_chain.w3.eth.get_transaction_count(stranger.address) == before


def test_mined_revert_is_replayed_and_decoded(
    anvil_chain: Chain, deployment: Deployment, snapshot: None, tmp_path: Path
) -> None:
    stranger = dev_accounts(5)[4]
    tx = Transactor(anvil_chain, stranger, root=tmp_path)
    pattern = r"transaction 0x[0-9a-f]{64} \(createBatch\) reverted in block \d+: .*registered"
    with pytest.raises(NotFoundError, match=pattern):
        tx.send(create_call(anvil_chain, deployment, "L1"), gas=200_000)  # no pre-flight


def test_send_many_uses_consecutive_nonces(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    tx = Transactor(anvil_chain, producer, root=tmp_path)
    start = anvil_chain.w3.eth.get_transaction_count(producer.address)
    results = tx.send_many([create_call(anvil_chain, deployment, f"B{i}") for i in range(5)])
    assert [r.nonce for r in results] == list(range(start, start + 5))
    assert all(r.status == 1 for r in results)
    assert tx.send(create_call(anvil_chain, deployment, "after")).nonce == start + 5


def test_concurrent_writers_of_one_key_never_share_a_nonce(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def worker(tag: str) -> None:
        tx = Transactor(anvil_chain, producer, root=tmp_path)  # own lock object, same lock file
        try:
            for i in range(4):
                nonce = tx.send(create_call(anvil_chain, deployment, f"{tag}{i}")).nonce
                assert nonce is not None
                results.append(nonce)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 8


def test_unreachable_endpoint_queues_in_the_outbox_and_flush_sends_it(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    online = Transactor(anvil_chain, producer, outbox, root=tmp_path)
    online.send(create_call(anvil_chain, deployment, "first"))  # learns fees and gas
    url = f"http://127.0.0.1:{free_port()}"
    down = Chain.offline(url, anvil_chain.identity, timeout=2)
    offline = Transactor(down, producer, outbox, root=tmp_path)
    queued = offline.send(create_call(down, deployment, "offline"), description="queued")
    assert queued.queued and queued.status is None
    entry = outbox.get(queued.tx_hash)
    assert entry.status == "pending" and entry.description == "queued"
    report = outbox.flush(anvil_chain)
    assert queued.tx_hash in report.resubmitted
    receipt = anvil_chain.w3.eth.get_transaction_receipt(queued.tx_hash)
    assert receipt["status"] == 1


def test_unreachable_endpoint_without_outbox_raises(
    anvil_chain: Chain, deployment: Deployment, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    down = Chain.offline(url, anvil_chain.identity, timeout=2)
    with pytest.raises(ChainUnreachable, match=r"cannot reach the chain at .*nothing was queued"):
        Transactor(down, dev_accounts(1)[0], root=tmp_path).send(create_call(down, deployment, "x"))


def test_stuck_transaction_is_reported_with_its_hash(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    w3 = anvil_chain.w3
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        tx = Transactor(anvil_chain, producer, root=tmp_path, receipt_timeout=0.3)
        with pytest.raises(
            TransactionError, match=r"still pending after 0 s .*outbox status"
        ) as info:
            tx.send(create_call(anvil_chain, deployment, "stuck"))
        assert info.value.tx_hash and info.value.tx_hash in str(info.value)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_gtin_constant_is_valid() -> None:
    assert int(GTIN[-1]) == gs1_check_digit(GTIN[:-1])


def test_send_many_raises_the_decoded_revert_after_all_receipts(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    tx = Transactor(anvil_chain, producer, root=tmp_path)
    calls = [
        create_call(anvil_chain, deployment, "dup"),
        create_call(anvil_chain, deployment, "dup"),
    ]
    with pytest.raises(StateConflict, match="already exists"):
        tx.send_many(calls, gas=150_000)  # no pre-flight: the second one reverts on chain
    batch = RegistryClient(anvil_chain, deployment.registry).get_batch(
        RegistryClient(anvil_chain, deployment.registry)
        .contract.functions.batchIdOf(int(GTIN), lot_to_bytes32("dup"))
        .call()
    )
    assert batch.exists


def anvil_identity() -> object:
    from tests.support import identity

    return identity()


def test_reads_on_an_unreachable_endpoint_raise_chain_error(deployment: Deployment) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    down = Chain.offline(url, deployment.identity or anvil_identity(), timeout=2)
    with pytest.raises(ChainUnreachable, match="cannot reach the chain at"):
        RegistryClient(down, deployment.registry).get_participant(dev_accounts(1)[0].address)


def test_transaction_lost_by_the_node_after_confirmation_is_resent_before_the_next(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    tx = Transactor(anvil_chain, producer, outbox, root=tmp_path)
    w3 = anvil_chain.w3
    before_loss = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    lost = tx.send(create_call(anvil_chain, deployment, "LOST"))
    assert outbox.get(lost.tx_hash).status == "confirmed"
    # The node forgets the mined transaction, as Anvil does when killed before saving its state.
    w3.provider.make_request("evm_revert", [before_loss])  # type: ignore[arg-type]
    assert anvil_chain.receipt_or_none(bytes.fromhex(lost.tx_hash[2:])) is None

    later = tx.send(create_call(anvil_chain, deployment, "LATER"))

    assert later.nonce == lost.nonce + 1  # the lost nonce was not reused for another transaction
    registry = RegistryClient(anvil_chain, deployment.registry)
    for lot in ("LOST", "LATER"):
        assert registry.get_batch(batch_id(GTIN, lot)).exists
    assert anvil_chain.receipt_or_none(bytes.fromhex(lost.tx_hash[2:])) is not None


def test_transfer_sends_eth_through_the_outbox(
    anvil_chain: Chain, admin: LocalAccount, snapshot: None, tmp_path: Path
) -> None:
    fresh = cast(LocalAccount, Account.create())
    outbox = Outbox(tmp_path / "outbox")
    tx = Transactor(anvil_chain, admin, outbox, root=tmp_path)
    result = tx.transfer(fresh.address, 10**18)
    assert result.ok and result.gas_used == 21_000
    assert anvil_chain.balance(fresh.address) == 10**18
    [entry] = outbox.entries()
    assert (entry.tx_hash, entry.status) == (result.tx_hash, "confirmed")
    assert entry.description == f"transfer 1 ETH to {fresh.address}"


def test_an_unfunded_account_is_told_how_to_pay_for_gas(
    anvil_chain: Chain,
    deployment: Deployment,
    admin: LocalAccount,
    snapshot: None,
    tmp_path: Path,
) -> None:
    fresh = cast(LocalAccount, Account.create())
    operator = RegistryClient(
        anvil_chain, deployment.registry, Transactor(anvil_chain, admin, root=tmp_path)
    )
    operator.register_participant(fresh.address, Role.PRODUCER)
    operator.assign_prefix(fresh.address, "4006381")
    outbox = Outbox(tmp_path / "outbox")
    tx = Transactor(anvil_chain, fresh, outbox, root=tmp_path)
    with pytest.raises(InsufficientFunds) as info:
        tx.send(create_call(anvil_chain, deployment, "L1"))
    message = str(info.value)
    assert message.startswith(f"account {fresh.address} cannot pay for gas (balance 0 ETH): ")
    assert f"`provenance account fund {fresh.address} --amount 1eth --account dev:0`" in message
    assert (info.value.address, info.value.balance, info.value.tx_hash) == (fresh.address, 0, None)
    assert outbox.entries() == []  # refused before signing
    assert anvil_chain.w3.eth.get_transaction_count(fresh.address) == 0


def test_the_nodes_insufficient_funds_refusal_is_decoded_too(
    anvil_chain: Chain, admin: LocalAccount, snapshot: None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fresh = cast(LocalAccount, Account.create())
    monkeypatch.setattr(Transactor, "_check_funds", lambda *args: None)  # the balance moved
    outbox = Outbox(tmp_path / "outbox")
    with pytest.raises(InsufficientFunds, match=r"cannot pay for gas \(balance 0 ETH\)") as info:
        Transactor(anvil_chain, fresh, outbox, root=tmp_path).transfer(admin.address, 0)
    assert "-32003" not in str(info.value)
    [entry] = outbox.entries()
    assert (entry.tx_hash, entry.status) == (info.value.tx_hash, "failed")


def test_sending_more_than_the_balance_is_insufficient_funds(
    anvil_chain: Chain, admin: LocalAccount, snapshot: None, tmp_path: Path
) -> None:
    fresh = cast(LocalAccount, Account.create())
    Transactor(anvil_chain, admin, root=tmp_path).transfer(fresh.address, 10**15)
    with pytest.raises(InsufficientFunds, match=r"gas plus the 1 ETH it sends \(balance 0\.001"):
        Transactor(anvil_chain, fresh, root=tmp_path).transfer(admin.address, 10**18)


def test_a_mined_revert_is_decoded_in_its_own_block_time_not_blamed_on_gas(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, snapshot: None,
    tmp_path: Path,
) -> None:  # fmt: skip
    """The deadline is after the latest block when signed, and not after the block that mines
    it: the replay in that block finds the contract's reason."""
    from provenance.agreements import AgreementsClient
    from provenance.records import AgreementTerms

    agreements = AgreementsClient.from_deployment(anvil_chain, deployment)
    buyer, arbiter = dev_accounts(7)[5], dev_accounts(7)[6]
    deadline = anvil_chain.now() + 5
    terms = AgreementTerms(buyer.address, producer.address, arbiter.address, GTIN, 10, "KGM",
                           10**18, deadline)  # fmt: skip
    anvil_chain.w3.provider.make_request("evm_setNextBlockTimestamp", [deadline + 10])  # type: ignore[arg-type]
    tx = Transactor(anvil_chain, buyer, Outbox(tmp_path / "outbox"), root=tmp_path)
    with pytest.raises(InvalidInput) as info:
        tx.send(agreements.contract.functions.propose(terms.to_tuple()), gas=400_000)
    message = str(info.value)
    assert "reverted in block" in message and "is not in the future" in message
    assert "gas" not in message


def test_out_of_gas_is_said_only_when_all_the_gas_was_used(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path
) -> None:
    tx = Transactor(anvil_chain, producer, root=tmp_path)
    with pytest.raises(TransactionError, match=r"ran out of gas \(used all 30,000 of its limit\)"):
        tx.send(create_call(anvil_chain, deployment, "OOG"), gas=30_000)


def test_a_nonce_taken_by_the_same_key_from_another_data_directory_is_signed_again(
    anvil_chain: Chain, deployment: Deployment, producer: LocalAccount, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Two data directories, one key, no shared lock: the other one sends between this one's
    nonce read and its send. The node says "nonce too low"; nothing is lost, nothing twice."""
    here = Outbox(tmp_path / "here" / "outbox")
    there = Transactor(anvil_chain, producer, Outbox(tmp_path / "there"), root=tmp_path / "there")
    tx = Transactor(anvil_chain, producer, here, root=tmp_path / "here")
    original = Transactor._allocate_nonce
    raced: list[int] = []

    def racing(self: Transactor) -> int:
        nonce = original(self)
        if self is tx and not raced:
            raced.append(nonce)
            there.send(create_call(anvil_chain, deployment, "THERE"))
        return nonce

    monkeypatch.setattr(Transactor, "_allocate_nonce", racing)
    result = tx.send(create_call(anvil_chain, deployment, "HERE"))
    assert result.ok and result.nonce == raced[0] + 1
    registry = RegistryClient(anvil_chain, deployment.registry)
    assert registry.get_batch(batch_id(GTIN, "HERE")).exists
    assert registry.get_batch(batch_id(GTIN, "THERE")).exists
    entries = {e.nonce: e for e in here.entries()}
    assert entries[raced[0]].status == "failed" and "taken by another" in entries[raced[0]].error
    assert entries[raced[0] + 1].status == "confirmed"
