"""`provenance.index.schema` and `.store` without a chain: raw logs decode to the values the RPC
path's `EventDecoder` gives, wide integers survive SQLite, topic filters mean what they mean in
eth_getLogs, and a file is only ever opened for its own chain, deployment and schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from hexbytes import HexBytes
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.exceptions import ConfigError
from provenance.index.schema import Schema
from provenance.index.store import ChainIdentity, IndexKey, IndexStore, Tip, default_schema
from provenance.logs import EventDecoder
from provenance.rpc import BlockHeader

REGISTRY = "0x" + "11" * 20
AGREEMENTS = "0x" + "22" * 20
KEY = IndexKey(ChainIdentity(31337, "0x" + "aa" * 32), REGISTRY, AGREEMENTS, 1)
SCHEMA = default_schema()
UINT64 = 2**64 - 1
UINT256 = 2**256 - 1


def _registry_abi() -> Any:
    from provenance.compiler import load_artifact

    return load_artifact("ProvenanceRegistry").abi


DECODER = EventDecoder(_registry_abi())


def raw_log(
    name: str, indexed: list[bytes], types: list[str], values: list[Any], block: int = 5, i: int = 0
) -> dict[str, Any]:
    """A log as a JSON-RPC node sends it (hex strings)."""
    return {
        "address": REGISTRY,
        "topics": [SCHEMA.tables[name].topic, *("0x" + t.rjust(32, b"\0").hex() for t in indexed)],
        "data": "0x" + encode(types, values).hex(),
        "blockNumber": hex(block),
        "blockHash": "0x" + "bb" * 32,
        "logIndex": hex(i),
        "transactionHash": "0x" + "cc" * 32,
        "removed": False,
    }


def web3_form(log: dict[str, Any]) -> dict[str, Any]:
    """The same log as web3 formats it (what `EventDecoder` is fed on the RPC path)."""
    return {
        **log,
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "blockNumber": int(log["blockNumber"], 16),
        "logIndex": int(log["logIndex"], 16),
        "transactionHash": HexBytes(log["transactionHash"]),
    }


def store_with(tmp_path: Path, *logs: dict[str, Any]) -> IndexStore:
    store = IndexStore(tmp_path / "index.sqlite", KEY)
    rows: dict[Any, list[Any]] = {}
    for log in logs:
        decoded = SCHEMA.decode(log)
        assert decoded is not None
        rows.setdefault(decoded[0], []).append(decoded[1])
    blocks = sorted({int(log["blockNumber"], 16) for log in logs})
    headers = [BlockHeader(n, "0x" + f"{n:064x}", "0x" + f"{n - 1:064x}", 1000 + n) for n in blocks]
    store.append(rows, headers, Tip(max(blocks), headers[-1].hash), chain_head=max(blocks),
                 confirmations=0)  # fmt: skip
    return store


def hx(value: bytes) -> str:
    return "0x" + value.hex()


BATCH_CREATED = ["uint256", "bytes32", "uint256", "bytes3", "bytes32", "uint64"]


@given(
    gtin=st.integers(0, UINT256),
    quantity=st.integers(0, UINT256),
    at=st.integers(0, UINT64),
    lot=st.binary(min_size=32, max_size=32),
    uom=st.binary(min_size=3, max_size=3),
    creator=st.binary(min_size=20, max_size=20),
)
@example(gtin=UINT256, quantity=2**63, at=UINT64, lot=b"\0" * 32, uom=b"KGM",
         creator=b"\xff" * 20)  # fmt: skip
@example(gtin=0, quantity=2**63 - 1, at=0, lot=b"\xff" * 32, uom=b"\0\0\0", creator=b"\0" * 20)
def test_a_raw_log_decodes_to_what_the_rpc_path_decodes(
    gtin: int, quantity: int, at: int, lot: bytes, uom: bytes, creator: bytes
) -> None:
    log = raw_log("BatchCreated", [b"\x42" * 32, creator], BATCH_CREATED,
                  [gtin, lot, quantity, uom, b"\x07" * 32, at])  # fmt: skip
    table, row = SCHEMA.decode(log)  # type: ignore[misc]
    expected = DECODER.decode(web3_form(log))
    assert expected is not None
    assert SCHEMA.args(table, row) == dict(expected.args)
    assert list(SCHEMA.args(table, row)) == list(expected.args)  # same order: indexed first


def test_wide_integers_survive_sqlite(tmp_path: Path) -> None:
    issued = raw_log(
        "AttestationIssued",
        [b"\x01" * 32, b"\x02" * 32, b"\x03" * 20],
        ["bytes32", "bytes32", "uint64", "uint64", "uint64"],
        [b"\x04" * 32, b"\x05" * 32, 0, UINT64, 2**63],
    )
    created = raw_log("BatchCreated", [b"\x42" * 32, b"\x09" * 20], BATCH_CREATED,
                      [UINT256, b"\0" * 32, 2**200 + 1, b"KGM", b"\0" * 32, 5], i=1)  # fmt: skip
    with store_with(tmp_path, issued, created) as store:
        [attestation, batch] = store.events(REGISTRY)
        assert attestation.args["validUntil"] == UINT64 and attestation.args["at"] == 2**63
        assert batch.args["gtin"] == UINT256 and batch.args["quantity"] == 2**200 + 1
        assert batch.timestamp == 1005 and batch.confirmed
    db = sqlite3.connect(tmp_path / "index.sqlite")
    assert db.execute('SELECT typeof("validUntil"), typeof("validFrom") FROM AttestationIssued'
                      ).fetchone() == ("text", "integer")  # fmt: skip
    assert db.execute("SELECT quantity FROM BatchCreated").fetchone() == (str(2**200 + 1),)


def test_topic_filters_mean_what_they_mean_in_eth_getlogs(tmp_path: Path) -> None:
    a, b, c = (bytes([n]) * 32 for n in (1, 2, 3))
    logs = [
        raw_log("BatchSplit", [a, b], ["bytes32", "uint256"], [b"\0" * 32, 5], block=2),
        raw_log("BatchSplit", [c, b], ["bytes32", "uint256"], [b"\0" * 32, 5], block=3),
        raw_log("BatchDerived", [c, a], ["uint8"], [2], block=3, i=1),
        raw_log(
            "RecallLifted",
            [a, b"\x09" * 20],
            ["bytes32", "bytes32", "uint64"],
            [b"\0" * 32, b"\0" * 32, 1],
            block=4,
        ),
    ]
    split, derived = SCHEMA.tables["BatchSplit"].topic, SCHEMA.tables["BatchDerived"].topic
    with store_with(tmp_path, *logs) as store:

        def found(*topics: Any, **blocks: int) -> list[tuple[str, int]]:
            return [(e.name, e.block_number) for e in store.events(REGISTRY, list(topics),
                                                                    **blocks)]  # fmt: skip

        assert found() == [("BatchSplit", 2), ("BatchSplit", 3), ("BatchDerived", 3),
                           ("RecallLifted", 4)]  # fmt: skip
        assert found(None, hx(a)) == [("BatchSplit", 2), ("RecallLifted", 4)]
        assert found([split, derived], None, hx(b)) == [("BatchSplit", 2), ("BatchSplit", 3)]
        assert found([split, derived], None, [hx(a), hx(b)]) == [
            ("BatchSplit", 2), ("BatchSplit", 3), ("BatchDerived", 3)]  # fmt: skip
        assert found(None, None, None, hx(a)) == []  # no event here has a third topic
        assert found(split, [], None) == []
        assert found(None, from_block=3, to_block=3) == [("BatchSplit", 3), ("BatchDerived", 3)]
        assert found(hx(b"\x99" * 32)) == []  # an unknown event
        assert store.events(AGREEMENTS) == [] and store.events("0x" + "33" * 20) == []


def test_a_rollback_forgets_everything_after_the_ancestor(tmp_path: Path) -> None:
    logs = [raw_log("BatchDerived", [bytes([n]) * 32, b"\1" * 32], ["uint8"], [2], block=n)
            for n in (2, 3, 4, 5)]  # fmt: skip
    with store_with(tmp_path, *logs) as store:
        assert store.rollback(Tip(3, "0x" + f"{3:064x}"), Tip(5, "x")) == (2, 2)
        assert [e.block_number for e in store.events(REGISTRY)] == [2, 3]
        assert store.tip() == Tip(3, "0x" + f"{3:064x}")
        assert [n for n, _ in store.stored_blocks(10, 10)] == [3, 2]
        assert store.rollback(None, Tip(3, "x")) == (2, 2)
        assert store.tip() is None and store.counts() == {}
        assert [r["events_removed"] for r in store.reorgs()] == [2, 2]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no index at"),
        ("not-an-index", "is not a provenance index"),
        ("other-key", "belongs to another chain or deployment"),
        ("old-schema", "schema version 0"),
    ],
)
def test_a_file_opens_only_for_its_own_chain_deployment_and_schema(
    tmp_path: Path, setup: str, message: str
) -> None:
    path = tmp_path / "index.sqlite"
    key: IndexKey | None = KEY
    if setup == "missing":
        key = None
    elif setup == "not-an-index":
        sqlite3.connect(path).execute("CREATE TABLE t (x)")
        key = None
    else:
        IndexStore(path, KEY).close()
        if setup == "other-key":
            key = IndexKey(ChainIdentity(31337, "0x" + "ab" * 32), REGISTRY, AGREEMENTS, 1)
        else:
            db = sqlite3.connect(path)
            db.execute("UPDATE index_meta SET value = '0' WHERE key = 'schema_version'")
            db.commit()
            db.close()
    with pytest.raises(ConfigError, match=message):
        IndexStore(path, key, create=setup != "missing")


def test_the_file_name_carries_the_chain_identity_and_the_contracts() -> None:
    assert KEY.filename == "31337-aaaaaaaaaa-11111111-22222222.sqlite"


def test_one_table_cannot_hold_two_events_of_the_same_name() -> None:
    one = {"type": "event", "name": "E", "inputs": [{"name": "a", "type": "uint8"}]}
    two = {"type": "event", "name": "E", "inputs": [{"name": "a", "type": "uint16"}]}
    with pytest.raises(ValueError, match="two events named E with different fields"):
        Schema([one], [two])
    assert Schema([one], [one]).tables["E"].sources == frozenset({0, 1})


@pytest.mark.parametrize(
    ("abi_type", "sql_type"),
    [("bool", "INTEGER"), ("uint8", "INTEGER"), ("uint48", "INTEGER"), ("uint56", "INTEGER"),
     ("uint64", ""), ("uint256", ""), ("int64", "INTEGER"), ("int128", ""), ("address", "TEXT"),
     ("bytes32", "TEXT"), ("bytes3", "TEXT")],
)  # fmt: skip
def test_column_types(abi_type: str, sql_type: str) -> None:
    schema = Schema([{"type": "event", "name": "E", "inputs": [{"name": "v", "type": abi_type}]}])
    assert schema.tables["E"].fields[0].sql_type == sql_type
