"""Schedules from an iCalendar feed: reading the feed (an http(s) URL or a file) and
expanding its events into stretches on call with `recurring-ical-events` (RRULE, RDATE,
EXDATE, edited instances via RECURRENCE-ID, and each event's own zone across DST).

An event puts its attendees on call (their `mailto:` emails); without attendees, the
emails in its summary. An event with neither names nobody and is left out.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from bot.domain.schedule import Override

TIMEOUT_S = 10.0
MAX_BYTES = 5 * 1024 * 1024  # a feed larger than this is refused, not read into memory
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class FeedError(Exception):
    """The feed cannot be read or parsed; the message says why, for people."""


def read(source: str, base: Path) -> str:
    """The feed's text: an http(s) URL, or a file path (relative to the config directory)."""
    try:
        if source.startswith(("http://", "https://")):
            request = urllib.request.Request(source, headers={"User-Agent": "tocsin"})  # noqa: S310 - http(s) only
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                data: bytes = response.read(MAX_BYTES + 1)
        else:
            path = Path(source) if Path(source).is_absolute() else base / source
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FeedError(f"cannot read {source}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise FeedError(f"{source} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    text = data.decode("utf-8", errors="replace")
    parse(text, source)  # a feed that does not parse is a failed read: keep the last good one
    return text


def parse(text: str, source: str = "the feed") -> Calendar:
    try:
        return Calendar.from_ical(text)
    except ValueError as exc:
        raise FeedError(f"{source} is not iCalendar: {exc}") from None


def _instant(value: datetime | date, zone: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: read in the schedule's zone
            value = value.replace(tzinfo=ZoneInfo(zone))
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), ZoneInfo(zone)).astimezone(UTC)


def _people(event: object) -> list[str]:
    attendees = event.get("ATTENDEE")  # type: ignore[attr-defined]
    if attendees is not None:
        listed = attendees if isinstance(attendees, list) else [attendees]
        found = [str(a).removeprefix("mailto:").removeprefix("MAILTO:") for a in listed]
        return [f.lower() for f in found if _EMAIL.fullmatch(f)]
    return [m.lower() for m in _EMAIL.findall(str(event.get("SUMMARY", "")))]  # type: ignore[attr-defined]


def stretches(text: str, zone: str, start: datetime, end: datetime) -> tuple[Override, ...]:
    """Who the feed puts on call between `start` and `end`, as UTC spans."""
    calendar = parse(text)
    found: list[Override] = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        begins = event.get("DTSTART")
        if begins is None:
            continue
        opens = _instant(begins.dt, zone)
        if event.get("DTEND") is not None:
            closes = _instant(event["DTEND"].dt, zone)
        elif event.get("DURATION") is not None:
            closes = opens + event["DURATION"].dt
        else:
            closes = opens + (
                timedelta(days=1) if not isinstance(begins.dt, datetime) else timedelta(0)
            )
        if closes <= opens:
            continue
        found += [Override(person, opens, closes) for person in _people(event)]
    return tuple(sorted(found, key=lambda o: (o.start, o.user)))
