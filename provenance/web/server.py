"""Running the resolver under uvicorn: in the foreground (`provenance serve`) or in a thread
(tests, screenshots, `provenance demo --serve` keeps it in the foreground too).

uvicorn runs with its pure-Python HTTP/1.1 parser (h11): it refuses malformed request lines and
bytes outside ASCII with a 400 of its own before the app sees them, and bounds a request's head
to 16 KiB.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from provenance.web.app import set_base_url


def _config(app: Any, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
        limit_concurrency=256,
        h11_max_incomplete_event_size=16 * 1024,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Any, sock: socket.socket, log_level: str = "info") -> None:
    """Serve `app` on the bound socket until interrupted (Ctrl-C / SIGTERM)."""
    host, port = sock.getsockname()[:2]
    uvicorn.Server(_config(app, host, port, log_level)).run(sockets=[sock])


@contextmanager
def running(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` from a thread while the block runs; yields its base URL."""
    sock = bind(host, port)
    base = url_of(sock)
    set_base_url(app, base)
    server = uvicorn.Server(_config(app, host, sock.getsockname()[1], "warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="provenance-web", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError("the web server did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


__all__ = ["bind", "running", "serve", "url_of"]
