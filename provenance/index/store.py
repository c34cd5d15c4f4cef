"""The index's SQLite file: the contracts' events of one chain, kept in step with it by `sync`.

One file per chain identity (chain id **and** genesis block hash) and deployment (registry and
agreements addresses), under `<provenance home>/index/`:

    <chainId>-<genesis hash, 10 hex>-<registry, 8 hex>-<agreements, 8 hex>.sqlite

so a node restarted fresh with the same chain id, with contracts redeployed at the same
addresses, gets a file of its own: its events never mix with the old chain's. The file is in WAL
mode (readers never wait for the syncing writer) and holds:

- one table per event, named as the event (`BatchCreated`, `HandoffAccepted`, …; see
  `provenance.index.schema`), and a view `events` listing every event with its table name;
- `blocks`: number, hash, parent hash and timestamp of every block holding an indexed event, and
  `confirmed` (0 while the block is within `--confirmations` of the chain head at the last sync);
- `index_meta`: the key (chain id, genesis hash, addresses, deploy block), the tip (the last block
  synced and its hash), the chain head seen and the confirmation depth of the last sync;
- `index_reorgs`: every reorganisation the sync rolled back.

Each page of a sync is written in one transaction together with the new tip, so a process
killed at any point leaves the file at the end of a page: the next sync resumes there, with
neither gap nor duplicate. `IndexStore.events` is the event source `verify` reads (the same
question as `eth_getLogs`: an address and topics, the same decoded events, plus each block's
timestamp and whether it is confirmed).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_utils.address import to_checksum_address

from provenance.chain import ChainIdentity
from provenance.config import data_dir
from provenance.exceptions import ConfigError
from provenance.index.schema import EventTable, Schema, quote
from provenance.logs import Event
from provenance.rpc import BlockHeader

SCHEMA_VERSION = 1
INDEX_DIR = "index"
SUFFIX = ".sqlite"

Topic = str | Sequence[str] | None


# ---------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class IndexKey:
    """What one index file holds: the events of this deployment on this chain."""

    identity: ChainIdentity
    registry: str
    agreements: str
    deploy_block: int

    @property
    def filename(self) -> str:
        ident = self.identity
        return (
            f"{ident.chain_id}-{ident.genesis_hash[2:12]}-"
            f"{self.registry[2:10].lower()}-{self.agreements[2:10].lower()}{SUFFIX}"
        )

    def to_meta(self) -> dict[str, str]:
        return {
            "chain_id": str(self.identity.chain_id),
            "genesis_hash": self.identity.genesis_hash,
            "registry": self.registry,
            "agreements": self.agreements,
            "deploy_block": str(self.deploy_block),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, str]) -> IndexKey:
        return cls(
            identity=ChainIdentity(int(meta["chain_id"]), meta["genesis_hash"]),
            registry=meta["registry"],
            agreements=meta["agreements"],
            deploy_block=int(meta["deploy_block"]),
        )


def index_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / INDEX_DIR


def index_path(key: IndexKey, root: Path | None = None) -> Path:
    return index_dir(root) / key.filename


@dataclass(frozen=True)
class Tip:
    """The last block synced, and its hash."""

    number: int
    hash: str


@dataclass(frozen=True)
class IndexedEvent(Event):
    """An event read from the index: a `logs.Event` plus its block's time and confirmation."""

    timestamp: int = 0
    confirmed: bool = True


