"""The calendar feeds `tocsin web` serves: `GET /calendar/<schedule>.ics?token=…` and
`GET /calendar/person/<id>.ics?token=…`, 90 days ahead, with the changes made from Slack.

Every refusal is the same 404 (no secret set, a wrong or missing token, an unknown
schedule), so the answers give away neither which schedules exist nor whether a token
was close.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from bot import clock
from bot.domain import calendar
from bot.domain.calendar import Feed
from bot.domain.catalog import Catalog
from bot.render.calendar import ics

CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = CONTENT_TYPE


NOT_FOUND = Answer(404, b'{"ok": false, "error": "not_found"}', "application/json")


def feed_url(base: str, secret: str, feed: Feed) -> str:
    """The address of a feed, token included: whoever holds it can read the feed."""
    return f"{base.rstrip('/')}{feed.path}?{urlencode({'token': calendar.token(secret, feed)})}"


class CalendarFeeds:
    def __init__(self, catalog: Callable[[], Catalog], secret: str | None) -> None:
        self.catalog, self.secret = catalog, secret

    def answer(self, path: str, query: str) -> Answer:
        feed = calendar.parse_path(path)
        given = parse_qs(query).get("token", [""])[0]
        if feed is None or self.secret is None:
            return NOT_FOUND
        if not calendar.token_matches(self.secret, feed, given):
            return NOT_FOUND
        now = clock.now()
        shifts = calendar.feed_shifts(self.catalog(), feed, now)
        if shifts is None:
            return NOT_FOUND
        person = feed.kind == "person"
        title = f"On call: {feed.name}" if person else f"On call: schedule {feed.name}"
        return Answer(200, ics(title, shifts, now, per_person=person))
