"""A durable journal of signed raw transactions, so that nothing signed is ever lost.

The `Transactor` journals every signed transaction here *before* it sends it. If the node is down
the transaction simply stays in the outbox; if the node crashes after mining it but before saving
its state (Anvil with `--state-interval`, a hard kill), the receipt disappears with it. `flush`
repairs both cases: it walks every entry that is not final, in nonce order per sender, and either
finds the receipt or sends the *same* raw transaction again. A raw transaction has a fixed nonce
and hash, so resending it can never record anything twice.

Layout: ``<dir>/<chainId>/<sender>/<nonce:012d>-<txhash>.json``, each file written atomically
(temp file + fsync + rename). One file lock per outbox directory serialises flushes.

Statuses:

- ``pending``   signed and journaled, no node has accepted it yet;
- ``sent``      a node accepted it (it may still be lost if that node crashes);
- ``confirmed`` a receipt was seen (status 1) — but the node may still lose it in a crash;
- ``failed``    mined with status 0, or refused by the node for good (reason in ``error``);
- ``final``     a later `flush` found the receipt again, at least ``settle_seconds`` after it was
                first confirmed; `prune` deletes these.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from filelock import FileLock, Timeout

from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import OutboxError

if TYPE_CHECKING:
    from provenance.chain import Chain


PENDING = "pending"
SENT = "sent"
CONFIRMED = "confirmed"
FAILED = "failed"
FINAL = "final"
STATUSES = (PENDING, SENT, CONFIRMED, FAILED, FINAL)
#: Entries `flush` looks at: everything that a node crash could still undo.
OPEN_STATUSES = (PENDING, SENT, CONFIRMED)

#: `eth_sendRawTransaction` answers meaning "I have (had) this nonce": re-check the receipt.
_KNOWN_ANSWERS = (
    "already known",
    "known transaction",
    "already imported",
    "already exists",
    "nonce too low",
    "replacement transaction underpriced",
    "transaction already in",
)

Progress = Callable[["OutboxEntry", str], None]


@dataclass(frozen=True)
class OutboxEntry:
    """One signed transaction in the outbox."""

    chain_id: int
    sender: str
    nonce: int
    tx_hash: str  # 0x-prefixed, lower case
    raw_tx: str  # 0x-prefixed signed RLP
    description: str
    status: str
    created_at: float
    updated_at: float = 0.0  # when the status last changed (0 = never)
    error: str = ""  # why it failed, for `failed`

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        return cls(
            chain_id=int(data["chain_id"]),
            sender=str(data["sender"]),
            nonce=int(data["nonce"]),
            tx_hash=str(data["tx_hash"]),
            raw_tx=str(data["raw_tx"]),
            description=str(data.get("description", "")),
            status=str(data["status"]),
            created_at=float(data["created_at"]),
            updated_at=float(data.get("updated_at", 0.0)),
            error=str(data.get("error", "")),
        )


@dataclass(frozen=True)
class FlushReport:
    """What `Outbox.flush` did. Every tuple holds transaction hashes (failed: hash and reason)."""

    resubmitted: tuple[str, ...] = ()  # no receipt on the chain: the same raw tx was sent again
    already_recorded: tuple[str, ...] = ()  # sent earlier and its receipt is (still) there
    confirmed: tuple[str, ...] = ()  # never marked sent, but someone got it mined
    failed: tuple[tuple[str, str], ...] = ()
    still_pending: tuple[str, ...] = ()  # endpoint down or no receipt within the timeout
    finalized: tuple[str, ...] = ()  # those of already_recorded now marked final

    @property
    def ok(self) -> bool:
        return not self.failed and not self.still_pending


def _normal_hash(tx_hash: str | bytes) -> str:
    text = tx_hash.hex() if isinstance(tx_hash, bytes | bytearray) else str(tx_hash)
    text = text.lower()
    return text if text.startswith("0x") else "0x" + text


class Outbox:
    """The file-backed outbox under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> Outbox:
        return cls(data_dir() / "outbox")

    def __repr__(self) -> str:
        return f"Outbox({str(self.directory)!r})"

    # ------------------------------------------------------------------ store

    def path_of(self, entry: OutboxEntry) -> Path:
        sender = to_checksum_address(entry.sender)
        return (
            self.directory
            / str(entry.chain_id)
            / sender
            / f"{entry.nonce:012d}-{_normal_hash(entry.tx_hash)}.json"
        )

    def add(self, entry: OutboxEntry) -> None:
        """Journal a signed transaction (durably: it is on disk when this returns)."""
        if entry.status not in STATUSES:
            raise OutboxError(f"unknown outbox status {entry.status!r}: use one of {STATUSES}")
        entry = replace(
            entry, sender=to_checksum_address(entry.sender), tx_hash=_normal_hash(entry.tx_hash)
        )
        try:
            write_json_atomic(self.path_of(entry), entry.to_json())
        except OSError as exc:
            raise OutboxError(f"cannot write to the outbox {self.directory}: {exc}") from exc

    def _find(self, tx_hash: str) -> Path:
        wanted = _normal_hash(tx_hash)
        matches = list(self.directory.glob(f"*/*/*-{wanted}.json"))
        if not matches:
            raise OutboxError(f"transaction {wanted} is not in the outbox {self.directory}")
        return matches[0]

    def get(self, tx_hash: str) -> OutboxEntry:
        return self._read(self._find(tx_hash))

    def mark(self, tx_hash: str, status: str, *, error: str = "") -> None:
        """Record a new status for a journaled transaction."""
        if status not in STATUSES:
            raise OutboxError(f"unknown outbox status {status!r}: use one of {STATUSES}")
        path = self._find(tx_hash)
        entry = replace(self._read(path), status=status, updated_at=time.time(), error=error)
        try:
            write_json_atomic(path, entry.to_json())
        except OSError as exc:
            raise OutboxError(f"cannot write to the outbox {self.directory}: {exc}") from exc

    def remove(self, tx_hash: str) -> None:
        self._find(tx_hash).unlink(missing_ok=True)

    def entries(
        self, chain_id: int | None = None, statuses: Iterable[str] | None = None
    ) -> list[OutboxEntry]:
        """Journaled transactions, ordered by (sender, nonce)."""
        wanted = set(statuses) if statuses is not None else None
        pattern = f"{chain_id}/*/*.json" if chain_id is not None else "*/*/*.json"
        found = []
        for path in self.directory.glob(pattern):
            if path.name.startswith("."):  # a temp file of an interrupted atomic write
                continue
            entry = self._read(path)
            if wanted is None or entry.status in wanted:
                found.append(entry)
        found.sort(key=lambda e: (e.chain_id, e.sender.lower(), e.nonce, e.created_at))
        return found

    def next_nonce(self, chain_id: int, sender: str) -> int | None:
        """Max journaled nonce + 1 for `sender`, or None if it has nothing journaled.

        Pruned entries are gone, so callers take the max of this and the chain's nonce.
        """
        folder = self.directory / str(chain_id) / to_checksum_address(sender)
        nonces = [
            int(path.name.split("-", 1)[0])
            for path in folder.glob("*.json")
            if not path.name.startswith(".")
        ]
        return max(nonces) + 1 if nonces else None

    def prune(self, chain_id: int | None = None) -> int:
        """Delete final entries; returns how many."""
        gone = self.entries(chain_id, statuses=[FINAL])
        for entry in gone:
            self.path_of(entry).unlink(missing_ok=True)
        return len(gone)

    def _read(self, path: Path) -> OutboxEntry:
        try:
            return OutboxEntry.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutboxError(f"unreadable outbox entry {path}: {exc}") from exc

    # ------------------------------------------------------------------ flush

    def flush(
        self,
        chain: Chain,
        progress: Progress | None = None,
        *,
        since: float | None = None,
        settle_seconds: float = 5.0,
        receipt_timeout: float = 30.0,
        lock_timeout: float = 30.0,
    ) -> FlushReport:
        """Make the chain hold every journaled transaction exactly once.

        For each non-final entry of `chain`'s id (only those created at or after `since`, if
        given), in the order they were signed (and always in nonce order per sender): a receipt
        on the chain → confirmed (or failed if it reverted); no receipt → send the same raw
        transaction again and wait for its receipt.
        A confirmed entry whose receipt is found again at least `settle_seconds` after it was
        confirmed becomes final. If the endpoint is unreachable, the rest stays pending.
        `progress(entry, outcome)` is called once per entry.
        """
        lock = FileLock(str(self.directory / ".flush.lock"))
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with lock.acquire(timeout=lock_timeout):
                return self._flush(chain, progress, since, settle_seconds, receipt_timeout)
        except Timeout as exc:
            raise OutboxError(
                f"another process is flushing the outbox {self.directory} "
                f"(lock held for more than {lock_timeout:.0f} s)"
            ) from exc

    def _flush(
        self,
        chain: Chain,
        progress: Progress | None,
        since: float | None,
        settle_seconds: float,
        receipt_timeout: float,
    ) -> FlushReport:
        outcomes: dict[str, list[Any]] = {
            key: [] for key in ("resubmitted", "already_recorded", "confirmed", "failed",
                                "still_pending", "finalized")
        }  # fmt: skip
        todo = [
            e
            for e in self.entries(chain.chain_id, statuses=OPEN_STATUSES)
            if since is None or e.created_at >= since
        ]
        endpoint_down = False
        blocked: set[str] = set()
        for entry in _creation_order(todo):
            if endpoint_down or entry.sender in blocked:
                outcome = "still_pending"
            else:
                try:
                    outcome = self._flush_one(chain, entry, settle_seconds, receipt_timeout)
                except _EndpointDown:
                    endpoint_down = True
                    outcome = "still_pending"
            if outcome == "still_pending":
                blocked.add(entry.sender)  # its later nonces cannot be mined before this one
            if outcome == "failed":
                outcomes["failed"].append((entry.tx_hash, self.get(entry.tx_hash).error))
            else:
                outcomes[outcome].append(entry.tx_hash)
            if outcome == "finalized":  # re-verified: it is also "already recorded"
                outcomes["already_recorded"].append(entry.tx_hash)
            if progress is not None:
                progress(entry, outcome)
        return FlushReport(**{key: tuple(value) for key, value in outcomes.items()})

    def _flush_one(
        self, chain: Chain, entry: OutboxEntry, settle_seconds: float, receipt_timeout: float
    ) -> str:
        receipt = _receipt(chain, entry.tx_hash)
        if receipt is not None:
            return self._recorded(entry, receipt, settle_seconds, resent=False)
        try:
            chain.w3.eth.send_raw_transaction(HexStr(entry.raw_tx))
        except Exception as exc:
            if _is_connection_error(exc):
                raise _EndpointDown from exc
            message = str(exc).lower()
            if not any(answer in message for answer in _KNOWN_ANSWERS):
                self.mark(entry.tx_hash, FAILED, error=f"node refused it: {_short(exc)}")
                return "failed"
            # The node knows this nonce: either this very tx (wait for it) or another one.
            if "nonce too low" in message or "underpriced" in message:
                receipt = _receipt(chain, entry.tx_hash)
                if receipt is None:
                    self.mark(
                        entry.tx_hash,
                        FAILED,
                        error=f"nonce {entry.nonce} was used by another transaction",
                    )
                    return "failed"
                return self._recorded(entry, receipt, settle_seconds, resent=False)
        if entry.status == PENDING:
            self.mark(entry.tx_hash, SENT)
        try:
            receipt = chain.wait_for_receipt(bytes.fromhex(entry.tx_hash[2:]), receipt_timeout)
        except Exception as exc:
            if _is_connection_error(exc):
                raise _EndpointDown from exc
            return "still_pending"  # web3 TimeExhausted: left as sent
        return self._recorded(entry, receipt, settle_seconds, resent=True)

    def _recorded(
        self, entry: OutboxEntry, receipt: Any, settle_seconds: float, resent: bool
    ) -> str:
        if receipt["status"] != 1:
            self.mark(entry.tx_hash, FAILED, error=f"reverted in block {receipt['blockNumber']}")
            return "failed"
        if resent:
            self.mark(entry.tx_hash, CONFIRMED)
            return "resubmitted"
        if entry.status == CONFIRMED:
            if time.time() - entry.updated_at >= settle_seconds:
                self.mark(entry.tx_hash, FINAL)
                return "finalized"
            return "already_recorded"
        self.mark(entry.tx_hash, CONFIRMED)
        return "already_recorded" if entry.status == SENT else "confirmed"


