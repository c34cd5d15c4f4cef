"""A durable journal of signed raw transactions, so that nothing signed is ever lost — and
nothing is ever sent to a chain it was not signed for.

The `Transactor` journals every signed transaction here *before* it sends it. If the node is down
the transaction simply stays in the outbox; if the node crashes after mining it but before saving
its state, the receipt disappears with it. `flush` repairs both cases: it walks every entry that
is not final, in nonce order per sender, and either finds the receipt or sends the *same* raw
transaction again. A raw transaction has a fixed nonce and hash, so resending it can never record
anything twice.

Every entry is bound to the identity of the chain it was signed for (chain id **and** genesis
hash, `provenance.chain.ChainIdentity`): `flush` only ever sends an entry to that chain. Entries
of another chain with the same id — a node started afresh, a reset testnet — are reported, never
replayed; `drop` discards entries (moved under `.dropped/`, not deleted). Entries written before
identities existed (folder named by the bare chain id) are "unbound": shown, never sent.

Layout: ``<dir>/<chainId>-<genesis 8 bytes>/<sender>/<nonce:012d>-<txhash>.json``, each file
written atomically (temp file + fsync + rename). One file lock per outbox directory serialises
flushes.

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
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from filelock import FileLock, Timeout

from provenance.chain import NONCE_TAKEN, ChainIdentity, is_connection_error, node_message, short
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import ConfigError, OutboxError
from provenance.reverts import replay_mined_tx

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
#: Entries worth showing by default: open ones and failures.
SHOWN_STATUSES = (*OPEN_STATUSES, FAILED)
DROPPED_DIR = ".dropped"
#: The identity key of entries written before chain identities existed.
UNBOUND = "unbound"

#: Why an entry is still pending after a flush.
UNREACHABLE = "the chain did not answer"
NO_RECEIPT = "sent, no receipt yet"
BLOCKED = "waits for an earlier nonce of the same sender"

Progress = Callable[["OutboxEntry", str], None]


@dataclass(frozen=True)
class OutboxEntry:
    """One signed transaction in the outbox, bound to the chain it was signed for."""

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
    genesis_hash: str = ""  # "" = written before chain identities (unbound: never sent)

    @property
    def identity(self) -> ChainIdentity | None:
        return ChainIdentity(self.chain_id, self.genesis_hash) if self.genesis_hash else None

    @property
    def identity_key(self) -> str:
        identity = self.identity
        return identity.key if identity is not None else f"{UNBOUND}-{self.chain_id}"

    def belongs_to(self, identity: ChainIdentity) -> bool:
        return self.identity == identity

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
            genesis_hash=str(data.get("genesis_hash", "")).lower(),
        )


@dataclass(frozen=True)
class FlushReport:
    """What `Outbox.flush` did. Tuples hold transaction hashes; `failed` and `still_pending`
    hold (hash, reason)."""

    identity: ChainIdentity
    resubmitted: tuple[str, ...] = ()  # no receipt on the chain: the same raw tx was sent again
    already_recorded: tuple[str, ...] = ()  # sent earlier and its receipt is (still) there
    confirmed: tuple[str, ...] = ()  # never marked sent, but someone got it mined
    failed: tuple[tuple[str, str], ...] = ()
    still_pending: tuple[tuple[str, str], ...] = ()
    finalized: tuple[str, ...] = ()  # those of already_recorded now marked final
    #: Open entries bound to another chain with this chain id (or unbound): never sent here.
    elsewhere: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed and not self.still_pending

    @property
    def touched(self) -> int:
        return (
            len(self.resubmitted)
            + len(self.already_recorded)
            + len(self.confirmed)
            + len(self.failed)
            + len(self.still_pending)
        )

    def to_json(self) -> dict[str, Any]:
        data = {key: value for key, value in asdict(self).items() if key != "identity"}
        return {"ok": self.ok, "chain": self.identity.to_json(), **data}


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

    def path_of(self, entry: OutboxEntry, root: Path | None = None) -> Path:
        sender = to_checksum_address(entry.sender)
        folder = entry.identity.key if entry.identity is not None else str(entry.chain_id)
        return (
            (root or self.directory)
            / folder
            / sender
            / f"{entry.nonce:012d}-{_normal_hash(entry.tx_hash)}.json"
        )

    def add(self, entry: OutboxEntry) -> None:
        """Journal a signed transaction (durably: it is on disk when this returns)."""
        if entry.status not in STATUSES:
            raise OutboxError(f"unknown outbox status {entry.status!r}: use one of {STATUSES}")
        if not entry.genesis_hash:
            raise OutboxError("an outbox entry must name the genesis hash of its chain")
        entry = replace(
            entry, sender=to_checksum_address(entry.sender), tx_hash=_normal_hash(entry.tx_hash)
        )
        self._write(self.path_of(entry), entry)

    def _write(self, path: Path, entry: OutboxEntry) -> None:
        try:
            write_json_atomic(path, entry.to_json())
        except ConfigError as exc:
            raise OutboxError(f"cannot write to the outbox {self.directory}: {exc}") from exc

    def _paths(self) -> list[Path]:
        return [
            path
            for path in self.directory.glob("*/*/*.json")
            if not path.name.startswith(".") and not path.parts[-3].startswith(".")
        ]

    def _find(self, tx_hash: str, identity: ChainIdentity | None = None) -> Path:
        """The file of `tx_hash` — of `identity`'s chain when given. The same key signing the
        same call with the same nonce and fees on two chains makes the same transaction, so a
        hash alone may name entries of several chains."""
        wanted = _normal_hash(tx_hash)
        folder = identity.key if identity is not None else "*"
        matches = [p for p in self.directory.glob(f"{folder}/*/*-{wanted}.json")
                   if not p.parts[-3].startswith(".")]  # fmt: skip
        if not matches:
            raise OutboxError(f"transaction {wanted} is not in the outbox {self.directory}")
        if len(matches) > 1:
            chains = ", ".join(sorted(p.parts[-3] for p in matches))
            raise OutboxError(
                f"transaction {wanted} is journaled for several chains ({chains}): the same "
                "key signed the same call on each; say which chain (--rpc)"
            )
        return matches[0]

    def get(self, tx_hash: str, identity: ChainIdentity | None = None) -> OutboxEntry:
        return self._read(self._find(tx_hash, identity))

    def mark(
        self,
        tx_hash: str,
        status: str,
        *,
        error: str = "",
        identity: ChainIdentity | None = None,
    ) -> None:
        """Record a new status for a journaled transaction (of `identity`'s chain)."""
        if status not in STATUSES:
            raise OutboxError(f"unknown outbox status {status!r}: use one of {STATUSES}")
        path = self._find(tx_hash, identity)
        self._write(path, replace(self._read(path), status=status, updated_at=time.time(),
                                  error=error))  # fmt: skip

    def remove(self, tx_hash: str, identity: ChainIdentity | None = None) -> None:
        self._find(tx_hash, identity).unlink(missing_ok=True)

    def entries(
        self,
        identity: ChainIdentity | None = None,
        statuses: Iterable[str] | None = None,
        *,
        chain_id: int | None = None,
    ) -> list[OutboxEntry]:
        """Journaled transactions (of `identity`, or of any chain with `chain_id`), ordered by
        (chain, sender, nonce)."""
        wanted = set(statuses) if statuses is not None else None
        found = []
        for path in self._paths():
            entry = self._read(path)
            if identity is not None and not entry.belongs_to(identity):
                continue
            if chain_id is not None and entry.chain_id != chain_id:
                continue
            if wanted is None or entry.status in wanted:
                found.append(entry)
        found.sort(key=lambda e: (e.chain_id, e.genesis_hash, e.sender.lower(), e.nonce,
                                  e.created_at))  # fmt: skip
        return found

    def elsewhere(
        self, identity: ChainIdentity, statuses: Iterable[str] = OPEN_STATUSES
    ) -> list[OutboxEntry]:
        """Entries with `identity`'s chain id that belong to another chain (or to no known one):
        they are never sent to `identity`'s chain."""
        return [
            e
            for e in self.entries(chain_id=identity.chain_id, statuses=statuses)
            if not e.belongs_to(identity)
        ]

    def next_nonce(self, identity: ChainIdentity, sender: str) -> int | None:
        """Max journaled nonce + 1 for `sender` on that chain, or None if nothing is journaled.

        Pruned entries are gone, so callers take the max of this and the chain's nonce.
        """
        folder = self.directory / identity.key / to_checksum_address(sender)
        nonces = [
            int(path.name.split("-", 1)[0])
            for path in folder.glob("*.json")
            if not path.name.startswith(".")
        ]
        return max(nonces) + 1 if nonces else None

    def prune(self, identity: ChainIdentity | None = None) -> int:
        """Delete final entries; returns how many."""
        gone = self.entries(identity, statuses=[FINAL])
        for entry in gone:
            self.path_of(entry).unlink(missing_ok=True)
        return len(gone)

    def drop(self, entries: Sequence[OutboxEntry]) -> Path:
        """Discard entries: they are moved under `<dir>/.dropped/` (kept for the record, never
        sent). Returns that folder."""
        archive = self.directory / DROPPED_DIR
        for entry in entries:
            source = self.path_of(entry)
            if not source.exists():
                continue
            target = self.path_of(entry, archive)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            except OSError as exc:
                raise OutboxError(
                    f"cannot move {source} to {target}: {exc.strerror or exc}"
                ) from exc
        return archive

    def _read(self, path: Path) -> OutboxEntry:
        try:
            entry = OutboxEntry.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OutboxError(
                f"unreadable outbox entry {path}: {exc}; move it out of the outbox to go on"
            ) from exc
        return entry

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
        """Make the chain hold every transaction journaled for it exactly once.

        For each non-final entry bound to `chain`'s identity (only those created at or after
        `since`, if given), in the order they were signed (and always in nonce order per
        sender): a receipt on the chain → confirmed (or failed if it reverted); no receipt → send
        the same raw transaction again and wait for its receipt. A confirmed entry whose receipt
        is found again at least `settle_seconds` after it was confirmed becomes final. If the
        endpoint stops answering, the rest stays pending. Entries of another chain with the same
        id are counted in `elsewhere`, never sent. `progress(entry, outcome)` is called once per
        entry.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.directory / ".flush.lock"))
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
            for e in self.entries(chain.identity, statuses=OPEN_STATUSES)
            if since is None or e.created_at >= since
        ]
        endpoint_down = not chain.reachable
        blocked: set[str] = set()
        for entry in _creation_order(todo):
            reason = ""
            if endpoint_down:
                outcome, reason = "still_pending", UNREACHABLE
            elif entry.sender in blocked:
                outcome, reason = "still_pending", BLOCKED
            else:
                try:
                    outcome = self._flush_one(chain, entry, settle_seconds, receipt_timeout)
                except _EndpointDown:
                    endpoint_down = True
                    outcome, reason = "still_pending", UNREACHABLE
                if outcome == "still_pending" and not reason:
                    reason = NO_RECEIPT
            if outcome == "still_pending":
                blocked.add(entry.sender)  # its later nonces cannot be mined before this one
                outcomes["still_pending"].append((entry.tx_hash, reason))
            elif outcome == "failed":
                error = self.get(entry.tx_hash, chain.identity).error
                outcomes["failed"].append((entry.tx_hash, error))
            else:
                outcomes[outcome].append(entry.tx_hash)
            if outcome == "finalized":  # re-verified: it is also "already recorded"
                outcomes["already_recorded"].append(entry.tx_hash)
            if progress is not None:
                progress(entry, outcome)
        elsewhere = tuple(e.tx_hash for e in self.elsewhere(chain.identity))
        return FlushReport(
            identity=chain.identity,
            elsewhere=elsewhere,
            **{key: tuple(value) for key, value in outcomes.items()},
        )

    def _flush_one(
        self, chain: Chain, entry: OutboxEntry, settle_seconds: float, receipt_timeout: float
    ) -> str:
        receipt = _receipt(chain, entry.tx_hash)
        if receipt is not None:
            return self._recorded(chain, entry, receipt, settle_seconds, resent=False)
        try:
            chain.w3.eth.send_raw_transaction(HexStr(entry.raw_tx))
        except Exception as exc:
            if is_connection_error(exc):
                raise _EndpointDown from exc
            message = node_message(exc)
            lowered = message.lower()
            if not any(answer in lowered for answer in NONCE_TAKEN):
                self.mark(
                    entry.tx_hash,
                    FAILED,
                    identity=entry.identity,
                    error=f"the node refused it: {message}",
                )
                return "failed"
            # The node knows this nonce: either this very tx (wait for it) or another one.
            if "nonce too low" in lowered or "underpriced" in lowered:
                receipt = _receipt(chain, entry.tx_hash)
                if receipt is None:
                    self.mark(
                        entry.tx_hash,
                        FAILED,
                        identity=entry.identity,
                        error=f"nonce {entry.nonce} of {entry.sender} was used by another "
                        "transaction (the same key used elsewhere?): this one was never recorded",
                    )
                    return "failed"
                return self._recorded(chain, entry, receipt, settle_seconds, resent=False)
        if entry.status == PENDING:
            self.mark(entry.tx_hash, SENT, identity=entry.identity)
        try:
            receipt = chain.wait_for_receipt(bytes.fromhex(entry.tx_hash[2:]), receipt_timeout)
        except Exception as exc:
            if is_connection_error(exc):
                raise _EndpointDown from exc
            return "still_pending"  # web3 TimeExhausted: left as sent
        return self._recorded(chain, entry, receipt, settle_seconds, resent=True)

    def _recorded(
        self,
        chain: Chain,
        entry: OutboxEntry,
        receipt: Any,
        settle_seconds: float,
        resent: bool,
    ) -> str:
        if receipt["status"] != 1:
            block = int(receipt["blockNumber"])
            decoded = replay_mined_tx(chain, entry.tx_hash, block)
            why = f": {decoded.message}" if decoded is not None else ""
            self.mark(
                entry.tx_hash,
                FAILED,
                identity=entry.identity,
                error=f"reverted in block {block}{why}",
            )
            return "failed"
        if resent:
            self.mark(entry.tx_hash, CONFIRMED, identity=entry.identity)
            return "resubmitted"
        if entry.status == CONFIRMED:
            if time.time() - entry.updated_at >= settle_seconds:
                self.mark(entry.tx_hash, FINAL, identity=entry.identity)
                return "finalized"
            return "already_recorded"
        self.mark(entry.tx_hash, CONFIRMED, identity=entry.identity)
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
        if is_connection_error(exc):
            raise _EndpointDown from exc
        raise OutboxError(f"cannot read the receipt of {tx_hash}: {short(exc)}") from exc


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
]
