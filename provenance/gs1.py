"""GS1 identifiers: GTIN, GLN, lot, company prefix, batch id and the GS1 Digital Link.

Each is a `str` subclass whose constructor validates and normalises what a user typed and refuses
anything else with the message the CLI prints (`InvalidInput`). Values read back from the chain
(written by any client) are rendered, never refused: see `Gtin.from_chain`, `lot_from_bytes32`.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlparse

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from provenance.encoding import Hex32, to_bytes, to_hex32
from provenance.exceptions import InvalidInput

DIGITAL_LINK_HOST = "https://id.gs1.org"
#: GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
GS1_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
MAX_LOT_LENGTH = 20
MIN_PREFIX_LENGTH = 4
MAX_PREFIX_LENGTH = 12
#: GTIN-13 starts the registry refuses to assign: restricted circulation (02, 04, 20-29) and
#: coupons (05, 98, 99).
RESTRICTED_STARTS = frozenset({"02", "04", "05", "98", "99", *(f"2{d}" for d in range(10))})


def ascii_digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (`str.isdigit` also accepts ٣, ３ and ²)."""
    return bool(text) and text.isascii() and text.isdigit()


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (the key without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


# -------------------------------------------------------------------------------------- GTIN


class Gtin(str):
    """A GTIN-8/12/13/14 with a valid check digit, held as its 14 digits (`int(gtin)` is the
    `uint256` the contracts store)."""

    def __new__(cls, value: str | int) -> Gtin:
        if isinstance(value, Gtin):
            return value
        if isinstance(value, bool):
            raise InvalidInput(f"invalid GTIN {value!r}: expected digits")
        text = str(value).strip().replace(" ", "").replace("-", "")
        if not ascii_digits(text):
            raise InvalidInput(
                f"invalid GTIN {value!r}: only the digits 0-9 are allowed (8, 12, 13 or 14)"
            )
        allowed = range(1, 15) if isinstance(value, int) else (8, 12, 13, 14)
        if len(text) not in allowed:
            raise InvalidInput(
                f"invalid GTIN {value!r}: expected 8, 12, 13 or 14 digits, got {len(text)}"
            )
        gtin14 = text.zfill(14)
        if int(gtin14) == 0:
            raise InvalidInput("invalid GTIN: it must not be zero")
        expected = gs1_check_digit(gtin14[:-1])
        if int(gtin14[-1]) != expected:
            raise InvalidInput(
                f"invalid GTIN {text}: wrong check digit {gtin14[-1]}, expected {expected} "
                f"({text[:-1]}{expected})"
            )
        return super().__new__(cls, gtin14)

    @staticmethod
    def from_chain(value: int) -> str:
        """The 14-digit string of an on-chain GTIN number (not validated: any client wrote it)."""
        return str(value).zfill(14)


def gtin_to_int(value: str | int) -> int:
    """The `uint256` the contracts store for a GTIN (validated)."""
    return int(Gtin(value))


# --------------------------------------------------------------------------------------- GLN


class Gln(int):
    """A 13-digit GLN with a valid check digit, as the `uint64` the contracts store; 0 means
    "not given" (None and "" give 0)."""

    def __new__(cls, value: str | int | None = 0) -> Gln:
        if value is None or value == "" or value == 0:
            return super().__new__(cls, 0)
        text = str(value).strip()
        if not ascii_digits(text) or len(text) > 13:
            raise InvalidInput(f"invalid GLN {value!r}: expected 13 digits")
        text = text.zfill(13)
        expected = gs1_check_digit(text[:-1])
        if int(text[-1]) != expected:
            raise InvalidInput(
                f"invalid GLN {text}: wrong check digit {text[-1]}, expected {expected}"
            )
        return super().__new__(cls, int(text))


def gln_uri(gln: int) -> str:
    return f"{DIGITAL_LINK_HOST}/414/{str(gln).zfill(13)}"


# --------------------------------------------------------------------------------------- lot


class Lot(str):
    """A lot/batch number (GS1 AI 10): 1–20 characters of GS1 character set 82."""

    def __new__(cls, value: str) -> Lot:
        if isinstance(value, Lot):
            return value
        if not isinstance(value, str) or not value:
            raise InvalidInput("invalid lot: it must not be empty (1–20 characters)")
        if len(value) > MAX_LOT_LENGTH:
            raise InvalidInput(
                f"invalid lot {value!r}: {len(value)} characters, at most {MAX_LOT_LENGTH} allowed"
            )
        bad = sorted({ch for ch in value if ch not in GS1_CSET82})
        if bad:
            raise InvalidInput(
                f"invalid lot {value!r}: character(s) {''.join(bad)!r} are not in the GS1 "
                "character set 82 (letters, digits and !\"%&'()*+,-./:;<=>?_)"
            )
        return super().__new__(cls, value)

    def extends(self, parent: str) -> bool:
        """Whether this lot extends `parent` (starts with it and is longer): the rule for the
        lots a split or merge creates, so nobody claims a lot outside the lots it holds."""
        return lot_extends(parent, self)


def lot_extends(parent: str, lot: str) -> bool:
    return len(lot) > len(parent) and lot.startswith(parent)


def lot_to_bytes32(lot: str) -> bytes:
    """The lot as the contracts store it: ASCII, left-aligned, zero-padded to 32 bytes."""
    return Lot(lot).encode("ascii").ljust(32, b"\0")


def lot_from_bytes32(value: bytes | str) -> str:
    """A lot read from the chain; shown as hex when another client stored something that is not
    a GS1 lot (never refused: a reader renders whatever the chain holds)."""
    raw = to_bytes(value)
    text = raw.rstrip(b"\0")
    try:
        return str(Lot(text.decode("ascii")))
    except (UnicodeDecodeError, InvalidInput):
        return "0x" + raw.hex()


# ---------------------------------------------------------------------------------- batch id


def batch_id(gtin: str | int, lot: str) -> Hex32:
    """`keccak256(abi.encode(uint256 gtin, bytes32 lot))`, the registry's batch id."""
    return to_hex32(
        keccak(abi_encode(["uint256", "bytes32"], [gtin_to_int(gtin), lot_to_bytes32(lot)]))
    )


_DL_PATH = re.compile(r"(?:^|/)01/(?P<gtin>[^/]+)/10/(?P<lot>[^/?#]+)/?$")


def digital_link(gtin: str | int, lot: str, host: str = DIGITAL_LINK_HOST) -> str:
    """`https://id.gs1.org/01/{gtin14}/10/{lot}` (lot percent-encoded)."""
    return f"{host.rstrip('/')}/01/{Gtin(gtin)}/10/{quote(Lot(lot), safe='')}"


def parse_digital_link(uri: str) -> tuple[Gtin, Lot]:
    """Parse a GS1 Digital Link (any host) or its short form `01/{gtin}/10/{lot}`.

    Returns (gtin, lot), both validated.
    """
    text = uri.strip()
    path = urlparse(text).path if "://" in text else text
    match = _DL_PATH.search(path)
    if not match:
        raise InvalidInput(
            f"not a GS1 Digital Link of a batch: {uri!r} "
            "(expected https://id.gs1.org/01/<GTIN>/10/<lot> or 01/<GTIN>/10/<lot>)"
        )
    return Gtin(match["gtin"]), Lot(unquote(match["lot"]))


class BatchRef(str):
    """A batch as a user names it — a batch id (0x + 64 hex digits), a GS1 Digital Link
    (`https://id.gs1.org/01/<GTIN>/10/<lot>`, any host) or its short form `01/<GTIN>/10/<lot>` —
    held as the batch id."""

    FORMS = "a batch id (0x + 64 hex digits) or a GS1 Digital Link such as " + (
        f"{DIGITAL_LINK_HOST}/01/09506000134352/10/LOT1 or 01/09506000134352/10/LOT1"
    )

    def __new__(cls, value: str) -> BatchRef:
        if isinstance(value, BatchRef):
            return value
        text = value.strip() if isinstance(value, str) else ""
        if re.fullmatch(r"0[xX][0-9a-fA-F]{64}", text):
            return super().__new__(cls, text.lower())
        if _DL_PATH.search(urlparse(text).path if "://" in text else text):
            gtin, lot = parse_digital_link(text)
            return super().__new__(cls, batch_id(gtin, lot))
        raise InvalidInput(f"invalid batch {value!r}: expected {cls.FORMS}")


# ------------------------------------------------------------------------ GS1 company prefixes


class CompanyPrefix(str):
    """A GS1 company prefix (4-12 digits, leading zeros count), matched against the GTIN-13 form
    of a GTIN (the GTIN-14 without its indicator digit). The constructor applies the registry's
    rules, so a refusal is explained before anything is sent."""

    def __new__(cls, value: str | int) -> CompanyPrefix:
        if isinstance(value, CompanyPrefix):
            return value
        text = str(value).strip()
        if not ascii_digits(text):
            raise InvalidInput(f"invalid company prefix {value!r}: only the digits 0-9 are allowed")
        if not MIN_PREFIX_LENGTH <= len(text) <= MAX_PREFIX_LENGTH:
            raise InvalidInput(
                f"invalid company prefix {text}: {len(text)} digits, expected "
                f"{MIN_PREFIX_LENGTH}-{MAX_PREFIX_LENGTH} (leading zeros count)"
            )
        if set(text[:5]) == {"0"}:  # reaches into the GTIN-8 space
            if len(text) != MAX_PREFIX_LENGTH or text[5] in "02":
                raise InvalidInput(
                    f"invalid company prefix {text}: the GTIN-8 space (00000…) is assigned one "
                    "GTIN-8 at a time, as 00000 + its first 7 digits (12 digits), and never an "
                    "RCN-8 (a GTIN-8 starting with 0 or 2)"
                )
        elif text[:2] in RESTRICTED_STARTS:
            raise InvalidInput(
                f"invalid company prefix {text}: numbers starting with {text[:2]} are "
                "restricted-circulation (02, 04, 20-29) or coupon (05, 98, 99) numbers, which "
                "no company prefix covers"
            )
        return super().__new__(cls, text)

    @property
    def digits(self) -> str:
        return str(self)

    @property
    def value(self) -> int:
        """The prefix as the number the registry stores (leading zeros dropped)."""
        return int(self)

    @property
    def length(self) -> int:
        return len(self)

    def covers(self, gtin: str | int) -> bool:
        """Whether `gtin` is a GTIN under this prefix."""
        return Gtin(gtin)[1:].startswith(self)

    @classmethod
    def of(cls, prefix: int, length: int) -> CompanyPrefix:
        """From the (number, length) pair the registry's events and views carry."""
        return str.__new__(cls, str(prefix).zfill(length))

    @classmethod
    def parse(cls, value: str | int) -> CompanyPrefix:
        return cls(value)
