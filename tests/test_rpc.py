"""`provenance.rpc` against a provider's limits: the limiting proxy (tests/rpc_proxy.py) in front
of the session's Anvil. Retry-After is obeyed to the letter (the proxy counts early requests),
timeouts and resets are retried, refusals shrink the getLogs range, and the client gives up with
a clear error when there is no point waiting."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator

import pytest

from provenance import node
from provenance.exceptions import ChainError
from provenance.rpc import (
    JsonRpc,
    LogPager,
    RetryPolicy,
    RpcError,
    Unavailable,
    _retry_after,
    is_range_refusal,
)
from tests.support import free_port
from tests.support.rpc_proxy import Limits, RpcProxy

pytestmark = pytest.mark.anvil

MakeProxy = Callable[[Limits], RpcProxy]
FAST = RetryPolicy(timeout=0.5, backoff=0.02, max_backoff=0.1)


@pytest.fixture
def proxy_for(anvil_node: node.NodeInfo) -> Iterator[MakeProxy]:
    started: list[RpcProxy] = []

    def make(limits: Limits) -> RpcProxy:
        proxy = RpcProxy(anvil_node.url, limits).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def test_retry_after_is_obeyed_and_no_request_arrives_early(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits(rate=8, retry_after=1))
    rpc = JsonRpc(proxy.url, FAST)
    started = time.monotonic()
    heads = [rpc.block_number() for _ in range(20)]
    elapsed = time.monotonic() - started
    assert len(heads) == 20
    assert proxy.throttled >= 2 and rpc.stats.throttled == proxy.throttled
    assert proxy.early == 0, "a request came back before its Retry-After"
    assert elapsed >= 2.0  # two waits of a second each, at least
    assert rpc.stats.waited >= 2.0


def test_client_side_pacing_keeps_under_the_rate(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits(rate=10, retry_after=1))
    rpc = JsonRpc(proxy.url, RetryPolicy(max_rps=8))
    for _ in range(16):
        rpc.block_number()
    assert proxy.throttled == 0


def test_timeouts_and_connection_resets_are_retried(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits(timeout_every=4, reset_every=5, stall=1.0))
    rpc = JsonRpc(proxy.url, FAST)
    for _ in range(12):
        assert rpc.block_number() >= 0
    assert proxy.timeouts >= 2 and proxy.resets >= 2
    assert rpc.stats.failures == proxy.timeouts + proxy.resets


def test_an_endpoint_that_keeps_failing_gives_up_after_the_attempts() -> None:
    rpc = JsonRpc(f"http://127.0.0.1:{free_port()}", RetryPolicy(attempts=3, backoff=0.01))
    with pytest.raises(Unavailable, match=r"failed 3 times in a row.*is the endpoint up"):
        rpc.block_number()
    assert rpc.stats.http_requests == 3


def test_a_retry_after_longer_than_allowed_fails_instead_of_waiting(
    proxy_for: MakeProxy,
) -> None:
    proxy = proxy_for(Limits(rate=1, retry_after=600))
    rpc = JsonRpc(proxy.url, RetryPolicy(max_retry_after=30))
    rpc.block_number()
    started = time.monotonic()
    with pytest.raises(Unavailable, match="asks to wait 600 s"):
        rpc.block_number()
    assert time.monotonic() - started < 5
    assert proxy.early == 0


def test_json_rpc_errors_are_raised_not_retried(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits())
    rpc = JsonRpc(proxy.url, FAST)
    with pytest.raises(RpcError) as caught:
        rpc.call("no_such_method")
    assert caught.value.code == -32601
    assert proxy.requests == 1


def test_a_batch_answers_in_order(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits())
    _mine(proxy.url, 3)
    proxy.reset_counts()
    rpc = JsonRpc(proxy.url, FAST)
    headers = rpc.headers([2, 0, 1, 10**9])
    assert sorted(headers) == [0, 1, 2]  # a block that does not exist is left out
    assert headers[1].parent_hash == headers[0].hash
    assert proxy.requests == 1 and proxy.calls["eth_getBlockByNumber"] == 4


def _mine(url: str, blocks: int) -> int:
    rpc = JsonRpc(url)
    rpc.call("anvil_mine", [hex(blocks)])
    return rpc.block_number()


@pytest.mark.parametrize("state_cap", [True, False], ids=["stated-cap", "unstated-cap"])
def test_the_pager_learns_a_block_range_cap_and_keeps_to_it(
    proxy_for: MakeProxy, state_cap: bool
) -> None:
    proxy = proxy_for(Limits(max_block_range=7, state_cap=state_cap))
    head = _mine(proxy.url, 60)
    pager = LogPager(JsonRpc(proxy.url, FAST), ["0x" + "11" * 20], max_range=1000, first_span=1000)
    pages = list(pager.pages(head - 59, head))
    covered = [b for page in pages for b in range(page.first, page.last + 1)]
    assert covered == list(range(head - 59, head + 1))  # every block once, in order
    assert all(page.last - page.first + 1 <= 7 for page in pages)
    # A stated cap is learned from the first refusal; an unstated one by halving (60 → 7).
    refusals = 1 if state_cap else 3
    assert proxy.refusals == refusals
    assert pager.max_range == 7
    later = list(pager.pages(head - 20, head))
    assert proxy.refusals == refusals, "refused again after learning the cap"
    assert later[0].first == head - 20


def test_the_pager_gives_up_on_a_single_block_it_cannot_get(proxy_for: MakeProxy) -> None:
    proxy = proxy_for(Limits(max_block_range=0))
    pager = LogPager(JsonRpc(proxy.url, FAST), ["0x" + "11" * 20], max_range=4)
    with pytest.raises(ChainError, match="even for the single block"):
        list(pager.pages(0, 3))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        (" 7 ", 7.0),
        ("-3", 0.0),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_in_seconds(header: str, seconds: float | None) -> None:
    assert _retry_after(header) == seconds


@pytest.mark.parametrize(("offset", "seconds"), [(30, pytest.approx(30, abs=2)), (-30, 0.0)])
def test_retry_after_as_an_http_date(offset: int, seconds: object) -> None:
    assert _retry_after(email.utils.formatdate(time.time() + offset, usegmt=True)) == seconds


@pytest.mark.parametrize(
    ("message", "refusal"),
    [
        ("query returned more than 10000 results", True),
        ("query exceeds max block range 2000", True),
        ("Log response size exceeded", True),
        ("execution reverted", False),
        ("method not found", False),
    ],
)
def test_what_counts_as_a_range_refusal(message: str, refusal: bool) -> None:
    assert (
        is_range_refusal(RpcError("eth_getLogs", {"code": -32000, "message": message})) is refusal
    )
    assert is_range_refusal(Unavailable(f"eth_getLogs: {message}")) is False
