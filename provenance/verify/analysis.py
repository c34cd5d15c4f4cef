"""The pure half of verification: replay a batch's decoded events and judge them.

Everything is rebuilt from event logs, never from contract state, so the verdict only depends on
what the chain recorded. `analyze(history)` replays the events — one handler per event kind, for
the batch's own history (`_Analysis._REPLAY`) and for the deliveries under agreements
(`_Analysis._DEALS`) — and applies the checks below; unit tests feed it synthetic event lists.
No RPC here: `provenance.verify.collect` fetches the history.

Verdicts and exit codes (`Verdict.exit_code`, used by ``provenance verify``):

- ``VERIFIED`` (0): no error and no warning.
- ``WARNING``  (1): nothing contradicts the history, but something deserves a look.
- ``FAILED``   (2): the history is broken, incomplete, contradicted or recalled.

What leads to FAILED (severity ``error``): unknown batch (no creation event); a handoff not
initiated by the then-custodian, an accept/reject/cancel without a matching pending handoff, an
action on a consumed batch; an actor that was not registered, was suspended, or lacked the role
at the time of its action (creator of a root batch = PRODUCER, transform = PROCESSOR or PRODUCER,
attestation = CERTIFIER); a split or merge whose quantities do not add up; a recall (not lifted)
of the batch or of any ancestor — the contracts freeze every descendant of a recalled batch; an
attestation revoked at or before its time of use; a tender or settlement of an agreement without
the matching handoff in the registry's log (same transaction, to the tender point / the buyer); a
``--doc`` file whose keccak256 is not anchored anywhere in the history.

What leads to WARNING (severity ``warning``): a recall (not lifted) of a sibling or descendant; an
attestation that had expired (or was not yet valid) at its time of use, or that was revoked after
it; a participant of the history suspended since (after its actions); a delivery of the batch or an
ancestor whose agreement is in dispute (rejected by the buyer, or escalated by the supplier) and not
resolved yet.

Everything else is ``info``: a pending handoff or tender, a lifted recall, a settled delivery (days
late at the tender, what each side was credited), a resolved dispute, a title transfer by award.

"Time of use" of a batch is the time it last changed hands (creation, accepted handoff or
consumption); for the verified batch, the time its delivery was settled if an agreement paid for it.
Deliveries are reported for every batch of the lineage (`Report.agreements`): an ancestor's
delivery settled by an agreement is part of the product's story.
Validity "now" is reported too (`AttestationView.valid_now`); expiry since the use is only info.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from provenance.cbv import BIZ_STEPS, DISPOSITIONS
from provenance.encoding import bytes32_to_text, to_hex32
from provenance.gs1 import Gtin, lot_from_bytes32
from provenance.logs import Event
from provenance.money import format_eth
from provenance.records import AgreementTerms, DisputeKind, Role
from provenance.registry import EDGE_EVENTS, PARTICIPANT_EVENTS
from provenance.units import uom_from_bytes
from provenance.verify.report import (
    ERROR,
    INFO,
    WARNING,
    Actor,
    AgreementView,
    AttestationView,
    DocumentCheck,
    LineageNode,
    Reason,
    RecallView,
    Report,
    Stats,
    TimelineEntry,
    TitleView,
    UnconfirmedView,
    by_severity,
    verdict_of,
)

KIND_NAMES = {1: "split", 2: "merge", 3: "transform"}
_VERBS = {"HandoffAccepted": "acceptance", "HandoffRejected": "rejection",
          "HandoffCancelled": "cancellation"}  # fmt: skip
#: Registry events whose topic 1 is the batch id (the batch's own history).
BATCH_EVENTS = frozenset(
    {
        "BatchCreated",
        "HandoffInitiated",
        "HandoffAccepted",
        "HandoffRejected",
        "HandoffCancelled",
        "BatchConsumed",
        "BatchRecalled",
        "RecallLifted",
        "DeliveryReleased",
        "TitleTransferred",
    }
)
ATTESTATION_EVENTS = ("AttestationIssued", "AttestationRevoked")
RECALL_EVENTS = ("BatchRecalled", "RecallLifted")
#: Agreement events whose topic 2 is a batch id.
DELIVERY_EVENTS = ("DeliveryTendered", "TenderWithdrawn", "DeliverySettled")
#: Everything an agreement records (topic 1 = its id).
AGREEMENT_EVENTS = (
    "AgreementProposed",
    "AgreementAccepted",
    "AgreementCancelled",
    "AgreementFunded",
    "DeliveryTendered",
    "TenderWithdrawn",
    "DeliverySettled",
    "AgreementRefunded",
    "DisputeRaised",
    "DisputeResolved",
)


@dataclass(frozen=True)
class History:
    """The pure input of `analyze`: decoded events and the time to judge validity 'now' at."""

    batch_id: str
    events: tuple[Event, ...]  # registry events (any order; sorted by analyze)
    now: int
    agreement_events: tuple[Event, ...] = ()
    #: Keys (block, log index) of the events within the confirmation depth of the chain head.
    unconfirmed: frozenset[tuple[int, int]] = frozenset()
    confirmations: int = 0


@dataclass
class _ParticipantState:
    registered: bool = False
    active: bool = False
    roles: int = 0
    metadata_hash: str | None = None
    suspended_at: int | None = None


@functools.lru_cache(maxsize=64)
def _role_names(mask: int) -> tuple[str, ...]:
    """The names of a roles mask (a handful of masks, asked for every event's actor)."""
    return tuple(Role(mask).names()) if mask else ()


class _Participants:
    """Registration history of every participant, queried 'as of' an event position.

    A participant is its registry id: a key migration (`ParticipantMigrated`) moves the id, with
    its roles, status and batches, to a new address, so both addresses are the same participant.
    """

    def __init__(self, events: Sequence[Event], names: Mapping[str, str]) -> None:
        self._ids: dict[str, int] = {}
        self._events: dict[int, list[Event]] = {}
        for event in events:
            if event.name == "ParticipantRegistered":
                self._ids[str(event.args["account"]).lower()] = int(event.args["id"])
            elif event.name == "ParticipantMigrated":
                self._ids[str(event.args["to"]).lower()] = int(event.args["id"])
        for event in events:
            if event.name in PARTICIPANT_EVENTS:
                address = event.args.get("account") or event.args.get("from")
                pid = self._ids.get(str(address).lower())
                if pid is not None:
                    self._events.setdefault(pid, []).append(event)
        self._names = {k.lower(): v for k, v in names.items()}

    def id_of(self, address: str) -> int | None:
        return self._ids.get(address.lower())

    def same(self, a: str | None, b: str | None) -> bool:
        """Whether two addresses are the same participant (equal, or one migrated to the other)."""
        if a is None or b is None:
            return False
        if a.lower() == b.lower():
            return True
        pid = self.id_of(a)
        return pid is not None and pid == self.id_of(b)

    def state(self, address: str, before: tuple[int, int] | None = None) -> _ParticipantState:
        state = _ParticipantState()
        pid = self.id_of(address)
        for event in self._events.get(pid, []) if pid is not None else []:
            if before is not None and event.key >= before:
                break
            if event.name in ("ParticipantRegistered", "ParticipantUpdated"):
                state.registered = True
                if event.name == "ParticipantRegistered":
                    state.active = True
                state.roles = int(event.args["roles"])
                state.metadata_hash = str(event.args["metadataHash"])
            elif event.name == "ParticipantSuspended":
                state.active = False
                state.suspended_at = int(event.args["at"])
            elif event.name == "ParticipantReinstated":
                state.active = True
                state.suspended_at = None
        return state

    def migrations(self, address: str) -> list[Event]:
        pid = self.id_of(address)
        found = self._events.get(pid, []) if pid is not None else []
        return [e for e in found if e.name == "ParticipantMigrated"]

    def actor(self, address: str, before: tuple[int, int] | None = None) -> Actor:
        state = self.state(address, before)
        return Actor(
            address=address,
            name=self._names.get(address.lower()),
            roles=_role_names(state.roles),
            metadata_hash=state.metadata_hash,
            registered=state.registered,
            active=state.active,
        )

    def label(self, address: str) -> str:
        name = self._names.get(address.lower())
        return f"{name} ({address})" if name else address


@dataclass
class _Replay:
    """One batch while its events are replayed: what the last events made of it."""

    batch: str
    relation: str  # "this" | "ancestor"
    edges: list[tuple[str, Event]]  # (parent, edge event)
    created: Event | None
    custodian: str | None = None
    owner: str | None = None
    pending: Event | None = None  # the handoff initiated and not yet closed
    consumed: Event | None = None
    last_move: int | None = None


class _Analysis:
    """One run of the checks over a `History` (see the module docstring)."""

    def __init__(
        self,
        history: History,
        docs: Sequence[tuple[str, str]],
        names: Mapping[str, str],
    ) -> None:
        self.h = history
        self.target = to_hex32(history.batch_id)
        self.docs = docs
        self.events = sorted(history.events, key=lambda e: e.key)
        self.deals = sorted(history.agreement_events, key=lambda e: e.key)
        self.people = _Participants(self.events, names)
        self.reasons: list[Reason] = []
        self.timeline: list[TimelineEntry] = []
        self.titles: list[TitleView] = []
        self.anchored: dict[str, list[str]] = {}
        self.by_batch: dict[str, list[Event]] = {}
        self._releases: dict[str, dict[str, int]] = {}  # batch → tx hash → agreement released
        self.parents: dict[str, list[tuple[str, Event]]] = {}
        self.children: dict[str, list[tuple[str, Event]]] = {}
        self.attest: dict[str, list[Event]] = {}
        self.custodian_at_consumption: dict[str, str] = {}
        self.owner_at_consumption: dict[str, str] = {}
        self.use_time: dict[str, int] = {}
        self.final: dict[str, tuple[str | None, str | None]] = {}  # batch → (custodian, owner)
        self.terms: dict[int, AgreementTerms] = {}
        for event in self.events:
            if event.name in BATCH_EVENTS:
                self.by_batch.setdefault(to_hex32(event.args["batchId"]), []).append(event)
            elif event.name in EDGE_EVENTS:
                child, parent = to_hex32(event.args["childId"]), to_hex32(event.args["parentId"])
                self.parents.setdefault(child, []).append((parent, event))
                self.children.setdefault(parent, []).append((child, event))
            elif event.name in ATTESTATION_EVENTS:
                self.attest.setdefault(to_hex32(event.args["subject"]), []).append(event)
        for event in self.deals:
            if event.name == "AgreementProposed":
                self.terms[int(event.args["id"])] = AgreementTerms.from_tuple(event.args["terms"])
        # tx hash → the delivery events of that transaction (tender, settlement)
        self.tender_tx = {
            (e.tx_hash, to_hex32(e.args["batchId"])): e
            for e in self.deals
            if e.name == "DeliveryTendered"
        }

    # ---------------------------------------------------------------- helpers

    def add(self, severity: str, message: str) -> None:
        self.reasons.append(Reason(severity, message))

    def anchor(self, document: Any, where: str) -> None:
        if document and int(str(document), 16) != 0:
            self.anchored.setdefault(str(document).lower(), []).append(where)

    def short(self, batch: str) -> str:
        return batch[:10] + "…" if len(batch) > 12 else batch

    def check_actor(
        self, address: str, event: Event, what: str, roles: int = 0, role_text: str = ""
    ) -> Actor:
        state = self.people.state(address, event.key)
        who = self.people.label(address)
        where = f"{what} of batch {self.short(self._batch_of(event))} (block {event.block_number})"
        if not state.registered:
            self.add(ERROR, f"{who} was not a registered participant at the {where}")
        elif not state.active:
            self.add(ERROR, f"{who} was suspended at the {where}")
        elif roles and not state.roles & roles:
            self.add(ERROR, f"{who} did not hold the {role_text} role at the {where}")
        return self.people.actor(address, event.key)

    def _batch_of(self, event: Event) -> str:
        for key in ("batchId", "childId", "subject"):
            if key in event.args:
                return to_hex32(event.args[key])
        return "?"

    # ---------------------------------------------------------------- lineage

    def lineage_ids(self) -> list[str]:
        order, seen, queue = [], {self.target}, [self.target]
        while queue:
            batch = queue.pop(0)
            order.append(batch)
            for parent, _ in self.parents.get(batch, []):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return order

    def descendants(self) -> set[str]:
        found: set[str] = set()
        queue = [self.target]
        while queue:
            for child, _ in self.children.get(queue.pop(), []):
                if child not in found:
                    found.add(child)
                    queue.append(child)
        return found

    def quantity_of(self, batch: str) -> int | None:
        for event in self.by_batch.get(batch, []):
            if event.name == "BatchCreated":
                return int(event.args["quantity"])
        for _parent, edge in self.parents.get(batch, []):
            if edge.name == "BatchSplit":
                return int(edge.args["quantity"])
        return None

    def lot_of(self, batch: str) -> str | None:
        """The batch's lot, from its creation or split event (None if the history lacks both)."""
        for event in self.by_batch.get(batch, []):
            if event.name == "BatchCreated":
                return lot_from_bytes32(event.args["lot"])
        for _parent, edge in self.parents.get(batch, []):
            if edge.name == "BatchSplit":
                return lot_from_bytes32(edge.args["lot"])
        return None

    def recalled_now(self, batch: str) -> bool:
        recalled = False
        for event in self.by_batch.get(batch, []):
            if event.name == "BatchRecalled":
                recalled = True
            elif event.name == "RecallLifted":
                recalled = False
        return recalled

    def node(self, batch: str, path: frozenset[str] = frozenset()) -> LineageNode:
        created = next((e for e in self.by_batch.get(batch, []) if e.name == "BatchCreated"), None)
        edges = self.parents.get(batch, [])
        origin = "unknown"
        gtin = lot = uom = creator = None
        if edges:
            first = edges[0][1]
            origin = (
                "split" if first.name == "BatchSplit" else KIND_NAMES.get(first.args["kind"], "?")
            )
        elif created is not None:
            origin = "created"
        if created is not None:
            gtin = Gtin.from_chain(int(created.args["gtin"]))
            lot = lot_from_bytes32(created.args["lot"])
            uom = uom_from_bytes(created.args["uom"])
            creator = str(created.args["creator"])
        elif edges and edges[0][1].name == "BatchSplit":
            lot = lot_from_bytes32(edges[0][1].args["lot"])
            parent_node = self._created(edges[0][0])
            if parent_node is not None:
                gtin = Gtin.from_chain(int(parent_node.args["gtin"]))
                uom = uom_from_bytes(parent_node.args["uom"])
        parents = tuple(
            self.node(parent, path | {batch}) for parent, _ in edges if parent not in path
        )
        return LineageNode(
            batch,
            gtin,
            lot,
            self.quantity_of(batch),
            uom,
            origin,
            creator,
            self.recalled_now(batch),
            parents,
        )

    def _created(self, batch: str) -> Event | None:
        """The BatchCreated of `batch` or of the split ancestor it inherits GTIN and uom from."""
        for _ in range(64):
            created = next(
                (e for e in self.by_batch.get(batch, []) if e.name == "BatchCreated"), None
            )
            if created is not None:
                return created
            edges = self.parents.get(batch, [])
            if not edges:
                return None
            batch = edges[0][0]
        return None

    # ---------------------------------------------------------------- custody and title replay

    def _title(
        self,
        batch: str,
        from_: str | None,
        to: str,
        event: Event,
        via: str,
        agreement_id: int | None = None,
    ) -> None:
        self.titles.append(
            TitleView(batch, from_, to, int(event.args.get("at", 0)), via, agreement_id)
        )

    def _delivery_of(self, event: Event, batch: str) -> Event | None:
        """The agreement's `DeliveryTendered` of the same transaction: the handoff is a tender."""
        return self.tender_tx.get((event.tx_hash, batch))

    def replay_batch(self, batch: str, relation: str) -> None:
        """Replay one batch's events in chain order, one handler per event kind (`_REPLAY`),
        checking each actor and tracking custodian, owner, pending handoff and consumption."""
        events = self.by_batch.get(batch, [])
        edges = self.parents.get(batch, [])
        created = next((e for e in events if e.name == "BatchCreated"), None)
        state = _Replay(batch, relation, edges, created)
        if edges and edges[0][1].name == "BatchSplit":
            self._start_from_split(state)
        elif created is None:
            self.add(
                ERROR,
                f"no creation event for {relation} batch {batch}: unknown batch "
                "(wrong id, or a different deployment?)",
            )
            return
        for event in events:
            if state.consumed is not None and event.name not in RECALL_EVENTS:
                self.add(ERROR, f"{event.name} on batch {self.short(batch)} after it was consumed")
            handler = self._REPLAY.get(event.name)
            if handler is not None:
                handler(self, state, event)
        if state.pending is not None and batch == self.target:
            tender = self._delivery_of(state.pending, batch)
            what = f"the tender under agreement {tender.args['id']}" if tender else "a handoff"
            to = self.people.label(str(state.pending.args["to"]))
            self.add(INFO, f"{what} to {to} is pending (in transit)")
        self.use_time[batch] = state.last_move if state.last_move is not None else self.h.now
        self.final[batch] = (None if state.consumed else state.custodian, state.owner)

    def _start_from_split(self, state: _Replay) -> None:
        """A split child starts where its parent was consumed: same custodian and owner."""
        parent, edge = state.edges[0]
        state.custodian = self.custodian_at_consumption.get(parent)
        state.owner = self.owner_at_consumption.get(parent)
        parent_consumed = self._consumed(parent)
        at = int(parent_consumed.args["at"]) if parent_consumed else 0
        self.timeline.append(
            TimelineEntry(
                batch_id=state.batch,
                event="BatchSplit",
                at=at,
                block=edge.block_number,
                tx_hash=edge.tx_hash,
                log_index=edge.log_index,
                actor=self.people.actor(state.custodian, edge.key) if state.custodian else None,
                details={"parent": parent, "quantity": int(edge.args["quantity"])},
            )
        )
        state.last_move = at if parent_consumed else None

    def _replay_created(self, state: _Replay, event: Event) -> None:
        args, batch = event.args, state.batch
        if event is not state.created:
            self.add(ERROR, f"batch {self.short(batch)} was created twice")
            return
        state.custodian = custodian = str(args["creator"])
        kinds = {int(e.args["kind"]) for _, e in state.edges if e.name == "BatchDerived"}
        if not state.edges:
            state.owner = custodian
            actor = self.check_actor(custodian, event, "creation", int(Role.PRODUCER), "producer")
        else:  # merge or transform output: owned by the (first) input's owner
            state.owner = self.owner_at_consumption.get(state.edges[0][0], custodian)
            if 3 in kinds:
                actor = self.check_actor(
                    custodian,
                    event,
                    "transformation",
                    int(Role.PROCESSOR | Role.PRODUCER),
                    "processor or producer",
                )
            else:
                actor = self.check_actor(custodian, event, "merge")
        self.anchor(args["document"], f"creation of batch {self.short(batch)}")
        state.last_move = int(args.get("at", 0))
        self._entry(event, actor, documents=(args["document"],))

    def _replay_initiated(self, state: _Replay, event: Event) -> None:
        args, batch = event.args, state.batch
        sender, recipient = str(args["from"]), str(args["to"])
        if state.custodian is None or not self.people.same(sender, state.custodian):
            self.add(
                ERROR,
                f"handoff of batch {self.short(batch)} in block {event.block_number} "
                f"initiated by {self.people.label(sender)}, who was not its custodian",
            )
        if state.pending is not None:
            self.add(
                ERROR,
                f"second handoff of batch {self.short(batch)} initiated while one was pending",
            )
        tender = self._delivery_of(event, batch)
        details: dict[str, Any] = {"title": bool(args["transferOwnership"])}
        if tender is not None:  # the supplier acted, through the agreements contract
            agreement_id = int(tender.args["id"])
            terms = self.terms.get(agreement_id)
            who = terms.supplier if terms is not None else sender
            actor = self.check_actor(who, event, "tender")
            details |= {
                "agreement": agreement_id,
                "tender": True,
                "daysLate": int(tender.args["daysLate"]),
            }
        else:
            actor = self.check_actor(sender, event, "handoff")
        state.pending = event
        self.anchor(args["document"], f"handoff of batch {self.short(batch)}")
        self._entry(
            event,
            actor,
            counterparty=self.people.actor(recipient, event.key),
            location=int(args["location"]),
            biz_step=BIZ_STEPS.get(int(args["bizStep"])),
            disposition=DISPOSITIONS.get(int(args["disposition"])),
            documents=(args["document"],),
            details=details,
        )

    def _replay_closed(self, state: _Replay, event: Event) -> None:
        """HandoffAccepted, HandoffRejected or HandoffCancelled: the pending handoff ends."""
        name, args, batch = event.name, event.args, state.batch
        sender, recipient = str(args["from"]), str(args["to"])
        pending = state.pending
        matches = (
            pending is not None
            and self.people.same(str(pending.args["from"]), sender)
            and self.people.same(str(pending.args["to"]), recipient)
        )
        verb = name.removeprefix("Handoff").lower()
        if not matches:
            self.add(
                ERROR,
                f"handoff of batch {self.short(batch)} {verb} in block {event.block_number} "
                "without a matching initiated handoff",
            )
        released = self._released_in(event, batch)
        who = sender if name == "HandoffCancelled" else recipient
        if released is not None:  # withdrawn by the agreements contract, not a party
            actor = self.people.actor(who, event.key)
        else:
            actor = self.check_actor(who, event, f"handoff {_VERBS[name]}")
        extra: dict[str, Any] = {}
        if released is not None:
            extra["released"] = released
        if name == "HandoffAccepted":
            settled = self._settled_in(event, batch)
            if pending is not None and bool(pending.args["transferOwnership"]):
                via = "delivery" if settled else "sale"
                self._title(batch, state.owner, recipient, event, via, settled)
                state.owner = recipient
                extra["title"] = True
            state.custodian = recipient
            state.last_move = int(args.get("at", 0))
            if settled is not None:
                extra["agreement"] = settled
        if name != "HandoffCancelled" or released is None:
            self.anchor(args.get("document"), f"{_VERBS[name]} of batch {self.short(batch)}")
        state.pending = None
        self._entry(
            event,
            actor,
            counterparty=self.people.actor(recipient if who == sender else sender, event.key),
            documents=(args.get("document"),),
            details=extra,
        )

    def _replay_title(self, state: _Replay, event: Event) -> None:
        """TitleTransferred: an arbiter's award or an escalation default passes title."""
        agreement_id = int(event.args["agreementId"])
        to = str(event.args["to"])
        self._title(state.batch, state.owner, to, event, "award", agreement_id)
        state.owner = to
        self._entry(
            event,
            self.people.actor(to, event.key),
            counterparty=self.people.actor(str(event.args["from"]), event.key),
            details={"agreement": agreement_id},
        )

    def _replay_released(self, state: _Replay, event: Event) -> None:
        self._entry(event, None, details={"agreement": int(event.args["agreementId"])})

    def _replay_consumed(self, state: _Replay, event: Event) -> None:
        args, batch = event.args, state.batch
        by = str(args["by"])
        if state.custodian is None or not self.people.same(by, state.custodian):
            self.add(
                ERROR,
                f"batch {self.short(batch)} consumed by {self.people.label(by)}, "
                "who was not its custodian",
            )
        kind = int(args["kind"])
        roles = int(Role.PROCESSOR | Role.PRODUCER) if kind == 3 else 0
        what = KIND_NAMES.get(kind, "consumption")
        actor = self.check_actor(by, event, what, roles, "processor or producer")
        state.consumed = event
        self.custodian_at_consumption[batch] = by
        if state.owner is not None:
            self.owner_at_consumption[batch] = state.owner
        state.last_move = int(args.get("at", 0))
        self.anchor(args["document"], f"{what} of batch {self.short(batch)}")
        self._entry(
            event,
            actor,
            documents=(args["document"],),
            details={"kind": KIND_NAMES.get(kind, str(kind)), "loss": int(args["loss"])},
        )

    def _replay_recall(self, state: _Replay, event: Event) -> None:
        """BatchRecalled or RecallLifted (judged over the lineage in `check_recalls`)."""
        args = event.args
        what = "recall" if event.name == "BatchRecalled" else "lifted recall"
        self.anchor(args.get("document"), f"{what} of batch {self.short(state.batch)}")
        self._entry(
            event,
            self.people.actor(str(args["by"]), event.key),
            documents=(args.get("document"),),
            details={"reason": bytes32_to_text(str(args["reason"]))},
        )

    _REPLAY: ClassVar[dict[str, Callable[[_Analysis, _Replay, Event], None]]] = {
        "BatchCreated": _replay_created,
        "HandoffInitiated": _replay_initiated,
        "HandoffAccepted": _replay_closed,
        "HandoffRejected": _replay_closed,
        "HandoffCancelled": _replay_closed,
        "TitleTransferred": _replay_title,
        "DeliveryReleased": _replay_released,
        "BatchConsumed": _replay_consumed,
        "BatchRecalled": _replay_recall,
        "RecallLifted": _replay_recall,
    }

    def _released_in(self, event: Event, batch: str) -> int | None:
        """The agreement whose delivery was released in `event`'s transaction, if any (one
        lookup: a batch handed on 5,000 times must not scan its history 5,000 times)."""
        releases = self._releases.get(batch)
        if releases is None:
            releases = {}
            for other in self.by_batch.get(batch, []):
                if other.name == "DeliveryReleased":
                    releases.setdefault(other.tx_hash, int(other.args["agreementId"]))
            self._releases[batch] = releases
        return releases.get(event.tx_hash)

    def _settled_in(self, event: Event, batch: str) -> int | None:
        """The agreement settled by `event`'s transaction (the buyer's acceptance), if any."""
        for deal in self.deals:
            if (
                deal.name == "DeliverySettled"
                and deal.tx_hash == event.tx_hash
                and to_hex32(deal.args["batchId"]) == batch
            ):
                return int(deal.args["id"])
        return None

    def _consumed(self, batch: str) -> Event | None:
        return next((e for e in self.by_batch.get(batch, []) if e.name == "BatchConsumed"), None)

    def _entry(self, event: Event, actor: Actor | None, **extra: Any) -> None:
        documents = tuple(str(d) for d in extra.pop("documents", ()) if d and int(str(d), 16) != 0)
        self.timeline.append(
            TimelineEntry(
                batch_id=self._batch_of(event),
                event=event.name,
                at=int(event.args.get("at", 0)),
                block=event.block_number,
                tx_hash=event.tx_hash,
                actor=actor,
                log_index=event.log_index,
                documents=documents,
                **extra,
            )
        )

    # ---------------------------------------------------------------- other checks

    def check_quantities(self, lineage: Sequence[str]) -> None:
        for batch in lineage:
            consumed = self._consumed(batch)
            if consumed is None or int(consumed.args["kind"]) != 1:
                continue
            total = self.quantity_of(batch)
            parts = [
                int(e.args["quantity"]) for _, e in self.children.get(batch, [])
                if e.name == "BatchSplit"
            ]  # fmt: skip
            loss = int(consumed.args["loss"])
            if total is not None and sum(parts) + loss != total:
                self.add(
                    ERROR,
                    f"split of batch {self.short(batch)} does not add up: parts {sum(parts)} "
                    f"+ loss {loss} != {total}",
                )
        for batch in lineage:
            edges = [e for _, e in self.parents.get(batch, []) if e.name == "BatchDerived"]
            kinds = {int(e.args["kind"]) for e in edges}
            if not edges:
                continue
            if 3 in kinds:
                self.add(INFO, f"batch {self.short(batch)} is the output of a transformation")
                continue
            parents = [to_hex32(e.args["parentId"]) for e in edges]
            quantities = [self.quantity_of(p) for p in parents]
            mine = self.quantity_of(batch)
            losses = [
                int(c.args["loss"])
                for c in (self._consumed(p) for p in parents)
                if c is not None and int(c.args["kind"]) == 2
            ]
            if mine is None or any(q is None for q in quantities):
                continue
            total = sum(q for q in quantities if q is not None)
            if mine + sum(losses) != total:
                self.add(
                    ERROR,
                    f"merge into batch {self.short(batch)} does not add up: "
                    f"{mine} + loss {sum(losses)} != inputs {total}",
                )

    def check_attestations(self, lineage: Sequence[str]) -> list[AttestationView]:
        views = []
        settled = [e for e in self.deals if e.name == "DeliverySettled"]
        for batch in lineage:
            issued = [e for e in self.attest.get(batch, []) if e.name == "AttestationIssued"]
            revoked = {
                str(e.args["attestationId"]).lower(): e
                for e in self.attest.get(batch, [])
                if e.name == "AttestationRevoked"
            }
            use = self.use_time.get(batch, self.h.now)
            paid = [e for e in settled if to_hex32(e.args["batchId"]) == batch]
            if batch == self.target:
                use = int(paid[-1].args["at"]) if paid else use
            for event in issued:
                args = event.args
                issuer = str(args["issuer"])
                actor = self.check_actor(
                    issuer, event, "attestation", int(Role.CERTIFIER), "certifier"
                )
                att_id = str(args["attestationId"]).lower()
                revocation = revoked.get(att_id)
                revoked_at = int(revocation.args["at"]) if revocation else None
                valid_from, valid_until = int(args["validFrom"]), int(args["validUntil"])

                def valid(t: int, vf: int = valid_from, vu: int = valid_until,
                          ra: int | None = revoked_at) -> bool:  # fmt: skip
                    return vf <= t <= vu and (ra is None or ra > t)

                at_use, now = valid(use), valid(self.h.now)
                claim = str(args["claim"])
                label = f"attestation {bytes32_to_text(claim)} on batch {self.short(batch)} by " + (
                    self.people.label(issuer)
                )
                if revoked_at is not None and revoked_at <= use:
                    self.add(ERROR, f"{label} was revoked before the batch was used")
                elif not at_use:
                    self.add(WARNING, f"{label} was not valid when the batch was used (at {use})")
                elif revoked_at is not None:
                    self.add(WARNING, f"{label} was revoked after the batch was used")
                elif not now:
                    self.add(INFO, f"{label} has expired since the batch was used")
                self.anchor(args["evidence"], f"evidence of {label}")
                views.append(
                    AttestationView(
                        subject=batch,
                        claim=claim,
                        issuer=actor,
                        attestation_id=att_id,
                        evidence=str(args["evidence"]),
                        valid_from=valid_from,
                        valid_until=valid_until,
                        issued_at=int(args["at"]),
                        revoked_at=revoked_at,
                        used_at=use,
                        valid_at_use=at_use,
                        valid_now=now,
                    )
                )
        return views

    def check_recalls(self, lineage: Sequence[str]) -> list[RecallView]:
        """Every recall of a related batch; the contracts freeze a recalled batch's descendants,
        so an active recall of the batch or an ancestor fails it, of a sibling or descendant
        warns; a recall the operator lifted is reported as information."""
        lineage_set, descendants = set(lineage), self.descendants()
        views = []
        for batch, events in self.by_batch.items():
            if batch == self.target:
                relation = "batch"
            elif batch in lineage_set:
                relation = "ancestor"
            elif batch in descendants:
                relation = "descendant"
            else:
                relation = "sibling"
            recall: Event | None = None
            for event in events:
                if event.name == "BatchRecalled":
                    if recall is not None:  # pragma: no cover - the contract refuses a re-recall
                        views.append(self._recall_view(batch, relation, recall, None))
                    recall = event
                elif event.name == "RecallLifted" and recall is not None:
                    views.append(self._recall_view(batch, relation, recall, event))
                    recall = None
            if recall is not None:
                views.append(self._recall_view(batch, relation, recall, None))
        views.sort(key=lambda v: (v.at, v.batch_id))
        return views

    def _recall_view(
        self, batch: str, relation: str, recall: Event, lifted: Event | None
    ) -> RecallView:
        by, reason = str(recall.args["by"]), str(recall.args["reason"])
        what = "this batch" if relation == "batch" else f"{relation} batch"
        lot = self.lot_of(batch)
        name = f"{lot} ({self.short(batch)})" if lot else self.short(batch)
        text = f"{what} {name} was recalled by {self.people.label(by)}"
        why = bytes32_to_text(reason)
        text += f" ({why})" if not why.startswith("0x") else ""
        if lifted is not None:
            self.add(
                INFO,
                f"{text}; the operator {self.people.label(str(lifted.args['by']))} lifted the "
                "recall",
            )
        elif relation in ("batch", "ancestor"):
            self.add(ERROR, text)
        else:
            self.add(WARNING, text)
        document = recall.args.get("document")
        return RecallView(
            batch_id=batch,
            relation=relation,
            by=by,
            reason=reason,
            at=int(recall.args["at"]),
            document=str(document) if document and int(str(document), 16) else None,
            lifted_at=int(lifted.args["at"]) if lifted is not None else None,
            lifted_by=str(lifted.args["by"]) if lifted is not None else None,
            lot=lot,
        )

    def check_suspended_now(self) -> None:
        involved = sorted({e.actor.address for e in self.timeline if e.actor is not None})
        for address in involved:
            state = self.people.state(address)
            if state.registered and not state.active:
                self.add(
                    WARNING,
                    f"{self.people.label(address)} has been suspended since "
                    f"{state.suspended_at} (after its part in this history)",
                )

    # ---------------------------------------------------------------- deliveries

    def agreements(self, lineage: Sequence[str]) -> list[AgreementView]:
        """One view per (agreement, batch of the lineage) delivery, in the order of its first
        tender, replaying each agreement's events in chain order (one handler per event kind,
        `_DEALS`)."""
        members = set(lineage)
        views: dict[tuple[int, str], dict[str, Any]] = {}
        current: dict[int, str] = {}  # agreement → batch of its current or last tender
        for event in self.deals:
            agreement_id = int(event.args["id"])
            if event.name in DELIVERY_EVENTS:
                batch = to_hex32(event.args["batchId"])
                current[agreement_id] = batch
            else:
                batch = current.get(agreement_id, "")
            view = views.get((agreement_id, batch))
            if event.name == "DeliveryTendered":
                if batch not in members:
                    continue
                if view is None:
                    view = views[(agreement_id, batch)] = self._new_delivery(agreement_id, batch)
                    view["first"] = event.key
                else:
                    view["tenders"] += 1
                self._deal_tendered(view, event)
                self._check_tender(agreement_id, batch, event)
                continue
            handler = self._DEALS.get(event.name)
            if view is not None and handler is not None:
                handler(self, view, event)
        ordered = sorted(views.values(), key=lambda v: v["first"])
        return [self._delivery_view(v) for v in ordered]

    def _deal_tendered(self, view: dict[str, Any], event: Event) -> None:
        view |= {
            "status": "tendered",
            "tendered_at": int(event.args["at"]),
            "days_late": int(event.args["daysLate"]),
            "event": event,
        }

    def _deal_withdrawn(self, view: dict[str, Any], event: Event) -> None:
        view["status"] = "withdrawn"

    def _deal_settled(self, view: dict[str, Any], event: Event) -> None:
        view |= {
            "status": "settled",
            "settled_at": int(event.args["at"]),
            "supplier_amount": int(event.args["supplierAmount"]),
            "buyer_amount": int(event.args["buyerAmount"]),
            "days_late": int(event.args["daysLate"]),
        }
        self._check_settlement(view["agreement_id"], view["batch_id"], event)

    def _deal_disputed(self, view: dict[str, Any], event: Event) -> None:
        kind = DisputeKind(int(event.args["kind"]))
        status = "rejected" if kind == DisputeKind.REJECTED else "escalated"
        view |= {
            "status": status,
            "dispute": status,
            "disputed_at": int(event.args["at"]),
            "dispute_reason": bytes32_to_text(str(event.args["reason"])),
        }
        if kind == DisputeKind.REJECTED:
            view["rejections"] += 1

    def _deal_resolved(self, view: dict[str, Any], event: Event) -> None:
        view |= {
            "status": "resolved",
            "resolved_at": int(event.args["at"]),
            "supplier_amount": int(event.args["supplierAmount"]),
            "buyer_amount": int(event.args["buyerAmount"]),
            "delivered": bool(event.args["delivered"]),
            "resolved_by_default": bool(event.args["byDefault"]),
        }

    def _deal_refunded(self, view: dict[str, Any], event: Event) -> None:
        if view["status"] == "withdrawn":
            view["status"] = "refunded"

    _DEALS: ClassVar[dict[str, Callable[[_Analysis, dict[str, Any], Event], None]]] = {
        "TenderWithdrawn": _deal_withdrawn,
        "DeliverySettled": _deal_settled,
        "DisputeRaised": _deal_disputed,
        "DisputeResolved": _deal_resolved,
        "AgreementRefunded": _deal_refunded,
    }

    def _new_delivery(self, agreement_id: int, batch: str) -> dict[str, Any]:
        terms = self.terms.get(agreement_id)
        view: dict[str, Any] = {
            "agreement_id": agreement_id,
            "batch_id": batch,
            "tenders": 1,
            "rejections": 0,
        }
        if terms is not None:
            view |= {
                "buyer": terms.buyer,
                "supplier": terms.supplier,
                "carrier": terms.carrier if terms.has_carrier else None,
                "arbiter": terms.arbiter,
                "price": terms.price,
                "escrow": terms.escrow(),
                "token": terms.token,
                "document": terms.document,
            }
            self.anchor(terms.document, f"terms of agreement {agreement_id}")
        return view

    def _check_tender(self, agreement_id: int, batch: str, event: Event) -> None:
        """A tender is the registry's HandoffInitiated of the same transaction, to the tender
        point the terms name."""
        handoff = next(
            (
                e
                for e in self.by_batch.get(batch, [])
                if e.name == "HandoffInitiated" and e.tx_hash == event.tx_hash
            ),
            None,
        )
        terms = self.terms.get(agreement_id)
        if handoff is None:
            self.add(
                ERROR,
                f"agreement {agreement_id} records a tender of batch {self.short(batch)} that "
                "the registry's log does not show",
            )
        elif terms is not None and not self.people.same(
            str(handoff.args["to"]), terms.tender_point
        ):
            self.add(
                ERROR,
                f"the tender of batch {self.short(batch)} under agreement {agreement_id} went to "
                f"{self.people.label(str(handoff.args['to']))}, not to the tender point "
                f"{self.people.label(terms.tender_point)}",
            )

    def _check_settlement(self, agreement_id: int, batch: str, event: Event) -> None:
        """A settlement is the buyer's acceptance: HandoffAccepted to the buyer, same tx."""
        accepted = next(
            (
                e
                for e in self.by_batch.get(batch, [])
                if e.name == "HandoffAccepted" and e.tx_hash == event.tx_hash
            ),
            None,
        )
        terms = self.terms.get(agreement_id)
        if accepted is None or (
            terms is not None and not self.people.same(str(accepted.args["to"]), terms.buyer)
        ):
            self.add(
                ERROR,
                f"agreement {agreement_id} settled a delivery of batch {self.short(batch)} that "
                "the registry's log does not show accepted by its buyer",
            )

    def _delivery_view(self, data: dict[str, Any]) -> AgreementView:
        data = {k: v for k, v in data.items() if k not in ("first", "event")}
        view = AgreementView(**data)
        agreement_id, batch = view.agreement_id, view.batch_id
        where = "" if batch == self.target else f" (ancestor batch {self.short(batch)})"
        what = f"delivery under agreement {agreement_id}{where}"
        late = f"{view.days_late} day(s) late at the tender" if view.days_late else "on time"
        quantity = self.quantity_of(batch)
        terms = self.terms.get(agreement_id)
        if view.status == "settled" and view.supplier_amount is not None:
            supplier_amount = view.supplier_amount
            if terms is not None and quantity is not None and terms.quantity:
                payment = terms.price * quantity // terms.quantity
                view = replace(view, penalty=payment - supplier_amount)
            paid = self._amount(supplier_amount, view.token)
            cure = f" after {view.rejections} rejection(s)" if view.rejections else ""
            self.add(
                INFO,
                f"{what} accepted by the buyer and settled{cure}: {late}, supplier credited {paid}",
            )
        elif view.status == "tendered":
            self.add(INFO, f"{what} tendered ({late}), awaiting the buyer's acceptance")
        elif view.status in ("withdrawn", "refunded"):
            self.add(INFO, f"{what} was tendered and withdrawn by the supplier")
        elif view.status == "rejected":
            self.add(
                WARNING,
                f"{what} rejected by the buyer: dispute open (the goods stayed with the supplier)",
            )
        elif view.status == "escalated":
            self.add(
                WARNING,
                f"{what} escalated by the supplier (the buyer did not answer in "
                "the inspection period): dispute open",
            )
        elif view.status == "resolved":
            how = (
                "by default (the arbiter did not rule in time)"
                if view.resolved_by_default
                else "by the arbiter"
            )
            title = ", title passed to the buyer" if view.delivered else ""
            self.add(INFO, f"{what} disputed ({view.dispute}) and resolved {how}: supplier "
                           f"credited {self._amount(view.supplier_amount or 0, view.token)}"
                           f"{title}")  # fmt: skip
        return view

    @staticmethod
    def _amount(value: int, token: str | None) -> str:
        if token is None or int(token, 16) == 0:
            return format_eth(value)
        return f"{value} of token {token}"

    def check_documents(self) -> list[DocumentCheck]:
        checks = []
        for label, digest in self.docs:
            matched = tuple(self.anchored.get(digest.lower(), ()))
            if matched:
                self.add(INFO, f"document {label} matches the {matched[0]}")
            else:
                self.add(
                    ERROR,
                    f"document {label} (keccak256 {digest}) is not anchored anywhere in the "
                    "history of this batch",
                )
            checks.append(DocumentCheck(label, digest, matched))
        return checks

    def run(self) -> Report:
        lineage = self.lineage_ids()
        # Parents first, so a child knows its parent's custodian and owner at the consumption.
        for batch in reversed(lineage):
            self.replay_batch(batch, "this" if batch == self.target else "ancestor")
        self.check_quantities(lineage)
        deliveries = self.agreements(lineage)
        attestations = self.check_attestations(lineage)
        recalls = self.check_recalls(lineage)
        self.check_suspended_now()
        agreement = next((a for a in reversed(deliveries) if a.batch_id == self.target), None)
        documents = self.check_documents()
        verdict = verdict_of(self.reasons)
        reasons = by_severity(self.reasons)
        custodian, owner = self.final.get(self.target, (None, None))
        return Report(
            batch_id=self.target,
            verdict=verdict,
            reasons=reasons,
            timeline=tuple(sorted(self.timeline, key=lambda t: (t.block, t.log_index))),
            lineage=self.node(self.target),
            attestations=tuple(attestations),
            recalls=tuple(recalls),
            agreement=agreement,
            documents=tuple(documents),
            stats=Stats(batches=len(lineage)),
            checked_at=self.h.now,
            agreements=tuple(deliveries),
            titles=tuple(self.titles),
            custodian=custodian,
            owner=owner,
        )


def analyze(
    history: History,
    *,
    docs: Sequence[tuple[str, str]] = (),
    names: Mapping[str, str] | None = None,
) -> Report:
    """Replay `history` and judge it (pure: no RPC). `docs` are (label, keccak256 hex) pairs.

    Unconfirmed events (`History.unconfirmed`) are shown — timeline, recalls, deliveries,
    `Report.unconfirmed` — but never change the verdict on their own: the verdict and its
    reasons are those of the confirmed events alone; a reason that only the unconfirmed events
    give is added as info ("not yet confirmed: …"), and one more info says what the verdict would
    be once they are confirmed, if different."""
    full = _Analysis(history, docs, names or {}).run()
    pending = history.unconfirmed
    if not pending:
        return full
    confirmed = replace(
        history,
        events=tuple(e for e in history.events if e.key not in pending),
        agreement_events=tuple(e for e in history.agreement_events if e.key not in pending),
        unconfirmed=frozenset(),
    )
    settled = _Analysis(confirmed, docs, names or {}).run()
    shown = sorted(
        (e for e in (*history.events, *history.agreement_events) if e.key in pending),
        key=lambda e: e.key,
    )
    views = tuple(UnconfirmedView(e.name, e.block_number, e.log_index, e.tx_hash) for e in shown)
    known = set(settled.reasons)
    extra = [Reason(INFO, f"not yet confirmed: {r.message}") for r in full.reasons
             if r not in known]  # fmt: skip
    note = (
        f"{len(views)} event(s) within {history.confirmations} block(s) of the chain head are "
        "not confirmed yet: shown, but the verdict rests on the confirmed events"
    )
    if full.verdict != settled.verdict:
        note += f" (counted, they would make it {full.verdict.value})"
    report = replace(full, reasons=(), unconfirmed=views)
    return report.with_reasons(*settled.reasons, Reason(INFO, note), *extra)
