"""Collecting a batch's history over RPC: every log `analysis.analyze` needs, with a number of
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

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from provenance.chain import Chain
from provenance.compiler import load_artifact
from provenance.encoding import to_hex32
from provenance.logs import Event, EventDecoder, address_topic, fetch_logs
from provenance.reverts import explain
from provenance.verify.analysis import (
    AGREEMENT_EVENTS,
    EDGE_EVENTS,
    PARTICIPANT_EVENTS,
    RECALL_EVENTS,
    History,
)

REGISTRY = "ProvenanceRegistry"
AGREEMENTS = "SupplyAgreements"
#: How many ids one getLogs topic OR-list carries.
TOPIC_CHUNK = 100
#: Blocks per `eth_getLogs` call on a local chain (elsewhere `logs.DEFAULT_MAX_RANGE`): one
#: answer of a long history's logs is megabytes of JSON, parsed at once; pages of 2,000 blocks keep
#: the verification of a 10,000-event history under 25 MiB (tracemalloc peak) for a few more calls.
LOCAL_PAGE = 2_000


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
    """Fetch every log `analyze` needs; returns the history and the number of logs fetched.
    `max_range`: blocks per `eth_getLogs` call (default `LOCAL_PAGE` on a local chain)."""
    if max_range is None and chain.is_local:
        max_range = LOCAL_PAGE
    try:
        return _collect(chain, deployment, batch_id, decoder or _decoder(), max_range)
    except Exception as exc:
        raise explain(exc, chain, "reading the batch's history") from exc


def _collect(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    decoder: EventDecoder,
    max_range: int | None,
) -> tuple[History, int]:
    target = to_hex32(batch_id)
    registry, start = deployment.registry, int(deployment.deploy_block)
    head = chain.w3.eth.block_number
    now = int(chain.w3.eth.get_block(head)["timestamp"])
    decoded: dict[tuple[int, int], Event] = {}  # every log fetched, decoded once
    fetched_logs = 0

    def logs(address: str, topics: list[Any]) -> list[Event]:
        nonlocal fetched_logs
        found = fetch_logs(chain, address, topics, start, head, max_range=max_range, raw=True)
        fetched_logs += len(found)
        events = decoder.decode_all(found)
        for event in events:
            decoded.setdefault(event.key, event)
        return events

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
    actors = _actors(decoded.values())
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
    in_order = [decoded[key] for key in sorted(decoded)]
    agreement_address = str(agreements or "").lower()
    history = History(
        batch_id=target,
        events=tuple(e for e in in_order if e.address.lower() != agreement_address),
        now=now,
        agreement_events=tuple(e for e in in_order if e.address.lower() == agreement_address),
    )
    return history, fetched_logs


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
