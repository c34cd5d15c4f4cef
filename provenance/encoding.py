"""How values travel to and from the contracts: addresses, 32-byte words, hashes, unsigned ints.

Conventions used throughout the library:

- a `bytes32` value (batch id, document hash, claim, reason) travels as a ``0x``-prefixed,
  lower-case, 64-hex-digit ``str`` (`Hex32`);
- an address travels as an `Address`: a ``str`` in checksum form, validated once;
- every validation error is an `InvalidInput` whose message says what to type instead.

Nothing here talks to a chain.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eth_utils.address import is_checksum_address, to_checksum_address
from eth_utils.crypto import keccak

from provenance.exceptions import InvalidInput

Hex32 = str
ZERO32: Hex32 = "0x" + "00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = 2**256 - 1
#: Bytes read at a time when hashing a document (it is never held in memory whole).
HASH_CHUNK = 1 << 20

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")


# ------------------------------------------------------------------------------- addresses


class Address(str):
    """An account or contract address in checksum form.

    `Address(text, what)` refuses a malformed address, a bad checksum and (unless `allow_zero`)
    the zero address, with a message naming `what` ("recipient", "--token", …).
    """

    def __new__(cls, value: str, what: str = "address", *, allow_zero: bool = False) -> Address:
        if isinstance(value, Address) and (allow_zero or int(value, 16) != 0):
            return value
        text = value.strip() if isinstance(value, str) else ""
        if not text.startswith(("0x", "0X")):
            if _HEX40.fullmatch(text):
                raise InvalidInput(
                    f"invalid {what} {value!r}: the 0x prefix is missing (did you mean 0x{text}?)"
                )
            raise InvalidInput(f"invalid {what} {value!r}: expected 0x followed by 40 hex digits")
        digits = text[2:]
        if not _HEX40.fullmatch(digits):
            raise InvalidInput(f"invalid {what} {value!r}: expected 0x followed by 40 hex digits")
        if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text):
            raise InvalidInput(
                f"invalid {what} {value!r}: bad checksum (mistyped?); expected "
                f"{to_checksum_address(text)} if the digits are right"
            )
        checksum = str(to_checksum_address("0x" + digits))
        if not allow_zero and int(checksum, 16) == 0:
            raise InvalidInput(f"invalid {what}: the zero address is not allowed")
        return super().__new__(cls, checksum)


def validate_address(value: str, what: str = "address", *, allow_zero: bool = False) -> Address:
    """`Address(value, what, allow_zero=…)`: the checksum form, or `InvalidInput`."""
    return Address(value, what, allow_zero=allow_zero)


def did_pkh(chain_id: int, address: str) -> str:
    """`did:pkh:eip155:<chainId>:<address>` (CAIP-10 account id as a DID)."""
    return f"did:pkh:eip155:{chain_id}:{Address(address)}"


# -------------------------------------------------------------------------- unsigned ints


def uint(value: int, bits: int, what: str) -> int:
    """`value` if it fits an unsigned `bits`-bit integer, else `InvalidInput` naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"invalid {what} {value!r}: expected a whole number")
    if not 0 <= value < 2**bits:
        raise InvalidInput(f"invalid {what} {value}: expected a whole number 0..2^{bits}-1")
    return value


def parse_uint(text: str, bits: int, what: str) -> int:
    """A whole number typed in ASCII digits (`2**300` and `1e23` are not numbers here)."""
    clean = text.strip().replace("_", "")
    if not clean.isascii() or not clean.isdigit():
        raise InvalidInput(
            f"invalid {what} {text!r}: expected a whole number in digits 0-9 (at most 2^{bits}-1)"
        )
    return uint(int(clean), bits, what)


# ------------------------------------------------------------------------------ 32-byte words


