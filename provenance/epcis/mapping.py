"""The design table (docs/design.md, "EPCIS 2.0 mapping") in code, both ways.

- `interpret(event)`: what an EPCIS event means for the registry (an `Intent`: commission, ship,
  receive, transform, attest, recall, with its batches, quantities, parties and codes), or
  `Unmappable` with the reason the registry cannot hold it. Pure: no chain. Whether the importing
  participant may do it is the importer's question.
- `to_epcis(record)`: the EPCIS event of an on-chain record (`ChainRecord`), without its
  `eventID` (the exporter hashes it).

The table (docs/design.md has it with the "anchored only" fields):

- BatchCreated (commissioned) → ObjectEvent ADD, quantityList; commissioning / active.
- HandoffInitiated → ObjectEvent OBSERVE, source/destination parties, bizLocation; its codes
  (default shipping / in_transit).
- HandoffAccepted → ObjectEvent OBSERVE, source/destination parties; receiving / in_progress.
- BatchConsumed + BatchSplit / BatchDerived / BatchCreated of one transaction →
  TransformationEvent with input/outputQuantityList; commissioning (of the outputs, as GS1's
  example 9.6.4 does: CBV 2.0 has no "transforming" step).
- AttestationIssued on a batch → ObjectEvent OBSERVE, certificationInfo; inspecting / conformant.
- BatchRecalled → ObjectEvent OBSERVE; the recall's reason if it is a CBV step, else holding;
  recalled. RecallLifted → holding / active.
- HandoffCancelled, HandoffRejected → ObjectEvent OBSERVE; void_shipping.
- TitleTransferred → ObjectEvent OBSERVE with owning parties only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from provenance.cbv import BIZ_STEP_CODES, BIZ_STEPS, DISPOSITIONS, biz_step_code, disposition_code
from provenance.encoding import Hex32, bytes32_to_text, text_to_bytes32
from provenance.epcis.hashing import GS1_CONTEXT_URL, NAMESPACE, ON_CHAIN, PREFIX
from provenance.epcis.identifiers import (
    COUNT_UNIT,
    Amount,
    ClassKey,
    PartyRef,
    Unmappable,
    location_uri,
    parse_class,
    parse_location,
    parse_party,
    party_uris,
    refuse_instance,
    whole_amount,
)
from provenance.exceptions import InvalidInput

#: The `@context` of every document this toolkit writes.
EXPORT_CONTEXT: list[Any] = [GS1_CONTEXT_URL, {PREFIX: NAMESPACE}]
#: certificationInfo of a claim that is not itself a URI: `urn:provenance:claim:<text>`.
CLAIM_URN = "urn:provenance:claim:"
PARTY_TYPES = ("owning_party", "possessing_party")
#: Dispositions under which an inspection is no attestation (the claim does not hold).
NOT_CONFORMANT = frozenset(
    {"non_conformant", "damaged", "expired", "recalled", "destroyed", "stolen", "mismatch_class",
     "mismatch_instance", "mismatch_quantity", "needs_replacement"}
)  # fmt: skip


class Kind(StrEnum):
    """What an EPCIS event becomes on chain (import) or comes from (export)."""

    COMMISSION = "commission"  # createBatches
    SHIP = "ship"  # initiateHandoffs
    RECEIVE = "receive"  # acceptHandoffs
    TRANSFORM = "transform"  # splitBatch / mergeBatches / transformBatches
    ATTEST = "attest"  # attest (evidence = the event hash)
    RECALL = "recall"  # recallBatch
    # export only
    LIFT = "lift"
    CANCEL = "cancel"
    REJECT = "reject"
    TITLE = "title"


@dataclass(frozen=True)
class Line:
    """One quantity element: a batch and a whole amount of it (`stated`: as the event said)."""

    key: ClassKey
    amount: Amount
    stated: str = ""


@dataclass(frozen=True)
class Intent:
    """What an EPCIS event asks of the registry (see the module docstring)."""

    kind: Kind
    lines: tuple[Line, ...] = ()
    inputs: tuple[Line, ...] = ()
    outputs: tuple[Line, ...] = ()
    biz_step: int = 0
    disposition: int = 0
    location: int = 0
    source: Mapping[str, tuple[PartyRef, ...]] = field(default_factory=dict)
    destination: Mapping[str, tuple[PartyRef, ...]] = field(default_factory=dict)
    claims: tuple[str, ...] = ()
    event_time: int = 0


# ------------------------------------------------------------------------------- import side


def _vocab(value: Any, prefix: str) -> str | None:
    """A CBV value as its bare name (`https://ref.gs1.org/cbv/BizStep-shipping`, the URN form
    and `shipping` all give `shipping`); None when absent."""
    if value is None:
        return None
    text = str(value).strip()
    for head in (f"https://ref.gs1.org/cbv/{prefix}-", f"urn:epcglobal:cbv:{prefix.lower()}:"):
        if text.startswith(head):
            return text[len(head) :]
    if text.lower().startswith(f"urn:epcglobal:cbv:{prefix.lower()}:"):
        return text.split(":")[-1]
    return text


def biz_step_of(event: Mapping[str, Any]) -> str | None:
    return _vocab(event.get("bizStep"), "BizStep")


def disposition_of(event: Mapping[str, Any]) -> str | None:
    return _vocab(event.get("disposition"), "Disp")


def event_time(event: Mapping[str, Any]) -> int:
    """`eventTime` (ISO 8601 with an offset) as a unix time; checks `eventTimeZoneOffset`."""
    text = event.get("eventTime")
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(text, str):
        raise Unmappable("the event has no eventTime")
    if not isinstance(offset, str) or len(offset) != 6 or offset[0] not in "+-":
        raise Unmappable(f"eventTimeZoneOffset {offset!r} is not ±hh:mm")
    try:
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Unmappable(f"eventTime {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise Unmappable(f"eventTime {text!r} has no time zone (Z or ±hh:mm)")
    return int(moment.timestamp())


def _lines(items: Any, what: str) -> tuple[Line, ...]:
    if items is None or items == []:
        return ()
    if not isinstance(items, list):
        raise Unmappable(f"{what} is not a list")
    lines = []
    for item in items:
        if not isinstance(item, Mapping) or "epcClass" not in item:
            raise Unmappable(f"{what} has an element without epcClass")
        key = parse_class(item["epcClass"])
        if "quantity" not in item:
            raise Unmappable(
                f"{what}: {item['epcClass']} has no quantity; the registry records how much "
                "of a batch there is"
            )
        amount = whole_amount(item["quantity"], item.get("uom"))
        stated = f"{item['quantity']} {item.get('uom') or COUNT_UNIT}"
        lines.append(Line(key, amount, stated))
    return tuple(lines)


def _refuse_instances(event: Mapping[str, Any], *names: str) -> None:
    for name in names:
        value = event.get(name)
        items = value if isinstance(value, list) else [value] if value else []
        if items:
            raise refuse_instance(items[0])


def _parties(items: Any, role: str) -> dict[str, tuple[PartyRef, ...]]:
    found: dict[str, list[PartyRef]] = {}
    for item in items or ():
        if not isinstance(item, Mapping):
            raise Unmappable(f"{role}List has an element that is not an object")
        kind = _vocab(item.get("type"), "SDT")
        if kind in PARTY_TYPES:
            found.setdefault(kind, []).append(parse_party(item.get(role)))
    return {kind: tuple(refs) for kind, refs in found.items()}


def _claims(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if value else []
    claims = []
    for item in items:
        text = str(item)
        claim = text[len(CLAIM_URN) :] if text.startswith(CLAIM_URN) else text
        try:
            text_to_bytes32(claim)
        except InvalidInput:
            raise Unmappable(
                f"certificationInfo {text!r} is {len(claim.encode())} bytes: the registry holds a "
                "claim of at most 32 bytes (use a short certificate identifier)"
            ) from None
        claims.append(claim)
    return tuple(claims)


RECORDED = (
    "the registry records commissioning (ObjectEvent ADD), shipping with a destination, "
    "receiving, transformations, inspections with certificationInfo and recalls"
)


def interpret(event: Mapping[str, Any]) -> Intent:
    """The registry's reading of one EPCIS event (numbers may be `Decimal`), or `Unmappable`."""
    kind = event.get("type")
    if kind == "AggregationEvent":
        raise Unmappable(
            "AggregationEvent (packing items into a logistic unit such as an SSCC pallet) is not "
            "modelled: the registry records batches, not the containers that carry them"
        )
    if kind == "AssociationEvent":
        raise Unmappable(
            "AssociationEvent (attaching sensors or components to an asset) is not modelled by "
            "the registry"
        )
    if kind == "TransactionEvent":
        raise Unmappable(
            "TransactionEvent (linking goods to a business transaction) is not modelled: the "
            "business transactions of a shipment survive in its stored event"
        )
    if kind not in ("ObjectEvent", "TransformationEvent"):
        raise Unmappable(f"event type {kind!r} is not an EPCIS 2.0 event type the registry models")
    if event.get("errorDeclaration") is not None:
        raise Unmappable(
            "errorDeclaration (a correction of an earlier event) is not modelled: the registry's "
            "history is append-only"
        )
    when = event_time(event)
    step = biz_step_of(event)
    disposition = disposition_of(event)
    if kind == "TransformationEvent":
        _refuse_instances(event, "inputEPCList", "outputEPCList")
        inputs = _lines(event.get("inputQuantityList"), "inputQuantityList")
        outputs = _lines(event.get("outputQuantityList"), "outputQuantityList")
        if not inputs:
            raise Unmappable(
                "a TransformationEvent without inputs: commission new batches with an "
                "ObjectEvent ADD instead"
            )
        if not outputs:
            raise Unmappable("a TransformationEvent without outputs is not modelled")
        return Intent(Kind.TRANSFORM, inputs=inputs, outputs=outputs, event_time=when)
    _refuse_instances(event, "epcList")
    action = event.get("action")
    if action not in ("ADD", "OBSERVE", "DELETE"):
        raise Unmappable(f"action {action!r} is not ADD, OBSERVE or DELETE")
    lines = _lines(event.get("quantityList"), "quantityList")
    if not lines:
        raise Unmappable(
            "the event names no batch: class-level events carry a quantityList (GTIN + lot + "
            "quantity)"
        )
    common: dict[str, Any] = {"lines": lines, "event_time": when}
    if action == "DELETE":
        raise Unmappable(
            "action DELETE (goods ceasing to exist: decommissioning, destroying) is not modelled"
        )
    if action == "ADD":
        if step not in (None, "commissioning", "creating_class_instance"):
            raise Unmappable(
                f"action ADD with bizStep {step}: only commissioning creates batches on chain"
            )
        return Intent(Kind.COMMISSION, **common)
    if disposition == "recalled":
        return Intent(Kind.RECALL, biz_step=_code(step, biz_step_code), **common)
    if event.get("certificationInfo") or step == "inspecting":
        if not event.get("certificationInfo"):
            raise Unmappable(
                "an inspection without certificationInfo: there is no claim for the registry "
                "to attest"
            )
        if disposition in NOT_CONFORMANT:
            raise Unmappable(
                f"the inspection found disposition {disposition}: the registry records "
                "attestations of claims that hold"
            )
        return Intent(Kind.ATTEST, claims=_claims(event["certificationInfo"]), **common)
    source = _parties(event.get("sourceList"), "source")
    destination = _parties(event.get("destinationList"), "destination")
    codes: dict[str, Any] = {
        "biz_step": _code(step, biz_step_code),
        "disposition": _code(disposition, disposition_code),
    }
    if step == "shipping":
        if not destination:
            raise Unmappable(
                "a shipment without a destination party (destinationList possessing_party or "
                "owning_party): the registry records a handoff to a participant"
            )
        location = event.get("bizLocation")
        gln = parse_location(location.get("id")) if isinstance(location, Mapping) else 0
        return Intent(
            Kind.SHIP, location=gln, source=source, destination=destination, **codes, **common
        )
    if step == "receiving":
        return Intent(Kind.RECEIVE, source=source, destination=destination, **codes, **common)
    raise Unmappable(
        f"no on-chain record for an ObjectEvent {action} with bizStep {step or '(none)'}: "
        f"{RECORDED}"
    )


