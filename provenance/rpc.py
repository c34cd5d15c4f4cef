"""Raw JSON-RPC reads that survive a public provider's limits, and paged `eth_getLogs`.

Public RPC providers cap what one `eth_getLogs` may cover (a few thousand blocks, or 10k–20k
results), answer HTTP 429 with a `Retry-After` when a client asks too often, and now and then time
out or drop the connection. This module is the one place that copes with all of it, for every
read that pages through history (the index sync; the verify RPC path later):

- `JsonRpc` sends idempotent reads (single calls and JSON-RPC batches) over one keep-alive HTTP
  session. A 429 (or 503) waits exactly as long as the server's `Retry-After` says, and every
  later request of the same client waits too: no request leaves before the server allows it.
  Timeouts, connection resets and 5xx answers are retried with exponential backoff and jitter,
  up to `RetryPolicy.attempts` tries; then `ChainError`. A JSON-RPC error answer is never retried
  here: it is raised as `RpcError` for the caller to judge (`LogPager` shrinks its range).
- `LogPager` walks a block range in pages: it halves a range the provider refuses (too many
  blocks or too many results), remembers a block-range cap once a provider states or shows one,
  and sizes pages by the results they return (`target_results` per page) so that memory stays
  flat however dense the history is.

Only reads go through here: retrying them is always safe. Transactions have their own path
(`provenance.transactions`, with the outbox).
"""

from __future__ import annotations

import email.utils
import itertools
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from provenance.exceptions import ChainError

#: Blocks per `eth_getLogs` when nothing is known of the endpoint: a local node takes any range,
#: remote providers cap it (2k–10k blocks is common), so start at the smallest common cap.
LOCAL_MAX_RANGE = 100_000
REMOTE_MAX_RANGE = 2_000
#: Logs per page the pager aims at (a page is held in memory while it is stored).
TARGET_RESULTS = 2_000
#: Blocks in the first page, before the density of the history is known (then it doubles or
#: shrinks to aim at TARGET_RESULTS): a block of bulk transactions can hold hundreds of logs.
FIRST_SPAN = 16

