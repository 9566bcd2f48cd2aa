"""Calendar feeds over the real stack: `tocsin calendar url` prints the address, `tocsin
web` serves RFC 5545 that icalendar parses back, with an override made from Slack in it;
a wrong token gets the same 404 as an unknown schedule."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.domain.calendar import Feed, token
from tests.e2e.support import ROOT, Stack
from tests.e2e.test_oncall_changes import ALICE, BOB, DAVE, today_alice_tomorrow_bob

SECRET = "calendar-secret-for-the-e2e-tests-0123456789"


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {"TOCSIN_CALENDAR_SECRET": SECRET}


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return today_alice_tomorrow_bob()


def feed_url(stack: Stack, *which: str) -> str:
    env = {**os.environ, "TOCSIN_CALENDAR_SECRET": SECRET}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "calendar",
            "url",
            *which,
            "--base-url",
            stack.url,
            "--config-dir",
            str(Path(stack.env["TOCSIN_CONFIG_DIR"])),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local stack
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def events(body: bytes) -> list[tuple[str, datetime, datetime]]:
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Tocsin//")
    found = []
    for event in calendar.walk("VEVENT"):
        assert event["UID"]
        assert event["DTSTAMP"]
        found.append((str(event["SUMMARY"]), event["DTSTART"].dt, event["DTEND"].dt))
    return found


def test_a_schedule_and_a_person_feed_hold_the_next_90_days_with_an_override(
    stack: Stack,
) -> None:
    """Dave covers 06:00-12:00 tomorrow from Slack: the schedule's feed splits Bob's day
    round him and runs 90 days; Dave's own feed holds just that cover."""
    tomorrow = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(1)
    day = f"{tomorrow:%Y-%m-%d}"
    made = stack.driver().slash(
        ALICE, f"oncall override checkout-primary <@{DAVE}> {day} 06:00 {day} 12:00"
    )
    assert "changed: `o1`" in made.text, made.text

    status, kind, body = fetch(feed_url(stack, "checkout-primary"))
    assert (status, kind) == (200, "text/calendar; charset=utf-8")
    shifts = events(body)
    hours = timedelta(hours=1)
    assert [s for s in shifts if tomorrow <= s[1] < tomorrow + 24 * hours] == [
        (f"{BOB} on call", tomorrow, tomorrow + 6 * hours),
        (f"{DAVE} on call", tomorrow + 6 * hours, tomorrow + 12 * hours),
        (f"{BOB} on call", tomorrow + 12 * hours, tomorrow + 24 * hours),
    ]
    assert shifts[0][0] == f"{ALICE} on call"
    assert shifts[-1][2] - shifts[0][1] == timedelta(days=90)

    status, _, body = fetch(feed_url(stack, "--person", DAVE))
    assert status == 200
    assert events(body) == [
        ("On call: checkout-primary", tomorrow + 6 * hours, tomorrow + 12 * hours)
    ]


def test_a_wrong_token_and_an_unknown_schedule_get_the_same_404(stack: Stack) -> None:
    """A token opens only its own feed; a valid token of a schedule that does not exist
    answers as a bad token does."""
    url = feed_url(stack, "checkout-primary")
    assert fetch(url)[0] == 200
    other_feed = url.replace("/calendar/checkout-primary.ics", f"/calendar/person/{DAVE}.ics")
    wrong = url[:-1] + ("0" if url[-1] != "0" else "1")
    missing = url.split("?")[0]
    unknown = feed_url_of(stack, Feed("schedule", "nosuch"))
    answers = {fetch(u) for u in (other_feed, wrong, missing, unknown)}
    assert answers == {(404, "application/json", b'{"ok": false, "error": "not_found"}')}


def feed_url_of(stack: Stack, feed: Feed) -> str:
    return f"{stack.url}{feed.path}?token={token(SECRET, feed)}"
