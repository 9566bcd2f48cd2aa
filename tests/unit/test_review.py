"""The review window in business days, the Markdown draft, action items, and the config."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.config.learning import LearningConfig, LearningSettingsError
from bot.domain import actions as items
from bot.domain.actions import ActionItemError
from bot.domain.business_days import Window, WindowError, add_business_days, due_at, parse_window
from bot.domain.incident import Incident, Roles, acknowledge, mitigate, resolve
from bot.domain.milestones import facts
from bot.domain.review import REDACTED, ReviewInput, as_json, draft
from bot.domain.timeline import Entry, Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class TestBusinessDays:
    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            ("2026-03-09T15:00:00+00:00", 2, "2026-03-11T15:00:00+00:00"),  # Monday -> Wednesday
            ("2026-03-13T17:30:00+00:00", 2, "2026-03-17T17:30:00+00:00"),  # Friday -> Tuesday
            (
                "2026-03-14T10:00:00+00:00",
                2,
                "2026-03-18T00:00:00+00:00",
            ),  # Saturday counts from Monday 00:00
            ("2026-03-12T23:30:00+00:00", 1, "2026-03-13T23:30:00+00:00"),  # just before midnight
        ],
    )
    def test_weekends_are_skipped(self, start: str, days: int, expected: str) -> None:
        """N business days later at the same wall-clock time; weekends do not count."""
        assert add_business_days(at(start), days) == at(expected)

    def test_wall_clock_is_kept_across_a_dst_change(self) -> None:
        """Friday 27 March 10:00 CET + 2 business days is Tuesday 31 March 10:00 CEST (08:00 UTC)."""
        due = add_business_days(at("2026-03-27T10:00:00+01:00"), 2, "Europe/Stockholm")
        assert due == at("2026-03-31T10:00:00+02:00")

    def test_holidays_are_skipped(self) -> None:
        """A listed holiday is not a business day."""
        due = add_business_days(
            at("2026-12-23T09:00:00+00:00"), 2, holidays={date(2026, 12, 24), date(2026, 12, 25)}
        )
        assert due == at("2026-12-29T09:00:00+00:00")

    def test_windows_parse_and_refuse(self) -> None:
        """`2 business days` or a duration; anything else names the text."""
        assert parse_window("2 business days") == Window(business_days=2)
        assert parse_window("1 Business Day") == Window(business_days=1)
        assert parse_window("48h") == Window(seconds=172800)
        assert due_at(at("2026-03-09T10:00:00+00:00"), Window(seconds=60)) == at(
            "2026-03-09T10:01:00+00:00"
        )
        with pytest.raises(WindowError, match="'soon'"):
            parse_window("soon")
        with pytest.raises(WindowError, match="1 to 30"):
            parse_window("0 business days")


class TestLearningConfig:
    def test_defaults_and_validation(self) -> None:
        """Two business days, UTC, redact by default; a bad value names the variable."""
        cfg = LearningConfig.from_env({})
        assert (str(cfg.review_due_within), cfg.timezone, cfg.redact_private) == (
            "2 business days",
            "UTC",
            True,
        )
        for env, name in [
            ({"TOCSIN_REVIEW_DUE_WITHIN": "whenever"}, "TOCSIN_REVIEW_DUE_WITHIN"),
            ({"TOCSIN_TIMEZONE": "Mars/Olympus"}, "TOCSIN_TIMEZONE"),
            ({"TOCSIN_PRIVATE_REVIEWS": "hide"}, "TOCSIN_PRIVATE_REVIEWS"),
            ({"TOCSIN_REVIEW_REMIND_EVERY": "often"}, "TOCSIN_REVIEW_REMIND_EVERY"),
        ]:
            with pytest.raises(LearningSettingsError, match=name):
                LearningConfig.from_env(env)


def overnight(private: bool = False) -> ReviewInput:
    """A sev2 declared 23:50 on Monday, acked 00:04 Tuesday, resolved 01:30 Tuesday (UTC)."""
    t0 = at("2026-03-09T23:50:00+00:00")
    inc = Incident(
        id="20260309-1",
        title="Checkout errors <!channel>",
        service="checkout",
        severity="sev2",
        declared_by="U0ERIN001",
        declared_at=t0,
        roles=Roles(commander="U0ERIN001", comms="U0GRACE01"),
        private=private,
        description="5xx on /pay",
    )
    inc = acknowledge(inc, "U0ALICE01", t0 + timedelta(minutes=14))
    inc = mitigate(inc, "U0ALICE01", t0 + timedelta(minutes=50))
    inc = resolve(inc, "U0ERIN001", t0 + timedelta(minutes=100))
    rows = [
        (Entry(t0, Kind.DECLARED, "U0ERIN001", "declared sev2 on checkout by <@U0ERIN001>"), {}),
        (
            Entry(
                t0 + timedelta(seconds=2),
                Kind.PAGED,
                "tocsin",
                "paged <@U0ALICE01> (step 1, loop 1)",
            ),
            {"user": "U0ALICE01", "step": 0, "loop": 0},
        ),
        (
            Entry(
                t0 + timedelta(minutes=14),
                Kind.ACKNOWLEDGED,
                "U0ALICE01",
                "acknowledged by <@U0ALICE01>",
            ),
            {},
        ),
        (
            Entry(
                t0 + timedelta(minutes=20),
                Kind.NOTE,
                "U0ALICE01",
                "note by <@U0ALICE01>: rolling back 4812 because errors began with it &amp; DB is fine",
            ),
            {},
        ),
        (
            Entry(
                t0 + timedelta(minutes=50), Kind.MITIGATED, "U0ALICE01", "mitigated by <@U0ALICE01>"
            ),
            {},
        ),
        (
            Entry(
                t0 + timedelta(minutes=100),
                Kind.RESOLVED,
                "U0ERIN001",
                "resolved by <@U0ERIN001>: rollback done",
            ),
            {},
        ),
    ]
    action = items.new_item(
        inc.id, 1, "Add a canary for /pay", "U0ERIN001", t0, "U0ALICE01", date(2026, 3, 20)
    )
    return ReviewInput(
        incident=inc,
        facts=facts(inc, rows),
        timeline=[e for e, _ in rows],
        actions=[action],
        names={"U0ERIN001": "erin", "U0ALICE01": "alice", "U0GRACE01": "grace"},
        tz="UTC",
        redact=private and True,
        severity_label="Significant degradation",
    )


class TestReviewDraft:
    def test_markdown_is_markdown_not_slack_mrkdwn(self) -> None:
        """Slack's *bold* becomes **bold**, a channel mention its #name, and the footer is a
        paragraph of its own (a blank line before it)."""
        base = overnight()
        t = base.incident.declared_at + timedelta(minutes=30)
        extra = [
            Entry(t, Kind.ACTION_ADDED, "U0ERIN001", "action item *A1* added by <@U0ERIN001>"),
            Entry(t, Kind.NOTE, "tocsin", "opened <#C0SB00000D>"),
        ]
        data = replace(
            base,
            timeline=[*base.timeline, *extra],
            channels={"C0SB00000D": "inc-20260309-1-checkout"},
            generated_at=t,
        )
        md = draft(data)
        assert "action item **A1** added by @erin" in md
        assert "*A1*" not in md.replace("**A1**", "")
        assert "opened #inc-20260309-1-checkout" in md
        assert "\n\n_Generated 2026-03-10 00:20 UTC._\n" in md

    def test_sections_in_order_with_milestones_and_dated_timeline(self) -> None:
        """Every template section appears; the timeline states each date when it changes."""
        md = draft(overnight())
        sections = [
            "## Summary and impact",
            "## Milestones",
            "## Timeline",
            "## Who was paged, and who acknowledged",
            "## Decisions and their rationale",
            "## Root cause",
            "## What went well",
            "## What did not go well",
            "## Action items",
        ]
        assert [md.index(s) for s in sections] == sorted(md.index(s) for s in sections)
        assert "### Monday 2026-03-09" in md
        assert "### Tuesday 2026-03-10" in md
        assert (
            md.index("### Monday 2026-03-09")
            < md.index("**23:50:00** declared")
            < md.index("### Tuesday")
        )
        assert "| Acknowledged (time to acknowledge) | 2026-03-10 00:04 UTC | 14m |" in md
        assert "| Resolved (time to resolve) | 2026-03-10 01:30 UTC | 1h40m |" in md

    def test_people_by_role_decisions_from_notes_and_actions(self) -> None:
        """Names with roles, the rationale from the note unescaped, the action item row, no blame words."""
        md = draft(overnight())
        assert "by @erin (commander)" in md
        assert "Acknowledged by @alice at 2026-03-10 00:04 UTC, 14m after declaration." in md
        assert "rolling back 4812 because errors began with it & DB is fine" in md
        assert "| A1 | Add a canary for /pay | @alice | 2026-03-20 | open |" in md
        assert "Checkout errors <!channel>" in md  # Markdown file: shown as typed
        for word in ("fault of", "blame ", "careless", "mistake by"):
            assert word not in md.lower()

    def test_timeline_in_a_zone_that_changes_date_differently(self) -> None:
        """In Singapore (UTC+8) the whole incident falls on Tuesday 10 March."""
        data = overnight()
        md = draft(ReviewInput(**{**data.__dict__, "tz": "Asia/Singapore"}))
        assert "### Tuesday 2026-03-10" in md
        assert "### Monday" not in md
        assert "**07:50:00** declared" in md

    def test_private_incident_is_redacted(self) -> None:
        """Title, description, note text, resolution summary and action text are withheld; times stay."""
        data = overnight(private=True)
        md = draft(data)
        assert "Checkout errors" not in md
        assert "rolling back" not in md
        assert "rollback done" not in md
        assert "canary" not in md
        assert REDACTED in md
        assert "| Acknowledged (time to acknowledge) | 2026-03-10 00:04 UTC | 14m |" in md
        doc = as_json(data)
        assert doc["title"] == REDACTED
        assert doc["seconds"]["to_resolve"] == 6000.0
        assert "canary" not in str(doc)

    def test_redaction_covers_page_messages_and_action_items(self) -> None:
        """A page's message and an action item's text on the timeline are withheld; who and when stay."""
        data = overnight(private=True)
        t = data.incident.declared_at + timedelta(minutes=30)
        said = [
            Entry(t, Kind.PAGE_REQUESTED, "U0ERIN001", "<@U0ERIN001> paged <@U0BOB0001>: canary"),
            Entry(
                t,
                Kind.ACTION_ADDED,
                "U0ERIN001",
                "action item A1 added by <@U0ERIN001>: *A1* canary",
            ),
            Entry(
                t, Kind.ACTION_CLOSED, "U0ALICE01", "action item A1 closed by <@U0ALICE01>: canary"
            ),
        ]
        names = {**data.names, "U0BOB0001": "bob: on call"}  # a colon in a name cuts nothing
        redacted = ReviewInput(
            **{**data.__dict__, "timeline": [*data.timeline, *said], "names": names}
        )
        md, doc = draft(redacted), as_json(redacted)
        assert "canary" not in md
        assert "canary" not in str(doc)
        assert f"page requested: @erin paged @bob: on call: {REDACTED}" in md
        assert f"action added: action item A1 added by @erin: {REDACTED}" in md
        assert f"action item A1 closed by @alice: {REDACTED}" in md
        shown = draft(ReviewInput(**{**redacted.__dict__, "redact": False}))
        assert "paged @bob: on call: canary" in shown


class TestActionItems:
    @freeze_time("2026-03-10T12:00:00Z")
    def test_new_item_reminder_and_close(self) -> None:
        """Reminded 09:00 local on the due day; closing twice is refused."""
        now = datetime.now(UTC)
        item = items.new_item(
            "I1", 3, "  Add   a canary ", "U0ERIN001", now, "U0ALICE01", date(2026, 3, 30)
        )
        assert (item.id, item.text, item.ref) == ("A3", "Add a canary", "I1:A3")
        assert items.reminder_at(item, "Europe/Stockholm") == at("2026-03-30T09:00:00+02:00")
        assert items.reminder_at(item, "UTC") == at("2026-03-30T09:00:00+00:00")
        assert not item.overdue(date(2026, 3, 30))
        assert item.overdue(date(2026, 3, 31))
        done = items.close(item, "U0ALICE01", now)
        assert items.reminder_at(done) is None
        with pytest.raises(ActionItemError, match="already done"):
            items.close(done, "U0ALICE01", now)
        assert items.ActionItem.from_dict(done.to_dict()) == done

    @freeze_time("2026-03-10T12:00:00Z")
    def test_refuses_empty_text_and_a_past_due_date(self) -> None:
        """An empty description and yesterday's date are refused with a reason."""
        now = datetime.now(UTC)
        with pytest.raises(ActionItemError, match="description"):
            items.new_item("I1", 1, "   ", "U1", now)
        with pytest.raises(ActionItemError, match="already passed"):
            items.new_item("I1", 1, "x", "U1", now, due=date(2026, 3, 9))
