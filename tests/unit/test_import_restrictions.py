"""PagerDuty restrictions as Tocsin windows, and turn lengths as durations."""

from __future__ import annotations

import pytest

from bot.importers.restrictions import turn, windows


def test_a_weekly_restriction_over_several_days_is_cut_at_each_midnight() -> None:
    """Friday 18:00 for 62 hours: the weekend on call, until Monday 08:00."""
    weekend = {
        "type": "weekly_restriction",
        "start_day_of_week": 5,
        "start_time_of_day": "18:00:00",
        "duration_seconds": 62 * 3600,
    }
    assert windows([weekend]) == [
        {"days": ["mon"], "hours": "00:00-08:00"},
        {"days": ["sat", "sun"], "hours": "00:00-24:00"},
        {"days": ["fri"], "hours": "18:00-24:00"},
    ]


def test_daily_restrictions_wrap_past_midnight_and_a_whole_day_is_none() -> None:
    nights = {
        "type": "daily_restriction",
        "start_time_of_day": "22:00:00",
        "duration_seconds": 36000,
    }
    assert windows([nights]) == [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": "22:00-08:00"}
    ]
    whole = {
        "type": "daily_restriction",
        "start_time_of_day": "07:00:00",
        "duration_seconds": 86400,
    }
    assert windows([whole]) is None
    assert windows([]) is None


def test_an_unknown_restriction_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'monthly_restriction'"):
        windows([{"type": "monthly_restriction", "duration_seconds": 60}])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(604800, "1w"), (1209600, "2w"), (86400, "1d"), (43200, "12h"), (5400, "90m"), (61, "61s")],
)
def test_turns(seconds: int, text: str) -> None:
    assert turn(seconds) == text