def to_bytes(value: bytes | str) -> bytes:
    """Bytes, or a 0x hex string as bytes."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = value[2:] if value.startswith(("0x", "0X")) else value
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidInput(f"invalid hex value {value!r}") from exc


def to_hex32(value: bytes | str | int) -> Hex32:
    """Normalise a 32-byte value (bytes, 0x hex or int) to lower-case 0x hex."""
    if isinstance(value, int):
        return "0x" + uint(value, 256, "32-byte value").to_bytes(32, "big").hex()
    raw = to_bytes(value)
    if len(raw) != 32:
        raise InvalidInput(f"expected 32 bytes, got {len(raw)}: {value!r}")
    return "0x" + raw.hex()


def b32(value: bytes | str) -> bytes:
    """A 32-byte value (bytes or 0x hex) as the `bytes` web3 takes for a `bytes32` argument."""
    return bytes.fromhex(to_hex32(value)[2:])


def text_to_bytes32(value: str | bytes | None, what: str = "text") -> Hex32:
    """For reasons, claims and other short codes: a 0x 32-byte hex passes through, any other
    text of at most 32 UTF-8 bytes is stored left-aligned (like Solidity's `bytes32("...")`)."""
    if value is None or value == "" or value == b"":
        return ZERO32
    if isinstance(value, bytes):
        return to_hex32(value) if len(value) == 32 else text_to_bytes32(value.decode(), what)
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        return value.lower()
    raw = value.encode("utf-8")
    if len(raw) > 32:
        raise InvalidInput(
            f"{what} {value!r} is {len(raw)} bytes; at most 32 fit in a bytes32 "
            "(or pass a 0x-prefixed 32-byte hash)"
        )
    return "0x" + raw.ljust(32, b"\0").hex()


def required_text32(value: str | None, what: str) -> Hex32:
    """Like `text_to_bytes32`, but empty (or all-zero) is refused: a claim, a recall reason."""
    if value is None or not value.strip():
        raise InvalidInput(f"{what} must not be empty: say what it is (up to 32 bytes of text)")
    encoded = text_to_bytes32(value, what)
    if int(encoded, 16) == 0:
        raise InvalidInput(f"{what} must not be the zero hash")
    return encoded


def bytes32_to_text(value: bytes | str) -> str:
    """Show a bytes32: its text when it is left-aligned printable ASCII, else its hex."""
    raw = to_bytes(value)
    text = raw.rstrip(b"\0")
    if text and b"\0" not in text and all(32 <= b < 127 for b in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


def short_hex(value: bytes | str) -> str:
    """0x12ab…cdef for logs and messages."""
    text = value if isinstance(value, str) else "0x" + value.hex()
    return text if len(text) <= 14 else f"{text[:6]}…{text[-4:]}"


# ------------------------------------------------------------------------------------ hashes


def keccak_hex(data: bytes) -> Hex32:
    return to_hex32(keccak(data))


def hash_file(path: str | Path) -> Hex32:
    """Document hash used on chain: **keccak256** of the file's bytes (not SHA-256), as 0x hex.

    The file is read in chunks of `HASH_CHUNK` bytes, so its size does not matter. keccak256 is
    what Solidity and every EVM tool compute natively, so anyone can re-check a document hash on
    chain or with `cast keccak`.
    """
    from Crypto.Hash import keccak as streaming  # pycryptodome: eth-hash's own keeps every chunk

    state: Any = streaming.new(digest_bits=256)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                state.update(chunk)
    except OSError as exc:
        raise InvalidInput(f"cannot read document {path}: {exc.strerror or exc}") from exc
    return "0x" + bytes(state.digest()).hex()


def document_hash(value: str, what: str = "--doc-hash") -> Hex32:
    """A document hash typed by a user: 0x + 64 hex digits."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", value.strip()):
        raise InvalidInput(
            f"invalid {what} {value!r}: expected 0x + 64 hex digits "
            "(see `provenance docs hash FILE`)"
        )
    return value.strip().lower()


def address_subject(address: str) -> Hex32:
    """An account as an attestation subject: `bytes32(uint256(uint160(account)))`."""
    return to_hex32(int(Address(address), 16))


def attestation_id(subject: str, claim: str, issuer: str, evidence: str) -> Hex32:
    """`keccak256(abi.encode(subject, claim, issuer, evidence))`."""
    from eth_abi.abi import encode as abi_encode

    return keccak_hex(
        abi_encode(
            ["bytes32", "bytes32", "address", "bytes32"],
            [to_bytes(subject), to_bytes(claim), Address(issuer), to_bytes(evidence)],
        )
    )
