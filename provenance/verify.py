"""Event-sourced verification of a batch: custody, title, lineage, attestations, recalls, sales.

Everything is rebuilt from event logs, never from contract state, so the verdict only depends on
what the chain recorded. Two halves:

- `collect` (RPC) fetches the logs with a number of `eth_getLogs` calls proportional to the depth
  and width of the lineage, never to the number of events or blocks: one query per lineage level
  (the batch ids of a level are OR-ed in topic 1), one for the children of the lineage, one per
  level of descendants, one for recalls (and lifted recalls) of related batches, one or two for the
  participants involved (and the keys they migrated from), one for the tenders of any batch of the
  lineage (batch ids OR-ed in topic 2) and one for everything those agreements recorded (terms,
  tenders, settlements, disputes). Each may be split into block-range chunks by
  `logs.fetch_logs`.
- `analyze` (pure) replays the decoded events and applies the checks below; unit tests feed it
  synthetic event lists.

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
    AgreementTerms,
    DisputeKind,
    Role,
    bytes32_to_text,
    format_eth,
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
EDGE_EVENTS = ("BatchSplit", "BatchDerived")
PARTICIPANT_EVENTS = (
    "ParticipantRegistered",
    "ParticipantUpdated",
    "ParticipantSuspended",
    "ParticipantReinstated",
    "ParticipantMigrated",
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
    recalled: bool  # recalled now (a lifted recall does not count)
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
    document: str | None = None
    lifted_at: int | None = None  # the operator lifted it (a mistaken recall)
    lifted_by: str | None = None
    lot: str | None = None  # the recalled batch's lot, when the history names it

    @property
    def active(self) -> bool:
        return self.lifted_at is None


@dataclass(frozen=True)
class TitleView:
    """A change of a batch's owner (title), replayed from the registry's log."""

    batch_id: str
    from_: str | None
    to: str
    at: int
    via: str  # "sale" (handoff with title) | "delivery" (agreement) | "award" (arbiter/default)
    agreement_id: int | None = None


@dataclass(frozen=True)
class AgreementView:
    """One delivery: batch `batch_id` tendered under agreement `agreement_id`, and what became of
    it (replayed from the agreements contract's events)."""

    agreement_id: int
    batch_id: str
    status: str  # tendered | withdrawn | rejected | escalated | settled | resolved | refunded
    tendered_at: int
    days_late: int  # whole days late at the (last) tender
    tenders: int = 1  # how often this batch was tendered under the agreement
    rejections: int = 0
    buyer: str | None = None
    supplier: str | None = None
    carrier: str | None = None  # the tender point, if a carrier (as FCA)
    arbiter: str | None = None
    price: int | None = None
    escrow: int | None = None
    token: str | None = None
    document: str | None = None
    settled_at: int | None = None
    supplier_amount: int | None = None
    buyer_amount: int | None = None
    penalty: int | None = None
    dispute: str | None = None  # "rejected" | "escalated"
    disputed_at: int | None = None
    dispute_reason: str | None = None
    resolved_at: int | None = None
    resolved_by_default: bool | None = None
    delivered: bool | None = None  # title passed to the buyer


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
    #: Every delivery of a batch of the lineage (this batch or an ancestor) under an agreement,
    #: in chain order; `agreement` is the latest one of this batch itself, if any.
    agreements: tuple[AgreementView, ...] = ()
    #: Every title change of a batch of the lineage, in chain order.
    titles: tuple[TitleView, ...] = ()
    custodian: str | None = None  # of this batch, replayed (None if consumed or unknown)
    owner: str | None = None

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
        return {str(k).rstrip("_"): _jsonable(v) for k, v in value.items()}
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
        own: list[str] = []  # children of the verified batch (then of its descendants)
        for chunk in _chunks(level):
            for event in logs(registry, [edge_topics, None, chunk]):
                child = to_hex32(event.args["childId"])
                if child not in seen:
                    seen.add(child)
                    children.append(child)
                    if first and to_hex32(event.args["parentId"]) != target:
                        continue
                    own.append(child)
        related.extend(children)
        level = own
        first = False
    # 3. Recalls (and lifted recalls) of related (sibling / descendant) batches.
    recall_topics = [decoder.topic(name) for name in RECALL_EVENTS]
    for chunk in _chunks(related):
        logs(registry, [recall_topics, chunk])

    # 4. The agreements that took a delivery of any batch of the lineage (topic 2 = batch id),
    #    then everything those agreements recorded (topic 1 = id): terms, tenders, settlements,
    #    disputes.
    agreement_events: list[Event] = []
    agreements = getattr(deployment, "agreements", None)
    if agreements:
        tendered_topic = decoder.topic("DeliveryTendered")
        tenders = [
            event
            for chunk in _chunks(lineage)
            for event in logs(agreements, [tendered_topic, None, chunk])
        ]
        ids = sorted({to_hex32(int(e.args["id"])) for e in tenders})
        topics = [decoder.topic(name) for name in AGREEMENT_EVENTS]
        for chunk in _chunks(ids):
            agreement_events.extend(logs(agreements, [topics, chunk]))

    # 5. Registration history of every participant involved (with the keys they migrated
    #    from, and the parties of those agreements).
    events_so_far = decoder.decode_all(raw)
    actors = _actors(events_so_far)
    participant_topics = [decoder.topic(name) for name in PARTICIPANT_EVENTS]
    migrated_topic = decoder.topic("ParticipantMigrated")
    fetched: set[str] = set()
    pending = sorted(actors)
    while pending:
        fetched.update(pending)
        found: set[str] = set()
        for chunk in _chunks([address_topic(a) for a in pending]):
            for event in logs(registry, [participant_topics, chunk]):
                found.update(_actors([event]))
            for event in logs(registry, [migrated_topic, None, chunk]):
                found.update(_actors([event]))
        pending = sorted(found - fetched)
    registry_events = decoder.decode_all(raw)
    agreement_address = str(agreements or "").lower()
    history = History(
        batch_id=target,
        events=tuple(e for e in registry_events if e.address.lower() != agreement_address),
        now=now,
        agreement_events=tuple(decoder.decode_all([r for r in raw if _from(r, agreements)])),
    )
    return history, len(raw)


def _from(log: Any, address: str | None) -> bool:
    return bool(address) and str(log.get("address", "")).lower() == str(address).lower()


def _actors(events: Iterable[Event]) -> set[str]:
    found: set[str] = set()
    for event in events:
        for key in ("creator", "from", "to", "by", "issuer", "account"):
            value = event.args.get(key)
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                found.add(value)
        terms = event.args.get("terms")
        if isinstance(terms, Mapping):
            for key in ("buyer", "supplier", "carrier", "arbiter"):
                value = terms.get(key)
                if isinstance(value, str) and int(value, 16) != 0:
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
        self.deals = sorted(history.agreement_events, key=lambda e: e.key)
        self.people = _Participants(self.events, names)
        self.reasons: list[Reason] = []
        self.timeline: list[TimelineEntry] = []
        self.titles: list[TitleView] = []
        self.anchored: dict[str, list[str]] = {}
        self.by_batch: dict[str, list[Event]] = {}
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
        events = self.by_batch.get(batch, [])
        edges = self.parents.get(batch, [])
        created = next((e for e in events if e.name == "BatchCreated"), None)
        custodian: str | None = None
        owner: str | None = None
        consumed: Event | None = None
        last_move: int | None = None
        if edges and edges[0][1].name == "BatchSplit":
            parent = edges[0][0]
            custodian = self.custodian_at_consumption.get(parent)
            owner = self.owner_at_consumption.get(parent)
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
            if consumed is not None and name not in ("BatchRecalled", "RecallLifted"):
                self.add(ERROR, f"{name} on batch {self.short(batch)} after it was consumed")
            if name == "BatchCreated":
                if event is not created:
                    self.add(ERROR, f"batch {self.short(batch)} was created twice")
                    continue
                custodian = str(args["creator"])
                kinds = {int(e.args["kind"]) for _, e in edges if e.name == "BatchDerived"}
                if not edges:
                    owner = custodian
                    actor = self.check_actor(
                        custodian, event, "creation", int(Role.PRODUCER), "producer"
                    )
                else:  # merge or transform output: owned by the (first) input's owner
                    owner = self.owner_at_consumption.get(edges[0][0], custodian)
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
                last_move = at
                self._entry(event, actor, documents=(args["document"],))
            elif name == "HandoffInitiated":
                sender, recipient = str(args["from"]), str(args["to"])
                if custodian is None or not self.people.same(sender, custodian):
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
                    details=details,
                )
            elif name in ("HandoffAccepted", "HandoffRejected", "HandoffCancelled"):
                sender, recipient = str(args["from"]), str(args["to"])
                matches = (
                    pending is not None
                    and self.people.same(str(pending.args["from"]), sender)
                    and self.people.same(str(pending.args["to"]), recipient)
                )
                verb = name.removeprefix("Handoff").lower()
                if not matches:
                    self.add(
                        ERROR,
                        f"handoff of batch {self.short(batch)} {verb} in block "
                        f"{event.block_number} without a matching initiated handoff",
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
                    if pending is not None and bool(pending.args["transferOwnership"]):
                        via = "delivery" if self._settled_in(event, batch) else "sale"
                        self._title(
                            batch, owner, recipient, event, via, self._settled_in(event, batch)
                        )
                        owner = recipient
                        extra["title"] = True
                    custodian = recipient
                    last_move = at
                    settled = self._settled_in(event, batch)
                    if settled is not None:
                        extra["agreement"] = settled
                if name != "HandoffCancelled" or released is None:
                    what = f"{_VERBS[name]} of batch {self.short(batch)}"
                    self.anchor(args.get("document"), what)
                pending = None
                self._entry(
                    event,
                    actor,
                    counterparty=self.people.actor(
                        recipient if who == sender else sender, event.key
                    ),
                    documents=(args.get("document"),),
                    details=extra,
                )
            elif name == "TitleTransferred":
                agreement_id = int(args["agreementId"])
                to = str(args["to"])
                self._title(batch, owner, to, event, "award", agreement_id)
                owner = to
                self._entry(
                    event,
                    self.people.actor(to, event.key),
                    counterparty=self.people.actor(str(args["from"]), event.key),
                    details={"agreement": agreement_id},
                )
            elif name == "DeliveryReleased":
                self._entry(event, None, details={"agreement": int(args["agreementId"])})
            elif name == "BatchConsumed":
                by = str(args["by"])
                if custodian is None or not self.people.same(by, custodian):
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
                if owner is not None:
                    self.owner_at_consumption[batch] = owner
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
            elif name in RECALL_EVENTS:
                what = "recall" if name == "BatchRecalled" else "lifted recall"
                self.anchor(args.get("document"), f"{what} of batch {self.short(batch)}")
                self._entry(
                    event,
                    self.people.actor(str(args["by"]), event.key),
                    documents=(args.get("document"),),
                    details={"reason": bytes32_to_text(str(args["reason"]))},
                )
        if pending is not None and batch == self.target:
            tender = self._delivery_of(pending, batch)
            what = f"the tender under agreement {tender.args['id']}" if tender else "a handoff"
            self.add(
                INFO,
                f"{what} to {self.people.label(str(pending.args['to']))} is pending (in transit)",
            )
        self.use_time[batch] = last_move if last_move is not None else self.h.now
        self.final[batch] = (None if consumed else custodian, owner)

    def _released_in(self, event: Event, batch: str) -> int | None:
        """The agreement whose delivery was released in `event`'s transaction, if any."""
        for other in self.by_batch.get(batch, []):
            if other.name == "DeliveryReleased" and other.tx_hash == event.tx_hash:
                return int(other.args["agreementId"])
        return None

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
        tender, replaying each agreement's events in chain order."""
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
                view |= {
                    "status": "tendered",
                    "tendered_at": int(event.args["at"]),
                    "days_late": int(event.args["daysLate"]),
                    "event": event,
                }
                self._check_tender(agreement_id, batch, event)
            elif view is None:
                continue
            elif event.name == "TenderWithdrawn":
                view["status"] = "withdrawn"
            elif event.name == "DeliverySettled":
                view |= {
                    "status": "settled",
                    "settled_at": int(event.args["at"]),
                    "supplier_amount": int(event.args["supplierAmount"]),
                    "buyer_amount": int(event.args["buyerAmount"]),
                    "days_late": int(event.args["daysLate"]),
                }
                self._check_settlement(agreement_id, batch, event)
            elif event.name == "DisputeRaised":
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
            elif event.name == "DisputeResolved":
                view |= {
                    "status": "resolved",
                    "resolved_at": int(event.args["at"]),
                    "supplier_amount": int(event.args["supplierAmount"]),
                    "buyer_amount": int(event.args["buyerAmount"]),
                    "delivered": bool(event.args["delivered"]),
                    "resolved_by_default": bool(event.args["byDefault"]),
                }
            elif event.name == "AgreementRefunded" and view["status"] == "withdrawn":
                view["status"] = "refunded"
        ordered = sorted(views.values(), key=lambda v: v["first"])
        return [self._delivery_view(v) for v in ordered]

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
    "TitleView",
    "Verdict",
    "analyze",
    "collect",
    "verify",
]
