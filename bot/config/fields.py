"""Validated scalar types of the config files, as pydantic `Annotated` types.

Each check raises ValueError with a message for people; the loader shows it after the
key path (`steps[1].wait: '5 minutes' is not a duration like 90s, 5m, 1h30m`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, WithJsonSchema

from bot.domain.durations import parse_duration
from bot.domain.policy import Target, TargetKind
from bot.domain.schedule import DAY_NAMES

DURATION_PATTERN = r"^(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$"
HOURS_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
WALL_CLOCK_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$"
CHANNEL_PATTERN = r"^[CG][A-Z0-9]{2,}$"
PRINCIPAL_PATTERN = r"^(anyone|responder|role:(commander|comms|scribe)|(user|usergroup):\S+)$"
ROLES = ("commander", "comms", "scribe")
SCHEDULE_PRINCIPAL_PATTERN = r"^(anyone|member|(user|usergroup):\S+)$"


def _show(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def duration_text(value: object) -> str:
    """`value` if it is a duration like 90s, 5m, 1h30m; ValueError saying why not."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value} is not a duration; add a unit, like {value}m or {value}s")
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a duration like 90s, 5m, 1h30m")
    parse_duration(value)
    return value.strip()


def _target(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a target like user:U123, schedule:NAME")
    return str(Target.parse(value))


def _timezone(value: object) -> str:
    hint = "use an IANA name like America/Chicago or Europe/Berlin"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{_show(value)} is not a timezone; {hint}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {value!r}; {hint}") from None
    return value


def _day(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in DAY_NAMES or text in _LONG_DAYS:
        return text[:3]
    raise ValueError(f"{_show(value)} is not a day; use {', '.join(DAY_NAMES)}")


_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _hours(value: object) -> str:
    if not isinstance(value, str) or not re.match(HOURS_PATTERN, value.strip()):
        raise ValueError(f"{_show(value)} is not a time window like 09:00-17:00")
    return value.strip()


def parse_hours(text: str) -> tuple[time, time]:
    """`09:00-17:00` -> (09:00, 17:00); an end of `24:00` is midnight."""
    start, end = text.split("-")
    return time.fromisoformat(start), time(0) if end == "24:00" else time.fromisoformat(end)


def _wall_clock(value: object) -> datetime:
    hint = "write wall-clock time like 2026-01-06T09:00, read in the schedule's timezone"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)  # noqa: DTZ001  # wall-clock
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time; {hint}") from None
    else:
        raise ValueError(f"{_show(value)} is not a date and time; {hint}")
    if moment.tzinfo is not None:
        raise ValueError(f"{_show(value)} has a UTC offset; {hint}, without an offset")
    return moment


def _channel(value: object) -> str:
    if not isinstance(value, str) or not re.match(CHANNEL_PATTERN, value.strip()):
        raise ValueError(f"{_show(value)} is not a Slack channel id like C0INCIDENTS")
    return value.strip()


def _principal(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not re.match(PRINCIPAL_PATTERN, text):
        raise ValueError(
            f"{_show(value)} is not a principal; use anyone, responder, "
            f"role:{'|'.join(ROLES)}, user:U…, usergroup:S…"
        )
    return text


def _schedule_principal(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not re.match(SCHEDULE_PRINCIPAL_PATTERN, text):
        raise ValueError(
            f"{_show(value)} is not a schedule principal; use anyone, member (of a rotation), "
            "user:U…, usergroup:S…"
        )
    return text


def _described(pattern: str, description: str, *examples: str) -> Any:
    return Field(
        description=description,
        examples=list(examples),
        json_schema_extra={"pattern": pattern},
    )


Duration = Annotated[
    str,
    BeforeValidator(duration_text),
    _described(DURATION_PATTERN, "A duration like 90s, 5m, 1h30m, 1w.", "5m", "1h30m"),
]
TargetText = Annotated[
    str,
    BeforeValidator(_target),
    _described(
        rf"^({'|'.join(k.value for k in TargetKind)}):\S+$",
        "Who to notify: user:<Slack id or email>, schedule:<name>, usergroup:<Slack id>, "
        "pagerduty:<name> or webhook:<name> (a service named in services.yaml).",
        "schedule:payments-primary",
        "user:U0LEAD1",
    ),
]
TimezoneName = Annotated[
    str,
    BeforeValidator(_timezone),
    Field(description="An IANA time zone name.", examples=["America/Chicago", "Europe/Berlin"]),
]
DayName = Annotated[
    str,
    BeforeValidator(_day),
    Field(description="A day of the week.", json_schema_extra={"enum": list(DAY_NAMES)}),
]
Hours = Annotated[
    str,
    BeforeValidator(_hours),
    _described(
        HOURS_PATTERN,
        "Local time window; an end at or before the start runs past midnight.",
        "09:00-17:00",
        "22:00-06:00",
    ),
]
WallClock = Annotated[
    datetime,
    BeforeValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": WALL_CLOCK_PATTERN,
            "description": "Wall-clock date and time in the schedule's timezone, no offset.",
            "examples": ["2026-01-06T09:00"],
        }
    ),
]
ChannelId = Annotated[
    str,
    BeforeValidator(_channel),
    _described(CHANNEL_PATTERN, "A Slack channel id (not a #name).", "C0INCIDENTS"),
]
Principal = Annotated[
    str,
    BeforeValidator(_principal),
    _described(PRINCIPAL_PATTERN, "Who holds a right.", "anyone", "role:commander"),
]
SchedulePrincipal = Annotated[
    str,
    BeforeValidator(_schedule_principal),
    _described(
        SCHEDULE_PRINCIPAL_PATTERN,
        "Who may override or swap shifts of the schedule from Slack.",
        "member",
        "usergroup:S0ENGMGRS",
    ),
]
