"""`provenance.index`: syncing on Anvil. The index holds exactly what the RPC path decodes, grows
incrementally, belongs to one chain identity, survives kill -9 at any point and follows
reorganisations (anvil_reorg, anvil_rollback) of depth 1, 5 and deeper than its confirmations."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provenance import node
from provenance.exceptions import ConfigError
from provenance.index import IndexStore, Syncer, SyncOptions, open_syncer, sync
from provenance.index.store import read_key
from provenance.logs import address_topic, fetch_logs
from provenance.registry import EDGE_EVENTS, PARTICIPANT_EVENTS
from provenance.rpc import JsonRpc
from provenance.verify.analysis import AGREEMENT_EVENTS, RECALL_EVENTS
from provenance.verify.collect import _decoder
from tests.support import PROJECT_ROOT
from tests.support.index import Node, Rich, Writer, reference, start_node

pytestmark = pytest.mark.anvil

DECODER = _decoder()


def _fields(event: Any) -> tuple[Any, ...]:
    return (
        event.name,
        dict(event.args),
        event.block_number,
        event.log_index,
        event.tx_hash.lower(),
        event.address,
    )


def _rpc_events(rich: Rich, address: Any, topics: list[Any], **blocks: int) -> list[Any]:
    start = blocks.get("from_block", rich.deployment.deploy_block)
    end = blocks.get("to_block", "latest")
    logs = fetch_logs(rich.node.chain, address, topics, start, end)
    return DECODER.decode_all(logs)


@pytest.fixture(scope="module")
def rich_index(rich: Rich, tmp_path_factory: pytest.TempPathFactory) -> IndexStore:
    return reference(rich.url, rich.deployment, tmp_path_factory.mktemp("rich-index"))


# ------------------------------------------------------------------------- what it holds


def test_the_index_holds_exactly_the_events_the_rpc_path_decodes(
    rich: Rich, rich_index: IndexStore
) -> None:
    addresses = [rich.deployment.registry, rich.deployment.agreements]
    expected = _rpc_events(rich, addresses, [])
    found = rich_index.events(addresses)
    assert len(found) == len(expected) > 300
    assert [_fields(e) for e in found] == [_fields(e) for e in expected]
    names = {e.name for e in found}
    assert {"AgreementProposed", "DeliverySettled", "BatchSplit", "BatchDerived"} <= names
    w3 = rich.node.chain.w3
    for event in found[:: max(1, len(found) // 20)]:
        assert event.timestamp == w3.eth.get_block(event.block_number)["timestamp"]
        assert event.confirmed


def _queries(rich: Rich) -> list[tuple[str, list[Any], dict[str, int]]]:
    """The questions `verify` asks, on the demo's batches, agreement and cast."""
    registry, agreements = rich.deployment.registry, rich.deployment.agreements
    demo = rich.demo
    batches = sorted({str(e.args["batchId"]) for e in DECODER.decode_all(
        fetch_logs(rich.node.chain, registry, [DECODER.topic("BatchCreated")], 0)
    )})[:12]  # fmt: skip
    edges = [DECODER.topic(n) for n in EDGE_EVENTS]
    tendered = DECODER.topic("DeliveryTendered")
    agreement_topics = [DECODER.topic(n) for n in AGREEMENT_EVENTS]
    participants = [DECODER.topic(n) for n in PARTICIPANT_EVENTS]
    migrated = DECODER.topic("ParticipantMigrated")
    recalls = [DECODER.topic(n) for n in RECALL_EVENTS]
    cast = [address_topic(a) for a in demo.cast.values()]
    head = rich.node.chain.w3.eth.block_number
    return [
        (registry, [None, batches], {}),  # each batch's own history (lineage level)
        (registry, [edges, None, batches], {}),  # children of the lineage
        (registry, [recalls, batches], {}),
        (agreements, [tendered, None, batches], {}),
        (agreements, [agreement_topics, "0x" + f"{demo.agreement_id:064x}"], {}),
        (registry, [participants, cast], {}),
        (registry, [migrated, None, cast], {}),
        (registry, [None, batches[0]], {"from_block": 10, "to_block": head - 5}),
        (registry, [DECODER.topic("HandoffAccepted"), None, None, cast[2]], {}),
        (agreements, [None], {}),
    ]


