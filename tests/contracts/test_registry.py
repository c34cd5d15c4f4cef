"""ProvenanceRegistry unit tests: every entry point's success path and its reverts, byte for byte.

Deliveries bound to an agreement are driven through the real SupplyAgreements the registry
created; their settlement side is tested in test_agreements.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.support.contracts import (
    ACTIVE,
    ADMIN_DELAY,
    ADMIN_ROLE,
    CARRIER,
    CERTIFIER,
    CLAIM_COLD_CHAIN,
    CLAIM_ORGANIC,
    CONSUMED,
    DISTRIBUTOR,
    DOC,
    FARM_PREFIX,
    GTIN,
    GTIN_B,
    GTIN_FREE,
    GTIN_P,
    GTIN_P2,
    H87,
    KGM,
    LEG,
    LTR,
    MAX_LINEAGE,
    MERGE,
    NO_BATCH,
    PROC_PREFIX,
    PROCESSOR,
    PRODUCER,
    REASON,
    RETAILER,
    SPLIT,
    TRANSFORM,
    ZERO,
    ZERO32,
    BatchInfo,
    Terms,
    World,
    attestation_id,
    batch_id,
    gtin_under,
    lot,
    subject_of,
)

COUNTERS_SLOT = 6  # RegistryState.counters: participants | lineageNumbers << 24 | ... (see below)


def resolver(w: World, bid: bytes = ZERO32) -> Callable[[Any], Any]:
    """Turns the names used in the tables ("producer", "$bid", ...) into values."""

    def resolve(value: Any) -> Any:
        if value == "$bid":
            return bid
        if isinstance(value, str) and hasattr(w, value):
            return getattr(w, value)
        return value

    return resolve


def set_counters(w: World, participants: int | None = None, lineage: int | None = None) -> None:
    """Overwrite fields of the registry's counters slot (to reach the ends of the id ranges)."""
    raw = int.from_bytes(w.w3.eth.get_storage_at(w.registry.address, COUNTERS_SLOT), "big")
    assert raw & 0xFFFFFF == 9  # the nine participants World registers: the layout is as assumed
    if participants is not None:
        raw = (raw & ~0xFFFFFF) | participants
    if lineage is not None:
        raw = (raw & ~(0xFFFFFFFF << 24)) | (lineage << 24)
    w.request(
        "anvil_setStorageAt",
        [w.registry.address, hex(COUNTERS_SLOT), "0x" + raw.to_bytes(32, "big").hex()],
    )


def tendered(w: World, *, carrier: str = ZERO, lot_text: str = "T") -> tuple[int, Terms, bytes]:
    """A funded agreement whose supplier (the producer) tendered a fresh batch: id, terms, batch."""
    terms = w.terms(carrier=carrier)
    agreement = w.funded(terms)
    bid = w.create(lot_text)
    w.tender(agreement, terms, bid)
    return agreement, terms, bid


# ================================================================ deployment and operator


def test_constructor_creates_the_settlement_contract_and_names_the_operator(w: World) -> None:
    assert w.reg.settlement().call() == w.agreements.address
    assert w.agr.registry().call() == w.registry.address
    assert w.reg.defaultAdmin().call() == w.admin
    assert w.reg.defaultAdminDelay().call() == ADMIN_DELAY
    assert w.reg.MAX_LINEAGE().call() == MAX_LINEAGE
    assert w.reg.hasRole(ADMIN_ROLE, w.admin).call() is True


def test_operator_hand_over_takes_two_steps_and_the_delay(w: World) -> None:
    new = w.stranger
    receipt = w.send(w.reg.beginDefaultAdminTransfer(new), w.admin)
    schedule = w.event(receipt, "DefaultAdminTransferScheduled").acceptSchedule
    assert schedule == w.now() + ADMIN_DELAY
    w.reverts(
        w.reg.acceptDefaultAdminTransfer(), new, "AccessControlEnforcedDefaultAdminDelay", schedule
    )
    w.reverts(
        w.reg.acceptDefaultAdminTransfer(),
        w.producer,
        "AccessControlInvalidDefaultAdmin",
        w.producer,
    )
    w.mine_at(schedule + 1)
    w.send(w.reg.acceptDefaultAdminTransfer(), new)
    assert w.reg.defaultAdmin().call() == new
    w.reverts(
        w.reg.registerParticipant(w.arbiter, CARRIER, 0, DOC),
        w.admin,
        "AccessControlUnauthorizedAccount",
        w.admin,
        ADMIN_ROLE,
    )
    w.send(w.reg.registerParticipant(w.arbiter, CARRIER, 0, DOC), new)


def test_operator_role_cannot_be_granted_in_one_step(w: World) -> None:
    w.reverts(
        w.reg.grantRole(ADMIN_ROLE, w.stranger), w.admin, "AccessControlEnforcedDefaultAdminRules"
    )


def test_registry_has_no_role_that_reaches_settlement(w: World) -> None:
    names = {item.get("name") for item in w.registry.abi}
    assert "SETTLER_ROLE" not in names and "claimDelivery" not in names
    # granting any other role to anyone does not open the settlement hooks
    other = keccak(text="SETTLER_ROLE")
    w.send(w.reg.grantRole(other, w.admin), w.admin)
    bid = w.create()
    w.reverts(
        w.reg.bindDelivery(bid, w.producer, w.buyer, w.buyer, LEG),
        w.admin,
        "RegistryNotSettlement",
        w.admin,
    )


@pytest.mark.parametrize(
    "hook",
    ["bindDelivery", "completeDelivery", "releaseDelivery", "transferTitle"],
)
@pytest.mark.parametrize("caller", ["admin", "producer", "buyer"])
def test_settlement_hooks_refuse_every_caller_but_the_settlement_contract(
    w: World, hook: str, caller: str
) -> None:
    bid = w.create()
    call = {
        "bindDelivery": w.reg.bindDelivery(bid, w.producer, w.buyer, w.buyer, LEG),
        "completeDelivery": w.reg.completeDelivery(bid, w.buyer, w.producer, DOC),
        "releaseDelivery": w.reg.releaseDelivery(bid, 1),
        "transferTitle": w.reg.transferTitle(bid, 1),
    }[hook]
    sender = getattr(w, caller)
    w.reverts(call, sender, "RegistryNotSettlement", sender)


# ================================================================ participants


def test_register_participant_assigns_the_next_id_and_emits(w: World) -> None:
    receipt = w.send(w.reg.registerParticipant(w.arbiter, CARRIER, 4012345000009, DOC), w.admin)
    ev = w.event(receipt, "ParticipantRegistered")
    assert (ev.account, ev.id, ev.roles, ev.gln, ev.metadataHash, ev.at) == (
        w.arbiter,
        10,
        CARRIER,
        4012345000009,
        DOC,
        w.now(),
    )
    assert w.reg.getParticipant(w.arbiter).call() == (10, CARRIER, True, 4012345000009)
    assert w.reg.participantAt(10).call() == w.arbiter


@pytest.mark.parametrize(
    ("sender", "account", "roles", "gln", "error", "args"),
    [
        (
            "producer",
            "arbiter",
            CARRIER,
            0,
            "AccessControlUnauthorizedAccount",
            ("producer", ADMIN_ROLE),
        ),
        ("admin", ZERO, CARRIER, 0, "RegistryZeroAddress", ()),
        ("admin", "carrier", CARRIER, 0, "RegistryParticipantExists", ("carrier",)),
        ("admin", "suspended", CARRIER, 0, "RegistryParticipantExists", ("suspended",)),
        ("admin", "arbiter", 0, 0, "RegistryInvalidRoles", (0,)),
        ("admin", "arbiter", 64, 0, "RegistryInvalidRoles", (64,)),
        ("admin", "arbiter", 255, 0, "RegistryInvalidRoles", (255,)),
        ("admin", "arbiter", CARRIER, 10**13, "RegistryInvalidGln", (10**13,)),
    ],
    ids=[
        "not operator",
        "zero",
        "exists",
        "exists suspended",
        "no roles",
        "role 64",
        "all bits",
        "gln",
    ],
)
def test_register_participant_reverts(
    w: World, sender: str, account: str, roles: int, gln: int, error: str, args: tuple
) -> None:
    r = resolver(w)
    w.reverts(
        w.reg.registerParticipant(r(account), roles, gln, DOC), r(sender), error, *map(r, args)
    )


def test_register_participant_accepts_every_role_and_the_longest_gln(w: World) -> None:
    w.send(w.reg.registerParticipant(w.arbiter, 63, 10**13 - 1, DOC), w.admin)
    assert w.reg.getParticipant(w.arbiter).call() == (10, 63, True, 10**13 - 1)


def test_participant_ids_are_24_bits_wide(w: World) -> None:
    set_counters(w, participants=70_000)
    w.register(w.arbiter, DISTRIBUTOR)
    assert w.reg.getParticipant(w.arbiter).call()[0] == 70_001
    assert w.reg.participantAt(70_001).call() == w.arbiter
    # an id above 2^16 holds custody and title in the batch word without truncation
    bid = w.create()
    w.move(bid, w.producer, w.arbiter, own=True)
    info = w.batch(bid)
    assert (info.custodian, info.owner, info.origin) == (w.arbiter, w.arbiter, w.producer)


def test_registration_stops_at_the_last_24_bit_id(w: World) -> None:
    set_counters(w, participants=2**24 - 2)
    w.register(w.arbiter, CARRIER)
    assert w.reg.getParticipant(w.arbiter).call()[0] == 2**24 - 1
    w.reverts(
        w.reg.registerParticipant(w.stranger, CARRIER, 0, DOC), w.admin, "RegistryParticipantLimit"
    )


def test_update_participant_changes_roles_and_gln(w: World) -> None:
    receipt = w.send(w.reg.updateParticipant(w.carrier, CARRIER | RETAILER, 42, REASON), w.admin)
    ev = w.event(receipt, "ParticipantUpdated")
    assert (ev.account, ev.roles, ev.gln, ev.metadataHash) == (
        w.carrier,
        CARRIER | RETAILER,
        42,
        REASON,
    )
    assert w.reg.getParticipant(w.carrier).call() == (3, CARRIER | RETAILER, True, 42)


@pytest.mark.parametrize(
    ("sender", "account", "roles", "gln", "error", "args"),
    [
        (
            "carrier",
            "carrier",
            CARRIER,
            0,
            "AccessControlUnauthorizedAccount",
            ("carrier", ADMIN_ROLE),
        ),
        ("admin", "stranger", CARRIER, 0, "RegistryUnknownParticipant", ("stranger",)),
        ("admin", "carrier", 0, 0, "RegistryInvalidRoles", (0,)),
        ("admin", "carrier", 128, 0, "RegistryInvalidRoles", (128,)),
        ("admin", "carrier", CARRIER, 2**64 - 1, "RegistryInvalidGln", (2**64 - 1,)),
    ],
    ids=["not operator", "unknown", "no roles", "role 128", "gln"],
)
def test_update_participant_reverts(
    w: World, sender: str, account: str, roles: int, gln: int, error: str, args: tuple
) -> None:
    r = resolver(w)
    w.reverts(w.reg.updateParticipant(r(account), roles, gln, DOC), r(sender), error, *map(r, args))


