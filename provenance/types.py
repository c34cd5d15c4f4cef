"""Identifiers, code tables and the frozen records that travel between the library's modules.

Nothing here talks to a chain. Conventions used throughout the library:

- a `bytes32` value (batch id, document hash, claim, reason) travels as a ``0x``-prefixed,
  lower-case, 64-hex-digit ``str`` (`Hex32`);
- a GTIN travels as its 14-digit ``str`` (``gtin14``), an address as its checksum ``str``;
- every validation error is an `InvalidInput` whose message says what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from eth_abi.abi import encode as abi_encode
from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

from provenance.exceptions import InvalidInput

Hex32 = str
ZERO32: Hex32 = "0x" + "00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_UINT48 = 2**48 - 1
MAX_UINT64 = 2**64 - 1

# --------------------------------------------------------------------------------------- GS1 keys


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (the key without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(value: str | int) -> str:
    """Validate a GTIN-8/12/13/14 (string or number) and return it as 14 digits.

    Raises `InvalidInput` naming the expected check digit when it is wrong.
    """
    text = str(value).strip().replace(" ", "").replace("-", "")
    if not text.isdigit() or not text.isascii():
        raise InvalidInput(f"invalid GTIN {value!r}: only digits are allowed (8, 12, 13 or 14)")
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
    return gtin14


def gtin_to_int(value: str | int) -> int:
    """The `uint256` the contracts store for a GTIN (validated)."""
    return int(normalize_gtin(value))


def gtin_from_int(value: int) -> str:
    """The 14-digit string of an on-chain GTIN number (not re-validated)."""
    return str(value).zfill(14)


def validate_gln(value: str | int | None) -> int:
    """Validate a 13-digit GLN; None/""/0 mean "not given" and return 0."""
    if value is None or value == "" or value == 0:
        return 0
    text = str(value).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 13:
        raise InvalidInput(f"invalid GLN {value!r}: expected 13 digits")
    text = text.zfill(13)
    expected = gs1_check_digit(text[:-1])
    if int(text[-1]) != expected:
        raise InvalidInput(f"invalid GLN {text}: wrong check digit {text[-1]}, expected {expected}")
    return int(text)


#: GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
GS1_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
MAX_LOT_LENGTH = 20


def validate_lot(lot: str) -> str:
    """Validate a lot/batch number (GS1 AI 10): 1–20 characters of GS1 character set 82."""
    if not isinstance(lot, str) or not lot:
        raise InvalidInput("invalid lot: it must not be empty (1–20 characters)")
    if len(lot) > MAX_LOT_LENGTH:
        raise InvalidInput(
            f"invalid lot {lot!r}: {len(lot)} characters, at most {MAX_LOT_LENGTH} allowed"
        )
    bad = sorted({ch for ch in lot if ch not in GS1_CSET82})
    if bad:
        raise InvalidInput(
            f"invalid lot {lot!r}: character(s) {''.join(bad)!r} are not in the GS1 "
            "character set 82 (letters, digits and !\"%&'()*+,-./:;<=>?_)"
        )
    return lot


def lot_to_bytes32(lot: str) -> bytes:
    """The lot as the contracts store it: ASCII, left-aligned, zero-padded to 32 bytes."""
    return validate_lot(lot).encode("ascii").ljust(32, b"\0")


def lot_from_bytes32(value: bytes | str) -> str:
    """Inverse of `lot_to_bytes32` (accepts bytes or a 0x hex string)."""
    raw = _to_bytes(value)
    if len(raw) != 32:
        raise InvalidInput(f"invalid lot bytes32: expected 32 bytes, got {len(raw)}")
    text = raw.rstrip(b"\0")
    try:
        return validate_lot(text.decode("ascii"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"invalid lot bytes32 {raw.hex()}: not ASCII") from exc


def batch_id(gtin: str | int, lot: str) -> Hex32:
    """`keccak256(abi.encode(uint256 gtin, bytes32 lot))`, the registry's batch id."""
    return to_hex32(
        keccak(abi_encode(["uint256", "bytes32"], [gtin_to_int(gtin), lot_to_bytes32(lot)]))
    )