def test_the_questions_verify_asks_get_the_answers_eth_getlogs_gives(
    rich: Rich, rich_index: IndexStore
) -> None:
    for address, topics, blocks in _queries(rich):
        expected = _rpc_events(rich, address, topics, **blocks)
        found = rich_index.events(address, topics, blocks.get("from_block"), blocks.get("to_block"))
        assert [_fields(e) for e in found] == [_fields(e) for e in expected], (address, topics)
    assert any(rich_index.events(a, t) for a, t, _ in _queries(rich))


@pytest.mark.parametrize(
    ("event", "position", "index"),
    [
        (None, 1, "idx_BatchCreated_batchId"),  # a batch's history
        ("BatchSplit", 2, "idx_BatchSplit_parentId"),  # children of a parent
        ("BatchDerived", 2, "idx_BatchDerived_parentId"),
        ("BatchDerived", 1, "idx_BatchDerived_childId"),  # parents of a child
        ("DeliveryTendered", 2, "idx_DeliveryTendered_batchId"),  # deliveries of a batch
        ("ParticipantRegistered", 1, "idx_ParticipantRegistered_account"),
    ],
)
def test_lineage_lookups_go_through_indexes(
    rich: Rich, rich_index: IndexStore, event: str | None, position: int, index: str
) -> None:
    address = (
        rich.deployment.agreements if event == "DeliveryTendered" else rich.deployment.registry
    )
    topics: list[Any] = [DECODER.topic(event) if event else None] + [None] * (position - 1)
    topics.append("0x" + "ab" * 32 if "account" not in index else address_topic(address))
    plans = rich_index.explain(address, topics)
    assert plans and all("USING INDEX" in p for p in plans), plans
    assert any(index in p for p in plans), plans


def test_tables_are_named_as_the_events_for_sqlite_tools(rich_index: IndexStore) -> None:
    db = sqlite3.connect(rich_index.path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"BatchCreated", "HandoffInitiated", "BatchSplit", "AgreementProposed"} <= tables
    assert {"blocks", "index_meta", "index_reorgs"} <= tables
    columns = [row[1] for row in db.execute("PRAGMA table_info(BatchCreated)")]
    assert columns == [
        "block_number", "log_index", "tx_hash", "contract",
        "batchId", "creator", "gtin", "lot", "quantity", "uom", "document", "at",
    ]  # fmt: skip
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    (total,) = db.execute("SELECT count(*) FROM events").fetchone()
    assert total == sum(rich_index.counts().values())
    row = db.execute(
        "SELECT e.quantity, e.uom, b.timestamp FROM BatchCreated e "
        "JOIN blocks b ON b.number = e.block_number ORDER BY e.block_number LIMIT 1"
    ).fetchone()
    assert row[0] == 1000 and row[1] == "0x4b474d" and row[2] > 0  # "KGM"
    (terms,) = db.execute("SELECT terms FROM AgreementProposed").fetchone()
    assert '"requiredClaims"' in terms or '"claims"' in terms  # a struct, as JSON


# ------------------------------------------------------------------- incremental, identity


def test_sync_is_incremental_and_an_idle_round_costs_two_calls(anvil: Node) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    first = sync(anvil.url, writer.deployment, root=anvil.root)
    assert first.events_added > 0 and first.tip == anvil.chain.w3.eth.block_number
    writer.history(2)
    second = sync(anvil.url, writer.deployment, root=anvil.root)
    assert second.first_block == first.tip + 1 and second.events_added == 30
    idle = sync(anvil.url, writer.deployment, root=anvil.root)
    assert idle.events_added == 0 and idle.first_block is None and idle.reorgs == ()
    # chain id + genesis (2) on opening, then head + the tip's header
    assert idle.rpc["calls"] == {"eth_blockNumber": 1, "eth_getBlockByNumber": 1}
    with IndexStore(Path(idle.path), create=False) as store:
        assert sum(store.counts().values()) == first.events_added + 30
        assert store.digest() == reference(anvil.url, writer.deployment, anvil.root / "r").digest()


