"""EPCIS identifiers and quantities as the registry holds them: class-level GTIN + lot, GLNs,
participants, and exact whole quantities in UN/ECE Rec 20 units.

Every parser returns a typed value or raises `Unmappable` with a reason a person understands
(why the registry cannot hold it), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlparse

from provenance.encoding import validate_address
from provenance.exceptions import InvalidInput
from provenance.gs1 import DIGITAL_LINK_HOST, Gln, Gtin, Lot, digital_link, gs1_check_digit
from provenance.units import MAX_UINT48


class Unmappable(InvalidInput):
    """An EPCIS value the registry cannot hold; the message is the reason shown to the user."""


# ------------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class ClassKey:
    """A class-level identifier: GTIN (14 digits) + lot, i.e. one batch."""

    gtin: str
    lot: str

    @property
    def uri(self) -> str:
        return digital_link(self.gtin, self.lot)


_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$")


def _gtin_from_epc(company_prefix: str, item_ref: str) -> str:
    """GTIN-14 from the EPC URN fields (indicator digit leads the item reference)."""
    if len(company_prefix) + len(item_ref) != 13:
        raise Unmappable(
            f"malformed EPC: company prefix {company_prefix} and item reference {item_ref} must "
            "have 13 digits together"
        )
    body = item_ref[0] + company_prefix + item_ref[1:]
    return body + str(gs1_check_digit(body))


def parse_class(uri: object) -> ClassKey:
    """An `epcClass`: a GS1 Digital Link `…/01/{gtin}/10/{lot}` (any host, GTIN-8/12/13/14,
    percent-encoded lot) or an LGTIN URN `urn:epc:class:lgtin:{prefix}.{item}.{lot}`."""
    if not isinstance(uri, str) or not uri:
        raise Unmappable(f"epcClass {uri!r} is not a URI")
    text = uri.strip()
    if text.startswith("urn:epc:idpat:"):
        raise Unmappable(
            f"{text} is a pattern of serialised items (EPC pattern): the registry records "
            "batches (GTIN + lot), not serial numbers"
        )
    match = _LGTIN.match(text)
    if match:
        try:
            return ClassKey(_gtin_from_epc(match[1], match[2]), Lot(unquote(match[3])))
        except InvalidInput as exc:
            raise Unmappable(f"{text}: {exc}") from None
    if "://" in text:
        path = urlparse(text).path
        keys = _dl_keys(path)
        if keys is None:
            raise Unmappable(f"{text} is not a GS1 Digital Link of a product class")
        if "21" in keys:
            raise Unmappable(
                f"{text} names a serialised item (AI 21): the registry records batches "
                "(GTIN + lot), not serial numbers"
            )
        if "01" in keys and "10" in keys:
            try:
                return ClassKey(Gtin(keys["01"]), Lot(keys["10"]))
            except InvalidInput as exc:
                raise Unmappable(f"{text}: {exc}") from None
        if "01" in keys:
            raise Unmappable(
                f"{text} names a GTIN without a lot: the registry records batches (GTIN + lot)"
            )
    raise Unmappable(
        f"epcClass {text} is not a product class with a lot (expected "
        f"{DIGITAL_LINK_HOST}/01/<GTIN>/10/<lot> or urn:epc:class:lgtin:…)"
    )


def _dl_keys(path: str) -> dict[str, str] | None:
    """AI → value pairs of a Digital Link path (values percent-decoded)."""
    parts = [p for p in path.split("/") if p]
    for start in range(len(parts)):
        if parts[start] in ("01", "00", "414", "417", "8004", "253", "8003", "255"):
            tail = parts[start:]
            if len(tail) % 2:
                return None
            return {tail[i]: unquote(tail[i + 1]) for i in range(0, len(tail), 2)}
    return None


def refuse_instance(uri: object) -> Unmappable:
    """Why an instance-level EPC (epcList, childEPCs, parentID, inputEPCList…) is not held."""
    text = str(uri)
    if text.startswith("urn:epc:id:sscc:") or "/00/" in text:
        return Unmappable(
            f"{text} is a logistic unit (SSCC): the registry records batches, not the pallets "
            "and cases that carry them"
        )
    if text.startswith("urn:epc:id:sgtin:") or "/21/" in text:
        return Unmappable(
            f"{text} is a serialised item (SGTIN): the registry records batches (GTIN + lot) in "
            "quantityList, not serial numbers"
        )
    return Unmappable(
        f"{text} is an instance-level identifier: the registry records class-level batches "
        "(GTIN + lot with a quantity)"
    )


# ---------------------------------------------------------------------- locations, parties

_SGLN = re.compile(r"^urn:epc:id:sgln:(\d+)\.(\d*)\.(.+)$")
_PGLN = re.compile(r"^urn:epc:id:pgln:(\d+)\.(\d*)$")
_DID = re.compile(r"^did:pkh:eip155:(\d+):(0x[0-9a-fA-F]{40})$")


def _gln(prefix: str, ref: str, text: str) -> int:
    body = prefix + ref
    if len(body) != 12:
        raise Unmappable(f"malformed GLN in {text}: prefix and reference must have 12 digits")
    return int(body + str(gs1_check_digit(body)))


def parse_location(uri: object) -> int:
    """A bizLocation / readPoint id as a GLN: `…/414/{gln}` (an extension `…/254/…` is not held)
    or `urn:epc:id:sgln:{prefix}.{ref}.{ext}`."""
    text = str(uri or "").strip()
    match = _SGLN.match(text)
    if match:
        return _gln(match[1], match[2], text)
    if "://" in text:
        keys = _dl_keys(urlparse(text).path) or {}
        if "414" in keys:
            try:
                return Gln(keys["414"])
            except InvalidInput as exc:
                raise Unmappable(f"{text}: {exc}") from None
    raise Unmappable(
        f"location {text!r} is not a GLN ({DIGITAL_LINK_HOST}/414/<GLN> or urn:epc:id:sgln:…)"
    )


@dataclass(frozen=True)
class PartyRef:
    """A party as an EPCIS source/destination names it: by GLN, or by address (did:pkh)."""

    text: str
    gln: int = 0
    address: str | None = None
    chain_id: int | None = None


def parse_party(uri: object) -> PartyRef:
    """`…/417/{gln}` (party GLN), `…/414/{gln}` or `urn:epc:id:sgln:…` (a location GLN used for
    its party, as GS1's examples do), `urn:epc:id:pgln:…`, or `did:pkh:eip155:<chain>:<address>`."""
    text = str(uri or "").strip()
    did = _DID.match(text)
    if did:
        try:
            address = validate_address(did[2], "party address")
        except InvalidInput as exc:
            raise Unmappable(f"{text}: {exc}") from None
        return PartyRef(text, address=address, chain_id=int(did[1]))
    match = _PGLN.match(text)
    if match:
        return PartyRef(text, gln=_gln(match[1], match[2], text))
    if "://" in text:
        keys = _dl_keys(urlparse(text).path) or {}
        for ai in ("417", "414"):
            if ai in keys:
                try:
                    return PartyRef(text, gln=Gln(keys[ai]))
                except InvalidInput as exc:
                    raise Unmappable(f"{text}: {exc}") from None
    if _SGLN.match(text):
        return PartyRef(text, gln=parse_location(text))
    raise Unmappable(
        f"party {text!r} is neither a GLN ({DIGITAL_LINK_HOST}/417/<GLN>, urn:epc:id:pgln:…) nor "
        "a did:pkh:eip155 account"
    )


def party_uris(chain_id: int, address: str, gln: int) -> list[str]:
    """How an export names a participant: by GLN when it has one, by did:pkh always."""
    uris = [f"{DIGITAL_LINK_HOST}/417/{str(gln).zfill(13)}"] if gln else []
    return [*uris, f"did:pkh:eip155:{chain_id}:{validate_address(address)}"]


def location_uri(gln: int) -> str:
    return f"{DIGITAL_LINK_HOST}/414/{str(gln).zfill(13)}"


# ---------------------------------------------------------------------------------- units

#: Exact conversions to a finer unit of the same dimension (UN/ECE Rec 20): unit → (finer, factor).
FINER: dict[str, tuple[str, int]] = {
    "TNE": ("KGM", 1000),  # tonne → kilogram
    "KGM": ("GRM", 1000),  # kilogram → gram
    "GRM": ("MGM", 1000),  # gram → milligram
    "MGM": ("MC", 1000),  # milligram → microgram
    "LBR": ("ONZ", 16),  # pound → ounce
    "MTQ": ("LTR", 1000),  # cubic metre → litre
    "HLT": ("LTR", 100),  # hectolitre → litre
    "LTR": ("MLT", 1000),  # litre → millilitre
    "MLT": ("4G", 1000),  # millilitre → microlitre
    "KMT": ("MTR", 1000),  # kilometre → metre
    "MTR": ("MMT", 1000),  # metre → millimetre
    "CMT": ("MMT", 10),  # centimetre → millimetre
    "MTK": ("CMK", 10000),  # square metre → square centimetre
    "DZN": ("C62", 12),  # dozen → one
}
#: The unit an EPCIS quantity without `uom` counts in (instances of the class).
COUNT_UNIT = "C62"


@dataclass(frozen=True)
class Amount:
    """A whole quantity in one unit, as the registry stores it (uint48 + bytes3)."""

    quantity: int
    uom: str

    def in_unit(self, uom: str) -> Decimal | None:
        """This amount expressed in `uom` (same dimension, through `FINER`), or None."""
        return convert(Decimal(self.quantity), self.uom, uom)


def _factor(source: str, target: str) -> int | None:
    """How many `target` units make one `source` unit, walking `FINER` down from `source`."""
    factor, unit = 1, source
    while unit in FINER:
        unit, step = FINER[unit]
        factor *= step
        if unit == target:
            return factor
    return None


def convert(value: Decimal, source: str, target: str) -> Decimal | None:
    """`value` `source` in `target` units, when `FINER` links them (either way), else None."""
    if source == target:
        return value
    down = _factor(source, target)
    if down is not None:
        return value * down
    up = _factor(target, source)
    return value / up if up is not None else None


def whole_amount(value: object, uom: object) -> Amount:
    """An EPCIS `quantity` (+ optional `uom`) as a whole uint48 amount: kept as is when whole,
    else converted to the first finer unit of the same dimension that makes it whole (200.5 KGM
    → 200500 GRM); refused with the reason when none does. Never rounded."""
    unit = COUNT_UNIT if uom is None else str(uom)
    if not re.fullmatch(r"[A-Z0-9]{2,3}", unit):
        raise Unmappable(f"unit {uom!r} is not a UN/ECE Rec 20 code (2-3 letters/digits)")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise Unmappable(f"quantity {value!r} is not a number")
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise Unmappable(f"quantity {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise Unmappable(f"quantity {value} {unit}: the registry holds positive quantities only")
    tried: list[str] = []
    current = unit
    while True:
        if amount == amount.to_integral_value():
            whole = int(amount)
            if whole > MAX_UINT48:
                raise Unmappable(
                    f"quantity {value} {unit} is {whole} {current}: more than the registry holds "
                    f"({MAX_UINT48:,} in one batch)"
                )
            return Amount(whole, current)
        if current not in FINER:
            finer = f" (tried {', '.join(tried)})" if tried else ""
            raise Unmappable(
                f"quantity {value} {unit} cannot be held exactly: the registry stores whole "
                f"numbers and no finer unit of the same dimension makes it whole{finer}; "
                "it is not rounded"
            )
        current, factor = FINER[current]
        tried.append(current)
        amount *= factor


def same_amount(a: Amount, b: Amount) -> bool:
    """Whether two amounts are the same physical quantity (e.g. 200500 GRM and 200.5 KGM)."""
    converted = convert(Decimal(a.quantity), a.uom, b.uom)
    return converted is not None and converted == b.quantity


__all__ = [
    "COUNT_UNIT",
    "FINER",
    "Amount",
    "ClassKey",
    "PartyRef",
    "Unmappable",
    "convert",
    "location_uri",
    "parse_class",
    "parse_location",
    "parse_party",
    "party_uris",
    "refuse_instance",
    "same_amount",
    "whole_amount",
]