def _creation_order(entries: list[OutboxEntry]) -> list[OutboxEntry]:
    """Entries in the order they were signed, but always in nonce order per sender.

    Transactions of different senders may depend on each other (an accept needs the initiate
    before it), so replaying sender by sender would revert some; this is a k-way merge of the
    per-sender nonce queues by creation time.
    """
    queues: dict[str, list[OutboxEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.sender, e.nonce)):
        queues.setdefault(entry.sender, []).append(entry)
    heads = {sender: 0 for sender in queues}
    ordered: list[OutboxEntry] = []
    while heads:
        sender = min(heads, key=lambda s: (queues[s][heads[s]].created_at, s))
        ordered.append(queues[sender][heads[sender]])
        heads[sender] += 1
        if heads[sender] == len(queues[sender]):
            del heads[sender]
    return ordered


class _EndpointDown(Exception):
    """Internal: the RPC endpoint stopped answering in the middle of a flush."""


def _receipt(chain: Chain, tx_hash: str) -> Any | None:
    try:
        return chain.receipt_or_none(bytes.fromhex(tx_hash[2:]))
    except Exception as exc:
        if _is_connection_error(exc):
            raise _EndpointDown from exc
        raise OutboxError(f"cannot read the receipt of {tx_hash}: {_short(exc)}") from exc


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ConnectionError | ConnectionError | TimeoutError)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"


__all__ = [
    "CONFIRMED",
    "FAILED",
    "FINAL",
    "OPEN_STATUSES",
    "PENDING",
    "SENT",
    "STATUSES",
    "FlushReport",
    "Outbox",
    "OutboxEntry",
    "OutboxError",
]