def test_a_fresh_node_with_the_same_chain_id_and_addresses_is_another_chain(
    tmp_path: Path,
) -> None:
    started = time.time()
    first = start_node(tmp_path / "one")
    port = first.info.port
    try:
        writer = Writer.deployed(first.chain, tmp_path)
        writer.history(2, tag="OLD")
        old = sync(first.url, writer.deployment, root=tmp_path)
    finally:
        node.stop(first.root)
    old_path = Path(old.path)
    with IndexStore(old_path, create=False) as store:
        old_digest = store.digest()
    # Anvil's genesis block carries its start time in seconds: a start within the same second
    # makes the same genesis (the sync's hash checks would then roll back whatever differs).
    time.sleep(max(0.0, started + 1.2 - time.time()))
    second = start_node(tmp_path / "two", port)  # same port, same chain id, new genesis
    try:
        again = Writer.deployed(second.chain, tmp_path)
        assert again.deployment.registry == writer.deployment.registry
        assert again.deployment.agreements == writer.deployment.agreements
        again.history(1, tag="NEW")
        new = sync(second.url, again.deployment, root=tmp_path)
        assert new.chain_id == old.chain_id and new.genesis_hash != old.genesis_hash
        assert new.path != old.path
        with IndexStore(Path(new.path), create=False) as store:
            lots = {e.args["lot"] for e in store.events(again.deployment.registry)
                    if e.name == "BatchCreated"}  # fmt: skip
            assert lots and all(bytes.fromhex(lot[2:]).startswith(b"NEW") for lot in lots)
        with IndexStore(old_path, create=False) as store:
            assert store.digest() == old_digest  # untouched
            with pytest.raises(ConfigError, match="serves another chain"):
                Syncer(store, JsonRpc(second.url)).check_identity()
        key = read_key(Path(new.path))
        assert key is not None
        with pytest.raises(ConfigError, match="belongs to another chain"):
            IndexStore(old_path, key)
    finally:
        node.stop(second.root)


def test_a_node_reloaded_from_its_state_keeps_its_index(tmp_path: Path) -> None:
    started = start_node(tmp_path / "node")
    port = started.info.port
    writer = Writer.deployed(started.chain, tmp_path)
    writer.history(1)
    first = sync(started.url, writer.deployment, root=tmp_path)
    node.stop(started.root)  # saves the state
    again = start_node(tmp_path / "node", port, fresh=False)
    try:
        Writer(again.chain, writer.deployment).history(1, tag="AFTER")
        second = sync(again.url, writer.deployment, root=tmp_path)
        assert second.path == first.path and second.genesis_hash == first.genesis_hash
        assert second.first_block == first.tip + 1 and second.events_added == 15
        assert second.reorgs == ()
    finally:
        node.stop(again.root)


def test_only_one_process_syncs_an_index_at_a_time(anvil: Node) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    with (
        open_syncer(anvil.url, writer.deployment, root=anvil.root),
        pytest.raises(ConfigError, match="being synced by another process"),
    ):
        sync(anvil.url, writer.deployment, root=anvil.root)


def test_events_near_the_head_are_unconfirmed_until_deep_enough(anvil: Node) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    writer.history(2)  # 6 blocks of 5 events
    options = SyncOptions(confirmations=3)
    result = sync(anvil.url, writer.deployment, root=anvil.root, options=options)
    head = result.chain_head
    with IndexStore(Path(result.path), create=False) as store:
        events = store.events(writer.deployment.registry)
        unconfirmed = [e for e in events if not e.confirmed]
        assert {e.block_number for e in unconfirmed} == {head - 2, head - 1, head}
        assert store.unconfirmed_events() == len(unconfirmed) == 15
    anvil.rpc("anvil_mine", "0x3")
    later = sync(anvil.url, writer.deployment, root=anvil.root, options=options)
    assert later.events_added == 0
    with IndexStore(Path(result.path), create=False) as store:
        assert all(e.confirmed for e in store.events(writer.deployment.registry))
        assert store.unconfirmed_events() == 0


