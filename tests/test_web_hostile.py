"""Bad input never yields a 500 or a traceback: a table of hostile requests, each with its status
and one-line reason, sent as raw bytes (an HTTP client would clean some of them up first), and a
chain that goes down and comes back while the server runs."""

from __future__ import annotations

import html
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

from provenance.chain import connect
from provenance.web.app import create_app
from provenance.web.server import running
from provenance.web.source import RpcSource
from scripts.screenshots import Site
from tests.support.web import Switch

pytestmark = pytest.mark.anvil

G = "09521234000013"  # the demo's jam
LOT_A = f"/01/{G}/10/JAM-2026-01-A"
UVICORN_400 = "Invalid HTTP request received."


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send(base: str, method: str, target: bytes, headers: dict[str, str] | None = None,
         body: bytes = b"") -> Answer:  # fmt: skip
    """One request as raw bytes on a fresh connection (Connection: close), its answer parsed."""
    url = urlparse(base)
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {url.netloc}".encode()]
    for name, value in {"Connection": "close", **(headers or {})}.items():
        lines.append(f"{name}: {value}".encode("latin-1"))
    if body:
        lines.append(f"Content-Length: {len(body)}".encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), parsed, payload)


JSON = {"Accept": "application/json"}

#: (id, method, target, headers, status, reason in the answer). The reason is the one line the
#: client reads: the JSON "error" (Accept: application/json), or uvicorn's own line when the
#: HTTP parser refuses the request before the app sees it.
HOSTILE: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
    ("overlong path", "GET", f"/01/{G}/10/{'A' * 5000}".encode(), JSON, 414,
     "request path longer than 1024 bytes"),
    ("path of 20 KB", "GET", f"/01/{G}/10/{'A' * 20000}".encode(), JSON, 414,
     "request path longer than 1024 bytes"),
    ("invalid UTF-8 (percent-encoded)", "GET", f"/01/{G}/10/%FF%FE".encode(), JSON, 400,
     "not valid UTF-8"),
    ("raw byte outside ASCII", "GET", f"/01/{G}/10/J\xe9M".encode("latin-1"), JSON, 400,
     UVICORN_400),
    ("NUL in the lot", "GET", f"/01/{G}/10/A%00B".encode(), JSON, 400,
     "not in the GS1 character set 82"),
    ("malformed percent escape", "GET", f"/01/{G}/10/A%G1".encode(), JSON, 400,
     "malformed percent-encoding"),
    ("path traversal", "GET", b"/01/../../etc/passwd", JSON, 400, "dot segments"),
    ("encoded path traversal", "GET", b"/01/%2e%2e/%2E%2E/etc/passwd", JSON, 400, "dot segments"),
    ("traversal from /static", "GET", b"/static/../../pyproject.toml", JSON, 400, "dot segments"),
    ("encoded slash from /static", "GET", b"/static/..%2f..%2fpyproject.toml", JSON, 404,
     "no page here"),
    ("absolute-form target", "GET", f"http://evil.example{LOT_A}".encode(), JSON, 404,
     "Not Found"),
    ("huge query string", "GET", f"{LOT_A}?x={'y' * 10000}".encode(), JSON, 414,
     "query string longer than 2048 bytes"),
    ("invalid UTF-8 in the query", "GET", f"/01/{G}?10=%FF".encode(), JSON, 400,
     "not valid UTF-8"),
    ("unknown AI in the path", "GET", f"/01/{G}/99/X".encode(), JSON, 400,
     "unknown GS1 application identifier '99'"),
    ("unknown primary AI", "GET", b"/7777/123", JSON, 400, "unknown GS1 application identifier"),
    ("data attribute in the path", "GET", f"{LOT_A}/17/271231".encode(), JSON, 400,
     "not a key qualifier"),
    ("SSCC, not a GTIN", "GET", b"/00/095212340000000012", JSON, 404,
     "serves products (AI 01, GTIN), not SSCCs"),
    ("wrong check digit", "GET", b"/01/09521234000014/10/JAM-2026-01-A", JSON, 400,
     "wrong check digit 4, expected 3"),
    ("GTIN of 9 digits", "GET", b"/01/123456789/10/X", JSON, 400,
     "expected 8, 12, 13 or 14 digits, got 9"),
    ("GTIN with a letter", "GET", b"/01/0952123400001A/10/X", JSON, 400, "only the digits 0-9"),
    ("GTIN in Arabic-Indic digits", "GET", "/01/٠٩٥٢١٢٣٤٠٠٠٠١٣/10/X".encode(), JSON,
     400, UVICORN_400),
    ("GTIN in Arabic-Indic digits, encoded", "GET",
     b"/01/%D9%A0%D9%A9%D9%A5%D9%A2%D9%A1%D9%A2%D9%A3%D9%A4%D9%A0%D9%A0%D9%A0%D9%A0%D9%A1"
     b"%D9%A3/10/X", JSON, 400, "only the digits 0-9 are allowed"),
    ("lot of 21 characters", "GET", f"/01/{G}/10/{'L' * 21}".encode(), JSON, 400,
     "21 characters, at most 20 allowed"),
    ("space in the lot", "GET", f"/01/{G}/10/JAM%202026".encode(), JSON, 400,
     "not in the GS1 character set 82"),
    ("AI without a value", "GET", f"/01/{G}/10".encode(), JSON, 400, "AI 10 has no value"),
    ("lot twice in the path", "GET", f"/01/{G}/10/A/10/B".encode(), JSON, 400, "appears twice"),
    ("lot in path and query differ", "GET", f"{LOT_A}?10=JAM-2026-01-B".encode(), JSON, 400,
     "two different lots"),
    ("lot twice in the query", "GET", f"/01/{G}?10=A&10=B".encode(), JSON, 400,
     "more than once"),
    ("qualifiers out of order", "GET", f"/01/{G}/21/S1/10/A".encode(), JSON, 400,
     "order 22, 10, 21"),
    ("empty segment", "GET", f"/01//{G}/10/A".encode(), JSON, 400, "empty segment"),
    ("GTIN without a lot", "GET", f"/01/{G}".encode(), JSON, 404, "no lot in the link"),
    ("unknown lot", "GET", f"/01/{G}/10/NO-SUCH-LOT".encode(), JSON, 404,
     "is recorded in this registry"),
    ("unknown format", "GET", f"{LOT_A}?format=xml".encode(), {}, 400, "unknown format 'xml'"),
    ("unknown link type", "GET", f"{LOT_A}?linkType=gs1:hacks".encode(), JSON, 404,
     "no link of type 'gs1:hacks'"),
    ("only images accepted", "GET", LOT_A.encode(), {"Accept": "image/png"}, 406,
     "answers text/html, application/json or application/linkset+json only"),
    ("Accept header of 2 KiB", "GET", LOT_A.encode(), {"Accept": "text/html," * 220}, 400,
     "Accept header longer than 1024 characters"),
    ("header of 20 KB", "GET", f"/01/{G}/10/NO-SUCH-LOT".encode(), {**JSON, "X-J": "j" * 20000},
     404, "is recorded in this registry"),
    ("POST with a body", "POST", LOT_A.encode(), JSON, 405, "method POST is not allowed"),
    ("PUT", "PUT", LOT_A.encode(), JSON, 405, "this resolver is read-only"),
    ("DELETE", "DELETE", LOT_A.encode(), JSON, 405, "this resolver is read-only"),
    ("TRACE", "TRACE", b"/", JSON, 405, "method TRACE is not allowed"),
    ("unknown method", "BREW", LOT_A.encode(), JSON, 405, "method BREW is not allowed"),
    ("HEAD", "HEAD", LOT_A.encode(), {}, 200, ""),
    ("OPTIONS", "OPTIONS", LOT_A.encode(), {}, 204, ""),
    ("a file that is not there", "GET", b"/favicon.ico", JSON, 404, "no page here"),
    ("chain down", "GET", LOT_A.encode(), JSON, 503,
     "the blockchain node behind this resolver does not answer"),
]  # fmt: skip


