"""Collecting a batch's history from an event reader (`provenance.verify.source`: over RPC, or
the local index topped up over RPC): every log `analysis.analyze` needs, with a number of
`eth_getLogs` calls proportional to the depth and width of the lineage, never to the number of
events or blocks — one query per lineage level (the batch ids of a level OR-ed in topic 1), one
for the children of the lineage, one per level of descendants, one for recalls (and lifted
recalls) of related batches, one or two for the participants involved (and the keys they
migrated from), one for the tenders of any batch of the lineage (batch ids OR-ed in topic 2) and
one for everything those agreements recorded. Each may be split into block-range chunks by
`provenance.logs.fetch_logs`. Any RPC failure becomes one library error
(`provenance.reverts.explain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provenance.chain import Chain
from provenance.compiler import load_artifact
from provenance.encoding import to_hex32
from provenance.logs import Event, EventDecoder, address_topic
from provenance.registry import EDGE_EVENTS, PARTICIPANT_EVENTS, topic_chunks
from provenance.reverts import explain
from provenance.verify.analysis import AGREEMENT_EVENTS, RECALL_EVENTS, History
from provenance.verify.source import Reader, RpcReader

REGISTRY = "ProvenanceRegistry"
AGREEMENTS = "SupplyAgreements"
#: Blocks per `eth_getLogs` call on a local chain (elsewhere `logs.DEFAULT_MAX_RANGE`): one
#: answer of a long history's logs is megabytes of JSON, parsed at once; pages of 2,000 blocks keep
#: the verification of a 10,000-event history under 25 MiB (tracemalloc peak) for a few more calls.
LOCAL_PAGE = 2_000


def _decoder() -> EventDecoder:
    return EventDecoder(load_artifact(REGISTRY).abi, load_artifact(AGREEMENTS).abi)


def collect(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    *,
    decoder: EventDecoder | None = None,
    max_range: int | None = None,
    reader: Reader | None = None,
) -> tuple[History, int]:
    """Fetch every event `analyze` needs, from `reader` (default: over RPC from `chain`, in
    pages of `max_range` blocks, `LOCAL_PAGE` on a local chain); returns the history and the
    number of events answered."""
    decoder = decoder or _decoder()
    if max_range is None and chain.is_local:
        max_range = LOCAL_PAGE
    try:
        if reader is None:
            reader = RpcReader(chain, int(deployment.deploy_block), decoder, max_range=max_range)
        return collect_from(reader, deployment, batch_id, decoder)
    except Exception as exc:
        raise explain(exc, chain, "reading the batch's history") from exc


def collect_from(
    reader: Reader, deployment: Any, batch_id: str, decoder: EventDecoder | None = None
) -> tuple[History, int]:
    """`collect` over any event reader (RPC, or the index topped up from RPC)."""
    decoder = decoder or _decoder()
    target = to_hex32(batch_id)
    registry = deployment.registry
    found: dict[tuple[int, int], Event] = {}

    def logs(address: str, topics: list[Any]) -> list[Event]:
        events = reader.events(address, topics)
        for event in events:
            found.setdefault(event.key, event)
        return events

    # 1. The lineage, one level at a time: each batch's full history (topic 1 = its id) also
    #    holds its BatchSplit/BatchDerived edges to its parents and its attestations.
    lineage: list[str] = []
    level = [target]
    seen = {target}
    while level:
        lineage.extend(level)
        parents: list[str] = []
        for chunk in topic_chunks(level):
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
        for chunk in topic_chunks(level):
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
    for chunk in topic_chunks(related):
        logs(registry, [recall_topics, chunk])

    # 4. The agreements that took a delivery of any batch of the lineage (topic 2 = batch id),
    #    then everything those agreements recorded (topic 1 = id): terms, tenders, settlements,
    #    disputes.
    agreements = getattr(deployment, "agreements", None)
    if agreements:
        tendered_topic = decoder.topic("DeliveryTendered")
        tenders = [
            event
            for chunk in topic_chunks(lineage)
            for event in logs(agreements, [tendered_topic, None, chunk])
        ]
        ids = sorted({to_hex32(int(e.args["id"])) for e in tenders})
        topics = [decoder.topic(name) for name in AGREEMENT_EVENTS]
        for chunk in topic_chunks(ids):
            logs(agreements, [topics, chunk])

    # 5. Registration history of every participant involved (with the keys they migrated
    #    from, and the parties of those agreements).
    actors = _actors(found.values())
    participant_topics = [decoder.topic(name) for name in PARTICIPANT_EVENTS]
    migrated_topic = decoder.topic("ParticipantMigrated")
    fetched: set[str] = set()
    pending = sorted(actors)
    while pending:
        fetched.update(pending)
        more: set[str] = set()
        for chunk in topic_chunks([address_topic(a) for a in pending]):
            for event in logs(registry, [participant_topics, chunk]):
                more.update(_actors([event]))
            for event in logs(registry, [migrated_topic, None, chunk]):
                more.update(_actors([event]))
        pending = sorted(more - fetched)
    events = sorted(found.values(), key=lambda e: e.key)
    agreement_address = str(agreements or "").lower()
    history = History(
        batch_id=target,
        events=tuple(e for e in events if e.address.lower() != agreement_address),
        now=reader.now,
        agreement_events=tuple(e for e in events if _from(e, agreements)),
        unconfirmed=frozenset(e.key for e in events if reader.unconfirmed(e)),
        confirmations=reader.confirmations,
    )
    return history, reader.fetched


def _from(event: Event, address: str | None) -> bool:
    return bool(address) and event.address.lower() == str(address).lower()


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
