"""An iCalendar feed expanded into stretches on call: weekday recurrences in local time
across a DST change, an EXDATE, an edited instance, an all-day event named by summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.oncall.ics import FeedError, parse, stretches

FEED = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:daytime@test
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/Chicago:20260302T090000
DTEND;TZID=America/Chicago:20260302T170000
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
EXDATE;TZID=America/Chicago:20260310T090000
ATTENDEE;CN=Alice:mailto:Alice@Example.com
SUMMARY:Daytime on call
END:VEVENT
BEGIN:VEVENT
UID:daytime@test
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=America/Chicago:20260311T090000
DTSTART;TZID=America/Chicago:20260311T100000
DTEND;TZID=America/Chicago:20260311T180000
ATTENDEE:mailto:bob@example.com
SUMMARY:Daytime on call (Bob covers)
END:VEVENT
BEGIN:VEVENT
UID:weekend@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260314
DTEND;VALUE=DATE:20260315
SUMMARY:Weekend: carol@example.com
END:VEVENT
END:VCALENDAR
"""


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_events_expand_in_local_time_with_exdates_edits_and_all_day_events() -> None:
    spans = stretches(FEED, "America/Chicago", utc(5, 0), utc(16, 0))
    got = [(s.user, s.start, s.end) for s in spans]
    assert ("alice@example.com", utc(6, 15), utc(6, 23)) in got  # Fri, CST
    assert ("alice@example.com", utc(9, 14), utc(9, 22)) in got  # Mon after DST: CDT
    assert not [g for g in got if g[1].day == 10]  # the EXDATE
    assert ("bob@example.com", utc(11, 15), utc(11, 23)) in got  # the edited instance
    assert not [g for g in got if g[0] == "alice@example.com" and g[1].day == 11]
    assert ("carol@example.com", utc(14, 5), utc(15, 5)) in got  # all-day: a CDT day


def test_a_feed_that_is_not_icalendar_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="is not iCalendar"):
        parse("<html>Sign in</html>", "https://calendar.example/feed.ics")
