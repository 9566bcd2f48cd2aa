"""A calendar feed as RFC 5545 text, built with the `icalendar` library.

Each shift is one event in UTC. Its UID is stable for the same schedule, person and
start, so a calendar that re-reads the feed updates events instead of duplicating them;
a shift whose end moves (an override) keeps its UID and shows the new end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from bot.domain.calendar import CalendarShift

PRODID = "-//Tocsin//On-call schedules//EN"
REFRESH = timedelta(minutes=15)  # how often a calendar should re-read the feed


def ics(title: str, shifts: Sequence[CalendarShift], now: datetime, *, per_person: bool) -> bytes:
    """The feed: a VCALENDAR named `title` with one VEVENT per shift. A person's feed
    titles events by schedule, a schedule's by person."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")  # the same, for Outlook and Google
    for shift in shifts:
        event = Event()
        event.add("uid", f"{shift.schedule}.{shift.user}.{shift.start:%Y%m%dT%H%M%SZ}@tocsin")
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        what = f"On call: {shift.schedule}" if per_person else f"{shift.user} on call"
        event.add("summary", what)
        event.add(
            "description",
            f"{shift.user} is on call for schedule {shift.schedule} "
            f"(its times are kept in {shift.timezone}).",
        )
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
