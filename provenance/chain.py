"""Connections to a chain — the embedded in-process chain (py-evm) or any EVM JSON-RPC endpoint —
and what a chain is: its identity, its clock, and what an RPC failure means.

- **Identity**: a chain is its chain id *and* the hash of its genesis block (`ChainIdentity`).
  Two chains with the same id — a local node started afresh, a fork, a testnet reset — have
  different genesis blocks, so every local record (outbox entries, deployment records, node
  record) is bound to the identity and never applied to another chain.
- **The one connection-error test** (`is_connection_error`) and **the one translation** of a
  failed RPC call into a library error (`rpc_failure`); reverts are decoded on top of it by
  `provenance.reverts.explain`.
- A silent endpoint costs exactly the timeout (`PROVENANCE_RPC_TIMEOUT` seconds, default 10):
  requests are not retried, so the message's figure is the time it took.

This is the lowest layer that talks to web3: it imports nothing above `exceptions` and `encoding`.
"""

from __future__ import annotations

import os
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

from provenance.exceptions import (
    ChainError,
    ChainUnreachable,
    ConfigError,
    InvalidInput,
    ProvenanceError,
)

#: The well-known development mnemonic that Anvil, Ganache (as started by `provenance node`) and
#: the embedded chain all fund. Never use it on a real network.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
EMBEDDED = "embedded"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Receipt polling interval: 0.1 s (web3's default) caps a local chain near 10 tx/s.
LOCAL_POLL_SECONDS = 0.002
REMOTE_POLL_SECONDS = 1.0
TIMEOUT_ENV = "PROVENANCE_RPC_TIMEOUT"
DEFAULT_TIMEOUT = 10.0


def rpc_timeout() -> float:
    """Seconds one RPC call may take: `PROVENANCE_RPC_TIMEOUT`, else 10."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r}: give a positive number of seconds")
    return value


@dataclass(frozen=True)
class ChainIdentity:
    """What a chain is: its chain id and the hash of its genesis block."""

    chain_id: int
    genesis_hash: str  # 0x + 64 hex digits, lower case

    @property
    def key(self) -> str:
        """A short, file-name-safe form: `31337-30afde765c15fbf2` (chain id, 8 bytes of genesis)."""
        return f"{self.chain_id}-{self.genesis_hash[2:18]}"

    def describe(self) -> str:
        return f"chain id {self.chain_id} (genesis {self.genesis_hash[:10]}…)"

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "genesis_hash": self.genesis_hash}

    @classmethod
    def from_json(cls, data: Any) -> ChainIdentity:
        if not isinstance(data, dict):
            raise ValueError(f"a chain identity is an object, not {type(data).__name__}")
        genesis = str(data["genesis_hash"]).lower()
        if len(genesis) != 66 or not genesis.startswith("0x"):
            raise ValueError(f"bad genesis hash {genesis!r}")
        int(genesis, 16)
        return cls(int(data["chain_id"]), genesis)


@dataclass(frozen=True)
class Chain:
    """A connected chain and what the rest of the library needs to know about it."""

    w3: Web3
    rpc: str  # "embedded" or the endpoint URL
    identity: ChainIdentity
    #: False when built by `Chain.offline` (the endpoint did not answer): writes can still be
    #: signed locally and queued in the outbox, reads fail with `ChainUnreachable`.
    reachable: bool = True
    timeout: float = DEFAULT_TIMEOUT

    @property
    def chain_id(self) -> int:
        return self.identity.chain_id

    @classmethod
    def offline(cls, rpc: str, identity: ChainIdentity, *, timeout: float | None = None) -> Chain:
        """A Chain for an endpoint that is down but whose identity is known from a local record:
        nothing is sent to it here."""
        seconds = rpc_timeout() if timeout is None else timeout
        return cls(_http_web3(rpc, seconds), rpc, identity, reachable=False, timeout=seconds)

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

    def failure(self, exc: BaseException, action: str) -> ProvenanceError:
        """`rpc_failure` for this chain."""
        return rpc_failure(exc, self.rpc, action, self.timeout)

    def now(self) -> int:
        """The chain's clock: the timestamp of the latest block."""
        try:
            return int(self.w3.eth.get_block("latest")["timestamp"])
        except Exception as exc:
            raise self.failure(exc, "reading the latest block") from exc

    def next_block_time(self) -> int:
        """The earliest timestamp the next block can carry: after the latest block, and not
        before the wall clock (development nodes stamp blocks with the time they mine them).
        A time-dependent check made against this fails before anything is sent."""
        return max(self.now() + 1, int(time.time()))

    def balance(self, address: str) -> int:
        """The ETH balance of `address`, in wei."""
        try:
            return int(self.w3.eth.get_balance(to_checksum_address(address)))
        except Exception as exc:
            raise self.failure(exc, f"reading the balance of {address}") from exc

    def has_code(self, address: str) -> bool:
        try:
            return len(self.w3.eth.get_code(to_checksum_address(address))) > 0
        except Exception as exc:
            raise self.failure(exc, f"reading the code at {address}") from exc

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
                raise self.failure(exc, f"moving the clock ({method})") from exc
            error = response.get("error") if isinstance(response, dict) else None
            if error:
                message = error.get("message", error) if isinstance(error, dict) else error
                raise ChainError(
                    f"the chain at {self.rpc} does not support time travel ({method}: "
                    f"{message}); only development nodes (Anvil, Ganache, the embedded chain) do"
                )


# ------------------------------------------------------------------------- RPC failures


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) means the endpoint did not answer — refused, reset,
    timed out — as opposed to an answer that is an error. The one place that decides it."""
    import requests

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            requests.exceptions.ConnectionError
            | requests.exceptions.Timeout
            | ConnectionError
            | TimeoutError
            | ChainUnreachable,
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def is_timeout(exc: BaseException) -> bool:
    import requests

    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, requests.exceptions.Timeout | TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


#: Node answers to `eth_sendRawTransaction` meaning "this nonce is taken": by this very
#: transaction (already known) or by another one (nonce too low, replacement underpriced).
NONCE_TAKEN = ("nonce too low", "replacement transaction underpriced", "already known",
               "known transaction", "already imported", "already exists",
               "transaction already in")  # fmt: skip


def node_message(exc: BaseException) -> str:
    """The message a node put in a JSON-RPC error (`{'code': -32003, 'message': '…'}`), else
    the exception's first line — never a dict's repr."""
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, dict) and isinstance(arg.get("message"), str):
            return str(arg["message"])
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return short(exc)


def rpc_failure(
    exc: BaseException, rpc: str, action: str, timeout: float = DEFAULT_TIMEOUT
) -> ProvenanceError:
    """What a failed RPC call means, as one library error with a one-line message:

    - no answer → `ChainUnreachable` (with the timeout it waited, if it timed out);
    - an argument web3 could not encode for the ABI → `InvalidInput`;
    - a library error already → itself;
    - anything else the node said → `ChainError` with the node's own message.
    """
    if isinstance(exc, ProvenanceError):
        return exc
    if is_connection_error(exc):
        if is_timeout(exc):
            return ChainUnreachable(
                f"the chain at {rpc} did not answer within {timeout:g} s while {action}: is the "
                f"node overloaded or the URL wrong? (set {TIMEOUT_ENV} to wait longer)"
            )
        return ChainUnreachable(
            f"cannot reach the chain at {rpc} while {action} ({short(exc)}): is the node "
            "running? (`provenance node start`, or check --rpc)"
        )
    if _is_encoding_error(exc):
        return InvalidInput(
            f"{action}: an argument does not fit the contract's types (a number too large or "
            "negative, or a value of the wrong length)"
        )
    return ChainError(f"{action} failed at {rpc}: {node_message(exc)}")


def _is_encoding_error(exc: BaseException) -> bool:
    from eth_abi.exceptions import EncodingError
    from web3.exceptions import Web3TypeError, Web3ValidationError

    return isinstance(exc, Web3ValidationError | Web3TypeError | EncodingError | OverflowError)


def short(exc: BaseException) -> str:
    """The first line of an exception's message, at most 160 characters."""
    text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"


