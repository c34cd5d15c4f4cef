"""`verify` through the local index: the same report as the pure RPC path on the rich history
(index at the head, and an index far behind it, topped up over RPC), a recall mined after the
sync shows, the chain down gives the index's answer as of its tip, an index that left the chain
or belongs to another chain identity is never read, and verification never writes to the
index. (Every history of tests/test_verify.py is also verified both ways there.)"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance import node
from provenance.cli import cli
from provenance.encoding import to_hex32
from provenance.exceptions import ChainUnreachable, ConfigError
from provenance.index import IndexStore, SyncOptions, sync
from provenance.session import Session
from provenance.verify import INFO, WARNING, Verdict, find_index_for, verify
from tests.support.index import (
    SOURCE_FIELDS,
    Node,
    Rich,
    Writer,
    comparable,
    start_node,
)

pytestmark = pytest.mark.anvil


def _batches(store: IndexStore) -> list[str]:
    """Every batch of the index: created, split off or derived."""
    found: dict[str, None] = {}
    for event in store.events(store.key.registry):
        if event.name == "BatchCreated":
            found[to_hex32(event.args["batchId"])] = None
        elif event.name in ("BatchSplit", "BatchDerived"):
            found[to_hex32(event.args["childId"])] = None
    return list(found)


def _untouched(path: Path) -> tuple[str, int, int]:
    with IndexStore(path, create=False, readonly=True) as store:
        digest = store.digest()
    stat = path.stat()
    return digest, stat.st_mtime_ns, stat.st_size


def test_the_comparison_leaves_out_only_how_the_events_were_read() -> None:
    assert SOURCE_FIELDS == ("stats", "source", "as_of")


def test_every_batch_of_the_rich_history_reads_the_same_through_the_index(
    rich: Rich, tmp_path: Path
) -> None:
    chain, deployment = rich.node.chain, rich.deployment
    full = Path(sync(rich.url, deployment, root=tmp_path / "full").path)
    behind = sync(rich.url, deployment, root=tmp_path / "behind", stop=lambda: True)
    head = chain.w3.eth.block_number
    assert behind.tip is not None and behind.tip < head - 50  # one page: the rest is topped up
    before = _untouched(full)
    with IndexStore(full, create=False, readonly=True) as store:
        batches = _batches(store)
    assert len(batches) > 100
    verdicts, topped_up = set(), 0
    for batch in batches:
        by_rpc = verify(chain, deployment, batch)
        by_index = verify(chain, deployment, batch, index=full)
        by_both = verify(chain, deployment, batch, index=Path(behind.path))
        assert comparable(by_index) == comparable(by_rpc), batch
        assert comparable(by_both) == comparable(by_rpc), batch
        assert (by_rpc.source, by_index.source, by_both.source) == ("rpc", "index", "index")
        assert by_index.stats.get_logs_calls == 0 and by_rpc.stats.get_logs_calls > 0
        assert by_index.as_of is not None and by_index.as_of.index_tip == head
        assert by_index.as_of.block == head and by_index.as_of.topped_up == 0
        assert by_both.as_of is not None and by_both.as_of.index_tip == behind.tip
        topped_up += by_both.as_of.topped_up
        verdicts.add(by_rpc.verdict)
    assert topped_up > len(batches)
    assert verdicts == {Verdict.VERIFIED, Verdict.WARNING, Verdict.FAILED}  # recalls, disputes…
    assert _untouched(full) == before  # read-only


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Node]:
    """A node of this test's own, recorded in the data directory `home.root`."""
    started = start_node(tmp_path / "home")
    yield started
    node.stop(started.root)


def _recall(writer: Writer, batch: str) -> None:
    call = writer.contract.functions.recallBatch(batch, b"\x07" * 32, b"\x00" * 32)
    writer.send(writer.sign(writer.farm, call))


def test_the_top_up_shows_a_recall_mined_after_the_sync(home: Node) -> None:
    writer = Writer.deployed(home.chain, home.root)
    jam, other = writer.create("JAM", "OTHER")
    writer.hand_over([jam, other])
    synced = sync(home.url, writer.deployment, root=home.root)
    path = Path(synced.path)
    before = _untouched(path)
    session = Session(home.url, root=home.root)
    assert session.index_file() == path
    assert session.verify(jam).verdict is Verdict.VERIFIED

    _recall(writer, jam)
    report = session.verify(jam)
    assert report.verdict is Verdict.FAILED and [r.batch_id for r in report.recalls] == [jam]
    assert report.source == "index" and report.as_of is not None
    assert report.as_of.index_tip == synced.tip < report.as_of.block
    assert report.as_of.topped_up >= 1 and report.as_of.chain_reachable
    assert comparable(report) == comparable(session.verify(jam, use_index=False))

    env = {"PROVENANCE_HOME": str(home.root), "PROVENANCE_RPC": home.url}
    paths = {}
    for flags in ([], ["--no-index"]):
        result = CliRunner().invoke(cli, ["verify", jam, "--json", *flags], env=env)
        assert result.exit_code == 2, result.output  # FAILED: recalled
        data = json.loads(result.stdout)
        paths[data["source"]] = data
    assert set(paths) == {"index", "rpc"}
    assert paths["index"]["as_of"]["index_tip"] == synced.tip
    assert paths["index"]["as_of"]["index_file"] == str(path)
    assert paths["rpc"]["as_of"]["index_tip"] is None
    assert _untouched(path) == before  # verify never writes to the index