class EventSource(Protocol):
    """What `verify` asks of its events, from the index or from RPC: `eth_getLogs`' question."""

    def events(
        self,
        address: str | Sequence[str],
        topics: Sequence[Topic] = (),
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[IndexedEvent]: ...


# ---------------------------------------------------------------------------- the store


class IndexStore:
    """One index file. Writes come from `provenance.index.sync` (one writer, under a lock);
    any number of readers may open the same file at the same time."""

    def __init__(
        self,
        path: Path,
        key: IndexKey | None = None,
        *,
        schema: Schema | None = None,
        create: bool = True,
        readonly: bool = False,
    ) -> None:
        """Open `path`; with `key` and `create`, make it if missing. An existing file must hold
        `key` (when given) and this version's schema, else `ConfigError`. `readonly`: open it
        for reading only (SQLite refuses any write through this connection; what `verify`
        does)."""
        if not path.exists() and not (create and key is not None and not readonly):
            raise ConfigError(f"no index at {path}: run `provenance index sync` first")
        self.path = path
        self.readonly = readonly
        self.schema = schema or default_schema()
        if readonly:
            self._db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=30.0
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        try:
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self.key = self._prepare(key)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema and meta

    def _prepare(self, key: IndexKey | None) -> IndexKey:
        has_meta = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'index_meta'"
        ).fetchone()
        if not has_meta:
            if key is None or self.readonly:
                raise ConfigError(f"{self.path} is not a provenance index")
            self._create(key)
            return key
        meta = self.meta()
        version = int(meta.get("schema_version", "0"))
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"the index {self.path} has schema version {version}, this toolkit writes "
                f"version {SCHEMA_VERSION}: delete the file and run `provenance index sync`"
            )
        stored = IndexKey.from_meta(meta)
        if key is not None and stored != key:
            raise ConfigError(
                f"the index {self.path} belongs to another chain or deployment "
                f"({_describe(stored)}, not {_describe(key)}): it is never mixed with another"
            )
        return stored

    def _create(self, key: IndexKey) -> None:
        with self._write():
            for table in self.schema.tables.values():
                for statement in table.create_statements():
                    self._db.execute(statement)
            self._db.execute(
                "CREATE TABLE blocks (\n  number INTEGER PRIMARY KEY,\n  hash TEXT NOT NULL,\n"
                "  parent_hash TEXT NOT NULL,\n  timestamp INTEGER NOT NULL,\n"
                "  confirmed INTEGER NOT NULL\n)"
            )
            self._db.execute(
                "CREATE INDEX idx_blocks_unconfirmed ON blocks (number) WHERE confirmed = 0"
            )
            self._db.execute("CREATE TABLE index_meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute(
                "CREATE TABLE index_reorgs (\n  id INTEGER PRIMARY KEY,\n  detected_at REAL,\n"
                "  old_tip INTEGER,\n  ancestor INTEGER,\n  events_removed INTEGER,\n"
                "  confirmed_removed INTEGER\n)"
            )
            union = "\nUNION ALL\n".join(
                f"SELECT '{t.name}' AS event, block_number, log_index, tx_hash, contract "
                f"FROM {quote(t.name)}"
                for t in sorted(self.schema.tables.values(), key=lambda t: t.name)
            )
            self._db.execute(f"CREATE VIEW events AS\n{union}")
            self._set_meta(
                {
                    "schema_version": str(SCHEMA_VERSION),
                    **key.to_meta(),
                    "created_at": str(time.time()),
                }
            )

    def meta(self) -> dict[str, str]:
        return {k: v for k, v in self._db.execute("SELECT key, value FROM index_meta")}

    def _set_meta(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            if value is None:
                self._db.execute("DELETE FROM index_meta WHERE key = ?", (name,))
            else:
                self._db.execute(
                    "INSERT INTO index_meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (name, value),
                )

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction: all of it lands, or none of it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ------------------------------------------------------------------ state

    def tip(self) -> Tip | None:
        meta = self.meta()
        if "tip_number" not in meta:
            return None
        return Tip(int(meta["tip_number"]), meta["tip_hash"])

    def tip_timestamp(self) -> int | None:
        """The time of the tip's block: recorded by the sync, else that of the newest stored
        block at or below the tip (None: unknown)."""
        meta = self.meta()
        if "tip_number" not in meta:
            return None
        if "tip_timestamp" in meta:
            return int(meta["tip_timestamp"])
        row = self._db.execute(
            "SELECT timestamp FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT 1",
            (int(meta["tip_number"]),),
        ).fetchone()
        return int(row[0]) if row else None

    @property
    def confirmations(self) -> int | None:
        value = self.meta().get("confirmations")
        return int(value) if value is not None else None

    @property
    def chain_head(self) -> int | None:
        value = self.meta().get("chain_head")
        return int(value) if value is not None else None

    # ------------------------------------------------------------------ writing (sync)

    def append(
        self,
        rows: Mapping[EventTable, Sequence[Sequence[Any]]],
        blocks: Sequence[BlockHeader],
        tip: Tip,
        *,
        chain_head: int,
        confirmations: int,
        tip_timestamp: int | None = None,
    ) -> None:
        """Store one page: its events, the headers of their blocks and the new tip (and its
        block's time), atomically."""
        limit = chain_head - confirmations
        with self._write():
            for table, table_rows in rows.items():
                if table_rows:
                    self._db.executemany(table.insert_sql, table_rows)
            self._db.executemany(
                "INSERT INTO blocks (number, hash, parent_hash, timestamp, confirmed) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (b.number, b.hash, b.parent_hash, b.timestamp, int(b.number <= limit))
                    for b in blocks
                ],
            )
            self._settle(tip, chain_head, confirmations)
            self._set_meta(
                {"tip_timestamp": str(tip_timestamp) if tip_timestamp is not None else None}
            )

    def update_head(self, chain_head: int, confirmations: int) -> None:
        """Record the chain head and confirmation depth of a sync that stored nothing new."""
        with self._write():
            tip = self.tip()
            self._settle(tip, chain_head, confirmations)

    def _settle(self, tip: Tip | None, chain_head: int, confirmations: int) -> None:
        limit = chain_head - confirmations
        self._db.execute(
            "UPDATE blocks SET confirmed = 1 WHERE confirmed = 0 AND number <= ?", (limit,)
        )
        self._db.execute(
            "UPDATE blocks SET confirmed = 0 WHERE number > ? AND confirmed = 1", (limit,)
        )
        self._set_meta(
            {
                "tip_number": str(tip.number) if tip else None,
                "tip_hash": tip.hash if tip else None,
                "chain_head": str(chain_head),
                "confirmations": str(confirmations),
                "synced_at": str(time.time()),
            }
        )

    def stored_blocks(self, at_most: int, limit: int) -> list[tuple[int, str]]:
        """(number, hash) of stored blocks at or below `at_most`, newest first."""
        return [
            (int(n), str(h))
            for n, h in self._db.execute(
                "SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT ?",
                (at_most, limit),
            )
        ]

    def rollback(self, ancestor: Tip | None, old_tip: Tip) -> tuple[int, int]:
        """Forget everything after `ancestor` (None: everything), atomically; the tip becomes
        `ancestor`. Returns (events removed, of which in blocks marked confirmed)."""
        after = ancestor.number if ancestor is not None else -1
        removed = confirmed = 0
        with self._write():
            for table in self.schema.tables.values():
                count, settled = self._db.execute(
                    f"SELECT count(*), coalesce(sum(b.confirmed), 0) FROM {quote(table.name)} AS e "
                    "JOIN blocks AS b ON b.number = e.block_number WHERE e.block_number > ?",
                    (after,),
                ).fetchone()
                if count:
                    removed += int(count)
                    confirmed += int(settled)
                    self._db.execute(
                        f"DELETE FROM {quote(table.name)} WHERE block_number > ?", (after,)
                    )
            self._db.execute("DELETE FROM blocks WHERE number > ?", (after,))
            self._set_meta(
                {
                    "tip_number": str(ancestor.number) if ancestor else None,
                    "tip_hash": ancestor.hash if ancestor else None,
                    "tip_timestamp": None,
                }
            )
            self._db.execute(
                "INSERT INTO index_reorgs (detected_at, old_tip, ancestor, events_removed, "
                "confirmed_removed) VALUES (?, ?, ?, ?, ?)",
                (time.time(), old_tip.number, ancestor.number if ancestor else None, removed,
                 confirmed),
            )  # fmt: skip
        return removed, confirmed

    # ------------------------------------------------------------------ reading

    def events(
        self,
        address: str | Sequence[str],
        topics: Sequence[Topic] = (),
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[IndexedEvent]:
        """The events `eth_getLogs` would give for `address` and `topics` (topic 0 = event
        signatures, then the indexed fields; None = any, a list = any of), decoded, in chain
        order; each with its block's timestamp and confirmation."""
        return list(self.iter_events(address, topics, from_block, to_block))

    def iter_events(
        self,
        address: str | Sequence[str],
        topics: Sequence[Topic] = (),
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> Iterator[IndexedEvent]:
        """`events`, streamed."""
        addresses = [address] if isinstance(address, str) else list(address)
        contracts = sorted({to_checksum_address(a) for a in addresses})
        streams = []
        for table in self._tables(contracts, topics):
            query = self._query(table, contracts, topics[1:], from_block, to_block)
            if query is not None:
                streams.append(self._stream(table, *query))
        yield from heapq.merge(*streams, key=lambda e: e.key)

    def _tables(self, contracts: Sequence[str], topics: Sequence[Topic]) -> list[EventTable]:
        """The tables that can hold a log of `contracts` matching `topics[0]`."""
        slots = {
            self.key.registry.lower(): 0,  # the schema's ABIs: registry, then agreements
            self.key.agreements.lower(): 1,
        }
        wanted = {slots[c.lower()] for c in contracts if c.lower() in slots}
        first = _alternatives(topics[0]) if topics else None
        tables = (
            list(self.schema.tables.values())
            if first is None
            else [self.schema.by_topic[t] for t in first if t in self.schema.by_topic]
        )
        return [t for t in tables if t.sources & wanted]

    def _query(
        self,
        table: EventTable,
        contracts: Sequence[str],
        topics: Sequence[Topic],
        from_block: int | None,
        to_block: int | None,
    ) -> tuple[str, list[Any]] | None:
        where = [f"e.contract IN ({', '.join('?' for _ in contracts)})"]
        params: list[Any] = list(contracts)
        indexed = table.indexed
        for position, topic in enumerate(topics):
            values = _alternatives(topic)
            if values is None:
                continue
            if position >= len(indexed) or not values:
                return None  # the log has no such topic: nothing can match
            f = indexed[position]
            where.append(f"e.{quote(f.name)} IN ({', '.join('?' for _ in values)})")
            params.extend(f.to_sql(f.from_topic(v)) for v in values)
        if from_block is not None:
            where.append("e.block_number >= ?")
            params.append(from_block)
        if to_block is not None:
            where.append("e.block_number <= ?")
            params.append(to_block)
        sql = (
            f"SELECT e.*, b.timestamp, b.confirmed FROM {quote(table.name)} AS e "
            "JOIN blocks AS b ON b.number = e.block_number "
            f"WHERE {' AND '.join(where)} ORDER BY e.block_number, e.log_index"
        )
        return sql, params

    def _stream(self, table: EventTable, sql: str, params: list[Any]) -> Iterator[IndexedEvent]:
        for row in self._db.execute(sql, params):
            yield IndexedEvent(
                name=table.name,
                args=self.schema.args(table, row[:-2]),
                block_number=int(row[0]),
                log_index=int(row[1]),
                tx_hash=str(row[2]),
                address=str(row[3]),
                timestamp=int(row[-2]),
                confirmed=bool(row[-1]),
            )

    def explain(self, address: str, topics: Sequence[Topic]) -> list[str]:
        """SQLite's plan for each table query `events(address, topics)` makes (for tests)."""
        plans = []
        contracts = [to_checksum_address(address)]
        for table in self._tables(contracts, topics):
            query = self._query(table, contracts, topics[1:], None, None)
            if query is not None:
                rows = self._db.execute("EXPLAIN QUERY PLAN " + query[0], query[1]).fetchall()
                plans.append(f"{table.name}: " + "; ".join(str(r[-1]) for r in rows))
        return plans

    def counts(self) -> dict[str, int]:
        """Events per table (tables without any left out)."""
        found = {}
        for name in sorted(self.schema.tables):
            (count,) = self._db.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()
            if count:
                found[name] = int(count)
        return found

    def unconfirmed_events(self) -> int:
        total = 0
        for name in self.schema.tables:
            (count,) = self._db.execute(
                f"SELECT count(*) FROM {quote(name)} WHERE block_number IN "
                "(SELECT number FROM blocks WHERE confirmed = 0)"
            ).fetchone()
            total += int(count)
        return total

    def reorgs(self) -> list[dict[str, Any]]:
        cursor = self._db.execute(
            "SELECT detected_at, old_tip, ancestor, events_removed, confirmed_removed "
            "FROM index_reorgs ORDER BY id"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def block(self, number: int) -> BlockHeader | None:
        row = self._db.execute(
            "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE number = ?", (number,)
        ).fetchone()
        return BlockHeader(int(row[0]), row[1], row[2], int(row[3])) if row else None

    def size_bytes(self) -> int:
        """The file and its write-ahead log."""
        return sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )

    # ------------------------------------------------------------------ comparing

    def dump(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Everything two syncs of the same chain must agree on, in a canonical order: the key,
        the tip, every event row and every block row (not the times, the statistics of how the
        index was made, or the reorganisations it went through)."""
        meta = self.meta()
        for name in ("schema_version", *self.key.to_meta(), "tip_number", "tip_hash"):
            yield "index_meta", (name, meta.get(name))
        for name in sorted(self.schema.tables):
            for row in self._db.execute(
                f"SELECT * FROM {quote(name)} ORDER BY block_number, log_index"
            ):
                yield name, tuple(row)
        for row in self._db.execute(
            "SELECT number, hash, parent_hash, timestamp, confirmed FROM blocks ORDER BY number"
        ):
            yield "blocks", tuple(row)

    def digest(self) -> str:
        """A hash of `dump()`: equal for two indexes of the same chain synced to the same tip."""
        digest = hashlib.sha256()
        for table, row in self.dump():
            digest.update(json.dumps([table, *row], default=str).encode())
            digest.update(b"\n")
        return digest.hexdigest()


def default_schema() -> Schema:
    """The tables for the registry's and the agreements contract's events."""
    global _DEFAULT
    if _DEFAULT is None:
        from provenance.compiler import load_artifact

        _DEFAULT = Schema(
            load_artifact("ProvenanceRegistry").abi, load_artifact("SupplyAgreements").abi
        )
    return _DEFAULT


_DEFAULT: Schema | None = None


def find_indexes(root: Path | None = None) -> list[Path]:
    """Every index file under the provenance home."""
    folder = index_dir(root)
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []


def find_index(key: IndexKey, root: Path | None = None) -> Path | None:
    """The index file holding exactly `key` (chain identity and deployment), if one was synced:
    an index of another chain identity, or of other contracts, is never returned."""
    candidates = [index_path(key, root), *find_indexes(root)]
    for path in dict.fromkeys(candidates):
        if path.exists() and read_key(path) == key:
            return path
    return None


def read_key(path: Path) -> IndexKey | None:
    """The key of an index file, read without opening it for writing (None if unreadable)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        meta = {k: v for k, v in db.execute("SELECT key, value FROM index_meta")}
        return IndexKey.from_meta(meta)
    except (sqlite3.Error, KeyError, ValueError):
        return None
    finally:
        db.close()


def _alternatives(topic: Topic) -> list[str] | None:
    """A topic filter as a list of lower-case values (None: any)."""
    if topic is None:
        return None
    values: Iterable[Any] = [topic] if isinstance(topic, str | bytes) else topic
    return [_hex(v) for v in values]


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text


def _describe(key: IndexKey) -> str:
    return (
        f"chain id {key.identity.chain_id}, genesis {key.identity.genesis_hash[:12]}…, "
        f"registry {key.registry}"
    )


__all__ = [
    "SCHEMA_VERSION",
    "ChainIdentity",
    "EventSource",
    "IndexKey",
    "IndexStore",
    "IndexedEvent",
    "Tip",
    "default_schema",
    "find_index",
    "find_indexes",
    "index_dir",
    "index_path",
    "read_key",
]
