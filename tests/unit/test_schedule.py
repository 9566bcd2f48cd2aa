"""On-call schedules: rotations in wall-clock time, restrictions, overrides, shifts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.schedule import (
    Override,
    Restriction,
    Rotation,
    Schedule,
    Shift,
    next_handoff,
    on_call,
    shifts,
)

WEEKDAYS = frozenset(range(5))


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive wall-clock datetime, as schedules are written."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001 - naive on purpose


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    """A UTC-aware datetime."""
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def schedule(tz: str, *rotations: Rotation, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule(name="test", timezone=tz, rotations=rotations, overrides=overrides)


# Weekly, anchored Tuesday 2024-10-01 00:00 Chicago; US DST ends Sunday 2024-11-03.
WEEKLY = schedule(
    "America/Chicago",
    Rotation(("alice", "bob", "carol"), wall(2024, 10, 1), timedelta(weeks=1)),
)


class TestWallClockTurns:
    def test_weekly_handoff_keeps_local_time_across_fall_back(self) -> None:
        """The Tuesday-midnight handoff after fall-back is at 06:00Z, 169 h after the last."""
        assert on_call(WEEKLY, utc(2024, 11, 5, 5, 59, 59)) == ("bob",)
        assert on_call(WEEKLY, utc(2024, 11, 5, 6)) == ("carol",)
        assert next_handoff(WEEKLY, utc(2024, 10, 30)) == utc(2024, 11, 5, 6)
        window = shifts(WEEKLY, utc(2024, 10, 28), utc(2024, 11, 12))
        assert window == [
            Shift("alice", utc(2024, 10, 28), utc(2024, 10, 29, 5)),
            Shift("bob", utc(2024, 10, 29, 5), utc(2024, 11, 5, 6)),
            Shift("carol", utc(2024, 11, 5, 6), utc(2024, 11, 12)),
        ]
        assert window[1].end - window[1].start == timedelta(hours=169)

    def test_daily_handoff_keeps_local_time_across_spring_forward(self) -> None:
        """A 09:00 daily handoff is 23 h after the previous one on the spring-forward day."""
        daily = schedule(
            "America/Chicago", Rotation(("a", "b"), wall(2024, 3, 1, 9), timedelta(days=1))
        )
        assert shifts(daily, utc(2024, 3, 9, 12), utc(2024, 3, 11, 18)) == [
            Shift("b", utc(2024, 3, 9, 12), utc(2024, 3, 9, 15)),
            Shift("a", utc(2024, 3, 9, 15), utc(2024, 3, 10, 14)),
            Shift("b", utc(2024, 3, 10, 14), utc(2024, 3, 11, 14)),
            Shift("a", utc(2024, 3, 11, 14), utc(2024, 3, 11, 18)),
        ]

    def test_nonexistent_handoff_time_lands_after_the_gap(self) -> None:
        """A 02:30 handoff on the spring-forward day (no such time) happens at 03:30 CDT."""
        daily = schedule(
            "America/Chicago", Rotation(("a", "b"), wall(2024, 3, 8, 2, 30), timedelta(days=1))
        )
        assert on_call(daily, utc(2024, 3, 10, 8, 29)) == ("b",)
        assert on_call(daily, utc(2024, 3, 10, 8, 30)) == ("a",)
        assert next_handoff(daily, utc(2024, 3, 10, 8, 30)) == utc(2024, 3, 11, 7, 30)

    def test_ambiguous_handoff_time_uses_the_first_occurrence(self) -> None:
        """A 01:30 handoff on the fall-back day (twice) happens at the first 01:30 (CDT)."""
        daily = schedule(
            "America/Chicago", Rotation(("a", "b"), wall(2024, 11, 1, 1, 30), timedelta(days=1))
        )
        assert next_handoff(daily, utc(2024, 11, 2, 7)) == utc(2024, 11, 3, 6, 30)
        assert next_handoff(daily, utc(2024, 11, 3, 6, 30)) == utc(2024, 11, 4, 7, 30)

    def test_sub_day_turns_step_in_elapsed_time(self) -> None:
        """12 h turns keep 12 elapsed hours across spring-forward, drifting an hour locally."""
        halves = schedule(
            "America/Chicago", Rotation(("a", "b"), wall(2024, 3, 9, 8), timedelta(hours=12))
        )
        assert on_call(halves, utc(2024, 3, 10, 13, 30)) == ("b",)
        assert next_handoff(halves, utc(2024, 3, 10, 2)) == utc(2024, 3, 10, 14)

    def test_before_start_nobody_is_on_call(self) -> None:
        """Nobody from a rotation is on call before its first turn starts."""
        assert on_call(WEEKLY, utc(2024, 10, 1, 4, 59, 59)) == ()
        assert on_call(WEEKLY, utc(2024, 10, 1, 5)) == ("alice",)
        assert shifts(WEEKLY, utc(2024, 9, 30), utc(2024, 10, 2)) == [
            Shift("alice", utc(2024, 10, 1, 5), utc(2024, 10, 2))
        ]


HOURLY = schedule("Europe/Berlin", Rotation(("a", "b", "c"), wall(2024, 6, 3), timedelta(hours=1)))


class TestHourlyRotation:
    def test_members_wrap_around(self) -> None:
        """After the last member's hour the first member's turn comes again."""
        # 2024-06-03 00:00 Berlin (CEST) is 2024-06-02T22:00Z.
        expected = ["a", "b", "c", "a", "b"]
        got = [on_call(HOURLY, utc(2024, 6, 2, 22) + timedelta(hours=h))[0] for h in range(5)]
        assert got == expected
        assert on_call(HOURLY, utc(2024, 6, 2, 22) + timedelta(hours=1000, minutes=59)) == ("b",)

    def test_week_of_hourly_turns_gives_every_handoff(self) -> None:
        """A week of hourly turns is 168 one-hour shifts cycling through the members."""
        begin = utc(2024, 6, 3)
        week = shifts(HOURLY, begin, begin + timedelta(weeks=1))
        assert len(week) == 168
        assert all(s.end - s.start == timedelta(hours=1) for s in week)
        assert [s.start for s in week] == [begin + timedelta(hours=h) for h in range(168)]
        assert [s.user for s in week[:4]] == ["c", "a", "b", "c"]


NEW_YORK = "America/New_York"


class TestRestrictions:
    def test_business_hours_on_weekdays_only(self) -> None:
        """A Mon-Fri 09:00-17:00 restriction leaves evenings and weekends with nobody."""
        rotation = Rotation(
            ("a", "b"),
            wall(2024, 6, 3, 9),
            timedelta(days=1),
            Restriction(WEEKDAYS, time(9), time(17)),
        )
        sched = schedule(NEW_YORK, rotation)
        assert on_call(sched, utc(2024, 6, 3, 16)) == ("a",)  # Mon 12:00 EDT
        assert on_call(sched, utc(2024, 6, 3, 21)) == ()  # Mon 17:00 EDT
        assert on_call(sched, utc(2024, 6, 4, 12, 59)) == ()  # Tue 08:59 EDT
        assert on_call(sched, utc(2024, 6, 4, 13)) == ("b",)  # Tue 09:00 EDT
        assert on_call(sched, utc(2024, 6, 8, 16)) == ()  # Sat 12:00 EDT
        assert next_handoff(sched, utc(2024, 6, 7, 22)) == utc(2024, 6, 10, 13)  # Fri→Mon

    def test_overnight_window_belongs_to_the_day_it_starts(self) -> None:
        """A Friday 22:00-06:00 window covers Friday night into Saturday morning only."""
        rotation = Rotation(
            ("night",),
            wall(2024, 6, 1),
            timedelta(days=1),
            Restriction(frozenset({4}), time(22), time(6)),
        )
        sched = schedule(NEW_YORK, rotation)
        assert on_call(sched, utc(2024, 6, 8, 1, 59)) == ()  # Fri 21:59
        assert on_call(sched, utc(2024, 6, 8, 2)) == ("night",)  # Fri 22:00
        assert on_call(sched, utc(2024, 6, 8, 9, 59)) == ("night",)  # Sat 05:59
        assert on_call(sched, utc(2024, 6, 8, 10)) == ()  # Sat 06:00
        assert on_call(sched, utc(2024, 6, 7, 3)) == ()  # Thu 23:00
        assert on_call(sched, utc(2024, 6, 9, 3)) == ()  # Sat 23:00
        assert on_call(sched, utc(2024, 6, 7, 8)) == ()  # Fri 04:00 (Thursday's night)
        assert shifts(sched, utc(2024, 6, 3), utc(2024, 6, 10)) == [
            Shift("night", utc(2024, 6, 8, 2), utc(2024, 6, 8, 10))
        ]

    def test_overnight_window_shows_whoever_holds_the_turn(self) -> None:
        """A handoff at midnight inside an overnight window switches people mid-window."""
        rotation = Rotation(
            ("a", "b"),
            wall(2024, 6, 3),
            timedelta(days=1),
            Restriction(frozenset({6}), time(22), time(6)),
        )
        sched = schedule(NEW_YORK, rotation)
        # Sunday 2024-06-09 is turn 6 (a); Monday 2024-06-10 is turn 7 (b).
        assert shifts(sched, utc(2024, 6, 4), utc(2024, 6, 11)) == [
            Shift("a", utc(2024, 6, 10, 2), utc(2024, 6, 10, 4)),
            Shift("b", utc(2024, 6, 10, 4), utc(2024, 6, 10, 10)),
        ]


LONDON_DAILY = Rotation(("a", "b"), wall(2024, 6, 1), timedelta(days=1))


class TestOverrides:
    def test_overlapping_overrides_replace_rotation_people(self) -> None:
        """Overrides replace the rotation's person; overlapping ones are all on call."""
        sched = schedule(
            "Europe/London",
            LONDON_DAILY,
            overrides=(
                Override("dave", wall(2024, 6, 3, 10), wall(2024, 6, 3, 14)),
                Override("erin", wall(2024, 6, 3, 12), wall(2024, 6, 3, 16)),
            ),
        )
        # London is UTC+1 in June; 2024-06-03 is turn 2 (a).
        assert on_call(sched, utc(2024, 6, 3, 8, 59)) == ("a",)
        assert on_call(sched, utc(2024, 6, 3, 9)) == ("dave",)
        assert on_call(sched, utc(2024, 6, 3, 11, 30)) == ("dave", "erin")
        assert on_call(sched, utc(2024, 6, 3, 13)) == ("erin",)
        assert on_call(sched, utc(2024, 6, 3, 15)) == ("a",)
        assert shifts(sched, utc(2024, 6, 3, 8), utc(2024, 6, 3, 16)) == [
            Shift("a", utc(2024, 6, 3, 8), utc(2024, 6, 3, 9)),
            Shift("dave", utc(2024, 6, 3, 9), utc(2024, 6, 3, 13)),
            Shift("erin", utc(2024, 6, 3, 11), utc(2024, 6, 3, 15)),
            Shift("a", utc(2024, 6, 3, 15), utc(2024, 6, 3, 16)),
        ]

    def test_override_by_the_person_on_call_merges_into_one_shift(self) -> None:
        """An override naming whoever is already on call leaves one unbroken shift."""
        sched = schedule(
            "Europe/London",
            LONDON_DAILY,
            overrides=(Override("a", wall(2024, 6, 3, 10), wall(2024, 6, 3, 11)),),
        )
        assert shifts(sched, utc(2024, 6, 3, 8), utc(2024, 6, 3, 20)) == [
            Shift("a", utc(2024, 6, 3, 8), utc(2024, 6, 3, 20))
        ]

    def test_override_overrules_a_restriction_gap(self) -> None:
        """An override puts someone on call even when the rotation has nobody."""
        restricted = Rotation(
            ("a",),
            wall(2024, 6, 3),
            timedelta(days=1),
            Restriction(WEEKDAYS, time(9), time(17)),
        )
        sched = schedule(
            "Europe/London",
            restricted,
            overrides=(Override("x", wall(2024, 6, 8, 9), wall(2024, 6, 8, 12)),),
        )
        assert on_call(sched, utc(2024, 6, 8, 10)) == ("x",)
        assert on_call(sched, utc(2024, 6, 8, 11)) == ()


