"""The web app's one door into the library: "the report of batch X", "the chain's EPCIS events"
and "where is the chain".

Everything else in `provenance.web` sees only `Source`. `RpcSource` reads the event logs with
`provenance.verify.collect` + `analyze` (reports) and `provenance.epcis.export.ChainEvents`
(EPCIS events, over JSON-RPC), on the `Chain` and `Deployment` the CLI connected: from
the local index of that chain and deployment when one exists (`index`: opened read-only per
report, topped up over RPC for the blocks after its tip), else over JSON-RPC. While the chain
does not answer, a source with an index answers from it as of its tip (the head it reports is
the tip; each report carries the "as of block N" warning) instead of failing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from provenance.directory import Directory
from provenance.epcis.export import ChainEvents, EventsAt
from provenance.exceptions import ProvenanceError
from provenance.registry import PARTICIPANT_EVENTS
from provenance.verify import Report
from provenance.verify.analysis import analyze
from provenance.verify.collect import collect, collect_from


class SourceUnavailable(ProvenanceError):
    """The chain cannot be read right now (unreachable, or it answered an error)."""

    def __init__(self, message: str, *, unreachable: bool = True) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Head:
    """The newest block the source has seen."""

    block: int
    timestamp: int
    #: The block's hash: another block at the same height (a reorg) is another head.
    hash: str = ""


@dataclass(frozen=True)
class Verified:
    """A batch's report (None: no such batch) and what it depends on, for the cache."""

    batch_id: str
    report: Report | None
    head: Head  # the report covers at least the events up to this block
    #: Topic values (batch ids, addresses as topics, agreement ids) of every event the report was
    #: built from, and the batch itself: a new event with any of them may change the report.
    family: frozenset[str]
    #: Address → name, for participants whose directory entry matches their on-chain metadata.
    names: Mapping[str, str] = field(default_factory=dict)
    #: The next chain time at which "valid now" of an attestation flips (None: never).
    expires_at: int | None = None


class Source(Protocol):
    """What the web app needs from the library."""

    chain_id: int
    registry: str

    def head(self) -> Head:
        """The chain's newest block; `SourceUnavailable` when it cannot be read."""
        ...

    def verify(self, batch_id: str) -> Verified:
        """The report of `batch_id`; `SourceUnavailable` when the chain cannot be read."""
        ...

    def touched(self, after: int, upto: int) -> frozenset[str]:
        """Topic values of every event of the contracts in blocks (after, upto]."""
        ...

    def epcis_events(self, head: int) -> EventsAt:
        """The registry's EPCIS events up to block `head`, rebuilt from the chain alone (never
        the local event store: a stored original may carry the parties' business, such as
        business transactions or extensions); `SourceUnavailable` when the chain cannot be
        read. Called with non-decreasing heads, it reads only the new blocks."""
        ...


def _topic_values(events: Iterable[Any]) -> set[str]:
    """Every 32-byte value and address of decoded events, as lower-case topics."""
    from provenance.encoding import to_hex32
    from provenance.logs import address_topic

    found: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str) and value.startswith("0x"):
            if len(value) == 66:
                found.add(value.lower())
            elif len(value) == 42:
                found.add(address_topic(value).lower())
        elif isinstance(value, Mapping):
            for item in value.values():
                add(item)
        elif isinstance(value, list | tuple):
            for item in value:
                add(item)

    for event in events:
        add(dict(event.args))
        for key in ("id", "agreementId"):
            if isinstance(event.args.get(key), int):
                found.add(to_hex32(int(event.args[key])))
    return found


def _metadata(events: Iterable[Any]) -> dict[str, str]:
    """Address → the participant's latest on-chain metadata hash (a migration moves it)."""
    by_id: dict[int, str] = {}
    address_of: dict[str, int] = {}
    for event in events:
        if event.name == "ParticipantRegistered":
            address_of[str(event.args["account"]).lower()] = int(event.args["id"])
    for event in events:
        if event.name == "ParticipantMigrated":
            address_of[str(event.args["to"]).lower()] = int(event.args["id"])
    for event in sorted(events, key=lambda e: e.key):
        if event.name in ("ParticipantRegistered", "ParticipantUpdated"):
            pid = address_of.get(str(event.args["account"]).lower())
            if pid is not None:
                by_id[pid] = str(event.args["metadataHash"]).lower()
    return {address: by_id[pid] for address, pid in address_of.items() if pid in by_id}


def _next_flip(report: Report) -> int | None:
    """The first chain time after the report's at which an attestation becomes valid or expires."""
    now = report.checked_at
    times = [t for a in report.attestations for t in (a.valid_from, a.valid_until + 1) if t > now]
    return min(times) if times else None