def lot_extends(parent: str, lot: str) -> bool:
    """Whether `lot` extends `parent` (starts with it and is longer): the rule for the lots a
    split or merge creates, so nobody claims a lot outside the lots it holds."""
    return len(lot) > len(parent) and lot.startswith(parent)


# ------------------------------------------------------------------------ GS1 company prefixes

MIN_PREFIX_LENGTH = 4
MAX_PREFIX_LENGTH = 12
#: GTIN-13 starts the registry refuses to assign: restricted circulation (02, 04, 20-29) and
#: coupons (05, 98, 99).
RESTRICTED_STARTS = frozenset({"02", "04", "05", "98", "99", *(f"2{d}" for d in range(10))})


@dataclass(frozen=True)
class CompanyPrefix:
    """A GS1 company prefix (4-12 digits), matched against the GTIN-13 form of a GTIN (the
    GTIN-14 without its indicator digit). Build it with `CompanyPrefix.parse`, which applies the
    registry's rules so a refusal is explained before anything is sent."""

    digits: str

    @property
    def value(self) -> int:
        """The prefix as the number the registry stores (leading zeros dropped)."""
        return int(self.digits)

    @property
    def length(self) -> int:
        return len(self.digits)

    def __str__(self) -> str:
        return self.digits

    def covers(self, gtin: str | int) -> bool:
        """Whether `gtin` is a GTIN under this prefix."""
        return normalize_gtin(gtin)[1:].startswith(self.digits)

    @classmethod
    def of(cls, prefix: int, length: int) -> CompanyPrefix:
        """From the (number, length) pair the registry's events and views carry."""
        return cls(str(prefix).zfill(length))

    @classmethod
    def parse(cls, value: str | int) -> CompanyPrefix:
        """Validate a company prefix typed by a user (digits, leading zeros included)."""
        text = str(value).strip()
        if not text.isdigit() or not text.isascii():
            raise InvalidInput(f"invalid company prefix {value!r}: only digits are allowed")
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
        return cls(text)


# ----------------------------------------------------------------------------- GS1 Digital Link

DIGITAL_LINK_HOST = "https://id.gs1.org"


def digital_link(gtin: str | int, lot: str, host: str = DIGITAL_LINK_HOST) -> str:
    """`https://id.gs1.org/01/{gtin14}/10/{lot}` (lot percent-encoded)."""
    return f"{host.rstrip('/')}/01/{normalize_gtin(gtin)}/10/{quote(validate_lot(lot), safe='')}"


_DL_PATH = re.compile(r"(?:^|/)01/(?P<gtin>\d{8,14})/10/(?P<lot>[^/?#]+)/?$")


def parse_digital_link(uri: str) -> tuple[str, str]:
    """Parse a GS1 Digital Link (any host) or its short form `01/{gtin}/10/{lot}`.

    Returns (gtin14, lot), both validated.
    """
    text = uri.strip()
    path = urlparse(text).path if "://" in text else text
    match = _DL_PATH.search(path)
    if not match:
        raise InvalidInput(
            f"not a GS1 Digital Link of a batch: {uri!r} "
            "(expected https://id.gs1.org/01/<GTIN>/10/<lot> or 01/<GTIN>/10/<lot>)"
        )
    return normalize_gtin(match["gtin"]), validate_lot(unquote(match["lot"]))


def gln_uri(gln: int) -> str:
    return f"{DIGITAL_LINK_HOST}/414/{str(gln).zfill(13)}"


# -------------------------------------------------------------------------------------- roles


