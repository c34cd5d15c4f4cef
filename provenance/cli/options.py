"""Shared options and the parameter types that turn what a user typed into the library's values.

Each `click.ParamType` here wraps one constructor of the library (`Gtin`, `Lot`, `Uom`,
`Quantity`, `Amount`, `Moment`, `Duration`, `Address`, `BatchRef`, …): the value is parsed and
validated once, there; a refusal becomes click's usage error that names the option, with the
library's own message (`Error: Invalid value for '--gtin': invalid GTIN …`, exit 2). `--help`
shows each option's form as its metavar.

The library modules are imported inside `convert`, so building the command tree stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from provenance.cli.context import PASSWORD_ENV, Env

F = TypeVar("F", bound=Callable[..., Any])


# ----------------------------------------------------------------------------- param types


class LibraryType(click.ParamType):
    """A ParamType over one library constructor; `InvalidInput` → a usage error."""

    name = "value"

    def parse(self, value: str) -> Any:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default already converted, or set by a callback
        from provenance.exceptions import InvalidInput

        try:
            return self.parse(value)
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


class GtinType(LibraryType):
    name = "gtin"

    def parse(self, value: str) -> Any:
        from provenance.gs1 import Gtin

        return Gtin(value)


class LotType(LibraryType):
    name = "lot"

    def parse(self, value: str) -> Any:
        from provenance.gs1 import Lot

        return Lot(value)


class UomType(LibraryType):
    name = "unit"

    def parse(self, value: str) -> Any:
        from provenance.units import Uom

        return Uom(value)


class GlnType(LibraryType):
    name = "gln"

    def parse(self, value: str) -> Any:
        from provenance.gs1 import Gln

        return Gln(value)


class PrefixType(LibraryType):
    name = "prefix"

    def parse(self, value: str) -> Any:
        from provenance.gs1 import CompanyPrefix

        return CompanyPrefix(value)


class QuantityType(LibraryType):
    name = "quantity"

    def __init__(self, what: str = "quantity", *, allow_zero: bool = False) -> None:
        self.what, self.allow_zero = what, allow_zero

    def parse(self, value: str) -> Any:
        from provenance.units import Quantity

        return Quantity(value, self.what, allow_zero=self.allow_zero)


class AmountType(LibraryType):
    """1.5eth, 20gwei, 1000wei (a bare number is ether) → exact wei."""

    name = "amount"

    def __init__(self, what: str = "amount", *, positive: bool = False) -> None:
        self.what, self.positive = what, positive

    def parse(self, value: str) -> Any:
        from provenance.exceptions import InvalidInput
        from provenance.money import Amount

        amount = Amount.parse(value, self.what)
        if self.positive and amount == 0:
            raise InvalidInput(f"invalid {self.what} {value!r}: it must be greater than zero")
        return amount


class BpsType(LibraryType):
    name = "bps|percent"

    def __init__(self, what: str) -> None:
        self.what = what

    def parse(self, value: str) -> Any:
        from provenance.money import Bps

        return Bps.parse(value, self.what)


class MomentType(LibraryType):
    """A unix time in seconds, an ISO date, `now` or +N[smhdw], within 2000..2200."""

    name = "time"

    def __init__(self, what: str) -> None:
        self.what = what

    def parse(self, value: str) -> Any:
        from provenance.times import Moment

        return Moment.parse(value, self.what)


class DurationType(LibraryType):
    name = "duration"

    def __init__(self, what: str, *, max_seconds: int = 2**32 - 1) -> None:
        self.what, self.max_seconds = what, max_seconds

    def parse(self, value: str) -> Any:
        from provenance.times import Duration

        return Duration.parse(value, self.what, max_seconds=self.max_seconds)


class AddressType(LibraryType):
    name = "address"

    def __init__(self, what: str = "address", *, allow_zero: bool = False) -> None:
        self.what, self.allow_zero = what, allow_zero

    def parse(self, value: str) -> Any:
        from provenance.encoding import Address

        return Address(value, self.what, allow_zero=self.allow_zero)


class BatchType(LibraryType):
    """A batch id, a GS1 Digital Link or its short form 01/<GTIN>/10/<lot> → the batch id."""

    name = "batch"

    def parse(self, value: str) -> Any:
        from provenance.gs1 import BatchRef

        return BatchRef(value)


class SubjectType(LibraryType):
    """An attestation subject: a batch (id or Digital Link) or a participant address."""

    name = "batch|address"

    def parse(self, value: str) -> Any:
        from provenance.encoding import Address
        from provenance.gs1 import BatchRef

        text = value.strip()
        if text.lower().startswith("0x") and len(text) == 42:
            return Address(text, "subject address")
        return BatchRef(text)


class UintType(LibraryType):
    """A whole number that fits `bits` bits, in ASCII digits."""

    name = "number"

    def __init__(self, bits: int, what: str) -> None:
        self.bits, self.what = bits, what

    def parse(self, value: str) -> Any:
        from provenance.encoding import parse_uint

        return parse_uint(value, self.bits, self.what)


class IdType(LibraryType):
    """A positive id (an agreement number)."""

    name = "id"

    def __init__(self, what: str) -> None:
        self.what = what

    def parse(self, value: str) -> Any:
        from provenance.encoding import parse_uint
        from provenance.exceptions import InvalidInput

        number = parse_uint(value, 256, self.what)
        if number == 0:
            raise InvalidInput(f"invalid {self.what} 0: it must be greater than zero")
        return number


class Text32Type(LibraryType):
    """Short text (at most 32 UTF-8 bytes) or a 0x hash; `required` refuses empty text."""

    name = "text"

    def __init__(self, what: str, *, required: bool = False) -> None:
        self.what, self.required = what, required

    def parse(self, value: str) -> Any:
        from provenance.encoding import required_text32, text_to_bytes32

        if self.required:
            return required_text32(value, self.what)
        return text_to_bytes32(value, self.what)


class DocHashType(LibraryType):
    name = "0xhash"

    def parse(self, value: str) -> Any:
        from provenance.encoding import document_hash

        return document_hash(value)


class BizStepType(LibraryType):
    name = "step"

    def parse(self, value: str) -> Any:
        from provenance.cbv import biz_step_code

        return biz_step_code(value)


class DispositionType(LibraryType):
    name = "disposition"

    def parse(self, value: str) -> Any:
        from provenance.cbv import disposition_code

        return disposition_code(value)


class RolesType(LibraryType):
    name = "roles"

    def parse(self, value: str) -> Any:
        from provenance.records import Role

        parts = [p.strip() for p in value.split(",") if p.strip()]
        if len(parts) == 1 and parts[0].isascii() and parts[0].isdigit():
            return Role.parse(int(parts[0]))
        return Role.parse(parts)


class RequiredClaimType(LibraryType):
    """CLAIM@ATTESTER: a claim the goods must carry and the certifier whose attestation counts."""

    name = "claim@attester"

    def parse(self, value: str) -> Any:
        from provenance.encoding import Address, required_text32
        from provenance.exceptions import InvalidInput
        from provenance.records import RequiredClaim

        claim, sep, attester = value.rpartition("@")
        if not sep or not claim:
            raise InvalidInput(
                f"invalid --require {value!r}: expected CLAIM@ATTESTER, e.g. "
                "ORGANIC@0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 (the certifier whose "
                "attestation counts)"
            )
        return RequiredClaim(
            required_text32(claim, "the required claim"), Address(attester, f"attester of {claim}")
        )


GTIN = GtinType()
LOT = LotType()
UOM = UomType()
GLN = GlnType()
PREFIX = PrefixType()
BATCH = BatchType()
SUBJECT = SubjectType()
DOC_HASH = DocHashType()
BIZ_STEP = BizStepType()
DISPOSITION = DispositionType()
ROLES = RolesType()
REQUIRED_CLAIM = RequiredClaimType()

UOM_HELP = (
    "UN/ECE Rec 20 unit: KGM (kilogram), GRM, TNE, LTR, MLT, H87 (piece)… "
    "(`provenance docs units` lists all)"
)


# ----------------------------------------------------------------------------- shared options


def json_option(func: F) -> F:
    """`--json`: machine-readable output instead of tables."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON instead of a human-readable table."
    )(func)


