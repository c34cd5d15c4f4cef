"""EIP-712 handoff and agreement signatures, and signed-handoff files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.chain import dev_accounts
from provenance.exceptions import SignatureError
from provenance.gs1 import batch_id
from provenance.records import AgreementTerms, Handoff, RequiredClaim
from provenance.signing import (
    SECP256K1_N,
    SignedHandoff,
    handoff_typed_data,
    recover,
    sign_agreement,
    sign_handoff,
)

SENDER, RECEIVER, OTHER = dev_accounts(3)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
HANDOFF = Handoff(
    batch_id=batch_id("4006381333931", "L1"),
    from_=SENDER.address,
    to=RECEIVER.address,
    biz_step=1,
    disposition=1,
    transfer_ownership=True,
)
NOW = 1_800_000_000


def signed(account: Any = RECEIVER, **changes: Any) -> SignedHandoff:
    fields: dict[str, Any] = {"deadline": NOW + 60, "now": NOW, **changes}
    return sign_handoff(account, HANDOFF, chain_id=31337, registry=REGISTRY, nonce=0, **fields)


def test_signature_verifies_and_records_role() -> None:
    by_receiver = signed()
    assert by_receiver.role == "receiver" and by_receiver.signer == RECEIVER.address
    by_receiver.verify(chain_id=31337, registry=REGISTRY, now=NOW)
    assert signed(SENDER).role == "sender"
    assert recover(by_receiver.typed_data(), by_receiver.signature) == RECEIVER.address


def test_json_round_trip_has_the_documented_format(tmp_path: Path) -> None:
    doc = signed().to_json()
    assert doc["type"] == "provenance.signed-handoff" and doc["version"] == 2
    assert set(doc) == {
        "type",
        "version",
        "chainId",
        "registry",
        "handoff",
        "signer",
        "role",
        "nonce",
        "deadline",
        "signature",
    }
    assert SignedHandoff.from_json(json.loads(json.dumps(doc))) == signed()
    path = tmp_path / "h.json"
    signed().save(path)
    assert SignedHandoff.load(path) == signed()


def tampered(**handoff_changes: Any) -> SignedHandoff:
    s = signed()
    return dataclasses.replace(s, handoff=dataclasses.replace(s.handoff, **handoff_changes))


def high_s() -> SignedHandoff:
    s = signed()
    raw = bytes.fromhex(s.signature[2:])
    r, sv, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    flipped = r + (SECP256K1_N - sv).to_bytes(32, "big") + bytes([55 - v])
    return dataclasses.replace(s, signature="0x" + flipped.hex())


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda: tampered(transfer_ownership=False), {}, "signature does not match"),
        (lambda: tampered(document="0x" + "11" * 32), {}, "modified after signing"),
        (lambda: dataclasses.replace(signed(), nonce=1), {}, "signature does not match"),
        (lambda: signed(), {"now": NOW + 61}, "expired"),
        (lambda: signed(), {"chain_id": 1}, "for chain id 31337, this chain is 1"),
        (lambda: signed(), {"registry": "0x" + "22" * 20}, "is for registry"),
        (lambda: dataclasses.replace(signed(), role="sender"), {}, "the sender of this handoff"),
        (high_s, {}, "high s"),
        (lambda: dataclasses.replace(signed(), signature="0x1234"), {}, "expected 65"),
    ],
)
def test_invalid_signed_handoffs_are_rejected(
    make: Any, kwargs: dict[str, Any], message: str
) -> None:
    kwargs.setdefault("now", NOW)
    with pytest.raises(SignatureError, match=message):
        make().verify(**kwargs)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "other"}, "not a signed handoff"),
        ({"version": 3}, "unsupported signed-handoff version 3"),
        ({"version": 1}, "before version 2 .* sign it again"),
        ({"role": "witness"}, "role must be"),
        ({"signer": "0x1234"}, "malformed"),
        ({"handoff": {"batchId": "0x12"}}, "malformed"),
    ],
)
def test_malformed_files_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        SignedHandoff.from_json({**signed().to_json(), **change})


def test_only_parties_can_sign() -> None:
    with pytest.raises(SignatureError, match="neither the sender"):
        signed(OTHER)


def test_typed_data_follows_the_design() -> None:
    typed = handoff_typed_data(HANDOFF, chain_id=5, registry=REGISTRY, nonce=3, deadline=9)
    assert typed["domain"] == {
        "name": "ProvenanceRegistry",
        "version": "2",
        "chainId": 5,
        "verifyingContract": REGISTRY,
    }
    assert [f["name"] for f in typed["types"]["Handoff"]] == [
        "batchId",
        "from",
        "to",
        "location",
        "bizStep",
        "disposition",
        "transferOwnership",
        "document",
        "nonce",
        "deadline",
    ]


def test_agreement_approval_verifies_against_its_terms() -> None:
    terms = AgreementTerms(
        buyer=SENDER.address,
        supplier=RECEIVER.address,
        arbiter=OTHER.address,
        gtin="04006381333931",
        quantity=1,
        uom="KGM",
        price=5,
        delivery_deadline=NOW + 100,
        required_claims=(RequiredClaim("ORGANIC", OTHER.address),),
    )
    approval = sign_agreement(
        SENDER, terms, chain_id=31337, agreements=REGISTRY, nonce=0, deadline=NOW + 10, now=NOW
    )
    approval.verify(terms, now=NOW)
    with pytest.raises(SignatureError, match="other terms"):
        approval.verify(dataclasses.replace(terms, price=6), now=NOW)
    with pytest.raises(SignatureError, match="other terms"):
        approval.verify(dataclasses.replace(terms, carrier=OTHER.address), now=NOW)
    with pytest.raises(SignatureError, match="neither buyer nor supplier"):
        sign_agreement(
            OTHER, terms, chain_id=1, agreements=REGISTRY, nonce=0, deadline=NOW + 10, now=NOW
        )


def test_a_signature_whose_deadline_has_passed_is_refused_before_signing() -> None:
    passed = r"deadline 1799999999 \(2027-01-15 .*has already passed"
    with pytest.raises(SignatureError, match=passed):
        signed(deadline=NOW - 1)
