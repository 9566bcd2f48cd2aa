"""The learning loop end to end: review window and draft on resolve, reminders until done,
action items with a DM reminder and Close button, milestone corrections, stats, /metrics,
App Home, and `tocsin export`."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox.emulator import Emulator
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, wait_for, write_config
from tests.e2e.test_declare_flow import declare, dm_texts, texts
from tests.reliability.slack_helpers import click
from tests.reliability.support import log_events

ERIN, ALICE, BOB = "U0ERIN001", "U0ALICE01", "U0BOB0001"


@pytest.fixture
def stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The e2e stack with a review due 2 s after resolve, reminded every 2 s."""
    emulator = Emulator().start()
    env = stack_env(
        redis_url, emulator, write_config(tmp_path / "config"), ROOT / "runbooks", SECRET
    )
    env.update(
        TOCSIN_REVIEW_DUE_WITHIN="2s",
        TOCSIN_REVIEW_REMIND_EVERY="2s",
        TOCSIN_ACTION_REMIND_AT="00:00",
    )
    running = Stack(emulator, env, tmp_path, SECRET)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        emulator.stop()


def messages(stack: Stack, channel: str, needle: str) -> list[dict[str, Any]]:
    return [m for m in stack.emulator.transcript(channel) if needle in m["text"]]


def review_reminders(stack: Stack, outcome: str) -> list[dict[str, Any]]:
    """The review-reminder jobs the workers logged with `outcome` ("reminded", "stale"...)."""
    return [
        e
        for e in log_events(stack.log_dir)
        if e.get("event") == "review_reminder" and e.get("outcome") == outcome
    ]


def resolved_incident(stack: Stack) -> str:
    """Declare, ack, note, add an action, resolve; return the channel."""
    cid = declare(stack)
    driver = stack.driver()
    wait_for(lambda: dm_texts(stack, ALICE))
    assert driver.slash(ALICE, "ack", channel_id=cid).text == ""  # the channel says it
    driver.slash(
        ALICE, "note rolling back deploy 4812 because errors began with it", channel_id=cid
    )
    added = driver.slash(
        ERIN, "action Add a canary for /pay <@U0ALICE01|alice> due 2099-01-31", channel_id=cid
    )
    assert added.text == ""
    wait_for(lambda: any("ction item A1 added" in t for t in texts(stack, cid)))
    assert driver.slash(ERIN, "resolve rolled back", channel_id=cid).text == ""
    return cid


