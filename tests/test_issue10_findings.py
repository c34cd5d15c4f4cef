"""Issue 10's findings, one test each: the one line the user reads, the exit code, and that nothing
was lost, replayed or changed. (The misleading messages that are plain input refusals are rows
of the table in tests/test_cli_errors.py; the rest are here.)"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account.signers.local import LocalAccount

from provenance import node
from provenance.accounts import Keystore, keystore_dir
from provenance.chain import Chain, connect, dev_accounts
from provenance.cli import cli
from provenance.compiler import load_artifact
from provenance.gs1 import batch_id
from provenance.outbox import Outbox
from provenance.transactions import Transactor
from tests.support import PROJECT_ROOT, chain_time, free_port
from tests.support.cli import (
    CARRIER,
    CERTIFIER,
    FARM,
    FARM_PREFIX,
    GTIN,
    PROCESSOR,
    Cli,
    create_batch,
    register_all,
)

PROVENANCE = [sys.executable, "-m", "provenance"]


def run(*args: str, expect: int | None = 0, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input)
    if expect is not None:
        assert result.exit_code == expect, f"{args}: {result.output}\n{result.exception!r}"
    return result


def only_error(result: Result) -> str:
    """The one `Error:` line of a failed command (and there is exactly one)."""
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory of its own, no --rpc: commands use the node recorded there."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("PROVENANCE_HOME", str(root))
    for name in ("PROVENANCE_RPC", "PROVENANCE_ACCOUNT", "PROVENANCE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    yield root
    node.stop(root, hard=True)


def set_up_node(root: Path) -> tuple[int, str]:
    """A recorded Anvil with the contracts, the farm and the carrier; returns (port, url)."""
    port = free_port()
    info = node.start("anvil", port, root, fresh=True)
    run("deploy", "--account", "dev:0")
    for address, role in ((FARM, "producer"), (CARRIER, "carrier")):
        run("participant", "register", address, "--roles", role, "--account", "dev:0")
    run("participant", "prefix", "assign", FARM, FARM_PREFIX, "--account", "dev:0")
    return port, info.url


def created(lot: str) -> str:
    data = run("batch", "create", "--gtin", GTIN, "--lot", lot, "-q", "10", "-a", "dev:1",
               "--json").stdout  # fmt: skip
    return str(json.loads(data)["batchId"])


def handoffs_on(url: str, root: Path) -> int:
    chain = connect(url)
    abi = load_artifact("ProvenanceRegistry").abi
    from provenance.deploy import read_record

    record = read_record(chain.identity, root)
    assert record is not None
    contract = chain.w3.eth.contract(address=record.registry, abi=abi)
    return len(contract.events.HandoffInitiated.get_logs(from_block=0))


# ------------------------------------------------------------------ 1. chain identity


@pytest.mark.anvil
def test_1_a_fresh_chain_with_the_same_id_never_gets_the_old_chains_transactions(
    home: Path,
) -> None:
    port, url = set_up_node(home)
    bid = created("OLD-1")
    node.stop(home)
    queued = run("handoff", "send", bid, "--to", CARRIER, "-a", "dev:1")
    assert "queued in the outbox" in queued.output
    [old] = [e for e in Outbox(home / "outbox").entries() if e.status == "pending"]

    node.start("anvil", port, home, fresh=True)  # same chain id, new genesis block
    set_up_node_again = run("deploy", "--account", "dev:0", "--force")
    assert set_up_node_again.exit_code == 0
    for address, role in ((FARM, "producer"), (CARRIER, "carrier")):
        run("participant", "register", address, "--roles", role, "--account", "dev:0")
    run("participant", "prefix", "assign", FARM, FARM_PREFIX, "--account", "dev:0")
    farm_nonce = connect(url).w3.eth.get_transaction_count(FARM)
    started = time.monotonic()
    fresh = created("NEW-1")  # the next write of the same key: nothing of the old chain replayed
    assert time.monotonic() - started < 10
    chain = connect(url)
    assert chain.w3.eth.get_transaction_count(FARM) == farm_nonce + 1
    assert handoffs_on(url, home) == 0
    assert fresh != bid

    status = run("outbox", "status")
    assert "ANOTHER chain with the same id" in status.output and old.tx_hash in status.output
    flushed = run("outbox", "flush")  # re-checks this chain's confirmed entries, sends nothing
    assert "resubmitted" not in flushed.output and old.tx_hash not in flushed.output
    stale = Outbox(home / "outbox").elsewhere(chain.identity)  # the old chain's, all of them
    assert old in stale and len(stale) > 1
    assert f"{len(stale)} open entries belong to another chain with chain id 31337: never " in (
        flushed.output
    )
    assert "retry" not in flushed.output
    assert Outbox(home / "outbox").get(old.tx_hash).status == "pending"  # nothing lost
    assert handoffs_on(url, home) == 0  # nothing replayed

    refused = run("outbox", "drop", "--other-chains", expect=1)
    assert only_error(refused) == (
        f"Error: not dropping {len(stale)} entries: no terminal to confirm on; pass --yes"
    )
    dropped = run("outbox", "drop", "--other-chains", "--yes")
    assert f"dropped {len(stale)} entries (moved to" in dropped.output
    assert Outbox(home / "outbox").entries(statuses=["pending"]) == []
    assert Outbox(home / "outbox").elsewhere(chain.identity) == []
    assert list((home / "outbox" / ".dropped").rglob(f"*{old.tx_hash}.json"))
    assert "ANOTHER chain" not in run("outbox", "status").output


# ------------------------------------------------------------------ 2. node state


@pytest.mark.anvil
def test_2_a_damaged_state_file_gets_the_way_out_and_nothing_is_lost(home: Path) -> None:
    port, _url = set_up_node(home)
    bid = created("KEEP-1")
    node.stop(home)  # a good snapshot, the previous one kept beside it
    node.start("anvil", port, home)
    node.stop(home)
    state = home / "node" / "anvil-state.json"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])  # a cut-short write

    refused = run("node", "start", "--port", str(port), expect=1)
    line = only_error(refused)
    assert f"the node's state file {state} is damaged (not complete JSON" in line
    assert "`provenance node start --from-previous`" in line and "--fresh" in line
    assert "Traceback" not in refused.output and node.status(home) is None

    run("node", "start", "--port", str(port), "--from-previous")
    shown = json.loads(run("batch", "show", bid, "--json").stdout)
    assert shown["custodian"] == FARM  # the batch survived


# ------------------------------------------------------------------ 3. recorded node down


@pytest.mark.anvil
def test_3_a_dead_recorded_node_means_chain_down_queue_never_the_embedded_chain(
    home: Path,
) -> None:
    port, url = set_up_node(home)
    bid = created("DOWN-1")
    node.stop(home)

    queued = run("handoff", "send", bid, "--to", CARRIER, "-a", "dev:1")
    assert queued.output.startswith(f"chain unreachable at {url}: signed transaction 0x")
    assert "queued in the outbox" in queued.output and "embedded" not in queued.output
    [entry] = [e for e in Outbox(home / "outbox").entries() if e.status == "pending"]

    read = run("batch", "show", bid, expect=1)
    assert only_error(read).startswith(f"Error: the anvil node recorded in {home / 'node'} ({url})")
    assert "is not running: start it with `provenance node start`" in read.output

    flush = run("outbox", "flush", expect=1)
    line = only_error(flush)
    assert "is not running" in line
    assert "1 transaction(s) wait in the outbox for chain id 31337" in line
    assert "nothing to flush" not in flush.output

    node.start("anvil", port, home)
    again = run("outbox", "flush")
    assert f"resubmitted: {entry.tx_hash}" in again.output
    assert json.loads(run("batch", "show", bid, "--json").stdout)["pending_to"] == CARRIER
    assert handoffs_on(url, home) == 1  # exactly once
    run("outbox", "flush")
    assert handoffs_on(url, home) == 1


# ------------------------------------------------------------------ 4. exact money


@pytest.mark.anvil
def test_4_a_price_is_stored_to_the_wei(c: Cli) -> None:
    register_all(c)
    deadline = str(chain_time(c.chain) + 7 * 86400)
    c.run("agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN,
          "-q", "10", "--price", "12345678901234567890123456789wei", "--deadline", deadline,
          "--grace", "00", "-a", "dev:3")  # fmt: skip
    shown = c.json("agreement", "show", "1")
    assert shown["terms"]["price"] == 12345678901234567890123456789  # not …790
    assert shown["terms"]["grace_period"] == 0  # `--grace 00` is `--grace 0`
    assert "12345678901.234567890123456789 ETH" in c.run("agreement", "show", "1").output


# ------------------------------------------------------------------ 5. absurd times


def _other_client(c: Cli, sender: LocalAccount, call: Any) -> None:
    """What another client may write: straight through web3, no validation of ours."""
    w3 = c.chain.w3
    tx = call.build_transaction({"from": sender.address, "nonce":
                                 w3.eth.get_transaction_count(sender.address)})  # fmt: skip
    receipt = c.chain.wait_for_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1


@pytest.mark.anvil
def test_5_readers_render_any_time_another_client_wrote(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c)
    keys = dev_accounts(6)
    registry = c.chain.w3.eth.contract(
        address=c.deployment.registry, abi=load_artifact("ProvenanceRegistry").abi
    )
    claim, evidence = b"ORGANIC".ljust(32, b"\0"), b"\1" * 32
    attest = registry.functions.attest(bytes.fromhex(bid[2:]), claim, evidence, 0, 1830000000000)
    _other_client(c, keys[5], attest)
    agreements = c.chain.w3.eth.contract(
        address=c.deployment.agreements, abi=load_artifact("SupplyAgreements").abi
    )
    from provenance.records import AgreementTerms

    terms = AgreementTerms(PROCESSOR, FARM, CERTIFIER, GTIN, 10, "KGM", 10**18, 2**64 - 1)
    _other_client(c, keys[3], agreements.functions.propose(terms.to_tuple()))

    report = c.run("verify", bid, expect=None)
    assert report.exit_code in (0, 1), report.output
    assert "1830000000000" in report.output and "(unix time out of" in report.output
    assert "out of range" not in report.output.split("Attestations")[0]  # no error line
    assert c.run("agreement", "list").output.count("│") > 0  # the table renders
    assert c.json("agreement", "list")[0]["terms"]["delivery_deadline"] == 2**64 - 1
    shown = c.run("agreement", "show", "1").output
    assert "deadline   18446744073709551615 (unix time out of range)" in shown


# ------------------------------------------------------------------ 6. passwords


@pytest.fixture
def keystore_cli(c: Cli) -> Cli:
    Keystore(keystore_dir(c.home), work_factor=2**10).import_key(
        "farmer", dev_accounts(2)[1].key.hex(), "right"
    )
    register_all(c)
    return c


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.anvil
def test_6a_a_missing_password_file_is_not_a_corrupt_keystore(keystore_cli: Cli) -> None:
    c = keystore_cli
    store = keystore_dir(c.home) / "farmer.json"
    before, blocks = _digest(store), c.chain.w3.eth.block_number
    result = c.run("--password-file", str(c.home / "nope.txt"), "batch", "create", "--gtin", GTIN,
                   "--lot", "PW-1", "-q", "1", "-a", "farmer", expect=1)  # fmt: skip
    line = only_error(result)
    assert line.startswith("Error: cannot read the password file ")
    assert "No such file or directory (the keystore was not touched)" in line
    assert "corrupt" not in result.output and "damaged" not in result.output
    assert _digest(store) == before and c.chain.w3.eth.block_number == blocks


def _subprocess_env(c: Cli) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env |= {"PROVENANCE_HOME": str(c.home), "PROVENANCE_RPC": c.chain.rpc,
            "PYTHONPATH": str(PROJECT_ROOT)}  # fmt: skip
    return env


@pytest.mark.anvil
def test_6b_no_terminal_says_so(keystore_cli: Cli) -> None:
    c = keystore_cli
    store = keystore_dir(c.home) / "farmer.json"
    before, blocks = _digest(store), c.chain.w3.eth.block_number
    entries = len(Outbox(c.home / "outbox").entries())
    done = subprocess.run(
        [*PROVENANCE, "batch", "create", "--gtin", GTIN, "--lot", "PW-2", "-q", "1", "-a",
         "farmer"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_subprocess_env(c),
        timeout=120, start_new_session=True,  # no controlling terminal either
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    [line] = [text for text in done.stderr.splitlines() if text.startswith("Error:")]
    assert "there is no terminal to ask on and standard input gave none: pass --password-file" in (
        line
    )
    assert "corrupt" not in done.stderr and "Traceback" not in done.stderr
    assert _digest(store) == before and c.chain.w3.eth.block_number == blocks
    assert len(Outbox(c.home / "outbox").entries()) == entries  # nothing signed


@pytest.mark.anvil
def test_6c_ctrl_c_at_the_password_prompt_is_an_interruption(keystore_cli: Cli) -> None:
    c = keystore_cli
    store = keystore_dir(c.home) / "farmer.json"
    before, blocks = _digest(store), c.chain.w3.eth.block_number
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on a terminal
        os.environ.clear()
        os.environ.update(_subprocess_env(c))
        os.execv(sys.executable, [*PROVENANCE, "batch", "create", "--gtin", GTIN, "--lot", "PW-3",
                                  "-q", "1", "-a", "farmer"])  # fmt: skip
    output = b""
    deadline = time.monotonic() + 60
    while b"password" not in output.lower() and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            output += os.read(fd, 4096)
    os.write(fd, b"\x03")  # Ctrl-C
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 130, text
    assert "interrupted at the password prompt: nothing was signed or sent" in text
    assert "corrupt" not in text and "Aborted!" not in text
    assert _digest(store) == before and c.chain.w3.eth.block_number == blocks


# ------------------------------------------------------------------ 7. time checks


@pytest.mark.anvil
def test_7_a_deadline_of_now_is_refused_before_anything_is_signed(c: Cli) -> None:
    register_all(c)
    blocks, entries = c.chain.w3.eth.block_number, len(Outbox(c.home / "outbox").entries())
    result = c.run("agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin",
                   GTIN, "-q", "1", "--price", "1eth", "--deadline", "now", "-a", "dev:3",
                   expect=1)  # fmt: skip
    line = only_error(result)
    assert "the delivery deadline" in line and "is not in the future (now" in line
    assert "gas" not in line
    assert c.chain.w3.eth.block_number == blocks
    assert len(Outbox(c.home / "outbox").entries()) == entries


@pytest.mark.anvil
def test_7_expired_windows_are_refused_for_every_time_dependent_write(c: Cli) -> None:
    register_all(c)
    deadline = chain_time(c.chain) + 3600
    c.run("agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN,
          "-q", "10", "--price", "1eth", "--deadline", str(deadline), "-a", "dev:3")  # fmt: skip
    c.run("agreement", "accept", "1", "-a", "dev:1")
    c.chain.advance_time(7200)
    blocks = c.chain.w3.eth.block_number
    late = c.run("agreement", "fund", "1", "-a", "dev:3", expect=1)
    assert "agreement 1 can no longer be funded: its delivery deadline" in only_error(late)
    assert c.chain.w3.eth.block_number == blocks


@pytest.mark.anvil
def test_7_a_queued_write_that_reverts_on_flush_says_why(home: Path) -> None:
    """Offline, nothing can be checked before signing; when the queued write reverts on the
    chain, `outbox flush` decodes the revert instead of saying only "reverted in block N"."""
    port, url = set_up_node(home)
    bid = created("REV-1")
    node.stop(home)
    stranger = dev_accounts(7)[6].address  # never registered
    queued = run("handoff", "send", bid, "--to", stranger, "-a", "dev:1")
    assert "queued in the outbox" in queued.output
    [entry] = Outbox(home / "outbox").entries(statuses=["pending"])

    node.start("anvil", port, home)
    flushed = run("outbox", "flush", expect=1)
    assert only_error(flushed) == (
        "Error: 1 failed (see `provenance outbox status`; discard with `provenance outbox drop "
        "TX…`)"
    )
    [failed] = [line for line in flushed.output.splitlines() if line.startswith("failed:")]
    assert failed.startswith(f"failed: {entry.tx_hash}: reverted in block ")
    assert f"{stranger} is not a registered participant" in failed, failed
    stored = Outbox(home / "outbox").get(entry.tx_hash)
    assert stored.status == "failed" and stored.error in failed
    assert handoffs_on(url, home) == 0  # nothing handed off
    shown = json.loads(run("batch", "show", bid, "--json").stdout)
    assert shown["custodian"] == FARM and shown["pending_to"] is None
    again = run("outbox", "flush")  # a failed entry is not sent again
    assert entry.tx_hash not in again.output and handoffs_on(url, home) == 0


# ------------------------------------------------------------------ misleading or raw messages


def test_a_silent_endpoint_takes_the_time_the_message_says(
    silent_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.setenv("PROVENANCE_RPC_TIMEOUT", "2")
    started = time.monotonic()
    result = run("--rpc", silent_endpoint, "batch", "show", "0x" + "ab" * 32, expect=1)
    elapsed = time.monotonic() - started
    assert f"the chain at {silent_endpoint} did not answer within 2 s" in only_error(result)
    assert elapsed < 4, elapsed


def test_ctrl_c_during_verify_exits_130_not_a_verdict(silent_endpoint: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env |= {"PROVENANCE_HOME": str(tmp_path), "PROVENANCE_RPC_TIMEOUT": "60",
            "PYTHONPATH": str(PROJECT_ROOT)}  # fmt: skip
    process = subprocess.Popen(
        [*PROVENANCE, "--rpc", silent_endpoint, "verify", "0x" + "ab" * 32],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    time.sleep(3)  # importing, then waiting on the silent endpoint
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    [line] = [text for text in err.splitlines() if text.startswith("Error:")]
    assert line.startswith("Error: interrupted: nothing was sent"), err
    assert "Traceback" not in err and "WARNING" not in out


@pytest.mark.anvil
def test_ctrl_c_after_a_write_was_sent_says_it_was_sent(c: Cli, anvil_chain: Chain) -> None:
    register_all(c)
    w3 = anvil_chain.w3
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        process = subprocess.Popen(
            [*PROVENANCE, "batch", "create", "--gtin", GTIN, "--lot", "SENT-1", "-q", "1",
             "-a", "dev:1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_subprocess_env(c),
        )  # fmt: skip
        box = Outbox(c.home / "outbox")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not box.entries(statuses=["sent"]):
            time.sleep(0.1)
        [entry] = box.entries(statuses=["sent"])
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert process.returncode == 130, err
    [line] = [text for text in err.splitlines() if text.startswith("Error:")]
    assert line.startswith(f"Error: interrupted after signing {entry.tx_hash}: journaled in the")
    assert "Traceback" not in err
    assert "Aborted!" not in err
    c.run("outbox", "flush")
    assert Outbox(c.home / "outbox").get(entry.tx_hash).status in ("confirmed", "final")
    assert c.json("batch", "show", batch_id(GTIN, "SENT-1"))["custodian"] == FARM


@pytest.mark.anvil
def test_the_same_key_from_two_data_directories_is_not_a_raw_nonce_error(
    c: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_all(c)
    from provenance.registry import RegistryClient

    elsewhere = tmp_path / "other-home"
    other = Transactor(c.chain, dev_accounts(2)[1], Outbox(elsewhere / "outbox"), root=elsewhere)
    original = Transactor._allocate_nonce
    raced: list[int] = []

    def racing(self: Transactor) -> int:
        nonce = original(self)
        if self is not other and not raced:
            raced.append(nonce)  # the other data directory sends right now
            RegistryClient.from_deployment(c.chain, c.deployment, other).create_batch(
                GTIN, "OTHER-1", 1
            )
        return nonce

    monkeypatch.setattr(Transactor, "_allocate_nonce", racing)
    result = c.run("batch", "create", "--gtin", GTIN, "--lot", "MINE-1", "-q", "1", "-a", "dev:1")
    assert raced and "created batch: tx 0x" in result.output
    assert "-32003" not in result.output and "nonce too low" not in result.output
    for lot in ("MINE-1", "OTHER-1"):
        assert c.json("batch", "show", batch_id(GTIN, lot))["custodian"] == FARM


@pytest.mark.anvil
def test_the_advertised_short_digital_link_works(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c, "SHORT-1")
    assert c.json("batch", "show", f"01/{GTIN}/10/SHORT-1")["batch_id"] == bid
    assert c.json("batch", "show", f"01/{GTIN[1:]}/10/SHORT-1")["batch_id"] == bid


def test_account_list_shows_a_truncated_keystore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    store = Keystore(keystore_dir(tmp_path), work_factor=2**4)
    store.import_key("alice", dev_accounts(1)[0].key.hex(), "pw")
    store.create("bob", "pw")
    path = store.path("bob")
    path.write_text(path.read_text()[:50])
    result = run("account", "list")
    assert "alice" in result.output and "bob" in result.output
    assert "DAMAGED: truncated or not JSON" in result.output
    assert "warning: 1 keystore file(s) cannot be used (bob): restore them from your backup" in (
        result.output
    )
    listed = {a["name"]: a for a in json.loads(run("account", "list", "--json").stdout)}
    assert listed["bob"]["problem"] and not listed["alice"]["problem"]


def test_docs_hash_streams_a_big_file(tmp_path: Path) -> None:
    import tracemalloc

    big = tmp_path / "big.iso"
    with open(big, "wb") as handle:
        handle.truncate(512 * 1024 * 1024)  # sparse
    tracemalloc.start()
    result = run("docs", "hash", str(big))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.output.startswith("0x") and peak < 16 * 1024 * 1024, peak
