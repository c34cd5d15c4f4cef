"""The outbox: atomic journal files bound to a chain identity, ordering, `drop`, and `flush`
against a real Anvil node (which never sends an entry to another chain with the same id)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain import Chain
from provenance.exceptions import OutboxError
from provenance.outbox import (
    CONFIRMED,
    FAILED,
    FINAL,
    PENDING,
    SENT,
    Outbox,
    OutboxEntry,
)
from tests.support import identity, offline_chain

HERE = identity(31337, 1)

ALICE = "0x" + "11" * 20
BOB = "0x" + "22" * 20


def entry(
    nonce: int, sender: str = ALICE, status: str = PENDING, chain_id: int = 31337, genesis: int = 1
) -> Any:
    return OutboxEntry(
        chain_id=chain_id,
        genesis_hash=identity(chain_id, genesis).genesis_hash,
        sender=sender,
        nonce=nonce,
        tx_hash="0x" + f"{nonce:02x}{int(sender[2:4], 16):02x}".ljust(64, "a"),
        raw_tx="0xf86c",
        description=f"tx {nonce}",
        status=status,
        created_at=1000.0 + nonce,
    )


# ---------------------------------------------------------------------------- the store


def test_add_writes_one_file_per_tx_in_the_documented_layout(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    e = entry(7)
    box.add(e)
    sender = Web3.to_checksum_address(ALICE)
    path = tmp_path / HERE.key / sender / f"{7:012d}-{e.tx_hash}.json"
    assert path.exists()
    data = json.loads(path.read_text())
    assert data["nonce"] == 7 and data["status"] == PENDING and data["raw_tx"] == "0xf86c"
    assert data["genesis_hash"] == HERE.genesis_hash
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_entries_are_ordered_by_sender_then_nonce(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for nonce in (10, 2, 30, 1):
        box.add(entry(nonce, BOB))
        box.add(entry(nonce, ALICE))
    got = [(e.sender, e.nonce) for e in box.entries()]
    expected_order = sorted(got, key=lambda x: (x[0].lower(), x[1]))
    assert got == expected_order
    assert [n for _, n in got[:4]] == [1, 2, 10, 30]  # numeric, not lexical


def test_entries_filter_by_chain_identity_and_status(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add(entry(1))
    box.add(entry(2, status=SENT))
    box.add(entry(3, chain_id=1))
    box.add(entry(4, genesis=2))  # another chain with the same id
    assert [e.nonce for e in box.entries(HERE)] == [1, 2]
    assert sorted(e.nonce for e in box.entries(chain_id=31337)) == [1, 2, 4]
    assert [e.nonce for e in box.entries(statuses=[SENT])] == [2]
    assert [e.nonce for e in box.entries(identity(1))] == [3]
    assert [e.nonce for e in box.elsewhere(HERE)] == [4]


def test_an_entry_without_a_genesis_hash_is_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    with pytest.raises(OutboxError, match="genesis hash"):
        Outbox(tmp_path).add(replace(entry(1), genesis_hash=""))


def test_entries_written_before_chain_identities_are_unbound_and_never_flushed(
    tmp_path: Path,
) -> None:
    legacy = tmp_path / "31337" / Web3.to_checksum_address(ALICE)
    legacy.mkdir(parents=True)
    data = {k: v for k, v in entry(5).to_json().items() if k != "genesis_hash"}
    (legacy / f"{5:012d}-{data['tx_hash']}.json").write_text(json.dumps(data))
    box = Outbox(tmp_path)
    [old] = box.entries()
    assert old.identity is None and old.identity_key == "unbound-31337"
    assert box.entries(HERE) == [] and box.elsewhere(HERE) == [old]
    assert box.next_nonce(HERE, ALICE) is None


def test_drop_moves_entries_out_of_the_way_without_deleting_them(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    keep, gone = entry(1), entry(2, genesis=2)
    box.add(keep)
    box.add(gone)
    archive = box.drop(box.elsewhere(HERE))
    assert [e.nonce for e in box.entries()] == [1]
    assert len(list(archive.rglob("*.json"))) == 1 and archive.name == ".dropped"


def test_mark_changes_status_and_survives_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    e = entry(1)
    box.add(e)
    box.mark(e.tx_hash, CONFIRMED)
    again = Outbox(tmp_path).get(e.tx_hash)
    assert again.status == CONFIRMED and again.updated_at > 0


@pytest.mark.parametrize("status", ["mined", "", "CONFIRMED"])
def test_unknown_status_is_refused(tmp_path: Path, status: str) -> None:
    box = Outbox(tmp_path)
    e = entry(1)
    box.add(e)
    with pytest.raises(OutboxError, match="unknown outbox status"):
        box.mark(e.tx_hash, status)


def test_mark_unknown_tx_raises(tmp_path: Path) -> None:
    with pytest.raises(OutboxError, match="not in the outbox"):
        Outbox(tmp_path).mark("0x" + "ab" * 32, SENT)


def test_next_nonce_is_max_plus_one_per_sender(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    assert box.next_nonce(HERE, ALICE) is None
    for nonce in (3, 9, 4):
        box.add(entry(nonce))
    box.add(entry(50, BOB))
    box.add(entry(70, genesis=2))
    assert box.next_nonce(HERE, ALICE) == 10
    assert box.next_nonce(HERE, BOB) == 51
    assert box.next_nonce(identity(1), ALICE) is None
    assert box.next_nonce(identity(31337, 2), ALICE) == 71


def test_remove_and_prune(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for nonce in range(4):
        box.add(entry(nonce, status=FINAL if nonce % 2 else CONFIRMED))
    box.remove(entry(0).tx_hash)
    assert box.prune() == 2
    assert [e.nonce for e in box.entries()] == [2]


def test_leftover_temp_files_of_a_crashed_write_are_ignored(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add(entry(1))
    folder = next((tmp_path / HERE.key).iterdir())
    (folder / ".000000000002-0xdead.json.tmp").write_text('{"half": ')
    assert [e.nonce for e in box.entries()] == [1]


def test_corrupt_entry_is_reported_with_its_path(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add(entry(1))
    path = next(tmp_path.glob("*/*/*.json"))
    path.write_text("{")
    with pytest.raises(OutboxError, match="unreadable outbox entry"):
        box.entries()


def test_add_failure_leaves_the_previous_file(tmp_path: Path, monkeypatch: Any) -> None:
    box = Outbox(tmp_path)
    e = entry(1)
    box.add(e)

    def boom(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("provenance.config.os.fsync", boom)
    with pytest.raises(OutboxError, match="disk full"):
        box.mark(e.tx_hash, SENT)
    assert box.get(e.tx_hash).status == PENDING
    assert len(list(tmp_path.glob("*/*/*"))) == 1


# ---------------------------------------------------------------------------- flush on Anvil


def sign_transfer(chain: Chain, account: LocalAccount, nonce: int, value: int = 1) -> OutboxEntry:
    tx = {
        "to": "0x000000000000000000000000000000000000dEaD",
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "nonce": nonce,
        "chainId": chain.chain_id,
        "type": 2,
    }
    signed = account.sign_transaction(tx)
    return OutboxEntry(
        chain_id=chain.chain_id,
        genesis_hash=chain.identity.genesis_hash,
        sender=account.address,
        nonce=nonce,
        tx_hash="0x" + signed.hash.hex().removeprefix("0x"),
        raw_tx="0x" + signed.raw_transaction.hex().removeprefix("0x"),
        description=f"transfer {nonce}",
        status=PENDING,
        created_at=time.time(),
    )


DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.mark.anvil
def test_flush_resubmits_missing_and_reports_recorded_ones_never_twice(
    tmp_path: Path, anvil_chain: Chain, accounts: list[LocalAccount], snapshot: None
) -> None:
    w3, sender = anvil_chain.w3, accounts[8]
    box = Outbox(tmp_path)
    start = w3.eth.get_transaction_count(sender.address)
    balance = w3.eth.get_balance(DEAD)
    entries = [sign_transfer(anvil_chain, sender, start + i, value=1) for i in range(4)]
    for e in entries:
        box.add(e)
    # The first two reach the node (sent / confirmed); the last two never left the outbox.
    for e, status in zip(entries[:2], (SENT, CONFIRMED), strict=True):
        w3.eth.send_raw_transaction(e.raw_tx)
        anvil_chain.wait_for_receipt(bytes.fromhex(e.tx_hash[2:]))
        box.mark(e.tx_hash, status)

    seen: list[tuple[int, str]] = []
    report = box.flush(anvil_chain, lambda e, outcome: seen.append((e.nonce, outcome)))

    assert report.resubmitted == (entries[2].tx_hash, entries[3].tx_hash)
    assert set(report.already_recorded) == {entries[0].tx_hash, entries[1].tx_hash}
    assert report.failed == () and report.still_pending == ()
    assert [n for n, _ in seen] == [start, start + 1, start + 2, start + 3]
    assert w3.eth.get_balance(DEAD) == balance + 4
    assert {e.status for e in box.entries(anvil_chain.identity)} == {CONFIRMED}

    # A second flush sends nothing; with settle_seconds=0 everything becomes final.
    again = box.flush(anvil_chain, settle_seconds=0)
    assert again.resubmitted == () and len(again.finalized) == 4
    assert set(again.already_recorded) == set(again.finalized)
    assert w3.eth.get_balance(DEAD) == balance + 4
    assert w3.eth.get_transaction_count(sender.address) == start + 4
    assert box.prune() == 4 and box.entries() == []


@pytest.mark.anvil
def test_flush_resends_a_confirmed_tx_that_the_node_lost(
    tmp_path: Path, anvil_chain: Chain, accounts: list[LocalAccount], snapshot: None
) -> None:
    """A node that crashed after mining loses the block: the receipt we saw is gone."""
    w3, sender = anvil_chain.w3, accounts[8]
    box = Outbox(tmp_path)
    before = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    e = sign_transfer(anvil_chain, sender, w3.eth.get_transaction_count(sender.address))
    box.add(e)
    w3.eth.send_raw_transaction(e.raw_tx)
    anvil_chain.wait_for_receipt(bytes.fromhex(e.tx_hash[2:]))
    box.mark(e.tx_hash, CONFIRMED)
    w3.provider.make_request("evm_revert", [before])  # type: ignore[arg-type]  # the "crash"
    assert anvil_chain.receipt_or_none(bytes.fromhex(e.tx_hash[2:])) is None

    report = box.flush(anvil_chain)

    assert report.resubmitted == (e.tx_hash,)
    assert anvil_chain.receipt_or_none(bytes.fromhex(e.tx_hash[2:])) is not None


@pytest.mark.anvil
def test_flush_marks_a_tx_whose_nonce_was_taken_by_another_as_failed(
    tmp_path: Path, anvil_chain: Chain, accounts: list[LocalAccount], snapshot: None
) -> None:
    w3, sender = anvil_chain.w3, accounts[8]
    box = Outbox(tmp_path)
    nonce = w3.eth.get_transaction_count(sender.address)
    journaled = sign_transfer(anvil_chain, sender, nonce, value=1)
    other = sign_transfer(anvil_chain, sender, nonce, value=2)  # same nonce, different tx
    box.add(journaled)
    w3.eth.send_raw_transaction(other.raw_tx)
    anvil_chain.wait_for_receipt(bytes.fromhex(other.tx_hash[2:]))

    report = box.flush(anvil_chain)

    assert [h for h, _ in report.failed] == [journaled.tx_hash]
    assert "used by another transaction" in report.failed[0][1]
    assert box.get(journaled.tx_hash).status == FAILED


@pytest.mark.anvil
def test_flush_never_replays_an_entry_of_another_chain_with_the_same_id(
    tmp_path: Path, anvil_chain: Chain, accounts: list[LocalAccount], snapshot: None
) -> None:
    """The chain was started afresh: same id, other genesis. Its old entries stay where they are."""
    from dataclasses import replace

    w3, sender = anvil_chain.w3, accounts[8]
    box = Outbox(tmp_path)
    nonce = w3.eth.get_transaction_count(sender.address)
    stale = replace(sign_transfer(anvil_chain, sender, nonce), genesis_hash="0x" + "ab" * 32)
    box.add(stale)
    balance = w3.eth.get_balance(DEAD)

    report = box.flush(anvil_chain)

    assert report.touched == 0 and report.ok and report.elsewhere == (stale.tx_hash,)
    assert w3.eth.get_transaction_count(sender.address) == nonce  # nothing replayed
    assert w3.eth.get_balance(DEAD) == balance
    assert box.get(stale.tx_hash).status == PENDING  # nothing lost either


def test_flush_with_endpoint_down_leaves_everything_pending_and_says_why(tmp_path: Path) -> None:
    from dataclasses import replace

    chain = replace(offline_chain("http://127.0.0.1:9", timeout=0.5), reachable=True)
    box = Outbox(tmp_path)
    for nonce in range(3):
        box.add(entry(nonce))
    report = box.flush(chain)
    assert len(report.still_pending) == 3 and not report.ok
    assert {reason for _h, reason in report.still_pending} == {"the chain did not answer"}
    assert {e.status for e in box.entries()} == {PENDING}


def test_flush_is_serialised_by_a_lock(tmp_path: Path) -> None:
    from filelock import FileLock

    box = Outbox(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    with FileLock(str(tmp_path / ".flush.lock")), pytest.raises(OutboxError, match="another"):
        box.flush(None, lock_timeout=0.05)  # type: ignore[arg-type]


def test_the_same_signed_transaction_on_two_chains_is_two_entries(tmp_path: Path) -> None:
    """The same key signing the same call with the same nonce and fees on a chain started afresh
    makes byte-identical transactions: each chain's entry is marked on its own."""
    from dataclasses import replace

    box = Outbox(tmp_path)
    here, there = entry(1), replace(entry(1), genesis_hash=identity(31337, 2).genesis_hash)
    assert here.tx_hash == there.tx_hash
    box.add(here)
    box.add(there)
    box.mark(here.tx_hash, CONFIRMED, identity=HERE)
    assert box.get(here.tx_hash, HERE).status == CONFIRMED
    assert box.get(there.tx_hash, identity(31337, 2)).status == PENDING
    with pytest.raises(OutboxError, match="journaled for several chains"):
        box.get(here.tx_hash)
