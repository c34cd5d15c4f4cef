"""Export the registry's history as an EPCIS 2.0 `EPCISDocument`, streaming.

Logs are read in windows of blocks (or, for one batch or its lineage, by batch id), grouped per
transaction into `mapping.ChainRecord`s and written one event at a time: memory stays flat
however long the history is (the batch catalogue and open handoffs are bounded caches that fall
back to a log query on a miss).

Each event is either

- the **stored original** (`store.EventStore`), when the record's document hash is the GS1 event
  hash of an event imported here and the stored JSON still hashes to it: the exact event, its
  `eventID` included; or
- **rebuilt from the chain** per the design table, with an `eventID` equal to its GS1 event hash.

and carries its chain coordinates in the `prv:onChain` extension (chain id, registry, block,
transaction hash, log index, the on-chain record and its document hash), which the event hash
leaves out like `recordTime`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from provenance.encoding import to_hex32
from provenance.epcis.hashing import GS1_CONTEXT_URL, NAMESPACE, ON_CHAIN, PREFIX, event_hash
from provenance.epcis.identifiers import Amount, ClassKey
from provenance.epcis.mapping import (
    EXPORT_CONTEXT,
    ChainRecord,
    Coordinates,
    Held,
    Kind,
    to_epcis,
)
from provenance.epcis.store import EventStore, Status
from provenance.gs1 import Gtin, lot_from_bytes32
from provenance.logs import Event, EventDecoder, Topic, fetch_logs
from provenance.units import uom_from_bytes

if TYPE_CHECKING:
    from provenance.registry import RegistryClient

#: Registry events the export reads (the rest — participants, prefixes, nonces — are not EPCIS).
EXPORTED = (
    "BatchCreated",
    "BatchSplit",
    "BatchDerived",
    "BatchConsumed",
    "HandoffInitiated",
    "HandoffAccepted",
    "HandoffRejected",
    "HandoffCancelled",
    "TitleTransferred",
    "AttestationIssued",
    "BatchRecalled",
    "RecallLifted",
)
DERIVATION = ("BatchConsumed", "BatchSplit", "BatchDerived")
DEFAULT_WINDOW = 2_000
CACHE_SIZE = 10_000  # batches remembered (a miss costs one getLogs): bounds memory

ProgressFn = Callable[[int, int], None]


@dataclass
class ExportStats:
    events: int = 0
    stored: int = 0  # the original event from the local store
    rebuilt: int = 0  # rebuilt from the chain
    mismatched: list[str] = field(default_factory=list)  # stored events that no longer verify


class _Lru(OrderedDict[str, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class _Catalog:
    """Batch id → (class, amount), learnt from the stream; a miss asks the chain."""

    def __init__(self, registry: RegistryClient, decoder: EventDecoder) -> None:
        self.registry = registry
        self.decoder = decoder
        self.known = _Lru(CACHE_SIZE)
        self.pending = _Lru(CACHE_SIZE)  # batch → (from, to, transfer) of its open handoff
        self.owners = _Lru(CACHE_SIZE)  # batch → its owner, where the stream showed it
        #: (block, log index) of a receipt that passed title → the owner before it (None: the
        #: stream did not show who owned the batch, e.g. an export that starts mid-history)
        self.owner_before = _Lru(CACHE_SIZE)

    def learn(self, event: Event) -> None:
        args = event.args
        if event.name == "BatchCreated":
            key = ClassKey(Gtin.from_chain(int(args["gtin"])), lot_from_bytes32(args["lot"]))
            amount = Amount(int(args["quantity"]), uom_from_bytes(args["uom"]))
            self.known.put(to_hex32(args["batchId"]), Held(key, amount))
            self.owners.put(to_hex32(args["batchId"]), args["creator"])
        elif event.name == "BatchSplit":
            parent = self.get(to_hex32(args["parentId"]))
            if parent is not None:
                key = ClassKey(parent.key.gtin, lot_from_bytes32(args["lot"]))
                amount = Amount(int(args["quantity"]), parent.amount.uom)
                self.known.put(to_hex32(args["childId"]), Held(key, amount))
            owner = self.owners.get(to_hex32(args["parentId"]))
            if owner is not None:  # a split keeps the owner
                self.owners.put(to_hex32(args["childId"]), owner)
        elif event.name == "HandoffAccepted":
            bid = to_hex32(args["batchId"])
            opened = self.pending.get(bid)
            if opened is not None and opened[2]:  # title passes with this receipt
                self.owner_before.put(f"{event.key}", self.owners.get(bid))
                self.owners.put(bid, args["to"])
        elif event.name == "TitleTransferred":
            self.owners.put(to_hex32(args["batchId"]), args["to"])
        elif event.name == "HandoffInitiated":
            self.pending.put(
                to_hex32(args["batchId"]),
                (args["from"], args["to"], bool(args["transferOwnership"])),
            )

    def get(self, bid: str) -> Held | None:
        if bid in self.known:
            return self.known[bid]  # type: ignore[no-any-return]
        topics = cast(
            list[Topic],
            [[self.decoder.topic("BatchCreated"), self.decoder.topic("BatchSplit")], bid],
        )
        for event in self.decoder.decode_all(
            fetch_logs(
                self.registry.chain, self.registry.address, topics, self.registry.deploy_block
            )
        ):
            self.learn(event)
        return self.known.get(bid)  # type: ignore[no-any-return]

    def transfer_of(self, bid: str, before: tuple[int, int]) -> bool:
        if bid in self.pending:
            return bool(self.pending.pop(bid)[2])
        topics = cast(list[Topic], [self.decoder.topic("HandoffInitiated"), bid])
        logs = fetch_logs(
            self.registry.chain,
            self.registry.address,
            topics,
            self.registry.deploy_block,
            before[0],
        )
        earlier = [e for e in self.decoder.decode_all(logs) if e.key < before]
        return bool(earlier and earlier[-1].args["transferOwnership"])


class _Rebuilder:
    """Groups the logs of one transaction into `ChainRecord`s."""

    def __init__(self, registry: RegistryClient, decoder: EventDecoder) -> None:
        self.registry = registry
        self.chain_id = registry.chain.chain_id
        self.catalog = _Catalog(registry, decoder)

    def coords(self, event: Event, document: str | None) -> Coordinates:
        doc = document if document and int(document, 16) else None
        return Coordinates(
            self.chain_id,
            self.registry.address,
            event.block_number,
            event.tx_hash,
            event.log_index,
            event.name,
            doc,
        )

    def records(self, events: Sequence[Event]) -> Iterator[ChainRecord]:
        for event in events:
            self.catalog.learn(event)
        if any(e.name in DERIVATION for e in events):
            yield self.derivation(events)
            return
        group: list[Event] = []
        for event in events:
            if group and _group_key(group[0]) != _group_key(event):
                yield from self.simple(group)
                group = []
            group.append(event)
        if group:
            yield from self.simple(group)

    def derivation(self, events: Sequence[Event]) -> ChainRecord:
        consumed = [e for e in events if e.name == "BatchConsumed"]
        first = consumed[0] if consumed else events[0]
        inputs = [self.catalog.get(to_hex32(e.args["batchId"])) for e in consumed]
        outputs = []
        for event in events:
            if event.name in ("BatchSplit",):
                outputs.append(self.catalog.get(to_hex32(event.args["childId"])))
            elif event.name == "BatchCreated":
                outputs.append(self.catalog.get(to_hex32(event.args["batchId"])))
        return ChainRecord(
            Kind.TRANSFORM,
            int(first.args.get("at", 0)),
            self.coords(first, first.args.get("document")),
            actor=first.args.get("by"),
            inputs=tuple(h for h in inputs if h is not None),
            outputs=tuple(h for h in outputs if h is not None),
        )

    def owner_before(self, group: Sequence[Event]) -> str | None:
        """Who owned the batches of a title-passing receipt before it: not always its sender (a
        delivery accepted from the carrier passes the supplier's title). None when the stream
        did not show it, or the batches of the group had different owners."""
        owners = {self.catalog.owner_before.get(f"{e.key}") for e in group}
        return owners.pop() if len(owners) == 1 else None

    def simple(self, group: Sequence[Event]) -> Iterator[ChainRecord]:
        first = group[0]
        args = first.args
        name = first.name
        lines = tuple(
            h
            for h in (
                self.catalog.get(to_hex32(e.args.get("batchId", e.args.get("subject", "0x0"))))
                for e in group
            )
            if h is not None
        )
        at = int(args.get("at", 0))
        document = args.get("document") or args.get("evidence")
        coords = self.coords(first, document)
        if name == "BatchCreated":
            yield ChainRecord(Kind.COMMISSION, at, coords, actor=args["creator"], lines=lines)
        elif name == "HandoffInitiated":
            yield ChainRecord(
                Kind.SHIP,
                at,
                coords,
                actor=args["from"],
                lines=lines,
                from_=args["from"],
                to=args["to"],
                transfer=bool(args["transferOwnership"]),
                location=int(args["location"]),
                biz_step=int(args["bizStep"]),
                disposition=int(args["disposition"]),
            )
        elif name in ("HandoffAccepted", "HandoffCancelled", "HandoffRejected"):
            transfer = False
            for event in group:
                transfer = self.catalog.transfer_of(to_hex32(event.args["batchId"]), event.key)
            kind = {
                "HandoffAccepted": Kind.RECEIVE,
                "HandoffCancelled": Kind.CANCEL,
                "HandoffRejected": Kind.REJECT,
            }[name]
            actor = args["to"] if kind != Kind.CANCEL else args["from"]
            yield ChainRecord(
                kind,
                at,
                coords,
                actor=actor,
                lines=lines,
                from_=args["from"],
                to=args["to"],
                transfer=transfer and kind == Kind.RECEIVE,
                reason=args.get("reason"),
                owner_before=self.owner_before(group),
            )
        elif name == "TitleTransferred":
            yield ChainRecord(
                Kind.TITLE, at, coords, lines=lines, from_=args["from"], to=args["to"]
            )
        elif name == "AttestationIssued":
            if lines:  # an account attestation is not about goods: no EPCIS event
                yield ChainRecord(
                    Kind.ATTEST, at, coords, actor=args["issuer"], lines=lines, claim=args["claim"]
                )
        elif name == "BatchRecalled":
            yield ChainRecord(
                Kind.RECALL, at, coords, actor=args["by"], lines=lines, reason=args["reason"]
            )
        elif name == "RecallLifted":
            yield ChainRecord(
                Kind.LIFT, at, coords, actor=args["by"], lines=lines, reason=args["reason"]
            )


def _group_key(event: Event) -> tuple[Any, ...]:
    """Logs of one transaction that form one EPCIS event share this key."""
    args = event.args
    if event.name in ("AttestationIssued", "BatchRecalled", "RecallLifted", "TitleTransferred"):
        return (event.name, event.log_index)  # never grouped
    keep = ("from", "to", "location", "bizStep", "disposition", "transferOwnership", "document")
    return (event.name, *(str(args.get(k)) for k in keep))


# ------------------------------------------------------------------------------- sources


def _by_transaction(events: Iterable[Event]) -> Iterator[list[Event]]:
    current: list[Event] = []
    for event in events:
        if current and event.tx_hash != current[0].tx_hash:
            yield current
            current = []
        current.append(event)
    if current:
        yield current


def _complete(registry: RegistryClient, decoder: EventDecoder, events: list[Event]) -> list[Event]:
    """Add every registry log of the derivations among `events` (a batch query sees only its
    own side of a split, merge or transformation)."""
    txs = sorted({e.tx_hash for e in events if e.name in DERIVATION})
    extra: list[Event] = []
    for tx in txs:
        receipt = registry.chain.w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
        logs = [
            log
            for log in receipt["logs"]
            if str(log["address"]).lower() == registry.address.lower()
        ]
        extra.extend(e for e in decoder.decode_all(logs) if e.name in EXPORTED)
    merged = {e.key: e for e in [*events, *extra]}
    return [merged[k] for k in sorted(merged)]


def batch_ids_for(registry: RegistryClient, batch: str, lineage: bool) -> list[str]:
    """The batch alone, or with its ancestors and descendants."""
    target = to_hex32(batch)
    if not lineage:
        return [target]
    ids = [target, *registry.ancestors_of(target)]
    decoder = EventDecoder(registry.abi)
    edges = [decoder.topic("BatchSplit"), decoder.topic("BatchDerived")]
    seen, level = set(ids), [target]
    while level:
        children: list[str] = []
        for start in range(0, len(level), 100):
            chunk = level[start : start + 100]
            logs = fetch_logs(
                registry.chain,
                registry.address,
                cast(list[Topic], [edges, None, chunk]),
                registry.deploy_block,
            )
            for event in decoder.decode_all(logs):
                child = to_hex32(event.args["childId"])
                if child not in seen:
                    seen.add(child)
                    children.append(child)
        ids.extend(children)
        level = children
    return ids


def iter_records(
    registry: RegistryClient,
    *,
    batches: Sequence[str] | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
    window: int = DEFAULT_WINDOW,
    progress: ProgressFn | None = None,
) -> Iterator[ChainRecord]:
    """The registry's records as `ChainRecord`s in chain order: of `batches` (ids), or of
    blocks `from_block`..`to_block` (default: the deployment block to the head)."""
    decoder = EventDecoder(registry.abi)
    rebuild = _Rebuilder(registry, decoder)
    topics = [decoder.topic(name) for name in EXPORTED]
    chain = registry.chain
    head = chain.w3.eth.block_number
    start = registry.deploy_block if from_block is None else from_block
    end = head if to_block is None else min(to_block, head)
    if batches is not None:
        found: list[Event] = []
        ids = list(batches)
        for i in range(0, len(ids), 100):
            logs = fetch_logs(
                chain, registry.address, cast(list[Topic], [topics, ids[i : i + 100]]), start, end
            )
            found.extend(decoder.decode_all(logs))
        events = _complete(
            registry, decoder, sorted({e.key: e for e in found}.values(), key=lambda e: e.key)
        )
        for group in _by_transaction(events):
            yield from rebuild.records(group)
        if progress is not None:
            progress(1, 1)
        return
    total = max(end - start + 1, 0)
    block = start
    while block <= end:
        last = min(end, block + window - 1)
        logs = fetch_logs(chain, registry.address, [topics], block, last)
        for group in _by_transaction(decoder.decode_all(logs)):
            yield from rebuild.records(group)
        if progress is not None:
            progress(last - start + 1, total)
        block = last + 1


# ------------------------------------------------------------------------------- events


class EventSource:
    """`ChainRecord`s → EPCIS events: the stored original when there is one, else rebuilt."""

    def __init__(self, registry: RegistryClient, store: EventStore | None) -> None:
        self.store = store
        self.glns = {p.address: p.gln for p in registry.list_participants()}
        self.emitted: set[str] = set()
        self.stats = ExportStats()
        self.context_prefixes: dict[str, str] = {PREFIX: NAMESPACE}

    def events(self, records: Iterable[ChainRecord]) -> Iterator[dict[str, Any]]:
        for record in records:
            event = self.event_of(record)
            if event is not None:
                self.stats.events += 1
                yield event

    def event_of(self, record: ChainRecord) -> dict[str, Any] | None:
        anchor = record.coords.document
        if anchor and self.store is not None:
            if anchor in self.emitted:
                return None  # one stored event anchors several records (a multi-batch event)
            check = self.store.check(anchor)
            if check.status == Status.OK:
                stored = self.store.get(anchor)
                if stored is not None:
                    self.emitted.add(anchor)
                    self.stats.stored += 1
                    return self._stored(stored, record)
            elif check.status in (Status.MISMATCH, Status.UNREADABLE):
                self.stats.mismatched.append(anchor)
        self.stats.rebuilt += 1
        event = to_epcis(record, self.glns)
        return {"type": event["type"], "eventID": event_hash(event, EXPORT_CONTEXT), **event}

    def _stored(self, stored: Mapping[str, Any], record: ChainRecord) -> dict[str, Any]:
        context = stored.get("@context")
        items = context if isinstance(context, list) else [context]
        own: dict[str, str] = {}
        for item in items:
            if isinstance(item, dict):
                own.update(item)
        extra = {k: v for k, v in own.items() if self.context_prefixes.get(k) != v}
        event: dict[str, Any] = {}
        if extra:
            event["@context"] = [extra]
        event.update({k: v for k, v in stored.items() if k != "@context"})
        event[ON_CHAIN] = record.coords.to_json()
        return event


@dataclass(frozen=True)
class EventsAt:
    """The registry's EPCIS events up to block `block`, in chain order (never changed once
    made: a newer head gets a new `EventsAt`)."""

    block: int
    events: tuple[dict[str, Any], ...]
    #: eventID → position in `events` (the first, when two records rebuild to the same event).
    index: Mapping[str, int]

    def find(self, event_id: str) -> dict[str, Any] | None:
        position = self.index.get(event_id)
        return None if position is None else self.events[position]


class ChainEvents:
    """The registry's EPCIS events rebuilt from the chain alone (no local store: exactly what
    `epcis export --all --no-store` writes at the same head), kept between calls and extended
    block by block, for a server that answers EPCIS queries.

    `at(head)` costs, when the head moved since the last call: one `eth_getBlockByNumber` (is the
    block seen last still on the chain?), one `eth_getLogs` of participant events and one of the
    exported events over the new blocks only, a catalogue look-up per batch not seen recently,
    and a copy of the event list (O(events), in memory). Nothing when the head did not move. The
    whole history is read again only when the chain went back (a reorg, a restarted node: the
    block seen last is gone) or a participant's GLN changed (parties are named by the current
    GLN, as `epcis export` does). Events only ever append at the end, so a position in the list
    stays valid across heads: paging by offset neither repeats nor skips an event.
    """

    def __init__(self, registry: RegistryClient, *, window: int = DEFAULT_WINDOW) -> None:
        from provenance.registry import PARTICIPANT_EVENTS

        self.registry = registry
        self.window = window
        self.decoder = EventDecoder(registry.abi)
        self._exported = [self.decoder.topic(name) for name in EXPORTED]
        self._participants = [self.decoder.topic(name) for name in PARTICIPANT_EVENTS]
        self.full_scans = 0  # how often the history was read from the deploy block (tests)
        self._reset()

    def _reset(self) -> None:
        self._dirty = True
        self._block = self.registry.deploy_block - 1
        self._hash: bytes | None = None
        self._events: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._rebuild = _Rebuilder(self.registry, self.decoder)
        self._source = EventSource(self.registry, None)
        self._snapshot = EventsAt(self._block, (), {})
        self.full_scans += 1
        self._dirty = False

    def _block_hash(self, number: int) -> bytes | None:
        if number < 0:
            return None
        return bytes(self.registry.chain.w3.eth.get_block(number)["hash"])

    def at(self, head: int) -> EventsAt:
        """The events of blocks up to `head` (the head the caller read). A failure (the chain
        stopped answering half-way) leaves nothing half-read: the next call starts over."""
        if self._dirty:
            self._reset()
        if head < self._block or (
            self._hash is not None and self._block_hash(self._block) != self._hash
        ):
            self._reset()  # the chain went back: what was read may be gone
        if head <= self._block:  # nothing new (or a head before the deployment)
            return self._snapshot
        chain, address = self.registry.chain, self.registry.address
        start = self._block + 1
        if fetch_logs(chain, address, [self._participants], start, head):
            glns = {p.address: p.gln for p in self.registry.list_participants()}
            if _named(glns) != _named(self._source.glns):
                self._reset()
                start = self._block + 1
        before = len(self._events)
        self._dirty = True
        block = start
        while block <= head:
            last = min(head, block + self.window - 1)
            logs = fetch_logs(chain, address, [self._exported], block, last)
            for group in _by_transaction(self.decoder.decode_all(logs)):
                for record in self._rebuild.records(group):
                    event = self._source.event_of(record)
                    if event is None:
                        continue
                    self._index.setdefault(event["eventID"], len(self._events))
                    self._events.append(event)
            block = last + 1
        self._block, self._hash = head, self._block_hash(head)
        self._dirty = False
        if len(self._events) != before:
            self._snapshot = EventsAt(head, tuple(self._events), dict(self._index))
        else:
            self._snapshot = EventsAt(head, self._snapshot.events, self._snapshot.index)
        return self._snapshot


def _named(glns: Mapping[str, int]) -> dict[str, int]:
    """The participants an event names by GLN (no GLN: by `did:pkh` only, as if unknown)."""
    return {address: gln for address, gln in glns.items() if gln}


class DocumentWriter:
    """Writes an `EPCISDocument` to `out` one event at a time."""

    def __init__(self, out: IO[str], context: list[Any] | None = None) -> None:
        self.out = out
        self.count = 0
        header = {
            "@context": context or EXPORT_CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        text = json.dumps(header, indent=1, ensure_ascii=False)
        self.out.write(text[:-2] + ',\n "epcisBody": {\n  "eventList": [')

    def write(self, event: Mapping[str, Any]) -> None:
        self.out.write(
            ("\n   " if self.count == 0 else ",\n   ") + json.dumps(event, ensure_ascii=False)
        )
        self.count += 1

    def close(self) -> None:
        self.out.write("\n  ]\n }\n}\n")
        self.out.flush()


def export(
    registry: RegistryClient,
    out: IO[str],
    *,
    batch: str | None = None,
    lineage: bool = False,
    from_block: int | None = None,
    to_block: int | None = None,
    store: EventStore | None = None,
    window: int = DEFAULT_WINDOW,
    progress: ProgressFn | None = None,
) -> ExportStats:
    """Write the EPCISDocument of one batch (its lineage with `lineage`) or of a block range
    (everything by default) to `out`. `store=None`: rebuilt from the chain alone."""
    ids = batch_ids_for(registry, batch, lineage) if batch is not None else None
    source = EventSource(registry, store)
    writer = DocumentWriter(out)
    records = iter_records(
        registry,
        batches=ids,
        from_block=from_block,
        to_block=to_block,
        window=window,
        progress=progress,
    )
    for event in source.events(records):
        writer.write(event)
    writer.close()
    return source.stats


__all__ = [
    "DEFAULT_WINDOW",
    "EXPORTED",
    "GS1_CONTEXT_URL",
    "ChainEvents",
    "DocumentWriter",
    "EventSource",
    "EventsAt",
    "ExportStats",
    "batch_ids_for",
    "export",
    "iter_records",
]
