"""Send transactions: pre-flight, local signing, nonce tracking, outbox journaling.

`Transactor(chain, account, outbox)` is the only way the library writes to a chain — contract
calls (`send`, `send_many`), contract creation (`create`, used by `provenance.deploy`) and plain
ETH transfers (`transfer`) alike:

1. pre-flight `eth_estimateGas` — a revert is decoded by `provenance.reverts` and raised before
   anything is signed — and a balance check (gas limit × max fee + value, the node's own rule):
   an account that cannot pay gets `InsufficientFunds`, which says how to fund it;
2. under a per-key file lock (`<data>/locks/<chain identity>-<address>.lock`, one local writer
   per key): nonce = max(chain pending nonce, open outbox entries of this chain + 1); build an
   EIP-1559 transaction (legacy `gasPrice` on chains without a base fee); sign locally;
3. journal the raw transaction in the outbox (status ``pending``, bound to the chain's identity)
   **before** sending it;
4. `eth_sendRawTransaction` (outbox → ``sent``), wait for the receipt with fast polling on local
   chains (outbox → ``confirmed`` / ``failed``);
5. status 0 → the revert is replayed with `eth_call` in the block it was mined in (its time, its
   state) and decoded; "out of gas" is said only when the transaction used all its gas.

If the node answers "nonce too low" — another transaction of the same key took the nonce between
reading it and sending (the same key used from another data directory or wallet) — the entry is
marked failed with that reason and the request is signed again with a fresh nonce (twice at
most): nothing is lost and nothing is recorded twice. If the node refuses for "insufficient
funds" (the balance changed in between), that becomes the same `InsufficientFunds`.

When the endpoint is unreachable and an outbox is given, the transaction is signed with the last
known fees and gas limit (a small cache per chain in `<data>/cache/fees-<chain identity>.json`,
default gas limit `OFFLINE_GAS_LIMIT`) and left in the outbox: `TxResult(queued=True)`.
`Outbox.flush` sends it later, to that chain only. Without an outbox, `ChainUnreachable` is raised.

`signed` lists every transaction this Transactor signed (and journaled), so a shell interrupted
by Ctrl-C can tell the truth: nothing was sent, or which transactions may be on their way.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from filelock import FileLock, Timeout
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TimeExhausted
from web3.types import TxParams

from provenance.chain import Chain, is_connection_error, node_message, short
from provenance.config import data_dir, write_json_atomic
from provenance.encoding import Address
from provenance.exceptions import (
    ChainError,
    ChainUnreachable,
    ConfigError,
    ContractRevert,
    InsufficientFunds,
    ProvenanceError,
    TransactionError,
)
from provenance.money import Amount, format_eth
from provenance.outbox import FAILED, OPEN_STATUSES, PENDING, SENT, Outbox, OutboxEntry
from provenance.records import TxResult
from provenance.reverts import explain, from_web3_error, replay_mined

#: Gas limit for a transaction signed while the endpoint is down and its function never ran here.
OFFLINE_GAS_LIMIT = 1_000_000
GAS_MARGIN = 1.25
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei
LOCK_TIMEOUT = 60.0
FEE_TTL = 5.0  # seconds a fee reading is reused by one Transactor
#: How often a request whose nonce another transaction took is signed again.
NONCE_RETRIES = 2

Call = ContractFunction | tuple[ContractFunction, int]


@dataclass(frozen=True)
class _Request:
    """One transaction to sign: a contract call, a contract creation (`to` None) or a plain
    ETH transfer."""

    to: str | None
    value: int
    description: str
    call: ContractFunction | None = None
    creation: str | None = None  # creation code with its constructor arguments

    @classmethod
    def of(cls, call: ContractFunction, value: int, description: str) -> _Request:
        return cls(str(call.address), value, description or _describe(call), call)

    @functools.cached_property
    def data(self) -> str:
        """The call data, ABI-encoded once (estimation, signing and the cache key share it)."""
        if self.creation is not None:
            return self.creation
        return str(self.call._encode_transaction_data()) if self.call is not None else "0x"

    @property
    def selector(self) -> str:
        """Key of the gas-limit cache: the function selector, `transfer` for plain transfers."""
        if self.creation is not None:
            return "create"
        return self.data[:10] if self.call is not None else "transfer"

    def params(self, sender: str) -> TxParams:
        params: dict[str, Any] = {"from": sender, "value": self.value, "data": self.data}
        if self.to is not None:
            params["to"] = self.to
        return cast(TxParams, params)


@dataclass(frozen=True)
class Fees:
    """Fee fields of a transaction: EIP-1559 (max fee + tip) or legacy (gas price)."""

    max_fee: int | None = None
    priority_fee: int | None = None
    gas_price: int | None = None

    def fields(self) -> dict[str, int]:
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        assert self.max_fee is not None and self.priority_fee is not None
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.priority_fee}


class Transactor:
    """Signs and sends transactions of one account on one chain. See the module docstring.

    `receipt_timeout` defaults to 120 s on local chains and 600 s elsewhere. `root` overrides
    the data directory (locks and fee cache).
    """

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        outbox: Outbox | None = None,
        *,
        receipt_timeout: float | None = None,
        root: Path | None = None,
    ) -> None:
        self.chain = chain
        self.account = account
        self.outbox = outbox
        self.receipt_timeout = receipt_timeout or (120.0 if chain.is_local else 600.0)
        self._root = root
        self._funds: int | None = None  # lower bound of the balance, see _check_funds
        self._cache: dict[str, Any] | None = None
        self._fees_cache: tuple[float, Fees] | None = None
        self._next_nonce: int | None = None  # offline: the next nonce this process signs
        #: Hashes of the transactions this Transactor signed (journaled before sending).
        self.signed: list[str] = []
        key = f"{chain.identity.key}-{account.address}"
        self._lock = FileLock(str(self._dir("locks") / f"{key}.lock"))

    @property
    def address(self) -> str:
        return str(self.account.address)

    # ----------------------------------------------------------------------------- public

    def send(
        self,
        call: ContractFunction,
        *,
        value: int = 0,
        description: str = "",
        gas: int | None = None,
    ) -> TxResult:
        """Send one contract call and wait for its receipt (see the module docstring).

        Raises the decoded `ContractRevert` subclass if the call would revert (nothing is signed)
        or did revert, `TransactionError` for a stuck or failed transaction, `ChainUnreachable`
        when the endpoint is down and there is no outbox.
        """
        return self._submit(_Request.of(call, value, description), gas)

    def transfer(
        self, to: str, value: int, *, description: str = "", gas: int | None = None
    ) -> TxResult:
        """Send `value` wei of ETH to `to` and wait for the receipt — the same pre-flight,
        nonce, outbox and error handling as `send`."""
        address = Address(to, "recipient address")
        amount = Amount(value, "amount to transfer")
        text = description or f"transfer {format_eth(amount)} to {address}"
        return self._submit(_Request(address, amount, text), gas)

    def create(self, constructor: ContractConstructor, *, description: str) -> TxResult:
        """Deploy a contract (creation code with its constructor arguments). Never queued: a
        deployment is only useful once its address is known, so an unreachable chain raises
        `ChainUnreachable`."""
        data = str(constructor.data_in_transaction)  # encoded when the constructor was built
        return self._submit(_Request(None, 0, description, creation=data), None, queue=False)

    def send_many(
        self,
        calls: Sequence[Call],
        *,
        gas: int | None = None,
        description: str = "",
    ) -> list[TxResult]:
        """Pipeline several calls: pre-flight all, sign with consecutive nonces, send all, then
        wait for every receipt. The fast path for bulk work.

        Each item is a `ContractFunction` or `(ContractFunction, value)`. With `gas=None` every
        call is estimated against the current state first (so calls that depend on earlier ones
        in the same list need an explicit `gas`). Results come back in order; if any transaction
        reverted, its decoded revert is raised after all receipts are in.
        """
        items = [
            _Request.of(c, 0, description)
            if isinstance(c, ContractFunction)
            else _Request.of(c[0], c[1], description)
            for c in calls
        ]
        if not items:
            return []
        try:
            gases = [gas if gas is not None else self._estimate(r) for r in items]
            fees = self._fees()
            self._check_funds(items, gases, fees)
        except _Offline as offline:
            raise self._unreachable(offline.cause) from offline.cause
        sent: list[tuple[str, int, _Request, int]] = []
        with self._locked():
            nonce = self._allocate_nonce()
            signed = []
            for i, (request, limit) in enumerate(zip(items, gases, strict=True)):
                tx_hash, raw = self._sign(request, limit, fees, nonce + i)
                self._journal(tx_hash, raw, nonce + i, request.description)
                signed.append((tx_hash, raw, nonce + i, request, limit))
            for tx_hash, raw, n, request, limit in signed:
                try:
                    self._send_raw(tx_hash, raw, request, n)
                except _Offline as offline:
                    raise self._unreachable(offline.cause) from offline.cause
                sent.append((tx_hash, n, request, limit))
        results: list[TxResult] = []
        failure: ProvenanceError | None = None
        for tx_hash, n, request, limit in sent:
            try:
                results.append(self._wait(tx_hash, n, request, limit))
            except (ContractRevert, TransactionError) as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return results

    # ---------------------------------------------------------------------------- helpers

    def _submit(self, request: _Request, gas: int | None, *, queue: bool = True) -> TxResult:
        """The one-transaction path shared by `send`, `transfer` and `create`."""
        try:
            if gas is None:
                gas = self._estimate(request)
            fees = self._fees()
            self._check_funds([request], [gas], fees)
        except _Offline as offline:
            if not queue:
                raise self._unreachable(offline.cause) from offline.cause
            return self._queue_offline(request, gas, offline.cause)
        for attempt in range(NONCE_RETRIES + 1):
            with self._locked():
                try:
                    nonce = self._allocate_nonce()
                except _Offline as offline:
                    if not queue:
                        raise self._unreachable(offline.cause) from offline.cause
                    return self._queue_offline(request, gas, offline.cause)
                tx_hash, raw = self._sign(request, gas, fees, nonce)
                self._journal(tx_hash, raw, nonce, request.description)
                try:
                    self._send_raw(tx_hash, raw, request, nonce)
                except _NonceTaken:
                    if attempt == NONCE_RETRIES:
                        raise TransactionError(
                            f"nonce {nonce} of {self.address} was taken by another transaction "
                            f"of this key {NONCE_RETRIES + 1} times in a row (is the key busy "
                            "in another data directory or wallet?): nothing was recorded; "
                            "retry when the other sender is done",
                            tx_hash,
                        ) from None
                    continue
                except _Offline as offline:
                    if self.outbox is None or not queue:
                        raise self._unreachable(offline.cause) from offline.cause
                    self._next_nonce = nonce + 1
                    return TxResult(
                        tx_hash=tx_hash, queued=True, description=request.description, nonce=nonce
                    )
            return self._wait(tx_hash, nonce, request, gas)
        raise AssertionError("unreachable")  # pragma: no cover

    def _dir(self, name: str) -> Path:
        path = (self._root or data_dir()) / name
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {path}: {exc.strerror or exc}; set PROVENANCE_HOME to a folder "
                "you can write"
            ) from exc
        return path

    def _locked(self) -> Any:
        try:
            return self._lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout as exc:
            raise TransactionError(
                f"another process has been sending from {self.address} for more than "
                f"{LOCK_TIMEOUT:.0f} s (lock {self._lock.lock_file}); wait for it to finish"
            ) from exc
        except OSError as exc:
            raise ConfigError(
                f"cannot create the lock {self._lock.lock_file}: {exc.strerror or exc}; set "
                "PROVENANCE_HOME to a folder you can write"
            ) from exc

    def _estimate(self, request: _Request) -> int:
        try:
            params = request.params(self.address)
            estimate = self.chain.w3.eth.estimate_gas(params)
        except Exception as exc:
            if is_connection_error(exc):
                raise _Offline(exc) from exc
            if _is_insufficient_funds(exc):
                raise self._insufficient_funds(request.value) from exc
            raise explain(exc, self.chain, f"estimating gas for {request.description}") from exc
        limit = int(estimate * GAS_MARGIN)
        self._remember_gas(request.selector, limit)
        return limit

    def _fees(self) -> Fees:
        """Current fees, re-read at most every `FEE_TTL` seconds (max fee = 2 × base fee + tip
        leaves room for the base fee to rise in between)."""
        now = time.monotonic()
        if self._fees_cache is not None and now - self._fees_cache[0] < FEE_TTL:
            return self._fees_cache[1]
        fees = self._read_fees()
        self._fees_cache = (now, fees)
        return fees

    def _read_fees(self) -> Fees:
        w3 = self.chain.w3
        try:
            block = w3.eth.get_block("latest")
            base_fee = block.get("baseFeePerGas")
            if base_fee is None:
                fees = Fees(gas_price=int(w3.eth.gas_price))
            else:
                try:
                    tip = int(w3.eth.max_priority_fee)
                except Exception as exc:
                    if is_connection_error(exc):
                        raise
                    tip = DEFAULT_PRIORITY_FEE
                fees = Fees(max_fee=2 * int(base_fee) + tip, priority_fee=tip)
        except Exception as exc:
            if is_connection_error(exc):
                raise _Offline(exc) from exc
            raise self.chain.failure(exc, "reading fees") from exc
        self._remember_fees(fees)
        return fees

    def _allocate_nonce(self) -> int:
        """The next nonce to sign with: the chain's pending nonce — but if the outbox holds open
        transactions of this key and chain above it (queued while offline, or lost by a crashed
        node), they are flushed first so that no nonce gap is created."""
        chain_nonce = self._chain_nonce()
        if self.outbox is not None:
            identity = self.chain.identity
            journaled = self.outbox.next_nonce(identity, self.address)
            if journaled is not None and journaled > chain_nonce and self._open_above(chain_nonce):
                self.outbox.flush(self.chain)
                chain_nonce = self._chain_nonce()
                waiting = self._open_above(chain_nonce)
                if waiting:
                    chain_nonce = max(waiting) + 1
        return chain_nonce

    def _open_above(self, nonce: int) -> list[int]:
        assert self.outbox is not None
        return [
            e.nonce
            # CONFIRMED too: a node killed after mining may have lost a transaction it confirmed.
            for e in self.outbox.entries(self.chain.identity, statuses=OPEN_STATUSES)
            if e.sender == self.address and e.nonce >= nonce
        ]

    def _chain_nonce(self) -> int:
        try:
            return int(self.chain.w3.eth.get_transaction_count(self.account.address, "pending"))
        except Exception as exc:
            if is_connection_error(exc):
                raise _Offline(exc) from exc
            raise self.chain.failure(exc, f"reading the nonce of {self.address}") from exc

    def _sign(self, request: _Request, gas: int, fees: Fees, nonce: int) -> tuple[str, str]:
        tx: dict[str, Any] = {
            "from": self.address,
            "value": request.value,
            "gas": gas,
            "nonce": nonce,
            "chainId": self.chain.chain_id,
            "data": request.data,
            **fees.fields(),
        }
        if request.to is not None:
            tx["to"] = request.to
        if fees.gas_price is None:
            tx["type"] = 2
        signed = self.account.sign_transaction(tx)
        return _hex(signed.hash), _hex(signed.raw_transaction)

    def _journal(self, tx_hash: str, raw: str, nonce: int, description: str) -> None:
        self.signed.append(tx_hash)
        if self.outbox is None:
            return
        identity = self.chain.identity
        self.outbox.add(
            OutboxEntry(
                chain_id=identity.chain_id,
                genesis_hash=identity.genesis_hash,
                sender=self.address,
                nonce=nonce,
                tx_hash=tx_hash,
                raw_tx=raw,
                description=description,
                status=PENDING,
                created_at=time.time(),
            )
        )

    def _send_raw(self, tx_hash: str, raw: str, request: _Request, nonce: int) -> None:
        try:
            self.chain.w3.eth.send_raw_transaction(HexStr(raw))
        except Exception as exc:
            if is_connection_error(exc):
                raise _Offline(exc) from exc
            message = node_message(exc)
            self._funds = None
            if "nonce too low" in message.lower() or "underpriced" in message.lower():
                if self.outbox is not None:
                    self.outbox.mark(
                        tx_hash,
                        FAILED,
                        identity=self.chain.identity,
                        error=f"nonce {nonce} was taken by another transaction of this key; "
                        "signed again with the next free nonce",
                    )
                raise _NonceTaken from exc
            if self.outbox is not None:
                self.outbox.mark(
                    tx_hash,
                    FAILED,
                    identity=self.chain.identity,
                    error=f"the node refused it: {message}",
                )
            if _is_insufficient_funds(exc):
                raise self._insufficient_funds(request.value, tx_hash) from exc
            decoded = from_web3_error(exc)
            if decoded is not None:
                raise decoded from exc
            raise TransactionError(
                f"the node refused transaction {tx_hash} ({request.description}): {message}",
                tx_hash,
            ) from exc
        if self.outbox is not None:
            self.outbox.mark(tx_hash, SENT, identity=self.chain.identity)

    def _check_funds(self, requests: Sequence[_Request], gases: Sequence[int], fees: Fees) -> None:
        """Refuse before signing when the balance cannot cover gas limit × max fee + value."""
        price = fees.gas_price if fees.gas_price is not None else fees.max_fee or 0
        cost = sum(gas * price + r.value for r, gas in zip(requests, gases, strict=True))
        # `_funds` is a lower bound of the balance: the last balance read minus the most every
        # transaction since could cost. Incoming funds only raise the real balance, so while the
        # bound covers the cost no RPC call is needed (a send costs one call less). Spending by
        # another process is caught by the node's refusal, decoded to the same error.
        if self._funds is not None and self._funds >= cost:
            self._funds -= cost
            return
        try:
            balance = int(self.chain.w3.eth.get_balance(self.account.address, "pending"))
        except Exception as exc:
            if is_connection_error(exc):
                raise _Offline(exc) from exc
            return  # cannot tell: let the node judge (its refusal is decoded too)
        if balance < cost:
            self._funds = None
            raise self._insufficient_funds(sum(r.value for r in requests), balance=balance)
        self._funds = balance - cost

    def _insufficient_funds(
        self, value: int, tx_hash: str | None = None, *, balance: int | None = None
    ) -> InsufficientFunds:
        """The error for an account whose balance does not cover gas (plus `value`)."""
        if balance is None:
            try:
                balance = int(self.chain.w3.eth.get_balance(self.account.address))
            except Exception:  # the message is still useful without the balance
                balance = None
        what = "gas" if value == 0 else f"gas plus the {format_eth(value)} it sends"
        held = f" (balance {format_eth(balance)})" if balance is not None else ""
        if self.chain.is_local:
            fix = (
                f"fund it, e.g. `provenance account fund {self.address} --amount 1eth "
                "--account dev:0` on a local chain"
            )
        else:
            fix = "send it ETH from a funded account first"
        return InsufficientFunds(
            f"account {self.address} cannot pay for {what}{held}: {fix}",
            tx_hash,
            address=self.address,
            balance=balance,
        )

    def _wait(self, tx_hash: str, nonce: int, request: _Request, gas_limit: int) -> TxResult:
        description = request.description
        try:
            receipt = self.chain.wait_for_receipt(
                bytes.fromhex(tx_hash[2:]), timeout=self.receipt_timeout
            )
        except TimeExhausted as exc:
            raise TransactionError(
                f"transaction {tx_hash} ({description}) is still pending after "
                f"{self.receipt_timeout:.0f} s (fees too low, or the node is not mining?): it "
                "stays in the outbox; check it with `provenance outbox status` and send it again "
                "with `provenance outbox flush`",
                tx_hash,
            ) from exc
        except Exception as exc:
            if is_connection_error(exc) and self.outbox is not None:
                return TxResult(tx_hash=tx_hash, queued=True, description=description, nonce=nonce)
            raise TransactionError(
                f"lost contact while waiting for transaction {tx_hash}: {short(exc)} (it stays "
                "in the outbox: `provenance outbox status`)",
                tx_hash,
            ) from exc
        status = int(receipt["status"])
        if self.outbox is not None:
            status_name = "confirmed" if status == 1 else FAILED
            self.outbox.mark(tx_hash, status_name, identity=self.chain.identity)
        result = TxResult(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            status=status,
            description=description,
            nonce=nonce,
            receipt=receipt,
            contract_address=receipt.get("contractAddress"),
        )
        if status != 1:
            raise self._explain_failure(result, receipt, request, gas_limit)
        return result

    def _explain_failure(
        self, result: TxResult, receipt: Any, request: _Request, gas_limit: int
    ) -> ProvenanceError:
        """Why a mined transaction reverted: the call replayed in its own block (that block's
        time, then its parent's state), decoded. Out of gas only when it used all its gas."""
        block = int(receipt["blockNumber"])
        gas_used = int(receipt["gasUsed"])
        params = request.params(self.address)
        decoded = replay_mined(self.chain, params, block)
        if decoded is not None:
            decoded.tx_hash = result.tx_hash
            decoded.message = (
                f"transaction {result.tx_hash} ({request.description}) reverted in "
                f"block {block}: {decoded.message}"
            )
            return decoded
        if gas_used >= gas_limit:
            cause = f"it ran out of gas (used all {gas_used:,} of its limit)"
        else:
            cause = (
                f"the node does not reproduce the revert (used {gas_used:,} of {gas_limit:,} gas)"
            )
        return TransactionError(
            f"transaction {result.tx_hash} ({request.description}) failed in block {block}: "
            f"{cause}",
            result.tx_hash,
        )

    def _queue_offline(self, request: _Request, gas: int | None, cause: BaseException) -> TxResult:
        if self.outbox is None:
            raise self._unreachable(cause) from cause
        cache = self._load_cache()
        fees_data = cache.get("fees")
        if not fees_data:
            raise ChainUnreachable(
                f"cannot reach {self.chain.rpc} ({short(cause)}) and no fees are known for "
                f"{self.chain.identity.describe()} yet: nothing was signed; retry when the node "
                "is reachable"
            ) from cause
        fees = Fees(**fees_data)
        limit = gas or int(cache.get("gas", {}).get(request.selector, OFFLINE_GAS_LIMIT))
        with self._locked():
            nonce = self._offline_nonce()
            tx_hash, raw = self._sign(request, limit, fees, nonce)
            self._journal(tx_hash, raw, nonce, request.description)
            self._next_nonce = nonce + 1
        return TxResult(tx_hash=tx_hash, queued=True, description=request.description, nonce=nonce)

    def _offline_nonce(self) -> int:
        """Offline: max(our own next nonce, journaled + 1)."""
        assert self.outbox is not None
        candidates = [n for n in (self._next_nonce,) if n is not None]
        journaled = self.outbox.next_nonce(self.chain.identity, self.address)
        if journaled is not None:
            candidates.append(journaled)
        if not candidates:
            raise ChainUnreachable(
                f"cannot reach {self.chain.rpc} and the next nonce of {self.address} is unknown "
                "(nothing journaled in the outbox for this chain): nothing was signed; retry "
                "when the node is reachable"
            )
        return max(candidates)

    def _unreachable(self, cause: BaseException) -> ChainError:
        return ChainUnreachable(
            f"cannot reach the chain at {self.chain.rpc}: {short(cause)} (is the node running? "
            "`provenance node start`); nothing was queued"
        )

    # ------------------------------------------------------------------------- fee cache

    def _cache_path(self) -> Path:
        return self._dir("cache") / f"fees-{self.chain.identity.key}.json"

    def _load_cache(self) -> dict[str, Any]:
        if self._cache is None:
            try:
                self._cache = json.loads(self._cache_path().read_text())
            except (OSError, ValueError, ConfigError):
                self._cache = {}
            if not isinstance(self._cache, dict):
                self._cache = {}
        return self._cache

    def _remember_fees(self, fees: Fees) -> None:
        cache = self._load_cache()
        data = {
            "max_fee": fees.max_fee,
            "priority_fee": fees.priority_fee,
            "gas_price": fees.gas_price,
        }
        if cache.get("fees") != data:
            cache["fees"] = data
            self._save_cache()

    def _remember_gas(self, selector: str, limit: int) -> None:
        cache = self._load_cache()
        gas = cache.setdefault("gas", {})
        if gas.get(selector, 0) < limit:
            gas[selector] = limit
            self._save_cache()

    def _save_cache(self) -> None:
        # a cache: losing it only costs the offline fallback
        with contextlib.suppress(OSError, ConfigError):
            write_json_atomic(self._cache_path(), self._cache)


class _Offline(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _NonceTaken(Exception):
    """Internal: the node said another transaction of this key holds the nonce."""


def _is_insufficient_funds(exc: BaseException) -> bool:
    """True when the node refused because the sender cannot pay gas * price + value (Anvil,
    Ganache, geth and Hardhat all say "insufficient funds")."""
    return "insufficient funds" in str(exc).lower()


def _describe(call: ContractFunction) -> str:
    return f"{call.fn_name}" if getattr(call, "fn_name", None) else "contract call"


def _hex(value: bytes | str) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


__all__ = ["Fees", "Transactor"]
