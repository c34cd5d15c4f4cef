"""Money as exact integers: amounts in wei, basis points.

An amount is parsed digit by digit into an integer number of wei — no float, no `Decimal`
context — so `12345678901234567890123456789wei` stays exactly that, and an amount a contract
cannot hold (more than 2^256-1 wei) or a fraction of a wei is refused with its reason.
"""

from __future__ import annotations

import re

from provenance.exceptions import InvalidInput

MAX_UINT256 = 2**256 - 1
WEI_PER_ETH = 10**18
BPS = 10_000
#: unit → number of decimals it has in wei (a bare number is ether).
_UNITS = {"eth": 18, "ether": 18, "gwei": 9, "wei": 0, "": 18}
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?\s*(eth|ether|gwei|wei)?")
_FORMS = "use e.g. 1.5eth, 20gwei or 1000wei (a bare number is ether)"


class Amount(int):
    """An amount of wei: 0..2^256-1. `Amount.parse("1.5eth", "--price")` reads what a user
    typed; `Amount(wei)` checks an integer."""

    def __new__(cls, wei: int, what: str = "amount") -> Amount:
        if isinstance(wei, bool) or not isinstance(wei, int):
            raise InvalidInput(f"invalid {what} {wei!r}: expected a whole number of wei")
        if wei < 0:
            raise InvalidInput(f"invalid {what} {wei}: an amount cannot be negative")
        if wei > MAX_UINT256:
            raise InvalidInput(
                f"invalid {what}: {wei} wei is more than 2^256-1 wei, the most a contract can hold"
            )
        return super().__new__(cls, wei)

    @classmethod
    def parse(cls, text: str, what: str = "amount") -> Amount:
        match = _AMOUNT.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if match is None:
            raise InvalidInput(f"invalid {what} {text!r}: {_FORMS}")
        whole, fraction, unit = match.group(1), match.group(2) or "", match.group(3) or ""
        decimals = _UNITS[unit]
        fraction = fraction.rstrip("0")
        if len(fraction) > decimals:
            if decimals == 0:
                raise InvalidInput(
                    f"invalid {what} {text!r}: 1 wei is the smallest amount (no fraction of it)"
                )
            name = unit or "eth"
            raise InvalidInput(
                f"invalid {what} {text!r}: {len(fraction)} decimal places, but an amount in "
                f"{name} has at most {decimals} (1 wei = 0.{'0' * (decimals - 1)}1 {name})"
            )
        wei = int(whole) * 10**decimals + (int(fraction.ljust(decimals, "0")) if fraction else 0)
        if wei > MAX_UINT256:
            raise InvalidInput(
                f"invalid {what} {text!r}: more than 2^256-1 wei, the most a contract can hold"
            )
        return cls(wei, what)


def format_eth(wei: int) -> str:
    """`1.5 ETH`, `0 ETH`, `0.000000000000000001 ETH`: wei as ether, exactly, without trailing
    zeros."""
    sign = "-" if wei < 0 else ""
    whole, rest = divmod(abs(int(wei)), WEI_PER_ETH)
    fraction = f"{rest:018d}".rstrip("0")
    return f"{sign}{whole}{'.' + fraction if fraction else ''} ETH"


class Bps(int):
    """Basis points 0..10,000 (100 %). `Bps.parse("1.5%")`, `Bps.parse("150")`,
    `Bps.parse("150bps")`."""

    def __new__(cls, value: int, what: str = "basis points") -> Bps:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BPS:
            raise InvalidInput(f"invalid {what} {value!r}: a whole number 0..10000 (100%)")
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, text: str, what: str = "basis points") -> Bps:
        match = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?\s*(%|bps)?\s*", text.lower())
        if not match:
            raise InvalidInput(
                f"invalid {what} {text!r}: use basis points (150) or a percentage (1.5%)"
            )
        whole, fraction, unit = match.group(1), (match.group(2) or "").rstrip("0"), match.group(3)
        decimals = 2 if unit == "%" else 0
        if len(fraction) > decimals:
            raise InvalidInput(
                f"invalid {what} {text!r}: a whole number of basis points (0.01% each)"
            )
        value = int(whole) * 10**decimals + (int(fraction.ljust(decimals, "0")) if fraction else 0)
        if value > BPS:
            raise InvalidInput(
                f"invalid {what} {text!r}: a whole number of basis points, at most 10000 (100%)"
            )
        return cls(value, what)
