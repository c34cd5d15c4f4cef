"""Units of measure (UN/ECE Recommendation 20 codes) and quantities.

The registry stores a unit as `bytes3` and checks only its form (2-3 characters A-Z/0-9); this
toolkit accepts the codes listed in `UNITS` and refuses every other code, so a typo such as `KMG`
or a made-up `XYZ` never reaches a batch. Units read back from the chain are shown as stored,
whatever client wrote them.
"""

from __future__ import annotations

import re

from provenance.encoding import to_bytes
from provenance.exceptions import InvalidInput

#: The UN/ECE Rec 20 codes this toolkit accepts, with their names. Append only.
UNITS: dict[str, str] = {
    # count
    "H87": "piece",
    "C62": "one (unit)",
    "EA": "each",
    "PR": "pair",
    "DZN": "dozen",
    "SET": "set",
    # mass
    "MGM": "milligram",
    "GRM": "gram",
    "KGM": "kilogram",
    "TNE": "tonne",
    "ONZ": "ounce",
    "LBR": "pound",
    # volume
    "MLT": "millilitre",
    "CLT": "centilitre",
    "LTR": "litre",
    "HLT": "hectolitre",
    "MTQ": "cubic metre",
    "GLL": "US gallon",
    "GLI": "imperial gallon",
    # length and area
    "MMT": "millimetre",
    "CMT": "centimetre",
    "MTR": "metre",
    "KTM": "kilometre",
    "MTK": "square metre",
    "HAR": "hectare",
    # energy
    "KWH": "kilowatt hour",
}
_FORM = re.compile(r"[A-Z0-9]{2,3}")
MAX_UINT48 = 2**48 - 1


class Uom(str):
    """A unit of measure: one of the UN/ECE Rec 20 codes in `UNITS` (case-insensitive input)."""

    def __new__(cls, value: str) -> Uom:
        if isinstance(value, Uom):
            return value
        text = value.strip().upper() if isinstance(value, str) else ""
        if not _FORM.fullmatch(text):
            raise InvalidInput(
                f"invalid unit of measure {value!r}: use a UN/ECE Rec 20 code such as KGM, LTR "
                "or H87"
            )
        if text not in UNITS:
            raise InvalidInput(
                f"unknown unit of measure {text!r}: accepted UN/ECE Rec 20 codes are "
                f"{', '.join(UNITS)} (KGM = kilogram, H87 = piece, LTR = litre)"
            )
        return super().__new__(cls, text)


def uom_to_bytes(code: str) -> bytes:
    """The `bytes3` for a unit code (2-letter codes are zero-padded on the right)."""
    return Uom(code).encode("ascii").ljust(3, b"\0")


def uom_from_bytes(value: bytes | str) -> str:
    """A unit read from the chain, as stored (never refused)."""
    return to_bytes(value).rstrip(b"\0").decode("ascii", errors="replace")


class Quantity(int):
    """A quantity of goods: a whole number 1..2^48-1 (the registry's `uint48`), typed in ASCII
    digits. `Quantity(value, what, allow_zero=True)` for a loss."""

    def __new__(
        cls, value: str | int, what: str = "quantity", *, allow_zero: bool = False
    ) -> Quantity:
        low = 0 if allow_zero else 1
        if isinstance(value, bool):
            raise InvalidInput(f"invalid {what} {value!r}: expected a whole number")
        if isinstance(value, str):
            text = value.strip().replace("_", "")
            if not text.isascii() or not text.isdigit():
                raise InvalidInput(
                    f"invalid {what} {value!r}: expected a whole number in digits 0-9 "
                    f"({low}..{MAX_UINT48})"
                )
            number = int(text)
        elif isinstance(value, int):
            number = value
        else:
            raise InvalidInput(f"invalid {what} {value!r}: expected a whole number")
        if number < low:
            raise InvalidInput(
                f"invalid {what} {number}: it must be greater than zero"
                if low
                else f"invalid {what} {number}: it must not be negative"
            )
        if number > MAX_UINT48:
            raise InvalidInput(
                f"invalid {what} {number}: at most {MAX_UINT48} (the registry's 48-bit quantity)"
            )
        return super().__new__(cls, number)
