"""The resolver's pure parts: Digital Link parsing, content negotiation, the participant
directory and the report cache (against a fake source)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from provenance.directory import Directory, DirectoryEntry
from provenance.exceptions import ConfigError, InvalidInput
from provenance.web.app import Problem, _accept
from provenance.web.cache import ReportCache
from provenance.web.links import LinkError, parse, query_params, segments
from provenance.web.source import Head, SourceUnavailable, Verified

FARM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def link(path: str, query: str = "") -> tuple[str, str, bool]:
    parsed = parse(segments(path.encode()), query_params(query.encode()))
    return parsed.gtin, parsed.lot, parsed.redirect


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/01/09521234000013/10/JAM-1", "", ("09521234000013", "JAM-1", False)),
        ("/01/9521234000013/10/JAM-1", "", ("09521234000013", "JAM-1", False)),  # GTIN-13
        ("/01/614141000036/10/X", "", ("00614141000036", "X", False)),  # GTIN-12
        ("/01/95060002/10/X", "", ("00000095060002", "X", False)),  # GTIN-8
        ("/01/09521234000013/10/A%2FB%25C", "", ("09521234000013", "A/B%C", False)),
        ("/01/09521234000013", "10=A%2FB", ("09521234000013", "A/B", False)),
        ("/01/09521234000013/10/L/21/S", "", ("09521234000013", "L", True)),
        ("/01/09521234000013/22/V/10/L", "", ("09521234000013", "L", True)),
        ("/01/09521234000013/10/L/", "17=271231&format=json", ("09521234000013", "L", False)),
    ],
)
def test_digital_link_forms(path: str, query: str, expected: tuple[str, str, bool]) -> None:
    assert link(path, query) == expected


@pytest.mark.parametrize(
    ("path", "query", "status", "reason"),
    [
        ("/01/09521234000014/10/L", "", 400, "wrong check digit 4, expected 3"),
        ("/01/09521234000013/10/" + "L" * 21, "", 400, "at most 20"),
        ("/01/09521234000013/10/%C3%A9", "", 400, "GS1 character set 82"),
        ("/01/09521234000013/10/%FF", "", 400, "not valid UTF-8"),
        ("/01/09521234000013/10/%zz", "", 400, "malformed percent-encoding"),
        ("/01/09521234000013/99/L", "", 400, "unknown GS1 application identifier '99'"),
        ("/01/09521234000013/15/261231", "", 400, "not a key qualifier"),
        ("/414/0614141000012", "", 404, "not GLNs"),
        ("/01/09521234000013", "", 404, "no lot in the link"),
        ("/01/09521234000013", "01=1", 400, "goes in the path"),
        ("/01/09521234000013/10/..", "", 400, "dot segments"),
        ("/" + "1" * 1100, "", 414, "longer than 1024 bytes"),
        ("/01/09521234000013/10/L", "x=" + "y" * 3000, 414, "longer than 2048 bytes"),
    ],
)
def test_malformed_links_are_refused_with_status_and_reason(
    path: str, query: str, status: int, reason: str
) -> None:
    with pytest.raises(LinkError) as caught:
        link(path, query)
    assert caught.value.status == status and reason in caught.value.reason


@pytest.mark.parametrize(
    ("header", "best"),
    [
        (None, "html"),
        ("*/*", "html"),
        ("application/json", "json"),
        ("application/*", "json"),
        ("text/*;q=0.2, application/json;q=0.3", "json"),
        ("application/linkset+json, application/json;q=0.5", "linkset"),
        ("text/html;q=0, */*", "json"),
    ],
)
def test_accept_header_qualities(header: str | None, best: str) -> None:
    quality = _accept(header)
    order = ["html", "json", "linkset"]
    assert max(order, key=lambda k: (quality.get(k, 0), -order.index(k))) == best


def test_accept_header_too_long() -> None:
    with pytest.raises(Problem, match="longer than 1024"):
        _accept("a/b," * 300)


def test_directory_entry_hash_is_its_canonical_json() -> None:
    entry = DirectoryEntry(FARM.lower(), "  Green Valley Farm ", {"gln": "0614141000012"})
    assert entry.address == FARM and entry.name == "Green Valley Farm"
    assert entry.canonical() == (
        b'{"address":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","gln":"0614141000012",'
        b'"name":"Green Valley Farm"}'
    )
    directory = Directory((entry,))
    assert directory.verified_names([(FARM, entry.metadata_hash)]) == {FARM: "Green Valley Farm"}
    assert directory.verified_names([(FARM, "0x" + "00" * 32)]) == {}
    assert Directory.parse(directory.to_json()) == directory


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected"),
        ({"participants": [{"name": "x"}]}, "needs an address and a name"),
        ({"participants": [{"address": "0x12", "name": "x"}]}, "invalid participant"),
        ({"participants": [{"address": FARM, "name": "a\nb"}]}, "printable"),
        ({"participants": [{"address": FARM, "name": "x", "gln": 5}]}, "extra fields"),
    ],
)
def test_bad_directories_are_refused(data: object, message: str) -> None:
    with pytest.raises((ConfigError, InvalidInput), match=message):
        Directory.parse(data)


# ------------------------------------------------------------------------ the cache


def run_async(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run on a thread of its own: in a full run, Playwright's sync API (the session's browser)
    keeps an event loop running on the main thread, where `asyncio.run` refuses to start."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]


class FakeSource:
    """A chain whose head and events the test moves by hand."""

    chain_id = 1
    registry = "0x" + "11" * 20

    def __init__(self) -> None:
        self.block = 10
        self.events: dict[int, frozenset[str]] = {}
        self.calls = 0
        self.down = False
        self.gate: threading.Event | None = None

    def head(self) -> Head:
        if self.down:
            raise SourceUnavailable("down")
        return Head(self.block, 1000 + self.block)

    def verify(self, batch_id: str) -> Verified:
        self.calls += 1
        head = self.head()
        if self.gate is not None:
            self.gate.wait(5)
        return Verified(batch_id, None, head, frozenset({batch_id, "0xfamily"}))

    def touched(self, after: int, upto: int) -> frozenset[str]:
        found: set[str] = set()
        for block in range(after + 1, upto + 1):
            found |= self.events.get(block, frozenset())
        return frozenset(found)


def test_concurrent_requests_share_one_computation() -> None:
    source = FakeSource()
    cache = ReportCache(source, head_ttl=0)  # type: ignore[arg-type]

    async def main() -> None:
        results = await asyncio.gather(*(cache.get("0xabc") for _ in range(20)))
        assert len({id(entry) for entry, _head in results}) == 1

    run_async(main())
    assert source.calls == 1 and cache.misses == 1


def test_events_outside_the_family_keep_the_entry_inside_drop_it() -> None:
    source = FakeSource()
    cache = ReportCache(source, head_ttl=0)  # type: ignore[arg-type]

    async def main() -> None:
        await cache.get("0xabc")
        source.block, source.events[11] = 11, frozenset({"0xother"})
        _entry, head = await cache.get("0xabc")
        assert source.calls == 1 and head.block == 11
        source.block, source.events[12] = 12, frozenset({"0xfamily"})
        await cache.get("0xabc")
        assert source.calls == 2

    run_async(main())


def test_a_report_that_an_event_overtook_while_computing_is_not_kept() -> None:
    source = FakeSource()
    cache = ReportCache(source, head_ttl=0)  # type: ignore[arg-type]

    async def main() -> None:
        await cache.head()
        source.gate = threading.Event()
        pending = asyncio.ensure_future(cache.get("0xabc"))
        await asyncio.sleep(0.05)  # the computation read head 10 and waits
        source.block, source.events[11] = 11, frozenset({"0xfamily"})
        await cache.head()  # the cache moves to 11: the family was touched
        source.gate.set()
        await pending
        assert len(cache) == 0  # not kept: it may miss block 11
        source.gate = None
        await cache.get("0xabc")
        assert len(cache) == 1 and source.calls == 2

    run_async(main())


def test_a_down_source_fails_fast_then_is_asked_again() -> None:
    source = FakeSource()
    cache = ReportCache(source, head_ttl=0, retry_after=0.2)  # type: ignore[arg-type]

    async def main() -> None:
        source.down = True
        with pytest.raises(SourceUnavailable):
            await cache.get("0xabc")
        source.down = False
        with pytest.raises(SourceUnavailable):  # remembered for retry_after
            await cache.get("0xabc")
        time.sleep(0.25)
        await cache.get("0xabc")

    run_async(main())


def test_the_chain_going_back_drops_everything() -> None:
    source = FakeSource()
    cache = ReportCache(source, head_ttl=0)  # type: ignore[arg-type]

    async def main() -> None:
        await cache.get("0xabc")
        source.block = 9
        await cache.get("0xabc")
        assert source.calls == 2

    run_async(main())


def test_the_listening_socket_says_it_is_tcp_so_answers_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY only on sockets created as IPPROTO_TCP; without it each answer
    waited ~40 ms for the client's delayed ACK (Nagle), capping one client near 22 pages/s."""
    import socket

    from provenance.web.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
