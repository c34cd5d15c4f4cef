"""GS1 Digital Link request paths → a batch (GTIN + lot), or the reason they are refused.

The web shell's path converter: it works on the raw request target (bytes), so an encoded `/`
in a lot (`%2F`, a GS1 character) is part of the lot and invalid UTF-8 is refused rather than
replaced. GTIN and lot become typed values through the library's own constructors
(`Gtin`, `Lot`), whose messages are the reasons the client sees.

Accepted: `/01/{gtin}/10/{lot}` with a GTIN-8/12/13/14, the lot percent-encoded, one trailing
slash; the uncompressed form `/01/{gtin}?10={lot}`; qualifiers this registry does not record
(22 consumer product variant, 21 serial) redirect to the lot's own link (a resolver answers at
the most specific level it knows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_to_bytes

from provenance.exceptions import InvalidInput
from provenance.gs1 import Gtin, Lot, batch_id

MAX_PATH_BYTES = 1024
MAX_QUERY_BYTES = 2048

#: GS1 application identifiers this resolver knows by name (a selection: keys, key qualifiers
#: and common data attributes); any other all-digit segment is an unknown AI.
PRIMARY_KEYS = {
    "00": "SSCC",
    "01": "GTIN",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
    "414": "GLN",
    "417": "party GLN",
    "8003": "GRAI",
    "8004": "GIAI",
    "8006": "ITIP",
    "8010": "CPID",
    "8013": "GMN",
    "8017": "GSRN (provider)",
    "8018": "GSRN (recipient)",
}
QUALIFIERS = {"22": "consumer product variant", "10": "lot", "21": "serial number"}
DATA_ATTRIBUTES = {
    "11": "production date",
    "13": "packaging date",
    "15": "best before date",
    "16": "sell by date",
    "17": "expiry date",
    "30": "variable count",
    "37": "count of trade items",
    "235": "third-party controlled serial",
    "254": "GLN extension",
    "7003": "expiration date and time",
}
_MEASURES = re.compile(r"3[1-6]\d\d")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class LinkError(Exception):
    """A request the resolver refuses: `status` and the one-line `reason` the client gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class BatchLink:
    """A batch named by a Digital Link: GTIN (14 digits) and lot."""

    gtin: str
    lot: str
    #: True when the request named qualifiers the registry does not record (22, 21): answer with
    #: a redirect to `path`.
    redirect: bool = False

    @property
    def path(self) -> str:
        """The canonical path: `/01/{gtin14}/10/{lot, percent-encoded}`."""
        return f"/01/{self.gtin}/10/{quote(self.lot, safe='')}"

    @property
    def batch_id(self) -> str:
        return batch_id(self.gtin, self.lot)


def ai_name(ai: str) -> str | None:
    if ai in PRIMARY_KEYS:
        return PRIMARY_KEYS[ai]
    if ai in QUALIFIERS:
        return QUALIFIERS[ai]
    if ai in DATA_ATTRIBUTES:
        return DATA_ATTRIBUTES[ai]
    if _MEASURES.fullmatch(ai):
        return "trade measure"
    return None


def _decode(raw: bytes, what: str) -> str:
    if _BAD_ESCAPE.search(raw):
        raise LinkError(400, f"malformed percent-encoding in the {what}")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise LinkError(400, f"the {what} is not valid UTF-8 once percent-decoded") from None


def decode_segment(raw: bytes, what: str) -> str:
    """One percent-encoded piece of a path (`what` names it in the error)."""
    return _decode(raw, what)


