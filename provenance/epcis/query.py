"""The EPCIS 2.0 query logic for `GET /epcis/events` and `GET /epcis/events/{eventID}`: a pure
library over any stream of EPCIS events (an export, the store), which the web server calls.

Parameters (EPCIS 2.0 query language, REST binding; a value list is repeated parameters or
`a|b`):

- `eventType`: ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent,
  AssociationEvent;
- `MATCH_epc`: an EPC in `epcList` / `childEPCs`; `MATCH_anyEPC`: also `inputEPCList`,
  `outputEPCList`, `parentID`; `MATCH_epcClass` / `MATCH_anyEPCClass`: the class-level
  counterparts (`quantityList`…, the ones this registry's events carry). EPC URNs and GS1 Digital
  Links of the same key match each other;
- `EQ_bizStep`, `EQ_disposition`: bare CBV names or their URIs;
- `GE_eventTime`, `LT_eventTime`: ISO 8601 date-times;
- `EQ_bizLocation`: a location (Digital Link `…/414/…` or SGLN URN);
- `perPage` (default 30, at most 1000) and `nextPageToken` (opaque, bound to the query).

Unknown parameters and malformed values raise `QueryError` (the REST layer answers 400).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provenance.epcis.hashing import GS1_CONTEXT_URL, NAMESPACE, PREFIX
from provenance.epcis.identifiers import Unmappable, parse_class, parse_location
from provenance.epcis.mapping import biz_step_of, disposition_of
from provenance.exceptions import InvalidInput

DEFAULT_PER_PAGE = 30
_WHOLE = re.compile(r"-?[0-9]+")
MAX_PER_PAGE = 1000
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
EPC_FIELDS = ("epcList", "childEPCs")
ANY_EPC_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList", "parentID")
CLASS_FIELDS = ("quantityList", "childQuantityList")
ANY_CLASS_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
PARAMETERS = frozenset(
    {
        "eventType", "MATCH_epc", "MATCH_anyEPC", "MATCH_epcClass", "MATCH_anyEPCClass",
        "EQ_bizStep", "EQ_disposition", "GE_eventTime", "LT_eventTime", "EQ_bizLocation",
        "perPage", "nextPageToken",
    }
)  # fmt: skip


class QueryError(InvalidInput):
    """A malformed query (EPCIS QueryParameterException); `parameter` names the culprit."""

    def __init__(self, message: str, parameter: str = "") -> None:
        super().__init__(message)
        self.parameter = parameter


def _values(params: Mapping[str, str | Sequence[str]], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    return [v.strip() for item in items for v in item.split("|") if v.strip()]


def _one(params: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    values = _values(params, name)
    if len(values) > 1:
        raise QueryError(f"{name} takes one value, got {len(values)}", name)
    return values[0] if values else None


def _time(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise QueryError(f"{name}={value[:40]!r} is not an ISO 8601 date-time", name) from None
    if moment.tzinfo is None:
        raise QueryError(f"{name}={value[:40]!r} needs a time zone (Z or ±hh:mm)", name)
    return moment


def _epc_key(uri: str) -> str:
    """An EPC (instance or class) in one canonical form, so URN and Digital Link match; a value
    of neither form is kept as it is (it can still match an identical one)."""
    try:
        return _canonical_epc(uri)
    except (ValueError, IndexError):
        return uri.strip()


def _canonical_epc(uri: str) -> str:
    try:
        key = parse_class(uri)
        return f"class:{key.gtin}/{key.lot}"
    except Unmappable:
        pass
    text = uri.strip()
    if text.startswith("urn:epc:id:sgtin:"):
        prefix, item, serial = text[len("urn:epc:id:sgtin:") :].split(".", 2)
        from provenance.gs1 import gs1_check_digit

        body = item[0] + prefix + item[1:]
        return f"sgtin:{body}{gs1_check_digit(body)}/{serial}"
    if "/01/" in text and "/21/" in text:
        gtin = text.split("/01/", 1)[1].split("/", 1)[0].zfill(14)
        return f"sgtin:{gtin}/{text.split('/21/', 1)[1].split('/', 1)[0]}"
    return text


def _location_key(uri: str) -> str:
    try:
        return str(parse_location(uri))
    except Unmappable:
        return uri.strip()


@dataclass(frozen=True)
class Query:
    """A validated query (build it with `Query.parse`)."""

    event_types: frozenset[str] = frozenset()
    epcs: frozenset[str] = frozenset()
    any_epcs: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    any_classes: frozenset[str] = frozenset()
    biz_steps: frozenset[str] = frozenset()
    dispositions: frozenset[str] = frozenset()
    ge_time: dt.datetime | None = None
    lt_time: dt.datetime | None = None
    locations: frozenset[str] = frozenset()
    per_page: int = DEFAULT_PER_PAGE
    offset: int = 0
    fingerprint: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str | Sequence[str]]) -> Query:
        unknown = sorted(set(params) - PARAMETERS)
        if unknown:
            shown = ", ".join(name[:40] for name in unknown[:5])
            raise QueryError(
                f"unknown query parameter(s) {shown}: supported are "
                f"{', '.join(sorted(PARAMETERS))}",
                unknown[0][:40],
            )
        types = frozenset(_values(params, "eventType"))
        bad = sorted(types - set(EVENT_TYPES))
        if bad:
            shown = ", ".join(name[:40] for name in bad[:5])
            raise QueryError(f"eventType {shown} is not an EPCIS 2.0 event type", "eventType")
        per_page_text = _one(params, "perPage") or ""
        if per_page_text and not _WHOLE.fullmatch(per_page_text):
            raise QueryError(f"perPage={per_page_text[:40]!r} is not a whole number", "perPage")
        per_page = DEFAULT_PER_PAGE
        if per_page_text:  # more digits than any page size: out of range, not converted
            per_page = int(per_page_text) if len(per_page_text) <= 9 else 0
        if not 1 <= per_page <= MAX_PER_PAGE:
            shown = per_page_text if len(per_page_text) <= 20 else f"{per_page_text[:20]}…"
            raise QueryError(f"perPage must be 1..{MAX_PER_PAGE}, got {shown}", "perPage")
        filters = {k: v for k, v in params.items() if k not in ("perPage", "nextPageToken")}
        fingerprint = hashlib.sha256(
            json.dumps(
                {k: sorted(_values(filters, k)) for k in sorted(filters)} | {"perPage": per_page},
                sort_keys=True,
            ).encode()
        ).hexdigest()[:16]
        ge, lt = _one(params, "GE_eventTime"), _one(params, "LT_eventTime")
        query = cls(
            event_types=types,
            epcs=frozenset(_epc_key(v) for v in _values(params, "MATCH_epc")),
            any_epcs=frozenset(_epc_key(v) for v in _values(params, "MATCH_anyEPC")),
            classes=frozenset(_epc_key(v) for v in _values(params, "MATCH_epcClass")),
            any_classes=frozenset(_epc_key(v) for v in _values(params, "MATCH_anyEPCClass")),
            biz_steps=frozenset(_vocab_name(v, "BizStep") for v in _values(params, "EQ_bizStep")),
            dispositions=frozenset(
                _vocab_name(v, "Disp") for v in _values(params, "EQ_disposition")
            ),
            ge_time=_time(ge, "GE_eventTime") if ge else None,
            lt_time=_time(lt, "LT_eventTime") if lt else None,
            locations=frozenset(_location_key(v) for v in _values(params, "EQ_bizLocation")),
            per_page=per_page,
            fingerprint=fingerprint,
        )
        token = _one(params, "nextPageToken")
        if token:
            return cls(**{**query.__dict__, "offset": _decode_token(token, fingerprint)})
        return query

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.event_types and event.get("type") not in self.event_types:
            return False
        if self.epcs and not self.epcs & _epcs(event, EPC_FIELDS):
            return False
        if self.any_epcs and not self.any_epcs & _epcs(event, ANY_EPC_FIELDS):
            return False
        if self.classes and not self.classes & _classes(event, CLASS_FIELDS):
            return False
        if self.any_classes and not self.any_classes & _classes(event, ANY_CLASS_FIELDS):
            return False
        if self.biz_steps and biz_step_of(event) not in self.biz_steps:
            return False
        if self.dispositions and disposition_of(event) not in self.dispositions:
            return False
        if self.ge_time or self.lt_time:
            try:
                when = dt.datetime.fromisoformat(str(event.get("eventTime")).replace("z", "Z"))
            except ValueError:
                return False
            if self.ge_time and when < self.ge_time:
                return False
            if self.lt_time and when >= self.lt_time:
                return False
        if self.locations:
            location = event.get("bizLocation")
            where = location.get("id") if isinstance(location, Mapping) else None
            if not where or _location_key(str(where)) not in self.locations:
                return False
        return True


def _vocab_name(value: str, prefix: str) -> str:
    """A CBV value given by name, URI or URN as its bare name."""
    name = (
        biz_step_of({"bizStep": value})
        if prefix == "BizStep"
        else disposition_of({"disposition": value})
    )
    return str(name)


def _epcs(event: Mapping[str, Any], fields: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for name in fields:
        value = event.get(name)
        for item in value if isinstance(value, list) else [value] if value else []:
            found.add(_epc_key(str(item)))
    return found


def _classes(event: Mapping[str, Any], fields: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for name in fields:
        for item in event.get(name) or ():
            if isinstance(item, Mapping) and "epcClass" in item:
                found.add(_epc_key(str(item["epcClass"])))
    return found


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        offset, owner = int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError, OverflowError):
        raise QueryError(
            "nextPageToken is malformed: pass the token of the previous page", "nextPageToken"
        ) from None
    if owner != fingerprint or offset < 0:
        raise QueryError(
            "nextPageToken belongs to another query: repeat the same parameters with it",
            "nextPageToken",
        )
    return offset


@dataclass(frozen=True)
class Page:
    events: tuple[dict[str, Any], ...]
    next_page_token: str | None


def run(query: Query, events: Iterable[Mapping[str, Any]]) -> Page:
    """One page of the events that match, in the order given (chain order for an export)."""
    page: list[dict[str, Any]] = []
    seen = 0
    more = False
    for event in events:
        if not query.matches(event):
            continue
        if seen >= query.offset + query.per_page:
            more = True
            break
        if seen >= query.offset:
            page.append(dict(event))
        seen += 1
    token = _encode_token(query.offset + query.per_page, query.fingerprint) if more else None
    return Page(tuple(page), token)


def query_document(
    events: Iterable[Mapping[str, Any]],
    params: Mapping[str, str | Sequence[str]] | Query,
    *,
    context: Sequence[Any] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The `EPCISQueryDocument` answering `params` (or a parsed `Query`) over `events`, and the
    next page's token (the REST binding sends it in a `Link` header)."""
    page = run(params if isinstance(params, Query) else Query.parse(params), events)
    document = {
        "@context": list(context or [GS1_CONTEXT_URL, {PREFIX: NAMESPACE}]),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": list(page.events)},
            }
        },
    }
    return document, page.next_page_token


def find_event(events: Iterable[Mapping[str, Any]], event_id: str) -> dict[str, Any] | None:
    """`GET /epcis/events/{eventID}`: the event with this eventID, or None (404)."""
    for event in events:
        if event.get("eventID") == event_id:
            return dict(event)
    return None


__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "Page",
    "Query",
    "QueryError",
    "find_event",
    "query_document",
    "run",
]