@pytest.fixture(scope="module")
def down_site(web_site: Site) -> Iterator[str]:
    """The demo's chain behind a relay that is cut: the server runs, the chain does not answer."""
    switch = Switch(int(urlparse(web_site.rpc).port or 0))
    chain = connect(switch.url)
    app = create_app(RpcSource(chain, web_site.result.deployment), head_ttl=0, retry_after=0)
    with running(app) as base:
        switch.down()
        yield base


def test_the_table_has_at_least_25_hostile_requests() -> None:
    assert len(HOSTILE) >= 25
    assert len({row[0] for row in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(
    ("method", "target", "headers", "status", "reason"),
    [row[1:] for row in HOSTILE],
    ids=[row[0] for row in HOSTILE],
)
def test_hostile_request_gets_its_status_and_a_one_line_reason(
    request: pytest.FixtureRequest,
    web_site: Site,
    method: str,
    target: bytes,
    headers: dict[str, str],
    status: int,
    reason: str,
) -> None:
    down = request.node.callspec.id == "chain down"
    base = request.getfixturevalue("down_site") if down else web_site.base
    body = b"x" * 100_000 if method == "POST" else b""
    answer = send(base, method, target, headers, body)
    assert answer.status == status, answer.text[:300]
    assert answer.status != 500 and "Traceback" not in answer.text
    if method == "HEAD":
        assert answer.body == b""
        return
    if method == "OPTIONS":
        assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
        return
    if reason == UVICORN_400:  # refused by the HTTP parser before the app
        assert answer.text.strip() == UVICORN_400
        return
    if headers.get("Accept") == "application/json" or "X-J" in headers:
        error = json.loads(answer.body)
        assert error["status"] == status
        assert reason in error["error"] and "\n" not in error["error"], error
    else:  # the HTML error page, with the reason on one line
        page = html.unescape(answer.text)
        assert '<p class="error__reason">' in page and reason in page
    if status == 405:
        assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
    if status == 503:
        assert answer.headers["retry-after"] == "30"


def test_down_chain_page_says_so_then_recovers_without_a_restart(web_site: Site) -> None:
    switch = Switch(int(urlparse(web_site.rpc).port or 0))
    chain = connect(switch.url)
    app = create_app(RpcSource(chain, web_site.result.deployment), head_ttl=0, retry_after=0)
    with running(app) as base:
        assert send(base, "GET", LOT_A.encode()).status == 200
        switch.down()
        down = send(base, "GET", LOT_A.encode())
        assert down.status == 503
        assert "The chain cannot be reached" in down.text
        assert "does not answer, so this lot cannot be checked right now" in down.text
        assert "Try again in a minute." in down.text
        switch.up()
        back = send(base, "GET", LOT_A.encode())
        assert back.status == 200 and "</span> WARNING</h1>" in back.text
        switch.down()


def test_a_down_chain_is_asked_again_after_retry_after(web_site: Site) -> None:
    """While down, requests fail fast for `retry_after` seconds instead of each waiting on the
    node; the first request after that asks the chain again."""
    switch = Switch(int(urlparse(web_site.rpc).port or 0))
    chain = connect(switch.url)
    app = create_app(RpcSource(chain, web_site.result.deployment), head_ttl=0, retry_after=0.5)
    with running(app) as base:
        switch.down()
        assert send(base, "GET", LOT_A.encode()).status == 503
        switch.up()
        assert send(base, "GET", LOT_A.encode()).status == 503  # remembered for 0.5 s
        import time

        time.sleep(0.6)
        assert send(base, "GET", LOT_A.encode()).status == 200
        switch.down()