def segments(raw_path: bytes) -> list[str]:
    """The decoded segments of a raw request path (each percent-decoded on its own)."""
    if len(raw_path) > MAX_PATH_BYTES:
        raise LinkError(414, f"request path longer than {MAX_PATH_BYTES} bytes")
    if not raw_path.startswith(b"/"):
        raise LinkError(400, "the request path must start with /")
    parts = raw_path[1:].split(b"/")
    if len(parts) > 1 and parts[-1] == b"":
        parts = parts[:-1]  # one trailing slash
    decoded = [_decode(part, "path") for part in parts]
    for part in decoded:
        if part in (".", ".."):
            raise LinkError(400, "dot segments (. or ..) are not allowed in a Digital Link")
        if part == "":
            raise LinkError(400, "empty segment (//) in the request path")
    return decoded


def query_params(raw_query: bytes) -> list[tuple[str, str]]:
    if len(raw_query) > MAX_QUERY_BYTES:
        raise LinkError(414, f"query string longer than {MAX_QUERY_BYTES} bytes")
    if _BAD_ESCAPE.search(raw_query):
        raise LinkError(400, "malformed percent-encoding in the query string")
    try:
        text = raw_query.decode("ascii")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, UnicodeEncodeError, ValueError):
        raise LinkError(400, "the query string is not valid UTF-8 once percent-decoded") from None


def is_digital_link(parts: list[str]) -> bool:
    """Whether a path looks like a Digital Link (starts with an all-digit AI segment)."""
    return bool(parts) and parts[0].isascii() and parts[0].isdigit()


def parse(parts: list[str], params: list[tuple[str, str]]) -> BatchLink:
    """A Digital Link path (decoded segments) and query → the batch, or `LinkError`."""
    first = parts[0]
    name = ai_name(first)
    if name is None:
        raise LinkError(400, f"unknown GS1 application identifier {first}")
    if first != "01":
        if first in PRIMARY_KEYS:
            raise LinkError(404, f"this resolver serves products (AI 01, GTIN), not {name}s")
        raise LinkError(400, f"AI {first} ({name}) is not a primary key: a link starts with /01/")
    if len(parts) % 2:
        raise LinkError(400, f"AI {parts[-1]} has no value")
    values: dict[str, str] = {}
    order = list(QUALIFIERS)
    last = -1
    for i in range(0, len(parts), 2):
        ai, value = parts[i], parts[i + 1]
        if i == 0:
            values[ai] = value
            continue
        what = ai_name(ai) if ai.isascii() and ai.isdigit() else None
        if what is None:
            raise LinkError(400, f"unknown GS1 application identifier {ai[:8]!r}")
        if ai not in QUALIFIERS:
            raise LinkError(
                400,
                f"AI {ai} ({what}) is not a key qualifier of a GTIN: it belongs in the query "
                f"string (?{ai}=…), or not at all",
            )
        if ai in values:
            raise LinkError(400, f"AI {ai} ({what}) appears twice")
        if order.index(ai) < last:
            raise LinkError(400, "key qualifiers of a GTIN go in the order 22, 10, 21")
        last = order.index(ai)
        values[ai] = value
    try:
        gtin = Gtin(values["01"])
    except InvalidInput as exc:
        raise LinkError(400, str(exc)) from None
    lots = [value for key, value in params if key == "10"]
    if "01" in {key for key, _ in params}:
        raise LinkError(400, "the GTIN (AI 01) goes in the path, not in the query string")
    if len(lots) > 1:
        raise LinkError(400, "the lot (AI 10) is given more than once in the query string")
    if lots and "10" in values and lots[0] != values["10"]:
        raise LinkError(400, "two different lots: one in the path and one in the query string")
    lot = values.get("10", lots[0] if lots else None)
    if lot is None:
        raise LinkError(
            404,
            f"no lot in the link: this resolver verifies batches, so a link names a GTIN and "
            f"its lot (/01/{gtin}/10/<lot>)",
        )
    try:
        lot = Lot(lot)
    except InvalidInput as exc:
        raise LinkError(400, str(exc)) from None
    return BatchLink(gtin, lot, redirect="22" in values or "21" in values)


__all__ = ["BatchLink", "LinkError", "is_digital_link", "parse", "query_params", "segments"]