class Role(IntFlag):
    """Participant roles, a `uint8` bitmask on chain."""

    PRODUCER = 1
    PROCESSOR = 2
    CARRIER = 4
    DISTRIBUTOR = 8
    RETAILER = 16
    CERTIFIER = 32

    @classmethod
    def parse(cls, value: str | int | Role | list[str] | tuple[str, ...]) -> Role:
        """From a mask, `"producer,carrier"`, `"PRODUCER|CARRIER"` or a list of names."""
        if isinstance(value, Role):
            return value
        if isinstance(value, int):
            if value <= 0 or value & ~int(ALL_ROLES):
                raise InvalidInput(f"invalid roles mask {value}: use bits 1..32 ({role_help()})")
            return cls(value)
        names = value if isinstance(value, list | tuple) else re.split(r"[,|+\s]+", value)
        result = cls(0)
        for name in (n.strip() for n in names):
            if not name:
                continue
            try:
                result |= cls[name.upper()]
            except KeyError:
                raise InvalidInput(f"unknown role {name!r}: choose from {role_help()}") from None
        if not result:
            raise InvalidInput(f"no role given: choose from {role_help()}")
        return result

    def names(self) -> list[str]:
        return [r.name.lower() for r in Role if r & self and r.name]


ALL_ROLES = Role(63)


def role_help() -> str:
    return ", ".join(r.name.lower() for r in Role if r.name)


# ------------------------------------------------------------------------ CBV 2.0 vocabularies

#: CBV 2.0 business steps: on-chain `uint8` code → name. 0 = not given. Codes are part of the
#: on-chain record: append only, never renumber.
BIZ_STEPS: dict[int, str] = dict(
    enumerate(
        [
            "shipping",
            "receiving",
            "departing",
            "arriving",
            "storing",
            "commissioning",
            "transforming",
            "inspecting",
            "packing",
            "unpacking",
            "loading",
            "unloading",
            "holding",
            "retail_selling",
            "accepting",
            "assembling",
            "collecting",
            "consigning",
            "creating_class_instance",
            "cycle_counting",
            "decommissioning",
            "destroying",
            "disassembling",
            "dispensing",
            "encoding",
            "entering_exiting",
            "installing",
            "killing",
            "other",
            "picking",
            "removing",
            "repackaging",
            "repairing",
            "replacing",
            "reserving",
            "sampling",
            "sensor_reporting",
            "staging_outbound",
            "stock_taking",
            "stocking",
            "transporting",
            "void_shipping",
        ],
        start=1,
    )
)

#: CBV 2.0 dispositions: on-chain `uint8` code → name. 0 = not given. Append only.
DISPOSITIONS: dict[int, str] = dict(
    enumerate(
        [
            "in_transit",
            "in_progress",
            "active",
            "recalled",
            "damaged",
            "conformant",
            "non_conformant",
            "sellable_accessible",
            "expired",
            "destroyed",
            "returned",
            "available",
            "completeness_inferred",
            "completeness_verified",
            "container_closed",
            "container_open",
            "dispensed",
            "disposed",
            "encoded",
            "inactive",
            "mismatch_instance",
            "mismatch_class",
            "mismatch_quantity",
            "needs_replacement",
            "no_pedigree_match",
            "non_sellable_other",
            "partially_dispensed",
            "reserved",
            "retail_sold",
            "sellable_not_accessible",
            "stolen",
            "unavailable",
            "unknown",
        ],
        start=1,
    )
)
BIZ_STEP_CODES = {name: code for code, name in BIZ_STEPS.items()}
DISPOSITION_CODES = {name: code for code, name in DISPOSITIONS.items()}


def _vocab_code(value: str | int | None, table: dict[int, str], kind: str) -> int:
    if value is None or value == "" or value == 0:
        return 0
    if isinstance(value, int):
        if value not in table:
            raise InvalidInput(f"unknown {kind} code {value}: valid codes are 0..{max(table)}")
        return value
    text = value.strip()
    if text.isdigit():
        return _vocab_code(int(text), table, kind)
    # accept bare names, CBV URIs (https://ref.gs1.org/cbv/BizStep-shipping) and URNs
    name = re.split(r"[/:]", text)[-1]
    name = name.split("-", 1)[1] if "-" in name else name
    name = name.lower()
    for code, known in table.items():
        if known == name:
            return code
    raise InvalidInput(f"unknown {kind} {value!r}: choose from {', '.join(table.values())}")


def biz_step_code(value: str | int | None) -> int:
    """Code of a CBV business step given by name, CBV URI, URN or code (None/"" → 0)."""
    return _vocab_code(value, BIZ_STEPS, "business step")