def test_suspend_and_reinstate_toggle_active_and_emit(w: World) -> None:
    receipt = w.send(w.reg.suspendParticipant(w.carrier, REASON), w.admin)
    ev = w.event(receipt, "ParticipantSuspended")
    assert (ev.account, ev.reason, ev.at) == (w.carrier, REASON, w.now())
    assert w.reg.getParticipant(w.carrier).call()[2] is False
    receipt = w.send(w.reg.reinstateParticipant(w.carrier), w.admin)
    assert w.event(receipt, "ParticipantReinstated").account == w.carrier
    assert w.reg.getParticipant(w.carrier).call()[2] is True


@pytest.mark.parametrize(
    ("fn", "sender", "account", "error", "args"),
    [
        ("suspend", "admin", "suspended", "RegistryParticipantInactive", ("suspended",)),
        ("suspend", "admin", "stranger", "RegistryUnknownParticipant", ("stranger",)),
        (
            "suspend",
            "producer",
            "carrier",
            "AccessControlUnauthorizedAccount",
            ("producer", ADMIN_ROLE),
        ),
        ("reinstate", "admin", "carrier", "RegistryParticipantActive", ("carrier",)),
        ("reinstate", "admin", "stranger", "RegistryUnknownParticipant", ("stranger",)),
        (
            "reinstate",
            "suspended",
            "suspended",
            "AccessControlUnauthorizedAccount",
            ("suspended", ADMIN_ROLE),
        ),
    ],
)
def test_suspend_and_reinstate_revert(
    w: World, fn: str, sender: str, account: str, error: str, args: tuple
) -> None:
    r = resolver(w)
    call = (
        w.reg.suspendParticipant(r(account), REASON)
        if fn == "suspend"
        else w.reg.reinstateParticipant(r(account))
    )
    w.reverts(call, r(sender), error, *map(r, args))


def test_suspended_participant_cannot_act_or_receive(w: World) -> None:
    bid = w.create()
    w.send(w.reg.suspendParticipant(w.carrier, REASON), w.admin)
    w.reverts(
        w.reg.initiateHandoff(w.handoff(bid, w.producer, w.carrier)),
        w.producer,
        "RegistryParticipantInactive",
        w.carrier,
    )
    w.initiate(bid, w.producer, w.processor)
    w.send(w.reg.suspendParticipant(w.processor, REASON), w.admin)
    w.reverts(
        w.reg.acceptHandoff(bid, DOC), w.processor, "RegistryParticipantInactive", w.processor
    )


def test_migrate_participant_moves_id_roles_prefixes_custody_title_and_recall(w: World) -> None:
    held = w.create()  # held and owned by the producer
    sold = w.create()
    w.move(sold, w.producer, w.buyer, own=True)  # the producer keeps only the recall right
    new = w.arbiter
    receipt = w.send(w.reg.migrateParticipant(w.producer, new, REASON), w.admin)
    ev = w.event(receipt, "ParticipantMigrated")
    assert (ev["from"], ev.to, ev.id, ev.reason, ev.at) == (w.producer, new, 1, REASON, w.now())
    assert w.reg.getParticipant(new).call() == (1, PRODUCER, True, 0)
    assert w.reg.getParticipant(w.producer).call() == (0, 0, False, 0)
    assert w.reg.participantAt(1).call() == new
    assert w.reg.prefixOf(GTIN).call() == [new, *FARM_PREFIX]
    info = w.batch(held)
    assert (info.custodian, info.owner, info.origin) == (new, new, new)
    assert w.batch(sold).origin == new
    # the old key can do nothing any more; the new one does everything
    w.reverts(
        w.reg.createBatch(GTIN, lot("X"), 1, KGM, DOC),
        w.producer,
        "RegistryUnknownParticipant",
        w.producer,
    )
    w.send(w.reg.createBatch(GTIN, lot("X"), 1, KGM, DOC), new)
    w.move(held, new, w.carrier)
    w.send(w.reg.recallBatch(sold, REASON, DOC), new)
    w.reverts(
        w.reg.recallBatch(held, REASON, DOC), w.producer, "RegistryNotRecaller", held, w.producer
    )


def test_migrate_keeps_a_suspension_and_the_old_key_can_be_registered_anew(w: World) -> None:
    w.send(w.reg.migrateParticipant(w.suspended, w.arbiter, REASON), w.admin)
    assert w.reg.getParticipant(w.arbiter).call() == (6, CARRIER, False, 0)
    w.register(w.suspended, RETAILER)
    assert w.reg.getParticipant(w.suspended).call() == (10, RETAILER, True, 0)


@pytest.mark.parametrize(
    ("sender", "frm", "to", "error", "args"),
    [
        (
            "producer",
            "producer",
            "arbiter",
            "AccessControlUnauthorizedAccount",
            ("producer", ADMIN_ROLE),
        ),
        ("admin", "stranger", "arbiter", "RegistryUnknownParticipant", ("stranger",)),
        ("admin", "producer", ZERO, "RegistryZeroAddress", ()),
        ("admin", "producer", "carrier", "RegistryParticipantExists", ("carrier",)),
        ("admin", "producer", "producer", "RegistryParticipantExists", ("producer",)),
    ],
    ids=["not operator", "unknown", "to zero", "to registered", "to itself"],
)
def test_migrate_participant_reverts(
    w: World, sender: str, frm: str, to: str, error: str, args: tuple
) -> None:
    r = resolver(w)
    w.reverts(w.reg.migrateParticipant(r(frm), r(to), REASON), r(sender), error, *map(r, args))


# ================================================================ company prefixes


def test_assign_prefix_lets_only_its_holder_commission_its_gtins(w: World) -> None:
    receipt = w.send(w.reg.assignPrefix(w.rival, 3600029, 7), w.admin)
    ev = w.event(receipt, "PrefixAssigned")
    assert (ev.account, ev.prefix, ev.length, ev.at) == (w.rival, 3600029, 7, w.now())
    gtin = gtin_under(3600029, 7, item=14)
    assert w.reg.prefixOf(gtin).call() == [w.rival, 3600029, 7]
    w.send(w.reg.createBatch(gtin, lot("R1"), 10, KGM, DOC), w.rival)
    w.reverts(
        w.reg.createBatch(gtin, lot("R2"), 10, KGM, DOC),
        w.producer,
        "RegistryNotPrefixHolder",
        gtin,
        w.producer,
    )


def test_prefix_matches_the_gtin13_form_whatever_the_indicator_digit(w: World) -> None:
    case = gtin_under(*FARM_PREFIX, item=13435, indicator=1)  # 1 9506000 13435 c: a case of GTIN
    assert w.reg.prefixOf(case).call() == [w.producer, *FARM_PREFIX]
    w.send(w.reg.createBatch(case, lot("CASE"), 4, b"CT\0", DOC), w.producer)


@pytest.mark.parametrize(
    ("prefix", "length"),
    [
        (614141, 7),  # 0614141: a UPC company prefix (GTIN-13 starting 06)
        (3600, 4),  # the shortest
        (950612345678, 12),  # the longest
        (9501234, 12),  # 000009501234: the GTIN-8 95012346, assigned as one 12-digit prefix
        (1234567, 12),  # 000001234567: GTIN-8 12345670
        (10, 4),  # 0010: starts with 00 but outside the GTIN-8 space
        (1, 5),  # 00001: the first five digits are not all zero
        (3000000, 7),  # 30: next to the refused 20-29
        (970000, 6),  # 97: next to the refused 98/99
        (30000, 6),  # 030000: 03 is not restricted
    ],
)
def test_assign_prefix_accepts_ordinary_and_gtin8_prefixes(
    w: World, prefix: int, length: int
) -> None:
    w.send(w.reg.assignPrefix(w.rival, prefix, length), w.admin)
    gtin = gtin_under(prefix, length, item=1 if length < 12 else 0)
    assert w.reg.prefixOf(gtin).call() == [w.rival, prefix, length]


def test_a_gtin8_is_commissioned_under_its_12_digit_prefix(w: World) -> None:
    w.send(w.reg.assignPrefix(w.rival, 9501234, 12), w.admin)
    gtin8 = 95012346  # the GS1 example GTIN-8 (check digit 6), as a GTIN-14 00000095012346
    w.send(w.reg.createBatch(gtin8, lot("G8"), 10, KGM, DOC), w.rival)
    assert w.batch(batch_id(gtin8, lot("G8"))).origin == w.rival


def test_assign_prefix_is_for_the_operator_and_registered_holders(w: World) -> None:
    call = w.reg.assignPrefix(w.rival, 3600029, 7)
    w.reverts(call, w.producer, "AccessControlUnauthorizedAccount", w.producer, ADMIN_ROLE)
    call = w.reg.assignPrefix(w.stranger, 3600029, 7)
    w.reverts(call, w.admin, "RegistryUnknownParticipant", w.stranger)


INVALID_PREFIXES = [
    # (label, prefix, length): each reverts RegistryInvalidPrefix(prefix, length)
    ("3 digits", 360, 3),
    ("13 digits", 3600029000000, 13),
    ("0 digits", 0, 0),
    ("more digits than its length", 36000, 4),
    ("02 restricted circulation", 212345, 7),
    ("04 restricted circulation", 4123, 5),
    ("05 coupons", 512, 4),
    ("20 restricted circulation", 2012345, 7),
    ("25 restricted circulation", 2500, 4),
    ("29 restricted circulation", 299999999999, 12),
    ("98 coupons", 9812345, 7),
    ("99 coupons", 9900, 4),
    ("0000 reaches the GTIN-8 space", 0, 4),
    ("00000 is the GTIN-8 space", 0, 5),
    ("GTIN-8 space with 7 digits", 95, 7),
    ("GTIN-8 space with 11 digits", 950123, 11),
    ("RCN-8 starting with 0", 123456, 12),
    ("RCN-8 starting with 2", 2123456, 12),
]


@pytest.mark.parametrize(
    ("prefix", "length"), [c[1:] for c in INVALID_PREFIXES], ids=[c[0] for c in INVALID_PREFIXES]
)
def test_assign_prefix_refuses_restricted_and_malformed_prefixes(
    w: World, prefix: int, length: int
) -> None:
    call = w.reg.assignPrefix(w.rival, prefix, length)
    w.reverts(call, w.admin, "RegistryInvalidPrefix", prefix, length)


OVERLAPPING_PREFIXES = [
    # (label, prefix, length) against the farm's 9506000 (7 digits)
    ("the same", 9506000, 7),
    ("an extension", 95060001, 8),
    ("a far extension", 950600012345, 12),
    ("a start", 950600, 6),
    ("the shortest start", 9506, 4),
]


@pytest.mark.parametrize(
    ("prefix", "length"),
    [c[1:] for c in OVERLAPPING_PREFIXES],
    ids=[c[0] for c in OVERLAPPING_PREFIXES],
)
def test_assigned_prefixes_stay_prefix_free_both_ways(w: World, prefix: int, length: int) -> None:
    call = w.reg.assignPrefix(w.rival, prefix, length)
    w.reverts(call, w.admin, "RegistryPrefixOverlap", prefix, length)


def test_prefix_count_per_length_is_bounded(w: World) -> None:
    raw = int.from_bytes(w.w3.eth.get_storage_at(w.registry.address, COUNTERS_SLOT), "big")
    shift = 88 + 16 * (7 - 4)  # prefixLengths starts at bit 88; 16 bits per length 4..12
    assert (raw >> shift) & 0xFFFF == 2  # the farm's and the processor's
    full = raw | (0xFFFF << shift)
    w.request(
        "anvil_setStorageAt",
        [w.registry.address, hex(COUNTERS_SLOT), "0x" + full.to_bytes(32, "big").hex()],
    )
    w.reverts(w.reg.assignPrefix(w.rival, 3600029, 7), w.admin, "RegistryPrefixOverlap", 3600029, 7)
    w.send(w.reg.assignPrefix(w.rival, 36000290, 8), w.admin)  # other lengths are unaffected


