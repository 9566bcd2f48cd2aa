"""The contact matrix and escalation chain, and their Block Kit rendering."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.catalog import Catalog
from bot.domain.contacts import Stint, contact_matrix, policy_chain, schedule_row
from bot.domain.policy import Policy, Step, Target
from bot.domain.schedule import Override, Restriction, Rotation, Schedule
from bot.domain.severity import Tier
from bot.render.oncall import chain_blocks, oncall_blocks, oncall_text


def wall(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """A naive wall-clock datetime, as schedules are written."""
    return datetime(year, month, day, hour)  # noqa: DTZ001 - naive on purpose


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# Weekly on Tuesdays 09:00 Chicago; US DST ends Sunday 2024-11-03 (CDT -5 → CST -6).
PRIMARY = Schedule(
    "primary",
    "America/Chicago",
    (Rotation(("U0ALICE", "U0BOB", "U0CAROL"), wall(2024, 10, 1, 9), timedelta(weeks=1)),),
)
# Weekdays 08:00-20:00 Berlin only, Dave from Monday 2024-10-28 then Erin (CET since 2024-10-27).
SECONDARY = Schedule(
    "secondary",
    "Europe/Berlin",
    (
        Rotation(
            ("U0DAVE", "U0ERIN"),
            wall(2024, 10, 28, 8),
            timedelta(weeks=1),
            Restriction(frozenset(range(5)), time(8), time(20)),
        ),
    ),
)


def steps(*targets: tuple[str, ...]) -> tuple[Step, ...]:
    return tuple(Step(tuple(Target.parse(t) for t in group), 300) for group in targets)


PAYMENTS = Policy(
    "payments",
    ("checkout",),
    steps(
        ("schedule:primary",),
        ("schedule:secondary", "user:U0LEAD"),
        ("usergroup:S0MGRS", "user:lead@example.com"),
        ("schedule:primary",),
    ),
    severities=("sev1",),
)
PLATFORM = Policy("platform", ("api", "*"), steps(("schedule:secondary",)))
TIERS = (Tier("sev1", "Outage", 900), Tier("sev2", "Degraded", 1800))
CATALOG = Catalog(
    policies={"payments": PAYMENTS, "platform": PLATFORM},
    schedules={"primary": PRIMARY, "secondary": SECONDARY},
    tiers=TIERS,
)
FRIDAY = utc(2024, 11, 1, 12)  # before the fall-back, Berlin's 13:00
SATURDAY = utc(2024, 11, 2, 12)


def validated(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every block parses back into a slack_sdk model and passes its limit checks."""
    for raw in blocks:
        model = Block.parse(raw)
        assert model is not None, raw
        model.validate_json()
    return blocks


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


class TestScheduleRow:
    def test_now_and_next_across_the_dst_change(self) -> None:
        """Bob's week ends Tuesday 09:00 CST (15:00Z), 7 days and 1 hour after it began."""
        row = schedule_row(PRIMARY, FRIDAY)
        assert row.timezone == "America/Chicago"
        assert row.now == (Stint("U0BOB", FRIDAY, utc(2024, 11, 5, 15)),)
        assert row.next == (Stint("U0CAROL", utc(2024, 11, 5, 15), utc(2024, 11, 12, 15)),)
        assert row.handoff == utc(2024, 11, 5, 15)
        before = schedule_row(PRIMARY, utc(2024, 10, 29, 13))
        assert before.handoff == utc(2024, 10, 29, 14)  # 09:00 CDT
        assert row.handoff - before.handoff == timedelta(days=7, hours=1)

    def test_restricted_schedule_with_nobody_now_shows_the_next_window(self) -> None:
        """On a Saturday nobody covers the weekday rota; Erin is next from Monday 08:00 CET."""
        row = schedule_row(SECONDARY, SATURDAY)
        assert row.now == ()
        assert row.next == (Stint("U0ERIN", utc(2024, 11, 4, 7), utc(2024, 11, 4, 19)),)
        assert row.handoff == utc(2024, 11, 4, 7)

    def test_an_override_is_who_is_on_call_until_it_ends(self) -> None:
        """An active override replaces the rota; the rota's person comes back when it ends."""
        covered = Schedule(
            "primary",
            PRIMARY.timezone,
            PRIMARY.rotations,
            (Override("U0ZOE", wall(2024, 11, 1, 0), wall(2024, 11, 2, 0)),),
        )
        row = schedule_row(covered, FRIDAY)
        assert row.now == (Stint("U0ZOE", FRIDAY, utc(2024, 11, 2, 5)),)
        assert row.next[0].user == "U0BOB"
        assert row.next[0].start == utc(2024, 11, 2, 5)

    def test_no_change_within_the_lookahead_leaves_the_end_open(self) -> None:
        """A one-person rota has no handoff within the window: end and next are empty."""
        alone = Schedule("solo", "UTC", (Rotation(("U0SOLO",), wall(2024, 1, 1), timedelta(7)),))
        row = schedule_row(alone, FRIDAY, lookahead=timedelta(days=3))
        assert row.now == (Stint("U0SOLO", FRIDAY, None),)
        assert row.next == ()
        assert row.handoff is None
        assert schedule_row(PRIMARY, FRIDAY, lookahead=timedelta(days=1)).handoff is None


