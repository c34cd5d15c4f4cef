"""Addresses, 32-byte words, unsigned ints and document hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from provenance.encoding import (
    Address,
    bytes32_to_text,
    did_pkh,
    hash_file,
    parse_uint,
    required_text32,
    text_to_bytes32,
    validate_address,
)
from provenance.exceptions import InvalidInput

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("0x123", "40 hex digits"),
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "bad checksum"),
        ("0x" + "0" * 40, "zero address"),
    ],
)
def test_validate_address_errors(bad: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_address(bad)


def test_validate_address_checksums_lowercase() -> None:
    assert validate_address(A.lower()) == A
    assert did_pkh(31337, A.lower()) == f"did:pkh:eip155:31337:{A}"


def test_hash_file_is_keccak256(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(b"hello")
    assert hash_file(path) == "0x" + keccak(b"hello").hex()
    with pytest.raises(InvalidInput, match="cannot read document"):
        hash_file(tmp_path / "missing")


def test_text_to_bytes32_round_trip() -> None:
    assert bytes32_to_text(text_to_bytes32("organic")) == "organic"
    h = "0x" + "ab" * 32
    assert text_to_bytes32(h) == h
    with pytest.raises(InvalidInput, match="at most 32"):
        text_to_bytes32("x" * 33)


def test_a_checksummed_address_without_0x_is_told_so() -> None:
    bare = A[2:]
    with pytest.raises(InvalidInput, match=f"the 0x prefix is missing \\(did you mean 0x{bare}"):
        Address(bare, "recipient")


@pytest.mark.parametrize(("text", "bits"), [(str(2**300), 256), ("2**300", 256), ("1e23", 32),
                                            (str(2**64), 64), ("-1", 8)])  # fmt: skip
def test_numbers_beyond_their_abi_type_are_refused_in_one_line(text: str, bits: int) -> None:
    with pytest.raises(InvalidInput, match=f"--salt .*2\\^{bits}-1") as info:
        parse_uint(text, bits, "--salt")
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize("empty", ["", "   ", None, "0x" + "00" * 32])
def test_a_required_text_is_not_empty(empty: str | None) -> None:
    with pytest.raises(InvalidInput, match="the recall reason must not be"):
        required_text32(empty, "the recall reason")


def test_hash_file_streams_instead_of_reading_the_file_whole(tmp_path: Path) -> None:
    import tracemalloc

    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(256 * 1024 * 1024)  # sparse: 256 MB of zeros, no disk used
    tracemalloc.start()
    digest = hash_file(big)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"hashing held {peak} bytes at once"
    assert digest == "0x" + keccak(b"\0" * (256 * 1024 * 1024)).hex()
