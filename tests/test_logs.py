"""Adaptive getLogs ranges and call counting, against a fake node that refuses big ranges."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.providers.base import BaseProvider

from provenance.chain import Chain
from provenance.exceptions import ChainError
from provenance.logs import CallCounter, count_calls, fetch_logs, is_range_refusal
from tests.support import identity

ADDRESS = "0x" + "ab" * 20


class FakeNode(BaseProvider):
    """A node with one log every `every` blocks that refuses ranges wider than `limit` blocks
    (like a public provider), or (mode="results") answers with more than `limit` results."""

    def __init__(
        self, head: int, limit: int, every: int = 1, mode: str = "blocks", http413: bool = False
    ) -> None:
        super().__init__()
        self.head, self.limit, self.every, self.mode, self.http413 = (
            head,
            limit,
            every,
            mode,
            http413,
        )
        self.ranges: list[tuple[int, int]] = []

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": 1, "result": "0x1"}
        if method == "eth_blockNumber":
            return {"jsonrpc": "2.0", "id": 1, "result": hex(self.head)}
        assert method == "eth_getLogs", method
        query = params[0]
        start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        self.ranges.append((start, end))
        blocks = [b for b in range(start, end + 1) if b % self.every == 0]
        too_big = (
            (end - start + 1 > self.limit) if self.mode == "blocks" else len(blocks) > self.limit
        )
        if too_big:
            if self.http413:
                raise _Http413()
            message = (
                "block range too large" if self.mode == "blocks"
                else f"query returned more than {self.limit} results"
            )  # fmt: skip
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": message}}
        return {"jsonrpc": "2.0", "id": 1, "result": [_log(b) for b in blocks]}

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


class _Response:
    status_code = 413


class _Http413(Exception):
    response = _Response()


def _log(block: int) -> dict[str, Any]:
    return {
        "address": ADDRESS,
        "blockHash": "0x" + f"{block:064x}",
        "blockNumber": hex(block),
        "data": "0x",
        "logIndex": "0x0",
        "removed": False,
        "topics": ["0x" + "11" * 32],
        "transactionHash": "0x" + f"{block:064x}",
        "transactionIndex": "0x0",
    }


def fake_chain(node: FakeNode) -> Chain:
    return Chain(Web3(node), "http://fake.example", identity(1))


def test_small_ranges_are_fetched_in_one_call() -> None:
    node = FakeNode(head=500, limit=10_000)
    logs = fetch_logs(fake_chain(node), ADDRESS, [None], 0, 500)
    assert len(logs) == 501 and node.ranges == [(0, 500)]


def test_max_range_splits_the_scan_without_refusals() -> None:
    node = FakeNode(head=25_000, limit=10_000, every=1000)
    logs = fetch_logs(fake_chain(node), ADDRESS, [None], 0, "latest")
    assert node.ranges == [(0, 9_999), (10_000, 19_999), (20_000, 25_000)]
    assert [log["blockNumber"] for log in logs] == list(range(0, 25_001, 1000))


def test_refused_range_is_halved_and_retried_and_call_count_is_bounded() -> None:
    node = FakeNode(head=9_999, limit=2_000, every=100)
    chain = fake_chain(node)
    with count_calls(chain) as counter:
        logs = fetch_logs(chain, ADDRESS, [None], 0, 9_999)
    assert len(logs) == 100
    # 10000 → 5000 → 2500 → 1250 refused/accepted, then the span grows back and halves again.
    assert counter.get_logs == len(node.ranges)
    assert counter.get_logs <= 20
    covered = [r for r in node.ranges if r[1] - r[0] + 1 <= 2_000]
    assert sorted(covered) == covered  # accepted ranges go forward, no gaps or overlaps
    assert covered[0][0] == 0 and covered[-1][1] == 9_999
    for (_, end), (start, _) in itertools.pairwise(covered):
        assert start == end + 1


def test_too_many_results_is_treated_like_a_range_refusal() -> None:
    node = FakeNode(head=1_000, limit=100, mode="results")
    logs = fetch_logs(fake_chain(node), ADDRESS, [None], 0, 1_000)
    assert len(logs) == 1_001


def test_http_413_is_a_range_refusal() -> None:
    node = FakeNode(head=100, limit=10, http413=True)
    logs = fetch_logs(fake_chain(node), ADDRESS, [None], 0, 100)
    assert len(logs) == 101


def test_a_node_that_refuses_a_single_block_raises_chain_error() -> None:
    node = FakeNode(head=10, limit=0)
    with pytest.raises(ChainError, match="even for the single block 0"):
        fetch_logs(fake_chain(node), ADDRESS, [None], 0, 10)


@pytest.mark.parametrize(
    ("message", "refusal"),
    [
        ("query returned more than 10000 results", True),
        ("block range too large", True),
        ("exceed maximum block range: 5000", True),
        ("Log response size exceeded", True),
        ("execution reverted", False),
        ("invalid argument 0: hex string without 0x prefix", False),
    ],
)
def test_refusal_messages(message: str, refusal: bool) -> None:
    assert is_range_refusal(ValueError(message)) is refusal


@settings(max_examples=40)
@given(
    head=st.integers(0, 3_000),
    limit=st.integers(50, 3_000),
    max_range=st.integers(1, 4_000),
)
@example(head=0, limit=1, max_range=1)
@example(head=300, limit=1, max_range=4_000)
def test_every_block_is_fetched_exactly_once(head: int, limit: int, max_range: int) -> None:
    node = FakeNode(head=head, limit=limit, every=7)
    logs = fetch_logs(fake_chain(node), ADDRESS, [None], 0, head, max_range=max_range)
    assert [log["blockNumber"] for log in logs] == list(range(0, head + 1, 7))


def test_call_counter_counts_every_method_and_detaches() -> None:
    node = FakeNode(head=10, limit=100)
    chain = fake_chain(node)
    counter = CallCounter()
    with count_calls(chain, counter):
        _ = chain.w3.eth.block_number
        fetch_logs(chain, ADDRESS, [None], 0, "latest")
    assert counter.by_method == {"eth_blockNumber": 2, "eth_getLogs": 1}
    assert counter.total == 3
    _ = chain.w3.eth.block_number
    assert counter.total == 3


# ------------------------------------------------------------------- the raw path and decoding


@settings(max_examples=30)
@given(
    head=st.integers(0, 2_000),
    limit=st.integers(50, 2_000),
    max_range=st.integers(1, 3_000),
)
def test_the_raw_path_fetches_the_same_logs_and_is_counted(
    head: int, limit: int, max_range: int
) -> None:
    node = FakeNode(head=head, limit=limit, every=5)
    chain = fake_chain(node)
    formatted = fetch_logs(chain, ADDRESS, [None], 0, head, max_range=max_range)
    with count_calls(chain) as counter:
        raw = fetch_logs(chain, ADDRESS, [None], 0, head, max_range=max_range, raw=True)
    assert [int(log["blockNumber"], 16) for log in raw] == [log["blockNumber"] for log in formatted]
    assert counter.get_logs >= 1 and counter.get_logs == counter.total
    with count_calls(chain) as after:
        pass
    fetch_logs(chain, ADDRESS, [None], 0, head, raw=True, max_range=max_range)
    assert after.total == 0  # a counter detached sees nothing more


def _events() -> list[dict[str, Any]]:
    from provenance.compiler import load_artifact

    abis = [load_artifact("ProvenanceRegistry").abi, load_artifact("SupplyAgreements").abi]
    return [item for abi in abis for item in abi if item.get("type") == "event"]


def _value(kind: str, draw: Any) -> Any:
    """A random value of a static ABI type, as eth-abi encodes it."""
    if kind == "address":
        return draw(st.binary(min_size=20, max_size=20))
    if kind == "bool":
        return draw(st.booleans())
    if kind.startswith("uint"):
        return draw(st.integers(0, 2 ** int(kind[4:]) - 1))
    if kind.startswith("int"):
        bits = int(kind[3:])
        return draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    if kind.startswith("bytes") and kind[5:].isdigit():
        size = int(kind[5:])
        return draw(st.binary(min_size=size, max_size=size))
    raise AssertionError(f"not a static type: {kind}")


def _static(kind: str) -> bool:
    return kind in ("address", "bool") or any(
        kind.startswith(p) and kind[len(p) :].isdigit() for p in ("uint", "int", "bytes")
    )


@settings(max_examples=150)
@given(data=st.data())
def test_word_by_word_decoding_equals_eth_abi(data: Any) -> None:
    """Every event of both contracts, with random values: the static fast path gives what
    eth-abi (the slow path) gives, for topics and data, raw (hex) or formatted (bytes) logs."""
    from eth_abi.abi import encode
    from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic

    from provenance.compiler import load_artifact
    from provenance.logs import EventDecoder, named

    events = _events()
    abi = data.draw(st.sampled_from(events))
    decoder = EventDecoder(
        load_artifact("ProvenanceRegistry").abi, load_artifact("SupplyAgreements").abi
    )
    topics = [event_abi_to_log_topic(abi)]
    expected: dict[str, Any] = {}
    unindexed = [i for i in abi["inputs"] if not i.get("indexed")]
    for item in abi["inputs"]:
        kind = collapse_if_tuple(item)
        if item.get("indexed"):
            if _static(kind):
                word = encode([kind], [_value(kind, data.draw)])
                from eth_abi.abi import decode

                expected[item["name"]] = named(decode([kind], word)[0], item)
            else:
                word = data.draw(st.binary(min_size=32, max_size=32))
                expected[item["name"]] = "0x" + word.hex()
            topics.append(word)
    if all(_static(collapse_if_tuple(i)) for i in unindexed):
        values = [_value(collapse_if_tuple(i), data.draw) for i in unindexed]
        body = encode([collapse_if_tuple(i) for i in unindexed], values)
        from eth_abi.abi import decode

        decoded = decode([collapse_if_tuple(i) for i in unindexed], body)
        for item, value in zip(unindexed, decoded, strict=True):
            expected[item["name"]] = named(value, item)
    else:
        return  # events with dynamic data go through eth-abi itself
    formatted = {
        "topics": topics, "data": body, "blockNumber": 7, "logIndex": 1,
        "transactionHash": b"\x01" * 32, "address": ADDRESS,
    }  # fmt: skip
    raw = {
        "topics": ["0x" + t.hex() for t in topics], "data": "0x" + body.hex(),
        "blockNumber": "0x7", "logIndex": "0x1", "transactionHash": "0x" + "01" * 32,
        "address": ADDRESS,
    }  # fmt: skip
    for log in (formatted, raw):
        event = decoder.decode(log)
        assert event is not None and event.name == abi["name"]
        assert dict(event.args) == expected
        assert (event.block_number, event.log_index) == (7, 1)
