"""Handoffs, pure: where who is on call changes (restrictions and live overrides included,
across DST), who goes off and on, and what the summary gathers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.handoff import Note, handoff_at, handoffs_between, summary
from bot.domain.incident import Incident, Roles
from bot.domain.schedule import Override, Restriction, Rotation, Schedule

WEEKDAYS = frozenset(range(5))


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# Berlin, daily turns at 09:00 local, weekdays 08:00-20:00 only; DST starts Sun 2026-03-29.
DAYTIME = Schedule(
    "eu",
    "Europe/Berlin",
    (
        Rotation(
            ("A", "B"),
            datetime(2026, 3, 24, 9),  # noqa: DTZ001 - wall-clock
            timedelta(days=1),
            Restriction(
                WEEKDAYS, datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=20)
            ),
        ),
    ),
)


def test_handoffs_follow_restrictions_and_local_time_across_dst() -> None:
    """Fri 27th: A from 08:00 CET, B from the 09:00 turn, off at 20:00; Mon 30th (CEST):
    on at 08:00 local = 06:00Z, the turn at 09:00 local = 07:00Z."""
    found = handoffs_between(DAYTIME, utc(3, 27, 6), utc(3, 30, 12))
    assert found == [utc(3, 27, 7), utc(3, 27, 8), utc(3, 27, 19), utc(3, 30, 6), utc(3, 30, 7)]
    friday = handoff_at(DAYTIME, utc(3, 27, 8))
    assert friday is not None
    assert (friday.off, friday.on, friday.since) == (
        ("A",),
        (("B", utc(3, 27, 19)),),
        utc(3, 27, 7),
    )
    evening = handoff_at(DAYTIME, utc(3, 27, 19))
    assert evening is not None
    assert (evening.off, evening.on) == (("B",), ())
    assert handoff_at(DAYTIME, utc(3, 28, 9)) is None  # a weekend turn changes nothing


def test_a_live_override_moves_handoffs_and_fences_the_old_one() -> None:
    covered = replace(DAYTIME, live=(Override("C", utc(3, 27, 7), utc(3, 27, 12)),))
    assert handoff_at(covered, utc(3, 27, 8)) is None  # C covers across B's turn start
    at_noon = handoff_at(covered, utc(3, 27, 12))
    assert at_noon is not None
    assert (at_noon.off, at_noon.on, at_noon.since) == (
        ("C",),
        (("B", utc(3, 27, 19)),),
        utc(3, 27, 7),
    )


def incident(number: int, declared: datetime, **changes: object) -> Incident:
    base = Incident(f"20260327-{number}", f"Incident {number}", "api", "sev2", "Z", declared)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_summary_gathers_open_incidents_the_ending_shift_and_its_notes() -> None:
    handoff = handoff_at(DAYTIME, utc(3, 27, 8))
    assert handoff is not None
    acked = incident(1, utc(3, 27, 7, 10), paged=("A",), acknowledged_at=utc(3, 27, 7, 14))
    commanded = incident(2, utc(3, 20), roles=Roles(commander="B"))
    stranger = incident(3, utc(3, 27, 7, 30), paged=("Q",))
    earlier = incident(4, utc(3, 26), paged=("A",))
    notes = [
        Note("A", utc(3, 27, 7, 40), "db-3 disk"),
        Note("A", utc(3, 26, 7), "old news"),
        Note("B", utc(3, 27, 7, 50), "not the outgoing one"),
    ]
    told = summary(DAYTIME, handoff, [acked, commanded, stranger, earlier], notes)
    assert [i.id for i in told.still_open] == [acked.id, commanded.id, earlier.id]
    assert [(d.incident.id, d.paged, d.seconds_to_ack) for d in told.during] == [
        (acked.id, ("A",), 240.0)
    ]
    assert [n.text for n in told.notes] == ["db-3 disk"]
