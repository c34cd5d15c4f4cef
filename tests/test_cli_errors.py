# ruff: noqa: E501  (the error table keeps one case per line)
"""Bad input, as a table: every case exits non-zero with a one-line message that says what went
wrong, and changes nothing (no block mined, nothing signed into the outbox, no file written).

One deployment per module (the cases must not change state — that is what they assert); the
module's chain changes are rolled back at the end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.accounts import Keystore, keystore_dir
from provenance.chain import Chain, dev_accounts
from provenance.cli import cli
from provenance.deploy import Deployment
from provenance.gs1 import batch_id
from provenance.registry import RegistryClient
from provenance.signing import sign_handoff
from tests.support import chain_time, free_port
from tests.support.cli import (
    CARRIER,
    CERTIFIER,
    FARM,
    GTIN,
    JAM_GTIN,
    OPERATOR,
    PROCESSOR,
    Cli,
    make_cli,
    register_all,
)

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

STRANGER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # dev:6, never registered
ZERO = "0x" + "0" * 40
BAD_CHECKSUM = "0x70997970c51812dc3a010c7d01b50e0d17dc79C8"
B1 = batch_id(GTIN, "B1")  # farm's, idle
B2 = batch_id(GTIN, "B2")  # farm → carrier pending
B3 = batch_id(GTIN, "B3")  # split: consumed
B4 = batch_id(GTIN, "B4")  # recalled
B5, B6 = batch_id(GTIN, "B5"), batch_id(GTIN, "B6")  # the farm's, idle: mergeable
UNKNOWN = batch_id(GTIN, "NEVER")


@dataclass
class World:
    cli: Cli
    files: Path
    homes: dict[str, Path]


@pytest.fixture(scope="module")
def world(anvil_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    snap = anvil_chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    tmp = tmp_path_factory.mktemp("cli-errors")
    with pytest.MonkeyPatch.context() as mp:
        c = make_cli(anvil_chain, tmp, mp)
        register_all(c)
        for lot in ("B1", "B2", "B3", "B4", "B5", "B6"):
            c.run("batch", "create", "--gtin", GTIN, "--lot", lot, "-q", "100", "-a", "dev:1")
        c.run("handoff", "send", B2, "--to", CARRIER, "-a", "dev:1")
        c.run("batch", "split", B3, "--part", "B3-A:50", "--part", "B3-B:50", "-a", "dev:1")
        c.run("batch", "recall", B4, "--reason", "test", "-a", "dev:1")
        deadline = str(chain_time(anvil_chain) + 7 * 86400)
        c.run("agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN,
              "-q", "10", "--price", "1eth", "--deadline", deadline, "-a", "dev:3")  # fmt: skip
        Keystore(keystore_dir(c.home), work_factor=2**10).create("alice", "right")
        files = tmp / "files"
        files.mkdir()
        _signed_files(anvil_chain, c.deployment, files)
        homes = _homes(tmp, c.deployment)
        yield World(c, files, homes)
    anvil_chain.w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def _signed_files(chain: Chain, deployment: Deployment, files: Path) -> None:
    keys = dev_accounts(4)
    registry = RegistryClient.from_deployment(chain, deployment)
    handoff = registry.make_handoff(B1, CARRIER, from_=FARM)
    now = chain_time(chain)

    def save(name: str, account_index: int, **kw: int) -> Path:
        signed = sign_handoff(
            keys[account_index], handoff, chain_id=kw.get("chain_id", chain.chain_id),
            registry=deployment.registry, nonce=0, deadline=kw.get("deadline", now + 3600),
            now=kw.get("deadline", now + 3600) - 1,  # "expired.json" was signed in time
        )  # fmt: skip
        path = files / name
        signed.save(path)
        return path

    save("expired.json", 2, deadline=int(time.time()) - 60)
    save("wrong-chain.json", 2, chain_id=1)
    save("receiver.json", 2)
    tampered = json.loads(save("tampered.json", 2).read_text())
    tampered["handoff"]["location"] = 614141000012
    (files / "tampered.json").write_text(json.dumps(tampered))
    (files / "garbage.json").write_text("{not json")
    (files / "bad.key").write_text("0x1234\n")
    (files / "right-pw").write_text("right\n")  # alice's: she holds no ETH
    (files / "bad.csv").write_text(f"gtin,lot\n{GTIN},X1\n")


def _homes(tmp: Path, deployment: Deployment) -> dict[str, Path]:
    homes = {}
    for name in ("empty", "wrong-chain", "no-code", "malformed"):
        homes[name] = tmp / f"home-{name}"
        (homes[name] / "deployments").mkdir(parents=True)
    record = deployment.to_json()
    (homes["wrong-chain"] / "deployments" / "1.json").write_text(
        json.dumps({**record, "chain_id": 1})
    )
    nocode = {**record, "registry": STRANGER, "agreements": STRANGER}
    (homes["no-code"] / "deployments" / f"{deployment.chain_id}.json").write_text(
        json.dumps(nocode)
    )
    assert deployment.identity is not None
    (homes["malformed"] / "deployments" / f"{deployment.identity.key}.json").write_text("[1, 2]")
    homes["unwritable"] = tmp / "files" / "bad.csv" / "home"  # under a file: cannot be created
    return homes


def _fingerprint(world: World, home: Path) -> tuple[object, ...]:
    chain = world.cli.chain
    files = sorted(
        str(p.relative_to(home)) for p in home.rglob("*")
        if p.is_file() and "locks" not in p.parts and "cache" not in p.parts
    ) if home.is_dir() else []  # fmt: skip
    produced = sorted(p.name for p in world.files.iterdir())
    return (chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(OPERATOR), files,
            produced)  # fmt: skip


F = "{files}"
DOWN = f"http://127.0.0.1:{free_port()}"

# (id, arguments, exit code, message substring, data directory)
CASES: list[tuple[str, list[str], int, str, str]] = [
    # addresses
    ("malformed-address", ["participant", "register", "0x1234", "--roles", "producer", "-a", "dev:0"], 2, "expected 0x followed by 40 hex digits", "main"),
    ("zero-address", ["participant", "register", ZERO, "--roles", "producer", "-a", "dev:0"], 2, "zero address", "main"),
    ("bad-checksum", ["participant", "register", BAD_CHECKSUM, "--roles", "producer", "-a", "dev:0"], 2, "bad checksum", "main"),
    ("unregistered-show", ["participant", "show", STRANGER], 1, "not a registered participant", "main"),
    ("unregistered-recipient", ["handoff", "send", B1, "--to", STRANGER, "-a", "dev:1"], 1, "not a registered participant", "main"),
    ("unregistered-creator", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "dev:6"], 1, "not a registered participant", "main"),
    ("suspend-unregistered", ["participant", "suspend", STRANGER, "-a", "dev:0"], 1, "not a registered participant", "main"),
    # participants
    ("bad-role-name", ["participant", "register", STRANGER, "--roles", "chef", "-a", "dev:0"], 2, "unknown role 'chef'", "main"),
    ("bad-role-mask", ["participant", "register", STRANGER, "--roles", "64", "-a", "dev:0"], 2, "invalid roles mask", "main"),
    ("bad-gln", ["participant", "register", STRANGER, "--roles", "producer", "--gln", "0614141000013", "-a", "dev:0"], 2, "wrong check digit", "main"),
    ("already-registered", ["participant", "register", FARM, "--roles", "producer", "-a", "dev:0"], 1, "already registered", "main"),
    ("reverted-transaction-not-admin", ["participant", "register", STRANGER, "--roles", "producer", "-a", "dev:1"], 1, "only the operator", "main"),
    ("reinstate-active", ["participant", "reinstate", FARM, "-a", "dev:0"], 1, "already active", "main"),
    ("migrate-to-a-participant", ["participant", "migrate", FARM, CARRIER, "-a", "dev:0"], 1, "is already registered", "main"),
    ("migrate-to-itself", ["participant", "migrate", FARM, FARM, "-a", "dev:0"], 1, "to itself", "main"),
    ("prefix-too-short", ["participant", "prefix", "assign", CARRIER, "123", "-a", "dev:0"], 2, "expected 4-12", "main"),
    ("prefix-coupon", ["participant", "prefix", "assign", CARRIER, "9912345", "-a", "dev:0"], 2, "coupon", "main"),
    ("prefix-gtin8-space", ["participant", "prefix", "assign", CARRIER, "000001234", "-a", "dev:0"], 2, "GTIN-8 space", "main"),
    ("prefix-overlap", ["participant", "prefix", "assign", CARRIER, "950600", "-a", "dev:0"], 1, "overlaps an assigned one", "main"),
    ("prefix-not-operator", ["participant", "prefix", "assign", CARRIER, "7012345", "-a", "dev:1"], 1, "only the operator", "main"),
    ("prefix-revoke-unassigned", ["participant", "prefix", "revoke", "7012345", "-a", "dev:0"], 1, "is not assigned", "main"),
    # GTIN, lot, quantity, unit
    ("gtin-check-digit", ["batch", "create", "--gtin", "09506000134353", "--lot", "X1", "-q", "1", "-a", "dev:1"], 2, "wrong check digit", "main"),
    ("gtin-letters", ["batch", "create", "--gtin", "95060001343AB", "--lot", "X1", "-q", "1", "-a", "dev:1"], 2, "only the digits 0-9", "main"),
    ("lot-empty", ["batch", "create", "--gtin", GTIN, "--lot", "", "-q", "1", "-a", "dev:1"], 2, "must not be empty", "main"),
    ("lot-too-long", ["batch", "create", "--gtin", GTIN, "--lot", "L" * 21, "-q", "1", "-a", "dev:1"], 2, "at most 20", "main"),
    ("lot-bad-char", ["batch", "create", "--gtin", GTIN, "--lot", "LOT 1", "-q", "1", "-a", "dev:1"], 2, "GS1", "main"),
    ("quantity-zero", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "0", "-a", "dev:1"], 2, "greater than zero", "main"),
    ("quantity-text", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "lots", "-a", "dev:1"], 2, "whole number", "main"),
    ("bad-uom", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "--uom", "kilos", "-a", "dev:1"], 2, "unit of measure", "main"),
    ("batch-exists", ["batch", "create", "--gtin", GTIN, "--lot", "B1", "-q", "1", "-a", "dev:1"], 1, "already exists", "main"),
    ("missing-role", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "dev:2"], 1, "lacks the role", "main"),
    # batches
    ("unknown-batch", ["batch", "show", UNKNOWN], 1, "unknown batch", "main"),
    ("malformed-batch-id", ["batch", "show", "0x12"], 2, "invalid batch", "main"),
    ("bad-digital-link", ["batch", "show", "https://id.gs1.org/01/12345678901234/10/X"], 2, "check digit", "main"),
    ("split-does-not-add-up", ["batch", "split", B1, "--part", "B1-A:50", "--part", "B1-B:40", "-a", "dev:1"], 1, "do not add up", "main"),
    ("split-bad-part", ["batch", "split", B1, "--part", "A50", "-a", "dev:1"], 2, "LOT:QUANTITY", "main"),
    ("split-not-custodian", ["batch", "split", B1, "--part", "B1-A:100", "-a", "dev:2"], 1, "custodian", "main"),
    ("split-consumed", ["batch", "split", B3, "--part", "B3-C:100", "-a", "dev:1"], 1, "is consumed", "main"),
    ("split-lot-not-extended", ["batch", "split", B1, "--part", "X1:100", "-a", "dev:1"], 1, "lot X1 does not extend B1", "main"),
    ("merge-lot-not-extended", ["batch", "merge", B1, B2, "--lot", "M", "-a", "dev:1"], 1, "lot M does not extend B1", "main"),
    ("create-without-prefix", ["batch", "create", "--gtin", JAM_GTIN, "--lot", "X1", "-q", "1", "-a", "dev:1"], 1, "does not hold the GS1 company prefix of GTIN 09521234000013", "main"),
    ("create-many-missing-file", ["batch", "create-many", F + "/nope.csv", "-a", "dev:1"], 2, "does not exist", "main"),
    ("create-many-bad-row", ["batch", "create-many", F + "/bad.csv", "-a", "dev:1"], 1, "bad.csv, entry 1: missing quantity", "main"),
    ("lift-recall-not-operator", ["batch", "lift-recall", B4, "--reason", "x", "-a", "dev:1"], 1, "only the operator", "main"),
    ("lift-recall-not-recalled", ["batch", "lift-recall", B1, "--reason", "x", "-a", "dev:0"], 1, "is not recalled", "main"),
    ("merge-one-batch", ["batch", "merge", B1, "--lot", "M", "-a", "dev:1"], 1, "at least two", "main"),
    ("transform-bad-output", ["batch", "transform", B1, "--output", "X:1", "-a", "dev:3"], 2, "GTIN:LOT:QUANTITY", "main"),
    ("recall-not-creator", ["batch", "recall", B1, "--reason", "x", "-a", "dev:2"], 1, "recall", "main"),
    ("recall-twice", ["batch", "recall", B4, "--reason", "x", "-a", "dev:1"], 1, "recalled", "main"),
    # handoffs
    ("not-the-custodian", ["handoff", "send", B1, "--to", PROCESSOR, "-a", "dev:2"], 1, "custodian", "main"),
    ("handoff-to-self", ["handoff", "send", B1, "--to", FARM, "-a", "dev:1"], 1, "itself", "main"),
    ("handoff-recalled", ["handoff", "send", B4, "--to", CARRIER, "-a", "dev:1"], 1, "recalled", "main"),
    ("handoff-already-pending", ["handoff", "send", B2, "--to", PROCESSOR, "-a", "dev:1"], 1, "pending", "main"),
    ("accept-without-pending", ["handoff", "accept", B1, "-a", "dev:2"], 1, "no pending handoff", "main"),
    ("accept-not-recipient", ["handoff", "accept", B2, "-a", "dev:3"], 1, "recipient", "main"),
    ("bad-biz-step", ["handoff", "send", B1, "--to", CARRIER, "--biz-step", "flying", "-a", "dev:1"], 2, "flying", "main"),
    ("expired-signed-handoff", ["handoff", "relay", F + "/expired.json", "-a", "dev:1"], 1, "expired", "main"),
    ("tampered-signature-file", ["handoff", "relay", F + "/tampered.json", "-a", "dev:1"], 1, "signature does not match", "main"),
    ("signed-for-another-chain", ["handoff", "relay", F + "/wrong-chain.json", "-a", "dev:1"], 1, "chain id 1", "main"),
    ("signed-file-not-json", ["handoff", "relay", F + "/garbage.json", "-a", "dev:1"], 1, "not valid JSON", "main"),
    ("relay-missing-signature", ["handoff", "relay", F + "/receiver.json", "-a", "dev:7"], 1, "must sign", "main"),
    ("sign-not-a-party", ["handoff", "sign", B1, "--from", FARM, "--to", CARRIER, "-o", F + "/x.json", "-a", "dev:7"], 1, "neither the sender", "main"),
    # attestations
    ("attest-not-certifier", ["attest", "add", B1, "--claim", "ORGANIC", "-a", "dev:1"], 1, "lacks the role", "main"),
    ("attest-bad-validity", ["attest", "add", B1, "--claim", "ORGANIC", "--valid-from", "+2d", "--valid-until", "+1d", "-a", "dev:5"], 1, "valid", "main"),
    ("attest-bad-time", ["attest", "add", B1, "--claim", "ORGANIC", "--valid-until", "soon", "-a", "dev:5"], 2, "invalid --valid-until", "main"),
    ("attest-bad-doc-hash", ["attest", "add", B1, "--claim", "ORGANIC", "--doc-hash", "0x12", "-a", "dev:5"], 2, "invalid --doc-hash", "main"),
    # agreements
    ("unknown-agreement", ["agreement", "show", "99"], 1, "99", "main"),
    ("agreement-id-zero", ["agreement", "accept", "0", "-a", "dev:1"], 2, "greater than zero", "main"),
    ("accept-own-proposal", ["agreement", "accept", "1", "-a", "dev:3"], 1, "only the party that did not propose", "main"),
    ("fund-before-accept", ["agreement", "fund", "1", "-a", "dev:3"], 1, "is proposed", "main"),
    ("propose-both-sides", ["agreement", "propose", "--supplier", FARM, "--buyer", CARRIER, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "-a", "dev:3"], 1, "exactly one", "main"),
    ("propose-bad-price", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "cheap", "--deadline", "+1d", "-a", "dev:3"], 2, "Invalid value for '--price': invalid --price 'cheap'", "main"),
    ("propose-deadline-past", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "2000-01-01", "-a", "dev:3"], 1, "deadline", "main"),
    ("propose-bad-require", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--require", "ORGANIC", "-a", "dev:3"], 2, "CLAIM@ATTESTER", "main"),
    ("propose-attester-is-a-party", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--require", f"ORGANIC@{FARM}", "-a", "dev:3"], 1, "neither the buyer nor the supplier", "main"),
    ("propose-carrier-is-a-party", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--carrier", FARM, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "-a", "dev:3"], 1, "the carrier", "main"),
    ("propose-bad-tolerance", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--tolerance", "101%", "-a", "dev:3"], 2, "invalid --tolerance", "main"),
    ("propose-bad-inspection", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--inspection", "soon", "-a", "dev:3"], 2, "invalid --inspection", "main"),
    ("propose-zero-inspection", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--inspection", "0", "-a", "dev:3"], 1, "must be greater than zero", "main"),
    ("tender-not-funded", ["handoff", "send", B1, "--agreement", "1", "-a", "dev:1"], 1, "agreement 1 is proposed", "main"),
    ("tender-with-to", ["handoff", "send", B1, "--agreement", "1", "--to", PROCESSOR, "-a", "dev:1"], 1, "give no --to", "main"),
    ("send-without-to", ["handoff", "send", B1, "-a", "dev:1"], 1, "give --to ADDRESS", "main"),
    ("tender-unknown-agreement", ["handoff", "send", B1, "--agreement", "99", "-a", "dev:1"], 1, "unknown agreement 99", "main"),
    ("escalate-not-tendered", ["agreement", "escalate", "1", "--reason", "x", "-a", "dev:1"], 1, "agreement 1 is proposed", "main"),
    ("withdraw-tender-nothing-tendered", ["agreement", "withdraw-tender", "1", "-a", "dev:1"], 1, "agreement 1 is proposed", "main"),
    ("resolve-not-disputed", ["agreement", "resolve", "1", "--supplier-amount", "1wei", "-a", "dev:4"], 1, "agreement 1 is proposed", "main"),
    ("cancel-not-a-party", ["agreement", "cancel", "1", "-a", "dev:2"], 1, "is neither buyer nor supplier of agreement 1", "main"),
    ("reclaim-unfunded", ["agreement", "reclaim", "1", "-a", "dev:3"], 1, "agreement 1 is proposed", "main"),
    ("resolve-default-undisputed", ["agreement", "resolve-default", "1", "-a", "dev:7"], 1, "agreement 1 is proposed", "main"),
    # accounts
    ("wrong-keystore-password", ["--password-file", F + "/wrong-pw", "batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "alice"], 1, "wrong password", "main"),
    ("unknown-keystore", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "nobody"], 1, "no account named 'nobody'", "main"),
    ("bad-dev-account", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "dev:99"], 1, "dev:0", "main"),
    ("no-account", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1"], 1, "no account given", "main"),
    ("account-exists", ["account", "new", "alice"], 1, "already exists", "main"),
    ("import-bad-key", ["account", "import", "bob", "--key-file", F + "/bad.key"], 1, "not a private key", "main"),
    ("insufficient-funds", ["--password-file", F + "/right-pw", "account", "fund", FARM, "--amount", "1wei", "-a", "alice"], 1, "cannot pay for gas plus the 0.000000000000000001 ETH it sends (balance 0 ETH): fund it, e.g. `provenance account fund", "main"),
    ("fund-zero", ["account", "fund", FARM, "--amount", "0eth", "-a", "dev:0"], 2, "must be greater than zero", "main"),
    ("fund-bad-amount", ["account", "fund", FARM, "--amount", "lots", "-a", "dev:0"], 2, "invalid --amount", "main"),
    ("balance-unknown-name", ["account", "balance", "nobody"], 1, "no account named 'nobody'", "main"),
    # deployment and chain
    ("missing-deployment", ["batch", "show", B1], 1, "run `provenance deploy` first", "empty"),
    ("wrong-chain-id-record", ["batch", "show", B1], 1, "records exist for 1: wrong --rpc?", "wrong-chain"),
    ("no-contract-code", ["batch", "show", B1], 1, "no contract code at the recorded", "no-code"),
    ("rpc-down", ["--rpc", DOWN, "batch", "show", B1], 1, "cannot reach the chain", "main"),
    ("rpc-bad-url", ["--rpc", "ftp://example.org", "batch", "show", B1], 1, "bad RPC URL", "main"),
    # verify exit codes: 2 failed, 3 error, 4 usage
    ("verify-unknown-batch", ["verify", UNKNOWN], 2, "FAILED", "main"),
    ("verify-recalled", ["verify", B4], 2, "FAILED", "main"),
    ("verify-bad-gtin", ["verify", "--gtin", "09506000134353", "--lot", "B1"], 4, "wrong check digit", "main"),
    ("verify-no-deployment", ["verify", B1], 3, "run `provenance deploy` first", "empty"),
    ("verify-rpc-down", ["--rpc", DOWN, "verify", B1], 3, "cannot reach the chain", "main"),
    ("verify-usage", ["verify"], 4, "give a BATCH", "main"),
    ("verify-both-forms", ["verify", B1, "--gtin", GTIN, "--lot", "B1"], 4, "not both", "main"),
    ("docs-missing-file", ["docs", "hash", F + "/nope.pdf"], 1, "cannot read document", "main"),
    # issue 10: out-of-range numbers are one line naming the option, never an ABI dump
    ("valid-until-20-digits", ["attest", "add", B1, "--claim", "ORGANIC", "--valid-until", "99999999999999999999", "-a", "dev:5"], 2, "Invalid value for '--valid-until': invalid --valid-until 99999999999999999999: outside 2000-01-01", "main"),
    ("valid-until-milliseconds", ["attest", "add", B1, "--claim", "ORGANIC", "--valid-until", "1830000000000", "-a", "dev:5"], 2, "milliseconds? 1830000000000 ms is 1830000000 (2027-12-28 13:20:00Z)", "main"),
    ("deadline-milliseconds", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "1830000000000", "-a", "dev:3"], 2, "Invalid value for '--deadline'", "main"),
    ("arbiter-timeout-1e23", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--arbiter-timeout", "1e23", "-a", "dev:3"], 2, "Invalid value for '--arbiter-timeout': invalid --arbiter-timeout '1e23'", "main"),
    ("arbiter-timeout-24-digits", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--arbiter-timeout", str(10**23), "-a", "dev:3"], 2, "at most 4294967295 s", "main"),
    ("salt-2-pow-300", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--salt", "2**300", "-a", "dev:3"], 2, "Invalid value for '--salt': invalid --salt '2**300': expected a whole number in digits 0-9 (at most 2^256-1)", "main"),
    ("salt-digits-of-2-pow-300", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--salt", str(2**300), "-a", "dev:3"], 2, "expected a whole number 0..2^256-1", "main"),
    ("price-2-pow-256-wei", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", f"{2**256}wei", "--deadline", "+1d", "-a", "dev:3"], 2, "more than 2^256-1 wei, the most a contract can hold", "main"),
    ("price-19-decimals", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "0.1234567890123456789eth", "--deadline", "+1d", "-a", "dev:3"], 2, "19 decimal places, but an amount in eth has at most 18 (1 wei = 0.000000000000000001 eth)", "main"),
    ("token-without-code", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--price", "1eth", "--deadline", "+1d", "--token", STRANGER, "-a", "dev:3"], 1, f"token {STRANGER} has no contract code on chain id 31337", "main"),
    ("unit-xyz", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "--uom", "XYZ", "-a", "dev:1"], 2, "unknown unit of measure 'XYZ': accepted UN/ECE Rec 20 codes are H87, C62", "main"),
    ("unit-kmg", ["agreement", "propose", "--supplier", FARM, "--arbiter", CERTIFIER, "--gtin", GTIN, "-q", "1", "--uom", "KMG", "--price", "1eth", "--deadline", "+1d", "-a", "dev:3"], 2, "unknown unit of measure 'KMG'", "main"),
    ("attest-empty-claim", ["attest", "add", B1, "--claim", "", "-a", "dev:5"], 2, "the claim must not be empty", "main"),
    ("attest-unknown-batch", ["attest", "add", UNKNOWN, "--claim", "ORGANIC", "-a", "dev:5"], 1, "unknown batch", "main"),
    ("attest-unregistered-account", ["attest", "add", STRANGER, "--claim", "ORGANIC", "-a", "dev:5"], 1, f"cannot attest about {STRANGER}: it is not a registered participant", "main"),
    ("attest-expired-window", ["attest", "add", B1, "--claim", "ORGANIC", "--valid-from", "2020-01-01", "--valid-until", "2021-01-01", "-a", "dev:5"], 1, "which is over already: give a --valid-until in the future", "main"),
    ("send-the-same-batch-twice", ["handoff", "send", B1, B1, "--to", CARRIER, "-a", "dev:1"], 1, "is given twice: a handoff names each batch once", "main"),
    ("accept-the-same-batch-twice", ["handoff", "accept", B2, B2, "-a", "dev:2"], 1, "is given twice: an acceptance names each batch once", "main"),
    ("merge-a-batch-with-itself", ["batch", "merge", B5, B5, "--lot", "B5-M", "-a", "dev:1"], 1, "is given twice: a merge combines distinct batches", "main"),
    ("merge-loss-in-merge-words", ["batch", "merge", B5, B6, "--lot", "B5-M", "--loss", "200", "-a", "dev:1"], 1, "invalid merge loss 200: the 2 batches hold 200 KGM together, so the loss must be less than 200", "main"),
    ("address-without-0x", ["handoff", "send", B1, "--to", CARRIER[2:], "-a", "dev:1"], 2, f"the 0x prefix is missing (did you mean {CARRIER}?)", "main"),
    ("quantity-arabic-indic-digits", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "٣", "-a", "dev:1"], 2, "expected a whole number in digits 0-9", "main"),
    ("gtin-arabic-indic-digits", ["batch", "create", "--gtin", "٠٩٥٠٦٠٠٠١٣٤٣٥٢", "--lot", "X1", "-q", "1", "-a", "dev:1"], 2, "only the digits 0-9", "main"),
    ("sign-an-expired-deadline", ["handoff", "sign", B1, "--from", FARM, "--to", CARRIER, "--deadline", "2020-01-01", "-o", F + "/late.json", "-a", "dev:2"], 1, "has already passed: the contract would refuse the signature", "main"),
    ("sign-into-a-missing-folder", ["handoff", "sign", B1, "--from", FARM, "--to", CARRIER, "-o", F + "/no/such/dir/x.json", "-a", "dev:2"], 1, "No such file or directory; the folder", "main"),
    ("recall-empty-reason", ["batch", "recall", B1, "--reason", "", "-a", "dev:1"], 2, "the recall reason must not be empty", "main"),
    ("lift-recall-empty-reason", ["batch", "lift-recall", B4, "--reason", " ", "-a", "dev:0"], 2, "must not be empty", "main"),
    ("malformed-deployment-record", ["batch", "show", B1], 1, "is malformed (expected a JSON object, found list): move it away and deploy again", "malformed"),
    ("export-into-a-missing-folder", ["epcis", "export", B1, "-o", F + "/no/such/dir/x.jsonld"], 1, "No such file or directory; the folder", "main"),
    ("export-under-a-file", ["epcis", "export", B1, "-o", F + "/bad.csv/x.jsonld"], 1, "bad.csv is a file, not a folder", "main"),
    ("labels-under-a-file", ["label", f"{GTIN}:B1", "-o", F + "/bad.csv/labels"], 1, "bad.csv is a file, not a folder", "main"),
    ("label-sheet-under-a-file", ["label", f"{GTIN}:B1", "-o", F + "/labels", "--sheet", F + "/bad.csv/s.pdf"], 1, "bad.csv is a file, not a folder", "main"),
    ("unwritable-data-directory", ["batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1", "-a", "dev:1"], 1, "cannot create the data directory", "unwritable"),
]  # fmt: skip


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "code", "message", "home"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_fails_cleanly_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, message: str,
    home: str,
) -> None:  # fmt: skip
    c = world.cli
    (world.files / "wrong-pw").write_text("wrong\n")
    data_dir = c.home if home == "main" else world.homes[home]
    monkeypatch.setenv("PROVENANCE_HOME", str(data_dir))
    monkeypatch.setenv("PROVENANCE_RPC", c.chain.rpc)
    monkeypatch.delenv("PROVENANCE_PASSWORD", raising=False)
    argv = [a.replace(F, str(world.files)) for a in args]
    before = _fingerprint(world, data_dir)
    result = c.runner.invoke(cli, argv)
    output = result.output
    assert result.exit_code == code, f"exit {result.exit_code}:\n{output}\n{result.exception!r}"
    assert message in output, output
    assert "Traceback" not in output
    if not (args[0] == "verify" and code == 2):  # verify's exit 2 is a verdict, not an error
        error_lines = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, output  # exactly one line (after the usage text, exit 2)
        assert message in error_lines[0], output  # and it is the line that says what is wrong
    assert _fingerprint(world, data_dir) == before, "a failed command changed something"


def test_debug_shows_the_traceback_instead_of_one_line(world: World) -> None:
    from provenance.cli import cli
    from provenance.exceptions import NotFoundError

    result = world.cli.runner.invoke(cli, ["--debug", "batch", "show", UNKNOWN])
    assert result.exit_code == 1
    assert isinstance(result.exception, NotFoundError)