# ----------------------------------------------------------------------------- connecting


def dev_accounts(count: int = 10) -> list[LocalAccount]:
    """The development accounts every local chain started by this toolkit funds."""
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(count)
    ]


def connect(
    rpc: str | None = None,
    *,
    timeout: float | None = None,
    offline_identity: ChainIdentity | None = None,
) -> Chain:
    """Connect to `rpc` (an http(s) URL) or, for None/"embedded", start the in-process chain.

    `offline_identity`: the identity a local record knows for this endpoint. If the endpoint
    does not answer, an offline `Chain` with that identity is returned (writes are queued in the
    outbox) instead of raising `ChainUnreachable`. If it answers with another identity, that is
    what is returned: callers compare before using their records.
    """
    if rpc is None or rpc == EMBEDDED:
        return _embedded()
    seconds = rpc_timeout() if timeout is None else timeout
    w3 = _http_web3(rpc, seconds)
    try:
        identity = read_identity(w3)
    except Exception as exc:
        failure = rpc_failure(exc, rpc, "connecting", seconds)
        if offline_identity is not None and isinstance(failure, ChainUnreachable):
            return Chain(w3, rpc, offline_identity, reachable=False, timeout=seconds)
        if isinstance(failure, ChainUnreachable):
            raise failure from exc
        raise ChainError(
            f"the endpoint {rpc} is not a usable EVM chain ({node_message(exc)}): check --rpc"
        ) from exc
    return Chain(w3, rpc, identity, timeout=seconds)


def read_identity(w3: Web3) -> ChainIdentity:
    chain_id = int(w3.eth.chain_id)
    genesis = w3.eth.get_block(0)
    return ChainIdentity(chain_id, "0x" + bytes(genesis["hash"]).hex())


def _http_web3(rpc: str, timeout: float) -> Web3:
    parsed = urlparse(rpc)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"bad RPC URL {rpc!r}: expected http://host:port or https://… (or `embedded`)"
        )
    # No retries: a silent endpoint costs `timeout`, which is what the message says. The
    # provider caches answers that never change (eth_chainId above all, which web3 asks before
    # building every transaction and call): one round trip fewer per call.
    return Web3(
        HTTPProvider(
            rpc,
            request_kwargs={"timeout": timeout},
            cache_allowed_requests=True,
            exception_retry_configuration=None,
        )
    )


def _embedded() -> Chain:
    w3 = Web3(EthereumTesterProvider())
    funder = w3.eth.accounts[0]
    for account in dev_accounts():
        tx = w3.eth.send_transaction(
            {"from": funder, "to": account.address, "value": Web3.to_wei(10_000, "ether")}
        )
        w3.eth.wait_for_transaction_receipt(tx, poll_latency=LOCAL_POLL_SECONDS)
    return Chain(w3, EMBEDDED, read_identity(w3))