def test_revoke_prefix_stops_commissioning_but_keeps_what_exists(w: World) -> None:
    bid = w.create()
    receipt = w.send(w.reg.revokePrefix(*FARM_PREFIX), w.admin)
    ev = w.event(receipt, "PrefixRevoked")
    assert (ev.account, ev.prefix, ev.length) == (w.producer, *FARM_PREFIX)
    assert w.reg.prefixOf(GTIN).call() == [ZERO, 0, 0]
    w.reverts(
        w.reg.createBatch(GTIN, lot("NEW"), 1, KGM, DOC),
        w.producer,
        "RegistryNotPrefixHolder",
        GTIN,
        w.producer,
    )
    assert w.batch(bid).origin == w.producer
    w.move(bid, w.producer, w.carrier)
    # the freed number space can be assigned again, shorter or longer
    w.send(w.reg.assignPrefix(w.rival, 950600, 6), w.admin)
    w.send(w.reg.revokePrefix(950600, 6), w.admin)
    w.send(w.reg.assignPrefix(w.rival, 95060001, 8), w.admin)
    w.send(w.reg.assignPrefix(w.producer, 95060002, 8), w.admin)
    # 9506000134352 now falls under the rival's 95060001
    assert w.reg.prefixOf(GTIN).call() == [w.rival, 95060001, 8]


@pytest.mark.parametrize(
    ("sender", "prefix", "length", "error", "args"),
    [
        ("producer", *FARM_PREFIX, "AccessControlUnauthorizedAccount", ("producer", ADMIN_ROLE)),
        ("admin", 950600, 6, "RegistryPrefixNotAssigned", (950600, 6)),
        ("admin", 95060001, 8, "RegistryPrefixNotAssigned", (95060001, 8)),
        ("admin", 950, 3, "RegistryInvalidPrefix", (950, 3)),
        ("admin", 9506000134352, 13, "RegistryInvalidPrefix", (9506000134352, 13)),
    ],
    ids=["not operator", "only a start", "only an extension", "3 digits", "13 digits"],
)
def test_revoke_prefix_reverts(
    w: World, sender: str, prefix: int, length: int, error: str, args: tuple
) -> None:
    r = resolver(w)
    w.reverts(w.reg.revokePrefix(prefix, length), r(sender), error, *map(r, args))


# ================================================================ commissioning


def test_create_batch_stores_one_word_and_emits(w: World) -> None:
    receipt = w.send(w.reg.createBatch(GTIN, lot("LOT-2026-001"), 1000, KGM, DOC), w.producer)
    bid = batch_id(GTIN, lot("LOT-2026-001"))
    ev = w.event(receipt, "BatchCreated")
    assert (ev.batchId, ev.creator, ev.gtin, ev.lot, ev.quantity, ev.uom, ev.document) == (
        bid,
        w.producer,
        GTIN,
        lot("LOT-2026-001"),
        1000,
        KGM,
        DOC,
    )
    assert w.reg.batchIdOf(GTIN, lot("LOT-2026-001")).call() == bid
    assert w.batch(bid) == BatchInfo(
        w.producer, w.producer, ZERO, w.producer, ZERO, ACTIVE, False, False, False, False,
        GTIN, 1000, KGM, 0, 0,
    )  # fmt: skip
    assert w.reg.lineageOf(bid).call() == []


CREATE_CALLER_ERRORS = [
    # (label, sender, gtin, error, args)
    ("carrier", "carrier", GTIN, "RegistryMissingRole", ("carrier", PRODUCER)),
    ("processor", "processor", GTIN_P, "RegistryMissingRole", ("processor", PRODUCER)),
    ("unknown", "stranger", GTIN, "RegistryUnknownParticipant", ("stranger",)),
    ("suspended", "suspended", GTIN, "RegistryParticipantInactive", ("suspended",)),
    ("producer without prefix", "rival", GTIN, "RegistryNotPrefixHolder", (GTIN, "rival")),
    ("other brand's prefix", "producer", GTIN_P, "RegistryNotPrefixHolder", (GTIN_P, "producer")),
    ("unassigned", "producer", GTIN_FREE, "RegistryNotPrefixHolder", (GTIN_FREE, "producer")),
]


@pytest.mark.parametrize(
    ("sender", "gtin", "error", "args"),
    [c[1:] for c in CREATE_CALLER_ERRORS],
    ids=[c[0] for c in CREATE_CALLER_ERRORS],
)
def test_create_batch_needs_an_active_producer_holding_the_gtins_prefix(
    w: World, sender: str, gtin: int, error: str, args: tuple
) -> None:
    r = resolver(w)
    w.reverts(w.reg.createBatch(gtin, lot("X"), 1, KGM, DOC), r(sender), error, *map(r, args))


@pytest.mark.parametrize(
    "gtin", [GTIN + 1, GTIN - 1, 0, 10**14 + GTIN, 2**256 - 1], ids=["+1", "-1", "0", "15", "max"]
)
def test_create_batch_refuses_invalid_gtins(w: World, gtin: int) -> None:
    w.reverts(
        w.reg.createBatch(gtin, lot("X"), 1, KGM, DOC), w.producer, "RegistryInvalidGtin", gtin
    )


INVALID_LOTS = [
    ("empty", ZERO32),
    ("not left-aligned", b"\0X".ljust(32, b"\0")),
    ("gap", b"A\0B".ljust(32, b"\0")),
    ("21 characters", lot("A" * 21)),
    ("32 characters", b"A" * 32),
    ("space", lot("A B")),
    ("hash sign", lot("A#1")),
    ("at sign", lot("@")),
    ("tilde", lot("~")),
    ("backslash", lot("A\\B")),
    ("non-ascii", "é".encode().ljust(32, b"\0")),
    ("control character", lot("A\tB")),
]


@pytest.mark.parametrize("lot_", [c[1] for c in INVALID_LOTS], ids=[c[0] for c in INVALID_LOTS])
def test_create_batch_refuses_lots_outside_the_gs1_ai82_set(w: World, lot_: bytes) -> None:
    call = w.reg.createBatch(GTIN, lot_, 1, KGM, DOC)
    w.reverts(call, w.producer, "RegistryInvalidLot", lot_)


@pytest.mark.parametrize("uom", [b"\0\0\0", b"K\0\0", b"\0KG", b"kgm", b"K-G", b"K G"])
def test_create_batch_refuses_malformed_units(w: World, uom: bytes) -> None:
    call = w.reg.createBatch(GTIN, lot("X"), 1, uom, DOC)
    w.reverts(call, w.producer, "RegistryInvalidUom", uom)


def test_create_batch_refuses_a_zero_quantity(w: World) -> None:
    call = w.reg.createBatch(GTIN, lot("X"), 0, KGM, DOC)
    w.reverts(call, w.producer, "RegistryZeroQuantity")


@pytest.mark.parametrize("text", ["A" * 20, "a-z_09", "!\"%&'()*+,-./:;<=>?", "LOT/2026.001", "1"])
def test_create_batch_accepts_every_gs1_ai82_lot(w: World, text: str) -> None:
    bid = w.create(text)
    assert w.batch(bid).state == ACTIVE


@pytest.mark.parametrize("uom", [b"KG\0", b"H87", b"C62", b"28\0"])
def test_create_batch_accepts_two_and_three_character_units(w: World, uom: bytes) -> None:
    assert w.batch(w.create(uom=uom)).uom == uom


def test_create_batch_twice_reverts(w: World) -> None:
    bid = w.create("L1")
    w.reverts(
        w.reg.createBatch(GTIN, lot("L1"), 5, LTR, DOC), w.producer, "RegistryBatchExists", bid
    )


@pytest.mark.parametrize("item", [13435, 13436, 99999])
def test_only_the_gs1_check_digit_passes(w: World, item: int) -> None:
    valid = gtin_under(*FARM_PREFIX, item=item)
    for digit in range(10):
        gtin = valid // 10 * 10 + digit
        call = w.reg.createBatch(gtin, lot("G"), 1, KGM, DOC)
        if gtin == valid:
            assert w.succeeds(call, w.producer) == batch_id(gtin, lot("G"))
        else:
            w.reverts(call, w.producer, "RegistryInvalidGtin", gtin)


def test_create_batches_commissions_each_with_its_document(w: World) -> None:
    batches = [(GTIN, lot(f"B{i}"), 10 + i, KGM, bytes([i]) * 32) for i in range(3)]
    receipt = w.send(w.reg.createBatches(batches), w.producer)
    created = w.events(receipt, "BatchCreated")
    ids = [batch_id(GTIN, lot(f"B{i}")) for i in range(3)]
    assert [(e.args.batchId, e.args.quantity, e.args.document) for e in created] == [
        (ids[i], 10 + i, bytes([i]) * 32) for i in range(3)
    ]
    assert [w.batch(b).custodian for b in ids] == [w.producer] * 3


def test_create_batches_reverts_as_a_whole(w: World) -> None:
    good = (GTIN, lot("B0"), 10, KGM, DOC)
    w.reverts(w.reg.createBatches([]), w.producer, "RegistryInvalidInputCount", 0)
    w.reverts(
        w.reg.createBatches([good, (GTIN_P, lot("B1"), 10, KGM, DOC)]),
        w.producer,
        "RegistryNotPrefixHolder",
        GTIN_P,
        w.producer,
    )
    w.reverts(
        w.reg.createBatches([good, good]),
        w.producer,
        "RegistryBatchExists",
        batch_id(GTIN, lot("B0")),
    )
    w.reverts(w.reg.createBatches([good]), w.carrier, "RegistryMissingRole", w.carrier, PRODUCER)
    w.reverts(w.reg.createBatches([good]), w.suspended, "RegistryParticipantInactive", w.suspended)


# ================================================================ handoffs


@pytest.mark.parametrize("own", [False, True])
def test_initiate_handoff_records_the_pending_handoff_and_emits(w: World, own: bool) -> None:
    bid = w.create()
    receipt = w.initiate(bid, w.producer, w.carrier, own)
    ev = w.event(receipt, "HandoffInitiated")
    assert (
        ev.batchId, ev["from"], ev.to, ev.location, ev.bizStep, ev.disposition,
        ev.transferOwnership, ev.document, ev.at,
    ) == (bid, w.producer, w.carrier, 4012345000009, 3, 1, own, DOC, w.now())  # fmt: skip
    info = w.batch(bid)
    assert (info.custodian, info.pending_to, info.pending_ownership, info.tender_leg) == (
        w.producer,
        w.carrier,
        own,
        False,
    )


