"""recordHandoff: EIP-712 consent of custodian and receiver, replay and malleability protection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

PRODUCER, CARRIER = 1, 4
DOC = b"\x0d" * 32
GTIN = 9506000134352
FAR = 2**40
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EMPTY = (0, 0, b"")

HANDOFF_TYPES = {
    "Handoff": [
        {"name": "batchId", "type": "bytes32"},
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "location", "type": "uint64"},
        {"name": "bizStep", "type": "uint8"},
        {"name": "disposition", "type": "uint8"},
        {"name": "transferOwnership", "type": "bool"},
        {"name": "document", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def lot(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def error_data(contract: Contract, name: str, *args: Any) -> str:
    abi = next(e for e in contract.abi if e["type"] == "error" and e["name"] == name)
    types = [i["type"] for i in abi["inputs"]]
    return "0x" + (keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, list(args))).hex()


@dataclass
class Sig:
    w3: Web3
    reg: Contract
    producer: LocalAccount
    carrier: LocalAccount
    relayer: str

    def send(self, call: Any, sender: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(
            call.transact({"from": sender}), poll_latency=0.002
        )
        assert receipt.status == 1
        return receipt

    def new_batch(self, name: str = "L1") -> bytes:
        self.send(
            self.reg.functions.createBatch(GTIN, lot(name), 10, b"KGM", DOC), self.producer.address
        )
        return keccak(encode(["uint256", "bytes32"], [GTIN, lot(name)]))

    def handoff(self, bid: bytes, own: bool = False) -> tuple:
        return (bid, self.producer.address, self.carrier.address, 4012345000009, 3, 1, own, DOC)

    def sign(
        self,
        signer: LocalAccount,
        h: tuple,
        nonce: int | None = None,
        deadline: int = FAR,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> tuple:
        if nonce is None:
            nonce = self.reg.functions.nonces(signer.address).call()
        domain = {
            "name": "ProvenanceRegistry",
            "version": "1",
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": contract or self.reg.address,
        }
        names = [f["name"] for f in HANDOFF_TYPES["Handoff"]]
        message = dict(zip(names, [*h, nonce, deadline], strict=True))
        signed = Account.sign_typed_data(signer.key, domain, HANDOFF_TYPES, message)
        return (nonce, deadline, bytes(signed.signature))

    def reverts(
        self, h: tuple, sender_auth: tuple, receiver_auth: tuple, caller: str, name: str, *args: Any
    ) -> None:
        with pytest.raises(ContractCustomError) as exc:
            self.reg.functions.recordHandoff(h, sender_auth, receiver_auth).call({"from": caller})
        assert exc.value.data == error_data(self.reg, name, *args)


@pytest.fixture(scope="module")
def module_sig(anvil_w3: Web3, accounts: list[LocalAccount], deploy: Any) -> Sig:
    reg = deploy(anvil_w3, "ProvenanceRegistry", sender=accounts[0].address)
    sig = Sig(anvil_w3, reg, accounts[1], accounts[2], accounts[3].address)
    assert [a.address for a in accounts[:4]] == anvil_w3.eth.accounts[:4]
    sig.send(
        reg.functions.registerParticipant(sig.producer.address, PRODUCER, 0, DOC),
        accounts[0].address,
    )
    sig.send(
        reg.functions.registerParticipant(sig.carrier.address, CARRIER, 0, DOC), accounts[0].address
    )
    return sig


@pytest.fixture
def sig(module_sig: Sig, snapshot: None) -> Sig:
    return module_sig


def test_handoff_typehash_matches_design(sig: Sig) -> None:
    fields = ",".join(f"{f['type']} {f['name']}" for f in HANDOFF_TYPES["Handoff"])
    assert sig.reg.functions.HANDOFF_TYPEHASH().call() == keccak(text=f"Handoff({fields})")


def test_domain_separator_matches_eip712(sig: Sig) -> None:
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text="ProvenanceRegistry"),
                keccak(text="1"),
                sig.w3.eth.chain_id,
                sig.reg.address,
            ],
        )
    )
    assert sig.reg.functions.DOMAIN_SEPARATOR().call() == expected


def test_custodian_sends_with_receiver_signature(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch(), own=True)
    receipt = sig.send(
        sig.reg.functions.recordHandoff(h, EMPTY, sig.sign(sig.carrier, h)), sig.producer.address
    )
    names = [
        sig.reg.events[e]().process_receipt(receipt, errors=DISCARD)
        for e in ("HandoffInitiated", "HandoffAccepted")
    ]
    assert len(names[0]) == 1 and len(names[1]) == 1
    assert names[0][0].logIndex < names[1][0].logIndex  # initiated, then accepted
    info = sig.reg.functions.getBatch(h[0]).call()
    assert (
        info[0] == sig.carrier.address
        and info[1] == sig.carrier.address
        and info[2] == "0x" + "00" * 20
    )
    assert sig.reg.functions.nonces(sig.carrier.address).call() == 1
    assert sig.reg.functions.nonces(sig.producer.address).call() == 0  # msg.sender used no nonce


def test_receiver_submits_with_custodian_signature(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    sig.send(
        sig.reg.functions.recordHandoff(h, sig.sign(sig.producer, h), EMPTY), sig.carrier.address
    )
    assert sig.reg.functions.getBatch(h[0]).call()[0] == sig.carrier.address


def test_relayer_submits_with_both_signatures(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    call = sig.reg.functions.recordHandoff(h, sig.sign(sig.producer, h), sig.sign(sig.carrier, h))
    sig.send(call, sig.relayer)
    assert sig.reg.functions.getBatch(h[0]).call()[0] == sig.carrier.address
    assert sig.reg.functions.nonces(sig.producer.address).call() == 1


def test_relayer_without_a_party_signature_reverts(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    sig.reverts(
        h,
        sig.sign(sig.producer, h),
        EMPTY,
        sig.relayer,
        "RegistryInvalidSignature",
        sig.carrier.address,
    )


def test_replayed_signature_reverts(sig: Sig) -> None:
    bid = sig.new_batch()
    h = sig.handoff(bid)
    auth = sig.sign(sig.carrier, h)
    sig.send(sig.reg.functions.recordHandoff(h, EMPTY, auth), sig.producer.address)
    # hand it back so the same handoff would be valid again; the used nonce must still block it
    back = (bid, sig.carrier.address, sig.producer.address, 0, 0, 0, False, DOC)
    sig.send(sig.reg.functions.initiateHandoff(back), sig.carrier.address)
    sig.send(sig.reg.functions.acceptHandoff(bid), sig.producer.address)
    sig.reverts(
        h, EMPTY, auth, sig.producer.address, "RegistryInvalidNonce", sig.carrier.address, 1, 0
    )


@pytest.mark.parametrize("target", ["chain", "contract"])
def test_signature_for_another_domain_reverts(sig: Sig, target: str) -> None:
    h = sig.handoff(sig.new_batch())
    auth = (
        sig.sign(sig.carrier, h, chain_id=sig.w3.eth.chain_id + 1)
        if target == "chain"
        else sig.sign(sig.carrier, h, contract="0x" + "11" * 20)
    )
    sig.reverts(
        h, EMPTY, auth, sig.producer.address, "RegistryInvalidSignature", sig.carrier.address
    )


def test_signature_for_other_handoff_fields_reverts(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    auth = sig.sign(sig.carrier, h)
    tampered = (*h[:6], True, h[7])  # ownership transfer the receiver never agreed to
    sig.reverts(
        tampered, EMPTY, auth, sig.producer.address, "RegistryInvalidSignature", sig.carrier.address
    )


def test_expired_deadline_reverts(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    now = sig.w3.eth.get_block("latest")["timestamp"]
    auth = sig.sign(sig.carrier, h, deadline=now - 1)
    sig.reverts(
        h,
        EMPTY,
        auth,
        sig.producer.address,
        "RegistrySignatureExpired",
        sig.carrier.address,
        now - 1,
    )


def test_high_s_variant_of_valid_signature_reverts(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    nonce, deadline, signature = sig.sign(sig.carrier, h)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    malleable = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    # the malleable twin recovers the same signer ...
    digest = keccak(
        b"\x19\x01"
        + sig.reg.functions.DOMAIN_SEPARATOR().call()
        + keccak(
            encode(
                [
                    "bytes32",
                    "bytes32",
                    "address",
                    "address",
                    "uint64",
                    "uint8",
                    "uint8",
                    "bool",
                    "bytes32",
                    "uint256",
                    "uint256",
                ],
                [
                    sig.reg.functions.HANDOFF_TYPEHASH().call(),
                    *h,
                    nonce,
                    deadline,
                ],
            )
        )
    )
    assert Account._recover_hash(digest, signature=malleable) == sig.carrier.address
    # ... but the registry rejects it, while the original passes
    sig.reverts(
        h,
        EMPTY,
        (nonce, deadline, malleable),
        sig.producer.address,
        "RegistryInvalidSignature",
        sig.carrier.address,
    )
    sig.send(
        sig.reg.functions.recordHandoff(h, EMPTY, (nonce, deadline, signature)),
        sig.producer.address,
    )


@pytest.mark.parametrize("nonce", [1, 7])
def test_wrong_nonce_reverts(sig: Sig, nonce: int) -> None:
    h = sig.handoff(sig.new_batch())
    sig.reverts(
        h,
        EMPTY,
        sig.sign(sig.carrier, h, nonce=nonce),
        sig.producer.address,
        "RegistryInvalidNonce",
        sig.carrier.address,
        0,
        nonce,
    )


def test_truncated_signature_reverts(sig: Sig) -> None:
    h = sig.handoff(sig.new_batch())
    nonce, deadline, signature = sig.sign(sig.carrier, h)
    sig.reverts(
        h,
        EMPTY,
        (nonce, deadline, signature[:64]),
        sig.producer.address,
        "RegistryInvalidSignature",
        sig.carrier.address,
    )


def test_signed_handoff_still_needs_custody(sig: Sig) -> None:
    bid = sig.new_batch()
    h = (
        bid,
        sig.carrier.address,
        sig.producer.address,
        0,
        0,
        0,
        False,
        DOC,
    )  # carrier is not custodian
    sig.reverts(
        h,
        EMPTY,
        sig.sign(sig.producer, h),
        sig.carrier.address,
        "RegistryNotCustodian",
        bid,
        sig.carrier.address,
    )
