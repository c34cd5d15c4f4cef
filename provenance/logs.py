"""Reading event logs: adaptive block ranges, RPC call counting, and decoding into `Event` records.

Public RPC providers cap `eth_getLogs` (a few thousand blocks, or 10k results). `fetch_logs` asks
for at most `max_range` blocks at a time and, when a node refuses a range, halves it and retries,
so the same code works on Anvil and on a rate-limited provider.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_typing import ChecksumAddress, HexStr
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.middleware.base import Web3Middleware
from web3.types import FilterParams, LogReceipt, RPCEndpoint, RPCResponse

from provenance.chain import EMBEDDED, Chain, is_connection_error, node_message
from provenance.exceptions import ChainError
from provenance.rpc import is_range_refusal

DEFAULT_MAX_RANGE = 10_000

Topic = HexStr | Sequence[HexStr] | None


# ---------------------------------------------------------------------------- call counting


@dataclass
class CallCounter:
    """Counts the JSON-RPC calls a `Web3` makes while attached (see `count_calls`)."""

    by_method: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_method.values())

    @property
    def get_logs(self) -> int:
        return self.by_method["eth_getLogs"]

    def record(self, method: str) -> None:
        self.by_method[method] += 1

    def reset(self) -> None:
        self.by_method.clear()


def _counting_middleware(counter: CallCounter) -> type[Web3Middleware]:
    class _Counting(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
                counter.record(str(method))
                return make_request(method, params)  # type: ignore[no-any-return]

            return middleware

    return _Counting


#: Counters attached to a `Web3`, for the calls made past its middleware (`_get_logs_raw`).
_ATTACHED: weakref.WeakKeyDictionary[Web3, list[CallCounter]] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def count_calls(target: Chain | Web3, counter: CallCounter | None = None) -> Iterator[CallCounter]:
    """Count every RPC call made through `target` inside the `with` block."""
    w3 = target.w3 if isinstance(target, Chain) else target
    counter = counter if counter is not None else CallCounter()
    name = f"provenance-call-counter-{id(counter)}"
    w3.middleware_onion.add(_counting_middleware(counter), name=name)
    _ATTACHED.setdefault(w3, []).append(counter)
    try:
        yield counter
    finally:
        w3.middleware_onion.remove(name)
        _ATTACHED[w3].remove(counter)


# ---------------------------------------------------------------------------- fetching


def fetch_logs(
    chain: Chain,
    address: str | Sequence[str],
    topics: Sequence[Topic],
    from_block: int,
    to_block: int | str = "latest",
    *,
    max_range: int | None = None,
    raw: bool = False,
) -> list[LogReceipt]:
    """All logs of `address` matching `topics` in [from_block, to_block], in chain order.

    `raw`: the node's JSON as is (hex strings), without web3's result formatting, which costs
    about as much as decoding on a long history; `EventDecoder` reads both forms.

    Asks for at most `max_range` blocks per call (default: the whole range on a local chain,
    `DEFAULT_MAX_RANGE` elsewhere, where providers cap it); a refused range is halved and retried
    (down to one block). The smaller range is kept for the rest of the scan and grows back
    (doubling) after each success, so a dense stretch of blocks costs a few extra calls, not one
    per block.
    """
    if max_range is None:
        max_range = sys.maxsize if chain.is_local else DEFAULT_MAX_RANGE
    if max_range < 1:
        raise ValueError("max_range must be at least 1")
    w3 = chain.w3
    # the embedded chain's provider needs web3's request formatting (snake_case filter keys)
    raw = raw and chain.rpc != EMBEDDED
    end_block = w3.eth.block_number if to_block == "latest" else int(to_block)
    addresses: list[ChecksumAddress] | ChecksumAddress = (
        to_checksum_address(address)
        if isinstance(address, str)
        else [to_checksum_address(a) for a in address]
    )
    found: list[LogReceipt] = []
    start, span = from_block, max_range
    while start <= end_block:
        end = min(end_block, start + span - 1)
        params: FilterParams = {
            "address": addresses,
            "topics": list(topics),  # type: ignore[typeddict-item]
            "fromBlock": start,
            "toBlock": end,
        }
        try:
            found.extend(_get_logs_raw(w3, params) if raw else w3.eth.get_logs(params))
        except Exception as exc:
            if is_connection_error(exc):  # a timeout is not a refusal: asking less won't help
                raise chain.failure(exc, f"reading logs of blocks {start}-{end}") from exc
            if not is_range_refusal(exc):
                raise ChainError(
                    f"eth_getLogs failed for blocks {start}-{end}: {node_message(exc)}"
                ) from exc
            if end == start:
                raise ChainError(
                    f"the node refuses eth_getLogs even for the single block {start}: "
                    f"{node_message(exc)}"
                ) from exc
            span = max(1, (end - start + 1) // 2)
            continue
        start = end + 1
        span = min(max_range, span * 2)
    found.sort(key=lambda log: (_int(log["blockNumber"]), _int(log["logIndex"])))
    return found


def _get_logs_raw(w3: Web3, params: FilterParams) -> list[LogReceipt]:
    """`eth_getLogs` straight to the provider; the attached call counters still see it."""
    for counter in _ATTACHED.get(w3, ()):
        counter.record("eth_getLogs")
    query = {
        **params,
        "fromBlock": hex(int(params["fromBlock"])),  # type: ignore[arg-type]
        "toBlock": hex(int(params["toBlock"])),  # type: ignore[arg-type]
    }
    response = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [query])
    error = response.get("error")
    if error is not None:
        raise ValueError(error if isinstance(error, dict) else {"message": str(error)})
    return list(response.get("result") or [])


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    return bytes(value)


# ---------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded event log. `args` hold JSON-friendly values: addresses checksummed, bytes as
    0x-hex strings, ints as ints, tuples (structs) as dicts."""

    name: str
    args: Mapping[str, Any]
    block_number: int
    log_index: int
    tx_hash: str = ""
    address: str = ""

    @property
    def key(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


WordDecoder = Callable[[bytes], Any]


def _word_decoder(kind: str) -> WordDecoder | None:
    """How to read a static ABI type from its one 32-byte word, as `plain(abi_decode(…))` would
    give it; None for a type that needs eth-abi (dynamic, tuple, array)."""
    if kind == "address":
        return lambda word: _checksum("0x" + word[12:].hex())
    if kind == "bool":
        return lambda word: any(word)
    if kind.startswith("uint") and kind[4:].isdigit():
        return lambda word: int.from_bytes(word, "big")
    if kind.startswith("int") and kind[3:].isdigit():
        return lambda word: int.from_bytes(word, "big", signed=True)
    if kind.startswith("bytes") and kind[5:].isdigit():
        size = int(kind[5:])
        return lambda word: "0x" + word[:size].hex()
    return None


@dataclass(frozen=True)
class _EventSpec:
    """An event ABI prepared for fast decoding: indexed inputs from topics, the rest from data.
    Static types are read word by word (`topic_readers`, `data_readers`); an event with any
    other type in its data goes through eth-abi."""

    name: str
    indexed: tuple[Mapping[str, Any], ...]
    unindexed: tuple[Mapping[str, Any], ...]
    unindexed_types: tuple[str, ...]
    topic_readers: tuple[WordDecoder | None, ...]
    data_readers: tuple[WordDecoder, ...] | None


class EventDecoder:
    """Decodes logs of one or more contract ABIs by their topic 0.

    Decoding goes straight through eth-abi with the event layouts prepared once: web3's generic
    `get_event_data` costs milliseconds per log, which dominated verification of long histories.
    """

    def __init__(self, *abis: Sequence[Mapping[str, Any]]) -> None:
        self._by_topic: dict[bytes, _EventSpec] = {}
        self._topics: dict[str, HexStr] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous", False):
                    topic = event_abi_to_log_topic(dict(item))  # type: ignore[arg-type]
                    inputs = tuple(item.get("inputs", ()))
                    unindexed = tuple(i for i in inputs if not i.get("indexed"))
                    indexed = tuple(i for i in inputs if i.get("indexed"))
                    types = tuple(collapse_if_tuple(dict(i)) for i in unindexed)
                    readers = [_word_decoder(t) for t in types]
                    self._by_topic[topic] = _EventSpec(
                        name=str(item["name"]),
                        indexed=indexed,
                        unindexed=unindexed,
                        unindexed_types=types,
                        topic_readers=tuple(
                            _word_decoder(collapse_if_tuple(dict(i))) for i in indexed
                        ),
                        data_readers=(
                            tuple(r for r in readers if r is not None)
                            if all(r is not None for r in readers)
                            else None
                        ),
                    )
                    self._topics[str(item["name"])] = HexStr("0x" + topic.hex())

    def topic(self, name: str) -> HexStr:
        """Topic 0 of the event called `name`."""
        try:
            return self._topics[name]
        except KeyError:
            raise ChainError(f"no event {name!r} in the contract ABI") from None

    def decode(self, log: Mapping[str, Any]) -> Event | None:
        """Decode one log; None if its topic 0 is not an event of these ABIs."""
        topics = log.get("topics") or []
        if not topics:
            return None
        spec = self._by_topic.get(_bytes(topics[0]))
        if spec is None:
            return None
        args: dict[str, Any] = {}
        for abi_input, reader, topic in zip(
            spec.indexed, spec.topic_readers, topics[1:], strict=True
        ):
            # dynamic types (and structs, arrays) are indexed by their hash
            args[abi_input["name"]] = _hex(topic) if reader is None else reader(_bytes(topic))
        data = _bytes(log.get("data") or b"")
        if spec.data_readers is not None and len(data) == 32 * len(spec.data_readers):
            for i, (abi_input, read) in enumerate(
                zip(spec.unindexed, spec.data_readers, strict=True)
            ):
                args[abi_input["name"]] = read(data[32 * i : 32 * i + 32])
        else:
            values = abi_decode(list(spec.unindexed_types), data)
            for abi_input, value in zip(spec.unindexed, values, strict=True):
                args[abi_input["name"]] = named(value, abi_input)
        tx_hash = log.get("transactionHash")
        return Event(
            name=spec.name,
            args=args,
            block_number=_int(log["blockNumber"]),
            log_index=_int(log["logIndex"]),
            tx_hash=_hex(tx_hash) if tx_hash is not None else "",
            address=_checksum(str(log["address"])) if log.get("address") else "",
        )

    def decode_all(self, logs: Sequence[Mapping[str, Any]]) -> list[Event]:
        """Decode logs (unknown ones skipped), sorted by (block, log index), duplicates dropped."""
        seen: set[tuple[int, int]] = set()
        events = []
        for log in logs:
            event = self.decode(log)
            if event is not None and event.key not in seen:
                seen.add(event.key)
                events.append(event)
        events.sort(key=lambda e: e.key)
        return events


def named(value: Any, abi_input: Mapping[str, Any]) -> Any:
    """A decoded value as plain JSON-friendly Python, structs as dicts keyed by field name."""
    kind = str(abi_input["type"])
    if kind.startswith("tuple"):
        components = abi_input.get("components", ())
        if kind == "tuple":
            return {c["name"]: named(v, c) for c, v in zip(components, value, strict=True)}
        element = {**abi_input, "type": kind[: kind.rindex("[")]}
        return [named(v, element) for v in value]
    return plain(value)


@functools.lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return to_checksum_address(address)


def plain(value: Any) -> Any:
    """A decoded ABI value as plain JSON-friendly Python."""
    if isinstance(value, bytes | bytearray):
        return _hex(value)
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return _checksum(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return "0x" + bytes(value).hex()


def address_topic(address: str) -> HexStr:
    """An address as a 32-byte topic."""
    return HexStr("0x" + "0" * 24 + to_checksum_address(address)[2:].lower())


__all__ = [
    "DEFAULT_MAX_RANGE",
    "CallCounter",
    "Event",
    "EventDecoder",
    "address_topic",
    "count_calls",
    "fetch_logs",
    "is_range_refusal",
    "named",
    "plain",
]
