"""Calendar feeds: the paths they answer, their tokens, and the secret they need."""

from __future__ import annotations

import pytest

from bot.config.settings import Settings, SettingsError
from bot.domain.calendar import Feed, parse_path, token, token_matches

SECRET = "s" * 32


@pytest.mark.parametrize(
    ("path", "feed"),
    [
        ("/calendar/payments-primary.ics", Feed("schedule", "payments-primary")),
        ("/calendar/person/U0DAVE001.ics", Feed("person", "U0DAVE001")),
        ("/calendar/person.ics", Feed("schedule", "person")),
        ("/calendar/.ics", None),
        ("/calendar/a/b.ics", None),
        ("/calendar/payments-primary", None),
        ("/calendars/payments-primary.ics", None),
    ],
)
def test_a_path_names_one_feed_or_none(path: str, feed: Feed | None) -> None:
    assert parse_path(path) == feed
    if feed is not None:
        assert parse_path(feed.path) == feed


def test_each_feed_has_its_own_token_under_each_secret() -> None:
    schedule, person = Feed("schedule", "U0DAVE001"), Feed("person", "U0DAVE001")
    assert token(SECRET, schedule) != token(SECRET, person)
    assert token(SECRET, schedule) != token("t" * 32, schedule)
    assert len(token(SECRET, schedule)) == 32
    assert token_matches(SECRET, schedule, token(SECRET, schedule))
    assert not token_matches(SECRET, schedule, token(SECRET, person))
    assert not token_matches(SECRET, schedule, "")


def test_a_short_calendar_secret_is_refused_and_never_shown() -> None:
    with pytest.raises(SettingsError, match="at least 32 random characters") as caught:
        Settings.from_env({"TOCSIN_CALENDAR_SECRET": "hunter2"})
    assert "hunter2" not in str(caught.value)
    settings = Settings.from_env({"TOCSIN_CALENDAR_SECRET": SECRET})
    assert SECRET not in repr(settings)
