"""ProvenanceRegistry gas budget (docs/design.md): whole-transaction receipt gasUsed on Anvil.

Each measured figure is also appended to tests/.gas/registry.jsonl as {op, gas, limit, floor}.
Agreement rows live in tests/contracts/test_agreements_gas.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from tests.contracts.test_registry_eip712 import HANDOFF_TYPES, lot

GAS_DIR = Path(__file__).resolve().parent.parent / ".gas"
GAS_FILE = GAS_DIR / "registry.jsonl"

PRODUCER, CARRIER, RETAILER, CERTIFIER = 1, 4, 16, 32
DOC = b"\x0d" * 32
KGM = b"KGM"
GTIN = 9506000134352
FAR = 2**40


def batch_id(gtin: int, lot_: bytes) -> bytes:
    return keccak(encode(["uint256", "bytes32"], [gtin, lot_]))


@pytest.fixture(scope="module")
def gas_report() -> Iterator[Callable[[str, int, int, int | None], None]]:
    """`gas_report(op, gas, limit, floor)` appends one measured row to tests/.gas/registry.jsonl."""
    GAS_DIR.mkdir(exist_ok=True)
    GAS_FILE.write_text("")

    def record(op: str, gas: int, limit: int, floor: int | None) -> None:
        with GAS_FILE.open("a") as out:
            out.write(json.dumps({"op": op, "gas": gas, "limit": limit, "floor": floor}) + "\n")

    yield record


class Gas:
    def __init__(self, w3: Web3, reg: Contract, accounts: list[LocalAccount]) -> None:
        self.w3, self.reg, self.accounts = w3, reg, accounts
        self.admin, self.producer, self.carrier, self.retailer, self.certifier = (
            a.address for a in accounts[:5]
        )

    def send(self, call: Any, sender: str) -> Any:
        tx = call.transact({"from": sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.002)
        assert receipt.status == 1
        return receipt

    def create(self, name: str, qty: int = 100) -> bytes:
        self.send(self.reg.functions.createBatch(GTIN, lot(name), qty, KGM, DOC), self.producer)
        return batch_id(GTIN, lot(name))

    def handoff(self, bid: bytes, frm: str, to: str) -> tuple:
        return (bid, frm, to, 4012345000009, 3, 1, False, DOC)

    def sign(self, signer: LocalAccount, h: tuple, nonce: int) -> tuple:
        domain = {
            "name": "ProvenanceRegistry",
            "version": "1",
            "chainId": self.w3.eth.chain_id,
            "verifyingContract": self.reg.address,
        }
        names = [f["name"] for f in HANDOFF_TYPES["Handoff"]]
        message = dict(zip(names, [*h, nonce, FAR], strict=True))
        signed = Account.sign_typed_data(signer.key, domain, HANDOFF_TYPES, message)
        return (nonce, FAR, signed.signature)


@pytest.fixture(scope="module")
def module_gas(anvil_w3: Web3, accounts: list[LocalAccount], deploy: Any) -> Gas:
    reg = deploy(anvil_w3, "ProvenanceRegistry", sender=accounts[0].address)
    g = Gas(anvil_w3, reg, accounts)
    for account, roles in [
        (g.producer, PRODUCER),
        (g.carrier, CARRIER),
        (g.retailer, RETAILER),
        (g.certifier, CERTIFIER),
    ]:
        g.send(reg.functions.registerParticipant(account, roles, 0, DOC), g.admin)
    return g


@pytest.fixture
def gas(module_gas: Gas, snapshot: None) -> Gas:
    return module_gas


def check(
    gas_report: Callable[..., None], op: str, receipt: Any, limit: int, floor: int | None
) -> None:
    gas_report(op, receipt.gasUsed, limit, floor)
    assert receipt.gasUsed <= limit, f"{op}: {receipt.gasUsed} gas > limit {limit}"


def test_gas_create_batch(gas: Gas, gas_report: Callable[..., None]) -> None:
    receipt = gas.send(
        gas.reg.functions.createBatch(GTIN, lot("LOT-2026-001"), 1000, KGM, DOC), gas.producer
    )
    check(gas_report, "createBatch", receipt, 75_000, 50_000)


def test_gas_initiate_handoff(gas: Gas, gas_report: Callable[..., None]) -> None:
    bid = gas.create("L1")
    receipt = gas.send(
        gas.reg.functions.initiateHandoff(gas.handoff(bid, gas.producer, gas.carrier)), gas.producer
    )
    check(gas_report, "initiateHandoff", receipt, 55_000, 29_000)


def test_gas_accept_handoff(gas: Gas, gas_report: Callable[..., None]) -> None:
    bid = gas.create("L1")
    gas.send(
        gas.reg.functions.initiateHandoff(gas.handoff(bid, gas.producer, gas.carrier)), gas.producer
    )
    receipt = gas.send(gas.reg.functions.acceptHandoff(bid), gas.carrier)
    check(gas_report, "acceptHandoff", receipt, 40_000, 29_000)


def test_gas_record_handoff_receiver_signed_second_nonce(
    gas: Gas, gas_report: Callable[..., None]
) -> None:
    carrier = gas.accounts[2]
    first, second = gas.create("L1"), gas.create("L2")
    empty = (0, 0, b"")
    for nonce, bid in enumerate([first, second]):
        h = gas.handoff(bid, gas.producer, carrier.address)
        receipt = gas.send(
            gas.reg.functions.recordHandoff(h, empty, gas.sign(carrier, h, nonce)), gas.producer
        )
    assert gas.reg.functions.nonces(carrier.address).call() == 2
    check(gas_report, "recordHandoff", receipt, 60_000, 40_000)


def test_gas_attest(gas: Gas, gas_report: Callable[..., None]) -> None:
    receipt = gas.send(
        gas.reg.functions.attest(b"\x01" * 32, keccak(text="organic"), DOC, 0, 2**64 - 1),
        gas.certifier,
    )
    check(gas_report, "attest", receipt, 60_000, 24_000)


def test_gas_split_into_two(gas: Gas, gas_report: Callable[..., None]) -> None:
    bid = gas.create("LOT-2026-001", 1000)
    parts = [(lot("LOT-2026-001A"), 600), (lot("LOT-2026-001B"), 390)]
    receipt = gas.send(gas.reg.functions.splitBatch(bid, parts, 10, DOC), gas.producer)
    check(gas_report, "splitBatch x2", receipt, 130_000, None)


def test_gas_initiate_handoffs_ten(gas: Gas, gas_report: Callable[..., None]) -> None:
    bids = [gas.create(f"L{i}") for i in range(10)]
    call = gas.reg.functions.initiateHandoffs(bids, gas.carrier, 4012345000009, 3, 1, False, DOC)
    receipt = gas.send(call, gas.producer)
    check(gas_report, "initiateHandoffs x10", receipt, 150_000, None)