INITIATE_ERRORS = [
    # (label, setup, sender, from, to, own, error, args)
    (
        "caller not from",
        None,
        "carrier",
        "producer",
        "buyer",
        False,
        "RegistryCallerNotSender",
        ("producer", "carrier"),
    ),
    (
        "not custodian",
        None,
        "carrier",
        "carrier",
        "buyer",
        False,
        "RegistryNotCustodian",
        ("$bid", "carrier"),
    ),
    (
        "from unknown",
        None,
        "stranger",
        "stranger",
        "buyer",
        False,
        "RegistryUnknownParticipant",
        ("stranger",),
    ),
    (
        "to unknown",
        None,
        "producer",
        "producer",
        "stranger",
        False,
        "RegistryUnknownParticipant",
        ("stranger",),
    ),
    (
        "to suspended",
        None,
        "producer",
        "producer",
        "suspended",
        False,
        "RegistryParticipantInactive",
        ("suspended",),
    ),
    (
        "self",
        None,
        "producer",
        "producer",
        "producer",
        False,
        "RegistrySelfHandoff",
        ("$bid", "producer"),
    ),
    (
        "pending",
        "pending",
        "producer",
        "producer",
        "buyer",
        False,
        "RegistryHandoffPending",
        ("$bid", "carrier"),
    ),
    (
        "recalled",
        "recall",
        "producer",
        "producer",
        "carrier",
        False,
        "RegistryBatchRecalled",
        ("$bid",),
    ),
    (
        "consumed",
        "split",
        "producer",
        "producer",
        "carrier",
        False,
        "RegistryBatchNotActive",
        ("$bid", CONSUMED),
    ),
    (
        "unknown batch",
        "unknown",
        "producer",
        "producer",
        "carrier",
        False,
        "RegistryUnknownBatch",
        ("$bid",),
    ),
    (
        "from suspended",
        "suspend",
        "producer",
        "producer",
        "carrier",
        False,
        "RegistryParticipantInactive",
        ("producer",),
    ),
    (
        "title by non-owner",
        "carrier holds",
        "carrier",
        "carrier",
        "buyer",
        True,
        "RegistryNotOwner",
        ("$bid", "carrier"),
    ),
]


@pytest.mark.parametrize(
    ("setup", "sender", "frm", "to", "own", "error", "args"),
    [c[1:] for c in INITIATE_ERRORS],
    ids=[c[0] for c in INITIATE_ERRORS],
)
def test_initiate_handoff_reverts(
    w: World, setup: str | None, sender: str, frm: str, to: str, own: bool, error: str, args: tuple
) -> None:
    bid = w.create("P1")
    if setup == "pending":
        w.initiate(bid, w.producer, w.carrier)
    elif setup == "recall":
        w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    elif setup == "split":
        w.split(bid, "P1", [("P1A", 100)], 0, w.producer)
    elif setup == "unknown":
        bid = batch_id(GTIN, lot("NOPE"))
    elif setup == "suspend":
        w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    elif setup == "carrier holds":
        w.move(bid, w.producer, w.carrier)
    r = resolver(w, bid)
    call = w.reg.initiateHandoff(w.handoff(bid, r(frm), r(to), own))
    w.reverts(call, r(sender), error, *map(r, args))


@pytest.mark.parametrize("own", [False, True])
def test_accept_handoff_moves_custody_and_title_only_if_asked(w: World, own: bool) -> None:
    bid = w.create()
    w.initiate(bid, w.producer, w.buyer, own)
    receipt = w.send(w.reg.acceptHandoff(bid, REASON), w.buyer)
    ev = w.event(receipt, "HandoffAccepted")
    assert (ev.batchId, ev["from"], ev.to, ev.document, ev.at) == (
        bid,
        w.producer,
        w.buyer,
        REASON,
        w.now(),
    )
    info = w.batch(bid)
    assert (info.custodian, info.owner, info.pending_to, info.pending_ownership) == (
        w.buyer,
        w.buyer if own else w.producer,
        ZERO,
        False,
    )


def test_accept_handoff_reverts(w: World) -> None:
    bid = w.create()
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.carrier, "RegistryNoPendingHandoff", bid)
    w.initiate(bid, w.producer, w.carrier)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.buyer, "RegistryNotRecipient", bid, w.buyer)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.producer, "RegistryNotRecipient", bid, w.producer)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.stranger, "RegistryUnknownParticipant", w.stranger)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.carrier, "RegistryBatchRecalled", bid)
    w.send(w.reg.suspendParticipant(w.carrier, REASON), w.admin)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.carrier, "RegistryParticipantInactive", w.carrier)


def test_reject_handoff_keeps_custody_with_the_sender(w: World) -> None:
    bid = w.create()
    w.initiate(bid, w.producer, w.carrier, own=True)
    receipt = w.send(w.reg.rejectHandoff(bid, REASON, DOC), w.carrier)
    ev = w.event(receipt, "HandoffRejected")
    assert (ev.batchId, ev["from"], ev.to, ev.reason, ev.document) == (
        bid,
        w.producer,
        w.carrier,
        REASON,
        DOC,
    )
    info = w.batch(bid)
    assert (info.custodian, info.owner, info.pending_to, info.pending_ownership) == (
        w.producer,
        w.producer,
        ZERO,
        False,
    )


def test_a_suspended_recipient_may_still_reject_and_a_suspended_sender_cancel(w: World) -> None:
    first, second = w.create(), w.create()
    w.initiate(first, w.producer, w.carrier)
    w.initiate(second, w.producer, w.processor)
    w.send(w.reg.suspendParticipant(w.carrier, REASON), w.admin)
    w.send(w.reg.rejectHandoff(first, REASON, DOC), w.carrier)
    w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    w.send(w.reg.cancelHandoff(second, DOC), w.producer)
    assert w.batch(first).pending_to == w.batch(second).pending_to == ZERO


def test_reject_handoff_reverts(w: World) -> None:
    bid = w.create()
    w.reverts(w.reg.rejectHandoff(bid, REASON, DOC), w.carrier, "RegistryNoPendingHandoff", bid)
    w.initiate(bid, w.producer, w.carrier)
    for caller in (w.producer, w.buyer, w.stranger):
        w.reverts(
            w.reg.rejectHandoff(bid, REASON, DOC), caller, "RegistryNotRecipient", bid, caller
        )


def test_cancel_handoff_by_the_custodian_withdraws_it(w: World) -> None:
    bid = w.create()
    w.initiate(bid, w.producer, w.carrier)
    receipt = w.send(w.reg.cancelHandoff(bid, REASON), w.producer)
    ev = w.event(receipt, "HandoffCancelled")
    assert (ev.batchId, ev["from"], ev.to, ev.document) == (bid, w.producer, w.carrier, REASON)
    assert w.batch(bid).pending_to == ZERO
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.carrier, "RegistryNoPendingHandoff", bid)


def test_cancel_handoff_reverts(w: World) -> None:
    bid = w.create()
    w.reverts(w.reg.cancelHandoff(bid, DOC), w.producer, "RegistryNoPendingHandoff", bid)
    w.initiate(bid, w.producer, w.carrier)
    for caller in (w.carrier, w.stranger):
        w.reverts(w.reg.cancelHandoff(bid, DOC), caller, "RegistryNotCustodian", bid, caller)


def test_a_recalled_batch_can_still_be_called_back_by_its_sender(w: World) -> None:
    bid = w.create()
    w.initiate(bid, w.producer, w.carrier)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.admin)
    w.send(w.reg.cancelHandoff(bid, DOC), w.producer)
    assert w.batch(bid).pending_to == ZERO


def test_bulk_handoffs_move_every_batch(w: World) -> None:
    bids = [w.create() for _ in range(3)]
    receipt = w.send(w.reg.initiateHandoffs(bids, w.carrier, 0, 3, 1, True, DOC), w.producer)
    initiated = w.events(receipt, "HandoffInitiated")
    assert [(e.args.batchId, e.args.transferOwnership) for e in initiated] == [
        (b, True) for b in bids
    ]
    receipt = w.send(w.reg.acceptHandoffs(bids, REASON), w.carrier)
    assert [e.args.document for e in w.events(receipt, "HandoffAccepted")] == [REASON] * 3
    assert all(w.batch(b).custodian == w.batch(b).owner == w.carrier for b in bids)


def test_bulk_handoffs_revert_as_a_whole(w: World) -> None:
    bids = [w.create() for _ in range(2)]
    w.reverts(
        w.reg.initiateHandoffs([], w.carrier, 0, 0, 0, False, DOC),
        w.producer,
        "RegistryInvalidInputCount",
        0,
    )
    w.reverts(w.reg.acceptHandoffs([], DOC), w.carrier, "RegistryInvalidInputCount", 0)
    w.reverts(
        w.reg.initiateHandoffs(bids, w.stranger, 0, 0, 0, False, DOC),
        w.producer,
        "RegistryUnknownParticipant",
        w.stranger,
    )
    w.reverts(
        w.reg.initiateHandoffs(bids, w.carrier, 0, 0, 0, False, DOC),
        w.suspended,
        "RegistryParticipantInactive",
        w.suspended,
    )
    w.initiate(bids[1], w.producer, w.buyer)
    w.reverts(
        w.reg.initiateHandoffs(bids, w.carrier, 0, 0, 0, False, DOC),
        w.producer,
        "RegistryHandoffPending",
        bids[1],
        w.buyer,
    )
    w.initiate(bids[0], w.producer, w.carrier)
    w.reverts(
        w.reg.acceptHandoffs(bids, DOC), w.carrier, "RegistryNotRecipient", bids[1], w.carrier
    )
    assert w.batch(bids[0]).custodian == w.producer


# ================================================================ bound deliveries


@pytest.mark.parametrize("fca", [False, True], ids=["DAP", "FCA"])
def test_a_tender_binds_the_batch_to_the_buyer(w: World, fca: bool) -> None:
    terms = w.terms(carrier=w.carrier if fca else ZERO)
    agreement = w.funded(terms)
    bid = w.create()
    receipt = w.tender(agreement, terms, bid)
    ev = w.event(receipt, "HandoffInitiated")
    point = w.carrier if fca else w.buyer
    assert (ev.batchId, ev["from"], ev.to, ev.transferOwnership, ev.location, ev.document) == (
        bid,
        w.producer,
        point,
        not fca,  # the effective flag: title moves on acceptance only at the buyer
        LEG[0],
        LEG[3],
    )
    info = w.batch(bid)
    assert (info.custodian, info.owner, info.pending_to, info.bound_to, info.tender_leg) == (
        w.producer,
        w.producer,
        point,
        w.buyer,
        True,
    )
    # effective, as the event: title passes on acceptance only when the tender goes to the buyer
    assert info.pending_ownership is (point == w.buyer)


def test_the_buyer_cannot_accept_a_bound_delivery_through_the_registry(w: World) -> None:
    _, _, bid = tendered(w)
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.buyer, "RegistryBoundDelivery", bid, w.buyer)
    w.reverts(w.reg.acceptHandoffs([bid], DOC), w.buyer, "RegistryBoundDelivery", bid, w.buyer)


@pytest.mark.parametrize("fca", [False, True], ids=["DAP", "FCA"])
def test_a_tender_leg_is_neither_cancelled_nor_rejected_through_the_registry(
    w: World, fca: bool
) -> None:
    _, _, bid = tendered(w, carrier=w.carrier if fca else ZERO)
    point = w.carrier if fca else w.buyer
    w.reverts(w.reg.cancelHandoff(bid, DOC), w.producer, "RegistryTenderPending", bid)
    w.reverts(w.reg.rejectHandoff(bid, REASON, DOC), point, "RegistryTenderPending", bid)


