"""`provenance handoff …` against Anvil: send/accept/reject/cancel, sign offline and relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.accounts import Keystore, keystore_dir
from provenance.chain import dev_accounts
from tests.support import chain_time, free_port
from tests.support.cli import CARRIER, FARM, PROCESSOR, Cli, create_batch, register_all

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil


def test_send_accept_and_the_custodian_changes(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c)
    out = c.run("handoff", "send", bid, "--to", CARRIER, "--location", "0614141000012",
                "--account", "dev:1").output  # fmt: skip
    assert f"offered 1 batch(es) to {CARRIER}" in out
    assert c.json("batch", "show", bid)["pending_to"] == CARRIER
    c.run("handoff", "accept", bid, "--account", "dev:2")
    shown = c.json("batch", "show", bid)
    assert shown["custodian"] == CARRIER and shown["owner"] == FARM


def test_reject_and_cancel_leave_custody_with_the_sender(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c)
    c.run("handoff", "send", bid, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "reject", bid, "--reason", "damaged", "--account", "dev:2")
    assert c.json("batch", "show", bid)["pending_to"] is None
    c.run("handoff", "send", bid, "--to", CARRIER, "--transfer-ownership", "--account", "dev:1")
    c.run("handoff", "cancel", bid, "--account", "dev:1")
    shown = c.json("batch", "show", bid)
    assert shown["custodian"] == FARM and shown["pending_to"] is None


def test_send_and_accept_several_batches_in_one_transaction(c: Cli) -> None:
    register_all(c)
    ids = [create_batch(c, f"M{i}") for i in range(3)]
    c.run("handoff", "send", *ids, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "accept", *ids, "--account", "dev:2")
    assert all(c.json("batch", "show", b)["custodian"] == CARRIER for b in ids)


def test_sign_offline_then_relay_by_the_other_party(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    bid = create_batch(c)
    signed = tmp_path / "carrier.json"
    deadline = str(chain_time(c.chain) + 3600)
    c.run("handoff", "sign", bid, "--from", FARM, "--to", CARRIER, "--deadline", deadline,
          "-o", str(signed), "--account", "dev:2")  # fmt: skip
    assert '"role": "receiver"' in signed.read_text()
    out = c.run("handoff", "relay", str(signed), "--account", "dev:1").output
    assert "recorded handoff" in out
    assert c.json("batch", "show", bid)["custodian"] == CARRIER


def test_a_third_party_relays_both_signatures(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    bid = create_batch(c)
    deadline = str(chain_time(c.chain) + 3600)
    files = []
    for account, name in (("dev:1", "farm.json"), ("dev:3", "processor.json")):
        path = tmp_path / name
        c.run("handoff", "sign", bid, "--from", FARM, "--to", PROCESSOR, "--deadline", deadline,
              "-o", str(path), "--account", account)  # fmt: skip
        files.append(str(path))
    c.run("handoff", "relay", *files, "--account", "dev:7")
    assert c.json("batch", "show", bid)["custodian"] == PROCESSOR


def test_sign_fully_offline_with_nonce_chain_id_and_registry(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    bid = create_batch(c)
    path = tmp_path / "offline.json"
    c.run("handoff", "sign", bid, "--from", FARM, "--to", CARRIER, "--nonce", "0",
          "--chain-id", str(c.chain.chain_id), "--registry", c.deployment.registry,
          "--deadline", str(chain_time(c.chain) + 3600), "-o", str(path),
          "--account", "dev:2")  # fmt: skip
    c.run("handoff", "relay", str(path), "--account", "dev:1")
    assert c.json("batch", "show", bid)["custodian"] == CARRIER


def test_sign_with_a_keystore_while_the_chain_is_unreachable(
    c: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_all(c)
    bid = create_batch(c)
    Keystore(keystore_dir(c.home), work_factor=2**10).import_key(
        "carrier", dev_accounts(3)[2].key.hex(), "pw"
    )
    monkeypatch.setenv("PROVENANCE_PASSWORD", "pw")
    path = tmp_path / "offline.json"
    down = f"http://127.0.0.1:{free_port()}"
    c.run("--rpc", down, "handoff", "sign", bid, "--from", FARM, "--to", CARRIER,
          "--nonce", "0", "--chain-id", str(c.chain.chain_id),
          "--deadline", str(chain_time(c.chain) + 3600), "-o", str(path),
          "--account", "carrier")  # fmt: skip
    c.run("handoff", "relay", str(path), "--account", "dev:1")
    assert c.json("batch", "show", bid)["custodian"] == CARRIER


def test_accept_reject_and_cancel_anchor_their_documents(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    bid = create_batch(c)
    receipt, refusal, recall = (tmp_path / n for n in ("receipt.pdf", "refusal.pdf", "w.pdf"))
    for path in (receipt, refusal, recall):
        path.write_bytes(path.name.encode())
    c.run("handoff", "send", bid, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "reject", bid, "--reason", "late", "--doc", str(refusal), "--account", "dev:2")
    c.run("handoff", "send", bid, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "cancel", bid, "--doc", str(recall), "--account", "dev:1")
    c.run("handoff", "send", bid, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "accept", bid, "--doc", str(receipt), "--account", "dev:2")
    result = c.run("verify", bid, "--doc", str(receipt), "--doc", str(refusal), "--doc",
                   str(recall), "--json")  # fmt: skip
    import json

    checks = json.loads(result.stdout)["documents"]
    assert [bool(d["matched"]) for d in checks] == [True, True, True]
    assert "acceptance" in checks[0]["matched"][0]
