"""Reports kept between requests, keyed by batch and checked against the chain head.

A cached report stays valid while no new event touches its family: the batches, participants
and agreements it was built from (`Verified.family`). The head is re-read at most every
`head_ttl` seconds; when it has moved, the events of the new blocks are read once (one
`eth_getLogs` for all entries) and every entry whose family they touch is dropped, as is every
entry whose "valid now" of an attestation flips by the new head's time. A report computed while
the head moved is stored only if the events since its own head are known not to touch it.

The chain's EPCIS events (`epcis_events`, for `GET /epcis/events`) are kept for one head: a
request at the same head costs no chain access; when the head moved, one computation (shared by
the requests waiting for it) reads the new blocks only (`provenance.epcis.export.ChainEvents`
says what that costs) and the query then runs over the events in memory.

Concurrent requests for the same batch share one computation; computations run in worker
threads, at most `workers` at a time. When the source is unavailable, the failure is remembered
for `retry_after` seconds (requests fail fast with it), then the chain is asked again: the server
recovers without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from provenance.epcis.export import EventsAt
from provenance.web.source import Head, Source, SourceUnavailable, Verified

#: Above this many new blocks at once, dropping every entry is cheaper than reading the logs.
MAX_GAP = 5_000


@dataclass
class Entry:
    """A cached report and its renderings at one head (`rendered_block`)."""

    verified: Verified
    rendered: dict[str, Any] = field(default_factory=dict)
    rendered_block: int = -1

    def render(self, kind: str, head: Head, make: Callable[[], Any]) -> Any:
        """`make()`'s result for `kind` at `head`, computed once per head."""
        if self.rendered_block != head.block:
            self.rendered.clear()
            self.rendered_block = head.block
        if kind not in self.rendered:
            self.rendered[kind] = make()
        return self.rendered[kind]


class ReportCache:
    def __init__(
        self,
        source: Source,
        *,
        head_ttl: float = 0.5,
        retry_after: float = 1.0,
        max_entries: int = 1024,
        workers: int = 4,
    ) -> None:
        self.source = source
        self.head_ttl = head_ttl
        self.retry_after = retry_after
        self.max_entries = max_entries
        self.workers = workers
        self.hits = 0
        self.misses = 0
        self._head: Head | None = None
        self._checked = float("-inf")
        self._down: tuple[float, SourceUnavailable] | None = None
        self._head_lock: asyncio.Lock | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[Entry]] = {}
        #: (after, upto, topics touched in blocks (after, upto]) of the latest head moves.
        self._recent: deque[tuple[int, int, frozenset[str]]] = deque(maxlen=256)
        self._events: tuple[Head, EventsAt] | None = None
        self._events_task: asyncio.Task[EventsAt] | None = None
        self.events_computed = 0  # times the events were brought up to a new head (tests)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last_head(self) -> Head | None:
        """The head last read (None before the first read)."""
        return self._head

    async def head(self) -> Head:
        """The chain head, re-read when older than `head_ttl`; `SourceUnavailable` if down."""
        if self._head is not None and time.monotonic() - self._checked < self.head_ttl:
            return self._head
        if self._head_lock is None:
            self._head_lock = asyncio.Lock()
        async with self._head_lock:
            now = time.monotonic()
            if self._head is not None and now - self._checked < self.head_ttl:
                return self._head
            if self._down is not None and now - self._down[0] < self.retry_after:
                raise self._down[1]
            try:
                new = await anyio.to_thread.run_sync(self.source.head)
                await self._advance(new)
            except SourceUnavailable as exc:
                self._down = (time.monotonic(), exc)
                raise
            self._down = None
            self._checked = time.monotonic()
            assert self._head is not None
            return self._head

    async def _advance(self, new: Head) -> None:
        old = self._head
        # Rolled back (reorg, restarted chain), or too far ahead to be worth reading: start over.
        if old is not None and (
            not 0 <= new.block - old.block <= MAX_GAP
            or (new.block == old.block and new.hash != old.hash)
        ):
            self._entries.clear()
            self._recent.clear()
        elif old is not None and new.block > old.block:
            touched = await anyio.to_thread.run_sync(self.source.touched, old.block, new.block)
            self._recent.append((old.block, new.block, touched))
            for key, entry in list(self._entries.items()):
                if self._stale(entry.verified, touched, new):
                    del self._entries[key]
        self._head = new

    @staticmethod
    def _stale(verified: Verified, touched: frozenset[str], head: Head) -> bool:
        expires = verified.expires_at
        return bool(verified.family & touched) or (
            expires is not None and head.timestamp >= expires
        )

    async def get(self, batch_id: str) -> tuple[Entry, Head]:
        """The entry of `batch_id` and the head it is valid at (computed if needed)."""
        head = await self.head()
        key = batch_id.lower()
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry, head
        task = self._inflight.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.ensure_future(self._compute(key))
            task.add_done_callback(_retrieve)
            self._inflight[key] = task
        entry = await asyncio.shield(task)
        return entry, max(head, self._head or head, key=lambda h: h.block)

    async def _compute(self, key: str) -> Entry:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.workers)
        try:
            verified = await anyio.to_thread.run_sync(
                self.source.verify, key, limiter=self._limiter
            )
        finally:
            self._inflight.pop(key, None)
        entry = Entry(verified)
        if self._storable(verified):
            self._entries[key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    async def epcis_events(self) -> EventsAt:
        """The chain's EPCIS events at the current head (`SourceUnavailable` if down)."""
        events: EventsAt | None = None
        for _ in range(2):  # the head may move while the events are brought up to date
            head = await self.head()
            if self._events is not None and self._events[0] == head:
                return self._events[1]
            task = self._events_task
            if task is None:
                task = asyncio.ensure_future(self._events_at(head))
                task.add_done_callback(_retrieve)
                self._events_task = task
            events = await asyncio.shield(task)
            if self._events is not None and self._events[0] == head:
                return events
        assert events is not None
        return events

    async def _events_at(self, head: Head) -> EventsAt:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.workers)
        try:
            events = await anyio.to_thread.run_sync(
                self.source.epcis_events, head.block, limiter=self._limiter
            )
        finally:
            self._events_task = None
        self.events_computed += 1
        self._events = (head, events)
        return events

    def _storable(self, verified: Verified) -> bool:
        """Whether no event since the report's own head touches it (as far as we know)."""
        if self._head is None or verified.head.block >= self._head.block:
            return True
        covered = verified.head.block
        for after, upto, touched in sorted(self._recent):
            if upto <= verified.head.block:
                continue
            if after > covered:
                return False  # a gap we know nothing about
            if self._stale(verified, touched, self._head):
                return False
            covered = max(covered, upto)
        return covered >= self._head.block


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a computation's failure as seen (its requesters may have gone)."""
    if not task.cancelled():
        task.exception()


__all__ = ["Entry", "ReportCache"]