def test_a_bound_batch_moves_only_through_carriers_to_its_buyer_without_title(w: World) -> None:
    _, _, bid = tendered(w, carrier=w.carrier)
    w.send(w.reg.acceptHandoff(bid, DOC), w.carrier)  # the tender point takes the goods
    info = w.batch(bid)
    assert (info.custodian, info.owner, info.bound_to, info.tender_leg) == (
        w.carrier,
        w.producer,
        w.buyer,
        False,
    )
    for to, own in ((w.processor, False), (w.buyer2, False), (w.carrier2, True), (w.buyer, True)):
        w.reverts(
            w.reg.initiateHandoff(w.handoff(bid, w.carrier, to, own)),
            w.carrier,
            "RegistryBoundDelivery",
            bid,
            w.buyer,
        )
    w.reverts(
        w.reg.initiateHandoffs([bid], w.processor, 0, 0, 0, False, DOC),
        w.carrier,
        "RegistryBoundDelivery",
        bid,
        w.buyer,
    )
    # carrier to carrier: custody only; the leg that ends at the buyer carries title
    receipt = w.initiate(bid, w.carrier, w.carrier2)
    assert w.event(receipt, "HandoffInitiated").transferOwnership is False
    w.send(w.reg.acceptHandoff(bid, DOC), w.carrier2)
    receipt = w.initiate(bid, w.carrier2, w.buyer)
    assert w.event(receipt, "HandoffInitiated").transferOwnership is True
    assert w.batch(bid).pending_ownership is True  # as the event: title passes on acceptance
    w.reverts(w.reg.acceptHandoff(bid, DOC), w.buyer, "RegistryBoundDelivery", bid, w.buyer)
    # an ordinary leg towards the buyer may be called back by its carrier, or refused by the buyer
    w.send(w.reg.rejectHandoff(bid, REASON, DOC), w.buyer)
    w.initiate(bid, w.carrier2, w.buyer)
    w.send(w.reg.cancelHandoff(bid, DOC), w.carrier2)
    assert w.batch(bid).bound_to == w.buyer


def test_a_bound_batch_is_never_consumed_nor_tendered_again(w: World) -> None:
    _, _, bid = tendered(w, carrier=w.carrier2)
    w.send(w.reg.updateParticipant(w.carrier2, CARRIER | PROCESSOR | PRODUCER, 0, DOC), w.admin)
    w.reverts(
        w.reg.splitBatch(bid, lot("T"), [(lot("TA"), 100)], 0, DOC),
        w.carrier2,
        "RegistryHandoffPending",
        bid,
        w.carrier2,
    )
    w.send(w.reg.acceptHandoff(bid, DOC), w.carrier2)
    w.reverts(
        w.reg.splitBatch(bid, lot("T"), [(lot("TA"), 100)], 0, DOC),
        w.carrier2,
        "RegistryBoundDelivery",
        bid,
        w.buyer,
    )
    w.reverts(
        w.reg.transformBatches([bid], [(GTIN_P, lot("T"), 1, KGM)], DOC),
        w.carrier2,
        "RegistryBoundDelivery",
        bid,
        w.buyer,
    )
    other = w.terms()
    agreement = w.funded(other)
    w.reverts(
        w.agr.tender(agreement, other.as_tuple(), bid, LEG, []),
        w.producer,
        "RegistryBoundDelivery",
        bid,
        w.buyer,
    )


def test_a_tender_needs_the_supplier_to_own_the_batch(w: World) -> None:
    terms = w.terms()
    agreement = w.funded(terms)
    t = terms.as_tuple()
    # sold to the processor (title moved): no longer the supplier's to tender
    sold = w.create()
    w.move(sold, w.producer, w.processor, own=True)
    w.reverts(
        w.agr.tender(agreement, t, sold, LEG, []), w.producer, "RegistryNotOwner", sold, w.producer
    )
    # owned, but held by a non-carrier (a processor working on it): not the supplier's to tender
    lent = w.create()
    w.move(lent, w.producer, w.processor)
    w.reverts(
        w.agr.tender(agreement, t, lent, LEG, []),
        w.producer,
        "RegistryNotCustodian",
        lent,
        w.producer,
    )
    # owned and held by a carrier for the supplier: tendered from the carrier
    carried = w.create()
    w.move(carried, w.producer, w.carrier)
    receipt = w.tender(agreement, terms, carried)
    ev = w.event(receipt, "HandoffInitiated")
    assert (ev["from"], ev.to) == (w.carrier, w.buyer)


def test_bind_delivery_refuses_what_cannot_be_delivered(w: World) -> None:
    terms = w.terms(carrier=w.carrier)
    agreement = w.funded(terms)
    t = terms.as_tuple()
    bid = w.create()
    w.move(bid, w.producer, w.carrier)  # the carrier already holds it: the tender point is itself
    w.reverts(
        w.agr.tender(agreement, t, bid, LEG, []), w.producer, "RegistrySelfHandoff", bid, w.carrier
    )
    pending = w.create()
    w.initiate(pending, w.producer, w.carrier2)
    w.reverts(
        w.agr.tender(agreement, t, pending, LEG, []),
        w.producer,
        "RegistryHandoffPending",
        pending,
        w.carrier2,
    )
    unknown = batch_id(GTIN, lot("NOPE"))
    w.reverts(
        w.agr.tender(agreement, t, unknown, LEG, []), w.producer, "RegistryUnknownBatch", unknown
    )
    # a tender point that is not a carrier
    odd = w.terms(carrier=w.processor)
    odd_id = w.funded(odd)
    fresh = w.create()
    w.reverts(
        w.agr.tender(odd_id, odd.as_tuple(), fresh, LEG, []),
        w.producer,
        "RegistryMissingRole",
        w.processor,
        CARRIER,
    )
    # an unregistered buyer
    ghost = w.terms(buyer=w.stranger)
    ghost_id = w.propose(ghost, by=w.producer)
    w.send(w.agr.accept(ghost_id, ghost.as_tuple()), w.stranger)
    w.send(w.agr.fund(ghost_id, ghost.as_tuple()), w.stranger, ghost.escrow)
    w.reverts(
        w.agr.tender(ghost_id, ghost.as_tuple(), fresh, LEG, []),
        w.producer,
        "RegistryUnknownParticipant",
        w.stranger,
    )


def test_bind_delivery_refuses_suspended_parties(w: World) -> None:
    terms = w.terms()
    agreement = w.funded(terms)
    bid = w.create()
    w.send(w.reg.suspendParticipant(w.buyer, REASON), w.admin)
    w.reverts(
        w.agr.tender(agreement, terms.as_tuple(), bid, LEG, []),
        w.producer,
        "RegistryParticipantInactive",
        w.buyer,
    )
    w.send(w.reg.reinstateParticipant(w.buyer), w.admin)
    w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    w.reverts(
        w.agr.tender(agreement, terms.as_tuple(), bid, LEG, []),
        w.producer,
        "RegistryParticipantInactive",
        w.producer,
    )


# ================================================================ split, merge, transform


def test_split_creates_children_that_extend_the_lot_and_consumes_the_parent(w: World) -> None:
    bid = w.create("LOT7", 100)
    w.move(bid, w.producer, w.carrier)
    call = w.reg.splitBatch(bid, lot("LOT7"), [(lot("LOT7-A"), 60), (lot("LOT7-B"), 35)], 5, REASON)
    receipt = w.send(call, w.carrier)
    a, b = batch_id(GTIN, lot("LOT7-A")), batch_id(GTIN, lot("LOT7-B"))
    assert [
        (e.args.childId, e.args.parentId, e.args.lot, e.args.quantity)
        for e in w.events(receipt, "BatchSplit")
    ] == [
        (a, bid, lot("LOT7-A"), 60),
        (b, bid, lot("LOT7-B"), 35),
    ]
    consumed = w.event(receipt, "BatchConsumed")
    assert (consumed.batchId, consumed.by, consumed.kind, consumed.loss, consumed.document) == (
        bid,
        w.carrier,
        SPLIT,
        5,
        REASON,
    )
    parent = w.batch(bid)
    assert (parent.state, parent.lineage_number, parent.pending_to, parent.quantity) == (
        CONSUMED,
        1,
        ZERO,
        100,
    )
    # the carrier holds the children; title and the recall right stay with the producer
    assert w.batch(a) == BatchInfo(
        w.carrier, w.producer, ZERO, w.producer, ZERO, ACTIVE, False, False, False, False,
        GTIN, 60, KGM, 0, 1,
    )  # fmt: skip
    assert w.reg.lineageOf(a).call() == w.reg.lineageOf(b).call() == [1]


SPLIT_ERRORS = [
    # (label, parent lot given, parts, loss, error, args)
    ("no parts", "P", [], 0, "RegistryInvalidInputCount", (0,)),
    ("too little", "P", [("PA", 50), ("PB", 40)], 0, "RegistryQuantityMismatch", (100, 90)),
    ("too much", "P", [("PA", 50), ("PB", 50)], 1, "RegistryQuantityMismatch", (100, 101)),
    ("zero part", "P", [("PA", 100), ("PB", 0)], 0, "RegistryZeroQuantity", ()),
    ("same child twice", "P", [("PA", 50), ("PA", 50)], 0, "RegistryBatchExists", ("$PA",)),
    ("child is parent lot", "P", [("P", 100)], 0, "RegistryLotNotExtended", (lot("P"), lot("P"))),
    ("child elsewhere", "P", [("X1", 100)], 0, "RegistryLotNotExtended", (lot("P"), lot("X1"))),
    ("child a start of parent", "P", [("", 100)], 0, "RegistryLotNotExtended", (lot("P"), lot(""))),
    ("wrong parent lot", "Q", [("QA", 100)], 0, "RegistryLotMismatch", ("$bid", lot("Q"))),
    ("invalid child lot", "P", [("P A", 100)], 0, "RegistryInvalidLot", (lot("P A"),)),
    (
        "child too long",
        "P",
        [("P" + "A" * 20, 100)],
        0,
        "RegistryInvalidLot",
        (lot("P" + "A" * 20),),
    ),
]


@pytest.mark.parametrize(
    ("parent_lot", "parts", "loss", "error", "args"),
    [c[1:] for c in SPLIT_ERRORS],
    ids=[c[0] for c in SPLIT_ERRORS],
)
def test_split_reverts_on_bad_parts(
    w: World, parent_lot: str, parts: list, loss: int, error: str, args: tuple
) -> None:
    bid = w.create("P", 100)
    resolved = [
        bid
        if a == "$bid"
        else batch_id(GTIN, lot(a[1:]))
        if isinstance(a, str) and a[0] == "$"
        else a
        for a in args
    ]
    call = w.reg.splitBatch(bid, lot(parent_lot), [(lot(n), q) for n, q in parts], loss, DOC)
    w.reverts(call, w.producer, error, *resolved)


def test_a_twenty_character_lot_cannot_be_split(w: World) -> None:
    bid = w.create("B" * 20, 10)
    w.reverts(
        w.reg.splitBatch(bid, lot("B" * 20), [(lot("B" * 20), 10)], 0, DOC),
        w.producer,
        "RegistryLotNotExtended",
        lot("B" * 20),
        lot("B" * 20),
    )


def test_split_reverts_on_a_frozen_or_foreign_parent(w: World) -> None:
    bid = w.create("P", 100)
    parts = [(lot("PA"), 100)]
    w.reverts(
        w.reg.splitBatch(bid, lot("P"), parts, 0, DOC),
        w.carrier,
        "RegistryNotCustodian",
        bid,
        w.carrier,
    )
    w.reverts(
        w.reg.splitBatch(bid, lot("P"), parts, 0, DOC),
        w.stranger,
        "RegistryUnknownParticipant",
        w.stranger,
    )
    w.initiate(bid, w.producer, w.carrier)
    w.reverts(
        w.reg.splitBatch(bid, lot("P"), parts, 0, DOC),
        w.producer,
        "RegistryHandoffPending",
        bid,
        w.carrier,
    )
    w.send(w.reg.cancelHandoff(bid, DOC), w.producer)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    w.reverts(
        w.reg.splitBatch(bid, lot("P"), parts, 0, DOC), w.producer, "RegistryBatchRecalled", bid
    )
    w.send(w.reg.liftRecall(bid, REASON, DOC), w.admin)
    w.split(bid, "P", [("PA", 100)], 0, w.producer)
    w.reverts(
        w.reg.splitBatch(bid, lot("P"), [(lot("PB"), 100)], 0, DOC),
        w.producer,
        "RegistryBatchNotActive",
        bid,
        CONSUMED,
    )
    unknown = batch_id(GTIN, lot("NOPE"))
    w.reverts(
        w.reg.splitBatch(unknown, lot("NOPE"), parts, 0, DOC),
        w.producer,
        "RegistryUnknownBatch",
        unknown,
    )
    w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    child = batch_id(GTIN, lot("PA"))
    w.reverts(
        w.reg.splitBatch(child, lot("PA"), [(lot("PA1"), 100)], 0, DOC),
        w.producer,
        "RegistryParticipantInactive",
        w.producer,
    )


