"""The verification report: verdict, reasons, timeline, lineage, attestations, recalls,
deliveries and title — and its JSON form. Every shell renders this object (the CLI as text, a
web page as HTML); nothing here computes a verdict (`provenance.verify.analysis` does).

Verdicts and exit codes (`Verdict.exit_code`, used by ``provenance verify``): ``VERIFIED`` 0,
``WARNING`` 1, ``FAILED`` 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any, TextIO

ERROR = "error"
WARNING = "warning"
INFO = "info"


class Verdict(StrEnum):
    """Outcome of a verification; `exit_code` is what the CLI exits with."""

    VERIFIED = "VERIFIED"
    WARNING = "WARNING"
    FAILED = "FAILED"

    @property
    def exit_code(self) -> int:
        return {"VERIFIED": 0, "WARNING": 1, "FAILED": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Reason:
    severity: str  # "error" | "warning" | "info"
    message: str


@dataclass(frozen=True, slots=True)
class Actor:
    """A participant as it stood at one moment (registration replayed from events)."""

    address: str
    name: str | None
    roles: tuple[str, ...]
    metadata_hash: str | None
    registered: bool
    active: bool


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    batch_id: str
    event: str  # the event name
    at: int  # the event's `at` (block timestamp)
    block: int
    tx_hash: str
    actor: Actor | None
    log_index: int = 0
    counterparty: Actor | None = None
    location: int = 0  # GLN, 0 = not given
    biz_step: str | None = None
    disposition: str | None = None
    documents: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineageNode:
    batch_id: str
    gtin: str | None
    lot: str | None
    quantity: int | None
    uom: str | None
    origin: str  # "created" | "split" | "merge" | "transform" | "unknown"
    creator: str | None
    recalled: bool  # recalled now (a lifted recall does not count)
    parents: tuple[LineageNode, ...] = ()


@dataclass(frozen=True, slots=True)
class AttestationView:
    subject: str
    claim: str
    issuer: Actor
    attestation_id: str
    evidence: str
    valid_from: int
    valid_until: int
    issued_at: int
    revoked_at: int | None
    used_at: int
    valid_at_use: bool
    valid_now: bool


@dataclass(frozen=True, slots=True)
class RecallView:
    batch_id: str
    relation: str  # "batch" | "ancestor" | "sibling" | "descendant"
    by: str
    reason: str
    at: int
    document: str | None = None
    lifted_at: int | None = None  # the operator lifted it (a mistaken recall)
    lifted_by: str | None = None
    lot: str | None = None  # the recalled batch's lot, when the history names it

    @property
    def active(self) -> bool:
        return self.lifted_at is None


@dataclass(frozen=True, slots=True)
class TitleView:
    """A change of a batch's owner (title), replayed from the registry's log."""

    batch_id: str
    from_: str | None
    to: str
    at: int
    via: str  # "sale" (handoff with title) | "delivery" (agreement) | "award" (arbiter/default)
    agreement_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgreementView:
    """One delivery: batch `batch_id` tendered under agreement `agreement_id`, and what became of
    it (replayed from the agreements contract's events)."""

    agreement_id: int
    batch_id: str
    status: str  # tendered | withdrawn | rejected | escalated | settled | resolved | refunded
    tendered_at: int
    days_late: int  # whole days late at the (last) tender
    tenders: int = 1  # how often this batch was tendered under the agreement
    rejections: int = 0
    buyer: str | None = None
    supplier: str | None = None
    carrier: str | None = None  # the tender point, if a carrier (as FCA)
    arbiter: str | None = None
    price: int | None = None
    escrow: int | None = None
    token: str | None = None
    document: str | None = None
    settled_at: int | None = None
    supplier_amount: int | None = None
    buyer_amount: int | None = None
    penalty: int | None = None
    dispute: str | None = None  # "rejected" | "escalated"
    disputed_at: int | None = None
    dispute_reason: str | None = None
    resolved_at: int | None = None
    resolved_by_default: bool | None = None
    delivered: bool | None = None  # title passed to the buyer


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    label: str
    hash: str
    matched: tuple[str, ...]  # where it is anchored; empty = not found


@dataclass(frozen=True, slots=True)
class Stats:
    rpc_calls: int = 0
    get_logs_calls: int = 0
    logs_fetched: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class AsOf:
    """Where the report's events came from and how recent they are.

    `source` is "rpc" (every event over JSON-RPC) or "index" (the local index up to its tip,
    topped up over RPC for the blocks after it). `block` is the newest block the answer covers:
    the chain head, or the index's tip while the chain does not answer (`chain_reachable`
    False)."""

    source: str
    block: int
    chain_reachable: bool = True
    index_tip: int | None = None
    index_file: str | None = None
    topped_up: int = 0  # events read over RPC after the index's tip
    confirmations: int = 0  # events in the newest `confirmations` blocks are unconfirmed


@dataclass(frozen=True, slots=True)
class UnconfirmedView:
    """An event too close to the chain head to be final: shown, never the verdict's basis."""

    event: str
    block: int
    log_index: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class Report:
    batch_id: str
    verdict: Verdict
    reasons: tuple[Reason, ...]
    timeline: tuple[TimelineEntry, ...]
    lineage: LineageNode
    attestations: tuple[AttestationView, ...]
    recalls: tuple[RecallView, ...]
    agreement: AgreementView | None
    documents: tuple[DocumentCheck, ...]
    stats: Stats
    checked_at: int
    #: Every delivery of a batch of the lineage (this batch or an ancestor) under an agreement,
    #: in chain order; `agreement` is the latest one of this batch itself, if any.
    agreements: tuple[AgreementView, ...] = ()
    #: Every title change of a batch of the lineage, in chain order.
    titles: tuple[TitleView, ...] = ()
    custodian: str | None = None  # of this batch, replayed (None if consumed or unknown)
    owner: str | None = None
    #: "rpc" or "index" (`as_of` says how recent, and the index's tip).
    source: str = "rpc"
    as_of: AsOf | None = None
    #: Events of the history within the confirmation depth of the head (see `analysis`).
    unconfirmed: tuple[UnconfirmedView, ...] = ()

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def with_reasons(self, *reasons: Reason) -> Report:
        """This report with more reasons (sorted by severity) and the verdict they call for."""
        merged = by_severity((*self.reasons, *reasons))
        return replace(self, reasons=merged, verdict=verdict_of(merged))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["exit_code"] = self.exit_code
        return _jsonable(data)  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def write_json(self, stream: TextIO, indent: int = 2) -> None:
        """Write the text of `to_json` piece by piece: the timeline (one entry per event) is
        converted an entry at a time, so a long history's JSON is never held whole in memory."""
        data = replace(self, timeline=()).to_dict()
        data["timeline"] = _Lazy(self.timeline)
        encoder = json.JSONEncoder(indent=indent, sort_keys=True)
        for chunk in encoder.iterencode(data):
            stream.write(chunk)


class _Lazy(list):  # type: ignore[type-arg]
    """A list the JSON encoder walks without it existing: each timeline entry is converted when
    the encoder reaches it. (`json` takes a list subclass for an array, asks `len` for
    emptiness, then iterates.)"""

    def __init__(self, entries: tuple[Any, ...]) -> None:
        super().__init__()
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Any]:
        return (_jsonable(asdict(entry)) for entry in self.entries)


_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def by_severity(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """Errors first, then warnings, then information (stable within each)."""
    return tuple(sorted(reasons, key=lambda r: _ORDER.get(r.severity, 3)))


def verdict_of(reasons: tuple[Reason, ...] | list[Reason]) -> Verdict:
    """FAILED if any reason is an error, WARNING if any is a warning, else VERIFIED."""
    severities = {r.severity for r in reasons}
    if ERROR in severities:
        return Verdict.FAILED
    return Verdict.WARNING if WARNING in severities else Verdict.VERIFIED


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).rstrip("_"): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