class TestContactMatrix:
    def test_without_target_every_schedule_by_name(self) -> None:
        """No target lists every schedule, sorted by name."""
        rows = contact_matrix(CATALOG, FRIDAY)
        assert [r.name for r in rows] == ["primary", "secondary"]
        assert contact_matrix(CATALOG, FRIDAY, target="  ") == rows
        assert rows[1].now[0].user == "U0DAVE"

    def test_schedule_target_gives_that_schedule(self) -> None:
        """A schedule's name gives just its row."""
        (row,) = contact_matrix(CATALOG, FRIDAY, target="secondary")
        assert row.name == "secondary"
        assert row.policy is None

    def test_service_target_lists_policy_targets_in_step_order(self) -> None:
        """A service lists each routing policy's targets by step, once each, severest tier first."""
        rows = contact_matrix(CATALOG, FRIDAY, target="checkout")
        assert [(r.policy, r.step, str(r.target)) for r in rows] == [
            ("payments", 1, "schedule:primary"),
            ("payments", 2, "schedule:secondary"),
            ("payments", 2, "user:U0LEAD"),
            ("payments", 3, "usergroup:S0MGRS"),
            ("payments", 3, "user:lead@example.com"),
            ("platform", 1, "schedule:secondary"),
        ]
        assert rows[0].now[0].user == "U0BOB"
        assert rows[2].now == ()

    def test_without_tiers_the_policies_naming_the_service_are_used(self) -> None:
        """A catalog with no severity tiers still finds the policies that name a service."""
        bare = Catalog(policies=CATALOG.policies, schedules=CATALOG.schedules)
        rows = contact_matrix(bare, FRIDAY, target="api")
        assert [(r.policy, r.name) for r in rows] == [("platform", "secondary")]

    @pytest.mark.parametrize("target", ["nope", "*", "payments"])
    def test_unknown_target_lists_known_names(self, target: str) -> None:
        """Anything not a schedule or a named service is a LookupError listing both."""
        with pytest.raises(LookupError) as caught:
            contact_matrix(CATALOG, FRIDAY, target=target)
        assert str(caught.value) == (
            f"{target!r} is neither a schedule nor a service "
            "(schedules: primary, secondary; services: api, checkout)"
        )


