"""A private incident's title and details reach only its members (ARCHITECTURE §5.9):
not another user's App Home or `/incident list`, not an action owner's reminder, not the
channel name, not the logs or /metrics, not a redacted review (`tocsin export`, the draft)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from slack_sdk import WebClient

from tests.e2e.support import Stack, wait_for
from tests.e2e.test_channel_commands import open_view
from tests.e2e.test_declare_flow import dm_texts
from tests.e2e.test_learning import _tocsin as tocsin

ERIN, ALICE, BOB, FRANK = "U0ERIN001", "U0ALICE01", "U0BOB0001", "U0FRANK01"
TITLE = "Initech acquisition leak"
SECRET_WORD = "initech"  # in the title, the page message and the action item


@pytest.fixture
def stack_settings() -> dict[str, str]:
    """An action item's owner is reminded from midnight of its due date."""
    return {"TOCSIN_ACTION_REMIND_AT": "00:00"}


def declare_private(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Erin declares a private sev2 in the modal; (incident id, its channel) once the header is pinned."""
    driver = stack.driver()
    # Another test's incident may share the stack: this one's channel is the new one
    before = {c["id"] for c in stack.emulator.channels()}
    driver.slash(ERIN, "")
    view = open_view(stack, ERIN, "declare_incident")
    result = driver.submit_view(
        ERIN,
        view,
        {
            "title": TITLE,
            "service": "checkout",
            "users_affected": "lt5",
            "severity": "sev2",
            "private": ["private"],
            "description": "the Initech term sheet is in a public bucket",
        },
    )
    assert result.status == 200
    channel = wait_for(
        lambda: [
            c
            for c in stack.emulator.channels()
            if c["name"].startswith("inc-") and c["id"] not in before
        ]
    )[0]
    wait_for(lambda: stack.emulator.pins(channel["id"]))
    conn = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
    incident_id = str(conn.get(f"tocsin:chan:{channel['id']}"))
    return incident_id, channel


def home_of(stack: Stack, user: str) -> str:
    """Open `user`'s App Home; the blocks of the view published for this opening."""

    def published() -> list[dict[str, Any]]:
        return [v for v in stack.emulator.views(user) if v["view"].get("type") == "home"]

    before = {v["hash"] for v in published()}  # views.publish replaces a home tab in place
    stack.driver().app_home_opened(user, f"D{user[1:]}")
    fresh = wait_for(lambda: [v for v in published() if v["hash"] not in before])
    return json.dumps(fresh[-1]["view"]["blocks"])


class TestAppHome:
    def test_a_private_incident_shows_only_to_its_members(self, stack: Stack) -> None:
        """Frank (no member) sees neither title nor commander; erin does; frank does once invited."""
        _, channel = declare_private(stack)
        frank = home_of(stack, FRANK)
        assert "Initech" not in frank
        assert f"<@{ERIN}>" not in frank  # the commander
        assert "No open incidents" in frank
        erin = home_of(stack, ERIN)
        assert TITLE in erin
        assert f"IC <@{ERIN}>" in erin
        as_erin = WebClient(token=stack.emulator.user_token(ERIN), base_url=stack.emulator.url)
        as_erin.conversations_invite(channel=channel["id"], users=FRANK)  # a human adds frank
        assert TITLE in home_of(stack, FRANK)


class TestList:
    def test_incident_list_names_no_title_or_commander_to_others(self, stack: Stack) -> None:
        """`/incident list`: frank learns a private incident runs, not its title or commander; erin sees both."""
        declare_private(stack)
        frank = stack.driver().slash(FRANK, "list", channel_id="C0GENERAL").text
        assert "(private incident)" in frank
        assert "Initech" not in frank
        assert f"<@{ERIN}>" not in frank
        erin = stack.driver().slash(ERIN, "list", channel_id="C0GENERAL").text
        assert f"*{TITLE}*" in erin
        assert f"IC <@{ERIN}>" in erin


class TestActionReminder:
    def test_an_owner_the_incident_does_not_name_gets_no_title(self, stack: Stack) -> None:
        """Frank owns an action item due today: his DM names the item and the id, not the title."""
        incident_id, channel = declare_private(stack)
        today = datetime.now(UTC).date().isoformat()
        added = stack.driver().slash(
            ERIN,
            f"action Revoke the shared links <@{FRANK}|frank> due {today}",
            channel_id=channel["id"],
        )
        assert added.status == 200
        wait_for(  # said in the channel; the command gets no private echo
            lambda: [
                m
                for m in stack.emulator.transcript(channel["id"])
                if "Action item A1 added" in m.get("text", "")
            ]
        )
        dm = wait_for(lambda: [t for t in dm_texts(stack, FRANK) if "due today" in t])[0]
        assert f"SEV2 private incident {incident_id}" in dm
        assert "Revoke the shared links" in dm
        assert "Initech" not in dm


class TestChannelNameAndLogs:
    def test_the_private_channel_name_and_the_logs_carry_no_title(self, stack: Stack) -> None:
        """The channel is `inc-<id>-private`; no log line or /metrics label has the title."""
        incident_id, channel = declare_private(stack)
        assert channel["is_private"] is True
        assert channel["name"] == f"inc-{incident_id}-private"
        wait_for(lambda: dm_texts(stack, ALICE))  # step 1 paged: the incident ran its jobs
        with urllib.request.urlopen(stack.url + "/metrics", timeout=5) as response:  # noqa: S310
            assert SECRET_WORD not in response.read().decode().lower()
        logs = "".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
        assert f"inc-{incident_id}" in logs  # the channel's creation is logged ...
        assert SECRET_WORD not in logs.lower()  # ... without the title


class TestRedactedReview:
    def test_export_and_draft_redact_page_messages_and_action_items(self, stack: Stack) -> None:
        """Under `TOCSIN_PRIVATE_REVIEWS=redact` (the default) neither md, json nor the draft has them."""
        incident_id, channel = declare_private(stack)
        cid, driver = channel["id"], stack.driver()
        paged = driver.slash(
            ERIN, "page <@U0BOB0001|bob> Initech data room is open to everyone", channel_id=cid
        )
        assert paged.text == ""  # each is said in the incident channel, not answered apart
        wait_for(lambda: dm_texts(stack, BOB))
        added = driver.slash(ERIN, "action Rotate the Initech data room links", channel_id=cid)
        assert added.text == ""
        assert driver.slash(ERIN, "resolve links revoked", channel_id=cid).text == ""
        md = tocsin(stack, "export", incident_id)
        assert md.startswith(f"# Post-incident review: {incident_id}")
        assert "page requested: @" in md  # the entries stay, without their free text
        assert "action added: action item A1 added by @" in md
        doc = tocsin(stack, "export", incident_id, "--format", "json")
        assert json.loads(doc)["id"] == incident_id
        for text in (md, doc):
            assert SECRET_WORD not in text.lower()
        draft = wait_for(lambda: [m for m in stack.emulator.transcript(cid) if m.get("files")])
        record = stack.emulator.store.files[draft[0]["files"][0]["id"]]
        content = (record.content or b"").decode()
        assert "## Timeline" in content
        assert SECRET_WORD not in content.lower()
