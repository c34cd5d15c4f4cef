"""Where verification reads its events: the chain over JSON-RPC, or the local index topped up.

Both readers answer the question `eth_getLogs` answers (an address and topics, decoded events in
chain order) for the blocks from the deployment to the newest one they cover, so
`provenance.verify.collect` asks them the same questions and builds the same `History`:

- `RpcReader`: every event over RPC, up to the chain head read when it was opened;
- `IndexReader`: the index (`provenance.index.IndexStore`, opened read-only) up to its tip, and
  over RPC for the blocks (tip, head] — so an answer is never older than the chain (a recall
  mined a second ago shows). The tip must still be on the chain (the node's block at its height
  has the stored hash): otherwise `IndexOffChain` is raised and the caller reads over RPC. When
  the chain does not answer, the index alone answers, as of its tip.

Confirmation is the same rule on both paths: an event is unconfirmed when its block is among the
newest `confirmations` blocks below the head read now (while the chain is down: as the index's
last sync marked it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provenance.chain import Chain, is_connection_error
from provenance.exceptions import ChainUnreachable, ProvenanceError
from provenance.index.store import IndexedEvent, IndexStore
from provenance.logs import Event, EventDecoder, fetch_logs
from provenance.verify.report import AsOf


class IndexOffChain(ProvenanceError):
    """The index's tip is no longer on the chain (reorganised, or rolled back, since its last
    sync): it cannot be topped up, and is not read."""


class Reader:
    """A source of decoded events for one verification (see the module docstring)."""

    source = "rpc"
    head: int | None  # the chain head read now (None: the chain does not answer)
    now: int  # the time "valid now" is judged at
    confirmations: int
    fetched: int = 0  # events answered, over every question
    head_hash: str = ""  # of the block `head` (or of the index's tip), hex without 0x

    def events(self, address: str, topics: Sequence[Any]) -> list[Event]:
        raise NotImplementedError

    def unconfirmed(self, event: Event) -> bool:
        if self.head is not None:
            return event.block_number > self.head - self.confirmations
        return isinstance(event, IndexedEvent) and not event.confirmed

    def as_of(self) -> AsOf:
        raise NotImplementedError


class RpcReader(Reader):
    """Every event over RPC, in [`start`, the head read when opened]."""

    def __init__(
        self,
        chain: Chain,
        start: int,
        decoder: EventDecoder,
        *,
        confirmations: int = 0,
        max_range: int | None = None,
    ) -> None:
        self.chain, self.start, self.decoder = chain, start, decoder
        self.max_range = max_range
        self.confirmations = confirmations
        head = chain.w3.eth.block_number
        self.head = head
        block = chain.w3.eth.get_block(head)
        self.now = int(block["timestamp"])
        self.head_hash = bytes(block["hash"]).hex()

    def events(self, address: str, topics: Sequence[Any]) -> list[Event]:
        assert self.head is not None
        logs = fetch_logs(
            self.chain, address, topics, self.start, self.head, max_range=self.max_range, raw=True
        )
        self.fetched += len(logs)
        return self.decoder.decode_all(logs)

    def as_of(self) -> AsOf:
        assert self.head is not None
        return AsOf("rpc", self.head, confirmations=self.confirmations)


class IndexReader(Reader):
    """The index up to its tip, topped up over RPC for (tip, head]; the index alone (as of its
    tip) when `chain` is None or does not answer."""

    source = "index"

    def __init__(
        self,
        store: IndexStore,
        chain: Chain | None,
        decoder: EventDecoder,
        *,
        confirmations: int = 0,
        max_range: int | None = None,
    ) -> None:
        tip = store.tip()
        if tip is None:
            raise IndexOffChain(f"the index {store.path} holds nothing yet")
        self.store, self.tip, self.decoder = store, tip, decoder
        self.start = store.key.deploy_block
        self.max_range = max_range
        self.confirmations = confirmations
        self.topped_up = 0
        self.chain: Chain | None = None
        self.head = None
        self.now = store.tip_timestamp() or 0
        self.head_hash = tip.hash.lower().removeprefix("0x")
        if chain is not None and chain.reachable:
            try:
                head = chain.w3.eth.block_number
                at_tip = chain.w3.eth.get_block(tip.number) if tip.number <= head else None
                newest = chain.w3.eth.get_block(head)
                now = int(newest["timestamp"])
            except Exception as exc:
                if not (is_connection_error(exc) or isinstance(exc, ChainUnreachable)):
                    raise
            else:
                if at_tip is None or "0x" + bytes(at_tip["hash"]).hex() != tip.hash.lower():
                    raise IndexOffChain(
                        f"the index {store.path} ends at block {tip.number}, which is no longer "
                        "on the chain (reorganised since its last sync)"
                    )
                self.chain, self.head, self.now = chain, head, now
                self.head_hash = bytes(newest["hash"]).hex()

    def events(self, address: str, topics: Sequence[Any]) -> list[Event]:
        found: list[Event] = list(self.store.events(address, topics, self.start, self.tip.number))
        if self.chain is not None and self.head is not None and self.head > self.tip.number:
            logs = fetch_logs(
                self.chain, address, topics, self.tip.number + 1, self.head,
                max_range=self.max_range, raw=True,
            )  # fmt: skip
            more = self.decoder.decode_all(logs)
            self.topped_up += len(more)
            found.extend(more)
        self.fetched += len(found)
        return found

    def as_of(self) -> AsOf:
        return AsOf(
            "index",
            self.head if self.head is not None else self.tip.number,
            chain_reachable=self.head is not None,
            index_tip=self.tip.number,
            index_file=str(self.store.path),
            topped_up=self.topped_up,
            confirmations=self.confirmations,
        )


__all__ = ["IndexOffChain", "IndexReader", "Reader", "RpcReader"]
