"""Schedule changes from Slack: the `/incident oncall` grammar, the layering over the YAML
(live overrides above the YAML's), swaps, and the `schedules` right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.oncall import Change, layered, may_change, swap_spans
from bot.domain.schedule import Override, Rotation, Schedule, on_call
from bot.slack import commands as cmd


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


# Daily turns in Chicago from Monday 2026-03-02 09:00: A, B, C, A, …; DST starts 03-08.
ROTA = Schedule(
    "primary",
    "America/Chicago",
    (Rotation(("A", "B", "C"), datetime(2026, 3, 2, 9), timedelta(days=1)),),  # noqa: DTZ001
    overrides=(Override("Y", datetime(2026, 3, 3, 0), datetime(2026, 3, 3, 12)),),  # noqa: DTZ001
    rights=("member", "usergroup:S0MGR"),
)


def change(*spans: Override, at: int = 1, kind: str = "override") -> Change:
    return Change(f"o{at}", "primary", kind, spans, "A", utc(1, at))


class TestLayering:
    def test_a_live_override_wins_over_the_yaml_override_and_the_rotation(self) -> None:
        live = layered(ROTA, [change(Override("Z", utc(3, 10), utc(3, 16)))])
        assert on_call(ROTA, utc(3, 11)) == ("Y",)  # the YAML override: 06:00Z to 18:00Z
        assert on_call(live, utc(3, 11)) == ("Z",)
        assert on_call(live, utc(3, 17)) == ("Y",)  # the live one is over, the YAML one not
        assert on_call(live, utc(3, 18)) == ("B",)

    def test_changes_to_other_schedules_are_not_layered(self) -> None:
        other = Change("o9", "secondary", "override", (Override("Z", utc(1), utc(9)),), "A", utc(1))
        assert layered(ROTA, [other]) is ROTA

    def test_a_change_survives_its_json_round_trip(self) -> None:
        made = change(Override("Z", utc(3, 10), utc(3, 20)), Override("Q", utc(4), utc(5)))
        assert Change.from_dict(made.to_dict()) == made


class TestSwap:
    def test_each_takes_the_others_shift_across_the_dst_change(self) -> None:
        # A's turn starting Thu 03-05 09:00 CST; B's next is Fri 03-06 09:00 CST.
        first, second = swap_spans(ROTA, "A", "B", utc(5, 16))
        assert (first.user, first.start, first.end) == ("B", utc(5, 16), utc(6, 15))
        assert (second.user, second.start, second.end) == ("A", utc(6, 15), utc(7, 15))
        live = layered(ROTA, [change(first, second, kind="swap")])
        assert on_call(live, utc(5, 20)) == ("B",)
        assert on_call(live, utc(6, 20)) == ("A",)
        # C's Saturday turn ends at 09:00 CDT on Sunday 03-08: 14:00 UTC, not 15:00.
        assert on_call(live, utc(8, 14)) == ("A",)

    def test_a_swap_with_oneself_or_a_stranger_is_refused(self) -> None:
        with pytest.raises(ValueError, match="two different people"):
            swap_spans(ROTA, "A", "A", utc(5))
        with pytest.raises(ValueError, match="<@X> has no shift on primary to give back"):
            swap_spans(ROTA, "A", "X", utc(5))


class TestRight:
    @pytest.mark.parametrize(
        ("user", "groups", "allowed"),
        [("B", frozenset(), True), ("Q", frozenset({"S0MGR"}), True), ("Q", frozenset(), False)],
    )
    def test_members_and_named_groups_may_change_a_schedule(
        self, user: str, groups: frozenset[str], allowed: bool
    ) -> None:
        ok, rule = may_change(ROTA, user, groups)
        assert ok is allowed
        if not ok:
            assert rule == "schedule primary rights.schedules allows only member, usergroup:S0MGR"


class TestGrammar:
    def test_override_reads_schedule_person_and_wall_clock_times(self) -> None:
        got = cmd.parse("oncall override primary <@U0DAVE001|dave> 2026-03-07 18:30 2026-03-08")
        assert got == cmd.OnCallOverride(
            "primary",
            cmd.Mention("user", "U0DAVE001", "dave"),
            datetime(2026, 3, 7, 18, 30),  # noqa: DTZ001
            datetime(2026, 3, 8, 0, 0),  # noqa: DTZ001
        )
        now = cmd.parse("oncall override primary <@U0DAVE001> now 2026-03-08T06:00")
        assert isinstance(now, cmd.OnCallOverride)
        assert now.start is None
        assert now.end == datetime(2026, 3, 8, 6)  # noqa: DTZ001

    def test_swap_with_and_without_schedule_and_remove(self) -> None:
        a, b = cmd.Mention("user", "U0AAAAAA1", None), cmd.Mention("user", "U0BBBBBB1", None)
        assert cmd.parse("oncall swap U0AAAAAA1 U0BBBBBB1") == cmd.OnCallSwap(None, a, b, None)
        got = cmd.parse("oncall swap primary U0AAAAAA1 U0BBBBBB1 2026-03-09")
        assert got == cmd.OnCallSwap("primary", a, b, datetime(2026, 3, 9))  # noqa: DTZ001
        assert cmd.parse("oncall remove O12") == cmd.OnCallRemove("o12")
        assert cmd.parse("oncall primary") == cmd.OnCall("primary")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("oncall override primary @dave now", "`nothing` is not an end time."),
            ("oncall override primary <#C123> now 2026-03-08", "A channel is not a person"),
            ("oncall override primary @dave 2026-03-08 2026-03-07", "must end after it starts"),
            ("oncall override primary @dave now 2026-02-30", "`2026-02-30 00:00` is not a real"),
            ("oncall swap U0AAAAAA1", "`nothing` is not a person"),
            ("oncall remove 12", "Give its id, like `o12`"),
        ],
    )
    def test_bad_input_says_what_is_wrong_and_shows_the_usage(
        self, text: str, message: str
    ) -> None:
        with pytest.raises(cmd.UsageError) as caught:
            cmd.parse(text)
        assert message in caught.value.message
        assert "/incident oncall override <schedule> @who <from|now> <to>" in caught.value.usage
