"""Calendar feeds of who is on call: which feed a path names, its unguessable token, and
the shifts it holds.

Pure: the secret and the instant are passed in. A feed is `schedule:<name>` or
`person:<user>`; its token is an HMAC-SHA256 of the feed's name keyed with the secret, so
each feed has its own, a token gives away no other feed, and nothing needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.domain.catalog import Catalog
from bot.domain.schedule import shifts

AHEAD = timedelta(days=90)
TOKEN_HEX = 32  # 128 bits of the HMAC
_PREFIX = "/calendar/"
_PERSON = "person/"


@dataclass(frozen=True)
class Feed:
    kind: str  # "schedule" or "person"
    name: str  # the schedule's name or the person's id

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def path(self) -> str:
        middle = _PERSON if self.kind == "person" else ""
        return f"{_PREFIX}{middle}{quote(self.name, safe='')}.ics"


@dataclass(frozen=True)
class CalendarShift:
    """One stretch on call as a calendar event."""

    schedule: str
    user: str
    start: datetime
    end: datetime
    timezone: str


def token(secret: str, feed: Feed) -> str:
    digest = hmac.new(secret.encode(), f"tocsin-calendar:{feed.key}".encode(), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_HEX]


def token_matches(secret: str, feed: Feed, given: str) -> bool:
    return hmac.compare_digest(token(secret, feed).encode(), given.encode())


def parse_path(path: str) -> Feed | None:
    """The feed `/calendar/<schedule>.ics` or `/calendar/person/<id>.ics` names, or None.

    `path` is decoded already (WSGI's PATH_INFO), so the name is taken as it stands."""
    if not path.startswith(_PREFIX) or not path.endswith(".ics"):
        return None
    rest = path[len(_PREFIX) : -len(".ics")]
    kind = "schedule"
    if rest.startswith(_PERSON):
        kind, rest = "person", rest[len(_PERSON) :]
    name = rest
    if not name or "/" in name:
        return None
    return Feed(kind, name)


def feed_shifts(catalog: Catalog, feed: Feed, start: datetime) -> list[CalendarShift] | None:
    """The shifts of the feed from `start` to AHEAD later, by start; None for a schedule
    that does not exist. A person's feed gathers their shifts on every schedule."""
    if feed.kind == "schedule":
        if feed.name not in catalog.schedules:
            return None
        names = [feed.name]
    else:
        names = sorted(catalog.schedules)
    found = [
        CalendarShift(name, s.user, s.start, s.end, catalog.schedules[name].timezone)
        for name in names
        for s in shifts(catalog.schedules[name], start, start + AHEAD)
        if feed.kind == "schedule" or s.user == feed.name
    ]
    return sorted(found, key=lambda c: (c.start, c.schedule, c.user))