class RpcSource:
    """Reports rebuilt from the chain's logs: through `index` (the file `provenance index sync`
    writes for this chain identity and deployment, whenever it exists) topped up over JSON-RPC,
    else over JSON-RPC alone.

    The embedded chain (eth-tester, in this process) is not thread-safe: its reads are
    serialised. An HTTP endpoint is read from several threads at once.
    """

    def __init__(
        self,
        chain: Any,
        deployment: Any,
        directory: Directory | None = None,
        *,
        index: Path | None = None,
    ) -> None:
        from provenance.chain import EMBEDDED

        self.index = index
        self.chain = chain
        self.deployment = deployment
        self.directory = directory or Directory()
        self.chain_id = int(chain.chain_id)
        self.registry = str(deployment.registry)
        self.rpc = str(chain.rpc)
        self._lock = threading.Lock() if chain.rpc == EMBEDDED else None
        self.computed = 0  # reports built (the cache's tests count them)
        self._events: ChainEvents | None = None
        self._events_lock = threading.Lock()  # one ChainEvents, extended by one thread at a time

    def _guard(self) -> Any:
        from contextlib import nullcontext

        return self._lock if self._lock is not None else nullcontext()

    def _failure(self, exc: Exception) -> SourceUnavailable:
        from provenance.chain import is_connection_error

        if is_connection_error(exc):
            return SourceUnavailable("the blockchain node does not answer")
        return SourceUnavailable("the blockchain node answered with an error", unreachable=False)

    def _read_head(self) -> Head:
        block = self.chain.w3.eth.get_block("latest")
        return Head(int(block["number"]), int(block["timestamp"]), bytes(block["hash"]).hex())

    def _store(self) -> Any:
        """The index, opened read-only (None: there is none yet, or it is of another chain)."""
        if self.index is None or not self.index.exists():
            return None
        from provenance.index.store import IndexStore
        from provenance.verify import index_key

        store = IndexStore(self.index, create=False, readonly=True)
        if store.key != index_key(self.chain.identity, self.deployment):
            store.close()
            return None
        return store

    def _index_head(self) -> Head | None:
        """The index's tip, as the head while the chain does not answer."""
        store = self._store()
        if store is None:
            return None
        try:
            tip = store.tip()
            if tip is None:
                return None
            return Head(tip.number, store.tip_timestamp() or 0, tip.hash.lower().removeprefix("0x"))
        finally:
            store.close()

    def head(self) -> Head:
        try:
            with self._guard():
                return self._read_head()
        except Exception as exc:
            failure = self._failure(exc)
            if failure.unreachable and (tip := self._index_head()) is not None:
                return tip
            raise failure from exc

    def _collect(self, batch_id: str) -> tuple[Any, Head, Any, Any]:
        """The history, the head it covers, where it came from (`AsOf`, None: RPC) and the
        chain-down reason (or None)."""
        from provenance.verify.collect import _decoder
        from provenance.verify.source import IndexOffChain, IndexReader

        store = self._store()
        if store is not None:
            try:
                reader = IndexReader(
                    store, self.chain, _decoder(), confirmations=store.confirmations or 0
                )
                history, _fetched = collect_from(reader, self.deployment, batch_id)
            except IndexOffChain:
                pass  # its tip left the chain: read over RPC
            else:
                as_of = reader.as_of()
                note = None
                if not as_of.chain_reachable:
                    from provenance.verify import unreachable_reason

                    note = unreachable_reason(self.rpc, as_of.block)
                return history, Head(as_of.block, reader.now, reader.head_hash), as_of, note
            finally:
                store.close()
        head = self._read_head()
        history, _fetched = collect(self.chain, self.deployment, batch_id)
        return history, head, None, None

    def verify(self, batch_id: str) -> Verified:
        try:
            with self._guard():
                history, head, as_of, note = self._collect(batch_id)
        except Exception as exc:
            raise self._failure(exc) from exc
        family = frozenset(_topic_values(history.events) | _topic_values(history.agreement_events))
        family |= {batch_id.lower()}
        known = any(
            (e.name == "BatchCreated" and str(e.args["batchId"]).lower() == batch_id.lower())
            or (
                e.name in ("BatchSplit", "BatchDerived")
                and str(e.args["childId"]).lower() == batch_id.lower()
            )
            for e in history.events
        )
        self.computed += 1
        if not known:
            return Verified(batch_id, None, head, frozenset({batch_id.lower()}))
        participants = [e for e in history.events if e.name in PARTICIPANT_EVENTS]
        names = self.directory.verified_names(_metadata(participants).items())
        report = analyze(history, names=names)
        if as_of is not None:
            report = replace(report, source=as_of.source, as_of=as_of)
        if note is not None:
            report = report.with_reasons(note)
        return Verified(batch_id, report, head, family, names, _next_flip(report))

    def touched(self, after: int, upto: int) -> frozenset[str]:
        from provenance.logs import fetch_logs

        addresses = [self.deployment.registry]
        if getattr(self.deployment, "agreements", None):
            addresses.append(self.deployment.agreements)
        found: set[str] = set()
        store = self._store()
        if store is not None:  # the blocks the index holds, from it (every value of an event)
            try:
                tip = store.tip()
                if tip is not None and tip.number > after:
                    found |= _topic_values(
                        store.iter_events(addresses, (), after + 1, min(upto, tip.number))
                    )
                    after = min(upto, tip.number)
            finally:
                store.close()
        if after >= upto:
            return frozenset(found)
        try:
            with self._guard():
                logs = fetch_logs(self.chain, addresses, [], after + 1, upto)
        except Exception as exc:
            raise self._failure(exc) from exc
        for log in logs:
            for topic in list(log.get("topics") or [])[1:]:
                found.add("0x" + bytes(topic).hex())
        return frozenset(found)

    @property
    def chain_events(self) -> ChainEvents | None:
        """The events kept between heads (None before the first EPCIS request)."""
        return self._events

    def epcis_events(self, head: int) -> EventsAt:
        from provenance.registry import RegistryClient

        try:
            with self._events_lock, self._guard():
                if self._events is None:
                    registry = RegistryClient.from_deployment(self.chain, self.deployment)
                    self._events = ChainEvents(registry)
                return self._events.at(head)
        except Exception as exc:
            raise self._failure(exc) from exc


__all__ = ["Head", "RpcSource", "Source", "SourceUnavailable", "Verified"]