def test_nobody_pre_claims_another_partys_lots_by_splitting(w: World) -> None:
    # the brand plans lot "2026-B"; a holder of its lot "2026-A" cannot create "2026-B" by splitting
    bid = w.create("2026-A", 100)
    w.move(bid, w.producer, w.carrier, own=True)
    w.reverts(
        w.reg.splitBatch(bid, lot("2026-A"), [(lot("2026-B"), 100)], 0, DOC),
        w.carrier,
        "RegistryLotNotExtended",
        lot("2026-A"),
        lot("2026-B"),
    )


def test_merge_creates_a_child_extending_the_first_lot_with_every_parent(w: World) -> None:
    a, b = w.create("A", 30), w.create("B", 20)
    w.move(a, w.producer, w.carrier)
    w.move(b, w.producer, w.carrier)
    receipt = w.send(w.reg.mergeBatches([a, b], lot("A"), lot("A+B"), 5, REASON), w.carrier)
    m = batch_id(GTIN, lot("A+B"))
    assert [
        (e.args.batchId, e.args.kind, e.args.loss) for e in w.events(receipt, "BatchConsumed")
    ] == [
        (a, MERGE, 5),
        (b, MERGE, 0),
    ]
    assert [
        (e.args.childId, e.args.parentId, e.args.kind) for e in w.events(receipt, "BatchDerived")
    ] == [
        (m, a, MERGE),
        (m, b, MERGE),
    ]
    created = w.event(receipt, "BatchCreated")
    assert (created.batchId, created.creator, created.quantity, created.lot, created.document) == (
        m,
        w.carrier,
        45,
        lot("A+B"),
        REASON,
    )
    assert w.batch(m) == BatchInfo(
        w.carrier, w.producer, ZERO, w.producer, ZERO, ACTIVE, False, False, False, False,
        GTIN, 45, KGM, 0, 2,
    )  # fmt: skip
    assert sorted(w.reg.lineageOf(m).call()) == [1, 2]
    assert (w.batch(a).lineage_number, w.batch(b).lineage_number) == (1, 2)


