"""Event-sourced verification of a batch: its custody, lineage, attestations, recalls and payment.

Everything is rebuilt from event logs, never from contract state, so the verdict only depends on
what the chain recorded. Two halves:

- `collect` (RPC) fetches the logs with a number of `eth_getLogs` calls proportional to the depth
  and width of the lineage, never to the number of events or blocks: one query per lineage level
  (the batch ids of a level are OR-ed in topic 1), one for the children of the lineage, one per
  level of descendants, one for recalls of related batches, one for the participants involved,
  one for the agreements that paid for any batch of the lineage (batch ids OR-ed in topic 2) and
  one for their terms. Each may be split into block-range chunks by `logs.fetch_logs`.
- `analyze` (pure) replays the decoded events and applies the checks below; unit tests feed it
  synthetic event lists.

Verdicts and exit codes (`Verdict.exit_code`, used by ``provenance verify``):

- ``VERIFIED`` (0): no error and no warning.
- ``WARNING``  (1): nothing contradicts the history, but something deserves a look.
- ``FAILED``   (2): the history is broken, incomplete or contradicted.

What leads to FAILED (severity ``error``): unknown batch (no creation event); a handoff not
initiated by the then-custodian, an accept/reject/cancel without a matching pending handoff, an
action on a consumed batch; an actor that was not registered, was suspended, or lacked the role
at the time of its action (creator of a root batch = PRODUCER, transform = PROCESSOR or PRODUCER,
attestation = CERTIFIER); a split or merge whose quantities do not add up; a recall of the batch
or of any ancestor; an attestation revoked at or before its time of use; a ``--doc`` file whose
keccak256 is not anchored anywhere in the history.

What leads to WARNING (severity ``warning``): a recall of a sibling or descendant; an attestation
that had expired (or was not yet valid) at its time of use, or that was revoked after it; a
participant of the history suspended since (after its actions).

Everything else is ``info`` (a pending handoff, an attestation expired since its use, ...).

"Time of use" of a batch is the time it last changed hands (creation, accepted handoff or
consumption); for the verified batch, the time its delivery was settled if an agreement paid for it.
Agreements are reported for every batch of the lineage (`Report.agreements`): an ancestor's
delivery settled by an agreement is part of the product's story.
Validity "now" is reported too (`AttestationView.valid_now`); expiry since the use is only info.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from provenance.chain import Chain
from provenance.compiler import load_artifact
from provenance.logs import (
    CallCounter,
    Event,
    EventDecoder,
    address_topic,
    count_calls,
    fetch_logs,
)
from provenance.types import (
    BIZ_STEPS,
    DISPOSITIONS,
    Role,
    gtin_from_int,
    hash_file,
    lot_from_bytes32,
    to_hex32,
    uom_from_bytes,
)

REGISTRY = "ProvenanceRegistry"
AGREEMENTS = "SupplyAgreements"
#: How many ids one getLogs topic OR-list carries.
TOPIC_CHUNK = 100

ERROR = "error"
WARNING = "warning"
INFO = "info"

KIND_NAMES = {1: "split", 2: "merge", 3: "transform"}
_VERBS = {"HandoffAccepted": "acceptance", "HandoffRejected": "rejection",
          "HandoffCancelled": "cancellation"}  # fmt: skip
BATCH_EVENTS = frozenset(
    {
        "BatchCreated",
        "HandoffInitiated",
        "HandoffAccepted",
        "HandoffRejected",
        "HandoffCancelled",
        "BatchConsumed",
        "BatchRecalled",
        "DeliveryClaimed",
    }
)
EDGE_EVENTS = ("BatchSplit", "BatchDerived")
PARTICIPANT_EVENTS = (
    "ParticipantRegistered",
    "ParticipantUpdated",
    "ParticipantSuspended",
    "ParticipantReinstated",
)
ATTESTATION_EVENTS = ("AttestationIssued", "AttestationRevoked")


class Verdict(StrEnum):
    """Outcome of a verification; `exit_code` is what the CLI exits with."""

    VERIFIED = "VERIFIED"
    WARNING = "WARNING"
    FAILED = "FAILED"

    @property
    def exit_code(self) -> int:
        return {"VERIFIED": 0, "WARNING": 1, "FAILED": 2}[self.value]


@dataclass(frozen=True)
class Reason:
    severity: str  # "error" | "warning" | "info"
    message: str


@dataclass(frozen=True)
class Actor:
    """A participant as it stood at one moment (registration replayed from events)."""

    address: str
    name: str | None
    roles: tuple[str, ...]
    metadata_hash: str | None
    registered: bool
    active: bool


@dataclass(frozen=True)
class TimelineEntry:
    batch_id: str
    event: str  # the event name
    at: int  # the event's `at` (block timestamp)
    block: int
    tx_hash: str
    actor: Actor | None
    log_index: int = 0
    counterparty: Actor | None = None
    location: int = 0  # GLN, 0 = not given
    biz_step: str | None = None
    disposition: str | None = None
    documents: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageNode:
    batch_id: str
    gtin: str | None
    lot: str | None
    quantity: int | None
    uom: str | None
    origin: str  # "created" | "split" | "merge" | "transform" | "unknown"
    creator: str | None
    recalled: bool
    parents: tuple[LineageNode, ...] = ()


@dataclass(frozen=True)
class AttestationView:
    subject: str
    claim: str
    issuer: Actor
    attestation_id: str
    evidence: str
    valid_from: int
    valid_until: int
    issued_at: int
    revoked_at: int | None
    used_at: int
    valid_at_use: bool
    valid_now: bool


@dataclass(frozen=True)
class RecallView:
    batch_id: str
    relation: str  # "batch" | "ancestor" | "sibling" | "descendant"
    by: str
    reason: str
    at: int


@dataclass(frozen=True)
class AgreementView:
    agreement_id: int
    supplier_amount: int
    buyer_amount: int
    days_late: int
    settled_at: int
    buyer: str | None = None
    supplier: str | None = None
    price: int | None = None
    token: str | None = None
    document: str | None = None
    batch_id: str = ""  # the batch whose delivery it paid for (the verified one or an ancestor)


@dataclass(frozen=True)
class DocumentCheck:
    label: str
    hash: str
    matched: tuple[str, ...]  # where it is anchored; empty = not found


@dataclass(frozen=True)
class Stats:
    rpc_calls: int = 0
    get_logs_calls: int = 0
    logs_fetched: int = 0
    batches: int = 0


@dataclass(frozen=True)
class History:
    """The pure input of `analyze`: decoded events and the time to judge validity 'now' at."""

    batch_id: str
    events: tuple[Event, ...]  # registry events (any order; sorted by analyze)
    now: int
    agreement_events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Report:
    batch_id: str
    verdict: Verdict
    reasons: tuple[Reason, ...]
    timeline: tuple[TimelineEntry, ...]
    lineage: LineageNode
    attestations: tuple[AttestationView, ...]
    recalls: tuple[RecallView, ...]
    agreement: AgreementView | None
    documents: tuple[DocumentCheck, ...]
    stats: Stats
    checked_at: int
    #: Every agreement that paid for the delivery of a batch of the lineage (this batch or an
    #: ancestor), in chain order; `agreement` is the one for this batch itself, if any.
    agreements: tuple[AgreementView, ...] = ()

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["exit_code"] = self.exit_code
        return _jsonable(data)  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


# ============================================================================ collecting (RPC)


def _decoder() -> EventDecoder:
    return EventDecoder(load_artifact(REGISTRY).abi, load_artifact(AGREEMENTS).abi)


def _chunks(items: Sequence[str], size: int = TOPIC_CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def collect(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    *,
    decoder: EventDecoder | None = None,
    max_range: int | None = None,
) -> tuple[History, int]:
    """Fetch every log `analyze` needs; returns the history and the number of logs fetched."""
    decoder = decoder or _decoder()
    target = to_hex32(batch_id)
    registry, start = deployment.registry, int(deployment.deploy_block)
    head = chain.w3.eth.block_number
    now = int(chain.w3.eth.get_block(head)["timestamp"])
    raw: list[Any] = []

    def logs(address: str, topics: list[Any]) -> list[Event]:
        found = fetch_logs(chain, address, topics, start, head, max_range=max_range)
        raw.extend(found)
        return decoder.decode_all(found)

    # 1. The lineage, one level at a time: each batch's full history (topic 1 = its id) also
    #    holds its BatchSplit/BatchDerived edges to its parents and its attestations.
    lineage: list[str] = []
    level = [target]
    seen = {target}
    while level:
        lineage.extend(level)
        parents: list[str] = []
        for chunk in _chunks(level):
            for event in logs(registry, [None, chunk]):
                if event.name in EDGE_EVENTS:
                    parent = to_hex32(event.args["parentId"])
                    if parent not in seen:
                        seen.add(parent)
                        parents.append(parent)
        level = parents

    # 2. Children of every lineage batch (siblings, and conservation of splits), then the
    #    descendants of the batch itself, level by level.
    edge_topics = [decoder.topic(name) for name in EDGE_EVENTS]
    related: list[str] = []
    level, first = lineage, True
    while level:
        children: list[str] = []
        own: list[str] = []  # children of the verified batch itself
        for chunk in _chunks(level):
            for event in logs(registry, [edge_topics, None, chunk]):
                child = to_hex32(event.args["childId"])
                if child not in seen:
                    seen.add(child)
                    children.append(child)
                    if to_hex32(event.args["parentId"]) == target:
                        own.append(child)
        related.extend(children)
        level = own if first else children  # after the first round: descendants only
        first = False
    # 3. Recalls of related (sibling / descendant) batches.
    recall_topic = decoder.topic("BatchRecalled")
    for chunk in _chunks(related):
        logs(registry, [recall_topic, chunk])

    # 4. Registration history of every participant involved.
    events_so_far = decoder.decode_all(raw)
    actors = sorted(_actors(events_so_far))
    participant_topics = [decoder.topic(name) for name in PARTICIPANT_EVENTS]
    for chunk in _chunks([address_topic(a) for a in actors]):
        logs(registry, [participant_topics, chunk])
    registry_events = decoder.decode_all(raw)

    # 5. The agreements that paid for any batch of the lineage (topic 2 = batch id, OR-ed),
    #    and their terms.
    agreement_events: list[Event] = []
    agreements = getattr(deployment, "agreements", None)
    if agreements:
        settled_topic = decoder.topic("DeliverySettled")
        settled = [
            event
            for chunk in _chunks(lineage)
            for event in logs(agreements, [settled_topic, None, chunk])
        ]
        agreement_events.extend(settled)
        ids = sorted({to_hex32(int(e.args["id"])) for e in settled})
        for chunk in _chunks(ids):
            agreement_events.extend(logs(agreements, [decoder.topic("AgreementProposed"), chunk]))
    history = History(
        batch_id=target,
        events=tuple(e for e in registry_events if e.address.lower() != str(agreements).lower()),
        now=now,
        agreement_events=tuple(agreement_events),
    )
    return history, len(raw)


def _actors(events: Iterable[Event]) -> set[str]:
    found: set[str] = set()
    for event in events:
        for key in ("creator", "from", "to", "by", "issuer", "recipient"):
            value = event.args.get(key)
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                found.add(value)
    return found


def verify(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    *,
    docs: Sequence[Path] = (),
    names: Mapping[str, str] | None = None,
    max_range: int | None = None,
) -> Report:
    """Verify `batch_id` from the event logs of `deployment` (a `provenance.deploy.Deployment`).

    `docs` are files whose keccak256 must be anchored in the history; `names` maps participant
    addresses to display names (the registry only stores a metadata hash).
    """
    doc_hashes = [(str(path), hash_file(path)) for path in docs]
    with count_calls(chain, CallCounter()) as counter:
        history, fetched = collect(chain, deployment, batch_id, max_range=max_range)
    report = analyze(history, docs=doc_hashes, names=names)
    return replace(
        report,
        stats=Stats(
            rpc_calls=counter.total,
            get_logs_calls=counter.get_logs,
            logs_fetched=fetched,
            batches=report.stats.batches,
        ),
    )


# ============================================================================ analysis (pure)


@dataclass
class _ParticipantState:
    registered: bool = False
    active: bool = False
    roles: int = 0
    metadata_hash: str | None = None
    suspended_at: int | None = None


class _Participants:
    """Registration history of every participant, queried 'as of' an event position."""

    def __init__(self, events: Sequence[Event], names: Mapping[str, str]) -> None:
        self._events: dict[str, list[Event]] = {}
        for event in events:
            if event.name in PARTICIPANT_EVENTS:
                self._events.setdefault(event.args["account"].lower(), []).append(event)
        self._names = {k.lower(): v for k, v in names.items()}

    def state(self, address: str, before: tuple[int, int] | None = None) -> _ParticipantState:
        state = _ParticipantState()
        for event in self._events.get(address.lower(), []):
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

    def actor(self, address: str, before: tuple[int, int] | None = None) -> Actor:
        state = self.state(address, before)
        return Actor(
            address=address,
            name=self._names.get(address.lower()),
            roles=tuple(Role(state.roles).names()) if state.roles else (),
            metadata_hash=state.metadata_hash,
            registered=state.registered,
            active=state.active,
        )

    def label(self, address: str) -> str:
        name = self._names.get(address.lower())
        return f"{name} ({address})" if name else address


class _Analysis:
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
        self.people = _Participants(self.events, names)
        self.reasons: list[Reason] = []
        self.timeline: list[TimelineEntry] = []
        self.anchored: dict[str, list[str]] = {}
        self.by_batch: dict[str, list[Event]] = {}
        self.parents: dict[str, list[tuple[str, Event]]] = {}
        self.children: dict[str, list[tuple[str, Event]]] = {}
        self.attest: dict[str, list[Event]] = {}
        self.custodian_at_consumption: dict[str, str] = {}
        self.use_time: dict[str, int] = {}
        for event in self.events:
            if event.name in BATCH_EVENTS:
                self.by_batch.setdefault(to_hex32(event.args["batchId"]), []).append(event)
            elif event.name in EDGE_EVENTS:
                child, parent = to_hex32(event.args["childId"]), to_hex32(event.args["parentId"])
                self.parents.setdefault(child, []).append((parent, event))
                self.children.setdefault(parent, []).append((child, event))
            elif event.name in ATTESTATION_EVENTS:
                self.attest.setdefault(to_hex32(event.args["subject"]), []).append(event)

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
            gtin = gtin_from_int(int(created.args["gtin"]))
            lot = lot_from_bytes32(created.args["lot"])
            uom = uom_from_bytes(created.args["uom"])
            creator = str(created.args["creator"])
        elif edges and edges[0][1].name == "BatchSplit":
            lot = lot_from_bytes32(edges[0][1].args["lot"])
            parent_node = self._created(edges[0][0])
            if parent_node is not None:
                gtin = gtin_from_int(int(parent_node.args["gtin"]))
                uom = uom_from_bytes(parent_node.args["uom"])
        recalled = any(e.name == "BatchRecalled" for e in self.by_batch.get(batch, []))
        parents = tuple(
            self.node(parent, path | {batch}) for parent, _ in edges if parent not in path
        )
        return LineageNode(
            batch, gtin, lot, self.quantity_of(batch), uom, origin, creator, recalled, parents
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

    # ---------------------------------------------------------------- custody replay

    def replay_batch(self, batch: str, relation: str) -> None:
        events = self.by_batch.get(batch, [])
        edges = self.parents.get(batch, [])
        created = next((e for e in events if e.name == "BatchCreated"), None)
        custodian: str | None = None
        consumed: Event | None = None
        last_move: int | None = None
        if edges and edges[0][1].name == "BatchSplit":
            parent = edges[0][0]
            custodian = self.custodian_at_consumption.get(parent)
            edge = edges[0][1]
            parent_consumed = self._consumed(parent)
            self.timeline.append(
                TimelineEntry(
                    batch_id=batch,
                    event="BatchSplit",
                    at=int(parent_consumed.args["at"]) if parent_consumed else 0,
                    block=edge.block_number,
                    tx_hash=edge.tx_hash,
                    log_index=edge.log_index,
                    actor=self.people.actor(custodian, edge.key) if custodian else None,
                    details={"parent": parent, "quantity": int(edge.args["quantity"])},
                )
            )
            last_move = int(parent_consumed.args["at"]) if parent_consumed else None
        elif created is None:
            self.add(
                ERROR,
                f"no creation event for {relation} batch {batch}: unknown batch "
                "(wrong id, or a different deployment?)",
            )
            return
        pending: Event | None = None
        for event in events:
            name, args = event.name, event.args
            at = int(args.get("at", 0))
            actor_address = str(
                args.get("creator") or args.get("from") or args.get("by") or args.get("recipient")
            )
            if consumed is not None and name not in ("BatchRecalled", "DeliveryClaimed"):
                self.add(ERROR, f"{name} on batch {self.short(batch)} after it was consumed")
            if name == "BatchCreated":
                if event is not created:
                    self.add(ERROR, f"batch {self.short(batch)} was created twice")
                    continue
                custodian = str(args["creator"])
                kinds = {int(e.args["kind"]) for _, e in edges if e.name == "BatchDerived"}
                if not edges:
                    actor = self.check_actor(
                        custodian, event, "creation", int(Role.PRODUCER), "producer"
                    )
                elif 3 in kinds:
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
                last_move = at
                self._entry(event, actor, documents=(args["document"],))
            elif name == "HandoffInitiated":
                sender, recipient = str(args["from"]), str(args["to"])
                if custodian is None or sender.lower() != custodian.lower():
                    self.add(
                        ERROR,
                        f"handoff of batch {self.short(batch)} in block {event.block_number} "
                        f"initiated by {self.people.label(sender)}, who was not its custodian",
                    )
                if pending is not None:
                    self.add(
                        ERROR,
                        f"second handoff of batch {self.short(batch)} initiated while one "
                        "was pending",
                    )
                actor = self.check_actor(sender, event, "handoff")
                pending = event
                self.anchor(args["document"], f"handoff of batch {self.short(batch)}")
                self._entry(
                    event,
                    actor,
                    counterparty=self.people.actor(recipient, event.key),
                    location=int(args["location"]),
                    biz_step=BIZ_STEPS.get(int(args["bizStep"])),
                    disposition=DISPOSITIONS.get(int(args["disposition"])),
                    documents=(args["document"],),
                    details={"transferOwnership": bool(args["transferOwnership"])},
                )
            elif name in ("HandoffAccepted", "HandoffRejected", "HandoffCancelled"):
                sender, recipient = str(args["from"]), str(args["to"])
                matches = (
                    pending is not None
                    and str(pending.args["from"]).lower() == sender.lower()
                    and str(pending.args["to"]).lower() == recipient.lower()
                )
                verb = name.removeprefix("Handoff").lower()
                if not matches:
                    self.add(
                        ERROR,
                        f"handoff of batch {self.short(batch)} {verb} in block "
                        f"{event.block_number} without a matching initiated handoff",
                    )
                who = sender if name == "HandoffCancelled" else recipient
                actor = self.check_actor(who, event, f"handoff {_VERBS[name]}")
                if name == "HandoffAccepted":
                    custodian = recipient
                    last_move = at
                pending = None
                self._entry(
                    event,
                    actor,
                    counterparty=self.people.actor(
                        recipient if who == sender else sender, event.key
                    ),
                )
            elif name == "BatchConsumed":
                by = str(args["by"])
                if custodian is None or by.lower() != custodian.lower():
                    self.add(
                        ERROR,
                        f"batch {self.short(batch)} consumed by {self.people.label(by)}, "
                        "who was not its custodian",
                    )
                kind = int(args["kind"])
                roles = int(Role.PROCESSOR | Role.PRODUCER) if kind == 3 else 0
                actor = self.check_actor(
                    by, event, KIND_NAMES.get(kind, "consumption"), roles, "processor or producer"
                )
                consumed = event
                self.custodian_at_consumption[batch] = by
                last_move = at
                self.anchor(
                    args["document"],
                    f"{KIND_NAMES.get(kind, 'consumption')} of batch {self.short(batch)}",
                )
                self._entry(
                    event,
                    actor,
                    documents=(args["document"],),
                    details={"kind": KIND_NAMES.get(kind, str(kind)), "loss": int(args["loss"])},
                )
            elif name == "BatchRecalled":
                self._entry(event, self.people.actor(actor_address, event.key))
            elif name == "DeliveryClaimed":
                self._entry(
                    event,
                    self.people.actor(str(args["recipient"]), event.key),
                    details={"settler": args["settler"]},
                )
        if pending is not None and batch == self.target:
            self.add(
                INFO,
                f"a handoff to {self.people.label(str(pending.args['to']))} is pending "
                "(in transit)",
            )
        self.use_time[batch] = last_move if last_move is not None else self.h.now

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
        settled = [e for e in self.h.agreement_events if e.name == "DeliverySettled"]
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
                label = f"attestation {claim[:10]}… on batch {self.short(batch)} by " + (
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
        lineage_set, descendants = set(lineage), self.descendants()
        views = []
        for batch, events in self.by_batch.items():
            for event in events:
                if event.name != "BatchRecalled":
                    continue
                if batch == self.target:
                    relation = "batch"
                elif batch in lineage_set:
                    relation = "ancestor"
                elif batch in descendants:
                    relation = "descendant"
                else:
                    relation = "sibling"
                by, reason = str(event.args["by"]), str(event.args["reason"])
                text = f"{relation} batch {self.short(batch)} was recalled by " + (
                    self.people.label(by)
                )
                self.add(ERROR if relation in ("batch", "ancestor") else WARNING, text)
                views.append(RecallView(batch, relation, by, reason, int(event.args["at"])))
        return views

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

    def agreements(self, lineage: Sequence[str]) -> list[AgreementView]:
        """One view per delivery settled for a batch of the lineage, in chain order."""
        members = set(lineage)
        settled = sorted(
            (e for e in self.h.agreement_events if e.name == "DeliverySettled"),
            key=lambda e: e.key,
        )
        return [self._agreement_view(e) for e in settled if to_hex32(e.args["batchId"]) in members]

    def _agreement_view(self, event: Event) -> AgreementView:
        agreement_id = int(event.args["id"])
        batch = to_hex32(event.args["batchId"])
        proposed = next(
            (
                e
                for e in self.h.agreement_events
                if e.name == "AgreementProposed" and int(e.args["id"]) == agreement_id
            ),
            None,
        )
        terms: Mapping[str, Any] = proposed.args["terms"] if proposed else {}
        if terms.get("document"):
            self.anchor(terms["document"], f"terms of agreement {agreement_id}")
        where = "" if batch == self.target else f" (ancestor batch {self.short(batch)})"
        self.add(INFO, f"delivery settled agreement {agreement_id}{where}")
        return AgreementView(
            agreement_id=agreement_id,
            supplier_amount=int(event.args["supplierAmount"]),
            buyer_amount=int(event.args["buyerAmount"]),
            days_late=int(event.args["daysLate"]),
            settled_at=int(event.args["at"]),
            buyer=terms.get("buyer"),
            supplier=terms.get("supplier"),
            price=int(terms["price"]) if "price" in terms else None,
            token=terms.get("token"),
            document=terms.get("document"),
            batch_id=batch,
        )

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
        # Parents first, so a split child knows its parent's custodian at the split.
        for batch in reversed(lineage):
            self.replay_batch(batch, "this" if batch == self.target else "ancestor")
        self.check_quantities(lineage)
        attestations = self.check_attestations(lineage)
        recalls = self.check_recalls(lineage)
        self.check_suspended_now()
        paid = self.agreements(lineage)
        agreement = next((a for a in reversed(paid) if a.batch_id == self.target), None)
        documents = self.check_documents()
        severities = {r.severity for r in self.reasons}
        verdict = (
            Verdict.FAILED
            if ERROR in severities
            else Verdict.WARNING
            if WARNING in severities
            else Verdict.VERIFIED
        )
        order = {ERROR: 0, WARNING: 1, INFO: 2}
        reasons = tuple(sorted(self.reasons, key=lambda r: order.get(r.severity, 3)))
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
            agreements=tuple(paid),
        )


def analyze(
    history: History,
    *,
    docs: Sequence[tuple[str, str]] = (),
    names: Mapping[str, str] | None = None,
) -> Report:
    """Replay `history` and judge it (pure: no RPC). `docs` are (label, keccak256 hex) pairs."""
    return _Analysis(history, docs, names or {}).run()


__all__ = [
    "ERROR",
    "INFO",
    "WARNING",
    "Actor",
    "AgreementView",
    "AttestationView",
    "DocumentCheck",
    "History",
    "LineageNode",
    "Reason",
    "RecallView",
    "Report",
    "Stats",
    "TimelineEntry",
    "Verdict",
    "analyze",
    "collect",
    "verify",
]