class TestUnion:
    def test_rotations_are_on_call_together_without_repeats(self) -> None:
        """Two rotations give the union of their people, in rotation order, once each."""
        primary = Rotation(("a", "b"), wall(2024, 6, 1), timedelta(days=1))
        secondary = Rotation(("a", "c"), wall(2024, 6, 1), timedelta(weeks=1))
        sched = schedule("UTC", primary, secondary)
        assert on_call(sched, utc(2024, 6, 1, 12)) == ("a",)
        assert on_call(sched, utc(2024, 6, 2, 12)) == ("b", "a")
        assert on_call(sched, utc(2024, 6, 8, 12)) == ("b", "c")  # 2024-06-08 is turn 7 (b)
        assert shifts(sched, utc(2024, 6, 1), utc(2024, 6, 3)) == [
            Shift("a", utc(2024, 6, 1), utc(2024, 6, 3)),
            Shift("b", utc(2024, 6, 2), utc(2024, 6, 3)),
        ]


class TestValidation:
    def test_naive_instant_is_rejected(self) -> None:
        """A naive `at` raises ValueError instead of being guessed as some zone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            on_call(WEEKLY, wall(2024, 11, 5, 6))

    def test_inverted_window_is_rejected(self) -> None:
        """A shifts window that ends before it starts raises ValueError."""
        with pytest.raises(ValueError, match="before"):
            shifts(WEEKLY, utc(2024, 11, 5), utc(2024, 11, 4))

    def test_non_positive_turn_is_rejected(self) -> None:
        """A zero-length turn is a configuration error, not an endless loop."""
        sched = schedule("UTC", Rotation(("a",), wall(2024, 1, 1), timedelta(0)))
        with pytest.raises(ValueError, match="turn"):
            on_call(sched, utc(2024, 1, 2))

    def test_nothing_changes_gives_no_handoff(self) -> None:
        """A one-person unrestricted rotation never hands off within the look-ahead."""
        solo = schedule("UTC", Rotation(("a",), wall(2024, 1, 1), timedelta(hours=1)))
        assert next_handoff(solo, utc(2024, 3, 1)) is None


# --- property: shifts and on_call agree everywhere -------------------------------------

ZONES = ("America/Chicago", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "UTC")
TURNS = tuple(
    timedelta(**kw)
    for kw in ({"minutes": 30}, {"hours": 1}, {"hours": 5}, {"days": 1}, {"days": 2}, {"weeks": 1})
)
# Days around DST transitions in the zones above (2024).
ANCHORS = tuple(
    wall(2024, m, d) for m, d in ((3, 10), (3, 31), (4, 7), (9, 8), (10, 6), (10, 27), (11, 3))
)
QUARTERS = st.integers(-3 * 96, 3 * 96).map(lambda q: timedelta(minutes=15 * q))
TIMES = st.integers(0, 47).map(lambda h: time(h // 2, 30 * (h % 2)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    """A random schedule and a UTC window of up to four days near a DST transition."""
    anchor = draw(st.sampled_from(ANCHORS))
    restriction = st.builds(
        Restriction, days=st.frozensets(st.integers(0, 6)), start=TIMES, end=TIMES
    )
    rotation = st.builds(
        Rotation,
        members=st.lists(st.sampled_from("abcd"), min_size=0, max_size=3).map(tuple),
        start=st.integers(0, 30 * 96).map(lambda q: anchor - timedelta(minutes=15 * q)),
        turn=st.sampled_from(TURNS),
        restrict=st.none() | restriction,
    )
    override = st.builds(
        lambda user, at, hours: Override(user, anchor + at, anchor + at + timedelta(hours=hours)),
        st.sampled_from("xa"),
        QUARTERS,
        st.integers(-1, 30),
    )
    sched = Schedule(
        name="prop",
        timezone=draw(st.sampled_from(ZONES)),
        rotations=tuple(draw(st.lists(rotation, max_size=3))),
        overrides=tuple(draw(st.lists(override, max_size=2))),
    )
    begin = anchor.replace(tzinfo=UTC) + draw(QUARTERS)
    return sched, begin, begin + draw(QUARTERS.map(abs))


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(scenarios(), st.lists(st.floats(0, 1, exclude_max=True), max_size=10))
    def test_on_call_matches_the_shifts_containing_the_instant(
        self, scenario: tuple[Schedule, datetime, datetime], fractions: list[float]
    ) -> None:
        """At any instant of the window on_call equals the users of the shifts containing it."""
        sched, begin, end = scenario
        found = shifts(sched, begin, end)
        assert found == sorted(found, key=lambda s: (s.start, s.user))
        for shift in found:
            assert begin <= shift.start < shift.end <= end
        for user in {s.user for s in found}:
            own = [s for s in found if s.user == user]
            for one, two in itertools.pairwise(own):
                assert one.end < two.start  # disjoint, and touching stretches were merged
        probes = [begin + (end - begin) * f for f in fractions]
        for s in found:
            probes += [s.start, s.end - timedelta(microseconds=1)]
            if s.end < end:
                probes.append(s.end)
        for at in probes:
            if begin <= at < end:
                holders = {s.user for s in found if s.start <= at < s.end}
                assert set(on_call(sched, at)) == holders, at

    @settings(max_examples=200, deadline=None)
    @given(scenarios())
    def test_next_handoff_is_the_first_change(
        self, scenario: tuple[Schedule, datetime, datetime]
    ) -> None:
        """Nobody changes between `at` and next_handoff, and someone changes at it."""
        sched, at, _ = scenario
        handoff = next_handoff(sched, at)
        until = handoff if handoff is not None else at + timedelta(days=7)
        now = set(on_call(sched, at))
        assert {(s.user, s.start, s.end) for s in shifts(sched, at, until)} == {
            (user, at, until) for user in now
        }
        if handoff is not None:
            assert set(on_call(sched, handoff)) != now
