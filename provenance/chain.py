"""Connections to a chain: the embedded in-process chain (py-evm) or any EVM JSON-RPC endpoint.

This module and the contract clients are the only places that talk to web3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.exceptions import TransactionNotFound

from provenance.exceptions import ChainError, ConfigError

#: The well-known development mnemonic that Anvil, Ganache (as started by `provenance node`) and
#: the embedded chain all fund. Never use it on a real network.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
EMBEDDED = "embedded"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Receipt polling interval: 0.1 s (web3's default) caps a local chain near 10 tx/s.
LOCAL_POLL_SECONDS = 0.002
REMOTE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Chain:
    """A connected chain and what the rest of the library needs to know about it."""

    w3: Web3
    rpc: str  # "embedded" or the endpoint URL
    chain_id: int
    #: False when built by `Chain.offline` (the endpoint did not answer): writes can still be
    #: signed locally and queued in the outbox, reads fail with connection errors.
    reachable: bool = True

    @classmethod
    def offline(cls, rpc: str, chain_id: int, *, timeout: float = 10.0) -> Chain:
        """A Chain for an endpoint that is down but whose chain id is known (from a deployment
        record): nothing is sent to it here. Transactions sent through it are signed locally
        and queued in the outbox (see `provenance.transactions`)."""
        return cls(w3=_http_web3(rpc, timeout), rpc=rpc, chain_id=chain_id, reachable=False)

    @property
    def is_local(self) -> bool:
        """Embedded or on this machine: poll receipts fast, dev accounts are funded."""
        if self.rpc == EMBEDDED:
            return True
        return (urlparse(self.rpc).hostname or "") in LOCAL_HOSTS

    @property
    def poll_seconds(self) -> float:
        return LOCAL_POLL_SECONDS if self.is_local else REMOTE_POLL_SECONDS

    def wait_for_receipt(self, tx_hash: bytes, timeout: float = 120.0) -> Any:
        """Wait for a receipt, polling fast on local chains."""
        return self.w3.eth.wait_for_transaction_receipt(
            HexBytes(tx_hash), timeout=timeout, poll_latency=self.poll_seconds
        )

    def receipt_or_none(self, tx_hash: bytes) -> Any | None:
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def now(self) -> int:
        """The chain's clock: the timestamp of the latest block."""
        try:
            return int(self.w3.eth.get_block("latest")["timestamp"])
        except Exception as exc:
            raise ChainError(f"cannot read the latest block of {self.rpc}: {_short(exc)}") from exc

    def balance(self, address: str) -> int:
        """The ETH balance of `address`, in wei."""
        try:
            return int(self.w3.eth.get_balance(to_checksum_address(address)))
        except Exception as exc:
            raise ChainError(
                f"cannot read the balance of {address} from {self.rpc}: {_short(exc)}"
            ) from exc

    def advance_time(self, seconds: int) -> None:
        """Move the chain's clock forward by `seconds` and mine a block.

        A development-chain feature: the embedded chain (eth-tester time travel) and nodes that
        answer `evm_increaseTime` + `evm_mine` (Anvil, Ganache, Hardhat). Anything else raises
        `ChainError`.
        """
        if seconds < 0:
            raise ChainError(f"cannot move the clock of {self.rpc} backwards ({seconds} s)")
        if self.rpc == EMBEDDED:
            testing: Any = getattr(self.w3, "testing", None)
            if testing is None:  # pragma: no cover - web3 always attaches it to eth-tester
                raise ChainError("the embedded chain does not support time travel")
            testing.timeTravel(max(self.now(), int(time.time())) + seconds)
            testing.mine()
            return
        provider: Any = self.w3.provider
        for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
            try:
                response = provider.make_request(method, params)
            except Exception as exc:
                raise ChainError(
                    f"cannot move the clock of {self.rpc}: {method} failed ({_short(exc)})"
                ) from exc
            error = response.get("error") if isinstance(response, dict) else None
            if error:
                message = error.get("message", error) if isinstance(error, dict) else error
                raise ChainError(
                    f"the chain at {self.rpc} does not support time travel ({method}: "
                    f"{message}); only development nodes (Anvil, Ganache, the embedded chain) do"
                )


def dev_accounts(count: int = 10) -> list[LocalAccount]:
    """The development accounts every local chain started by this toolkit funds."""
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(count)
    ]


def connect(
    rpc: str | None = None, *, timeout: float = 10.0, offline_chain_id: int | None = None
) -> Chain:
    """Connect to `rpc` (an http(s) URL) or, for None/"embedded", start the in-process chain.

    `offline_chain_id`: when the endpoint cannot be reached (connection refused, timeout), return
    `Chain.offline(rpc, offline_chain_id)` instead of raising `ChainError`, so that writes can be
    signed and queued in the outbox. An endpoint that answers with an error still raises.
    """
    if rpc is None or rpc == EMBEDDED:
        return _embedded()
    w3 = _http_web3(rpc, timeout)
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:  # requests/aiohttp/ValueError: all mean "not a usable endpoint"
        from provenance.transactions import is_connection_error  # imports this module

        if offline_chain_id is not None and is_connection_error(exc):
            return Chain.offline(rpc, offline_chain_id, timeout=timeout)
        raise ChainError(
            f"cannot reach the chain at {rpc}: {_short(exc)} "
            "(start a local node with `provenance node start`, or check --rpc)"
        ) from exc
    return Chain(w3=w3, rpc=rpc, chain_id=chain_id)


def _http_web3(rpc: str, timeout: float) -> Web3:
    parsed = urlparse(rpc)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"bad RPC URL {rpc!r}: expected http://host:port or https://…")
    # The provider caches answers that never change (eth_chainId above all, which web3 asks
    # before building every transaction and call): one round trip fewer per call.
    return Web3(HTTPProvider(rpc, request_kwargs={"timeout": timeout}, cache_allowed_requests=True))


def _embedded() -> Chain:
    w3 = Web3(EthereumTesterProvider())
    funder = w3.eth.accounts[0]
    for account in dev_accounts():
        tx = w3.eth.send_transaction(
            {"from": funder, "to": account.address, "value": Web3.to_wei(10_000, "ether")}
        )
        w3.eth.wait_for_transaction_receipt(tx, poll_latency=LOCAL_POLL_SECONDS)
    return Chain(w3=w3, rpc=EMBEDDED, chain_id=w3.eth.chain_id)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"
