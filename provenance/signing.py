"""EIP-712 signatures: registry handoffs and supplier agreements, and signed-handoff files.

A signed handoff lets one party consent off-chain; the other party (or any relayer) records it
with `recordHandoff` in one transaction. The file format (JSON)::

    {"type": "provenance.signed-handoff", "version": 2, "chainId": 31337,
     "registry": "0x…", "handoff": {"batchId": "0x…", "from": "0x…", "to": "0x…", "location": 0,
     "bizStep": 1, "disposition": 1, "transferOwnership": false, "document": "0x…"},
     "signer": "0x…", "role": "sender", "nonce": 0, "deadline": 1767225600, "signature": "0x…"}

`SignedHandoff.verify()` rejects tampered, expired, wrong-chain, wrong-registry and malleable
(high-s) signatures with a `SignatureError` before anything is sent.

Both contracts sign in EIP-712 domains of version `2` (`ProvenanceRegistry`, `SupplyAgreements`);
the file format's version follows it, so a file signed for the contracts before version 2 is
refused with a message rather than failing on chain. A smart-contract wallet (EIP-1271) approves
on chain instead of signing here; this module signs with local keys only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount

from provenance.config import cannot_write
from provenance.encoding import short_hex, validate_address
from provenance.exceptions import InvalidInput, SignatureError
from provenance.records import AgreementTerms, Handoff
from provenance.times import format_time

FILE_TYPE = "provenance.signed-handoff"
FILE_VERSION = 2
#: The EIP-712 domain version of both contracts.
DOMAIN_VERSION = "2"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ROLES = ("sender", "receiver")

HANDOFF_TYPES: dict[str, list[dict[str, str]]] = {
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
AGREEMENT_TYPES: dict[str, list[dict[str, str]]] = {
    "Agreement": [
        {"name": "termsHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _domain(name: str, chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": validate_address(contract, "contract address"),
    }


def handoff_typed_data(
    handoff: Handoff, *, chain_id: int, registry: str, nonce: int, deadline: int
) -> dict[str, Any]:
    """The full EIP-712 typed data a party signs to consent to `handoff`."""
    message = {
        "batchId": bytes.fromhex(handoff.batch_id[2:]),
        "from": handoff.from_,
        "to": handoff.to,
        "location": handoff.location,
        "bizStep": handoff.biz_step,
        "disposition": handoff.disposition,
        "transferOwnership": handoff.transfer_ownership,
        "document": bytes.fromhex(handoff.document[2:]),
        "nonce": nonce,
        "deadline": deadline,
    }
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, **HANDOFF_TYPES},
        "primaryType": "Handoff",
        "domain": _domain("ProvenanceRegistry", chain_id, registry),
        "message": message,
    }


def agreement_typed_data(
    terms_hash: str, *, chain_id: int, agreements: str, nonce: int, deadline: int
) -> dict[str, Any]:
    """The EIP-712 typed data a party signs to approve terms for `proposeSigned`."""
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, **AGREEMENT_TYPES},
        "primaryType": "Agreement",
        "domain": _domain("SupplyAgreements", chain_id, agreements),
        "message": {
            "termsHash": bytes.fromhex(terms_hash[2:]),
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def _signable(typed: dict[str, Any]) -> SignableMessage:
    return encode_typed_data(full_message=typed)


def _sign(account: LocalAccount, typed: dict[str, Any]) -> str:
    signed = account.sign_message(_signable(typed))
    return "0x" + bytes(signed.signature).hex()


def recover(typed: dict[str, Any], signature: str) -> str:
    """The address that produced `signature` over `typed` (after the low-s check)."""
    raw = _sig_bytes(signature)
    try:
        return str(Account.recover_message(_signable(typed), signature=raw))
    except Exception as exc:
        raise SignatureError(f"signature cannot be recovered: {exc}") from exc


def _sig_bytes(signature: str) -> bytes:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except (ValueError, AttributeError) as exc:
        raise SignatureError("signature is not hex") from exc
    if len(raw) != 65:
        raise SignatureError(f"signature has {len(raw)} bytes, expected 65 (r || s || v)")
    s = int.from_bytes(raw[32:64], "big")
    if s > SECP256K1_N // 2:
        raise SignatureError("signature has a high s value (malleable): the contract refuses it")
    if raw[64] not in (27, 28):
        raise SignatureError(f"signature has v = {raw[64]}, expected 27 or 28")
    return raw


@dataclass(frozen=True)
class SignedHandoff:
    """One party's EIP-712 consent to a handoff, as stored in a signed-handoff file."""

    chain_id: int
    registry: str
    handoff: Handoff
    signer: str
    role: str  # "sender" (signer is handoff.from_) or "receiver" (signer is handoff.to)
    nonce: int
    deadline: int
    signature: str

    def typed_data(self) -> dict[str, Any]:
        return handoff_typed_data(
            self.handoff,
            chain_id=self.chain_id,
            registry=self.registry,
            nonce=self.nonce,
            deadline=self.deadline,
        )

    def authorization(self) -> tuple[int, int, bytes]:
        """The `Authorization` tuple for `recordHandoff`."""
        return (self.nonce, self.deadline, bytes.fromhex(self.signature.removeprefix("0x")))

    def verify(
        self,
        *,
        chain_id: int | None = None,
        registry: str | None = None,
        now: float | None = None,
    ) -> None:
        """Raise `SignatureError` unless the signature is valid, by the right party, unexpired,
        and (when given) for this chain id and registry address."""
        if chain_id is not None and chain_id != self.chain_id:
            raise SignatureError(
                f"signed handoff is for chain id {self.chain_id}, this chain is {chain_id}: "
                "ask the signer to sign it for this chain"
            )
        if registry is not None and validate_address(registry) != self.registry:
            raise SignatureError(
                f"signed handoff is for registry {self.registry}, not {validate_address(registry)}"
            )
        expected = self.handoff.from_ if self.role == "sender" else self.handoff.to
        if expected != self.signer:
            raise SignatureError(
                f"the {self.role} of this handoff is {expected}, but the file names {self.signer}"
            )
        current = time.time() if now is None else now
        if self.deadline < current:
            raise SignatureError(
                f"signed handoff of batch {short_hex(self.handoff.batch_id)} expired at deadline "
                f"{self.deadline}: ask {self.signer} to sign it again"
            )
        recovered = recover(self.typed_data(), self.signature)
        if recovered != self.signer:
            raise SignatureError(
                f"signature does not match: recovered {recovered}, expected {self.signer} "
                "(the file was modified after signing, or signed for other data)"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": FILE_TYPE,
            "version": FILE_VERSION,
            "chainId": self.chain_id,
            "registry": self.registry,
            "handoff": self.handoff.to_json(),
            "signer": self.signer,
            "role": self.role,
            "nonce": self.nonce,
            "deadline": self.deadline,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedHandoff:
        """Parse (not verify) a signed-handoff document; `SignatureError` if malformed."""
        if not isinstance(data, dict) or data.get("type") != FILE_TYPE:
            raise SignatureError(f'not a signed handoff (expected "type": "{FILE_TYPE}")')
        if data.get("version") == 1:
            raise SignatureError(
                "this signed handoff is for the registry before version 2 (EIP-712 domain "
                "version 1), which no longer accepts it: ask the signer to sign it again"
            )
        if data.get("version") != FILE_VERSION:
            raise SignatureError(
                f"unsupported signed-handoff version {data.get('version')!r} "
                f"(this toolkit reads version {FILE_VERSION})"
            )
        try:
            role = str(data["role"])
            if role not in ROLES:
                raise SignatureError(f"role must be 'sender' or 'receiver', not {role!r}")
            return cls(
                chain_id=int(data["chainId"]),
                registry=validate_address(data["registry"], "registry address"),
                handoff=Handoff.from_json(data["handoff"]),
                signer=validate_address(data["signer"], "signer"),
                role=role,
                nonce=int(data["nonce"]),
                deadline=int(data["deadline"]),
                signature=str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            raise SignatureError(f"malformed signed handoff: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write the signed-handoff file (a missing folder or an unwritable path is said so)."""
        target = Path(path)
        try:
            target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise cannot_write(target, exc) from exc

    @classmethod
    def load(cls, path: str | Path) -> SignedHandoff:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SignatureError(f"cannot read signed handoff {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise SignatureError(f"signed handoff {path} is not valid JSON: {exc}") from exc
        return cls.from_json(data)


def _require_future(deadline: int, now: float | None, what: str) -> None:
    current = time.time() if now is None else now
    if deadline <= current:
        raise SignatureError(
            f"the {what} deadline {deadline} ({format_time(deadline)}) has already passed: the "
            "contract would refuse the signature; give a deadline in the future (e.g. +2h)"
        )


def sign_handoff(
    account: LocalAccount,
    handoff: Handoff,
    *,
    chain_id: int,
    registry: str,
    nonce: int,
    deadline: int,
    now: float | None = None,
) -> SignedHandoff:
    """Sign `handoff` as its sender or receiver (whichever `account` is). A deadline that has
    passed (`now`: the clock to judge by, default the wall clock) is refused."""
    _require_future(deadline, now, "signature")
    if account.address == handoff.from_:
        role = "sender"
    elif account.address == handoff.to:
        role = "receiver"
    else:
        raise SignatureError(
            f"{account.address} is neither the sender {handoff.from_} nor the receiver "
            f"{handoff.to} of this handoff: only they can sign it"
        )
    registry = validate_address(registry, "registry address")
    typed = handoff_typed_data(
        handoff, chain_id=chain_id, registry=registry, nonce=nonce, deadline=deadline
    )
    return SignedHandoff(
        chain_id=chain_id,
        registry=registry,
        handoff=handoff,
        signer=account.address,
        role=role,
        nonce=nonce,
        deadline=deadline,
        signature=_sign(account, typed),
    )


@dataclass(frozen=True)
class AgreementApproval:
    """One party's EIP-712 approval of agreement terms (for `proposeSigned`)."""

    chain_id: int
    agreements: str
    terms_hash: str
    signer: str
    nonce: int
    deadline: int
    signature: str

    def authorization(self) -> tuple[int, int, bytes]:
        return (self.nonce, self.deadline, bytes.fromhex(self.signature.removeprefix("0x")))

    def verify(self, terms: AgreementTerms | None = None, *, now: float | None = None) -> None:
        if terms is not None and terms.terms_hash() != self.terms_hash:
            raise SignatureError("the approval is for other terms (terms hash differs)")
        if self.deadline < (time.time() if now is None else now):
            raise SignatureError(f"the approval of {self.signer} expired at {self.deadline}")
        typed = agreement_typed_data(
            self.terms_hash,
            chain_id=self.chain_id,
            agreements=self.agreements,
            nonce=self.nonce,
            deadline=self.deadline,
        )
        recovered = recover(typed, self.signature)
        if recovered != self.signer:
            raise SignatureError(f"approval signed by {recovered}, expected {self.signer}")


def sign_agreement(
    account: LocalAccount,
    terms: AgreementTerms,
    *,
    chain_id: int,
    agreements: str,
    nonce: int,
    deadline: int,
    now: float | None = None,
) -> AgreementApproval:
    """Approve `terms` as buyer or supplier (for `SupplyAgreements.proposeSigned`); a deadline
    that has passed is refused."""
    _require_future(deadline, now, "approval")
    if account.address not in (terms.buyer, terms.supplier):
        raise SignatureError(
            f"{account.address} is neither buyer nor supplier of these terms: "
            "it cannot approve them"
        )
    agreements = validate_address(agreements, "agreements address")
    terms_hash = terms.terms_hash()
    typed = agreement_typed_data(
        terms_hash, chain_id=chain_id, agreements=agreements, nonce=nonce, deadline=deadline
    )
    return AgreementApproval(
        chain_id=chain_id,
        agreements=agreements,
        terms_hash=terms_hash,
        signer=account.address,
        nonce=nonce,
        deadline=deadline,
        signature=_sign(account, typed),
    )
