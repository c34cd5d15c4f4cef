"""What the typed contract clients share: decoded reads and writes through a `Transactor`.

Every failed read or event scan becomes one library error through `provenance.reverts.explain`
(a decoded revert, `ChainUnreachable`, or the node's own message), like every write.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, Protocol, cast

from eth_utils.address import to_checksum_address
from web3.contract import Contract

from provenance.chain import Chain
from provenance.encoding import Address
from provenance.exceptions import ConfigError
from provenance.logs import Event, EventDecoder, Topic, fetch_logs
from provenance.records import TxResult
from provenance.reverts import explain
from provenance.transactions import Transactor


class EventQuery(Protocol):
    """Where event scans can come from instead of `eth_getLogs` (the session hands a client the
    local index topped up over RPC: `provenance.verify.source.IndexReader`)."""

    def events(self, address: str, topics: Sequence[Any]) -> Sequence[Event]: ...


class ContractClient:
    """One deployed contract. `transactor` is needed for writes only. `events_from`, when set,
    answers the event scans (same question, same decoded events, in chain order)."""

    events_from: EventQuery | None = None

    #: How messages name the contract ("registry", "agreements").
    kind = "contract"

    def __init__(
        self,
        chain: Chain,
        address: str,
        abi: list[dict[str, Any]],
        transactor: Transactor | None = None,
        *,
        from_block: int = 0,
    ) -> None:
        self.chain = chain
        self.address = Address(address, f"{self.kind} address")
        self.transactor = transactor
        self.abi = abi
        self.from_block = from_block  # where event scans start (the deployment block)
        self.contract: Contract = chain.w3.eth.contract(
            address=to_checksum_address(self.address), abi=abi
        )

    @cached_property
    def decoder(self) -> EventDecoder:
        return EventDecoder(self.abi)

    def _events(self, names: Sequence[str], *topics: str | Sequence[str] | None) -> list[Event]:
        """Decoded events of this contract named `names` (OR-ed in topic 0), filtered by the
        further `topics` (0x hex; None = any; a list = any of), in chain order, from
        `from_block`."""
        first: Topic = [self.decoder.topic(name) for name in names]
        rest = [cast(Topic, topic) for topic in topics]
        if self.events_from is not None:
            try:
                return list(self.events_from.events(self.address, [first, *rest]))
            except Exception as exc:
                raise explain(exc, self.chain, f"reading the {self.kind}'s events") from exc
        try:
            logs = fetch_logs(self.chain, self.address, [first, *rest], self.from_block)
        except Exception as exc:
            raise explain(exc, self.chain, f"reading the {self.kind}'s events") from exc
        return self.decoder.decode_all(logs)

    def _read(self, call: Any) -> Any:
        """`call.call()`, any failure turned into one library error."""
        try:
            return call.call()
        except Exception as exc:
            name = getattr(call, "fn_name", "a view")
            raise explain(exc, self.chain, f"calling {name} on the {self.kind}") from exc

    def _send(self, call: Any, description: str, value: int = 0) -> TxResult:
        if self.transactor is None:
            raise ConfigError(
                f"this {self.kind} client is read-only: create it with a Transactor to send "
                "transactions"
            )
        return self.transactor.send(call, value=value, description=description)

    @property
    def sender(self) -> str:
        if self.transactor is None:
            raise ConfigError(f"this {self.kind} client is read-only: no sending account")
        return self.transactor.address

    def next_block_time(self) -> int:
        """The earliest timestamp the next block can carry (time-dependent checks use it)."""
        return self.chain.next_block_time()
