"""Moments in a sane range (milliseconds where seconds were meant are refused) and durations;
any on-chain time renders without failing."""

from __future__ import annotations

import pytest

from provenance.exceptions import InvalidInput
from provenance.times import MAX_MOMENT, Duration, Moment, format_time

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("now", NOW),
        ("+30d", NOW + 30 * 86400),
        ("+ 2h", NOW + 7200),
        ("1830000000", 1830000000),
        ("2026-05-01", 1777593600),
        ("2026-05-01T12:00", 1777636800),
        ("2026-05-01T12:00+02:00", 1777629600),
    ],
)
def test_moments(text: str, value: int) -> None:
    assert Moment.parse(text, "--deadline", now=NOW) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1830000000000", r"milliseconds\? 1830000000000 ms is 1830000000 \(2027-12-28"),
        ("99999999999999999999", "outside 2000-01-01 … 2200-01-01"),
        ("+100000d", "outside 2000-01-01"),
        ("0", "outside 2000-01-01"),
        ("1999-12-31", "outside 2000-01-01"),
        ("soon", "use a unix time in seconds"),
        ("١٨٣٠٠٠٠٠٠٠", "use a unix time in seconds"),
    ],
)
def test_absurd_moments_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"invalid --valid-until.*{message}"):
        Moment.parse(text, "--valid-until", now=NOW)


@pytest.mark.parametrize("value", [0, 1, 1830000000000, 2**64 - 1, MAX_MOMENT + 1, 10**30, -5])
def test_format_time_renders_every_integer(value: int) -> None:
    shown = format_time(value)
    assert shown == "-" if value == 0 else str(value) in shown or shown.endswith("Z")


def test_format_time_of_a_far_future_says_so() -> None:
    assert format_time(1830000000000) == "1830000000000 (unix time out of range)"
    assert format_time(1830000000) == "2027-12-28 13:20:00Z"


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("00", 0), ("90s", 90), ("15m", 900), ("2d", 172800),
                          ("1w", 604800), (" 12H ", 43200)],
)  # fmt: skip
def test_durations(text: str, seconds: int) -> None:
    assert Duration.parse(text, "--grace") == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [("1e23", "use seconds or a whole number"), ("-1", "use seconds"),
     (str(10**23), "at most 4294967295 s"), ("50000w", "at most 4294967295 s"), ("", "use")],
)  # fmt: skip
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"invalid --arbiter-timeout .*{message}"):
        Duration.parse(text, "--arbiter-timeout")