def _code(name: str | None, parse: Any) -> int:
    if name is None:
        return 0
    try:
        return int(parse(name))
    except InvalidInput:
        raise Unmappable(f"{name!r} is not a CBV 2.0 value the registry can code") from None


def claim_uri(claim: Hex32) -> str:
    """certificationInfo for an on-chain claim: the claim itself when it is a URI."""
    text = bytes32_to_text(claim)
    return text if ":" in text and not text.startswith("0x") else CLAIM_URN + text


# ------------------------------------------------------------------------------- export side


@dataclass(frozen=True)
class Coordinates:
    """Where a record is on chain (the `prv:onChain` extension)."""

    chain_id: int
    registry: str
    block_number: int
    tx_hash: str
    log_index: int
    event: str
    document: Hex32 | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            f"{PREFIX}:chainId": self.chain_id,
            f"{PREFIX}:registry": self.registry,
            f"{PREFIX}:blockNumber": self.block_number,
            f"{PREFIX}:transactionHash": self.tx_hash,
            f"{PREFIX}:logIndex": self.log_index,
            f"{PREFIX}:record": self.event,
        }
        if self.document:
            data[f"{PREFIX}:document"] = self.document
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Coordinates:
        p = PREFIX
        return cls(
            chain_id=int(data[f"{p}:chainId"]),
            registry=str(data[f"{p}:registry"]),
            block_number=int(data[f"{p}:blockNumber"]),
            tx_hash=str(data[f"{p}:transactionHash"]),
            log_index=int(data[f"{p}:logIndex"]),
            event=str(data[f"{p}:record"]),
            document=data.get(f"{p}:document"),
        )


