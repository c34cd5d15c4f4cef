"""Stateful property test of the registry: random custody, lineage and recall sequences against a
Python model that predicts every outcome, down to the exact custom error and its arguments.

Rules: commission, initiate / accept / reject / cancel handoffs (with or without title), split,
merge, transform, recall, lift a recall, suspend and reinstate participants; each is tried by its
rightful actor most of the time and by anyone (including an unregistered account) otherwise.
After every step the invariants of `IProvenanceRegistry` are checked against the chain:

- custody and title: every batch's custodian, owner, pending handoff (at most one), title flag,
  origin, state, quantity and lineage equal the model's; custodian and owner are registered;
- quantity: live quantity + losses + transform inputs == commissioned + transform outputs;
- lineage: each derived batch carries exactly its ancestors' lineage numbers (at most 15; an
  operation whose outputs would carry more is refused);
- recall reach: a batch reports `lineageRecalled` exactly when one of its ancestors is recalled,
  and nothing frozen moves, is accepted or consumed (predicted refusals are checked byte for byte);
- the recall right stays with the origin (kept by splits and merges, the transformer's for
  transform outputs), usable only while active, and by the operator.

`HYPOTHESIS_PROFILE=deep` runs 2000 examples instead of 200 (tests/conftest.py), 15 steps each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from eth_abi import decode, encode
from eth_utils import keccak
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.support.contracts import (
    ACTIVE,
    CONSUMED,
    DOC,
    GAS,
    GTIN,
    GTIN_B,
    GTIN_P,
    KGM,
    MAX_LINEAGE,
    PROCESSOR,
    PRODUCER,
    REASON,
    ZERO,
    BatchInfo,
    World,
    abi_type,
    batch_id,
    lot,
)

STEPS = 15
MAX_BATCHES = 14
NAMES = ("producer", "processor", "carrier", "buyer", "stranger")  # stranger: never registered
ROLES = (PRODUCER, PROCESSOR, 4, 8 | 16, 0)
STRANGER = 4
OPERATOR = -1
ANYONE = st.sampled_from([None, None, None, 0, 1, 2, 3, STRANGER])  # None: the rightful actor
INDEX = st.integers(0, 99)

Expected = tuple[str, tuple[Any, ...]] | None
OUTCOMES: Counter[str] = (
    Counter()
)  # what the run exercised: "fn: ok" or "fn: Error"  # (error, args), or None for success


@dataclass(frozen=True)
class ModelBatch:
    lot: str
    gtin: int
    quantity: int
    custodian: int  # actor index
    owner: int
    origin: int
    ancestors: tuple[int, ...] = ()  # lineage numbers, in the order the contract stores them
    state: int = ACTIVE
    number: int = 0  # lineage number, once consumed
    recalled: bool = False
    pending_to: int | None = None
    pending_own: bool = False


def insert(numbers: list[int], number: int) -> bool:
    """`LineageLib.insert`: add `number` unless present; False when the set would exceed 15."""
    if number in numbers:
        return True
    if len(numbers) == MAX_LINEAGE:
        return False
    numbers.append(number)
    return True


def movable(b: ModelBatch) -> bool:
    return b.state == ACTIVE and b.pending_to is None


def pending(b: ModelBatch) -> bool:
    return b.pending_to is not None


class RegistryMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    snapshot_id: ClassVar[Any] = None
    functions: ClassVar[dict[str, tuple[bytes, list[str]]]] = {}

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        rpc = w.w3.provider.make_request
        rpc("evm_revert", [type(self).snapshot_id])  # type: ignore[arg-type]
        type(self).snapshot_id = rpc("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        self.addresses = [getattr(w, n) for n in NAMES]
        self.active = [True] * 4 + [False]
        self.batches: dict[bytes, ModelBatch] = {}
        self.ids: list[bytes] = []
        self.next_number = 0  # the last lineage number handed out
        self.recalled_numbers: set[int] = set()
        self.roots = 0
        self.created = 0  # commissioned + transform outputs
        self.sunk = 0  # losses + transform inputs

    # ------------------------------------------------------------ plumbing

    def addr(self, actor: int) -> str:
        return self.world.admin if actor == OPERATOR else self.addresses[actor]

    def act(self, fn: str, args: list[Any], actor: int, expected: Expected) -> None:
        """Send `fn(*args)` from `actor` when the model expects success (it must succeed), else
        `eth_call` it: it must revert with exactly the expected error."""
        w = self.world
        outcome = f"{fn}: {'ok' if expected is None else expected[0]}"
        if currently_in_test_context():
            event(outcome)
        OUTCOMES[outcome] += 1
        selector, types = self.functions[fn]
        tx = {
            "from": self.addr(actor),
            "to": w.registry.address,
            "data": "0x" + (selector + encode(types, args)).hex(),
        }
        if expected is not None:
            error = w.call_error(tx)
            assert error is not None, f"{fn} by {NAMES[actor]} should revert {expected[0]}"
            want = w.errors.encode(expected[0], *expected[1])
            assert (fn, error.name, error.data.hex()) == (fn, expected[0], want.hex()), (
                f"{fn}: got {error.name}{error.error_args}, expected {expected[0]}{expected[1]}"
            )
            return
        tx_hash = w.request("eth_sendTransaction", [{**tx, "gas": hex(GAS)}])
        receipt = None
        while receipt is None:  # automine answers at once, or within a poll or two
            receipt = w.request("eth_getTransactionReceipt", [tx_hash])
        assert receipt["status"] == "0x1", f"{fn} by {NAMES[actor]} reverted; the model allowed it"

    def pick(
        self, index: int, fits: Callable[[ModelBatch], bool] = lambda b: True
    ) -> tuple[bytes, ModelBatch]:
        """A batch that `fits` for three indexes in four (when there is one), else any batch."""
        fitting = [i for i in self.ids if fits(self.batches[i])]
        pool = fitting if fitting and index % 4 else self.ids
        bid = pool[index // 4 % len(pool)]
        return bid, self.batches[bid]

    @staticmethod
    def who(actor: int | None, rightful: int | None) -> int:
        if actor is None:
            return rightful if rightful is not None else 0
        return actor

    def active_error(self, actor: int) -> Expected:
        if actor == STRANGER:
            return ("RegistryUnknownParticipant", (self.addr(actor),))
        if not self.active[actor]:
            return ("RegistryParticipantInactive", (self.addr(actor),))
        return None

    def frozen_error(self, bid: bytes, b: ModelBatch) -> Expected:
        """`checkLineage`: the batch itself, then its ancestors in stored order."""
        if b.recalled:
            return ("RegistryBatchRecalled", (bid,))
        for number in b.ancestors:
            if number in self.recalled_numbers:
                return ("RegistryAncestorRecalled", (bid, number))
        return None

    def movable_error(self, bid: bytes, b: ModelBatch) -> Expected:
        """`checkMovable`: Active, nothing pending, nothing recalled in its lineage."""
        if b.state != ACTIVE:
            return ("RegistryBatchNotActive", (bid, b.state))
        if b.pending_to is not None:
            return ("RegistryHandoffPending", (bid, self.addr(b.pending_to)))
        return self.frozen_error(bid, b)

    def consume(
        self, ids: list[bytes], actor: int, keep_origin: bool
    ) -> tuple[Expected, list[int], list[ModelBatch]]:
        """`Derivations._consumeAll`: the first refusal, the outputs' lineage, the inputs."""
        numbers: list[int] = []
        seen: dict[bytes, ModelBatch] = {}
        inputs: list[ModelBatch] = []
        for i, bid in enumerate(ids):
            b = seen.get(bid, self.batches[bid])
            error = self.movable_error(bid, b) or (
                ("RegistryNotCustodian", (bid, self.addr(actor))) if b.custodian != actor else None
            )
            if error:
                return error, [], []
            first = inputs[0] if inputs else b
            if i > 0 and (
                b.owner != first.owner
                or (keep_origin and (b.gtin, b.origin) != (first.gtin, first.origin))
            ):
                return ("RegistryIncompatibleBatches", (ids[0], bid)), [], []
            number = self.next_number + 1 + i
            for n in (*b.ancestors, number):
                if not insert(numbers, n):
                    return ("RegistryLineageTooLarge", (MAX_LINEAGE,)), [], []
            seen[bid] = replace(b, state=CONSUMED, number=number)
            inputs.append(b)
        return None, numbers, inputs

    def mark_consumed(self, ids: list[bytes], loss: int) -> None:
        for i, bid in enumerate(ids):
            self.batches[bid] = replace(
                self.batches[bid], state=CONSUMED, number=self.next_number + 1 + i
            )
        self.next_number += len(ids)
        self.sunk += loss

    def add(self, bid: bytes, b: ModelBatch) -> None:
        self.batches[bid] = b
        self.ids.append(bid)

    # ------------------------------------------------------------ rules

    @initialize(quantity=st.integers(1, 1_000))
    def first_batch(self, quantity: int) -> None:
        self.create(None, quantity)

    @precondition(
        lambda self: (
            len(self.ids) < MAX_BATCHES
            and sum(b.state == ACTIVE for b in self.batches.values()) < 5
        )
    )
    @rule(actor=ANYONE, quantity=st.integers(1, 1_000))
    def create(self, actor: int | None, quantity: int) -> None:
        actor = self.who(actor, 0)
        name = f"R{self.roots + 1}"
        expected = self.active_error(actor)
        if expected is None and not ROLES[actor] & PRODUCER:
            expected = ("RegistryMissingRole", (self.addr(actor), PRODUCER))
        if expected is None and actor != 0:
            expected = ("RegistryNotPrefixHolder", (GTIN, self.addr(actor)))
        self.act("createBatch", [GTIN, lot(name), quantity, KGM, DOC], actor, expected)
        if expected is None:
            self.roots += 1
            self.created += quantity
            self.add(batch_id(GTIN, lot(name)), ModelBatch(name, GTIN, quantity, 0, 0, 0))

    @rule(index=INDEX, actor=ANYONE, to=st.integers(0, 4), own=st.booleans())
    def initiate(self, index: int, actor: int | None, to: int, own: bool) -> None:
        bid, b = self.pick(index, movable)
        actor = self.who(actor, b.custodian)
        expected = (
            self.active_error(actor)
            or self.active_error(to)
            or self.movable_error(bid, b)
            or (("RegistryNotCustodian", (bid, self.addr(actor))) if b.custodian != actor else None)
            or (("RegistrySelfHandoff", (bid, self.addr(to))) if to == actor else None)
            or (("RegistryNotOwner", (bid, self.addr(actor))) if own and b.owner != actor else None)
        )
        h = (bid, self.addr(actor), self.addr(to), 0, 3, 1, own, DOC)
        self.act("initiateHandoff", [h], actor, expected)
        if expected is None:
            self.batches[bid] = replace(b, pending_to=to, pending_own=own)

    @precondition(lambda self: any(map(pending, self.batches.values())))
    @rule(index=INDEX, actor=ANYONE)
    def accept(self, index: int, actor: int | None) -> None:
        bid, b = self.pick(index, pending)
        actor = self.who(actor, b.pending_to)
        expected = (
            self.active_error(actor)
            or (("RegistryNoPendingHandoff", (bid,)) if b.pending_to is None else None)
            or (
                ("RegistryNotRecipient", (bid, self.addr(actor))) if b.pending_to != actor else None
            )
            or self.frozen_error(bid, b)
        )
        self.act("acceptHandoff", [bid, DOC], actor, expected)
        if expected is None:
            owner = actor if b.pending_own else b.owner
            self.batches[bid] = replace(
                b, custodian=actor, owner=owner, pending_to=None, pending_own=False
            )

    @precondition(lambda self: any(map(pending, self.batches.values())))
    @rule(index=INDEX, actor=ANYONE)
    def reject(self, index: int, actor: int | None) -> None:
        bid, b = self.pick(index, pending)
        actor = self.who(actor, b.pending_to)
        expected = (("RegistryNoPendingHandoff", (bid,)) if b.pending_to is None else None) or (
            ("RegistryNotRecipient", (bid, self.addr(actor))) if b.pending_to != actor else None
        )
        self.act("rejectHandoff", [bid, REASON, DOC], actor, expected)
        if expected is None:
            self.batches[bid] = replace(b, pending_to=None, pending_own=False)

    @precondition(lambda self: any(map(pending, self.batches.values())))
    @rule(index=INDEX, actor=ANYONE)
    def cancel(self, index: int, actor: int | None) -> None:
        bid, b = self.pick(index, pending)
        actor = self.who(actor, b.custodian)
        expected = (("RegistryNoPendingHandoff", (bid,)) if b.pending_to is None else None) or (
            ("RegistryNotCustodian", (bid, self.addr(actor))) if b.custodian != actor else None
        )
        self.act("cancelHandoff", [bid, DOC], actor, expected)
        if expected is None:
            self.batches[bid] = replace(b, pending_to=None, pending_own=False)

    @precondition(lambda self: len(self.ids) < MAX_BATCHES)
    @rule(
        index=INDEX,
        actor=ANYONE,
        count=st.integers(1, 3),
        loss_seed=st.integers(0, 10**6),
        tamper=st.sampled_from([None, None, None, None, "more", "less", "lot"]),
    )
    def split(
        self, index: int, actor: int | None, count: int, loss_seed: int, tamper: str | None
    ) -> None:
        bid, b = self.pick(index, movable)
        actor = self.who(actor, b.custodian)
        count = min(count, b.quantity)
        loss = loss_seed % (b.quantity - count + 1)
        rest = b.quantity - loss
        quantities = [rest // count] * (count - 1) + [rest - rest // count * (count - 1)]
        names = [b.lot + "ABC"[i] for i in range(count)]
        if tamper == "more":
            loss += 1
        elif tamper == "less" and loss:
            loss -= 1
        elif tamper == "lot":
            names[0] = "X" + names[0]
        error, numbers, _ = self.consume([bid], actor, keep_origin=True)
        expected = self.active_error(actor) or error
        if expected is None:
            for name in names:
                if len(b.lot) >= 20 or not name.startswith(b.lot):
                    expected = ("RegistryLotNotExtended", (lot(b.lot), lot(name)))
                    break
        if expected is None and sum(quantities) + loss != b.quantity:
            expected = ("RegistryQuantityMismatch", (b.quantity, sum(quantities) + loss))
        parts = [(lot(n), q) for n, q in zip(names, quantities, strict=True)]
        self.act("splitBatch", [bid, lot(b.lot), parts, loss, DOC], actor, expected)
        if expected is None:
            self.mark_consumed([bid], loss)
            for name, quantity in zip(names, quantities, strict=True):
                child = ModelBatch(
                    name, b.gtin, quantity, b.custodian, b.owner, b.origin, tuple(numbers)
                )
                self.add(batch_id(b.gtin, lot(name)), child)

    @precondition(lambda self: len(self.ids) >= 2)
    @rule(first=INDEX, second=INDEX, actor=ANYONE, loss=st.integers(0, 50))
    def merge(self, first: int, second: int, actor: int | None, loss: int) -> None:
        a, ba = self.pick(first, movable)
        c, bc = self.pick(
            second,
            lambda b: movable(b) and b != ba and (b.custodian, b.owner) == (ba.custodian, ba.owner),
        )
        actor = self.who(actor, ba.custodian)
        name = ba.lot + "M"
        expected: Expected = (
            ("RegistryLotNotExtended", (lot(ba.lot), lot(name))) if len(ba.lot) >= 20 else None
        )
        numbers: list[int] = []
        if expected is None:
            expected = self.active_error(actor)
        if expected is None:
            expected, numbers, _ = self.consume([a, c], actor, keep_origin=True)
        total = ba.quantity + bc.quantity
        if expected is None and total <= loss:
            expected = ("RegistryQuantityMismatch", (total, loss))
        self.act("mergeBatches", [[a, c], lot(ba.lot), lot(name), loss, DOC], actor, expected)
        if expected is None:
            self.mark_consumed([a, c], loss)
            child = ModelBatch(
                name, ba.gtin, total - loss, actor, ba.owner, ba.origin, tuple(numbers)
            )
            self.add(batch_id(ba.gtin, lot(name)), child)

    @precondition(lambda self: len(self.ids) < MAX_BATCHES)
    @rule(
        first=INDEX,
        second=st.one_of(st.none(), INDEX),
        actor=st.sampled_from([None, None, None, 0, 1, 2, 3, STRANGER]),
        quantity=st.integers(1, 500),
        foreign=st.integers(0, 4).map(lambda n: n == 0),
    )
    def transform(
        self, first: int, second: int | None, actor: int | None, quantity: int, foreign: bool
    ) -> None:
        a, ba = self.pick(first, lambda b: movable(b) and b.custodian in (0, 1))
        inputs = [a]
        if second is not None:
            inputs.append(
                self.pick(second, lambda b: movable(b) and b.custodian == ba.custodian)[0]
            )
        actor = self.who(actor, ba.custodian if ba.custodian in (0, 1) else 1)
        own_gtin = GTIN_P if actor == 1 else GTIN_B  # each brand's prefix: processor's, farm's
        gtin = (GTIN_B if own_gtin == GTIN_P else GTIN_P) if foreign else own_gtin
        name = f"T{len(self.ids)}"
        expected = self.active_error(actor)
        if expected is None and not ROLES[actor] & (PROCESSOR | PRODUCER):
            expected = ("RegistryMissingRole", (self.addr(actor), PROCESSOR | PRODUCER))
        numbers: list[int] = []
        if expected is None:
            expected, numbers, _ = self.consume(inputs, actor, keep_origin=False)
        if expected is None and gtin != own_gtin:
            expected = ("RegistryNotPrefixHolder", (gtin, self.addr(actor)))
        output = (gtin, lot(name), quantity, KGM)
        self.act("transformBatches", [inputs, [output], DOC], actor, expected)
        if expected is None:
            owner = self.batches[inputs[0]].owner
            self.sunk += sum(self.batches[i].quantity for i in inputs)
            self.mark_consumed(inputs, 0)
            self.created += quantity
            out = ModelBatch(name, gtin, quantity, actor, owner, actor, tuple(numbers))
            self.add(batch_id(gtin, lot(name)), out)

    @rule(
        index=INDEX,
        actor=st.sampled_from([OPERATOR, 0, 0, 1, 2, 3, STRANGER]),
        dice=st.integers(0, 3),
    )
    def recall(self, index: int, actor: int, dice: int) -> None:
        if dice:
            return  # recalls freeze whole lineages: keep them rare so that movements get explored
        bid, b = self.pick(index, lambda b: b.state == CONSUMED)  # reaching descendants
        expected: Expected = ("RegistryBatchRecalled", (bid,)) if b.recalled else None
        not_recaller = actor == STRANGER or actor != b.origin or not self.active[actor]
        if expected is None and actor != OPERATOR and not_recaller:
            expected = ("RegistryNotRecaller", (bid, self.addr(actor)))
        self.act("recallBatch", [bid, REASON, DOC], actor, expected)
        if expected is None:
            self.batches[bid] = replace(b, recalled=True)
            if b.state == CONSUMED:
                self.recalled_numbers.add(b.number)

    @precondition(lambda self: any(b.recalled for b in self.batches.values()))
    @rule(index=INDEX, rightful=st.booleans())
    def lift(self, index: int, rightful: bool) -> None:
        recalled = [i for i in self.ids if self.batches[i].recalled]
        bid = recalled[index % len(recalled)] if rightful else self.pick(index)[0]
        b = self.batches[bid]
        expected: Expected = None if b.recalled else ("RegistryBatchNotRecalled", (bid,))
        self.act("liftRecall", [bid, REASON, DOC], OPERATOR, expected)
        if expected is None:
            self.batches[bid] = replace(b, recalled=False)
            self.recalled_numbers.discard(b.number)

    @rule(actor=st.integers(0, 3), dice=st.integers(0, 7))
    def toggle_suspension(self, actor: int, dice: int) -> None:
        if dice:
            return
        fn, args = (
            ("suspendParticipant", [self.addr(actor), REASON])
            if self.active[actor]
            else ("reinstateParticipant", [self.addr(actor)])
        )
        self.act(fn, args, OPERATOR, None)
        self.active[actor] = not self.active[actor]

    # ------------------------------------------------------------ invariants

    @invariant()
    def chain_matches_the_model(self) -> None:
        w = self.world
        to = w.registry.address
        get_batch = "0x" + self.functions["getBatch"][0].hex()
        lineage_of = "0x" + self.functions["lineageOf"][0].hex()
        requests: list[tuple[str, Any]] = []
        for bid in self.ids:
            for selector in (get_batch, lineage_of):
                requests.append(("eth_call", [{"to": to, "data": selector + bid.hex()}, "latest"]))
        responses = w.w3.provider.make_batch_request(requests)  # type: ignore[arg-type]
        assert isinstance(responses, list)
        live = 0
        for i, bid in enumerate(self.ids):
            m = self.batches[bid]
            raw_info, raw_lineage = (
                bytes.fromhex(r["result"][2:]) for r in responses[2 * i : 2 * i + 2]
            )
            info = BatchInfo.of(decode([BatchInfo.ABI], raw_info)[0])
            (lineage,) = decode(["uint32[]"], raw_lineage)
            pending = ZERO if m.pending_to is None else self.addr(m.pending_to)
            expected = BatchInfo(
                custodian=self.addr(m.custodian),
                owner=self.addr(m.owner),
                pending_to=pending,
                origin=self.addr(m.origin),
                bound_to=ZERO,
                state=m.state,
                recalled=m.recalled,
                lineage_recalled=any(n in self.recalled_numbers for n in m.ancestors),
                tender_leg=False,
                pending_ownership=m.pending_own,
                gtin=m.gtin,
                quantity=m.quantity,
                uom=KGM,
                lineage_number=m.number,
                ancestors=len(m.ancestors),
            )
            assert (bid.hex(), info) == (bid.hex(), expected)
            assert list(lineage) == list(m.ancestors)
            assert len(m.ancestors) <= MAX_LINEAGE
            if m.state == ACTIVE:
                live += m.quantity
        assert live + self.sunk == self.created  # quantity is conserved


def abi_functions(abi: list[dict[str, Any]]) -> dict[str, tuple[bytes, list[str]]]:
    table = {}
    for item in abi:
        if item["type"] == "function":
            types = [abi_type(i) for i in item["inputs"]]
            table[item["name"]] = (keccak(text=f"{item['name']}({','.join(types)})")[:4], types)
    return table


def prepare(world: World) -> None:
    RegistryMachine.world = world
    RegistryMachine.functions = abi_functions(world.registry.abi)
    RegistryMachine.snapshot_id = world.request("evm_snapshot", [])


def test_registry_keeps_its_invariants(world: World) -> None:
    prepare(world)
    run_state_machine_as_test(
        RegistryMachine,
        settings=settings(
            stateful_step_count=STEPS,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    world.request("evm_revert", [RegistryMachine.snapshot_id])
    for rule_name in ("createBatch", "initiateHandoff", "acceptHandoff", "splitBatch"):
        assert OUTCOMES[f"{rule_name}: ok"], f"the run never got a {rule_name} through"


def run_example(world: World, steps: list[tuple[str, dict[str, Any]]]) -> RegistryMachine:
    """Drive the machine through `steps` (rule name, arguments), checking the invariants after
    each: the explicit edge cases that random runs reach rarely."""
    prepare(world)
    machine = RegistryMachine()
    try:
        for name, kwargs in steps:
            getattr(machine, name)(**kwargs)
            machine.chain_matches_the_model()
    finally:
        world.request("evm_revert", [RegistryMachine.snapshot_id])
    return machine


SPLIT_ONCE = {"index": 1, "actor": None, "count": 1, "loss_seed": 0, "tamper": None}


def test_example_the_sixteenth_ancestor_is_refused(world: World) -> None:
    machine = run_example(world, [("first_batch", {"quantity": 5})] + [("split", SPLIT_ONCE)] * 16)
    depths = sorted(len(b.ancestors) for b in machine.batches.values())
    assert depths[-1] == MAX_LINEAGE  # the sixteenth split was predicted and refused


def test_example_a_recall_of_a_consumed_ancestor_freezes_and_lifting_frees(world: World) -> None:
    recall = {"index": 1, "actor": OPERATOR, "dice": 0}
    move = {"index": 1, "actor": None, "to": 2, "own": False}
    machine = run_example(
        world,
        [
            ("first_batch", {"quantity": 10}),
            ("split", {**SPLIT_ONCE, "count": 2}),
            ("recall", recall),  # the consumed parent: both children are frozen
            ("initiate", move),  # refused: RegistryAncestorRecalled
            ("lift", {"index": 0, "rightful": True}),
            ("initiate", move),
            ("accept", {"index": 1, "actor": None}),
        ],
    )
    assert OUTCOMES["initiateHandoff: RegistryAncestorRecalled"] >= 1
    assert sum(b.custodian == 2 for b in machine.batches.values()) == 1


def test_example_transform_outputs_belong_to_the_transformer_for_recalls(world: World) -> None:
    machine = run_example(
        world,
        [
            ("first_batch", {"quantity": 10}),
            ("initiate", {"index": 1, "actor": None, "to": 1, "own": False}),
            ("accept", {"index": 1, "actor": None}),
            (
                "transform",
                {"first": 1, "second": None, "actor": None, "quantity": 3, "foreign": False},
            ),
            ("recall", {"index": 2, "actor": 0, "dice": 0}),  # the farm recalls its consumed input
            ("toggle_suspension", {"actor": 1, "dice": 0}),
            ("recall", {"index": 0, "actor": 1, "dice": 0}),  # suspended: not the recaller any more
        ],
    )
    output = machine.batches[machine.ids[-1]]
    assert (output.origin, output.gtin) == (1, GTIN_P)
