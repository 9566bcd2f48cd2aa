"""The one clock seam: every read of the current time in Tocsin goes through `now()`.

Domain code never calls this; it receives `now` as an argument. Tests freeze time with
freezegun (which patches `datetime`), so no second seam is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, UTC-aware."""
    return datetime.now(UTC)


def now_ts() -> float:
    """The current instant as POSIX seconds."""
    return now().timestamp()
