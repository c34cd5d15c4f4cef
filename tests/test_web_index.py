"""The web resolver's source reads through the local index: the same report as over RPC, a
recall mined after the sync shows (top-up), the events touched come from the index, and while
the chain is down the index answers as of its tip instead of a 503."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from provenance import node
from provenance.index import sync
from provenance.web.public import public_json
from provenance.web.source import Head, RpcSource, SourceUnavailable
from tests.support.index import Node, Writer, comparable, start_node

pytestmark = pytest.mark.anvil


@pytest.fixture
def home(tmp_path: Path) -> Node:
    started = start_node(tmp_path / "home")
    yield started  # type: ignore[misc]
    node.stop(started.root)


def test_the_resolver_reads_through_the_index(home: Node) -> None:
    writer = Writer.deployed(home.chain, home.root)
    jam, other = writer.create("JAM", "OTHER")
    writer.hand_over([jam, other])
    synced = sync(home.url, writer.deployment, root=home.root)
    path = Path(synced.path)
    by_index = RpcSource(home.chain, writer.deployment, index=path)
    by_rpc = RpcSource(home.chain, writer.deployment)
    not_yet = RpcSource(home.chain, writer.deployment, index=path.with_name("none.sqlite"))

    first, expected = by_index.verify(jam), by_rpc.verify(jam)
    assert first.report is not None and expected.report is not None
    assert first.report.source == "index" and not_yet.verify(jam).report.source == "rpc"
    assert comparable(first.report) == comparable(expected.report)
    assert (first.head, first.family, first.names) == (expected.head, expected.family,
                                                       expected.names)  # fmt: skip
    assert "index_file" not in public_json(first.report, {})["as_of"]  # no server path

    block = home.chain.w3.eth.block_number
    call = writer.contract.functions.recallBatch(jam, b"\x07" * 32, b"\x00" * 32)
    writer.send(writer.sign(writer.farm, call))
    recalled = by_index.verify(jam)
    assert recalled.report is not None and recalled.report.verdict.value == "FAILED"
    assert recalled.report.as_of is not None and recalled.report.as_of.topped_up >= 1
    head = home.chain.w3.eth.block_number
    touched = by_index.touched(synced.tip - 5, head)  # index, then RPC after its tip
    assert jam.lower() in touched and by_rpc.touched(synced.tip - 5, head) <= touched
    assert jam.lower() in by_rpc.touched(block, head)

    node.stop(home.root)
    with pytest.raises(SourceUnavailable):
        by_rpc.head()
    tip = by_index.head()
    assert isinstance(tip, Head) and tip.block == synced.tip
    down = by_index.verify(other)
    assert down.report is not None and down.head.block == synced.tip
    assert down.report.verdict.value == "WARNING"
    assert any(f"as of block {synced.tip}" in r.message for r in down.report.reasons)
    assert dataclasses.replace(down.report.as_of, index_file=None) == dataclasses.replace(
        down.report.as_of, index_file=None, chain_reachable=False
    )