def test_merge_reverts(w: World) -> None:
    a, b = w.create("A", 30), w.create("B", 20)
    g = w.create("G", 10, gtin=GTIN_B)
    u = w.create("U", 10, uom=LTR)
    f = w.reg.mergeBatches
    w.reverts(f([a], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryInvalidInputCount", 1)
    w.reverts(f([], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryInvalidInputCount", 0)
    w.reverts(
        f([a, a], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryBatchNotActive", a, CONSUMED
    )
    w.reverts(
        f([a, g], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryIncompatibleBatches", a, g
    )
    w.reverts(
        f([a, u], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryIncompatibleBatches", a, u
    )
    w.reverts(
        f([a, b], lot("A"), lot("AM"), 50, DOC), w.producer, "RegistryQuantityMismatch", 50, 50
    )
    w.reverts(
        f([a, b], lot("A"), lot("BM"), 0, DOC),
        w.producer,
        "RegistryLotNotExtended",
        lot("A"),
        lot("BM"),
    )
    w.reverts(
        f([a, b], lot("B"), lot("BM"), 0, DOC), w.producer, "RegistryLotMismatch", a, lot("B")
    )
    w.reverts(
        f([a, b], lot("A"), lot("A"), 0, DOC),
        w.producer,
        "RegistryLotNotExtended",
        lot("A"),
        lot("A"),
    )
    w.reverts(f([a, b], lot("A"), lot("A B"), 0, DOC), w.producer, "RegistryInvalidLot", lot("A B"))
    existing = w.create("AM", 1)
    w.reverts(f([a, b], lot("A"), lot("AM"), 0, DOC), w.producer, "RegistryBatchExists", existing)
    w.move(b, w.producer, w.carrier)
    w.reverts(
        f([a, b], lot("A"), lot("AM2"), 0, DOC), w.producer, "RegistryNotCustodian", b, w.producer
    )


def test_merge_of_different_owners_or_origins_reverts(w: World) -> None:
    a, b, c = w.create("A", 30), w.create("B", 20), w.create("C", 10)
    w.move(a, w.producer, w.carrier, own=True)
    w.move(b, w.producer, w.carrier, own=False)
    w.reverts(
        w.reg.mergeBatches([a, b], lot("A"), lot("AM"), 0, DOC),
        w.carrier,
        "RegistryIncompatibleBatches",
        a,
        b,
    )
    # the same GTIN commissioned by another brand after the prefix changed hands: another origin
    w.send(w.reg.revokePrefix(*FARM_PREFIX), w.admin)
    w.send(w.reg.assignPrefix(w.rival, *FARM_PREFIX), w.admin)
    d = w.create("D", 10, by=w.rival)
    w.move(d, w.rival, w.carrier, own=True)
    w.move(c, w.producer, w.carrier, own=True)
    w.reverts(
        w.reg.mergeBatches([a, d], lot("A"), lot("AM"), 0, DOC),
        w.carrier,
        "RegistryIncompatibleBatches",
        a,
        d,
    )
    m = w.merge([a, c], "A", "AM", w.carrier)
    assert (w.batch(m).origin, w.batch(m).owner) == (w.producer, w.carrier)


def test_merge_keeps_the_quantity_within_48_bits(w: World) -> None:
    big = 2**48 - 1
    a, b = w.create("A", big), w.create("B", 1)
    w.reverts(
        w.reg.mergeBatches([a, b], lot("A"), lot("AM"), 0, DOC),
        w.producer,
        "RegistryQuantityMismatch",
        big + 1,
        0,
    )
    m = w.merge([a, b], "A", "AM", w.producer, loss=1)
    assert w.batch(m).quantity == big


def test_transform_consumes_inputs_whole_and_outputs_belong_to_the_owner(w: World) -> None:
    a, b = w.create("A", 30), w.create("B", 20)
    w.send(w.reg.initiateHandoffs([a, b], w.processor, 0, 0, 0, False, DOC), w.producer)
    w.send(w.reg.acceptHandoffs([a, b], DOC), w.processor)
    outputs = [(GTIN_P, "O1", 7, H87), (GTIN_P2, "O2", 3, LTR)]
    receipt = w.send(
        w.reg.transformBatches([a, b], [(g, lot(n), q, u) for g, n, q, u in outputs], REASON),
        w.processor,
    )
    o1, o2 = batch_id(GTIN_P, lot("O1")), batch_id(GTIN_P2, lot("O2"))
    assert [
        (e.args.childId, e.args.parentId, e.args.kind) for e in w.events(receipt, "BatchDerived")
    ] == [
        (o1, a, TRANSFORM),
        (o1, b, TRANSFORM),
        (o2, a, TRANSFORM),
        (o2, b, TRANSFORM),
    ]
    assert [(e.args.kind, e.args.loss, e.args.by) for e in w.events(receipt, "BatchConsumed")] == [
        (TRANSFORM, 0, w.processor)
    ] * 2
    assert [e.args.creator for e in w.events(receipt, "BatchCreated")] == [w.processor] * 2
    assert w.batch(o1) == BatchInfo(
        w.processor, w.producer, ZERO, w.processor, ZERO, ACTIVE, False, False, False, False,
        GTIN_P, 7, H87, 0, 2,
    )  # fmt: skip
    assert w.reg.lineageOf(o1).call() == w.reg.lineageOf(o2).call()


def test_a_producer_may_transform_into_its_own_gtins(w: World) -> None:
    a = w.create("A", 30)
    (out,) = w.transform([a], [(GTIN_B, "X", 30, KGM)], w.producer)
    assert (w.batch(out).origin, w.batch(out).gtin) == (w.producer, GTIN_B)


def test_transform_reverts(w: World) -> None:
    a = w.create("A", 30)
    out = [(GTIN_P, lot("O1"), 7, H87)]
    f = w.reg.transformBatches
    w.reverts(f([], out, DOC), w.producer, "RegistryInvalidInputCount", 0)
    w.reverts(f([a], [], DOC), w.producer, "RegistryInvalidInputCount", 0)
    # a producer mints only under its own prefix
    w.reverts(f([a], out, DOC), w.producer, "RegistryNotPrefixHolder", GTIN_P, w.producer)
    w.move(a, w.producer, w.processor)
    w.reverts(
        f([a], [(GTIN, lot("O1"), 7, H87)], DOC),
        w.processor,
        "RegistryNotPrefixHolder",
        GTIN,
        w.processor,
    )
    w.reverts(
        f([a], [(GTIN_FREE, lot("O1"), 7, H87)], DOC),
        w.processor,
        "RegistryNotPrefixHolder",
        GTIN_FREE,
        w.processor,
    )
    w.reverts(
        f([a], [(GTIN_P + 1, lot("O1"), 7, H87)], DOC),
        w.processor,
        "RegistryInvalidGtin",
        GTIN_P + 1,
    )
    w.reverts(f([a], [(GTIN_P, lot("O1"), 0, H87)], DOC), w.processor, "RegistryZeroQuantity")
    w.reverts(f([a], [(GTIN_P, ZERO32, 1, H87)], DOC), w.processor, "RegistryInvalidLot", ZERO32)
    w.reverts(
        f([a], [(GTIN_P, lot("O1"), 1, b"x\0\0")], DOC), w.processor, "RegistryInvalidUom", b"x\0\0"
    )
    w.reverts(
        f([a], [(GTIN_P, lot("O1"), 1, H87), (GTIN_P, lot("O1"), 1, H87)], DOC),
        w.processor,
        "RegistryBatchExists",
        batch_id(GTIN_P, lot("O1")),
    )
    w.reverts(f([a, a], out, DOC), w.processor, "RegistryBatchNotActive", a, CONSUMED)
    # carriers hold goods but do not transform them
    c = w.create("C", 30)
    w.move(c, w.producer, w.carrier)
    w.reverts(f([c], out, DOC), w.carrier, "RegistryMissingRole", w.carrier, PROCESSOR | PRODUCER)
    # inputs of different owners
    b = w.create("B", 30)
    w.move(b, w.producer, w.processor, own=True)
    w.reverts(f([a, b], out, DOC), w.processor, "RegistryIncompatibleBatches", a, b)
    w.reverts(f([a, c], out, DOC), w.processor, "RegistryNotCustodian", c, w.processor)


def test_transform_cannot_inflate_another_brands_gtin(w: World) -> None:
    """Scenario 8c: a processor without the brand's prefix cannot mint any GTIN from 1 KGM."""
    a = w.create("A", 1)
    w.move(a, w.producer, w.processor)
    huge = 2**48 - 1
    w.reverts(
        w.reg.transformBatches([a], [(GTIN_B, lot("BIG"), huge, KGM)], DOC),
        w.processor,
        "RegistryNotPrefixHolder",
        GTIN_B,
        w.processor,
    )
    (own,) = w.transform([a], [(GTIN_P, "BIG", huge, KGM)], w.processor)
    assert w.batch(own).origin == w.processor  # its own GTIN: its own brand, its own recall


# ================================================================ lineage and recall reach


def chain_of_splits(w: World, depth: int, root: str = "R") -> list[bytes]:
    """A root batch split 1:1 `depth` times (each child extends its parent's lot by one letter)."""
    ids = [w.create(root, 10)]
    name = root
    for _ in range(depth):
        (child,) = w.split(ids[-1], name, [(name + "A", 10)], 0, w.producer)
        ids.append(child)
        name += "A"
    return ids


def test_every_descendant_carries_all_its_ancestors(w: World) -> None:
    a, b = w.create("A", 30), w.create("B", 20)
    (a1, a2) = w.split(a, "A", [("A1", 10), ("A2", 20)], 0, w.producer)  # a: number 1
    m = w.merge([a1, b], "A1", "A1M", w.producer)  # a1: 2, b: 3
    w.move(m, w.producer, w.processor)
    (t,) = w.transform([m], [(GTIN_P, "T", 5, KGM)], w.processor)  # m: 4
    assert [w.batch(x).lineage_number for x in (a, a1, b, m)] == [1, 2, 3, 4]
    assert w.batch(a2).lineage_number == 0
    assert sorted(w.reg.lineageOf(a2).call()) == [1]
    assert sorted(w.reg.lineageOf(m).call()) == [1, 2, 3]
    assert sorted(w.reg.lineageOf(t).call()) == [1, 2, 3, 4]
    assert w.batch(t).ancestors == 4


@pytest.mark.parametrize("how", ["split", "merge", "transform", "deep"])
def test_a_recall_reaches_every_descendant(w: World, how: str) -> None:
    root = w.create("A", 30)
    if how == "split":
        (desc,) = w.split(root, "A", [("A1", 30)], 0, w.producer)
    elif how == "merge":
        other = w.create("B", 10)
        desc = w.merge([root, other], "A", "AM", w.producer)
    elif how == "transform":
        w.move(root, w.producer, w.processor)
        (desc,) = w.transform([root], [(GTIN_P, "T", 5, KGM)], w.processor)
    else:  # the deepest lineage a batch can carry
        chain = chain_of_splits(w, MAX_LINEAGE)
        root, desc = chain[0], chain[-1]
    number = w.batch(root).lineage_number
    holder = w.batch(desc).custodian
    w.initiate(desc, holder, w.carrier)  # a handoff in flight when the recall lands
    receipt = w.send(w.reg.recallBatch(root, REASON, DOC), w.admin)
    ev = w.event(receipt, "BatchRecalled")
    assert (ev.batchId, ev.by, ev.reason, ev.document) == (root, w.admin, REASON, DOC)
    info = w.batch(desc)
    assert (info.recalled, info.lineage_recalled) == (False, True)
    w.reverts(w.reg.acceptHandoff(desc, DOC), w.carrier, "RegistryAncestorRecalled", desc, number)
    w.send(w.reg.cancelHandoff(desc, DOC), holder)
    w.reverts(
        w.reg.initiateHandoff(w.handoff(desc, holder, w.carrier)),
        holder,
        "RegistryAncestorRecalled",
        desc,
        number,
    )
    # lifting the recall frees the descendants again
    receipt = w.send(w.reg.liftRecall(root, REASON, DOC), w.admin)
    assert w.event(receipt, "RecallLifted").by == w.admin
    assert w.batch(desc).lineage_recalled is False
    w.move(desc, holder, w.carrier)


def test_a_recalled_ancestor_blocks_consumption_tender_and_completion(w: World) -> None:
    parent = w.create("P", 200)
    a, b = w.split(parent, "P", [("PA", 100), ("PB", 100)], 0, w.producer)
    terms = w.terms()
    agreement = w.funded(terms)
    w.tender(agreement, terms, a)
    w.send(w.reg.recallBatch(parent, REASON, DOC), w.producer)
    w.reverts(
        w.agr.acceptDelivery(agreement, terms.as_tuple(), a, DOC),
        w.buyer,
        "RegistryAncestorRecalled",
        a,
        1,
    )
    w.reverts(
        w.reg.splitBatch(b, lot("PB"), [(lot("PB1"), 100)], 0, DOC),
        w.producer,
        "RegistryAncestorRecalled",
        b,
        1,
    )
    other = w.terms()
    other_id = w.funded(other)
    w.reverts(
        w.agr.tender(other_id, other.as_tuple(), b, LEG, []),
        w.producer,
        "RegistryAncestorRecalled",
        b,
        1,
    )


def test_the_sixteenth_ancestor_is_refused(w: World) -> None:
    chain = chain_of_splits(w, MAX_LINEAGE)
    leaf = chain[-1]
    assert w.batch(leaf).ancestors == MAX_LINEAGE
    assert sorted(w.reg.lineageOf(leaf).call()) == list(range(1, MAX_LINEAGE + 1))
    name = "R" + "A" * MAX_LINEAGE
    w.reverts(
        w.reg.splitBatch(leaf, lot(name), [(lot(name + "A"), 10)], 0, DOC),
        w.producer,
        "RegistryLineageTooLarge",
        MAX_LINEAGE,
    )
    w.move(leaf, w.producer, w.processor)
    w.reverts(
        w.reg.transformBatches([leaf], [(GTIN_P, lot("T"), 1, KGM)], DOC),
        w.processor,
        "RegistryLineageTooLarge",
        MAX_LINEAGE,
    )
    w.move(leaf, w.processor, w.producer)
    w.move(leaf, w.producer, w.carrier)  # the leaf itself still moves and can be delivered


def test_a_merge_whose_lineages_add_up_past_the_bound_is_refused(w: World) -> None:
    left = chain_of_splits(w, 7, root="X")[-1]  # 7 ancestors
    right = chain_of_splits(w, 7, root="XY")[-1]  # 7 others: 7 + 7 + 2 = 16
    w.reverts(
        w.reg.mergeBatches([left, right], lot("X" + "A" * 7), lot("X" + "A" * 7 + "M"), 0, DOC),
        w.producer,
        "RegistryLineageTooLarge",
        MAX_LINEAGE,
    )
    small = chain_of_splits(w, 6, root="Z")[-1]  # 7 + 6 + 2 = 15: accepted
    m = w.merge([left, small], "X" + "A" * 7, "X" + "A" * 7 + "M", w.producer)
    assert w.batch(m).ancestors == MAX_LINEAGE


def test_lineage_numbers_stop_at_32_bits(w: World) -> None:
    set_counters(w, lineage=2**32 - 2)
    bid = w.create("P", 10)
    (child,) = w.split(bid, "P", [("PA", 10)], 0, w.producer)
    assert w.batch(bid).lineage_number == 2**32 - 1
    w.reverts(
        w.reg.splitBatch(child, lot("PA"), [(lot("PAA"), 10)], 0, DOC),
        w.producer,
        "RegistryLineageTooLarge",
        2**32 - 1,
    )


# ================================================================ recall rights


@pytest.mark.parametrize("recaller", ["producer", "admin"])
def test_the_origin_or_the_operator_recalls(w: World, recaller: str) -> None:
    bid = w.create()
    w.move(bid, w.producer, w.buyer, own=True)  # sold: the producer is no longer owner or holder
    receipt = w.send(w.reg.recallBatch(bid, REASON, DOC), getattr(w, recaller))
    ev = w.event(receipt, "BatchRecalled")
    assert (ev.batchId, ev.by, ev.at) == (bid, getattr(w, recaller), w.now())
    info = w.batch(bid)
    assert (info.recalled, info.lineage_recalled, info.state) == (True, False, ACTIVE)


def test_recall_rights_follow_the_origin_not_custody_or_splits(w: World) -> None:
    bid = w.create("P", 100)
    w.move(bid, w.producer, w.carrier, own=True)
    (child,) = w.split(bid, "P", [("PA", 100)], 0, w.carrier)
    assert w.batch(child).origin == w.producer  # scenario 6: a split does not move the right
    for caller in (w.carrier, w.buyer):
        w.reverts(
            w.reg.recallBatch(child, REASON, DOC), caller, "RegistryNotRecaller", child, caller
        )
    w.send(w.reg.recallBatch(child, REASON, DOC), w.producer)


def test_a_suspended_origin_cannot_recall(w: World) -> None:
    bid = w.create()
    w.send(w.reg.suspendParticipant(w.producer, REASON), w.admin)
    w.reverts(
        w.reg.recallBatch(bid, REASON, DOC), w.producer, "RegistryNotRecaller", bid, w.producer
    )
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.admin)


def test_the_transformer_holds_the_recall_right_of_its_outputs(w: World) -> None:
    a = w.create("A", 10)
    w.move(a, w.producer, w.processor)
    (out,) = w.transform([a], [(GTIN_P, "O", 10, KGM)], w.processor)
    w.reverts(
        w.reg.recallBatch(out, REASON, DOC), w.producer, "RegistryNotRecaller", out, w.producer
    )
    w.send(w.reg.recallBatch(a, REASON, DOC), w.producer)  # ... but its input's recall reaches it
    assert w.batch(out).lineage_recalled is True
    w.send(w.reg.recallBatch(out, REASON, DOC), w.processor)
    assert w.batch(out).recalled is True


def test_recall_reverts(w: World) -> None:
    bid = w.create()
    unknown = batch_id(GTIN, lot("NOPE"))
    w.reverts(
        w.reg.recallBatch(bid, REASON, DOC), w.stranger, "RegistryNotRecaller", bid, w.stranger
    )
    w.reverts(w.reg.recallBatch(bid, REASON, DOC), w.rival, "RegistryNotRecaller", bid, w.rival)
    w.reverts(w.reg.recallBatch(unknown, REASON, DOC), w.admin, "RegistryUnknownBatch", unknown)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    w.reverts(w.reg.recallBatch(bid, REASON, DOC), w.admin, "RegistryBatchRecalled", bid)
    w.reverts(w.reg.recallBatch(bid, REASON, DOC), w.producer, "RegistryBatchRecalled", bid)


def test_a_consumed_batch_can_be_recalled_and_lifted(w: World) -> None:
    bid = w.create("P", 10)
    (child,) = w.split(bid, "P", [("PA", 10)], 0, w.producer)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    assert (w.batch(bid).state, w.batch(bid).recalled, w.batch(child).lineage_recalled) == (
        CONSUMED,
        True,
        True,
    )
    w.send(w.reg.liftRecall(bid, REASON, DOC), w.admin)
    assert (w.batch(bid).recalled, w.batch(child).lineage_recalled) == (False, False)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)  # and recalled again
    assert w.batch(child).lineage_recalled is True


def test_lift_recall_reverts(w: World) -> None:
    bid = w.create()
    unknown = batch_id(GTIN, lot("NOPE"))
    w.reverts(w.reg.liftRecall(bid, REASON, DOC), w.admin, "RegistryBatchNotRecalled", bid)
    w.reverts(w.reg.liftRecall(unknown, REASON, DOC), w.admin, "RegistryUnknownBatch", unknown)
    w.send(w.reg.recallBatch(bid, REASON, DOC), w.producer)
    w.reverts(
        w.reg.liftRecall(bid, REASON, DOC),
        w.producer,
        "AccessControlUnauthorizedAccount",
        w.producer,
        ADMIN_ROLE,
    )
    receipt = w.send(w.reg.liftRecall(bid, REASON, REASON), w.admin)
    ev = w.event(receipt, "RecallLifted")
    assert (ev.batchId, ev.by, ev.reason, ev.document) == (bid, w.admin, REASON, REASON)
    w.move(bid, w.producer, w.carrier)


def test_one_recall_among_many_consumed_batches_leaves_the_others_free(w: World) -> None:
    first = w.create("F", 10)
    (f1,) = w.split(first, "F", [("F1", 10)], 0, w.producer)
    second = w.create("S", 10)
    (s1,) = w.split(second, "S", [("S1", 10)], 0, w.producer)
    w.send(w.reg.recallBatch(first, REASON, DOC), w.producer)
    assert (w.batch(f1).lineage_recalled, w.batch(s1).lineage_recalled) == (True, False)
    w.move(s1, w.producer, w.carrier)


# ================================================================ attestations


def test_attest_issues_an_attestation_with_a_validity_window(w: World) -> None:
    subject, evidence = b"\x01" * 32, b"\x03" * 32
    receipt = w.send(w.reg.attest(subject, CLAIM_ORGANIC, evidence, 100, 200), w.certifier)
    ev = w.event(receipt, "AttestationIssued")
    aid = attestation_id(subject, CLAIM_ORGANIC, w.certifier, evidence)
    assert (
        ev.subject,
        ev.claim,
        ev.issuer,
        ev.attestationId,
        ev.evidence,
        ev.validFrom,
        ev.validUntil,
    ) == (
        subject,
        CLAIM_ORGANIC,
        w.certifier,
        aid,
        evidence,
        100,
        200,
    )
    valid = [
        w.reg.isAttestationValid(subject, CLAIM_ORGANIC, w.certifier, evidence, t).call()
        for t in (99, 100, 200, 201)
    ]
    assert valid == [False, True, True, False]
    assert (
        w.reg.isAttestationValid(subject, CLAIM_ORGANIC, w.producer, evidence, 150).call() is False
    )


def test_an_account_can_be_the_subject(w: World) -> None:
    subject = subject_of(w.producer)
    w.attest(subject, keccak(text="GLOBALG.A.P."), evidence=DOC)
    assert w.reg.isAttestationValid(
        subject, keccak(text="GLOBALG.A.P."), w.certifier, DOC, w.now()
    ).call()


def test_attest_reverts(w: World) -> None:
    s, c, e = b"\x01" * 32, CLAIM_ORGANIC, b"\x03" * 32
    w.reverts(w.reg.attest(s, c, e, 0, 1), w.producer, "RegistryMissingRole", w.producer, CERTIFIER)
    w.reverts(w.reg.attest(s, c, e, 0, 1), w.stranger, "RegistryUnknownParticipant", w.stranger)
    w.reverts(w.reg.attest(s, c, e, 2, 1), w.certifier, "RegistryInvalidValidity", 2, 1)
    w.send(w.reg.attest(s, c, e, 0, 2**64 - 1), w.certifier)
    aid = attestation_id(s, c, w.certifier, e)
    w.reverts(w.reg.attest(s, c, e, 0, 5), w.certifier, "RegistryAttestationExists", aid)
    w.send(w.reg.suspendParticipant(w.certifier, REASON), w.admin)
    w.reverts(
        w.reg.attest(s, c, b"\x04" * 32, 0, 1),
        w.certifier,
        "RegistryParticipantInactive",
        w.certifier,
    )


def test_revoke_attestation_invalidates_it_from_the_revocation_on(w: World) -> None:
    s, c, e = b"\x01" * 32, CLAIM_ORGANIC, b"\x03" * 32
    w.send(w.reg.attest(s, c, e, 0, 2**64 - 1), w.certifier)
    receipt = w.send(w.reg.revokeAttestation(s, c, w.certifier, e, REASON), w.certifier)
    ev = w.event(receipt, "AttestationRevoked")
    aid = attestation_id(s, c, w.certifier, e)
    assert (ev.subject, ev.claim, ev.issuer, ev.attestationId, ev.reason) == (
        s,
        c,
        w.certifier,
        aid,
        REASON,
    )
    assert w.reg.isAttestationValid(s, c, w.certifier, e, ev.at - 1).call() is True
    assert w.reg.isAttestationValid(s, c, w.certifier, e, ev.at).call() is False


def test_revoke_attestation_reverts(w: World) -> None:
    s, c, e = b"\x01" * 32, CLAIM_ORGANIC, b"\x03" * 32
    w.send(w.reg.attest(s, c, e, 0, 2**64 - 1), w.certifier)
    aid = attestation_id(s, c, w.certifier, e)
    f = w.reg.revokeAttestation
    # another participant, even a certifier, cannot revoke someone else's attestation
    w.send(w.reg.updateParticipant(w.carrier, CARRIER | CERTIFIER, 0, DOC), w.admin)
    w.reverts(f(s, c, w.certifier, e, REASON), w.carrier, "RegistryNotIssuer", aid, w.carrier)
    w.reverts(f(s, c, w.certifier, e, REASON), w.producer, "RegistryNotIssuer", aid, w.producer)
    w.reverts(f(s, c, w.certifier, e, REASON), w.stranger, "RegistryUnknownParticipant", w.stranger)
    other = attestation_id(s, c, w.carrier, e)
    w.reverts(f(s, c, w.carrier, e, REASON), w.carrier, "RegistryUnknownAttestation", other)
    w.send(w.reg.suspendParticipant(w.certifier, REASON), w.admin)
    w.reverts(
        f(s, c, w.certifier, e, REASON), w.certifier, "RegistryParticipantInactive", w.certifier
    )
    w.send(w.reg.reinstateParticipant(w.certifier), w.admin)
    w.send(f(s, c, w.certifier, e, REASON), w.certifier)
    w.reverts(f(s, c, w.certifier, e, REASON), w.certifier, "RegistryAttestationRevoked", aid)


def test_a_migrated_certifier_revokes_with_its_new_key(w: World) -> None:
    s, c, e = b"\x01" * 32, CLAIM_ORGANIC, b"\x03" * 32
    w.send(w.reg.attest(s, c, e, 0, 2**64 - 1), w.certifier)
    w.send(w.reg.migrateParticipant(w.certifier, w.arbiter, REASON), w.admin)
    receipt = w.send(w.reg.revokeAttestation(s, c, w.certifier, e, REASON), w.arbiter)
    assert w.event(receipt, "AttestationRevoked").issuer == w.certifier


def test_is_claim_valid_for_the_batch_and_its_ancestors_only(w: World) -> None:
    root = w.create("R", 30)
    a, b = w.split(root, "R", [("RA", 10), ("RB", 20)], 0, w.producer)
    (a1,) = w.split(a, "RA", [("RA1", 10)], 0, w.producer)
    unrelated = w.create("U", 5)
    for subject in (root, a, b, a1, unrelated):
        w.attest(subject, CLAIM_ORGANIC, evidence=DOC)
    f = w.reg.isClaimValidFor
    assert f(a1, a1, CLAIM_ORGANIC, w.certifier, DOC).call() is True
    assert f(a1, a, CLAIM_ORGANIC, w.certifier, DOC).call() is True  # parent
    assert f(a1, root, CLAIM_ORGANIC, w.certifier, DOC).call() is True  # grandparent
    assert f(a1, b, CLAIM_ORGANIC, w.certifier, DOC).call() is False  # a sibling of a parent
    assert f(a1, unrelated, CLAIM_ORGANIC, w.certifier, DOC).call() is False
    assert f(a, a1, CLAIM_ORGANIC, w.certifier, DOC).call() is False  # a descendant
    assert f(a1, a, CLAIM_COLD_CHAIN, w.certifier, DOC).call() is False  # another claim
    assert f(a1, a, CLAIM_ORGANIC, w.certifier, REASON).call() is False  # other evidence
    assert f(a1, a, CLAIM_ORGANIC, w.producer, DOC).call() is False  # another issuer


@pytest.mark.parametrize(
    "change",
    ["revoked", "expired", "not yet valid", "suspended", "no longer certifier"],
)
def test_is_claim_valid_for_needs_a_live_attestation_from_an_active_certifier(
    w: World, change: str
) -> None:
    bid = w.create()
    now = w.now()
    window = {"expired": (0, now + 5), "not yet valid": (now + 1000, 2**64 - 1)}.get(
        change, (0, 2**64 - 1)
    )
    w.attest(bid, valid_from=window[0], valid_until=window[1], evidence=DOC)
    f = w.reg.isClaimValidFor(bid, bid, CLAIM_ORGANIC, w.certifier, DOC)
    if change != "not yet valid":
        assert f.call() is True
    if change == "revoked":
        w.send(w.reg.revokeAttestation(bid, CLAIM_ORGANIC, w.certifier, DOC, REASON), w.certifier)
    elif change == "expired":
        w.mine_at(now + 6)
    elif change == "suspended":
        w.send(w.reg.suspendParticipant(w.certifier, REASON), w.admin)
    elif change == "no longer certifier":
        w.send(w.reg.updateParticipant(w.certifier, DISTRIBUTOR, 0, DOC), w.admin)
    assert f.call() is False


def test_a_certifiers_claims_survive_its_key_migration(w: World) -> None:
    bid = w.create()
    w.attest(bid, evidence=DOC)
    old = w.reg.isClaimValidFor(bid, bid, CLAIM_ORGANIC, w.certifier, DOC)
    w.send(w.reg.migrateParticipant(w.certifier, w.arbiter, REASON), w.admin)
    # the attestation names the old key; its issuer, now under the new key, still vouches for it
    assert old.call() is True
    assert w.reg.isClaimValidFor(bid, bid, CLAIM_ORGANIC, w.arbiter, DOC).call() is False
    w.send(w.reg.suspendParticipant(w.arbiter, REASON), w.admin)
    assert old.call() is False


# ================================================================ views


def test_unknown_ids_read_as_zero(w: World) -> None:
    assert w.batch(b"\x42" * 32) == BatchInfo(
        ZERO, ZERO, ZERO, ZERO, ZERO, NO_BATCH, False, False, False, False, 0, 0, b"\0\0\0", 0, 0
    )
    assert w.reg.lineageOf(b"\x42" * 32).call() == []
    assert w.reg.getParticipant(w.stranger).call() == (0, 0, False, 0)
    assert w.reg.participantAt(0).call() == ZERO
    assert w.reg.participantAt(2**24 - 1).call() == ZERO
    assert w.reg.prefixOf(GTIN_FREE).call() == [ZERO, 0, 0]
    assert w.reg.nonces(w.stranger).call() == 0


def test_views_report_ids_prefixes_and_the_settlement_contract(w: World) -> None:
    assert w.reg.getParticipant(w.producer).call() == (1, PRODUCER, True, 0)
    assert w.reg.getParticipant(w.suspended).call() == (6, CARRIER, False, 0)
    assert [w.reg.participantAt(i).call() for i in (1, 2, 3)] == [
        w.producer,
        w.processor,
        w.carrier,
    ]
    assert w.reg.prefixOf(GTIN_P).call() == [w.processor, *PROC_PREFIX]
    assert w.reg.batchIdOf(GTIN, lot("X")).call() == keccak(
        encode(["uint256", "bytes32"], [GTIN, lot("X")])
    )
    assert w.reg.settlement().call() == w.agreements.address
    assert w.reg.supportsInterface(bytes.fromhex("7965db0b")).call() is True  # IAccessControl