@dataclass(frozen=True)
class Held:
    """A batch and how much of it, as the chain holds them."""

    key: ClassKey
    amount: Amount


@dataclass(frozen=True)
class ChainRecord:
    """One EPCIS event's worth of on-chain records (a group of logs of one transaction)."""

    kind: Kind
    at: int
    coords: Coordinates
    actor: str | None = None
    lines: tuple[Held, ...] = ()
    inputs: tuple[Held, ...] = ()
    outputs: tuple[Held, ...] = ()
    from_: str | None = None
    to: str | None = None
    transfer: bool = False
    location: int = 0
    biz_step: int = 0
    disposition: int = 0
    claim: Hex32 | None = None
    reason: Hex32 | None = None
    #: For a receipt that passes title: the previous owner, as the exported stream showed it
    #: (a delivery accepted from a carrier passes the supplier's title: the carrier in `from_`
    #: never owned the goods). None when unknown: then no source owning party is claimed.
    owner_before: str | None = None


def _quantities(items: Sequence[Held]) -> list[dict[str, Any]]:
    result = []
    for held in items:
        element: dict[str, Any] = {"epcClass": held.key.uri, "quantity": held.amount.quantity}
        if held.amount.uom != COUNT_UNIT:
            element["uom"] = held.amount.uom
        result.append(element)
    return result