def disposition_code(value: str | int | None) -> int:
    """Code of a CBV disposition given by name, CBV URI, URN or code (None/"" → 0)."""
    return _vocab_code(value, DISPOSITIONS, "disposition")


def biz_step_name(code: int) -> str | None:
    return BIZ_STEPS.get(code)


def disposition_name(code: int) -> str | None:
    return DISPOSITIONS.get(code)


# -------------------------------------------------------------------------- units of measure

#: UN/ECE Recommendation 20 codes the toolkit knows by name (others of 2–3 letters/digits pass).
UOMS: dict[str, str] = {
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne",
    "LBR": "pound",
    "LTR": "litre",
    "MLT": "millilitre",
    "MTQ": "cubic metre",
    "MTR": "metre",
    "MTK": "square metre",
    "H87": "piece",
    "EA": "each",
    "C62": "one (unit)",
    "PR": "pair",
    "DZN": "dozen",
}
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")


def validate_uom(code: str) -> str:
    text = code.strip().upper()
    if not _UOM.match(text):
        raise InvalidInput(
            f"invalid unit of measure {code!r}: use a UN/ECE Rec 20 code such as KGM, LTR or H87"
        )
    return text


def uom_to_bytes(code: str) -> bytes:
    """The `bytes3` for a UoM code (2-letter codes are zero-padded on the right)."""
    return validate_uom(code).encode("ascii").ljust(3, b"\0")


def uom_from_bytes(value: bytes | str) -> str:
    return _to_bytes(value).rstrip(b"\0").decode("ascii", errors="replace")


# ------------------------------------------------------------------- addresses, DIDs, hashes


def format_eth(wei: int) -> str:
    """`1.5 ETH`, `0 ETH`, `0.000000001 ETH`: wei as ether, without trailing zeros."""
    from decimal import Decimal

    return f"{(Decimal(wei) / 10**18).normalize():f} ETH"


def validate_address(value: str, what: str = "address", *, allow_zero: bool = False) -> str:
    """Return the checksum form of `value`; reject malformed, bad-checksum and zero addresses."""
    text = (value or "").strip()
    if not is_hex_address(text):
        raise InvalidInput(f"invalid {what} {value!r}: expected 0x followed by 40 hex digits")
    if (
        text[2:] != text[2:].lower()
        and text[2:] != text[2:].upper()
        and not is_checksum_address(text)
    ):
        raise InvalidInput(
            f"invalid {what} {value!r}: bad checksum (mistyped?); expected "
            f"{to_checksum_address(text)} if the digits are right"
        )
    checksum = to_checksum_address(text)
    if not allow_zero and int(checksum, 16) == 0:
        raise InvalidInput(f"invalid {what}: the zero address is not allowed")
    return checksum


def did_pkh(chain_id: int, address: str) -> str:
    """`did:pkh:eip155:<chainId>:<address>` (CAIP-10 account id as a DID)."""
    return f"did:pkh:eip155:{chain_id}:{validate_address(address)}"


def keccak_hex(data: bytes) -> Hex32:
    return to_hex32(keccak(data))


