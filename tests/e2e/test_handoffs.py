"""Handoffs over the real stack: at a daily rotation boundary whose wall-clock time holds
across a DST change, the incoming person is DMed `remind_before` the start and the
handoff channel gets one summary naming who is off and on, the open incident the outgoing
person was paged for, and the note they left."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

from bot.state import handoffs
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, texts

ZONE = ZoneInfo("America/Chicago")
MEMBERS = ("U0ALICE01", "U0BOB0001")
LEAD = timedelta(seconds=14)  # from writing the schedule to the handoff


def last_dst_change(before: date) -> date:
    """The local day of the last change of UTC offset in ZONE before `before`."""
    day = before
    while True:
        previous = day - timedelta(days=1)
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZONE)
        noon_before = datetime(previous.year, previous.month, previous.day, 12, tzinfo=ZONE)
        if noon.utcoffset() != noon_before.utcoffset():
            return day
        day = previous


def handoff_posts(stack: Stack) -> list[dict[str, object]]:
    return [m for m in stack.emulator.transcript("C0INCIDENTS") if "Handoff on" in m["text"]]


def test_a_handoff_across_a_dst_change_is_told_once_at_its_wall_clock_time(
    stack: Stack, r: redis.Redis
) -> None:
    # The handoff is at local time T today; the rotation started at T two days before the
    # last DST change, so stepping in elapsed time would put it an hour off.
    at = (datetime.now(UTC) + LEAD).replace(microsecond=0)
    local = at.astimezone(ZONE)
    start_day = last_dst_change(local.date()) - timedelta(days=2)
    start = datetime.combine(start_day, local.time())
    turns = (local.date() - start_day).days
    incoming, outgoing = MEMBERS[turns % 2], MEMBERS[(turns - 1) % 2]
    config = Path(stack.env["TOCSIN_CONFIG_DIR"])
    (config / "schedules.yaml").write_text(f"""\
schedules:
  checkout-primary:
    timezone: America/Chicago
    handoff_channel: C0INCIDENTS
    remind_before: 7s
    rotations:
      - {{members: [{", ".join(MEMBERS)}], start: {start.isoformat()}, turn: 1d}}
""")
    driver = stack.driver()
    noted = wait_for(
        lambda: (
            (t := driver.slash(outgoing, "oncall note Watch disk on db-3 <!here>").text)
            and "Noted for the next handoff of *checkout-primary*" in t
        )
    )
    assert noted
    declare(stack)  # the policy pages checkout-primary: the outgoing person
    wait_for(lambda: [t for t in dm_texts(stack, outgoing) if "You are paged" in t])

    reminder = wait_for(lambda: [t for t in dm_texts(stack, incoming) if "You go on call" in t])
    assert f"<!date^{int(at.timestamp())}^" in reminder[0]
    post = wait_for(lambda: handoff_posts(stack), timeout=LEAD.total_seconds() + 15)[0]
    assert float(str(post["ts"])) >= at.timestamp()
    text = str(post["text"])
    assert f"*Handoff on checkout-primary* at <!date^{int(at.timestamp())}^" in text
    assert f"*Off:* <@{outgoing}>" in text
    assert f"*On:* <@{incoming}> until <!date^{int((at + timedelta(days=1)).timestamp())}^" in text
    assert "*Open incidents (1):*" in text
    assert "Checkout errors · triggered" in text
    assert f"paged <@{outgoing}> · not acknowledged" in text
    assert f"• <@{outgoing}>: Watch disk on db-3 &lt;!here&gt;" in text

    marker = handoffs.done_marker("post", int(at.timestamp()), "checkout-primary")
    assert r.get(marker) == "sent"
    member = handoffs.member("post", at, "checkout-primary")
    # A reconciler pass racing the post may arm it once more; once told it stays unarmed.
    assert wait_for(lambda: r.zscore(handoffs.DUE_KEY, member) is None)
    tomorrow = handoffs.member("post", at + timedelta(days=1), "checkout-primary")
    assert wait_for(lambda: r.zscore(handoffs.DUE_KEY, tomorrow) is not None)
    assert len(handoff_posts(stack)) == 1
    assert not [t for t in texts(stack, "C0INCIDENTS") if "Handoff on" in t][1:]
