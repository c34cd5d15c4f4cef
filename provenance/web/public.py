"""The public view of a verification report: what a customer's scan may show.

Two renderings of the same `provenance.verify.Report`: `public_json` (the report as `provenance
verify --json` prints it, minus the parties' business) and `page_view` (the values the HTML
template shows, in plain language). Neither ever carries a price, an amount, a penalty, days late
or the agreement's terms document: whether a delivery was paid under an agreement is public,
what was paid is not. Participants are named only where the operator's directory entry matches
their on-chain metadata (`Verified.names`), and always shown by address and DID.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from provenance.encoding import bytes32_to_text, did_pkh
from provenance.verify import (
    ERROR,
    INFO,
    WARNING,
    AgreementView,
    LineageNode,
    Reason,
    Report,
    Verdict,
)

#: AgreementView fields that are the parties' business: never public.
PRIVATE_DELIVERY_FIELDS = frozenset(
    {"price", "escrow", "token", "supplier_amount", "buyer_amount", "penalty", "document",
     "days_late"}
)  # fmt: skip
PRIVATE_DETAILS = frozenset({"daysLate"})
#: A long history shows its first and last events on the page (all of them are in the JSON).
TIMELINE_FIRST, TIMELINE_LAST = 10, 50
#: Last line of defence: a public reason that still looks like an amount is not shown.
_AMOUNT = re.compile(r"\d ETH\b|\bof token 0x|credited|penalt|\bday\(s\) late", re.I)
_SHORT_ID = re.compile(r"0x[0-9a-f]{8}…")
_RECALL_REASON = re.compile(r"^(this|ancestor|sibling|descendant) batch .* was recalled by ")

VERDICT_TEXT = {
    Verdict.VERIFIED: "The record of this lot is complete and consistent.",
    Verdict.WARNING: "The record of this lot is consistent, but something deserves your attention.",
    Verdict.FAILED: "Do not rely on this lot: it, or something it was made from, has been "
    "recalled, or its record is broken.",
}
VERDICT_ICON = {Verdict.VERIFIED: "✓", Verdict.WARNING: "!", Verdict.FAILED: "✗"}
UNITS = {
    "KGM": ("kg", "kg"),
    "GRM": ("g", "g"),
    "TNE": ("tonne", "tonnes"),
    "LTR": ("litre", "litres"),
    "MLT": ("ml", "ml"),
    "H87": ("piece", "pieces"),
    "EA": ("each", "each"),
    "C62": ("unit", "units"),
    "MTR": ("metre", "metres"),
    "BX": ("box", "boxes"),
    "CT": ("carton", "cartons"),
    "PA": ("packet", "packets"),
}
ORIGIN_TEXT = {
    "created": "origin batch",
    "split": "split from",
    "merge": "merged from",
    "transform": "made from",
    "unknown": "of unknown origin",
}
RELATION_TEXT = {
    "batch": "this lot",
    "ancestor": "a lot this one was made from",
    "sibling": "a lot made from the same source",
    "descendant": "a lot made from this one",
}


def when(ts: int | None) -> str:
    """A chain time for people: `4 Jun 2026, 10:00 UTC`."""
    if not ts:
        return "–"
    moment = dt.datetime.fromtimestamp(int(ts), dt.UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def iso(ts: int | None) -> str:
    return dt.datetime.fromtimestamp(int(ts or 0), dt.UTC).isoformat().replace("+00:00", "Z")


def dl_path(gtin: str, lot: str) -> str:
    return f"/01/{gtin}/10/{quote(lot, safe='')}"


def quantity_text(quantity: int | None, uom: str | None) -> str:
    if quantity is None:
        return "unknown quantity"
    one, many = UNITS.get(uom or "", (uom or "", uom or ""))
    return f"{quantity:,} {one if quantity == 1 else many}".strip()


# ------------------------------------------------------------------------------ the JSON form


def public_reasons(report: Report) -> list[Reason]:
    """The report's reasons without amounts: each delivery's reason is rebuilt from its status."""
    lots = _lot_labels(report.lineage)
    reasons = [r for r in report.reasons if not r.message.startswith("delivery under agreement ")]
    for view in report.agreements:
        severity, text = _delivery_status(view)
        where = (
            ""
            if view.batch_id == report.batch_id
            else f" of {lots.get(view.batch_id, 'an ancestor')}"
        )
        reasons.append(
            Reason(severity, f"delivery{where} under agreement {view.agreement_id}: {text}")
        )
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    reasons.sort(key=lambda r: order.get(r.severity, 3))
    return [
        r
        if not _AMOUNT.search(r.message)
        else Reason(r.severity, "(a detail about a payment, which is not shown publicly)")
        for r in reasons
    ]


def _delivery_status(view: AgreementView) -> tuple[str, str]:
    status = view.status
    if status == "settled":
        return INFO, "accepted by the buyer and paid"
    if status == "tendered":
        return INFO, "delivered to the tender point, awaiting the buyer's acceptance (not paid yet)"
    if status in ("withdrawn", "refunded"):
        return INFO, "tendered, then withdrawn by the supplier (not paid)"
    if status == "rejected":
        return WARNING, "rejected by the buyer: dispute open (the goods stayed with the supplier)"
    if status == "escalated":
        return WARNING, "escalated by the supplier (no answer from the buyer): dispute open"
    how = (
        "by default (the arbiter did not rule in time)"
        if view.resolved_by_default
        else ("by the arbiter")
    )
    title = ", ownership passed to the buyer" if view.delivered else ""
    return INFO, f"disputed ({view.dispute}) and resolved {how}{title}"


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip(v)
            for k, v in value.items()
            if k not in PRIVATE_DELIVERY_FIELDS and k not in PRIVATE_DETAILS
        }
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def public_json(report: Report, meta: Mapping[str, Any]) -> dict[str, Any]:
    """`report.to_dict()` (what `provenance verify --json` prints) without amounts, penalties,
    days late or terms, with the public reasons and a `resolver` section (`meta`)."""
    data = report.to_dict()
    data["agreements"] = [_strip(a) for a in data.get("agreements", [])]
    data["agreement"] = _strip(data["agreement"]) if data.get("agreement") else None
    data["timeline"] = [
        {**entry, "details": _strip(entry.get("details") or {})} for entry in data["timeline"]
    ]
    data["reasons"] = [
        {"severity": r.severity, "message": r.message} for r in public_reasons(report)
    ]
    if data.get("as_of"):
        data["as_of"] = {k: v for k, v in data["as_of"].items() if k != "index_file"}  # a path
    data["resolver"] = dict(meta)
    return data


# ------------------------------------------------------------------------------ the page


@dataclass(frozen=True)
class Party:
    address: str
    did: str
    name: str | None
    roles: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or f"{self.address[:8]}…{self.address[-4:]}"


@dataclass(frozen=True)
class Tree:
    label: str
    gtin: str | None
    href: str | None
    quantity: str
    origin: str
    creator: Party | None
    recalled: bool
    current: bool
    parents: tuple[Tree, ...] = ()


@dataclass(frozen=True)
class Step:
    at: int
    when: str
    iso: str
    lot: str
    text: str
    actor: Party | None
    counterparty: Party | None
    where: str | None
    step: str | None
    documents: tuple[str, ...]
    recall: bool = False


@dataclass
class PageView:
    """Everything the page template shows (no amounts: see the module docstring)."""

    verdict: str
    verdict_class: str
    icon: str
    headline: str
    concerns: list[str]
    gtin: str
    lot: str
    quantity: str
    origin: str
    holder: Party | None
    owner: Party | None
    timeline: list[Step]
    lineage: Tree
    attestations: list[dict[str, Any]]
    recalls: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    participants: list[Party]
    notes: list[Reason]
    batch_id: str
    #: Events left out of the page's timeline (after the first `TIMELINE_FIRST`), 0 if none.
    hidden: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class _People:
    def __init__(self, report: Report, names: Mapping[str, str], chain_id: int) -> None:
        self.chain_id = chain_id
        self.names = {k.lower(): v for k, v in names.items()}
        self.roles: dict[str, tuple[str, ...]] = {}
        self.seen: dict[str, Party] = {}
        for entry in report.timeline:
            for actor in (entry.actor, entry.counterparty):
                if actor is not None and actor.roles:
                    self.roles.setdefault(actor.address.lower(), tuple(actor.roles))
        for attestation in report.attestations:
            if attestation.issuer.roles:
                self.roles.setdefault(attestation.issuer.address.lower(), attestation.issuer.roles)

    def party(self, address: str | None) -> Party | None:
        if not address or int(address, 16) == 0:
            return None
        key = address.lower()
        if key not in self.seen:
            self.seen[key] = Party(
                address=address,
                did=did_pkh(self.chain_id, address),
                name=self.names.get(key),
                roles=tuple(r.lower() for r in self.roles.get(key, ())),
            )
        return self.seen[key]


def _lot_labels(node: LineageNode, out: dict[str, str] | None = None) -> dict[str, str]:
    out = {} if out is None else out
    if node.lot:
        out[node.batch_id] = f"lot {node.lot}"
    for parent in node.parents:
        _lot_labels(parent, out)
    return out


def origin_text(node: LineageNode) -> str:
    """`origin batch`, or `split from lot X` / `made from lots X and Y` / `merged from …`."""
    text = ORIGIN_TEXT.get(node.origin, node.origin)
    if not node.parents:
        return text
    names = [p.lot or f"batch {p.batch_id[:10]}…" for p in node.parents]
    lots = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{text} {'lot' if len(names) == 1 else 'lots'} {lots}"


def _tree(node: LineageNode, people: _People, current: bool = False) -> Tree:
    return Tree(
        label=node.lot or f"batch {node.batch_id[:10]}…",
        gtin=node.gtin,
        href=dl_path(node.gtin, node.lot) if node.gtin and node.lot else None,
        quantity=quantity_text(node.quantity, node.uom),
        origin=origin_text(node),
        creator=people.party(node.creator),
        recalled=node.recalled,
        current=current,
        parents=tuple(_tree(p, people) for p in node.parents),
    )


def _text(value: str | None) -> str:
    if not value:
        return ""
    text = bytes32_to_text(value)
    return "" if text.startswith("0x") else text


def _units(node: LineageNode, out: dict[str, str | None] | None = None) -> dict[str, str | None]:
    out = {} if out is None else out
    out[node.batch_id] = node.uom
    for parent in node.parents:
        _units(parent, out)
    return out


def _step_text(
    entry: Any, lots: Mapping[str, str], units: Mapping[str, str | None], people: _People
) -> str:
    details = entry.details or {}
    agreement = details.get("agreement")
    actor = people.party(entry.actor.address) if entry.actor else None
    counterparty = people.party(entry.counterparty.address) if entry.counterparty else None
    who = actor.label if actor else "someone"
    other = counterparty.label if counterparty else "someone"
    event = entry.event
    if event == "BatchCreated":
        return f"Created by {who}"
    if event == "BatchSplit":
        parent = lots.get(str(details.get("parent", "")), "its parent batch")
        quantity = quantity_text(details.get("quantity"), units.get(entry.batch_id))
        return f"Split from {parent} ({quantity}) by {who}"
    if event == "HandoffInitiated":
        text = f"{who} handed it to {other}"
        if details.get("tender"):
            text += f", as the delivery under agreement #{agreement}"
        return text + (" (with ownership)" if details.get("title") else "")
    if event == "HandoffAccepted":
        text = f"{who} received it from {other}"
        if agreement is not None:
            return text + f": delivery accepted, agreement #{agreement} paid, ownership passed"
        return text + (", with ownership" if details.get("title") else "")
    if event == "HandoffRejected":
        return f"{who} refused it from {other}"
    if event == "HandoffCancelled":
        if details.get("released") is not None:
            return "Pending handoff withdrawn with the delivery"
        return f"{who} cancelled the handoff to {other}"
    if event == "BatchConsumed":
        kind = details.get("kind", "used")
        verb = {"split": "Split into new lots", "merge": "Merged into a new batch",
                "transform": "Transformed into a new product"}.get(kind, "Used up")  # fmt: skip
        return f"{verb} by {who}"
    if event == "BatchRecalled":
        reason = details.get("reason") or ""
        return f"RECALLED by {who}" + (
            f": {reason}" if reason and not reason.startswith("0x") else ""
        )
    if event == "RecallLifted":
        return f"Recall lifted by {who}"
    if event == "TitleTransferred":
        return f"Ownership passed to {who} by the dispute's resolution (agreement #{agreement})"
    if event == "DeliveryReleased":
        return f"Delivery under agreement #{agreement} released"
    return str(event)


def _plain_concerns(report: Report, people: _People, lots: Mapping[str, str]) -> list[str]:
    """The errors and warnings in plain language: recalls from the recall records, the rest as
    the verification engine words them (batch ids replaced by lots where known)."""
    concerns = []
    for recall in report.recalls:
        if not recall.active:  # a lifted recall is a note, not a concern
            continue
        lot = f"Lot {recall.lot}" if recall.lot else "A related batch"
        by = people.party(recall.by)
        who = by.label if by else "its origin"
        why = _text(recall.reason)
        because = f": {why}" if why else ""
        on = when(recall.at)
        if recall.relation == "batch":
            concerns.append(f"This lot was recalled by {who} on {on}{because}.")
        elif recall.relation == "ancestor":
            concerns.append(
                f"{lot}, which this lot was made from, was recalled by {who} on {on}{because}."
            )
        elif recall.relation == "sibling":
            concerns.append(
                f"{lot}, made from the same source as this lot, was recalled by {who} on "
                f"{on}{because}. This lot itself is not recalled."
            )
        else:
            concerns.append(f"{lot}, made from this lot, was recalled by {who} on {on}{because}.")
    short = {bid[:10] + "…": label for bid, label in lots.items()}
    for reason in public_reasons(report):
        if reason.severity == INFO or _RECALL_REASON.match(reason.message):
            continue
        text = _SHORT_ID.sub(lambda m: short.get(m.group(0), m.group(0)), reason.message)
        concerns.append(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))
    return concerns


def page_view(report: Report, names: Mapping[str, str], chain_id: int) -> PageView:
    people = _People(report, names, chain_id)
    lots = _lot_labels(report.lineage)
    units = _units(report.lineage)
    node = report.lineage
    timeline = [
        Step(
            at=entry.at,
            when=when(entry.at),
            iso=iso(entry.at),
            lot=lots.get(entry.batch_id, f"batch {entry.batch_id[:10]}…"),
            text=_step_text(entry, lots, units, people),
            actor=people.party(entry.actor.address) if entry.actor else None,
            counterparty=people.party(entry.counterparty.address) if entry.counterparty else None,
            where=f"GLN {entry.location:013d}" if entry.location else None,
            step=" / ".join(x.replace("_", " ") for x in (entry.biz_step, entry.disposition) if x)
            or None,
            documents=tuple(entry.documents),
            recall=entry.event == "BatchRecalled",
        )
        for entry in report.timeline
    ]
    hidden = max(0, len(timeline) - TIMELINE_FIRST - TIMELINE_LAST)
    if hidden:
        timeline = timeline[:TIMELINE_FIRST] + timeline[-TIMELINE_LAST:]
    attestations = [
        {
            "claim": _text(a.claim) or a.claim,
            "lot": lots.get(a.subject, "a related batch"),
            "issuer": people.party(a.issuer.address),
            "valid_from": when(a.valid_from),
            "valid_until": when(a.valid_until),
            "revoked": when(a.revoked_at) if a.revoked_at else None,
            "valid_at_use": a.valid_at_use,
            "valid_now": a.valid_now,
            "used": when(a.used_at),
            "evidence": a.evidence,
        }
        for a in report.attestations
    ]
    recalls = [
        {
            "relation": RELATION_TEXT.get(r.relation, r.relation),
            "lot": r.lot,
            "by": people.party(r.by),
            "when": when(r.at),
            "reason": _text(r.reason),
            "document": r.document,
            "lifted": when(r.lifted_at) if r.lifted_at else None,
            "lifted_by": people.party(r.lifted_by),
            "active": r.active,
        }
        for r in report.recalls
    ]
    deliveries = []
    for view in report.agreements:
        severity, status = _delivery_status(view)
        deliveries.append(
            {
                "agreement": view.agreement_id,
                "lot": lots.get(view.batch_id, "an ancestor batch"),
                "supplier": people.party(view.supplier),
                "buyer": people.party(view.buyer),
                "carrier": people.party(view.carrier),
                "tendered": when(view.tendered_at),
                "settled": when(view.settled_at) if view.settled_at else None,
                "paid": view.status == "settled",
                "status": status,
                "warning": severity == WARNING,
            }
        )
    concerns = _plain_concerns(report, people, lots)
    page = PageView(
        verdict=report.verdict.value,
        verdict_class=report.verdict.value.lower(),
        icon=VERDICT_ICON[report.verdict],
        headline=VERDICT_TEXT[report.verdict],
        concerns=concerns,
        gtin=node.gtin or "",
        lot=node.lot or "",
        quantity=quantity_text(node.quantity, node.uom),
        origin=origin_text(node),
        holder=people.party(report.custodian),
        owner=people.party(report.owner),
        timeline=timeline,
        lineage=_tree(node, people, current=True),
        attestations=attestations,
        recalls=recalls,
        deliveries=deliveries,
        participants=[],
        notes=[r for r in public_reasons(report) if r.severity == INFO],
        batch_id=report.batch_id,
        hidden=hidden,
    )
    page.participants = sorted(people.seen.values(), key=lambda p: (p.name is None, p.label))
    return page


def texts(view: PageView) -> Iterable[str]:
    """Every string the page shows from the view (for the tests' "no amount" check)."""
    yield from (view.headline, *view.concerns, *(s.text for s in view.timeline))
    yield from (d["status"] for d in view.deliveries)
    yield from (n.message for n in view.notes)


__all__ = [
    "PRIVATE_DELIVERY_FIELDS",
    "PageView",
    "Party",
    "page_view",
    "public_json",
    "public_reasons",
    "when",
]
