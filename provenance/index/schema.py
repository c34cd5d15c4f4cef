"""The index's tables: one per contract event, named as the event, with a column per field.

Built from the contracts' ABIs, so a new event gets its table without code. Every event table
has the log's position and origin first, then the event's fields under their ABI names:

    block_number INTEGER, log_index INTEGER, tx_hash TEXT, contract TEXT, <fields...>
    PRIMARY KEY (block_number, log_index)       -- WITHOUT ROWID: stored in chain order

Field values are the ones `provenance.logs.EventDecoder` gives (so the index and the RPC path
hand `verify` identical events): addresses checksummed (TEXT), `bytesN` as 0x-hex (TEXT), `bool`
as 0/1, structs and arrays as JSON (TEXT). Integers that always fit SQLite's 64-bit INTEGER
(`uint8`…`uint56`, `int8`…`int64`) are INTEGER columns; wider ones (`uint64`, `uint256`) are
untyped columns holding an INTEGER when the value fits and its decimal TEXT otherwise (SQLite
would silently round a wider number stored in an INTEGER column).

Every indexed field (a log topic) has an index `idx_<Event>_<field>`: the lineage queries
(`batchId`, `childId`/`parentId` of `BatchSplit`/`BatchDerived`, `DeliveryTendered.batchId`,
participants' `account`) are index lookups. Decoding works on the raw JSON-RPC log (hex strings):
static fields are sliced out of the data directly; events with dynamic fields (`AgreementProposed`
and its terms) go through eth-abi.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from eth_utils.address import to_checksum_address

from provenance.logs import named

#: Columns every event table starts with, before the event's own fields.
COMMON_COLUMNS = ("block_number", "log_index", "tx_hash", "contract")
_INT64 = 2**63


def to_sql_int(value: int) -> int | str:
    """An integer as SQLite keeps it exactly: INTEGER when it fits in 64 bits, else TEXT."""
    return value if -_INT64 <= value < _INT64 else str(value)


def _from_sql_int(value: Any) -> int:
    return int(value)


@dataclass(frozen=True)
class Field:
    """One event field (an ABI input) and how it is decoded and stored."""

    name: str
    abi_type: str  # collapsed: "uint256", "(address,uint256,…)", "bytes32[]"
    indexed: bool
    abi: Mapping[str, Any]

    @property
    def is_static_word(self) -> bool:
        """Held in one 32-byte word that can be sliced out (no offset, no tuple)."""
        kind = self.abi_type
        return (
            kind in ("address", "bool")
            or (kind.startswith(("uint", "int")) and kind.rstrip("0123456789") in ("uint", "int"))
            or (kind.startswith("bytes") and kind != "bytes" and kind[5:].isdigit())
        )

    @property
    def is_json(self) -> bool:
        return self.abi_type.startswith("(") or self.abi_type.endswith("]")

    @property
    def sql_type(self) -> str:
        kind = self.abi_type
        if kind == "bool":
            return "INTEGER"
        if kind.startswith("uint") and kind[4:].isdigit():
            return "INTEGER" if int(kind[4:]) <= 56 else ""
        if kind.startswith("int") and kind[3:].isdigit():
            return "INTEGER" if int(kind[3:]) <= 64 else ""
        return "TEXT"

    def from_word(self, word: str) -> Any:
        """The value of a 64-hex-digit word (a topic, or a static field of the data)."""
        kind = self.abi_type
        if kind == "address":
            return _checksum("0x" + word[24:])
        if kind == "bool":
            return int(word, 16) != 0
        if kind.startswith("uint"):
            return int(word, 16)
        if kind.startswith("int"):
            value = int(word, 16)
            return value - 2**256 if value >= 2**255 else value
        if kind.startswith("bytes"):
            return "0x" + word[: 2 * int(kind[5:])].lower()
        raise ValueError(f"{kind} is not a one-word type")  # pragma: no cover - guarded

    def from_topic(self, topic: str) -> Any:
        """An indexed value from its topic (dynamic types are indexed by their hash)."""
        word = _word(topic)
        return self.from_word(word) if self.is_static_word else "0x" + word

    def to_sql(self, value: Any) -> Any:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return to_sql_int(value)
        if self.is_json:
            return json.dumps(value, separators=(",", ":"))
        return value

    def from_sql(self, value: Any) -> Any:
        kind = self.abi_type
        if value is None:
            return None
        if kind == "bool":
            return bool(value)
        if self.is_json:
            return json.loads(value)
        if self.is_static_word and kind.startswith(("uint", "int")):
            return _from_sql_int(value)
        return value


@dataclass(frozen=True, eq=False)  # one instance per table: hashed by identity
class EventTable:
    """The table of one event (an event of the same signature in both contracts shares it)."""

    name: str
    topic: str  # topic 0, lower-case 0x-hex
    signature: str
    fields: tuple[Field, ...]  # ABI order: the table's columns after COMMON_COLUMNS
    sources: frozenset[int] = frozenset()  # positions of the ABIs that declare the event

    @property
    def indexed(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.indexed)

    @property
    def unindexed(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.indexed)

    @property
    def columns(self) -> tuple[str, ...]:
        return COMMON_COLUMNS + tuple(f.name for f in self.fields)

    def create_statements(self) -> list[str]:
        columns = [
            "block_number INTEGER NOT NULL",
            "log_index INTEGER NOT NULL",
            "tx_hash TEXT NOT NULL",
            "contract TEXT NOT NULL",
            *(f"{quote(f.name)} {f.sql_type}".rstrip() for f in self.fields),
            "PRIMARY KEY (block_number, log_index)",
        ]
        statements = [
            f"CREATE TABLE IF NOT EXISTS {quote(self.name)} (\n  "
            + ",\n  ".join(columns)
            + "\n) WITHOUT ROWID"
        ]
        for f in self.indexed:
            index = quote(f"idx_{self.name}_{f.name}")
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {index} ON {quote(self.name)} ({quote(f.name)})"
            )
        return statements

    @property
    def insert_sql(self) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT INTO {quote(self.name)} VALUES ({marks})"


class _Decoder:
    """Raw log → table row, prepared once per table."""

    def __init__(self, table: EventTable) -> None:
        self.table = table
        self.indexed = table.indexed
        unindexed = table.unindexed
        self.static = all(f.is_static_word for f in unindexed)
        self.unindexed = unindexed
        self.unindexed_types = [f.abi_type for f in unindexed]
        # Where each field lands in the row (the table keeps ABI order).
        order = {f.name: i for i, f in enumerate(table.fields)}
        self.indexed_at = [order[f.name] for f in self.indexed]
        self.unindexed_at = [order[f.name] for f in unindexed]
        self.width = len(table.fields)

        # Hot path: one converter per field from a 64-hex-digit word straight to its SQL value.
        self.topic_converters = [
            (at, _sql_from_word(f) if f.is_static_word else _hash_topic)
            for f, at in zip(self.indexed, self.indexed_at, strict=True)
        ]
        self.data_converters = (
            [
                (at, 64 * i, _sql_from_word(f))
                for i, (f, at) in enumerate(zip(unindexed, self.unindexed_at, strict=True))
            ]
            if self.static
            else []
        )

    def row(self, log: Mapping[str, Any]) -> tuple[Any, ...]:
        topics = log["topics"]
        if len(topics) != len(self.topic_converters) + 1:
            raise ValueError(f"a {self.table.name} log with {len(topics)} topics")
        values: list[Any] = [None] * self.width
        for (at, convert), topic in zip(self.topic_converters, topics[1:], strict=True):
            values[at] = convert(_word(topic))
        data = str(log.get("data") or "0x")[2:]
        if self.static:
            for at, start, convert in self.data_converters:
                values[at] = convert(data[start : start + 64])
        elif self.unindexed:
            decoded = abi_decode(self.unindexed_types, bytes.fromhex(data))
            for f, at, value in zip(self.unindexed, self.unindexed_at, decoded, strict=True):
                values[at] = f.to_sql(named(value, f.abi))
        return (
            int(log["blockNumber"], 16),
            int(log["logIndex"], 16),
            str(log["transactionHash"]).lower(),
            _checksum(str(log["address"])),
            *values,
        )


class Schema:
    """Every event table of the given contract ABIs, by name and by topic 0."""

    def __init__(self, *abis: Sequence[Mapping[str, Any]]) -> None:
        """`abis` in a fixed order (the index's: registry, agreements): `EventTable.sources`
        names the positions of the ABIs that declare each event."""
        self.tables: dict[str, EventTable] = {}
        self.by_topic: dict[str, EventTable] = {}
        found: dict[str, tuple[EventTable, set[int]]] = {}
        for position, abi in enumerate(abis):
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous", False):
                    continue
                table = _table(item)
                known = found.get(table.name)
                if known is None:
                    found[table.name] = (table, {position})
                elif known[0].signature != table.signature:
                    raise ValueError(
                        f"two events named {table.name} with different fields "
                        f"({known[0].signature}, {table.signature}): one table cannot hold both"
                    )
                else:
                    known[1].add(position)
        for name, (table, sources) in found.items():
            table = replace(table, sources=frozenset(sources))
            self.tables[name] = table
            self.by_topic[table.topic] = table
        self._decoders = {t.topic: _Decoder(t) for t in self.tables.values()}

    def decode(self, log: Mapping[str, Any]) -> tuple[EventTable, tuple[Any, ...]] | None:
        """The table and row of a raw JSON-RPC log; None for a log of no known event."""
        topics = log.get("topics") or ()
        if not topics:
            return None
        decoder = self._decoders.get(str(topics[0]).lower())
        if decoder is None:
            return None
        return decoder.table, decoder.row(log)

    def args(self, table: EventTable, row: Sequence[Any]) -> dict[str, Any]:
        """An event's fields from its row, as `EventDecoder` gives them (indexed ones first)."""
        values = dict(
            zip(
                (f.name for f in table.fields),
                (f.from_sql(v) for f, v in zip(table.fields, row[4:], strict=True)),
                strict=True,
            )
        )
        return {f.name: values[f.name] for f in (*table.indexed, *table.unindexed)}


def _table(item: Mapping[str, Any]) -> EventTable:
    fields = tuple(
        Field(
            name=str(i["name"]),
            abi_type=collapse_if_tuple(dict(i)),
            indexed=bool(i.get("indexed")),
            abi=i,
        )
        for i in item.get("inputs", ())
    )
    clash = {f.name for f in fields} & set(COMMON_COLUMNS)
    if clash:  # pragma: no cover - no event of these contracts has such a field
        raise ValueError(f"event {item['name']} has fields named like the index's own: {clash}")
    signature = f"{item['name']}({','.join(f.abi_type for f in fields)})"
    return EventTable(
        name=str(item["name"]),
        topic="0x" + event_abi_to_log_topic(dict(item)).hex(),  # type: ignore[arg-type]
        signature=signature,
        fields=fields,
    )


def _sql_from_word(field: Field) -> Callable[[str], Any]:
    """A one-word field's converter from its 64 hex digits to the value the table stores
    (`field.to_sql(field.from_word(word))`, without the per-call type dispatch)."""
    kind = field.abi_type
    if kind == "address":
        return lambda word: _checksum("0x" + word[24:])
    if kind == "bool":
        return lambda word: int(int(word, 16) != 0)
    if kind.startswith("uint"):
        if int(kind[4:]) <= 56:
            return lambda word: int(word, 16)
        return lambda word: to_sql_int(int(word, 16))
    if kind.startswith("int"):
        return lambda word: to_sql_int(field.from_word(word))
    digits = 2 * int(kind[5:])  # bytesN
    return lambda word: "0x" + word[:digits]


def _hash_topic(word: str) -> str:
    """An indexed dynamic value: the topic is its hash."""
    return "0x" + word


@functools.lru_cache(maxsize=65_536)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


def _word(topic: Any) -> str:
    if isinstance(topic, str) and len(topic) == 66:  # as nodes send it
        return topic[2:].lower()
    text = topic.hex() if isinstance(topic, bytes | bytearray) else str(topic)
    text = text.lower().removeprefix("0x")
    return text.rjust(64, "0")


def quote(name: str) -> str:
    """A quoted SQL identifier (field names such as `from` and `to` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


__all__ = ["COMMON_COLUMNS", "EventTable", "Field", "Schema", "quote", "to_sql_int"]