class TestReview:
    def test_resolve_opens_the_review_posts_the_draft_and_reminds_until_done(
        self, stack: Stack
    ) -> None:
        """Due notice with a button, a Markdown file with every section, a reminder, then silence after done."""
        cid = resolved_incident(stack)
        # The due notice (the draft's file message also names the review, and may come first)
        due = wait_for(lambda: messages(stack, cid, ":notebook:"))[0]
        assert "post-incident review" in due["text"]
        assert "incident_ack" not in str(due["blocks"])
        assert "review_done" in str(due["blocks"])
        files = wait_for(lambda: [m for m in stack.emulator.transcript(cid) if m.get("files")])
        record = stack.emulator.store.files[files[0]["files"][0]["id"]]
        draft = (record.content or b"").decode()
        for section in (
            "## Milestones",
            "## Timeline",
            "## Who was paged",
            "## Decisions",
            "## Action items",
        ):
            assert section in draft
        assert "rolling back deploy 4812 because errors began with it" in draft
        assert "| A1 | Add a canary for /pay |" in draft
        wait_for(lambda: messages(stack, cid, ":alarm_clock:"), timeout=10)
        # Sent with a response_url the emulator answers, so Bob's refusal can be read.
        refused = click(stack, BOB, due, "review_done")
        assert refused.status == 200
        told = wait_for(lambda: [e["text"] for e in stack.emulator.ephemerals(BOB)])
        assert told[-1].startswith(":no_entry:"), told
        assert not messages(stack, cid, "review marked done")  # Bob's click changed nothing
        done = stack.driver().click(ERIN, due, "review_done", channel_id=cid)
        assert done.status == 200
        wait_for(lambda: messages(stack, cid, "review marked done by <@U0ERIN001>"))
        # The reminder already armed runs one period later, finds the review done and stops.
        stopped = wait_for(lambda: review_reminders(stack, "stale"), timeout=10)
        sent = review_reminders(stack, "reminded")
        assert [e["number"] for e in stopped] == [len(sent)], (sent, stopped)  # counted from 0
        assert len(messages(stack, cid, ":alarm_clock:")) == len(sent)
        timeline = stack.driver().slash(ERIN, "timeline", channel_id=cid).text
        assert "review due" in timeline
        assert "review done" in timeline
        assert "action added" in timeline

    def test_resolve_reopen_resolve_keeps_one_review_updated_in_place(self, stack: Stack) -> None:
        """A second resolve updates the first due message (one Mark review done button) and
        replaces the draft file: one review per incident."""
        cid = resolved_incident(stack)
        # The due notice, by its mark: the draft's file message also names the review
        due = wait_for(lambda: messages(stack, cid, ":notebook:"))[0]
        first = wait_for(lambda: [m for m in stack.emulator.transcript(cid) if m.get("files")])
        driver = stack.driver()
        assert driver.slash(ERIN, "reopen", channel_id=cid).status == 200
        wait_for(
            lambda: messages(stack, cid, "Reopened by")
        )  # the channel is told; no echo to Erin
        assert driver.slash(ERIN, "resolve again", channel_id=cid).status == 200

        def replaced() -> list[dict[str, Any]]:
            shared = [m for m in stack.emulator.transcript(cid) if m.get("files")]
            return shared if len(shared) == 1 and shared != first else []

        shared = wait_for(replaced)  # the new draft uploaded, the first one deleted
        record = stack.emulator.store.files[shared[0]["files"][0]["id"]]
        assert "resolved by @erin: again" in (record.content or b"").decode()
        notices = [
            m for m in messages(stack, cid, ":notebook:") if "review_done" in str(m["blocks"])
        ]
        assert [m["ts"] for m in notices] == [due["ts"]], notices  # reminders are apart
        # updated with the second round's due time
        wait_for(lambda: stack.emulator.store.message(cid, due["ts"]).text != due["text"])

    def test_export_writes_the_review_as_markdown_and_json(self, stack: Stack) -> None:
        """`tocsin export ID --format md|json` prints the same review, naming people and
        channels as a person reads them (@erin, #inc-…), not by their Slack ids."""
        cid = resolved_incident(stack)
        assert cid
        ids = [k.split(":")[2] for k in _keys(stack, "tocsin:inc:*:review")]
        assert ids
        incident_id = ids[0]
        md = _tocsin(stack, "export", incident_id)
        assert md.startswith(f"# Post-incident review: {incident_id}")
        assert "@erin" in md
        assert "@alice" in md
        assert f"#{stack.emulator.store.channel(cid).name}" in md
        assert not re.findall(r"[@#][UC]0[A-Z0-9]{6,}", md), md
        doc = _tocsin(stack, "export", incident_id, "--format", "json")
        assert '"reached_last_step": false' in doc
        assert '"U0ERIN001": "erin"' in doc
        assert '"to_acknowledge":' in doc


