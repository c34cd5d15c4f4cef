"""Moments and durations: what a user types, checked against a sane range, and how any on-chain
value is shown.

A `Moment` is a unix time in seconds between 2000-01-01 and 2200-01-01 (UTC): a deadline or a
validity end beyond that is a mistake — most often milliseconds typed where seconds were meant
(`1830000000000` is the year 59960) — and is refused with that reason. The chain may still hold
any `uint64` written by another client, so `format_time` renders every integer without failing.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from provenance.exceptions import InvalidInput

MIN_MOMENT = 946_684_800  # 2000-01-01T00:00:00Z
MAX_MOMENT = 7_258_118_400  # 2200-01-01T00:00:00Z
MAX_UINT32 = 2**32 - 1
MAX_UINT48 = 2**48 - 1
DAY = 24 * 3600
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
FORMS = (
    "a unix time in seconds, an ISO date (2026-05-01 or 2026-05-01T12:00), `now`, or +N[s|m|h|d|w]"
)


def format_time(ts: int | None) -> str:
    """`2026-05-01 12:00:00Z` for a unix time; any other integer (0, negative, beyond year 9999)
    as the number itself — a reader never fails on what the chain holds."""
    if not ts:
        return "-"
    try:
        return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{int(ts)} (unix time out of range)"


class Moment(int):
    """A unix time (seconds) between 2000-01-01 and 2200-01-01 UTC."""

    def __new__(cls, value: int, what: str = "time") -> Moment:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"invalid {what} {value!r}: expected a unix time in seconds")
        if not MIN_MOMENT <= value <= MAX_MOMENT:
            raise InvalidInput(_out_of_range(value, what))
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, text: str, what: str = "time", *, now: int | None = None) -> Moment:
        """`now`, `+30d` (relative to `now`, default the clock), a unix time or an ISO date/time
        (UTC unless it names a zone)."""
        clean = text.strip() if isinstance(text, str) else ""
        current = int(time.time()) if now is None else now
        if clean == "now":
            return cls(current, what)
        match = re.fullmatch(r"\+\s*([0-9]+)\s*([smhdw])", clean)
        if match:
            return cls(current + int(match.group(1)) * _UNIT_SECONDS[match.group(2)], what)
        if clean.isascii() and clean.isdigit():
            return cls(int(clean), what)
        try:
            parsed = dt.datetime.fromisoformat(clean) if clean.isascii() else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidInput(f"invalid {what} {text!r}: use {FORMS}")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return cls(int(parsed.timestamp()), what)


def _out_of_range(value: int, what: str) -> str:
    hint = ""
    if MIN_MOMENT * 1000 <= value <= MAX_MOMENT * 1000:
        seconds = value // 1000
        hint = f" — milliseconds? {value} ms is {seconds} ({format_time(seconds)})"
    shown = format_time(value) if value > 0 else "before 1970"
    return (
        f"invalid {what} {value}: outside 2000-01-01 … 2200-01-01 (it is {shown}); give a unix "
        f"time in seconds{hint}"
    )


class Duration(int):
    """A number of seconds, typed as `3600`, `90s`, `15m`, `12h`, `2d` or `1w`; at most
    `max_seconds` (2^32-1 for the agreements' periods)."""

    def __new__(
        cls, value: int, what: str = "duration", *, max_seconds: int = MAX_UINT32
    ) -> Duration:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"invalid {what} {value!r}: expected seconds (0 or more)")
        if value > max_seconds:
            raise InvalidInput(
                f"invalid {what} {value} s: at most {max_seconds} s "
                f"({max_seconds // (365 * DAY)} years)"
            )
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, text: str, what: str = "duration", *, max_seconds: int = MAX_UINT32) -> Duration:
        match = re.fullmatch(r"\s*([0-9]+)\s*([smhdw]?)\s*", text.lower()) if text else None
        if not match:
            raise InvalidInput(
                f"invalid {what} {text!r}: use seconds or a whole number with s, m, h, d or w "
                "(e.g. 90s, 12h, 2d)"
            )
        return cls(
            int(match.group(1)) * _UNIT_SECONDS[match.group(2)], what, max_seconds=max_seconds
        )
