"""A schedule from an iCalendar feed over the real stack: the worker reads the file, paging
and `/incident oncall` see its events' people; when the feed breaks, the last good copy
stays in force, /readyz says so and the schedule's channel is told once."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, texts
from tests.e2e.test_oncall_changes import shown


def feed(now: datetime) -> str:
    start, end = now - timedelta(hours=1), now + timedelta(days=2)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:cover@test\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:On call\r\nATTENDEE:mailto:dave@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return {
        "oncall.ics": feed(datetime.now(UTC)),
        "schedules.yaml": """\
schedules:
  checkout-primary:
    timezone: UTC
    handoff_channel: C0INCIDENTS
    source: {ics: oncall.ics, refresh: 1s}
""",
    }


def readyz(stack: Stack) -> dict[str, object]:
    try:
        with urllib.request.urlopen(stack.url + "/readyz", timeout=5) as response:  # noqa: S310
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read()))


def test_a_feed_schedule_pages_its_people_and_keeps_its_last_good_copy(stack: Stack) -> None:
    wait_for(lambda: "dave@example.com" in shown(stack, "oncall checkout-primary"))
    assert readyz(stack)["calendars"] == {"checkout-primary": "ok"}
    declare(stack)  # the policy's step 1 is schedule:checkout-primary -> dave, by email
    assert wait_for(lambda: [t for t in dm_texts(stack, "U0DAVE001") if "You are paged" in t])

    (Path(stack.env["TOCSIN_CONFIG_DIR"]) / "oncall.ics").write_text("<html>Sign in</html>")
    failing = wait_for(lambda: readyz(stack)["calendars"]["checkout-primary"].startswith("failing"))
    assert failing
    status = readyz(stack)["calendars"]["checkout-primary"]
    assert "is not iCalendar" in status
    assert "keeping the last good copy" in status
    told = wait_for(lambda: [t for t in texts(stack, "C0INCIDENTS") if "calendar feed" in t])
    assert "Could not read the calendar feed of *checkout-primary*" in told[0]
    assert "keeping the copy read" in told[0]
    assert "dave@example.com" in shown(stack, "oncall checkout-primary")
    assert len([t for t in texts(stack, "C0INCIDENTS") if "calendar feed" in t]) == 1
