"""Money as exact integers: amounts in wei (never through a float or a 28-digit Decimal), basis
points."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.exceptions import InvalidInput
from provenance.money import Amount, Bps, format_eth


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("12345678901234567890123456789wei", 12345678901234567890123456789),
        ("1.5eth", 15 * 10**17),
        ("1.5", 15 * 10**17),
        ("20gwei", 20 * 10**9),
        ("0.000000001gwei", 0) if False else ("0.000000001eth", 10**9),
        ("0.123456789012345678eth", 123456789012345678),
        ("1.10eth", 11 * 10**17),  # trailing zeros are not decimals that matter
        (f"{2**256 - 1}wei", 2**256 - 1),
        ("123456789012345678901234567890.123456789012345678ether",
         123456789012345678901234567890123456789012345678),
    ],
)  # fmt: skip
def test_amounts_are_exact(text: str, wei: int) -> None:
    assert Amount.parse(text) == wei


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{2**256}wei", "more than 2\\^256-1 wei"),
        ("0.1234567890123456789eth", "19 decimal places, but an amount in eth has at most 18"),
        ("1.5wei", "1 wei is the smallest amount"),
        ("0.0000000001gwei", "10 decimal places, but an amount in gwei has at most 9"),
        ("2**256 wei", "use e.g. 1.5eth"),
        ("1e18wei", "use e.g. 1.5eth"),
        ("-1eth", "use e.g. 1.5eth"),
        ("١eth", "use e.g. 1.5eth"),
    ],
)
def test_an_amount_a_contract_cannot_hold_is_refused_with_its_reason(
    text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        Amount.parse(text, "--price")


@given(st.integers(0, 2**256 - 1))
@example(12345678901234567890123456789)
@example(2**256 - 1)
def test_format_eth_and_parse_are_exact_inverses(wei: int) -> None:
    shown = format_eth(wei)
    assert Amount.parse(shown.removesuffix(" ETH")) == wei


def test_format_eth_drops_trailing_zeros() -> None:
    assert format_eth(0) == "0 ETH"
    assert format_eth(10**18) == "1 ETH"
    assert format_eth(1) == "0.000000000000000001 ETH"


@pytest.mark.parametrize(
    ("text", "bps"),
    [("150", 150), ("150bps", 150), ("1.5%", 150), ("2%", 200), ("100%", 10_000), ("0.01%", 1)],
)
def test_basis_points(text: str, bps: int) -> None:
    assert Bps.parse(text) == bps


@pytest.mark.parametrize("text", ["101%", "10001", "0.001%", "1.5", "x"])
def test_bad_basis_points(text: str) -> None:
    with pytest.raises(InvalidInput, match="--tolerance"):
        Bps.parse(text, "--tolerance")
