"""Durations written like `90s`, `5m`, `1h30m`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class DurationError(ValueError):
    """A text that is not a duration."""


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m` into a timedelta; raise DurationError naming the text otherwise."""
    raw = text.strip() if isinstance(text, str) else ""
    match = _DURATION.match(raw)
    if not raw or match is None or not any(match.groups()):
        raise DurationError(f"{text!r} is not a duration like 90s, 5m, 1h30m")
    seconds = sum(
        int(value) * _UNITS[unit]
        for value, unit in zip(match.groups(), "wdhms", strict=True)
        if value is not None
    )
    if seconds <= 0:
        raise DurationError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta | float) -> str:
    """Render seconds compactly: 5400 -> `1h30m`, 0 -> `0s`."""
    total = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit in "dhms":
        size = _UNITS[unit]
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return sign + "".join(parts)