class TestPolicyChain:
    def test_targets_resolve_at_the_instant(self) -> None:
        """Schedules give who is on call, user ids themselves, groups and emails nobody."""
        chain = policy_chain(CATALOG, "checkout", "sev1", SATURDAY)
        assert chain.policy is PAYMENTS
        resolved = [[(str(r.target), r.users) for r in s.targets] for s in chain.steps]
        assert resolved == [
            [("schedule:primary", ("U0BOB",))],
            [("schedule:secondary", ()), ("user:U0LEAD", ("U0LEAD",))],
            [("usergroup:S0MGRS", ()), ("user:lead@example.com", ())],
            [("schedule:primary", ("U0BOB",))],
        ]
        assert [s.number for s in chain.steps] == [1, 2, 3, 4]

    def test_other_severities_follow_the_default_policy(self) -> None:
        """At sev2 checkout is not routed by payments, so the `*` policy applies."""
        assert policy_chain(CATALOG, "checkout", "sev2", FRIDAY).policy is PLATFORM

    def test_unknown_severity_or_unrouted_service_is_a_lookup_error(self) -> None:
        """An unknown severity names the known ones; no routing policy says so."""
        with pytest.raises(LookupError, match=r"unknown severity 'sev9' \(known: sev1, sev2\)"):
            policy_chain(CATALOG, "checkout", "sev9", FRIDAY)
        lonely = Catalog(policies={"payments": PAYMENTS}, tiers=TIERS)
        with pytest.raises(LookupError, match="no escalation policy routes 'api' at 'sev1'"):
            policy_chain(lonely, "api", "sev1", FRIDAY)


class TestOncallBlocks:
    def test_now_and_next_use_slack_date_tokens(self) -> None:
        """Handoffs are `<!date^TS^…|fallback>` tokens with a fallback in the schedule's zone."""
        blocks = validated(oncall_blocks(contact_matrix(CATALOG, FRIDAY), FRIDAY))
        ts = int(utc(2024, 11, 5, 15).timestamp())
        token = f"<!date^{ts}^{{date_short_pretty}} {{time}}|2024-11-05 09:00 CST>"
        text = "\n".join(section_texts(blocks))
        assert f"*primary* · America/Chicago\nNow: <@U0BOB> until {token}" in text
        assert f"Next: <@U0CAROL> from {token}" in text
        assert blocks[0]["type"] == "header"
        assert f"<!date^{int(FRIDAY.timestamp())}^" in blocks[1]["elements"][0]["text"]

    def test_service_rows_are_grouped_by_policy_without_pinging_groups(self) -> None:
        """Direct targets show their step; user groups are shown by id, not `<!subteam^…>`."""
        rows = contact_matrix(CATALOG, SATURDAY, target="checkout")
        text = "\n".join(section_texts(validated(oncall_blocks(rows, SATURDAY))))
        assert "*Policy payments*" in text
        assert "Step 2 · <@U0LEAD> (paged directly)" in text
        assert "Step 3 · user group `S0MGRS` (paged directly)" in text
        assert "Step 3 · lead@example.com (paged directly)" in text
        assert "Now: nobody" in text
        assert "subteam" not in text

    def test_config_text_is_escaped(self) -> None:
        """A schedule name or user ref holding `<!channel>` renders escaped everywhere."""
        evil = Schedule(
            "<!channel>", "UTC", (Rotation(("<!here>",), wall(2024, 1, 1), timedelta(7)),)
        )
        rows = [schedule_row(evil, FRIDAY)]
        blocks = validated(oncall_blocks(rows, FRIDAY))
        for text in [*section_texts(blocks), oncall_text(rows, FRIDAY)]:
            assert "<!channel>" not in text
            assert "<!here>" not in text
            assert "&lt;!channel&gt;" in text

    def test_many_schedules_stay_within_slack_limits(self) -> None:
        """A thousand schedules still give ≤ 50 blocks of ≤ 3000 characters."""
        rows = [schedule_row(PRIMARY, FRIDAY)] * 1000
        blocks = validated(oncall_blocks(rows, FRIDAY))
        assert len(blocks) <= 50
        assert all(len(t) <= 3000 for t in section_texts(blocks))
        assert "more sections not shown" in blocks[-1]["elements"][0]["text"]

    def test_chain_blocks_show_each_step_with_its_wait(self) -> None:
        """The chain renders each step's wait and the people its targets resolve to."""
        blocks = validated(chain_blocks(policy_chain(CATALOG, "checkout", "sev1", FRIDAY)))
        text = "\n".join(section_texts(blocks))
        assert "*Step 1* (waits 5m): schedule *primary* → <@U0BOB>" in text
        assert "*Step 2* (waits 5m): schedule *secondary* → <@U0DAVE>; <@U0LEAD>" in text
