"""pytest plugin: the demo's chain served by the resolver, a real browser, a chain that goes down.

- `web_site` (session): Anvil on a free port, the demo story played on it, the resolver serving
  it from a thread on 127.0.0.1 (`scripts/screenshots.py`'s harness, which also makes the
  README's screenshots). Tests that write to a chain use `fresh_site` instead.
- `browser` (session): the system Chromium through Playwright. Never skipped: without Chromium
  the tests fail and say what to install (`make test` installs it where it can).
- `Switch`: a TCP relay in front of a node that can be cut and restored, to play "the chain is
  down" without stopping the node.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.screenshots import Site, chromium_path, demo_site, launch_chromium
from tests.support import PROJECT_ROOT

#: Where the browser tests leave their screenshots (a test artifact, not compared to anything).
ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def web_site() -> Iterator[Site]:
    with demo_site() as site:
        yield site


@pytest.fixture
def fresh_site() -> Iterator[Site]:
    """A demo chain of the test's own (for tests that write to it), served with no head TTL."""
    with demo_site(head_ttl=0.0) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if chromium_path() is None:
        pytest.fail(
            "the browser tests need Chromium: install it (Debian: apt-get install chromium, "
            "which `make test` does as root) or set PROVENANCE_CHROMIUM=/path/to/chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def web_artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Switch:
    """Relays 127.0.0.1:<port> to a target port; `down()` closes the listener and every relayed
    connection (clients get "connection refused"), `up()` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):  # wakes the accept() of the relay thread
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