# ---------------------------------------------------------------------- reorganisations


def _created_lots(store: IndexStore, registry: str) -> dict[str, tuple[int, int]]:
    """lot → (block, quantity) of every BatchCreated in the index."""
    return {
        bytes.fromhex(e.args["lot"][2:]).rstrip(b"\0").decode(): (e.block_number,
                                                                   e.args["quantity"])
        for e in store.events(registry, [DECODER.topic("BatchCreated")])
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["disappear", "reappear", "change", "rollback"])
@pytest.mark.parametrize(
    ("depth", "confirmations"),
    [(1, 2), (5, 6), (8, 3)],
    ids=["depth-1", "depth-5", "deeper-than-confirmations"],
)
def test_a_reorganisation_is_rolled_back_and_replayed(
    anvil: Node, kind: str, depth: int, confirmations: int
) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    writer.history(2)
    farm = writer.farm
    w3 = anvil.chain.w3
    nonce = w3.eth.get_transaction_count(farm.address)
    tail = [writer.sign(farm, writer.create_call([f"T{i}"]), nonce + i) for i in range(depth)]
    for raw in tail:
        writer.send(raw)
    options = SyncOptions(confirmations=confirmations)
    before = sync(anvil.url, writer.deployment, root=anvil.root, options=options)
    registry = writer.deployment.registry
    with IndexStore(Path(before.path), create=False) as store:
        lots_before = _created_lots(store, registry)
    assert {f"T{i}" for i in range(depth)} <= set(lots_before)
    head = before.chain_head

    if kind == "disappear":
        anvil.rpc("anvil_reorg", depth, [])
    elif kind == "reappear":  # the same transactions, all in the last of the new blocks
        anvil.rpc("anvil_reorg", depth, [["0x" + raw.hex(), depth - 1] for raw in tail])
    elif kind == "change":  # the same lots, other quantities, one block later each
        changed = [writer.sign(farm, writer.create_call([f"T{i}"], 77), nonce + i)
                   for i in range(depth)]  # fmt: skip
        anvil.rpc("anvil_reorg", depth, [["0x" + raw.hex(), i] for i, raw in enumerate(changed)])
    else:  # rollback: a shorter chain, then one new block with another transaction
        anvil.rpc("anvil_rollback", depth)
        writer.send(writer.sign(farm, writer.create_call(["R0"]), nonce))

    after = sync(anvil.url, writer.deployment, root=anvil.root, options=options)
    [reorg] = after.reorgs
    assert reorg.old_tip == head
    assert reorg.ancestor is not None and reorg.ancestor < head - depth + 1
    assert reorg.events_removed == depth  # one BatchCreated in each replaced block
    if confirmations < depth:
        assert reorg.confirmed_removed == depth - confirmations
        assert any("deeper than" in w for w in after.warnings)
    else:
        assert reorg.confirmed_removed == 0 and after.warnings == ()
    with IndexStore(Path(after.path), create=False) as store:
        lots = _created_lots(store, registry)
        expected = reference(anvil.url, writer.deployment, anvil.root / "ref", confirmations)
        assert store.digest() == expected.digest()
        assert len(store.reorgs()) == 1
    tail_lots = {f"T{i}" for i in range(depth)}
    if kind == "disappear":
        assert not tail_lots & set(lots)
    elif kind == "reappear":
        # they were in the last `depth` blocks, one each; now all in the last (a new) block
        assert [lots_before[f"T{i}"][0] for i in range(depth)] == list(
            range(head - depth + 1, head + 1)
        )
        assert {lots[lot][0] for lot in tail_lots} == {head}
    elif kind == "change":
        assert {lots[lot][1] for lot in tail_lots} == {77}
    else:
        assert not tail_lots & set(lots) and "R0" in lots