class TestActionItems:
    def test_due_action_is_reminded_by_dm_and_closed_by_its_button(self, stack: Stack) -> None:
        """Due today: alice gets a DM with Close; clicking it closes the item and tells the channel."""
        cid = declare(stack)
        today = datetime.now(UTC).date().isoformat()
        added = stack.driver().slash(
            ERIN, f"action Rotate the DB password <@U0ALICE01|alice> due {today}", channel_id=cid
        )
        assert added.text == ""
        reminder = wait_for(
            lambda: [
                m for m in stack.emulator.dms(ALICE).get(ALICE, []) if "due today" in m["text"]
            ]
        )[0]
        assert "action_item_close" in str(reminder["blocks"])
        stranger = stack.driver().click(
            BOB, reminder, "action_item_close", channel_id=reminder["channel"]
        )
        assert stranger.status == 200
        result = stack.driver().click(
            ALICE, reminder, "action_item_close", channel_id=reminder["channel"]
        )
        assert result.status == 200
        wait_for(lambda: messages(stack, cid, "action item A1 closed by <@U0ALICE01>"))

    def test_bad_action_input_is_explained(self, stack: Stack) -> None:
        """A past due date is refused with the reason."""
        cid = declare(stack)
        result = stack.driver().slash(ERIN, "action Fix it due 2020-01-01", channel_id=cid)
        assert "already passed" in result.text


class TestMilestonesAndStats:
    def test_commander_corrects_a_milestone_and_stats_use_it(self, stack: Stack) -> None:
        """The correction is on the timeline; a responder without the right is refused; stats show SEV2."""
        cid = resolved_incident(stack)
        driver = stack.driver()
        today = datetime.now(UTC)
        ack = driver.slash(ERIN, f"milestone ack {today:%Y-%m-%d} 00:00Z", channel_id=cid)
        assert "cannot be before the declaration" in ack.text
        refused = driver.slash(BOB, f"milestone resolved {today:%Y-%m-%d %H:%M}Z", channel_id=cid)
        assert "may not" in refused.text
        stats = driver.slash(ERIN, "stats 30d")
        assert "SEV2" in stats.text
        assert "MTTA" in stats.text
        assert "1 incident, 0 open" in stats.text
        unknown = driver.slash(ERIN, "stats 30d nosuch")
        assert "checkout" in unknown.text


class TestMetricsAndHome:
    def test_metrics_scrape_parses_with_the_figures(self, stack: Stack) -> None:
        """/metrics: incidents by severity and status, pages, acks, the ack histogram, counters."""
        resolved_incident(stack)
        wait_for(lambda: "pages_sent_total 1" in _scrape(stack))
        families = {f.name: f for f in text_string_to_metric_families(_scrape(stack))}
        incidents = {
            (s.labels["severity"], s.labels["status"]): s.value
            for s in families["tocsin_incidents"].samples
        }
        assert incidents == {("sev2", "resolved"): 1.0}
        assert families["tocsin_pages_sent"].samples[0].value >= 1
        assert families["tocsin_acknowledgements"].samples[0].value == 1
        hist = families["tocsin_time_to_acknowledge_seconds"]
        count = [s for s in hist.samples if s.name.endswith("_count")]
        assert count[0].labels == {"severity": "sev2"}
        assert count[0].value == 1
        for name in (
            "tocsin_escalations",
            "tocsin_job_failures",
            "tocsin_slack_api_errors",
            "tocsin_slack_rate_limited",
        ):
            assert name in families

    def test_app_home_shows_incidents_shifts_and_actions(self, stack: Stack) -> None:
        """Alice opens the Home tab: the open incident, her checkout-primary shift, her action item."""
        cid = declare(stack)
        stack.driver().slash(ERIN, "action Write the runbook <@U0ALICE01|alice>", channel_id=cid)
        stack.driver().app_home_opened(ALICE, "D0ALICEHOME")
        home = wait_for(
            lambda: [v for v in stack.emulator.views(ALICE) if v["view"].get("type") == "home"]
        )
        shown = str(home[-1]["view"]["blocks"])
        assert "Checkout errors" in shown
        assert "checkout-primary" in shown
        assert "Write the runbook" in shown


def _scrape(stack: Stack) -> str:
    with urllib.request.urlopen(stack.url + "/metrics", timeout=5) as response:  # noqa: S310
        assert response.headers["Content-Type"].startswith("text/plain")
        return str(response.read().decode())


def _keys(stack: Stack, pattern: str) -> list[str]:
    import redis

    return [
        str(k)
        for k in redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True).keys(pattern)
    ]


def _tocsin(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout
