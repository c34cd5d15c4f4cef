"""Import EPCIS events onto the chain as one participant: plan, store, then bulk transactions.

1. **Plan.** Every event of the input gets an outcome: *recorded* (planned: the registry call it
   becomes), *already recorded* (its GS1 event hash is already anchored on chain, or it is an
   export of this very chain), *duplicate* (the same event earlier in the input) or *rejected*,
   with a reason a person understands: an event type or identifier the registry does not model,
   an actor that is another participant (whose account must import it), a GTIN outside the
   importer's company prefixes, a quantity that does not balance. The plan replays the importing
   participant's effect on every batch it touches, so a shipment, its receipt and a later
   transformation in one file are judged in order.
2. **Store.** The full JSON of every event that is (or is about to be) anchored goes into the
   content-addressed store (`store.EventStore`) before any transaction is signed.
3. **Send.** Commissionings go out first through `createBatches` (many per transaction, each
   batch with its own event hash as its document); then the other records in waves of
   independent calls (no two touching the same batch), each wave pipelined by
   `Transactor.send_many`. Every signed transaction is journaled in the outbox first.

Idempotence and resumption: before planning, open outbox entries of this chain are flushed (a
killed import's signed transactions are sent or found mined), then the registry's log says which
event hashes are anchored; those events send nothing. So importing a document twice sends no
transaction the second time, and an import killed at any point resumes with nothing lost or
duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from provenance.cbv import BIZ_STEPS
from provenance.encoding import ZERO_ADDRESS, text_to_bytes32, to_hex32
from provenance.epcis.document import SourceEvent
from provenance.epcis.hashing import ON_CHAIN, anchor_of
from provenance.epcis.identifiers import (
    Amount,
    ClassKey,
    PartyRef,
    Unmappable,
    convert,
    same_amount,
)
from provenance.epcis.mapping import Coordinates, Intent, Kind, Line, interpret
from provenance.epcis.store import EventStore
from provenance.exceptions import InvalidInput, ProvenanceError
from provenance.gs1 import (
    Gtin,
    batch_id,
    gtin_to_int,
    lot_extends,
    lot_from_bytes32,
    lot_to_bytes32,
)
from provenance.logs import EventDecoder, fetch_logs
from provenance.outbox import OPEN_STATUSES
from provenance.records import NewBatch, Participant, Role
from provenance.transactions import GAS_MARGIN
from provenance.units import uom_from_bytes, uom_to_bytes

#: `validUntil` of an attestation from an EPCIS certification: valid until further notice.
MAX_UINT64 = 2**64 - 1

if TYPE_CHECKING:
    from provenance.registry import RegistryClient

#: Batches per `createBatches` transaction (~55k gas each: well under a 30M block).
DEFAULT_CHUNK = 150
#: `createBatches` transactions signed and sent before waiting for their receipts.
PIPELINE = 8
#: Registry events whose document (or evidence) anchors an imported event.
ANCHORING = {
    "BatchCreated": "document",
    "HandoffInitiated": "document",
    "HandoffAccepted": "document",
    "HandoffRejected": "document",
    "HandoffCancelled": "document",
    "BatchConsumed": "document",
    "BatchRecalled": "document",
    "RecallLifted": "document",
    "AttestationIssued": "evidence",
}
SCANNED = (*ANCHORING, "BatchSplit")

RECORDED = "recorded"
ALREADY = "already recorded"
DUPLICATE = "duplicate"
REJECTED = "rejected"
PLANNED = "planned"
FAILED = "failed"

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class EventOutcome:
    """What happened (or, in a dry run, would happen) to one input event."""

    source: str
    index: int
    event_type: str
    status: str
    event_id: str | None = None  # its GS1 event hash (the on-chain anchor)
    action: str = ""  # the registry call, e.g. "createBatches", "initiateHandoffs → 0x…"
    reason: str = ""
    batches: tuple[str, ...] = ()
    transactions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.source}#{self.index + 1}"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.label,
            "type": self.event_type,
            "status": self.status,
            "eventID": self.event_id,
            "action": self.action,
            "reason": self.reason,
            "batches": list(self.batches),
            "transactions": list(self.transactions),
        }


@dataclass(frozen=True)
class ImportReport:
    importer: str
    chain_id: int
    dry_run: bool
    outcomes: tuple[EventOutcome, ...]
    transactions: int = 0
    seconds: float = 0.0
    store: str = ""

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not any(o.status == FAILED for o in self.outcomes)

    @property
    def events_per_second(self) -> float:
        done = self.count(RECORDED)
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "importer": self.importer,
            "chainId": self.chain_id,
            "dryRun": self.dry_run,
            "store": self.store,
            "counts": {
                s: self.count(s) for s in (PLANNED, RECORDED, ALREADY, DUPLICATE, REJECTED, FAILED)
            },
            "transactions": self.transactions,
            "seconds": round(self.seconds, 3),
            "eventsPerSecond": round(self.events_per_second, 1),
            "events": [o.to_json() for o in self.outcomes],
        }


# ------------------------------------------------------------------------------ chain view


@dataclass
class _Batch:
    """The importer's replay of one batch (chain state + the plan's effects so far)."""

    bid: str
    exists: bool
    active: bool = True
    gtin: str = ""
    lot: str | None = None
    amount: Amount | None = None
    custodian: str | None = None
    owner: str | None = None
    origin: str | None = None
    pending_to: str | None = None
    pending_title: bool = False
    bound: bool = False
    recalled: bool = False


@dataclass
class _Anchors:
    """What the registry's log says: anchored event hashes, existing batches, known logs."""

    records: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # anchor → (name, key)
    created: dict[str, tuple[str, str, Amount]] = field(default_factory=dict)  # id → gtin, lot, amt
    logs: set[tuple[str, int]] = field(default_factory=set)

    def anchored(self, anchor: str, name: str | None = None, key: str | None = None) -> bool:
        for found_name, found_key in self.records.get(anchor, ()):
            if (name is None or found_name == name) and (key is None or found_key == key):
                return True
        return False


def scan(registry: RegistryClient) -> _Anchors:
    """One pass over the registry's log (from its deployment block)."""
    decoder = EventDecoder(registry.abi)
    topics = [decoder.topic(name) for name in SCANNED]
    logs = fetch_logs(registry.chain, registry.address, [topics], registry.deploy_block)
    found = _Anchors()
    for event in decoder.decode_all(logs):
        found.logs.add((event.tx_hash.lower(), event.log_index))
        args = event.args
        if event.name == "BatchSplit":
            child, parent = to_hex32(args["childId"]), to_hex32(args["parentId"])
            info = found.created.get(parent)
            gtin, unit = (info[0], info[2].uom) if info else ("", "")
            lot = lot_from_bytes32(args["lot"])
            found.created[child] = (gtin, lot, Amount(int(args["quantity"]), unit))
            continue
        if event.name == "BatchCreated":
            bid = to_hex32(args["batchId"])
            found.created[bid] = (
                Gtin.from_chain(int(args["gtin"])),
                lot_from_bytes32(args["lot"]),
                Amount(int(args["quantity"]), uom_from_bytes(args["uom"])),
            )
        document = to_hex32(args[ANCHORING[event.name]])
        if int(document, 16) == 0:
            continue
        key = to_hex32(args["subject"] if event.name == "AttestationIssued" else args["batchId"])
        if event.name == "AttestationIssued":
            key = f"{key}:{to_hex32(args['claim'])}"
        found.records.setdefault(document, []).append((event.name, key))
    return found


# ------------------------------------------------------------------------------- planning


@dataclass
class _Action:
    """One registry call of the plan, for the event at `outcome` (index into the outcomes)."""

    kind: Kind
    outcome: int
    anchor: str
    touches: tuple[str, ...]
    build: Callable[[Any], Any]  # contract.functions → ContractFunction
    description: str
    new: tuple[NewBatch, ...] = ()


class _Planner:
    def __init__(
        self,
        registry: RegistryClient,
        importer: str,
        store: EventStore,
        *,
        participants: Sequence[Participant],
        anchors: _Anchors,
    ) -> None:
        self.registry = registry
        self.importer = importer
        self.store = store
        self.anchors = anchors
        self.chain_id = registry.chain.chain_id
        self.people = {p.address: p for p in participants}
        self.by_gln: dict[int, list[Participant]] = {}
        for p in participants:
            if p.gln:
                self.by_gln.setdefault(p.gln, []).append(p)
        me = self.people.get(importer)
        if me is None:
            raise InvalidInput(
                f"{importer} is not a registered participant of this registry: the operator "
                "registers it first (`provenance participant register`)"
            )
        self.me = me
        self.batches: dict[str, _Batch] = {}
        self.prefixes: dict[str, str | None] = {}
        self.operator: str | None = None
        self.seen: dict[str, int] = {}  # anchor → outcome index of its first occurrence
        self.actions: list[_Action] = []
        self.outcomes: list[EventOutcome] = []
        self.to_store: list[tuple[str, dict[str, Any]]] = []

    # chain reads, cached -------------------------------------------------------------

    def batch(self, key: ClassKey) -> _Batch:
        bid = batch_id(key.gtin, key.lot)
        if bid in self.batches:
            return self.batches[bid]
        created = self.anchors.created.get(bid)
        if created is None:
            view = _Batch(bid, exists=False, gtin=key.gtin, lot=key.lot)
        else:
            info = self.registry.get_batch(bid)
            view = _Batch(
                bid,
                exists=True,
                active=info.active,
                gtin=info.gtin,
                lot=key.lot,
                amount=Amount(info.quantity, info.uom),
                custodian=info.custodian,
                owner=info.owner,
                origin=info.origin,
                pending_to=info.pending_to,
                pending_title=info.pending_ownership,
                bound=info.bound,
                recalled=info.frozen,
            )
        self.batches[bid] = view
        return view

    def holder_of(self, gtin: str) -> str | None:
        if gtin not in self.prefixes:
            holder, _prefix = self.registry.prefix_of(gtin)
            self.prefixes[gtin] = holder
        return self.prefixes[gtin]

    def name(self, address: str | None) -> str:
        if not address:
            return "nobody"
        p = self.people.get(address)
        gln = f", GLN {str(p.gln).zfill(13)}" if p and p.gln else ""
        return f"{address}{gln}"

    def resolve(self, refs: Sequence[PartyRef], what: str) -> str:
        """The one registered participant that every identifier of `refs` names."""
        found: set[str] = set()
        for ref in refs:
            if ref.address is not None:
                if ref.chain_id != self.chain_id:
                    raise Unmappable(
                        f"{what} {ref.text} is an account on chain {ref.chain_id}, not on this "
                        f"chain ({self.chain_id})"
                    )
                if ref.address not in self.people:
                    raise Unmappable(f"{what} {ref.text} is not a registered participant")
                found.add(ref.address)
            else:
                matches = self.by_gln.get(ref.gln, [])
                if not matches:
                    raise Unmappable(
                        f"{what} {ref.text}: no registered participant has GLN "
                        f"{str(ref.gln).zfill(13)}"
                    )
                if len(matches) > 1:
                    raise Unmappable(
                        f"{what} {ref.text}: several participants share GLN "
                        f"{str(ref.gln).zfill(13)}; name it by did:pkh"
                    )
                found.add(matches[0].address)
        if len(found) != 1:
            raise Unmappable(f"the identifiers of the {what} name different participants")
        return found.pop()

    def require_role(self, roles: Role, what: str) -> None:
        if not self.me.active:
            raise Unmappable(f"the importer {self.importer} is suspended")
        if not self.me.roles & roles:
            names = "|".join(r.name.lower() for r in Role if r & roles and r.name)
            raise Unmappable(f"{what} needs the {names} role, which {self.importer} lacks")

    def other(self, who: str | None, verb: str) -> Unmappable:
        return Unmappable(
            f"{verb} is for {self.name(who)} to record: it needs that participant's signature "
            f"(import the file with --account {who})"
        )

    # outcomes -------------------------------------------------------------------------

    def add(self, src: SourceEvent, status: str, **extra: Any) -> int:
        self.outcomes.append(EventOutcome(src.source, src.index, src.event_type, status, **extra))
        return len(self.outcomes) - 1

    def plan(self, events: Iterable[SourceEvent]) -> None:
        for src in events:
            self.plan_one(src)

    def plan_one(self, src: SourceEvent) -> None:
        if src.context_error:
            self.add(src, REJECTED, reason=src.context_error)
            return
        coords = src.event.get(ON_CHAIN)
        if isinstance(coords, Mapping):
            try:
                where = Coordinates.from_json(coords)
            except (KeyError, TypeError, ValueError):
                where = None
            if (
                where is not None
                and where.chain_id == self.chain_id
                and where.registry.lower() == self.registry.address.lower()
                and (where.tx_hash.lower(), where.log_index) in self.anchors.logs
            ):
                self.add(
                    src,
                    ALREADY,
                    reason=f"exported from this registry (transaction {where.tx_hash})",
                )
                return
        try:
            ni = src.gs1_hash()
        except Exception as exc:
            self.add(src, REJECTED, reason=f"the event cannot be hashed: {exc}")
            return
        anchor = anchor_of(ni)
        if anchor in self.seen:
            first = self.outcomes[self.seen[anchor]]
            self.add(src, DUPLICATE, event_id=ni, reason=f"the same event as {first.label}")
            return
        try:
            intent = interpret(src.exact)
        except Unmappable as exc:
            self.add(src, REJECTED, event_id=ni, reason=str(exc))
            return
        self.seen[anchor] = len(self.outcomes)
        if self.recorded(intent, anchor):
            self.add(src, ALREADY, event_id=ni, reason="its event hash is anchored on chain")
            self.to_store.append((anchor, self.clean(src, ni)))
            return
        index = self.add(src, PLANNED, event_id=ni)
        try:
            actions = self.actions_for(intent, anchor, index)
        except Unmappable as exc:
            self.outcomes[index] = replace(self.outcomes[index], status=REJECTED, reason=str(exc))
            return
        self.actions.extend(actions)
        touched = tuple(dict.fromkeys(b for a in actions for b in a.touches))
        self.outcomes[index] = replace(
            self.outcomes[index],
            action="; ".join(a.description for a in actions),
            batches=touched,
        )
        self.to_store.append((anchor, self.clean(src, ni)))

    @staticmethod
    def clean(src: SourceEvent, ni: str) -> dict[str, Any]:
        """What the store keeps: the event as imported, standalone (its `@context` first), with
        its GS1 event hash as `eventID` when it had none (the hash leaves `eventID` out)."""
        data = src.standalone()
        data.pop(ON_CHAIN, None)
        if "eventID" not in data:
            head = {"@context": data.pop("@context"), "type": data.pop("type", None)}
            data = {**head, "eventID": ni, **data}
        return data

    def recorded(self, intent: Intent, anchor: str) -> bool:
        if intent.kind == Kind.COMMISSION:
            ids = [batch_id(line.key.gtin, line.key.lot) for line in intent.lines]
            return all(self.anchors.anchored(anchor, "BatchCreated", b) for b in ids)
        return anchor in self.anchors.records

    # one registry call per kind -------------------------------------------------------

    def actions_for(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        handler = {
            Kind.COMMISSION: self.commission,
            Kind.SHIP: self.ship,
            Kind.RECEIVE: self.receive,
            Kind.TRANSFORM: self.transform,
            Kind.ATTEST: self.attest,
            Kind.RECALL: self.recall,
        }[intent.kind]
        return handler(intent, anchor, index)

    def commission(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        self.require_role(Role.PRODUCER, "commissioning")
        new: list[NewBatch] = []
        views: list[_Batch] = []
        for line in intent.lines:
            view = self.batch(line.key)
            if view.exists:
                if self.anchors.anchored(anchor, "BatchCreated", view.bid):
                    continue  # an earlier, interrupted import recorded this part already
                raise Unmappable(
                    f"batch {line.key.gtin}/{line.key.lot} already exists on chain (recorded by "
                    "another event)"
                )
            holder = self.holder_of(line.key.gtin)
            if holder != self.importer:
                owner = f"held by {self.name(holder)}" if holder else "assigned to nobody"
                raise Unmappable(
                    f"GTIN {line.key.gtin} is outside {self.importer}'s GS1 company prefixes (its "
                    f"prefix is {owner}): only the brand owner commissions it"
                )
            new.append(
                NewBatch(
                    gtin=line.key.gtin,
                    lot=line.key.lot,
                    quantity=line.amount.quantity,
                    uom=line.amount.uom,
                    document=anchor,
                )
            )
            views.append(view)
        for view, item in zip(views, new, strict=True):
            view.exists, view.active = True, True
            view.amount = Amount(item.quantity, item.uom)
            view.custodian = view.owner = view.origin = self.importer
        return [
            _Action(
                Kind.COMMISSION,
                index,
                anchor,
                tuple(n.batch_id for n in new),
                lambda f: None,
                f"createBatches ({len(new)})",
                new=tuple(new),
            )
        ]

    def _moving(self, intent: Intent, verb: str) -> list[_Batch]:
        views = []
        for line in intent.lines:
            view = self.batch(line.key)
            label = f"{line.key.gtin}/{line.key.lot}"
            if not view.exists:
                raise Unmappable(
                    f"batch {label} is not on chain: its commissioning was never recorded"
                )
            if not view.active:
                raise Unmappable(f"batch {label} was consumed (split, merged or transformed)")
            if view.recalled:
                raise Unmappable(f"batch {label} is recalled (or an ancestor is): it cannot {verb}")
            if view.amount is not None and not same_amount(line.amount, view.amount):
                raise Unmappable(
                    f"the event moves {line.stated} of batch {label}, but the batch holds "
                    f"{view.amount.quantity} {view.amount.uom}: the registry moves whole batches "
                    "(split it first)"
                )
            views.append(view)
        return views

    def ship(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        views = self._moving(intent, "be shipped")
        for view in views:
            if view.custodian != self.importer:
                raise self.other(view.custodian, f"shipping batch {view.lot}")
            if view.pending_to:
                raise Unmappable(
                    f"batch {view.lot} already has a handoff pending to "
                    f"{self.name(view.pending_to)}"
                )
        source = intent.source.get("possessing_party") or intent.source.get("owning_party")
        if source:
            sender = self.resolve(source, "source party")
            if sender != self.importer:
                raise self.other(sender, "this shipment")
        possessing = intent.destination.get("possessing_party")
        owning = intent.destination.get("owning_party")
        recipient = self.resolve(possessing or owning or (), "destination party")
        transfer = False
        if owning:
            new_owner = self.resolve(owning, "destination owning party")
            if new_owner != recipient:
                raise Unmappable(
                    f"title to {self.name(new_owner)} while custody goes to "
                    f"{self.name(recipient)} is not modelled: title moves with custody"
                )
            for view in views:
                if view.owner == recipient:
                    continue
                if view.owner != self.importer:
                    raise Unmappable(
                        f"title of batch {view.lot} belongs to {self.name(view.owner)}: only the "
                        "owner passes it on"
                    )
                transfer = True
        if recipient == self.importer:
            raise Unmappable("a shipment to the importer itself is not a handoff")
        if not self.people[recipient].active:
            raise Unmappable(f"the recipient {self.name(recipient)} is suspended")
        for view in views:
            view.pending_to, view.pending_title = recipient, transfer
        ids = [bytes.fromhex(v.bid[2:]) for v in views]
        doc = bytes.fromhex(anchor[2:])

        def build(f: Any) -> Any:
            return f.initiateHandoffs(
                ids, recipient, intent.location, intent.biz_step, intent.disposition, transfer, doc
            )

        return [
            _Action(
                Kind.SHIP,
                index,
                anchor,
                tuple(v.bid for v in views),
                build,
                f"initiateHandoffs ({len(views)}) → {recipient}",
            )
        ]

    def receive(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        for line in intent.lines:
            if not self.batch(line.key).exists:
                raise Unmappable(
                    f"a receipt of a shipment never recorded: batch {line.key.gtin}/{line.key.lot} "
                    "is not on chain (neither its commissioning nor a handoff was recorded)"
                )
        views = self._moving(intent, "be received")
        target = intent.destination.get("possessing_party") or intent.destination.get(
            "owning_party"
        )
        if target:
            receiver = self.resolve(target, "destination party")
            if receiver != self.importer:
                raise self.other(receiver, "this receipt")
        for view in views:
            if view.pending_to is None:
                raise Unmappable(
                    f"a receipt of a shipment never recorded: batch {view.lot} has no pending "
                    "handoff"
                )
            if view.pending_to != self.importer:
                raise self.other(view.pending_to, f"the receipt of batch {view.lot}")
            if view.bound:
                raise Unmappable(
                    f"batch {view.lot} is a delivery under an agreement: the buyer accepts it "
                    "with `provenance handoff accept`, which settles the agreement"
                )
        source = intent.source.get("possessing_party")
        if source:
            sender = self.resolve(source, "source party")
            for view in views:
                if view.custodian != sender:
                    raise Unmappable(
                        f"the receipt names {self.name(sender)} as the sender, but batch "
                        f"{view.lot} is handed off by {self.name(view.custodian)}"
                    )
        for view in views:
            view.custodian, view.pending_to = self.importer, None
            if view.pending_title:
                view.owner, view.pending_title = self.importer, False
        ids = [bytes.fromhex(v.bid[2:]) for v in views]
        doc = bytes.fromhex(anchor[2:])
        return [
            _Action(
                Kind.RECEIVE,
                index,
                anchor,
                tuple(v.bid for v in views),
                lambda f: f.acceptHandoffs(ids, doc),
                f"acceptHandoffs ({len(views)})",
            )
        ]

    def transform(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        views = []
        for line in intent.inputs:
            view = self.batch(line.key)
            label = f"{line.key.gtin}/{line.key.lot}"
            if not view.exists:
                raise Unmappable(f"input batch {label} is not on chain")
            if not view.active:
                raise Unmappable(f"input batch {label} was already consumed")
            if view.recalled:
                raise Unmappable(f"input batch {label} is recalled (or an ancestor is)")
            if view.custodian != self.importer:
                raise self.other(view.custodian, f"consuming batch {label}")
            if view.pending_to:
                raise Unmappable(f"input batch {label} has a pending handoff")
            assert view.amount is not None
            if not same_amount(line.amount, view.amount):
                raise Unmappable(
                    f"the quantities do not balance: the event consumes {line.stated} of batch "
                    f"{label}, which holds {view.amount.quantity} {view.amount.uom}; the registry "
                    "consumes inputs whole"
                )
            views.append(view)
        if len({v.bid for v in views}) != len(views):
            raise Unmappable("the same input batch appears twice")
        outputs = []
        for line in intent.outputs:
            out = self.batch(line.key)
            if out.exists:
                raise Unmappable(f"output batch {line.key.gtin}/{line.key.lot} already exists")
            outputs.append((line, out))
        first = views[0]
        assert first.amount is not None and first.lot is not None
        same_class = all(
            v.gtin == first.gtin and v.amount is not None and v.amount.uom == first.amount.uom
            for v in views
        ) and all(line.key.gtin == first.gtin for line, _ in outputs)
        extends = all(lot_extends(first.lot, line.key.lot) for line, _ in outputs)
        doc = bytes.fromhex(anchor[2:])
        touches = tuple(v.bid for v in views) + tuple(o.bid for _, o in outputs)
        if same_class and extends and len(views) == 1:
            parts = [(line, _in_unit(line, first.amount.uom)) for line, _ in outputs]
            total = sum(q for _, q in parts)
            if total > first.amount.quantity:
                raise Unmappable(
                    f"the quantities do not balance: the outputs ({total} {first.amount.uom}) "
                    f"exceed the input ({first.amount.quantity} {first.amount.uom})"
                )
            loss = first.amount.quantity - total
            encoded = [(lot_to_bytes32(line.key.lot), q) for line, q in parts]
            parent, parent_lot = bytes.fromhex(first.bid[2:]), lot_to_bytes32(first.lot)
            self._consume(views, outputs, first.owner, first.origin, first.amount.uom, parts)
            return [
                _Action(
                    Kind.TRANSFORM,
                    index,
                    anchor,
                    touches,
                    lambda f: f.splitBatch(parent, parent_lot, encoded, loss, doc),
                    f"splitBatch → {len(parts)}",
                )
            ]
        if same_class and extends and len(outputs) == 1 and len(views) > 1:
            line, _ = outputs[0]
            quantity = _in_unit(line, first.amount.uom)
            total = sum(v.amount.quantity for v in views if v.amount is not None)
            if quantity > total:
                raise Unmappable(
                    f"the quantities do not balance: the output ({quantity} {first.amount.uom}) "
                    f"exceeds the inputs ({total} {first.amount.uom})"
                )
            if len({(v.owner, v.origin) for v in views}) != 1:
                raise Unmappable("merged batches must have one owner and one origin")
            loss = total - quantity
            ids = [bytes.fromhex(v.bid[2:]) for v in views]
            first_lot, lot = lot_to_bytes32(first.lot), lot_to_bytes32(line.key.lot)
            self._consume(
                views, outputs, first.owner, first.origin, first.amount.uom, [(line, quantity)]
            )
            return [
                _Action(
                    Kind.TRANSFORM,
                    index,
                    anchor,
                    touches,
                    lambda f: f.mergeBatches(ids, first_lot, lot, loss, doc),
                    f"mergeBatches ({len(views)}) → 1",
                )
            ]
        self.require_role(Role.PROCESSOR | Role.PRODUCER, "a transformation")
        if len({v.owner for v in views}) != 1:
            raise Unmappable("the inputs of a transformation must have one owner")
        for line, _ in outputs:
            if self.holder_of(line.key.gtin) != self.importer:
                raise Unmappable(
                    f"output GTIN {line.key.gtin} is outside {self.importer}'s GS1 company "
                    "prefixes: a transformation commissions its outputs"
                )
        encoded_out = [
            (
                gtin_to_int(line.key.gtin),
                lot_to_bytes32(line.key.lot),
                line.amount.quantity,
                uom_to_bytes(line.amount.uom),
            )
            for line, _ in outputs
        ]
        inputs = [bytes.fromhex(v.bid[2:]) for v in views]
        self._consume(
            views,
            outputs,
            first.owner,
            self.importer,
            None,
            [(line, line.amount.quantity) for line, _ in outputs],
        )
        return [
            _Action(
                Kind.TRANSFORM,
                index,
                anchor,
                touches,
                lambda f: f.transformBatches(inputs, encoded_out, doc),
                f"transformBatches ({len(views)} → {len(outputs)})",
            )
        ]

    def _consume(
        self,
        inputs: list[_Batch],
        outputs: list[tuple[Line, _Batch]],
        owner: str | None,
        origin: str | None,
        uom: str | None,
        quantities: list[tuple[Line, int]],
    ) -> None:
        for view in inputs:
            view.active = False
        for (line, out), (_, quantity) in zip(outputs, quantities, strict=True):
            out.exists, out.active = True, True
            out.amount = Amount(quantity, uom or line.amount.uom)
            out.custodian, out.owner, out.origin = self.importer, owner, origin

    def attest(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        self.require_role(Role.CERTIFIER, "an attestation (inspection with certificationInfo)")
        actions = []
        evidence = bytes.fromhex(anchor[2:])
        for line in intent.lines:
            view = self.batch(line.key)
            if not view.exists:
                raise Unmappable(f"batch {line.key.gtin}/{line.key.lot} is not on chain")
            subject = bytes.fromhex(view.bid[2:])
            for claim in intent.claims:
                claim32 = bytes.fromhex(text_to_bytes32(claim)[2:])
                start = max(intent.event_time, 0)

                def build(f: Any, s: bytes = subject, c: bytes = claim32, t: int = start) -> Any:
                    return f.attest(s, c, evidence, t, MAX_UINT64)

                actions.append(
                    _Action(Kind.ATTEST, index, anchor, (view.bid,), build, f"attest {claim}")
                )
        return actions

    def recall(self, intent: Intent, anchor: str, index: int) -> list[_Action]:
        if self.operator is None:
            self.operator = self.registry.operator() or ZERO_ADDRESS
        actions = []
        reason = bytes.fromhex(text_to_bytes32(BIZ_STEPS.get(intent.biz_step) or "holding")[2:])
        doc = bytes.fromhex(anchor[2:])
        for line in intent.lines:
            view = self.batch(line.key)
            label = f"{line.key.gtin}/{line.key.lot}"
            if not view.exists:
                raise Unmappable(f"batch {label} is not on chain")
            if self.importer not in (view.origin, self.operator):
                raise Unmappable(
                    f"only the batch's origin ({self.name(view.origin)}) or the operator may "
                    f"recall batch {label}"
                )
            view.recalled = True
            bid = bytes.fromhex(view.bid[2:])

            def build(f: Any, b: bytes = bid) -> Any:
                return f.recallBatch(b, reason, doc)

            actions.append(
                _Action(Kind.RECALL, index, anchor, (view.bid,), build, f"recallBatch {label}")
            )
        return actions


def _in_unit(line: Line, uom: str) -> int:
    value = convert(Decimal(line.amount.quantity), line.amount.uom, uom)
    if value is None or value != value.to_integral_value():
        raise Unmappable(
            f"output {line.key.gtin}/{line.key.lot} ({line.stated}) cannot be expressed exactly "
            f"in the input's unit {uom}"
        )
    return int(value)


# ------------------------------------------------------------------------------- running


def _waves(actions: Sequence[_Action]) -> list[list[_Action]]:
    """Consecutive groups of actions that touch pairwise different batches (so each call can be
    estimated against the state before the group)."""
    waves: list[list[_Action]] = []
    current: list[_Action] = []
    touched: set[str] = set()
    for action in actions:
        if current and touched & set(action.touches):
            waves.append(current)
            current, touched = [], set()
        current.append(action)
        touched.update(action.touches)
    if current:
        waves.append(current)
    return waves


def _shared_gas(sender: str, calls: Sequence[Any], sizes: Sequence[int]) -> int | None:
    """One gas limit for calls of one function: the estimate of the largest, with a margin.
    Estimating each call costs more than sending it; if the estimate fails (a revert), None lets
    `send_many` estimate every call and decode the refusal."""
    if len(calls) < 2 or len({getattr(c, "fn_name", "") for c in calls}) != 1:
        return None
    largest = calls[max(range(len(calls)), key=lambda i: sizes[i])]
    try:
        return int(largest.estimate_gas({"from": sender}) * GAS_MARGIN) + 25_000
    except Exception:
        return None


def import_events(
    registry: RegistryClient,
    events: Iterable[SourceEvent],
    *,
    store: EventStore | None = None,
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> ImportReport:
    """Import `events` as `registry`'s sending account (see the module docstring)."""
    started = time.monotonic()
    store = store or EventStore()
    transactor = registry.transactor
    if transactor is None:
        raise InvalidInput("importing needs an account (--account)")
    chain = registry.chain
    outbox = transactor.outbox
    if not dry_run and outbox is not None and outbox.entries(chain.identity, OPEN_STATUSES):
        outbox.flush(chain)  # a killed import's signed transactions first
    planner = _Planner(
        registry,
        transactor.address,
        store,
        participants=registry.list_participants(),
        anchors=scan(registry),
    )
    planner.plan(events)
    outcomes = planner.outcomes
    if dry_run:
        return ImportReport(
            transactor.address,
            chain.chain_id,
            True,
            tuple(outcomes),
            seconds=time.monotonic() - started,
            store=str(store.root),
        )
    for anchor, data in planner.to_store:
        store.put(anchor, data)
    sent: dict[int, list[str]] = {}
    failed: dict[int, str] = {}
    functions = registry.contract.functions
    count = 0

    def note(group: Sequence[_Action], results: Sequence[Any]) -> None:
        for action, result in zip(group, results, strict=True):
            sent.setdefault(action.outcome, []).append(result.tx_hash)
        if progress is not None:
            progress(len({a.outcome for a in group}), "")

    creates = [a for a in planner.actions if a.kind == Kind.COMMISSION]
    items = [(a, item) for a in creates for item in a.new]
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    for start in range(0, len(chunks), PIPELINE):
        group = chunks[start : start + PIPELINE]
        calls = [functions.createBatches([item.to_tuple() for _, item in c]) for c in group]
        try:
            gas = _shared_gas(transactor.address, calls, [len(c) for c in group])
            results = transactor.send_many(calls, gas=gas, description="import: create batches")
        except ProvenanceError as exc:
            found = scan(registry)
            for chunk in group:
                for action, item in chunk:
                    if not found.anchored(action.anchor, "BatchCreated", item.batch_id):
                        failed[action.outcome] = str(exc)
            continue
        count += len(results)
        for chunk, result in zip(group, results, strict=True):
            for action, _item in chunk:
                hashes = sent.setdefault(action.outcome, [])
                if result.tx_hash not in hashes:
                    hashes.append(result.tx_hash)
        if progress is not None:
            progress(len({a.outcome for c in group for a, _ in c}), "")
    rest = [a for a in planner.actions if a.kind != Kind.COMMISSION]
    for wave in _waves(rest):
        wave = [a for a in wave if a.outcome not in failed]
        if not wave:
            continue
        try:
            calls = [a.build(functions) for a in wave]
            gas = _shared_gas(transactor.address, calls, [len(a.touches) for a in wave])
            results = transactor.send_many(calls, gas=gas)
            count += len(results)
            note(wave, results)
        except ProvenanceError as exc:
            found = scan(registry)
            for action in wave:
                if action.anchor not in found.records:
                    failed[action.outcome] = str(exc)
            if progress is not None:
                progress(len({a.outcome for a in wave}), "")
    final = []
    for i, outcome in enumerate(outcomes):
        if outcome.status != PLANNED:
            final.append(outcome)
        elif i in failed:
            final.append(replace(outcome, status=FAILED, reason=failed[i]))
        else:
            final.append(replace(outcome, status=RECORDED, transactions=tuple(sent.get(i, ()))))
    return ImportReport(
        transactor.address,
        chain.chain_id,
        False,
        tuple(final),
        transactions=count,
        seconds=time.monotonic() - started,
        store=str(store.root),
    )


__all__ = [
    "ALREADY",
    "DEFAULT_CHUNK",
    "DUPLICATE",
    "FAILED",
    "PLANNED",
    "RECORDED",
    "REJECTED",
    "EventOutcome",
    "ImportReport",
    "import_events",
    "scan",
]
