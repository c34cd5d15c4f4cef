"""Keeping an index in step with its chain: paged, resumable, reorganisation-safe.

A sync round:

1. reads the chain head;
2. checks that the index's tip (the last block synced) is still on the chain: the node's block
   at that height must have the stored hash. If not, the chain was reorganised: the sync looks
   for the newest stored block whose hash the node still has (the common ancestor), deletes
   everything after it in one transaction, and replays from there;
3. fetches the logs after the tip page by page (`provenance.rpc.LogPager`: paged, throttled,
   retried). For each page it reads the headers of the page's first and last blocks and of every
   block holding a log, in one batch: the first block's parent hash must be the tip's hash and
   every log's block hash the header's, else the chain moved while it was read and the round
   starts over from step 1 (the parent hash mismatch is how a reorganisation is detected);
4. stores the page's events, their blocks' headers and the new tip in one transaction.

Events in the last `confirmations` blocks below the head are marked unconfirmed (the `blocks`
table's `confirmed` column, `IndexedEvent.confirmed`). Default: 0 on a local development chain,
`DEFAULT_CONFIRMATIONS` (12) elsewhere. Confirmation is a label, not a promise: a reorganisation
deeper than it is still rolled back, and the round reports how many confirmed events it removed.

One process syncs an index at a time (a lock file beside it); any number may read it.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from filelock import FileLock
from filelock import Timeout as LockTimeout

from provenance.chain import LOCAL_HOSTS
from provenance.exceptions import ChainError, ConfigError
from provenance.index.schema import EventTable, Schema
from provenance.index.store import (
    ChainIdentity,
    IndexKey,
    IndexStore,
    Tip,
    find_indexes,
    index_path,
    read_key,
)
from provenance.rpc import (
    LOCAL_MAX_RANGE,
    REMOTE_MAX_RANGE,
    TARGET_RESULTS,
    BlockHeader,
    JsonRpc,
    LogPager,
    RetryPolicy,
)

#: Confirmations on chains other than a local development node.
DEFAULT_CONFIRMATIONS = 12
#: Seconds between rounds of `follow`.
LOCAL_INTERVAL = 1.0
REMOTE_INTERVAL = 6.0
#: Times a round starts over because the chain moved under it before it gives up.
MAX_RESTARTS = 20

Stop = Callable[[], bool]


@dataclass(frozen=True)
class SyncOptions:
    #: Blocks below the head whose events are unconfirmed (None: 0 locally, else 12).
    confirmations: int | None = None
    #: Most blocks per eth_getLogs (None: 100,000 locally, else 2,000; lowered on refusal).
    max_range: int | None = None
    #: Logs per page aimed at.
    target_results: int = TARGET_RESULTS
    #: Block headers per JSON-RPC batch.
    header_batch: int = 100
    policy: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Reorg:
    """A reorganisation rolled back: the index's tip was `old_tip`; blocks after `ancestor`
    (None: every block) were forgotten with their events."""

    old_tip: int
    ancestor: int | None
    events_removed: int
    confirmed_removed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "old_tip": self.old_tip,
            "ancestor": self.ancestor,
            "blocks_rolled_back": self.old_tip - (-1 if self.ancestor is None else self.ancestor),
            "events_removed": self.events_removed,
            "confirmed_removed": self.confirmed_removed,
        }


@dataclass(frozen=True)
class SyncResult:
    """What one round did."""

    path: str
    chain_id: int
    genesis_hash: str
    chain_head: int
    tip: int | None  # the index's tip afterwards
    first_block: int | None  # the first block this round read (None: nothing new)
    events_added: int
    pages: int
    confirmations: int
    reorgs: tuple[Reorg, ...]
    seconds: float
    complete: bool  # False when stopped before the head
    rpc: dict[str, Any]

    @property
    def events_per_second(self) -> float:
        return self.events_added / self.seconds if self.seconds > 0 else 0.0

    @property
    def warnings(self) -> tuple[str, ...]:
        found = []
        for reorg in self.reorgs:
            if reorg.confirmed_removed:
                found.append(
                    f"a reorganisation deeper than {self.confirmations} confirmation(s) removed "
                    f"{reorg.confirmed_removed} event(s) that were marked confirmed (after block "
                    f"{reorg.ancestor}): raise --confirmations for this chain"
                )
        return tuple(found)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "chain_head": self.chain_head,
            "tip": self.tip,
            "first_block": self.first_block,
            "events_added": self.events_added,
            "pages": self.pages,
            "confirmations": self.confirmations,
            "reorgs": [r.to_json() for r in self.reorgs],
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "complete": self.complete,
            "warnings": list(self.warnings),
            "rpc": self.rpc,
        }


def is_local_url(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOCAL_HOSTS


def chain_identity(rpc: JsonRpc) -> ChainIdentity:
    """The chain id and genesis block hash of the endpoint."""
    chain_id = rpc.chain_id()
    genesis = rpc.header(0)
    if genesis is None:
        raise ChainError(f"{rpc.url} has no block 0: is it an EVM JSON-RPC endpoint?")
    return ChainIdentity(chain_id, genesis.hash)


class Syncer:
    """Syncs one store from one endpoint (see the module doc)."""

    def __init__(
        self,
        store: IndexStore,
        rpc: JsonRpc,
        *,
        options: SyncOptions | None = None,
        local: bool | None = None,
    ) -> None:
        self.store = store
        self.rpc = rpc
        self.options = options or SyncOptions()
        self.local = is_local_url(rpc.url) if local is None else local
        self.schema: Schema = store.schema
        if self.options.confirmations is not None and self.options.confirmations < 0:
            raise ConfigError("--confirmations must be 0 or more")
        self.confirmations = (
            self.options.confirmations
            if self.options.confirmations is not None
            else (0 if self.local else DEFAULT_CONFIRMATIONS)
        )
        max_range = self.options.max_range or (LOCAL_MAX_RANGE if self.local else REMOTE_MAX_RANGE)
        key = store.key
        self.pager = LogPager(
            rpc,
            [key.registry, key.agreements],
            max_range=max_range,
            target_results=self.options.target_results,
        )

    def check_identity(self) -> ChainIdentity:
        identity = chain_identity(self.rpc)
        if identity != self.store.key.identity:
            raise ConfigError(
                f"the endpoint {self.rpc.url} serves another chain (chain id "
                f"{identity.chain_id}, genesis {identity.genesis_hash[:12]}…) than the index "
                f"{self.store.path} (chain id {self.store.key.identity.chain_id}, genesis "
                f"{self.store.key.identity.genesis_hash[:12]}…)"
            )
        return identity

    # ------------------------------------------------------------------ one round

    def sync(
        self,
        *,
        stop: Stop | None = None,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> SyncResult:
        """Bring the index up to the chain head (or until `stop()` is true after a page).
        `progress(tip, head, events added)` is called after each page."""
        started = time.perf_counter()
        calls_before = self.rpc.stats.to_json()
        reorgs: list[Reorg] = []
        added = pages = restarts = 0
        first_block: int | None = None
        complete = True
        while True:
            head = self.rpc.block_number()
            tip = self.store.tip()
            if tip is not None and not self._on_chain(tip, head):
                reorgs.append(self._roll_back(tip))
                continue
            start = tip.number + 1 if tip is not None else self.store.key.deploy_block
            if start > head:
                self.store.update_head(head, self.confirmations)
                break
            first_block = start if first_block is None else first_block
            moved = False
            for page in self.pager.pages(start, head):
                stored = self._store_page(page.first, page.last, page.logs, tip, head)
                if stored is None:
                    moved = True
                    break
                tip, count = stored
                added += count
                pages += 1
                if progress is not None:
                    progress(tip.number, head, added)
                if stop is not None and stop():
                    complete = tip.number >= head
                    break
            if moved:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise ChainError(
                        f"the chain at {self.rpc.url} kept changing while it was read "
                        f"({restarts} times): try again later"
                    )
                continue
            break
        return SyncResult(
            path=str(self.store.path),
            chain_id=self.store.key.identity.chain_id,
            genesis_hash=self.store.key.identity.genesis_hash,
            chain_head=head,
            tip=tip.number if tip is not None else None,
            first_block=first_block,
            events_added=added,
            pages=pages,
            confirmations=self.confirmations,
            reorgs=tuple(reorgs),
            seconds=time.perf_counter() - started,
            complete=complete,
            rpc=_difference(self.rpc.stats.to_json(), calls_before),
        )

    def _on_chain(self, tip: Tip, head: int) -> bool:
        if tip.number > head:
            return False
        header = self.rpc.header(tip.number)
        return header is not None and header.hash == tip.hash

    def _roll_back(self, old_tip: Tip) -> Reorg:
        ancestor = self._common_ancestor(old_tip)
        removed, confirmed = self.store.rollback(ancestor, old_tip)
        return Reorg(
            old_tip=old_tip.number,
            ancestor=ancestor.number if ancestor is not None else None,
            events_removed=removed,
            confirmed_removed=confirmed,
        )

    def _common_ancestor(self, old_tip: Tip) -> Tip | None:
        """The newest stored block the node still has (same number, same hash), or None."""
        at_most = old_tip.number
        batch = max(1, self.options.header_batch)
        while True:
            stored = self.store.stored_blocks(at_most, batch)
            if not stored:
                return None
            headers = self.rpc.headers([number for number, _ in stored], batch)
            for number, block_hash in stored:  # newest first
                header = headers.get(number)
                if header is not None and header.hash == block_hash:
                    return Tip(number, block_hash)
            at_most = stored[-1][0] - 1

    def _store_page(
        self, first: int, last: int, logs: list[dict[str, Any]], tip: Tip | None, head: int
    ) -> tuple[Tip, int] | None:
        """Check and store one page; None if the chain moved (nothing stored)."""
        log_blocks = {int(log["blockNumber"], 16) for log in logs}
        headers = self.rpc.headers([first, last, *log_blocks], self.options.header_batch)
        if first not in headers or last not in headers:
            return None  # the chain got shorter while it was read
        if tip is not None and headers[first].parent_hash != tip.hash:
            return None  # parent hash mismatch: reorganised below this page
        rows: dict[EventTable, list[tuple[Any, ...]]] = defaultdict(list)
        count = 0
        for log in logs:
            number = int(log["blockNumber"], 16)
            if log.get("removed") or str(log.get("blockHash", "")).lower() != headers[number].hash:
                return None  # the log's block is not the block the node now has
            decoded = self.schema.decode(log)
            if decoded is None:
                continue  # an event of neither contract's ABI (none is expected)
            table, row = decoded
            rows[table].append(row)
            count += 1
        blocks: list[BlockHeader] = [headers[n] for n in sorted(log_blocks)]
        new_tip = Tip(last, headers[last].hash)
        self.store.append(
            rows,
            blocks,
            new_tip,
            chain_head=head,
            confirmations=self.confirmations,
            tip_timestamp=headers[last].timestamp,
        )
        return new_tip, count

    # ------------------------------------------------------------------ follow

    def follow(
        self,
        *,
        interval: float | None = None,
        stop: Stop,
        on_round: Callable[[SyncResult], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Sync, wait `interval` seconds, sync again… until `stop()` is true."""
        wait = (
            interval
            if interval is not None
            else (LOCAL_INTERVAL if self.local else REMOTE_INTERVAL)
        )
        while not stop():
            result = self.sync(stop=stop)
            if on_round is not None:
                on_round(result)
            deadline = time.monotonic() + wait
            while not stop() and time.monotonic() < deadline:
                sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    calls = {
        method: count - before["calls"].get(method, 0)
        for method, count in after["calls"].items()
        if count - before["calls"].get(method, 0)
    }
    return {
        "http_requests": after["http_requests"] - before["http_requests"],
        "calls": calls,
        "throttled": after["throttled"] - before["throttled"],
        "failures": after["failures"] - before["failures"],
        "waited_seconds": round(after["waited_seconds"] - before["waited_seconds"], 3),
    }