def iso_time(at: int) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def to_epcis(record: ChainRecord, glns: Mapping[str, int]) -> dict[str, Any]:
    """The EPCIS event of `record` (no `eventID`; `glns` maps addresses to participant GLNs)."""
    chain_id = record.coords.chain_id

    def parties(role: str, entries: Sequence[tuple[str, str | None]]) -> list[dict[str, str]]:
        return [
            {"type": kind, role: uri}
            for kind, address in entries
            if address
            for uri in party_uris(chain_id, address, glns.get(address, 0))
        ]

    event: dict[str, Any] = {
        "type": "TransformationEvent" if record.kind == Kind.TRANSFORM else "ObjectEvent",
        "eventTime": iso_time(record.at),
        "eventTimeZoneOffset": "+00:00",
    }
    kind = record.kind
    if kind == Kind.TRANSFORM:
        event["inputQuantityList"] = _quantities(record.inputs)
        event["outputQuantityList"] = _quantities(record.outputs)
        event["bizStep"] = "commissioning"  # CBV 2.0 has no "transforming"
    else:
        event["action"] = "ADD" if kind == Kind.COMMISSION else "OBSERVE"
        event["quantityList"] = _quantities(record.lines)
    reason = bytes32_to_text(record.reason) if record.reason and int(record.reason, 16) else None
    if kind == Kind.COMMISSION:
        event.update(bizStep="commissioning", disposition="active")
    elif kind == Kind.SHIP:
        event["bizStep"] = BIZ_STEPS.get(record.biz_step) or "shipping"
        event["disposition"] = DISPOSITIONS.get(record.disposition) or "in_transit"
        if record.location:
            event["bizLocation"] = {"id": location_uri(record.location)}
    elif kind == Kind.RECEIVE:
        event.update(bizStep="receiving", disposition="in_progress")
    elif kind == Kind.ATTEST:
        event.update(bizStep="inspecting", disposition="conformant")
        assert record.claim is not None
        event["certificationInfo"] = claim_uri(record.claim)
    elif kind == Kind.RECALL:
        step = reason if reason in BIZ_STEP_CODES else "holding"
        event.update(bizStep=step, disposition="recalled")
        if reason and reason != step:
            event[f"{PREFIX}:reason"] = reason
    elif kind == Kind.LIFT:
        event.update(bizStep="holding", disposition="active")
    elif kind in (Kind.CANCEL, Kind.REJECT):
        event["bizStep"] = "void_shipping"
        if reason:
            event[f"{PREFIX}:reason"] = reason
    if kind in (Kind.SHIP, Kind.RECEIVE, Kind.CANCEL, Kind.REJECT, Kind.TITLE):
        owning = record.transfer or kind == Kind.TITLE
        possessing = kind != Kind.TITLE
        source = [("possessing_party", record.from_)] if possessing else []
        destination = [("possessing_party", record.to)] if possessing else []
        if owning:
            previous = record.from_ if kind != Kind.RECEIVE else record.owner_before
            if previous is not None:
                source.append(("owning_party", previous))
            destination.append(("owning_party", record.to))
        event["sourceList"] = parties("source", source)
        event["destinationList"] = parties("destination", destination)
    if record.actor:
        event[f"{PREFIX}:actor"] = f"did:pkh:eip155:{chain_id}:{record.actor}"
    event[ON_CHAIN] = record.coords.to_json()
    return event


__all__ = [
    "CLAIM_URN",
    "EXPORT_CONTEXT",
    "NOT_CONFORMANT",
    "ON_CHAIN",
    "ChainRecord",
    "Coordinates",
    "Held",
    "Intent",
    "Kind",
    "Line",
    "biz_step_of",
    "claim_uri",
    "disposition_of",
    "event_time",
    "interpret",
    "iso_time",
    "to_epcis",
]
