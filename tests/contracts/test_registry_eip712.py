"""EIP-712 consent: `recordHandoff` (domain ProvenanceRegistry/2) and `proposeSigned`
(domain SupplyAgreements/2), with ECDSA (low s only) and EIP-1271 smart-wallet signers.

Replays, another chain or contract or domain version, expired deadlines, malleable signatures,
wrong nonces and tampered fields are refused; `useNonce` withdraws an outstanding consent.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from web3.contract import Contract

from tests.support.contracts import (
    ACCEPTED,
    CARRIER,
    DOC,
    DOMAIN_TYPE,
    FAR,
    FUNDED,
    GTIN,
    HANDOFF_TYPES,
    KGM,
    PRODUCER,
    REASON,
    RETAILER,
    ZERO,
    Terms,
    World,
    batch_id,
    deploy_registry,
    lot,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EMPTY = (0, 0, b"")
HANDOFF_FIELDS = ["bytes32", "address", "address", "uint64", "uint8", "uint8", "bool", "bytes32"]


def domain_separator(name: str, version: str, chain_id: int, contract: str) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(text=DOMAIN_TYPE), keccak(text=name), keccak(text=version), chain_id, contract],
        )
    )


def high_s_twin(signature: bytes) -> bytes:
    """The malleable twin (r, n - s, v ^ 1) of a signature: same signer, high s."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28


def record(w: World, h: tuple, sender: tuple, receiver: tuple) -> Any:
    return w.reg.recordHandoff(h, sender, receiver)


@pytest.fixture
def batch(w: World) -> bytes:
    """A batch the producer (dev key 1) holds; the carrier (dev key 3) is the usual receiver."""
    return w.create("SIG")


def handoff(w: World, bid: bytes, own: bool = False) -> tuple:
    return w.handoff(bid, w.producer, w.carrier, own)


# ================================================================ recordHandoff


def test_handoff_typehash_and_domain_match_eip712(w: World) -> None:
    fields = ",".join(f"{f['type']} {f['name']}" for f in HANDOFF_TYPES["Handoff"])
    assert w.reg.HANDOFF_TYPEHASH().call() == keccak(text=f"Handoff({fields})")
    expected = domain_separator("ProvenanceRegistry", "2", w.w3.eth.chain_id, w.registry.address)
    assert w.reg.DOMAIN_SEPARATOR().call() == expected
    fields_712 = w.reg.eip712Domain().call()
    assert (fields_712[1], fields_712[2], fields_712[4]) == (
        "ProvenanceRegistry",
        "2",
        w.registry.address,
    )


def test_custodian_sends_with_the_receivers_signature(w: World, batch: bytes) -> None:
    h = handoff(w, batch, own=True)
    receipt = w.send(record(w, h, EMPTY, w.sign_handoff(w.key(w.carrier), h)), w.producer)
    initiated, accepted = (
        w.events(receipt, "HandoffInitiated"),
        w.events(receipt, "HandoffAccepted"),
    )
    assert len(initiated) == len(accepted) == 1
    assert initiated[0].logIndex < accepted[0].logIndex
    info = w.batch(batch)
    assert (info.custodian, info.owner, info.pending_to) == (w.carrier, w.carrier, ZERO)
    assert (w.reg.nonces(w.carrier).call(), w.reg.nonces(w.producer).call()) == (1, 0)