def test_with_the_chain_down_the_index_answers_as_of_its_tip(home: Node) -> None:
    writer = Writer.deployed(home.chain, home.root)
    [jam] = writer.create("JAM")
    writer.hand_over([jam])
    synced = sync(home.url, writer.deployment, root=home.root)
    expected = verify(home.chain, writer.deployment, jam)
    node.stop(home.root)

    report = Session(root=home.root).verify(jam)  # the recorded node, down
    assert report.verdict is Verdict.WARNING
    warning = [r.message for r in report.reasons if r.severity == WARNING]
    assert warning == [
        f"the chain at {home.url} does not answer: this is the local index's answer as of block "
        f"{synced.tip}; anything recorded after it (a recall…) is not shown"
    ]
    assert report.as_of is not None and not report.as_of.chain_reachable
    assert report.as_of.block == report.as_of.index_tip == synced.tip
    assert report.timeline == expected.timeline and report.custodian == writer.carrier.address
    assert report.checked_at == expected.checked_at  # the tip's block time, as the head's was
    assert report.stats.rpc_calls == 0

    runner = CliRunner()
    env = {"PROVENANCE_HOME": str(home.root)}
    result = runner.invoke(cli, ["verify", jam, "--json"], env=env)
    assert result.exit_code == 1, result.output  # WARNING
    data = json.loads(result.stdout)
    assert data["source"] == "index" and data["as_of"]["chain_reachable"] is False
    assert data["as_of"]["block"] == synced.tip
    text = runner.invoke(cli, ["verify", jam], env=env)
    assert f"as of block {synced.tip}" in text.output
    refused = runner.invoke(cli, ["verify", jam, "--no-index"], env=env)
    assert refused.exit_code == 3 and "not running" in refused.output
    with pytest.raises(ChainUnreachable):
        Session(root=home.root).verify(jam, use_index=False)


def test_an_index_that_left_the_chain_is_not_read(home: Node) -> None:
    writer = Writer.deployed(home.chain, home.root)
    [jam] = writer.create("JAM")
    writer.history(2)
    synced = sync(home.url, writer.deployment, root=home.root)
    home.rpc("anvil_rollback", 2)  # the index's tip is now above the head
    report = verify(home.chain, writer.deployment, jam, index=Path(synced.path))
    assert report.source == "rpc"
    [note] = [r.message for r in report.reasons if "no longer on the chain" in r.message]
    assert f"ends at block {synced.tip}" in note and "provenance index sync" in note
    by_rpc = verify(home.chain, writer.deployment, jam)
    assert comparable(report) == {**comparable(by_rpc), "reasons": comparable(report)["reasons"]}
    assert [r for r in report.to_dict()["reasons"] if r not in comparable(by_rpc)["reasons"]] == [
        {"severity": INFO, "message": note}
    ]


def test_an_index_of_another_chain_identity_is_never_used(tmp_path: Path) -> None:
    root = tmp_path / "home"
    started = time.time()
    first = start_node(root)
    port = first.info.port
    try:
        old_writer = Writer.deployed(first.chain, root)
        [old_jam] = old_writer.create("JAM")
        old = sync(first.url, old_writer.deployment, root=root)
    finally:
        node.stop(root)
    time.sleep(max(0.0, started + 1.2 - time.time()))  # another genesis (see test_index_sync)
    second = start_node(root, port)  # same port, chain id and addresses: another chain
    try:
        writer = Writer.deployed(second.chain, root)
        assert writer.deployment.registry == old_writer.deployment.registry
        [jam] = writer.create("JAM")
        assert jam == old_jam
        session = Session(root=root)
        assert session.index_file() is None
        assert find_index_for(second.chain.identity, writer.deployment, root) is None
        report = session.verify(jam)
        assert report.source == "rpc" and report.verdict is Verdict.VERIFIED
        with pytest.raises(ConfigError, match="belongs to another chain"):
            verify(second.chain, writer.deployment, jam, index=Path(old.path))
        assert find_index_for(first.chain.identity, old_writer.deployment, root) == Path(old.path)
    finally:
        node.stop(root)


def test_unconfirmed_events_are_the_same_on_both_paths_and_never_decide(home: Node) -> None:
    writer = Writer.deployed(home.chain, home.root)
    [jam] = writer.create("JAM")
    writer.hand_over([jam])
    home.rpc("anvil_mine", 5)  # the history so far is 5+ blocks deep
    synced = sync(home.url, writer.deployment, root=home.root,
                  options=SyncOptions(confirmations=3))  # fmt: skip
    _recall(writer, jam)  # topped up, 1 block deep: unconfirmed at 3 confirmations
    by_index = verify(home.chain, writer.deployment, jam, index=Path(synced.path))
    by_rpc = verify(home.chain, writer.deployment, jam, confirmations=3)
    assert comparable(by_index) == comparable(by_rpc)
    assert by_index.as_of is not None and by_index.as_of.confirmations == 3
    assert by_index.verdict is Verdict.VERIFIED  # the recall alone does not decide…
    assert [u.event for u in by_index.unconfirmed] == ["BatchRecalled"]
    assert [r.batch_id for r in by_index.recalls] == [jam]  # …but it is shown
    assert any("would make it FAILED" in r.message for r in by_index.reasons)
    home.rpc("anvil_mine", 3)  # now deep enough
    settled = verify(home.chain, writer.deployment, jam, index=Path(synced.path))
    assert settled.verdict is Verdict.FAILED and settled.unconfirmed == ()