# ---------------------------------------------------------------------------- entry points


@contextlib.contextmanager
def open_syncer(
    url: str,
    deployment: Any,
    *,
    root: Path | None = None,
    options: SyncOptions | None = None,
) -> Iterator[Syncer]:
    """A `Syncer` for the index of `deployment` (a `provenance.deploy.Deployment`) on the chain
    at `url`, holding the index's lock (`ConfigError` if another process syncs it)."""
    options = options or SyncOptions()
    rpc = JsonRpc(url, options.policy)
    try:
        identity = chain_identity(rpc)
        if identity.chain_id != int(deployment.chain_id):
            raise ConfigError(
                f"the deployment is recorded for chain id {deployment.chain_id}, but {url} "
                f"serves chain id {identity.chain_id}"
            )
        key = IndexKey(
            identity=identity,
            registry=str(deployment.registry),
            agreements=str(deployment.agreements),
            deploy_block=int(deployment.deploy_block),
        )
        path = index_path(key, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock")
        try:
            lock.acquire(timeout=0)
        except LockTimeout:
            raise ConfigError(
                f"the index {path} is being synced by another process (`provenance index sync "
                "--follow`?): let it run, or stop it first"
            ) from None
        try:
            with IndexStore(path, key) as store:
                yield Syncer(store, rpc, options=options)
        finally:
            lock.release()
    finally:
        rpc.close()


def sync(
    url: str,
    deployment: Any,
    *,
    root: Path | None = None,
    options: SyncOptions | None = None,
    stop: Stop | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> SyncResult:
    """One sync round of the index of `deployment` on the chain at `url` (see the module doc)."""
    with open_syncer(url, deployment, root=root, options=options) as syncer:
        return syncer.sync(stop=stop, progress=progress)


# ---------------------------------------------------------------------------- status


@dataclass(frozen=True)
class IndexStatus:
    """Where an index stands, and how far behind the chain it is."""

    path: str
    exists: bool
    chain_id: int
    genesis_hash: str | None
    registry: str
    agreements: str
    deploy_block: int
    reachable: bool  # the chain answered now
    chain_head: int | None  # now (None: unreachable)
    tip: int | None  # the last block synced
    tip_hash: str | None
    lag: int | None  # blocks between the tip and the chain head (None: unknown)
    synced_head: int | None  # the chain head the last sync saw
    confirmations: int | None
    confirmed_through: int | None  # events up to this block are confirmed
    events: int
    events_by_table: dict[str, int]
    unconfirmed_events: int
    reorgs: int
    size_bytes: int
    synced_at: float | None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def status(
    url: str,
    deployment: Any,
    *,
    root: Path | None = None,
    policy: RetryPolicy | None = None,
) -> IndexStatus:
    """The status of the index of `deployment`: of the chain at `url` when it answers, else of
    the most recently synced index for the same chain id and addresses."""
    identity: ChainIdentity | None = None
    head: int | None = None
    rpc = JsonRpc(url, policy or RetryPolicy(attempts=2, timeout=5.0))
    try:
        identity = chain_identity(rpc)
        head = rpc.block_number()
    except ChainError:
        identity = None
    finally:
        rpc.close()
    key: IndexKey | None = None
    if identity is not None:
        key = IndexKey(
            identity,
            str(deployment.registry),
            str(deployment.agreements),
            int(deployment.deploy_block),
        )
        path = index_path(key, root)
    else:
        candidates = [
            p
            for p in find_indexes(root)
            if (k := read_key(p)) is not None
            and k.identity.chain_id == int(deployment.chain_id)
            and k.registry.lower() == str(deployment.registry).lower()
            and k.agreements.lower() == str(deployment.agreements).lower()
        ]
        path = max(candidates, key=lambda p: p.stat().st_mtime) if candidates else Path()
        key = read_key(path) if candidates else None
    base: dict[str, Any] = {
        "chain_id": int(deployment.chain_id),
        "registry": str(deployment.registry),
        "agreements": str(deployment.agreements),
        "deploy_block": int(deployment.deploy_block),
        "reachable": identity is not None,
        "chain_head": head,
    }
    if key is None or not path.exists():
        return IndexStatus(
            path=str(path) if key is not None else "",
            exists=False,
            genesis_hash=identity.genesis_hash if identity else None,
            tip=None,
            tip_hash=None,
            lag=None,
            synced_head=None,
            confirmations=None,
            confirmed_through=None,
            events=0,
            events_by_table={},
            unconfirmed_events=0,
            reorgs=0,
            size_bytes=0,
            synced_at=None,
            **base,
        )
    with IndexStore(path, key, create=False) as store:
        tip = store.tip()
        meta = store.meta()
        counts = store.counts()
        synced_head = store.chain_head
        confirmations = store.confirmations
        return IndexStatus(
            path=str(path),
            exists=True,
            genesis_hash=key.identity.genesis_hash,
            tip=tip.number if tip else None,
            tip_hash=tip.hash if tip else None,
            lag=(head - tip.number if tip else head - key.deploy_block + 1)
            if head is not None
            else None,
            synced_head=synced_head,
            confirmations=confirmations,
            confirmed_through=(
                synced_head - confirmations
                if synced_head is not None and confirmations is not None
                else None
            ),
            events=sum(counts.values()),
            events_by_table=counts,
            unconfirmed_events=store.unconfirmed_events(),
            reorgs=len(store.reorgs()),
            size_bytes=store.size_bytes(),
            synced_at=float(meta["synced_at"]) if "synced_at" in meta else None,
            **base,
        )


__all__ = [
    "DEFAULT_CONFIRMATIONS",
    "IndexStatus",
    "Reorg",
    "SyncOptions",
    "SyncResult",
    "Syncer",
    "chain_identity",
    "open_syncer",
    "status",
    "sync",
]