def test_receiver_submits_with_the_custodians_signature(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    w.send(record(w, h, w.sign_handoff(w.key(w.producer), h), EMPTY), w.carrier)
    assert w.batch(batch).custodian == w.carrier
    assert (w.reg.nonces(w.producer).call(), w.reg.nonces(w.carrier).call()) == (1, 0)


def test_a_relayer_submits_with_both_signatures(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    auths = w.sign_handoff(w.key(w.producer), h), w.sign_handoff(w.key(w.carrier), h)
    w.send(record(w, h, *auths), w.stranger)  # the relayer needs no registration
    assert w.batch(batch).custodian == w.carrier
    assert (w.reg.nonces(w.producer).call(), w.reg.nonces(w.carrier).call()) == (1, 1)


def test_a_party_that_sends_and_also_signs_has_its_signature_checked(
    w: World, batch: bytes
) -> None:
    h = handoff(w, batch)
    receiver = w.sign_handoff(w.key(w.carrier), h)
    w.reverts(
        record(w, h, (0, FAR, b"\x01" * 65), receiver),
        w.producer,
        "RegistryInvalidSignature",
        w.producer,
    )
    w.send(record(w, h, w.sign_handoff(w.key(w.producer), h), receiver), w.producer)
    assert w.reg.nonces(w.producer).call() == 1


@pytest.mark.parametrize(
    ("auth", "error"),
    [(EMPTY, "RegistrySignatureExpired"), ((0, FAR, b""), "RegistryInvalidSignature")],
    ids=["no authorization", "empty signature"],
)
def test_a_relayer_without_a_partys_consent_is_refused(
    w: World, batch: bytes, auth: tuple, error: str
) -> None:
    h = handoff(w, batch)
    args = (w.carrier, 0) if error == "RegistrySignatureExpired" else (w.carrier,)
    w.reverts(record(w, h, w.sign_handoff(w.key(w.producer), h), auth), w.stranger, error, *args)


def test_a_replayed_consent_is_refused(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    consent = w.sign_handoff(w.key(w.carrier), h)
    w.send(record(w, h, EMPTY, consent), w.producer)
    w.move(batch, w.carrier, w.producer)  # back home: the same handoff would be valid again
    w.reverts(record(w, h, EMPTY, consent), w.producer, "RegistryInvalidNonce", w.carrier, 1, 0)


def test_use_nonce_withdraws_an_outstanding_consent(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    consent = w.sign_handoff(w.key(w.carrier), h)
    assert w.reg.useNonce().call({"from": w.carrier}) == 0
    receipt = w.send(w.reg.useNonce(), w.carrier)
    ev = w.event(receipt, "NonceInvalidated", w.registry)
    assert (ev.account, ev.nonce) == (w.carrier, 0)
    assert w.reg.nonces(w.carrier).call() == 1
    w.reverts(record(w, h, EMPTY, consent), w.producer, "RegistryInvalidNonce", w.carrier, 1, 0)
    w.send(record(w, h, EMPTY, w.sign_handoff(w.key(w.carrier), h)), w.producer)  # a fresh one


@pytest.mark.parametrize("where", ["chain", "contract", "version", "name"])
def test_a_consent_for_another_domain_is_refused(w: World, batch: bytes, where: str) -> None:
    h = handoff(w, batch)
    key = w.key(w.carrier)
    consent = {
        "chain": lambda: w.sign_handoff(key, h, chain_id=w.w3.eth.chain_id + 1),
        "contract": lambda: w.sign_handoff(key, h, contract=w.agreements.address),
        "version": lambda: w.sign_handoff(key, h, version="1"),
        "name": lambda: sign_as(w, key, h, "SupplyAgreements"),
    }[where]()
    w.reverts(record(w, h, EMPTY, consent), w.producer, "RegistryInvalidSignature", w.carrier)


def sign_as(w: World, key: Any, h: tuple, name: str) -> tuple[int, int, bytes]:
    domain = {
        "name": name,
        "version": "2",
        "chainId": w.w3.eth.chain_id,
        "verifyingContract": w.registry.address,
    }
    names = [f["name"] for f in HANDOFF_TYPES["Handoff"]]
    message = dict(zip(names, [*h, 0, FAR], strict=True))
    return (
        0,
        FAR,
        bytes(Account.sign_typed_data(key.key, domain, HANDOFF_TYPES, message).signature),
    )


def test_a_consent_for_another_registry_is_refused_there(w: World) -> None:
    other, _ = deploy_registry(w.deploy, w.w3, w.artifacts, w.admin)
    for account, roles in ((w.producer, PRODUCER), (w.carrier, CARRIER)):
        w.send(other.functions.registerParticipant(account, roles, 0, DOC), w.admin)
    w.send(other.functions.assignPrefix(w.producer, 9506000, 7), w.admin)
    for registry in (w.registry, other):
        w.send(registry.functions.createBatch(GTIN, lot("TWIN"), 10, KGM, DOC), w.producer)
    h = handoff(w, batch_id(GTIN, lot("TWIN")))
    consent = w.sign_handoff(w.key(w.carrier), h)  # for w.registry
    w.reverts(
        other.functions.recordHandoff(h, EMPTY, consent),
        w.producer,
        "RegistryInvalidSignature",
        w.carrier,
    )
    w.send(record(w, h, EMPTY, consent), w.producer)


TAMPERED = [
    ("batch", 0, b"\x42" * 32),
    ("location", 3, 1),
    ("bizStep", 4, 9),
    ("disposition", 5, 9),
    ("transferOwnership", 6, True),
    ("document", 7, REASON),
]


@pytest.mark.parametrize(
    ("index", "value"), [c[1:] for c in TAMPERED], ids=[c[0] for c in TAMPERED]
)
def test_a_consent_covers_every_field_of_the_handoff(
    w: World, batch: bytes, index: int, value: Any
) -> None:
    h = handoff(w, batch)
    consent = w.sign_handoff(w.key(w.carrier), h)
    tampered = tuple(value if i == index else v for i, v in enumerate(h))
    w.reverts(
        record(w, tampered, EMPTY, consent), w.producer, "RegistryInvalidSignature", w.carrier
    )


def test_a_consent_to_receive_is_not_a_consent_to_receive_from_someone_else(w: World) -> None:
    bid = w.create()
    w.move(bid, w.producer, w.processor)
    h = w.handoff(bid, w.producer, w.carrier)
    consent = w.sign_handoff(w.key(w.carrier), h)
    moved = w.handoff(bid, w.processor, w.carrier)
    w.reverts(record(w, moved, EMPTY, consent), w.processor, "RegistryInvalidSignature", w.carrier)


def test_the_deadline_is_inclusive(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    deadline = w.now() + 100
    consent = w.sign_handoff(w.key(w.carrier), h, deadline=deadline)
    w.mine_at(deadline + 1)
    w.reverts(
        record(w, h, EMPTY, consent), w.producer, "RegistrySignatureExpired", w.carrier, deadline
    )
    late = w.sign_handoff(w.key(w.carrier), h, deadline=deadline + 10)
    w.at(deadline + 10)
    w.send(record(w, h, EMPTY, late), w.producer)


def test_the_checks_run_deadline_nonce_signature(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    now = w.now()
    garbage = b"\x07" * 65
    w.reverts(
        record(w, h, EMPTY, (5, now - 1, garbage)),
        w.producer,
        "RegistrySignatureExpired",
        w.carrier,
        now - 1,
    )
    w.reverts(
        record(w, h, EMPTY, (5, FAR, garbage)), w.producer, "RegistryInvalidNonce", w.carrier, 0, 5
    )
    w.reverts(
        record(w, h, EMPTY, (0, FAR, garbage)), w.producer, "RegistryInvalidSignature", w.carrier
    )


def test_the_high_s_twin_of_a_valid_signature_is_refused(w: World, batch: bytes) -> None:
    h = handoff(w, batch)
    nonce, deadline, signature = w.sign_handoff(w.key(w.carrier), h)
    twin = high_s_twin(signature)
    struct = keccak(
        encode(
            ["bytes32", *HANDOFF_FIELDS, "uint256", "uint256"],
            [w.reg.HANDOFF_TYPEHASH().call(), *h, nonce, deadline],
        )
    )
    digest = keccak(b"\x19\x01" + w.reg.DOMAIN_SEPARATOR().call() + struct)
    assert Account._recover_hash(digest, signature=twin) == w.carrier  # the same signer...
    w.reverts(
        record(w, h, EMPTY, (nonce, deadline, twin)),
        w.producer,
        "RegistryInvalidSignature",
        w.carrier,
    )
    w.send(record(w, h, EMPTY, (nonce, deadline, signature)), w.producer)  # ...but only low s


@pytest.mark.parametrize("nonce", [1, 7, 2**256 - 1])
def test_a_consent_with_another_nonce_is_refused(w: World, batch: bytes, nonce: int) -> None:
    h = handoff(w, batch)
    consent = w.sign_handoff(w.key(w.carrier), h, nonce=nonce)
    w.reverts(record(w, h, EMPTY, consent), w.producer, "RegistryInvalidNonce", w.carrier, 0, nonce)


@pytest.mark.parametrize("cut", [64, 66, 0], ids=["short", "long", "empty"])
def test_a_malformed_signature_is_refused(w: World, batch: bytes, cut: int) -> None:
    h = handoff(w, batch)
    nonce, deadline, signature = w.sign_handoff(w.key(w.carrier), h)
    bad = signature[:cut] if cut <= 65 else signature + b"\0"
    w.reverts(
        record(w, h, EMPTY, (nonce, deadline, bad)),
        w.producer,
        "RegistryInvalidSignature",
        w.carrier,
    )


def test_a_consented_handoff_still_needs_custody_and_registration(w: World, batch: bytes) -> None:
    back = w.handoff(batch, w.carrier, w.producer)  # the carrier is not the custodian
    w.reverts(
        record(w, back, EMPTY, w.sign_handoff(w.key(w.producer), back)),
        w.carrier,
        "RegistryNotCustodian",
        batch,
        w.carrier,
    )
    to_stranger = w.handoff(batch, w.producer, w.stranger)
    w.reverts(
        record(w, to_stranger, EMPTY, w.sign_handoff(w.key(w.stranger), to_stranger)),
        w.producer,
        "RegistryUnknownParticipant",
        w.stranger,
    )


# ================================================================ EIP-1271 wallets


@pytest.fixture
def wallet(w: World) -> Contract:
    """An ERC1271Wallet owned by the stranger's key (dev key 7), registered as a carrier."""
    wallet = w.deploy(w.w3, "ERC1271Wallet", w.stranger, sender=w.admin)
    w.register(wallet.address, CARRIER | RETAILER)
    return wallet


def test_a_smart_wallet_receives_with_its_owners_signature(
    w: World, batch: bytes, wallet: Contract
) -> None:
    h = w.handoff(batch, w.producer, wallet.address, own=True)
    consent = w.sign_handoff(w.key(w.stranger), h, nonce=0)  # the owner signs for the wallet
    w.send(record(w, h, EMPTY, consent), w.producer)
    info = w.batch(batch)
    assert (info.custodian, info.owner) == (wallet.address, wallet.address)
    assert w.reg.nonces(wallet.address).call() == 1
    w.reverts(
        record(w, h, EMPTY, consent), w.producer, "RegistryInvalidNonce", wallet.address, 1, 0
    )


def test_a_smart_wallet_refuses_a_signature_its_owner_did_not_make(
    w: World, batch: bytes, wallet: Contract
) -> None:
    h = w.handoff(batch, w.producer, wallet.address)
    forged = w.sign_handoff(w.key(w.carrier), h, nonce=0)
    w.reverts(record(w, h, EMPTY, forged), w.producer, "RegistryInvalidSignature", wallet.address)
    w.reverts(
        record(w, h, EMPTY, (0, FAR, b"")), w.producer, "RegistryInvalidSignature", wallet.address
    )


def test_the_registry_relies_on_the_wallets_own_verdict(
    w: World, batch: bytes, wallet: Contract
) -> None:
    h = w.handoff(batch, w.producer, wallet.address)
    w.send(wallet.functions.setApproveAll(True), w.stranger)
    w.send(record(w, h, EMPTY, (0, FAR, b"anything")), w.producer)
    assert w.batch(batch).custodian == wallet.address


def test_a_smart_wallet_sends_and_acts_through_its_owner(
    w: World, batch: bytes, wallet: Contract
) -> None:
    w.initiate(batch, w.producer, wallet.address)
    accept = w.reg.acceptHandoff(batch, DOC)._encode_transaction_data()
    w.send(wallet.functions.execute(w.registry.address, accept), w.stranger)
    h = w.handoff(batch, wallet.address, w.carrier)
    sender = w.sign_handoff(w.key(w.stranger), h, nonce=0)
    receiver = w.sign_handoff(w.key(w.carrier), h)
    w.send(record(w, h, sender, receiver), w.admin)  # any relayer
    assert w.batch(batch).custodian == w.carrier
    # acting directly: the wallet initiates through `execute` and a participant accepts
    w.initiate(batch, w.carrier, wallet.address)
    w.send(wallet.functions.execute(w.registry.address, accept), w.stranger)
    data = w.reg.initiateHandoff(
        w.handoff(batch, wallet.address, w.buyer)
    )._encode_transaction_data()
    w.send(wallet.functions.execute(w.registry.address, data), w.stranger)
    w.send(w.reg.acceptHandoff(batch, DOC), w.buyer)
    assert w.batch(batch).custodian == w.buyer


def test_a_contract_without_eip1271_never_consents(w: World, batch: bytes) -> None:
    token = w.deploy(w.w3, "MockERC20", "Mock", "MCK", sender=w.admin)
    w.register(token.address, CARRIER)
    h = w.handoff(batch, w.producer, token.address)
    w.reverts(
        record(w, h, EMPTY, (0, FAR, b"\x01" * 65)),
        w.producer,
        "RegistryInvalidSignature",
        token.address,
    )


# ================================================================ proposeSigned


def propose_signed(w: World, terms: Terms, buyer: tuple, supplier: tuple) -> Any:
    return w.agr.proposeSigned(terms.as_tuple(), buyer, supplier)


def test_agreements_domain_matches_eip712(w: World) -> None:
    expected = domain_separator("SupplyAgreements", "2", w.w3.eth.chain_id, w.agreements.address)
    assert w.agr.DOMAIN_SEPARATOR().call() == expected


def test_a_relayer_creates_an_accepted_agreement_from_two_approvals(w: World) -> None:
    terms = w.terms()
    buyer, supplier = (
        w.sign_agreement(w.key(w.buyer), terms),
        w.sign_agreement(w.key(w.supplier), terms),
    )
    receipt = w.send(propose_signed(w, terms, buyer, supplier), w.stranger)
    proposed = w.event(receipt, "AgreementProposed")
    accepted = w.event(receipt, "AgreementAccepted")
    assert (proposed.proposer, accepted.id, accepted.by) == (w.stranger, proposed.id, w.stranger)
    assert w.status(proposed.id) == ACCEPTED
    assert w.agr.termsHashOf(proposed.id).call() == terms.hash()
    assert (w.agr.nonces(w.buyer).call(), w.agr.nonces(w.supplier).call()) == (1, 1)
    assert w.reg.nonces(w.buyer).call() == 0  # the registry's nonces are its own
    w.reverts(
        propose_signed(w, terms, buyer, supplier),
        w.stranger,
        "AgreementsInvalidNonce",
        w.buyer,
        1,
        0,
    )
    w.send(w.agr.fund(proposed.id, terms.as_tuple()), w.buyer, terms.escrow)


@pytest.mark.parametrize("sender", ["buyer", "supplier"])
def test_the_party_sending_the_transaction_needs_no_approval(w: World, sender: str) -> None:
    terms = w.terms()
    other = "supplier" if sender == "buyer" else "buyer"
    approval = w.sign_agreement(w.key(getattr(w, other)), terms)
    auths = (EMPTY, approval) if sender == "buyer" else (approval, EMPTY)
    receipt = w.send(propose_signed(w, terms, *auths), getattr(w, sender))
    assert w.status(w.event(receipt, "AgreementProposed").id) == ACCEPTED
    assert w.agr.nonces(getattr(w, sender)).call() == 0


def bad_approvals(w: World, terms: Terms) -> list[tuple[str, tuple, str, tuple]]:
    buyer_key, supplier_key = w.key(w.buyer), w.key(w.supplier)
    now = w.now()
    good = w.sign_agreement(buyer_key, terms)
    nonce, deadline, signature = good
    invalid, buyer = "AgreementsInvalidSignature", (w.buyer,)
    return [
        ("wrong chain", w.sign_agreement(buyer_key, terms, chain_id=1), invalid, buyer),
        ("wrong contract", w.sign_agreement(buyer_key, terms, contract=ZERO), invalid, buyer),
        ("version 1", w.sign_agreement(buyer_key, terms, version="1"), invalid, buyer),
        ("other terms", w.sign_agreement(buyer_key, terms.replace(salt=0)), invalid, buyer),
        ("wrong signer", w.sign_agreement(w.key(w.stranger), terms, party=w.buyer), invalid, buyer),
        (
            "supplier for buyer",
            w.sign_agreement(supplier_key, terms, party=w.buyer),
            invalid,
            buyer,
        ),
        ("empty signature", (0, FAR, b""), invalid, buyer),
        ("high s", (nonce, deadline, high_s_twin(signature)), invalid, buyer),
        ("truncated", (nonce, deadline, signature[:64]), invalid, buyer),
        (
            "future nonce",
            w.sign_agreement(buyer_key, terms, nonce=1),
            "AgreementsInvalidNonce",
            (w.buyer, 0, 1),
        ),
        (
            "expired",
            w.sign_agreement(buyer_key, terms, deadline=now - 1),
            "AgreementsSignatureExpired",
            (w.buyer, now - 1),
        ),
        ("no approval", EMPTY, "AgreementsSignatureExpired", (w.buyer, 0)),
    ]


def test_bad_approvals_are_refused(w: World) -> None:
    terms = w.terms()
    supplier = w.sign_agreement(w.key(w.supplier), terms)
    for label, buyer, error, args in bad_approvals(w, terms):
        call = propose_signed(w, terms, buyer, supplier)
        got = w.revert_of(call, w.stranger)
        assert (label, got.name, got.error_args) == (label, error, args)
    assert w.agr.agreementCount().call() == 0


def test_use_nonce_withdraws_an_outstanding_approval(w: World) -> None:
    terms = w.terms()
    buyer, supplier = (
        w.sign_agreement(w.key(w.buyer), terms),
        w.sign_agreement(w.key(w.supplier), terms),
    )
    receipt = w.send(w.agr.useNonce(), w.supplier)
    ev = w.event(receipt, "NonceInvalidated", w.agreements)
    assert (ev.account, ev.nonce) == (w.supplier, 0)
    w.reverts(
        propose_signed(w, terms, buyer, supplier),
        w.stranger,
        "AgreementsInvalidNonce",
        w.supplier,
        1,
        0,
    )


def test_signed_terms_are_still_validated(w: World) -> None:
    terms = w.terms(penalty_cap_bps=20_000)
    buyer, supplier = (
        w.sign_agreement(w.key(w.buyer), terms),
        w.sign_agreement(w.key(w.supplier), terms),
    )
    w.reverts(
        propose_signed(w, terms, buyer, supplier), w.stranger, "AgreementsInvalidBps", 20_000, 0
    )


def test_a_smart_wallet_approves_as_buyer_and_pays_through_its_owner(
    w: World, wallet: Contract
) -> None:
    terms = w.terms(buyer=wallet.address)
    approval = w.sign_agreement(w.key(w.stranger), terms, party=wallet.address)
    receipt = w.send(propose_signed(w, terms, approval, EMPTY), w.supplier)
    agreement = w.event(receipt, "AgreementProposed").id
    assert w.agr.nonces(wallet.address).call() == 1
    fund = w.agr.fund(agreement, terms.as_tuple())._encode_transaction_data()
    w.send(wallet.functions.execute(w.agreements.address, fund), w.stranger, terms.escrow)
    assert w.status(agreement) == FUNDED


def test_a_smart_wallet_refuses_approvals_its_owner_did_not_sign(
    w: World, wallet: Contract
) -> None:
    terms = w.terms(supplier=wallet.address)
    buyer = w.sign_agreement(w.key(w.buyer), terms)
    forged = w.sign_agreement(w.key(w.supplier), terms, party=wallet.address)
    w.reverts(
        propose_signed(w, terms, buyer, forged),
        w.stranger,
        "AgreementsInvalidSignature",
        wallet.address,
    )
    w.send(wallet.functions.setApproveAll(True), w.stranger)
    w.send(propose_signed(w, terms, buyer, forged), w.stranger)
