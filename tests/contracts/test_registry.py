"""ProvenanceRegistry unit tests: every function's success path and each of its reverts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

PRODUCER, PROCESSOR, CARRIER, DISTRIBUTOR, RETAILER, CERTIFIER = 1, 2, 4, 8, 16, 32
ZERO = "0x" + "00" * 20
DOC = b"\x0d" * 32
KGM = b"KGM"


# ----------------------------------------------------------------- helpers


def gtin_with_check(body13: int) -> int:
    """Append the GS1 mod-10 check digit to a 13-digit body."""
    digits = [int(c) for c in f"{body13:013d}"]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return body13 * 10 + (10 - total % 10) % 10


GTIN = gtin_with_check(950600013435)  # 09506000134352, the GS1 example GTIN
GTIN2 = gtin_with_check(400638133393)  # 04006381333931


def lot(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def batch_id(gtin: int, lot_: bytes) -> bytes:
    return keccak(encode(["uint256", "bytes32"], [gtin, lot_]))


def error_data(contract: Contract, name: str, *args: Any) -> str:
    abi = next(e for e in contract.abi if e["type"] == "error" and e["name"] == name)
    types = [i["type"] for i in abi["inputs"]]
    selector = keccak(text=f"{name}({','.join(types)})")[:4]
    return "0x" + (selector + encode(types, list(args))).hex()


def assert_reverts(call: Any, sender: str, contract: Contract, name: str, *args: Any) -> None:
    """`call` reverts (as eth_call from `sender`) with exactly the custom error `name(*args)`."""
    with pytest.raises(ContractCustomError) as exc:
        call.call({"from": sender})
    assert exc.value.data == error_data(contract, name, *args)


def events(contract: Contract, receipt: Any, name: str) -> list[Any]:
    return list(getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD))


@dataclass
class Env:
    w3: Web3
    reg: Contract
    admin: str
    producer: str
    processor: str
    carrier: str
    retailer: str
    certifier: str
    settler: str
    outsider: str
    suspended: str

    def send(self, call: Any, sender: str) -> Any:
        tx = call.transact({"from": sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.002)
        assert receipt.status == 1
        return receipt

    def create(
        self,
        lot_text: str = "L1",
        qty: int = 100,
        gtin: int = GTIN,
        uom: bytes = KGM,
        by: str | None = None,
    ) -> bytes:
        self.send(
            self.reg.functions.createBatch(gtin, lot(lot_text), qty, uom, DOC), by or self.producer
        )
        return batch_id(gtin, lot(lot_text))

    def handoff(self, bid: bytes, frm: str, to: str, own: bool = False) -> tuple:
        return (bid, frm, to, 4012345000009, 3, 1, own, DOC)

    def move(self, bid: bytes, frm: str, to: str, own: bool = False) -> None:
        self.send(self.reg.functions.initiateHandoff(self.handoff(bid, frm, to, own)), frm)
        self.send(self.reg.functions.acceptHandoff(bid), to)

    def batch(self, bid: bytes) -> Any:
        return self.reg.functions.getBatch(bid).call()


def setup_env(w3: Web3, deploy: Any) -> Env:
    a = w3.eth.accounts
    reg = deploy(w3, "ProvenanceRegistry", sender=a[0])
    env = Env(w3, reg, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
    for account, roles in [
        (env.producer, PRODUCER),
        (env.processor, PROCESSOR),
        (env.carrier, CARRIER),
        (env.retailer, RETAILER | DISTRIBUTOR),
        (env.certifier, CERTIFIER),
        (env.suspended, CARRIER),
    ]:
        env.send(reg.functions.registerParticipant(account, roles, 0, b"\0" * 32), env.admin)
    env.send(reg.functions.suspendParticipant(env.suspended, b"\1" * 32), env.admin)
    env.send(reg.functions.grantRole(reg.functions.SETTLER_ROLE().call(), env.settler), env.admin)
    return env


@pytest.fixture(scope="module")
def module_env(anvil_w3: Web3, deploy: Any) -> Env:
    return setup_env(anvil_w3, deploy)


@pytest.fixture
def env(module_env: Env, snapshot: None) -> Env:
    return module_env


# ------------------------------------------------------------ participants


def test_register_participant_assigns_sequential_ids_and_emits(env: Env) -> None:
    new = env.w3.eth.accounts[9]
    receipt = env.send(
        env.reg.functions.registerParticipant(new, CARRIER, 4012345000009, DOC), env.admin
    )
    (ev,) = events(env.reg, receipt, "ParticipantRegistered")
    assert (ev.args.account, ev.args.id, ev.args.roles, ev.args.gln) == (
        new,
        7,
        CARRIER,
        4012345000009,
    )
    assert env.reg.functions.getParticipant(new).call() == (7, CARRIER, True, 4012345000009)
    assert env.reg.functions.participantAt(7).call() == new


@pytest.mark.parametrize(
    ("who", "account", "roles", "gln", "error", "args"),
    [
        (
            "producer",
            "new",
            CARRIER,
            0,
            "AccessControlUnauthorizedAccount",
            ("producer", b"\0" * 32),
        ),
        ("admin", ZERO, CARRIER, 0, "RegistryZeroAddress", ()),
        ("admin", "carrier", CARRIER, 0, "RegistryParticipantExists", ("carrier",)),
        ("admin", "new", 0, 0, "RegistryInvalidRoles", (0,)),
        ("admin", "new", 64, 0, "RegistryInvalidRoles", (64,)),
        ("admin", "new", CARRIER, 10**13, "RegistryInvalidGln", (10**13,)),
    ],
)
def test_register_participant_reverts(
    env: Env, who: str, account: str, roles: int, gln: int, error: str, args: tuple
) -> None:
    def resolve(x: Any) -> Any:
        if x == "new":
            return env.w3.eth.accounts[9]
        return getattr(env, x) if isinstance(x, str) and hasattr(env, x) else x

    call = env.reg.functions.registerParticipant(resolve(account), roles, gln, DOC)
    assert_reverts(call, resolve(who), env.reg, error, *[resolve(x) for x in args])


def test_update_participant_changes_roles_and_gln(env: Env) -> None:
    receipt = env.send(
        env.reg.functions.updateParticipant(env.carrier, CARRIER | RETAILER, 42, DOC), env.admin
    )
    assert events(env.reg, receipt, "ParticipantUpdated")[0].args.roles == CARRIER | RETAILER
    assert env.reg.functions.getParticipant(env.carrier).call() == (3, CARRIER | RETAILER, True, 42)


def test_update_participant_reverts(env: Env) -> None:
    f = env.reg.functions
    assert_reverts(
        f.updateParticipant(env.outsider, 1, 0, DOC),
        env.admin,
        env.reg,
        "RegistryUnknownParticipant",
        env.outsider,
    )
    assert_reverts(
        f.updateParticipant(env.carrier, 128, 0, DOC),
        env.admin,
        env.reg,
        "RegistryInvalidRoles",
        128,
    )
    assert_reverts(
        f.updateParticipant(env.carrier, 1, 0, DOC),
        env.carrier,
        env.reg,
        "AccessControlUnauthorizedAccount",
        env.carrier,
        b"\0" * 32,
    )


def test_suspend_and_reinstate_toggle_active(env: Env) -> None:
    env.send(env.reg.functions.suspendParticipant(env.carrier, DOC), env.admin)
    assert env.reg.functions.getParticipant(env.carrier).call()[2] is False
    receipt = env.send(env.reg.functions.reinstateParticipant(env.carrier), env.admin)
    assert events(env.reg, receipt, "ParticipantReinstated")[0].args.account == env.carrier
    assert env.reg.functions.getParticipant(env.carrier).call()[2] is True


def test_suspend_and_reinstate_revert_on_wrong_state(env: Env) -> None:
    f = env.reg.functions
    assert_reverts(
        f.suspendParticipant(env.suspended, DOC),
        env.admin,
        env.reg,
        "RegistryParticipantInactive",
        env.suspended,
    )
    assert_reverts(
        f.suspendParticipant(env.outsider, DOC),
        env.admin,
        env.reg,
        "RegistryUnknownParticipant",
        env.outsider,
    )
    assert_reverts(
        f.reinstateParticipant(env.carrier),
        env.admin,
        env.reg,
        "RegistryParticipantActive",
        env.carrier,
    )
    assert_reverts(
        f.reinstateParticipant(env.suspended),
        env.producer,
        env.reg,
        "AccessControlUnauthorizedAccount",
        env.producer,
        b"\0" * 32,
    )


# ----------------------------------------------------------------- batches


def test_create_batch_stores_one_slot_state_and_emits(env: Env) -> None:
    receipt = env.send(env.reg.functions.createBatch(GTIN, lot("L1"), 100, KGM, DOC), env.producer)
    bid = batch_id(GTIN, lot("L1"))
    (ev,) = events(env.reg, receipt, "BatchCreated")
    assert ev.args.batchId == bid and ev.args.creator == env.producer and ev.args.quantity == 100
    assert env.reg.functions.batchIdOf(GTIN, lot("L1")).call() == bid
    assert env.batch(bid) == (
        env.producer,
        env.producer,
        ZERO,
        env.producer,
        1,
        False,
        1,
        GTIN,
        100,
        KGM,
    )


@pytest.mark.parametrize(
    ("sender", "gtin", "lot_", "qty", "uom", "error", "args"),
    [
        ("carrier", GTIN, lot("X"), 1, KGM, "RegistryMissingRole", ("carrier", PRODUCER)),
        ("outsider", GTIN, lot("X"), 1, KGM, "RegistryUnknownParticipant", ("outsider",)),
        ("suspended", GTIN, lot("X"), 1, KGM, "RegistryParticipantInactive", ("suspended",)),
        ("producer", GTIN + 1, lot("X"), 1, KGM, "RegistryInvalidGtin", (GTIN + 1,)),
        ("producer", 0, lot("X"), 1, KGM, "RegistryInvalidGtin", (0,)),
        ("producer", 10**14 + 9, lot("X"), 1, KGM, "RegistryInvalidGtin", (10**14 + 9,)),
        ("producer", GTIN, b"\0" * 32, 1, KGM, "RegistryInvalidLot", (b"\0" * 32,)),
        (
            "producer",
            GTIN,
            b"\0X".ljust(32, b"\0"),
            1,
            KGM,
            "RegistryInvalidLot",
            (b"\0X".ljust(32, b"\0"),),
        ),
        (
            "producer",
            GTIN,
            b"A" * 21 + b"\0" * 11,
            1,
            KGM,
            "RegistryInvalidLot",
            (b"A" * 21 + b"\0" * 11,),
        ),
        ("producer", GTIN, lot("X"), 0, KGM, "RegistryZeroQuantity", ()),
        ("producer", GTIN, lot("X"), 1, b"\0\0\0", "RegistryInvalidUom", (b"\0\0\0",)),
    ],
)
def test_create_batch_reverts(
    env: Env, sender: str, gtin: int, lot_: bytes, qty: int, uom: bytes, error: str, args: tuple
) -> None:
    resolved = [getattr(env, a) if isinstance(a, str) else a for a in args]
    call = env.reg.functions.createBatch(gtin, lot_, qty, uom, DOC)
    assert_reverts(call, getattr(env, sender), env.reg, error, *resolved)


def test_create_batch_accepts_twenty_byte_lot(env: Env) -> None:
    bid = env.create("A" * 20)
    assert env.batch(bid)[4] == 1


def test_create_duplicate_batch_reverts(env: Env) -> None:
    bid = env.create("L1")
    assert_reverts(
        env.reg.functions.createBatch(GTIN, lot("L1"), 5, KGM, DOC),
        env.producer,
        env.reg,
        "RegistryBatchExists",
        bid,
    )


@pytest.mark.parametrize(
    "body", [950600013435, 400638133393, 590123412345, 3600029145, 0, 9999999999999]
)
def test_gtin_check_digit_only_the_gs1_digit_is_accepted(env: Env, body: int) -> None:
    valid = gtin_with_check(body)
    for digit in range(10):
        gtin = body * 10 + digit
        call = env.reg.functions.createBatch(gtin, lot("G"), 1, KGM, DOC)
        if gtin == valid and gtin != 0:
            assert call.call({"from": env.producer}) == batch_id(gtin, lot("G"))
        else:
            assert_reverts(call, env.producer, env.reg, "RegistryInvalidGtin", gtin)


# ---------------------------------------------------------------- handoffs


def test_initiate_handoff_sets_pending_and_emits(env: Env) -> None:
    bid = env.create()
    receipt = env.send(
        env.reg.functions.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer
    )
    (ev,) = events(env.reg, receipt, "HandoffInitiated")
    assert (ev.args.batchId, ev.args["from"], ev.args.to, ev.args.bizStep) == (
        bid,
        env.producer,
        env.carrier,
        3,
    )
    info = env.batch(bid)
    assert info[0] == env.producer and info[2] == env.carrier


def _initiate_cases() -> list[Any]:
    return [
        # (label, setup, sender, from, to, own, error, args)
        (
            "caller_not_from",
            None,
            "carrier",
            "producer",
            "retailer",
            False,
            "RegistryCallerNotSender",
            ("producer", "carrier"),
        ),
        (
            "not_custodian",
            None,
            "carrier",
            "carrier",
            "retailer",
            False,
            "RegistryNotCustodian",
            ("$bid", "carrier"),
        ),
        (
            "to_unknown",
            None,
            "producer",
            "producer",
            "outsider",
            False,
            "RegistryUnknownParticipant",
            ("outsider",),
        ),
        (
            "to_suspended",
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
            "retailer",
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
            ("$bid", 2),
        ),
        (
            "unknown",
            "unknown",
            "producer",
            "producer",
            "carrier",
            False,
            "RegistryUnknownBatch",
            ("$bid",),
        ),
        (
            "from_suspended",
            "suspend_producer",
            "producer",
            "producer",
            "carrier",
            False,
            "RegistryParticipantInactive",
            ("producer",),
        ),
        (
            "own_not_owner",
            "carrier_custody",
            "carrier",
            "carrier",
            "retailer",
            True,
            "RegistryNotOwner",
            ("$bid", "carrier"),
        ),
    ]


@pytest.mark.parametrize(
    ("label", "setup", "sender", "frm", "to", "own", "error", "args"),
    _initiate_cases(),
    ids=[c[0] for c in _initiate_cases()],
)
def test_initiate_handoff_reverts(
    env: Env,
    label: str,
    setup: str | None,
    sender: str,
    frm: str,
    to: str,
    own: bool,
    error: str,
    args: tuple,
) -> None:
    bid = env.create()
    f = env.reg.functions
    if setup == "pending":
        env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    elif setup == "recall":
        env.send(f.recallBatch(bid, DOC), env.producer)
    elif setup == "split":
        env.send(f.splitBatch(bid, [(lot("C1"), 100)], 0, DOC), env.producer)
    elif setup == "unknown":
        bid = batch_id(GTIN, lot("NOPE"))
    elif setup == "suspend_producer":
        env.send(f.suspendParticipant(env.producer, DOC), env.admin)
    elif setup == "carrier_custody":
        env.move(bid, env.producer, env.carrier)
    resolved = [bid if a == "$bid" else getattr(env, a) if isinstance(a, str) else a for a in args]
    call = f.initiateHandoff(env.handoff(bid, getattr(env, frm), getattr(env, to), own))
    assert_reverts(call, getattr(env, sender), env.reg, error, *resolved)


@pytest.mark.parametrize("transfer_ownership", [False, True])
def test_accept_handoff_moves_custody_and_ownership_only_if_flagged(
    env: Env, transfer_ownership: bool
) -> None:
    bid = env.create()
    env.send(
        env.reg.functions.initiateHandoff(
            env.handoff(bid, env.producer, env.retailer, transfer_ownership)
        ),
        env.producer,
    )
    receipt = env.send(env.reg.functions.acceptHandoff(bid), env.retailer)
    (ev,) = events(env.reg, receipt, "HandoffAccepted")
    assert (ev.args["from"], ev.args.to) == (env.producer, env.retailer)
    info = env.batch(bid)
    assert info[0] == env.retailer and info[2] == ZERO
    assert info[1] == (env.retailer if transfer_ownership else env.producer)
    assert info[6] & 8 == 0  # PENDING_OWNERSHIP cleared


def test_accept_handoff_reverts(env: Env) -> None:
    bid = env.create()
    f = env.reg.functions
    assert_reverts(f.acceptHandoff(bid), env.carrier, env.reg, "RegistryNoPendingHandoff", bid)
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    assert_reverts(
        f.acceptHandoff(bid), env.retailer, env.reg, "RegistryNotRecipient", bid, env.retailer
    )
    assert_reverts(
        f.acceptHandoff(bid), env.outsider, env.reg, "RegistryUnknownParticipant", env.outsider
    )
    env.send(f.recallBatch(bid, DOC), env.producer)
    assert_reverts(f.acceptHandoff(bid), env.carrier, env.reg, "RegistryBatchRecalled", bid)
    env.send(f.suspendParticipant(env.carrier, DOC), env.admin)
    assert_reverts(
        f.acceptHandoff(bid), env.carrier, env.reg, "RegistryParticipantInactive", env.carrier
    )


def test_reject_handoff_clears_pending_and_keeps_custody(env: Env) -> None:
    bid = env.create()
    f = env.reg.functions
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier, True)), env.producer)
    receipt = env.send(f.rejectHandoff(bid, DOC), env.carrier)
    assert events(env.reg, receipt, "HandoffRejected")[0].args["from"] == env.producer
    info = env.batch(bid)
    assert info[0] == env.producer and info[2] == ZERO and info[6] & 8 == 0


def test_reject_handoff_reverts(env: Env) -> None:
    bid = env.create()
    f = env.reg.functions
    assert_reverts(f.rejectHandoff(bid, DOC), env.carrier, env.reg, "RegistryNoPendingHandoff", bid)
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    assert_reverts(
        f.rejectHandoff(bid, DOC), env.producer, env.reg, "RegistryNotRecipient", bid, env.producer
    )


def test_cancel_handoff_by_sender_clears_pending(env: Env) -> None:
    bid = env.create()
    f = env.reg.functions
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    receipt = env.send(f.cancelHandoff(bid), env.producer)
    assert events(env.reg, receipt, "HandoffCancelled")[0].args.to == env.carrier
    assert env.batch(bid)[2] == ZERO
    assert_reverts(f.acceptHandoff(bid), env.carrier, env.reg, "RegistryNoPendingHandoff", bid)


def test_cancel_handoff_reverts(env: Env) -> None:
    bid = env.create()
    f = env.reg.functions
    assert_reverts(f.cancelHandoff(bid), env.producer, env.reg, "RegistryNoPendingHandoff", bid)
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    assert_reverts(
        f.cancelHandoff(bid), env.carrier, env.reg, "RegistryNotCustodian", bid, env.carrier
    )


def test_batched_handoffs_move_every_batch(env: Env) -> None:
    bids = [env.create(f"B{i}") for i in range(3)]
    f = env.reg.functions
    receipt = env.send(f.initiateHandoffs(bids, env.carrier, 0, 3, 1, False, DOC), env.producer)
    assert [e.args.batchId for e in events(env.reg, receipt, "HandoffInitiated")] == bids
    receipt = env.send(f.acceptHandoffs(bids), env.carrier)
    assert len(events(env.reg, receipt, "HandoffAccepted")) == 3
    assert all(env.batch(b)[0] == env.carrier for b in bids)


def test_batched_handoffs_revert_as_a_whole(env: Env) -> None:
    bids = [env.create(f"B{i}") for i in range(2)]
    f = env.reg.functions
    assert_reverts(
        f.initiateHandoffs([], env.carrier, 0, 0, 0, False, DOC),
        env.producer,
        env.reg,
        "RegistryInvalidInputCount",
        0,
    )
    assert_reverts(f.acceptHandoffs([]), env.carrier, env.reg, "RegistryInvalidInputCount", 0)
    env.send(f.initiateHandoff(env.handoff(bids[1], env.producer, env.retailer)), env.producer)
    assert_reverts(
        f.initiateHandoffs(bids, env.carrier, 0, 0, 0, False, DOC),
        env.producer,
        env.reg,
        "RegistryHandoffPending",
        bids[1],
        env.retailer,
    )
    env.send(f.initiateHandoff(env.handoff(bids[0], env.producer, env.carrier)), env.producer)
    assert_reverts(
        f.acceptHandoffs(bids), env.carrier, env.reg, "RegistryNotRecipient", bids[1], env.carrier
    )


def test_record_handoff_by_both_parties_as_sender_needs_no_signature(env: Env) -> None:
    # custodian sends; receiver's consent is missing, so an empty receiver signature must fail
    bid = env.create()
    h = env.handoff(bid, env.producer, env.carrier)
    call = env.reg.functions.recordHandoff(h, (0, 2**64, b""), (0, 2**64, b""))
    assert_reverts(call, env.producer, env.reg, "RegistryInvalidSignature", env.carrier)


# ----------------------------------------------------------------- lineage


def test_split_creates_children_and_consumes_parent(env: Env) -> None:
    bid = env.create(qty=100)
    env.move(bid, env.producer, env.carrier)
    receipt = env.send(
        env.reg.functions.splitBatch(bid, [(lot("C1"), 60), (lot("C2"), 35)], 5, DOC), env.carrier
    )
    c1, c2 = batch_id(GTIN, lot("C1")), batch_id(GTIN, lot("C2"))
    assert [e.args.childId for e in events(env.reg, receipt, "BatchSplit")] == [c1, c2]
    (consumed,) = events(env.reg, receipt, "BatchConsumed")
    assert (consumed.args.kind, consumed.args.loss) == (1, 5)
    assert env.batch(bid)[4] == 2
    child = env.batch(c1)
    # custodian carrier, owner stays producer, creator is the splitter
    assert child == (env.carrier, env.producer, ZERO, env.carrier, 1, False, 1, GTIN, 60, KGM)
    assert env.reg.functions.parentsOf(c1).call() == [bid]
    assert env.reg.functions.parentsOf(bid).call() == []


@pytest.mark.parametrize(
    ("parts", "loss", "error", "args"),
    [
        ([], 0, "RegistryInvalidInputCount", (0,)),
        ([("C1", 50), ("C2", 40)], 0, "RegistryQuantityMismatch", (100, 90)),
        ([("C1", 50), ("C2", 50)], 1, "RegistryQuantityMismatch", (100, 101)),
        ([("C1", 100), ("C2", 0)], 0, "RegistryZeroQuantity", ()),
        ([("C1", 50), ("C1", 50)], 0, "RegistryBatchExists", ("$C1",)),
        ([("L1", 100)], 0, "RegistryBatchExists", ("$L1",)),
    ],
)
def test_split_reverts_on_bad_parts(
    env: Env, parts: list, loss: int, error: str, args: tuple
) -> None:
    bid = env.create(qty=100)
    resolved = [batch_id(GTIN, lot(a[1:])) if isinstance(a, str) else a for a in args]
    call = env.reg.functions.splitBatch(bid, [(lot(n), q) for n, q in parts], loss, DOC)
    assert_reverts(call, env.producer, env.reg, error, *resolved)


def test_split_reverts_on_frozen_or_foreign_parent(env: Env) -> None:
    f = env.reg.functions
    parts = [(lot("C1"), 100)]
    bid = env.create(qty=100)
    assert_reverts(
        f.splitBatch(bid, parts, 0, DOC),
        env.carrier,
        env.reg,
        "RegistryNotCustodian",
        bid,
        env.carrier,
    )
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.carrier)), env.producer)
    assert_reverts(
        f.splitBatch(bid, parts, 0, DOC),
        env.producer,
        env.reg,
        "RegistryHandoffPending",
        bid,
        env.carrier,
    )
    env.send(f.cancelHandoff(bid), env.producer)
    env.send(f.recallBatch(bid, DOC), env.producer)
    assert_reverts(
        f.splitBatch(bid, parts, 0, DOC), env.producer, env.reg, "RegistryBatchRecalled", bid
    )
    other = env.create("L2", qty=100)
    env.send(f.splitBatch(other, [(lot("D1"), 100)], 0, DOC), env.producer)
    assert_reverts(
        f.splitBatch(other, [(lot("D2"), 100)], 0, DOC),
        env.producer,
        env.reg,
        "RegistryBatchNotActive",
        other,
        2,
    )


def test_merge_creates_child_with_all_parents(env: Env) -> None:
    a, b = env.create("A", 30), env.create("B", 20)
    receipt = env.send(env.reg.functions.mergeBatches([a, b], lot("M"), 5, DOC), env.producer)
    m = batch_id(GTIN, lot("M"))
    assert [(e.args.batchId, e.args.loss) for e in events(env.reg, receipt, "BatchConsumed")] == [
        (a, 5),
        (b, 0),
    ]
    assert [e.args.parentId for e in events(env.reg, receipt, "BatchDerived")] == [a, b]
    assert events(env.reg, receipt, "BatchCreated")[0].args.quantity == 45
    info = env.batch(m)
    assert info[8] == 45 and info[0] == env.producer and info[6] == 1 | 32
    assert env.reg.functions.parentsOf(m).call() == [a, b]
    assert env.batch(a)[4] == 2 and env.batch(b)[4] == 2


def test_merge_reverts(env: Env) -> None:
    f = env.reg.functions
    a, b = env.create("A", 30), env.create("B", 20)
    g = env.create("G", 10, gtin=GTIN2)
    u = env.create("U", 10, uom=b"LTR")
    assert_reverts(
        f.mergeBatches([a], lot("M"), 0, DOC), env.producer, env.reg, "RegistryInvalidInputCount", 1
    )
    assert_reverts(
        f.mergeBatches([a, a], lot("M"), 0, DOC),
        env.producer,
        env.reg,
        "RegistryBatchNotActive",
        a,
        2,
    )
    assert_reverts(
        f.mergeBatches([a, g], lot("M"), 0, DOC),
        env.producer,
        env.reg,
        "RegistryIncompatibleBatches",
        a,
        g,
    )
    assert_reverts(
        f.mergeBatches([a, u], lot("M"), 0, DOC),
        env.producer,
        env.reg,
        "RegistryIncompatibleBatches",
        a,
        u,
    )
    assert_reverts(
        f.mergeBatches([a, b], lot("M"), 50, DOC),
        env.producer,
        env.reg,
        "RegistryQuantityMismatch",
        50,
        50,
    )
    assert_reverts(
        f.mergeBatches([a, b], lot("A"), 0, DOC), env.producer, env.reg, "RegistryBatchExists", a
    )
    env.move(b, env.producer, env.carrier)
    assert_reverts(
        f.mergeBatches([a, b], lot("M"), 0, DOC),
        env.producer,
        env.reg,
        "RegistryNotCustodian",
        b,
        env.producer,
    )


def test_merge_of_different_owners_reverts(env: Env) -> None:
    f = env.reg.functions
    a, b = env.create("A", 30), env.create("B", 20)
    env.move(a, env.producer, env.retailer, own=True)
    env.move(b, env.producer, env.retailer, own=False)
    assert_reverts(
        f.mergeBatches([a, b], lot("M"), 0, DOC),
        env.retailer,
        env.reg,
        "RegistryIncompatibleBatches",
        a,
        b,
    )


def test_transform_consumes_inputs_and_creates_outputs_for_the_owner(env: Env) -> None:
    f = env.reg.functions
    a, b = env.create("A", 30), env.create("B", 20)
    env.send(f.initiateHandoffs([a, b], env.processor, 0, 0, 0, False, DOC), env.producer)
    env.send(f.acceptHandoffs([a, b]), env.processor)
    outputs = [(GTIN2, lot("O1"), 7, b"H87"), (GTIN2, lot("O2"), 3, b"H87")]
    receipt = env.send(f.transformBatches([a, b], outputs, DOC), env.processor)
    o1 = batch_id(GTIN2, lot("O1"))
    assert len(events(env.reg, receipt, "BatchDerived")) == 4
    assert [e.args.kind for e in events(env.reg, receipt, "BatchConsumed")] == [3, 3]
    assert env.batch(o1) == (
        env.processor,
        env.producer,
        ZERO,
        env.processor,
        1,
        False,
        33,
        GTIN2,
        7,
        b"H87",
    )
    assert f.parentsOf(o1).call() == [a, b]


def test_transform_reverts(env: Env) -> None:
    f = env.reg.functions
    a = env.create("A", 30)
    out = [(GTIN2, lot("O1"), 7, b"H87")]
    assert_reverts(
        f.transformBatches([], out, DOC), env.producer, env.reg, "RegistryInvalidInputCount", 0
    )
    assert_reverts(
        f.transformBatches([a], [], DOC), env.producer, env.reg, "RegistryInvalidInputCount", 0
    )
    assert_reverts(
        f.transformBatches([a], [(GTIN2 + 1, lot("O1"), 7, b"H87")], DOC),
        env.producer,
        env.reg,
        "RegistryInvalidGtin",
        GTIN2 + 1,
    )
    env.move(a, env.producer, env.carrier)
    assert_reverts(
        f.transformBatches([a], out, DOC),
        env.carrier,
        env.reg,
        "RegistryMissingRole",
        env.carrier,
        PROCESSOR | PRODUCER,
    )
    b = env.create("B", 30)
    env.move(b, env.producer, env.processor, own=True)
    env.move(a, env.carrier, env.processor)
    assert_reverts(
        f.transformBatches([a, b], out, DOC),
        env.processor,
        env.reg,
        "RegistryIncompatibleBatches",
        a,
        b,
    )


# ------------------------------------------------------------ attestations


def test_attest_and_validity_window(env: Env) -> None:
    f = env.reg.functions
    subject, claim, evidence = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    receipt = env.send(f.attest(subject, claim, evidence, 100, 200), env.certifier)
    (ev,) = events(env.reg, receipt, "AttestationIssued")
    expected_id = keccak(
        encode(
            ["bytes32", "bytes32", "address", "bytes32"], [subject, claim, env.certifier, evidence]
        )
    )
    assert ev.args.attestationId == expected_id
    valid = [
        f.isAttestationValid(subject, claim, env.certifier, evidence, t).call()
        for t in (99, 100, 200, 201)
    ]
    assert valid == [False, True, True, False]
    assert f.isAttestationValid(subject, claim, env.producer, evidence, 150).call() is False


def test_attest_reverts(env: Env) -> None:
    f = env.reg.functions
    s, c, e = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    assert_reverts(
        f.attest(s, c, e, 0, 1),
        env.producer,
        env.reg,
        "RegistryMissingRole",
        env.producer,
        CERTIFIER,
    )
    assert_reverts(f.attest(s, c, e, 2, 1), env.certifier, env.reg, "RegistryInvalidValidity", 2, 1)
    receipt = env.send(f.attest(s, c, e, 0, 2**64 - 1), env.certifier)
    aid = events(env.reg, receipt, "AttestationIssued")[0].args.attestationId
    assert_reverts(
        f.attest(s, c, e, 0, 5), env.certifier, env.reg, "RegistryAttestationExists", aid
    )
    env.send(f.suspendParticipant(env.certifier, DOC), env.admin)
    assert_reverts(
        f.attest(s, c, b"\x04" * 32, 0, 1),
        env.certifier,
        env.reg,
        "RegistryParticipantInactive",
        env.certifier,
    )


def test_revoke_attestation_invalidates_from_revocation_time(env: Env) -> None:
    f = env.reg.functions
    s, c, e = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    env.send(f.attest(s, c, e, 0, 2**64 - 1), env.certifier)
    receipt = env.send(f.revokeAttestation(s, c, e, DOC), env.certifier)
    revoked_at = events(env.reg, receipt, "AttestationRevoked")[0].args.at
    assert f.isAttestationValid(s, c, env.certifier, e, revoked_at - 1).call() is True
    assert f.isAttestationValid(s, c, env.certifier, e, revoked_at).call() is False
    aid = keccak(encode(["bytes32", "bytes32", "address", "bytes32"], [s, c, env.certifier, e]))
    assert_reverts(
        f.revokeAttestation(s, c, e, DOC), env.certifier, env.reg, "RegistryAttestationRevoked", aid
    )
    other = keccak(encode(["bytes32", "bytes32", "address", "bytes32"], [s, c, env.producer, e]))
    assert_reverts(
        f.revokeAttestation(s, c, e, DOC),
        env.producer,
        env.reg,
        "RegistryUnknownAttestation",
        other,
    )


# ----------------------------------------------------------------- recalls


@pytest.mark.parametrize("recaller", ["producer", "admin"])
def test_recall_by_creator_or_admin_freezes_batch(env: Env, recaller: str) -> None:
    bid = env.create()
    receipt = env.send(env.reg.functions.recallBatch(bid, DOC), getattr(env, recaller))
    assert events(env.reg, receipt, "BatchRecalled")[0].args.by == getattr(env, recaller)
    info = env.batch(bid)
    assert info[5] is True and info[6] & 4
    assert_reverts(
        env.reg.functions.mergeBatches([bid, bid], lot("M"), 0, DOC),
        env.producer,
        env.reg,
        "RegistryBatchRecalled",
        bid,
    )


def test_recall_reverts(env: Env) -> None:
    f = env.reg.functions
    bid = env.create()
    unknown = batch_id(GTIN, lot("NOPE"))
    assert_reverts(
        f.recallBatch(bid, DOC), env.carrier, env.reg, "RegistryNotRecaller", bid, env.carrier
    )
    assert_reverts(f.recallBatch(unknown, DOC), env.admin, env.reg, "RegistryUnknownBatch", unknown)
    env.send(f.recallBatch(bid, DOC), env.producer)
    assert_reverts(f.recallBatch(bid, DOC), env.admin, env.reg, "RegistryBatchRecalled", bid)


def test_recall_of_consumed_batch_is_allowed(env: Env) -> None:
    bid = env.create()
    env.send(env.reg.functions.splitBatch(bid, [(lot("C1"), 100)], 0, DOC), env.producer)
    env.send(env.reg.functions.recallBatch(bid, DOC), env.producer)
    assert env.batch(bid)[4:6] == (2, True)


# -------------------------------------------------------------- settlement


def test_claim_delivery_once_per_custody_arrival(env: Env) -> None:
    f = env.reg.functions
    bid = env.create(qty=70)
    env.move(bid, env.producer, env.retailer)
    assert f.claimDelivery(bid, env.retailer).call({"from": env.settler}) == [GTIN, 70, KGM]
    assert env.batch(bid)[1] == env.producer  # custody-only handoff: the producer still owns it
    receipt = env.send(f.claimDelivery(bid, env.retailer), env.settler)
    assert events(env.reg, receipt, "DeliveryClaimed")[0].args.settler == env.settler
    assert env.batch(bid)[1] == env.retailer  # paid delivery: title passed to the buyer
    assert_reverts(
        f.claimDelivery(bid, env.retailer),
        env.settler,
        env.reg,
        "RegistryDeliveryAlreadyClaimed",
        bid,
    )
    env.move(bid, env.retailer, env.carrier)
    env.move(bid, env.carrier, env.retailer)
    env.send(
        f.claimDelivery(bid, env.retailer), env.settler
    )  # new custody arrival: claimable again


def test_claim_delivery_reverts(env: Env) -> None:
    f = env.reg.functions
    bid = env.create()
    role = f.SETTLER_ROLE().call()
    assert_reverts(
        f.claimDelivery(bid, env.producer),
        env.producer,
        env.reg,
        "AccessControlUnauthorizedAccount",
        env.producer,
        role,
    )
    assert_reverts(
        f.claimDelivery(bid, env.retailer),
        env.settler,
        env.reg,
        "RegistryNotCustodian",
        bid,
        env.retailer,
    )
    env.send(f.initiateHandoff(env.handoff(bid, env.producer, env.retailer)), env.producer)
    assert_reverts(
        f.claimDelivery(bid, env.producer),
        env.settler,
        env.reg,
        "RegistryHandoffPending",
        bid,
        env.retailer,
    )
    env.send(f.acceptHandoff(bid), env.retailer)
    env.send(f.recallBatch(bid, DOC), env.admin)
    assert_reverts(
        f.claimDelivery(bid, env.retailer), env.settler, env.reg, "RegistryBatchRecalled", bid
    )


def test_unknown_batch_view_is_all_zero(env: Env) -> None:
    assert env.batch(b"\x42" * 32) == (ZERO, ZERO, ZERO, ZERO, 0, False, 0, 0, 0, b"\0\0\0")