def hash_file(path: str | Path) -> Hex32:
    """Document hash used on chain: **keccak256** of the file's bytes (not SHA-256), as 0x hex.

    keccak256 is what Solidity and every EVM tool compute natively, so anyone can re-check a
    document hash on chain or with `cast keccak`.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read document {path}: {exc.strerror or exc}") from exc
    return keccak_hex(data)


def to_hex32(value: bytes | str | int) -> Hex32:
    """Normalise a 32-byte value (bytes, 0x hex or int) to lower-case 0x hex."""
    if isinstance(value, int):
        return "0x" + value.to_bytes(32, "big").hex()
    raw = _to_bytes(value)
    if len(raw) != 32:
        raise InvalidInput(f"expected 32 bytes, got {len(raw)}: {value!r}")
    return "0x" + raw.hex()


def text_to_bytes32(value: str | bytes | None) -> Hex32:
    """For reasons, claims and other short codes: a 0x 32-byte hex passes through, any other
    text of at most 32 UTF-8 bytes is stored left-aligned (like Solidity's `bytes32("...")`)."""
    if value is None or value == "" or value == b"":
        return ZERO32
    if isinstance(value, bytes):
        return to_hex32(value) if len(value) == 32 else text_to_bytes32(value.decode())
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        return value.lower()
    raw = value.encode("utf-8")
    if len(raw) > 32:
        raise InvalidInput(
            f"text {value!r} is {len(raw)} bytes; at most 32 fit in a bytes32 "
            "(or pass a 0x-prefixed 32-byte hash)"
        )
    return "0x" + raw.ljust(32, b"\0").hex()


def bytes32_to_text(value: bytes | str) -> str:
    """Show a bytes32: its text when it is left-aligned printable ASCII, else its hex."""
    raw = _to_bytes(value)
    text = raw.rstrip(b"\0")
    if text and b"\0" not in text and all(32 <= b < 127 for b in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


def short_hex(value: bytes | str) -> str:
    """0x12ab…cdef for logs and messages."""
    text = value if isinstance(value, str) else "0x" + value.hex()
    return text if len(text) <= 14 else f"{text[:6]}…{text[-4:]}"


def address_subject(address: str) -> Hex32:
    """An account as an attestation subject: `bytes32(uint256(uint160(account)))`."""
    return to_hex32(int(validate_address(address), 16))


def attestation_id(subject: str, claim: str, issuer: str, evidence: str) -> Hex32:
    """`keccak256(abi.encode(subject, claim, issuer, evidence))`."""
    return keccak_hex(
        abi_encode(
            ["bytes32", "bytes32", "address", "bytes32"],
            [_to_bytes(subject), _to_bytes(claim), validate_address(issuer), _to_bytes(evidence)],
        )
    )


def _to_bytes(value: bytes | str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = value[2:] if value.startswith(("0x", "0X")) else value
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidInput(f"invalid hex value {value!r}") from exc


# ---------------------------------------------------------------------------------- records


class BatchState(IntEnum):
    NONE = 0
    ACTIVE = 1
    CONSUMED = 2


class OperationKind(IntEnum):
    """How a batch was consumed (`BatchConsumed.kind`, `BatchDerived.kind`)."""

    NONE = 0
    SPLIT = 1
    MERGE = 2
    TRANSFORM = 3


@dataclass(frozen=True)
class Participant:
    """A registry participant (`getParticipant`). `id == 0` means not registered."""

    address: str
    id: int
    roles: Role
    active: bool
    gln: int

    @property
    def registered(self) -> bool:
        return self.id != 0

    def has(self, role: Role) -> bool:
        return bool(self.roles & role)


@dataclass(frozen=True)
class Batch:
    """A batch's current state (`getBatch`); addresses are None when unset.

    `origin` holds the recall right (the creator, or the transformer of an output; kept by splits
    and merges); `bound_to` is the buyer of the bound delivery in progress (a tender), if any;
    `tender_leg` says the pending handoff is that tender; `lineage_recalled` that an ancestor is
    recalled; `lineage_number` is what descendants carry once the batch is consumed; `ancestors`
    how many lineage numbers it carries.
    """

    batch_id: Hex32
    state: BatchState
    custodian: str | None
    owner: str | None
    pending_to: str | None
    origin: str | None
    bound_to: str | None
    recalled: bool
    lineage_recalled: bool
    tender_leg: bool
    pending_ownership: bool
    gtin: str  # 14 digits ("00000000000000" for an unknown batch)
    quantity: int
    uom: str
    lineage_number: int = 0
    ancestors: int = 0

    @property
    def exists(self) -> bool:
        return self.state != BatchState.NONE

    @property
    def active(self) -> bool:
        return self.state == BatchState.ACTIVE

    @property
    def bound(self) -> bool:
        """Bound to an agreement's delivery: it moves only towards its buyer, through carriers."""
        return self.bound_to is not None

    @property
    def frozen(self) -> bool:
        """Recalled, or an ancestor is: it can no longer move, be accepted or consumed."""
        return self.recalled or self.lineage_recalled


@dataclass(frozen=True)
class Handoff:
    """The registry's `Handoff` struct (also the EIP-712 message, plus nonce and deadline)."""

    batch_id: Hex32
    from_: str
    to: str
    location: int = 0
    biz_step: int = 0
    disposition: int = 0
    transfer_ownership: bool = False
    document: Hex32 = ZERO32

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            _to_bytes(self.batch_id),
            self.from_,
            self.to,
            self.location,
            self.biz_step,
            self.disposition,
            self.transfer_ownership,
            _to_bytes(self.document),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "batchId": self.batch_id,
            "from": self.from_,
            "to": self.to,
            "location": self.location,
            "bizStep": self.biz_step,
            "disposition": self.disposition,
            "transferOwnership": self.transfer_ownership,
            "document": self.document,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handoff:
        try:
            return cls(
                batch_id=to_hex32(data["batchId"]),
                from_=validate_address(data["from"], "handoff sender"),
                to=validate_address(data["to"], "handoff recipient"),
                location=int(data["location"]),
                biz_step=int(data["bizStep"]),
                disposition=int(data["disposition"]),
                transfer_ownership=bool(data["transferOwnership"]),
                document=to_hex32(data["document"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed handoff: {exc!r}") from exc


@dataclass(frozen=True)
class Leg:
    """Place, CBV codes and document of a tender (the registry's `Leg`)."""

    location: int = 0
    biz_step: int = 0
    disposition: int = 0
    document: Hex32 = ZERO32

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.location, self.biz_step, self.disposition, _to_bytes(self.document))


@dataclass(frozen=True)
class NewBatch:
    """A batch to commission with `createBatches` (validated here)."""

    gtin: str
    lot: str
    quantity: int
    uom: str = "KGM"
    document: Hex32 = ZERO32

    def __post_init__(self) -> None:
        object.__setattr__(self, "gtin", normalize_gtin(self.gtin))
        object.__setattr__(self, "lot", validate_lot(self.lot))
        object.__setattr__(self, "uom", validate_uom(self.uom))
        object.__setattr__(self, "document", to_hex32(self.document))
        quantity = self.quantity
        if (
            not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or not 0 < quantity <= MAX_UINT48
        ):
            raise InvalidInput(
                f"invalid quantity {quantity!r} of lot {self.lot}: expected a whole number "
                f"1..{MAX_UINT48}"
            )

    @property
    def batch_id(self) -> Hex32:
        return batch_id(self.gtin, self.lot)

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            int(self.gtin),
            lot_to_bytes32(self.lot),
            self.quantity,
            uom_to_bytes(self.uom),
            _to_bytes(self.document),
        )


@dataclass(frozen=True)
class Attestation:
    """An attestation as issued (from `AttestationIssued`), with its revocation if any."""

    attestation_id: Hex32
    subject: Hex32
    claim: Hex32
    issuer: str
    evidence: Hex32
    valid_from: int
    valid_until: int
    issued_at: int = 0
    revoked_at: int | None = None
    revoke_reason: Hex32 | None = None

    def valid_at(self, at: int) -> bool:
        if not self.valid_from <= at <= self.valid_until:
            return False
        return self.revoked_at is None or self.revoked_at > at


class AgreementStatus(IntEnum):
    """`ISupplyAgreements.Status`. Settled, Refunded, Resolved and Cancelled are terminal."""

    NONE = 0
    PROPOSED = 1
    ACCEPTED = 2
    FUNDED = 3
    TENDERED = 4
    SETTLED = 5
    REFUNDED = 6
    DISPUTED = 7
    RESOLVED = 8
    CANCELLED = 9

    @property
    def terminal(self) -> bool:
        return self in (
            AgreementStatus.SETTLED,
            AgreementStatus.REFUNDED,
            AgreementStatus.RESOLVED,
            AgreementStatus.CANCELLED,
        )


class DisputeKind(IntEnum):
    """Why an agreement is Disputed; decides the default when the arbiter is silent."""

    NONE = 0
    REJECTED = 1  # the buyer rejected the tender: default = full refund to the buyer
    ESCALATED = 2  # the supplier escalated an unanswered tender: default = paid as if accepted


@dataclass(frozen=True)
class RequiredClaim:
    """A claim the delivered goods must carry, and the certifier whose attestation counts."""

    claim: Hex32
    attester: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim", text_to_bytes32(self.claim))
        object.__setattr__(self, "attester", validate_address(self.attester, "attester"))

    def to_tuple(self) -> tuple[Any, ...]:
        return (_to_bytes(self.claim), self.attester)


@dataclass(frozen=True)
class ClaimProof:
    """Where a required claim is attested: the delivered batch or the ancestor carrying it, and
    the evidence hash the attestation was issued with."""

    subject: Hex32
    evidence: Hex32

    def to_tuple(self) -> tuple[Any, ...]:
        return (_to_bytes(self.subject), _to_bytes(self.evidence))


BPS = 10_000
TERMS_ABI_TYPE = (
    "(address,address,address,address,address,uint256,uint256,bytes3,uint16,uint256,uint64,"
    "uint32,uint32,uint32,uint16,uint16,(bytes32,address)[],bytes32,uint256)"
)
TERMS_KEYS = (
    "buyer",
    "supplier",
    "arbiter",
    "carrier",
    "token",
    "gtin",
    "quantity",
    "uom",
    "toleranceBps",
    "price",
    "deliveryDeadline",
    "gracePeriod",
    "inspectionPeriod",
    "arbiterTimeout",
    "penaltyBpsPerDay",
    "penaltyCapBps",
    "requiredClaims",
    "document",
    "salt",
)
DAY = 24 * 3600


@dataclass(frozen=True)
class AgreementTerms:
    """Mirror of `ISupplyAgreements.Terms`. `token` is the zero address for native ETH; `carrier`
    the zero address when the supplier tenders to the buyer itself (as DAP), else the carrier the
    buyer named as the tender point (as FCA)."""

    buyer: str
    supplier: str
    arbiter: str
    gtin: str  # 14 digits
    quantity: int
    uom: str
    price: int
    delivery_deadline: int
    token: str = ZERO_ADDRESS
    carrier: str = ZERO_ADDRESS
    tolerance_bps: int = 0
    grace_period: int = 0
    inspection_period: int = 3 * DAY
    arbiter_timeout: int = 7 * DAY
    penalty_bps_per_day: int = 0
    penalty_cap_bps: int = 0
    required_claims: tuple[RequiredClaim, ...] = ()
    document: Hex32 = ZERO32
    salt: int = 0

    def to_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple web3 takes for a `Terms` argument."""
        return (
            self.buyer,
            self.supplier,
            self.arbiter,
            self.carrier,
            self.token,
            int(self.gtin),
            self.quantity,
            uom_to_bytes(self.uom),
            self.tolerance_bps,
            self.price,
            self.delivery_deadline,
            self.grace_period,
            self.inspection_period,
            self.arbiter_timeout,
            self.penalty_bps_per_day,
            self.penalty_cap_bps,
            [c.to_tuple() for c in self.required_claims],
            _to_bytes(self.document),
            self.salt,
        )

    @classmethod
    def from_tuple(cls, value: Any) -> AgreementTerms:
        """From a decoded `Terms` (tuple, list, or web3's AttributeDict/dict by field name)."""
        if isinstance(value, dict) or hasattr(value, "keys"):
            value = tuple(value[k] for k in TERMS_KEYS)
        (
            buyer,
            supplier,
            arbiter,
            carrier,
            token,
            gtin,
            quantity,
            uom,
            tolerance,
            price,
            deadline,
            grace,
            inspection,
            timeout,
            bps,
            cap,
            claims,
            document,
            salt,
        ) = value
        required = []
        for claim in claims:
            if isinstance(claim, dict) or hasattr(claim, "keys"):
                claim = (claim["claim"], claim["attester"])
            required.append(RequiredClaim(to_hex32(claim[0]), to_checksum_address(claim[1])))
        return cls(
            buyer=to_checksum_address(buyer),
            supplier=to_checksum_address(supplier),
            arbiter=to_checksum_address(arbiter),
            carrier=to_checksum_address(carrier),
            token=to_checksum_address(token),
            gtin=gtin_from_int(int(gtin)),
            quantity=int(quantity),
            uom=uom_from_bytes(uom),
            tolerance_bps=int(tolerance),
            price=int(price),
            delivery_deadline=int(deadline),
            grace_period=int(grace),
            inspection_period=int(inspection),
            arbiter_timeout=int(timeout),
            penalty_bps_per_day=int(bps),
            penalty_cap_bps=int(cap),
            required_claims=tuple(required),
            document=to_hex32(document),
            salt=int(salt),
        )

    def terms_hash(self) -> Hex32:
        """`keccak256(abi.encode(terms))`, what the contract stores."""
        return keccak_hex(abi_encode([TERMS_ABI_TYPE], [self.to_tuple()]))

    @property
    def is_eth(self) -> bool:
        return int(self.token, 16) == 0

    @property
    def has_carrier(self) -> bool:
        return int(self.carrier, 16) != 0

    @property
    def tender_point(self) -> str:
        """Who receives the tender: the named carrier (as FCA), else the buyer (as DAP)."""
        return self.carrier if self.has_carrier else self.buyer

    @property
    def closes_at(self) -> int:
        """The last moment a tender is accepted: deadline + grace."""
        return self.delivery_deadline + self.grace_period

    def escrow(self) -> int:
        """What the buyer escrows: price + ⌈price × tolerance / 10,000⌉ (`escrowOf`)."""
        return self.price + -(-self.price * self.tolerance_bps // BPS)

    def within_tolerance(self, delivered: int) -> bool:
        """Whether a batch of `delivered` units may be tendered (agreed quantity ± tolerance)."""
        if self.quantity > MAX_UINT48 or delivered > MAX_UINT48 or delivered < 0:
            return False
        return abs(delivered - self.quantity) * BPS <= self.quantity * self.tolerance_bps

    def days_late(self, tendered_at: int) -> int:
        """Whole days from the deadline to the tender (0 if on time): what the penalty counts."""
        return max(0, tendered_at - self.delivery_deadline) // DAY

    def penalty_bps(self, days_late: int) -> int:
        return min(days_late * self.penalty_bps_per_day, self.penalty_cap_bps)

    def payout(self, delivered: int, days_late: int) -> tuple[int, int]:
        """(supplier, buyer) credits of a tender of `delivered` units `days_late` whole days late,
        as `payoutFor` computes them: payment = price × delivered / quantity (rounded down),
        penalty = payment × rate / 10,000, supplier = payment − penalty, buyer = escrow − that."""
        payment = self.price * delivered // self.quantity
        penalty = payment * self.penalty_bps(days_late) // BPS
        supplier = payment - penalty
        return supplier, self.escrow() - supplier

    def penalty_for(self, days_late: int, delivered: int | None = None) -> int:
        """The late penalty on a delivery of `delivered` units (default: the agreed quantity)."""
        payment = self.price * (self.quantity if delivered is None else delivered) // self.quantity
        return payment * self.penalty_bps(days_late) // BPS


@dataclass(frozen=True)
class Agreement:
    """An agreement: its id, terms (rebuilt from `AgreementProposed`) and current state
    (`stateOf`), with the batch of its current or last tender (from `DeliveryTendered`)."""

    id: int
    terms: AgreementTerms
    status: AgreementStatus
    proposer: str | None = None
    dispute_kind: DisputeKind = DisputeKind.NONE
    tendered_at: int = 0
    disputed_at: int = 0
    tendered_batch: Hex32 | None = None
    days_late: int | None = None

    @property
    def escrow(self) -> int:
        return self.terms.escrow()


@dataclass(frozen=True)
class TxResult:
    """Outcome of sending one transaction.

    - `queued`: the endpoint was unreachable; the signed tx waits in the outbox (no receipt yet).
    - `already_recorded`: the tx was found mined already (e.g. on outbox replay).
    - `return_value`: what the call returned in the pre-flight (e.g. a new batch id), if anything.
    """

    tx_hash: str
    block_number: int | None = None
    gas_used: int | None = None
    status: int | None = None
    queued: bool = False
    already_recorded: bool = False
    description: str = ""
    nonce: int | None = None
    return_value: Any = None
    receipt: Any = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 1