def password_file_option(func: F) -> F:
    """`--password-file FILE`: read the keystore password from a file (first line)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None:
            ctx.ensure_object(Env).password_file = value
        return value

    return click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=callback,
        help=f"Read the keystore password from FILE (else ${PASSWORD_ENV}, else a prompt).",
    )(func)


def account_option(func: F) -> F:
    """`--account` given after the command name (same as the global option)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value:
            ctx.ensure_object(Env).account = value
        return value

    return click.option(
        "--account",
        "-a",
        metavar="NAME|ADDRESS|dev:N",
        expose_value=False,
        callback=callback,
        help="Sign with this account: keystore name, address, or dev:N (dev account N).",
    )(password_file_option(func))


def write_command(func: F) -> F:
    """Options every state-changing command takes."""
    return account_option(func)


def doc_options(func: F) -> F:
    """`--doc FILE` / `--doc-hash HASH`: a document anchored by its keccak256 hash."""
    func = click.option(
        "--doc-hash",
        type=DOC_HASH,
        metavar="0xHASH",
        help="Anchor this hash (0x + 64 hex) instead of --doc.",
    )(func)
    return click.option(
        "--doc",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Anchor the keccak256 hash of this document (the file stays with you).",
    )(func)


def document_hash(doc: Path | None, doc_hash: str | None) -> str:
    """--doc FILE (hashed here, streamed) or --doc-hash 0x…; the zero hash when neither."""
    from provenance.encoding import ZERO32, hash_file
    from provenance.exceptions import InvalidInput

    if doc is not None and doc_hash:
        raise InvalidInput("give either --doc FILE or --doc-hash HASH, not both")
    if doc is not None:
        return hash_file(doc)
    return doc_hash or ZERO32