#: Fragments of the answers nodes and providers give when a getLogs range or result is too big.
_REFUSALS = (
    "more than",  # "query returned more than 10000 results"
    "range too large",
    "range is too large",
    "block range",
    "too many",
    "limit exceeded",
    "exceeds",
    "exceed maximum",
    "response size",
    "payload too large",
    "entity too large",
    "413",
    "-32005",
    "timeout",
    "timed out",
)
#: Of those, the ones that mean "too many results" (the cap is on data, not on the range).
_RESULT_REFUSALS = ("more than", "results", "response size", "too many", "payload", "entity")
#: A cap the provider states: "max block range 2000", "range limit (500)", "up to 1000 blocks".
_STATED_CAP = re.compile(
    r"(?:block range|range limit|max(?:imum)?(?: block)? range)\D{0,24}?(\d+)|(\d+) blocks",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------ errors


class RpcError(ChainError):
    """The endpoint answered a JSON-RPC error object (`code`, `message`, `data`)."""

    def __init__(self, method: str, error: Mapping[str, Any]) -> None:
        self.method = method
        self.code = error.get("code")
        self.message = str(error.get("message", ""))
        self.data = error.get("data")
        super().__init__(f"{method} failed: {self.message} (code {self.code})")


class Unavailable(ChainError):
    """The endpoint could not be reached, or kept failing or throttling, after every retry."""


class HttpRefusal(ChainError):
    """The endpoint refused the request with an HTTP status that means "ask for less" (413)."""

    def __init__(self, status: int, text: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {text[:200]}")


def is_range_refusal(exc: BaseException) -> bool:
    """Whether a getLogs failure means "ask for fewer blocks or results", not a real error."""
    if isinstance(exc, HttpRefusal):
        return True
    if isinstance(exc, Unavailable):
        return False
    response = getattr(exc, "response", None)
    if getattr(response, "status_code", None) == 413:
        return True
    text = f"{exc!s} {getattr(exc, 'rpc_response', '')}".lower()
    return any(fragment in text for fragment in _REFUSALS)


def _is_result_refusal(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(fragment in text for fragment in _RESULT_REFUSALS)


#: A result cap the provider states: "query returned more than 10000 results".
_STATED_RESULTS = re.compile(r"more than (\d+) (?:results|logs)", re.IGNORECASE)


def _stated_results(exc: BaseException) -> int | None:
    match = _STATED_RESULTS.search(str(exc))
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _stated_cap(exc: BaseException) -> int | None:
    match = _STATED_CAP.search(str(exc))
    if match is None:
        return None
    value = int(match.group(1) or match.group(2))
    return value if value > 0 else None


# ---------------------------------------------------------------------------- transport


@dataclass(frozen=True)
class RetryPolicy:
    """How `JsonRpc` treats a provider's limits and failures."""

    #: Tries per request for timeouts, connection resets and 5xx answers (the first included).
    attempts: int = 8
    #: Seconds one HTTP request may take.
    timeout: float = 30.0
    #: First wait after a failure, doubled at each further one (with up to 25 % jitter) ...
    backoff: float = 0.25
    #: ... up to this many seconds.
    max_backoff: float = 16.0
    #: 429 answers to sit out per request (each waits its `Retry-After`) before giving up.
    throttled_attempts: int = 30
    #: A `Retry-After` longer than this fails the request instead of waiting.
    max_retry_after: float = 300.0
    #: Wait when a 429 names no `Retry-After`.
    default_retry_after: float = 1.0
    #: Client-side pacing: at most this many HTTP requests a second (None: as fast as answered).
    max_rps: float | None = None


@dataclass
class RpcStats:
    """What a `JsonRpc` sent and sat out."""

    http_requests: int = 0
    #: JSON-RPC calls by method (a batch of n calls counts n).
    calls: Counter[str] = field(default_factory=Counter)
    throttled: int = 0  # 429/503 answers
    failures: int = 0  # timeouts, resets, 5xx, unreadable answers
    waited: float = 0.0  # seconds slept on Retry-After, backoff and pacing

    def to_json(self) -> dict[str, Any]:
        return {
            "http_requests": self.http_requests,
            "calls": dict(sorted(self.calls.items())),
            "throttled": self.throttled,
            "failures": self.failures,
            "waited_seconds": round(self.waited, 3),
        }


class JsonRpc:
    """Idempotent JSON-RPC reads over HTTP with the limits of `policy` (see the module doc)."""

    def __init__(
        self,
        url: str,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.policy = policy or RetryPolicy()
        self.stats = RpcStats()
        self._sleep_fn = sleep
        self._clock = clock
        self._session = requests.Session()
        self._ids = itertools.count(1)
        self._not_before = 0.0  # no request leaves before this (Retry-After, pacing)
        self._lock = threading.Lock()
        self._random = random.Random()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> JsonRpc:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ calls

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call's result; `RpcError` if the endpoint answers an error object."""
        payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        self.stats.calls[method] += 1
        reply = self._post(payload, method)
        if not isinstance(reply, dict):
            raise ChainError(f"{method}: unexpected answer from {self.url}: {str(reply)[:200]}")
        if reply.get("error") is not None:
            raise RpcError(method, _error_object(reply["error"]))
        return reply.get("result")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """The results of several calls sent as one JSON-RPC batch, in order. An endpoint that
        does not take batches gets the calls one by one."""
        if not calls:
            return []
        if len(calls) == 1:
            return [self.call(*calls[0])]
        first = next(self._ids)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        self._ids = itertools.count(first + len(calls))
        for method, _ in calls:
            self.stats.calls[method] += 1
        reply = self._post(payload, calls[0][0])
        if not isinstance(reply, list):  # no batch support: an error object for the whole batch
            return [self.call(method, params) for method, params in calls]
        by_id = {item.get("id"): item for item in reply if isinstance(item, dict)}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(first + i)
            if item is None:
                raise ChainError(f"{method}: no answer in the batch from {self.url}")
            if item.get("error") is not None:
                raise RpcError(method, _error_object(item["error"]))
            results.append(item.get("result"))
        return results

    # ------------------------------------------------------------------ reads used by sync

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def headers(self, numbers: Sequence[int], batch_size: int = 100) -> dict[int, BlockHeader]:
        """Headers of the blocks `numbers` (missing blocks are left out of the answer)."""
        found: dict[int, BlockHeader] = {}
        wanted = sorted(set(numbers))
        for start in range(0, len(wanted), max(1, batch_size)):
            chunk = wanted[start : start + batch_size]
            answers = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for number, block in zip(chunk, answers, strict=True):
                if block:
                    found[number] = BlockHeader.from_json(block)
        return found

    def header(self, number: int) -> BlockHeader | None:
        return self.headers([number]).get(number)

    # ------------------------------------------------------------------ HTTP

    def _post(self, payload: Any, method: str) -> Any:
        body = json.dumps(payload, separators=(",", ":"))
        policy = self.policy
        failures = throttled = 0
        while True:
            self._wait_turn()
            self.stats.http_requests += 1
            try:
                response = self._session.post(
                    self.url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=policy.timeout,
                )
            except requests.RequestException as exc:  # timeout, reset, refused, broken body
                failures += 1
                self._failed(method, failures, f"{type(exc).__name__}: {_short(exc)}")
                continue
            status = response.status_code
            if status in (429, 503) and (status == 429 or "Retry-After" in response.headers):
                throttled += 1
                self.stats.throttled += 1
                if throttled > policy.throttled_attempts:
                    raise Unavailable(
                        f"{method}: {self.url} kept answering HTTP {status} (rate limited) after "
                        f"{policy.throttled_attempts} waits; try later or lower --max-rps"
                    )
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = policy.default_retry_after
                if wait > policy.max_retry_after:
                    raise Unavailable(
                        f"{method}: {self.url} asks to wait {wait:.0f} s (HTTP {status} "
                        f"Retry-After), more than {policy.max_retry_after:.0f} s; try later"
                    )
                # A hair over the server's figure, so that no request arrives early.
                self._hold(wait + 0.05)
                continue
            if status == 413:
                raise HttpRefusal(status, response.text)
            if status >= 500:
                failures += 1
                self._failed(method, failures, f"HTTP {status}")
                continue
            try:
                data = response.json()
            except ValueError:
                if status >= 400:
                    raise ChainError(
                        f"{method}: {self.url} answered HTTP {status}: {response.text[:200]}"
                    ) from None
                failures += 1
                self._failed(method, failures, "an unreadable answer")
                continue
            if status >= 400 and not (isinstance(data, dict | list) and data):
                raise ChainError(f"{method}: {self.url} answered HTTP {status}")
            return data

    def _failed(self, method: str, failures: int, what: str) -> None:
        self.stats.failures += 1
        policy = self.policy
        if failures >= policy.attempts:
            raise Unavailable(
                f"{method}: {self.url} failed {failures} times in a row (last: {what}); "
                "is the endpoint up?"
            )
        delay = min(policy.max_backoff, policy.backoff * 2 ** (failures - 1))
        self._hold(delay * (1 + 0.25 * self._random.random()))

    def _hold(self, seconds: float) -> None:
        """No request of this client leaves for `seconds`."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _wait_turn(self) -> None:
        with self._lock:
            now = self._clock()
            wait = self._not_before - now
            if self.policy.max_rps:
                self._not_before = max(self._not_before, now) + 1.0 / self.policy.max_rps
        if wait > 0:
            self.stats.waited += wait
            self._sleep_fn(wait)


def _error_object(error: Any) -> Mapping[str, Any]:
    return error if isinstance(error, Mapping) else {"message": str(error)}


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"


# ------------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> BlockHeader:
        return cls(
            number=int(block["number"], 16),
            hash=str(block["hash"]).lower(),
            parent_hash=str(block["parentHash"]).lower(),
            timestamp=int(block["timestamp"], 16),
        )


# ------------------------------------------------------------------------------- paging


@dataclass(frozen=True)
class LogPage:
    """The logs of blocks `first`..`last` (raw JSON-RPC objects, in the node's order)."""

    first: int
    last: int
    logs: list[dict[str, Any]]


class LogPager:
    """Pages of `eth_getLogs` over a block range, sized to the provider's limits.

    One pager per endpoint and filter: what it learns (a stated block-range cap, a size that
    works) carries over to later `pages` calls, so a `--follow` loop does not probe again.
    """

    def __init__(
        self,
        rpc: JsonRpc,
        addresses: Sequence[str],
        topics: Sequence[Any] = (),
        *,
        max_range: int = REMOTE_MAX_RANGE,
        target_results: int = TARGET_RESULTS,
        first_span: int = FIRST_SPAN,
    ) -> None:
        if max_range < 1 or target_results < 1 or first_span < 1:
            raise ValueError("max_range, target_results and first_span must be at least 1")
        self.rpc = rpc
        self.addresses = [a.lower() for a in addresses]
        self.topics = list(topics)
        self.max_range = max_range
        self.target_results = target_results
        self.span = min(max_range, first_span)
        self.refusals = 0

    def pages(self, first: int, last: int) -> Iterator[LogPage]:
        """Pages covering `first`..`last` in order; each page's logs sorted by log position."""
        start = first
        while start <= last:
            end = min(last, start + self.span - 1)
            try:
                logs = self._get_logs(start, end)
            except ChainError as exc:
                if not is_range_refusal(exc):
                    raise
                self._refused(exc, end - start + 1, start)
                continue
            logs.sort(key=_log_position)
            yield LogPage(start, end, logs)
            self._grow(end - start + 1, len(logs))
            start = end + 1

    def _get_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "address": self.addresses if len(self.addresses) != 1 else self.addresses[0],
            "fromBlock": hex(start),
            "toBlock": hex(end),
        }
        if self.topics:
            params["topics"] = self.topics
        result = self.rpc.call("eth_getLogs", [params])
        if not isinstance(result, list):
            raise ChainError(f"eth_getLogs: unexpected answer {str(result)[:200]}")
        return result

    def _refused(self, exc: ChainError, span: int, start: int) -> None:
        self.refusals += 1
        if span <= 1:
            raise ChainError(
                f"the node refuses eth_getLogs even for the single block {start}: {exc}"
            ) from exc
        cap = _stated_cap(exc)
        if cap is not None and cap < span:
            self.max_range = min(self.max_range, cap)
            self.span = cap
        elif _is_result_refusal(exc):
            # Dense blocks: smaller pages, aiming under the provider's result cap from now on
            # (half of it when stated, else half of the aim so far); the range cap stays.
            results = _stated_results(exc)
            aim = results // 2 if results is not None else self.target_results // 2
            self.target_results = max(1, min(self.target_results, aim))
            self.span = max(1, span // 2)
        else:  # a range cap the provider did not state: never ask for this much again
            self.span = max(1, span // 2)
            self.max_range = min(self.max_range, self.span)

    def _grow(self, span: int, found: int) -> None:
        if found == 0:
            wanted = span * 2
        else:
            wanted = min(span * 2, max(1, span * self.target_results // found))
        self.span = max(1, min(self.max_range, wanted))


def _log_position(log: Mapping[str, Any]) -> tuple[int, int]:
    return int(log["blockNumber"], 16), int(log["logIndex"], 16)


__all__ = [
    "FIRST_SPAN",
    "LOCAL_MAX_RANGE",
    "REMOTE_MAX_RANGE",
    "TARGET_RESULTS",
    "BlockHeader",
    "HttpRefusal",
    "JsonRpc",
    "LogPage",
    "LogPager",
    "RetryPolicy",
    "RpcError",
    "RpcStats",
    "Unavailable",
    "is_range_refusal",
]