def test_a_rollback_below_the_deployment_empties_the_index(anvil: Node) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    writer.history(1)
    first = sync(anvil.url, writer.deployment, root=anvil.root)
    assert first.events_added > 0
    anvil.rpc("anvil_rollback", first.chain_head - writer.deployment.deploy_block + 1)
    after = sync(anvil.url, writer.deployment, root=anvil.root)
    [reorg] = after.reorgs
    assert reorg.ancestor is None and reorg.events_removed == first.events_added
    assert after.tip is None
    with IndexStore(Path(after.path), create=False) as store:
        assert store.counts() == {} and store.tip() is None


# ---------------------------------------------------------------------------- kill -9


def _dump_through(store: IndexStore, tip: int) -> list[Any]:
    rows = []
    for table, row in store.dump():
        if table == "index_meta":
            continue
        number = row[0]
        if number <= tip:
            rows.append((table, row))
    return rows


@pytest.mark.slow
def test_a_sync_killed_at_any_point_resumes_without_gaps_or_duplicates(
    rich: Rich, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / "deployments").mkdir(parents=True)
    (home / "deployments" / rich.record.name).write_text(rich.record.read_text())
    env = {**os.environ, "PROVENANCE_HOME": str(home), "PROVENANCE_RPC": rich.url}
    # Small pages, paced: the sync takes seconds and commits dozens of times.
    command = [sys.executable, "-m", "provenance", "index", "sync", "--max-range", "2",
               "--max-rps", "25"]  # fmt: skip
    expected = reference(rich.url, rich.deployment, tmp_path / "reference")
    path = tmp_path / "home" / "index" / expected.path.name
    randomness = random.Random(11)
    kills = 0
    while True:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)  # fmt: skip
        before = _tip_of(path)
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            tip = _tip_of(path)
            if tip is not None and tip != before:
                break
            time.sleep(0.002)
        if process.poll() is not None or kills == 6:  # the last run goes to the end
            _, err = process.communicate()
            assert process.returncode == 0, err.decode()
            break
        time.sleep(randomness.uniform(0.0, 0.5))  # anywhere in the next pages
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        with IndexStore(path, create=False) as partial:  # what a kill leaves is consistent
            tip_now = partial.tip()
            assert tip_now is not None
            assert _dump_through(partial, tip_now.number) == _dump_through(expected, tip_now.number)
            assert _dump_through(partial, 10**9) == _dump_through(expected, tip_now.number)
    assert kills >= 3
    with IndexStore(path, create=False) as done:
        assert done.digest() == expected.digest()


def _tip_of(path: Path) -> int | None:
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = db.execute("SELECT value FROM index_meta WHERE key = 'tip_number'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


# ------------------------------------------------------------------------------ follow


def test_follow_keeps_the_index_current_through_a_reorganisation(anvil: Node) -> None:
    writer = Writer.deployed(anvil.chain, anvil.root)
    env = {**os.environ, "PROVENANCE_HOME": str(anvil.root), "PROVENANCE_RPC": anvil.url}
    command = [sys.executable, "-m", "provenance", "index", "sync", "--follow", "--json",
               "--interval", "0.1"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        writer.create("LIVE")
        path = _wait_for(lambda: _index_with_lot(anvil, "LIVE"))
        writer.create("GONE")
        _wait_for(lambda: _index_with_lot(anvil, "GONE"))
        anvil.rpc("anvil_reorg", 1, [])  # the GONE block is replaced by an empty one
        _wait_for(lambda: _index_with_lot(anvil, "GONE") is None and _tip_of(path) is not None
                  and _tip_of(path) == anvil.chain.w3.eth.block_number)  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    rounds = [line for line in out.splitlines() if line.startswith("{")]
    assert any('"reorgs": [{' in line for line in rounds)


def _index_with_lot(anvil: Node, lot: str) -> Path | None:
    for path in sorted((anvil.root / "index").glob("*.sqlite")):
        try:
            with IndexStore(path, create=False) as store:
                registry = store.key.registry
                if lot in _created_lots(store, registry):
                    return path
        except (ConfigError, sqlite3.Error):
            return None
    return None


def _wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the index")
