"""A JSON-RPC proxy on 127.0.0.1 that imitates a public provider in front of a local node.

    with RpcProxy(anvil_url, Limits(max_block_range=50, rate=20)) as proxy:
        ... talk to proxy.url ...
        assert proxy.early == 0      # nobody came back before its Retry-After

What it imitates, each switched on by a `Limits` field:

- `max_block_range`: an `eth_getLogs` over more blocks is refused with a JSON-RPC error
  (-32005, stating the cap, like Infura and Alchemy do, or without the figure: `state_cap`);
- `max_results`: an `eth_getLogs` whose answer would hold more logs is refused (-32005);
- `rate`: more than `rate` requests within one second get HTTP 429 with `Retry-After:
  retry_after`; until that time has passed every request gets 429 again and is counted in
  `early` (a client hammering the provider);
- `timeout_every` / `reset_every`: every Nth request is answered only after `stall` seconds
  (past the client's timeout), or has its connection reset (TCP RST, no answer).

JSON-RPC batches are split, limited and counted call by call. `calls` counts every call by
method, `requests` every HTTP request.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from tests.support import free_port


@dataclass(frozen=True)
class Limits:
    max_block_range: int | None = None
    state_cap: bool = True  # say the cap in the refusal ("max block range 50")
    max_results: int | None = None
    rate: int | None = None  # requests per second
    retry_after: int = 1  # seconds
    timeout_every: int | None = None
    stall: float = 1.0
    reset_every: int | None = None


class RpcProxy:
    """See the module doc. Start with `with RpcProxy(...)` or `start()`/`stop()`."""

    def __init__(self, upstream: str, limits: Limits | None = None) -> None:
        self.upstream = upstream
        self.limits = limits or Limits()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.requests = 0
        self.throttled = 0
        self.early = 0
        self.timeouts = 0
        self.resets = 0
        self.refusals = 0
        self.arrivals: deque[float] = deque()
        self.blocked_until = 0.0
        self._served = 0
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RpcProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RpcProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self.lock:
            self.calls.clear()
            self.requests = self.throttled = self.early = 0
            self.timeouts = self.resets = self.refusals = 0

    # ------------------------------------------------------------------ policy

    def _admit(self) -> tuple[str, int]:
        """("429", seconds) | ("stall", 0) | ("reset", 0) | ("ok", 0) for an arriving request."""
        limits = self.limits
        with self.lock:
            self.requests += 1
            now = time.monotonic()
            if now < self.blocked_until:
                self.early += 1
                self.throttled += 1
                return "429", max(1, round(self.blocked_until - now))
            if limits.rate is not None:
                while self.arrivals and self.arrivals[0] <= now - 1.0:
                    self.arrivals.popleft()
                if len(self.arrivals) >= limits.rate:
                    self.throttled += 1
                    self.blocked_until = now + limits.retry_after
                    return "429", limits.retry_after
                self.arrivals.append(now)
            self._served += 1
            if limits.reset_every and self._served % limits.reset_every == 0:
                self.resets += 1
                return "reset", 0
            if limits.timeout_every and self._served % limits.timeout_every == 0:
                self.timeouts += 1
                return "stall", 0
            return "ok", 0

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        method = str(call.get("method"))
        with self.lock:
            self.calls[method] += 1
        limits = self.limits
        if method == "eth_getLogs" and limits.max_block_range is not None:
            query = call["params"][0]
            first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            if last - first + 1 > limits.max_block_range:
                with self.lock:
                    self.refusals += 1
                message = (
                    f"query exceeds max block range {limits.max_block_range}"
                    if limits.state_cap
                    else "block range too large"
                )
                return _error(call, -32005, message)
        answer = self._forward(call)
        if (
            method == "eth_getLogs"
            and limits.max_results is not None
            and isinstance(answer.get("result"), list)
            and len(answer["result"]) > limits.max_results
        ):
            with self.lock:
                self.refusals += 1
            return _error(call, -32005, f"query returned more than {limits.max_results} results")
        return answer

    def _forward(self, call: dict[str, Any]) -> dict[str, Any]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        reply = session.post(self.upstream, json=call, timeout=30)
        return dict(reply.json())

    # ------------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                verdict, seconds = proxy._admit()
                if verdict == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                if verdict == "429":
                    self._send(429, b'{"error":"too many requests"}', {"Retry-After": str(seconds)})
                    return
                if verdict == "stall":
                    time.sleep(proxy.limits.stall)
                payload = json.loads(body)
                if isinstance(payload, list):
                    answer: Any = [proxy._answer(call) for call in payload]
                else:
                    answer = proxy._answer(payload)
                try:
                    self._send(200, json.dumps(answer).encode(), {})
                except OSError:  # the client gave up waiting (a stalled answer)
                    self.close_connection = True

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(call: dict[str, Any], code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": code, "message": message}}
