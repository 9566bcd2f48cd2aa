"""Opsgenie's exported JSON (REST API shapes) as Tocsin YAML.

Schedules (`{"data": [...]}` of the schedules API with `rotations`): each rotation is a
Tocsin rotation (`startDate` in the schedule's zone, `type` and `length` its turn, user
participants by username, which is their email), its time restriction one window per
distinct hours; all rotations are on call together, as in Opsgenie (`combine: all`).
Escalations: a rule's delay counts from the alert, so rules are grouped by delay into steps
and each step waits until the next one's delay; the last waits the repeat's
`waitInterval`. An escalation routes the service named by its owner team (else its own name).

What cannot be carried over is said in `Imported.lost`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from bot.importers.pagerduty import SEVERITIES, Imported, slug, wall_clock
from bot.importers.restrictions import WEEK, windows

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TURN = {"weekly": "w", "daily": "d", "hourly": "h"}
MAX_REPEAT = 9


def _data(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict):
        document = document.get("data", [document])
    if isinstance(document, dict):
        document = [document]
    return [d for d in document if isinstance(d, dict)]


def _at(hour: Any, minute: Any) -> str:
    return f"{int(hour or 0):02d}:{int(minute or 0):02d}:00"


def _restriction(found: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Opsgenie's time restriction as PagerDuty-shaped restrictions, for `windows`."""
    if not found:
        return []
    if found.get("type") == "time-of-day":
        r = found.get("restriction") or {}
        start = int(r.get("startHour", 0)) * 60 + int(r.get("startMin", 0))
        end = int(r.get("endHour", 0)) * 60 + int(r.get("endMin", 0))
        length = ((end - start) % 1440 or 1440) * 60
        return [
            {
                "type": "daily_restriction",
                "start_time_of_day": _at(r.get("startHour"), r.get("startMin")),
                "duration_seconds": length,
            }
        ]
    pieces = []
    for r in found.get("restrictions", []):
        first = _DAYS.index(str(r["startDay"]).lower())
        last = _DAYS.index(str(r["endDay"]).lower())
        start = first * 1440 + int(r.get("startHour", 0)) * 60 + int(r.get("startMin", 0))
        end = last * 1440 + int(r.get("endHour", 0)) * 60 + int(r.get("endMin", 0))
        pieces.append(
            {
                "type": "weekly_restriction",
                "start_day_of_week": first + 1,
                "start_time_of_day": _at(r.get("startHour"), r.get("startMin")),
                "duration_seconds": ((end - start) % (WEEK // 60) or WEEK // 60) * 60,
            }
        )
    return pieces


def _rotation(rotation: dict[str, Any], zone: str, where: str, out: Imported) -> list[Any]:
    members = []
    for p in rotation.get("participants", []):
        if p.get("type") == "user" and p.get("username"):
            members.append(str(p["username"]))
        else:
            out.lost.append(f"{where}: a {p.get('type')} participant left out (users only)")
    unit = _TURN.get(str(rotation.get("type")))
    if not members or unit is None:
        out.lost.append(f"{where}: no users or an unknown rotation type; left out")
        return []
    if rotation.get("endDate"):
        out.lost.append(f"{where}: ends at {rotation['endDate']}; Tocsin rotations do not end")
    base = {
        "members": members,
        "start": wall_clock(str(rotation["startDate"]), ZoneInfo(zone)),
        "turn": f"{int(rotation.get('length', 1))}{unit}",
    }
    try:
        restricted = windows(_restriction(rotation.get("timeRestriction")))
    except ValueError as exc:
        out.lost.append(f"{where}: {exc} cannot be carried over; unrestricted")
        restricted = None
    return [base] if restricted is None else [{**base, "restrict": w} for w in restricted]


def _schedules(document: Any, out: Imported) -> None:
    converted = {}
    for schedule in _data(document):
        name = slug(str(schedule.get("name") or schedule.get("id")))
        zone = str(schedule.get("timezone") or "UTC")
        if schedule.get("enabled") is False:
            out.lost.append(f"schedule {name}: disabled in Opsgenie; imported enabled")
        rotations = []
        for n, rotation in enumerate(schedule.get("rotations", []), 1):
            where = f"schedule {name} rotation {rotation.get('name') or n}"
            rotations += _rotation(rotation, zone, where, out)
        if rotations:
            converted[name] = {"timezone": zone, "rotations": rotations}
        else:
            out.lost.append(f"schedule {name}: no rotation with users; left out")
    if converted:
        out.files["schedules.yaml"] = {"schedules": converted}


def _minutes(delay: dict[str, Any] | None) -> int:
    amount = int((delay or {}).get("timeAmount", 0))
    return amount * {"hours": 60, "days": 1440}.get(str((delay or {}).get("timeUnit")), 1)


def _escalations(document: Any, schedules: set[str], out: Imported) -> None:
    for escalation in _data(document):
        name = slug(str(escalation.get("name") or escalation.get("id")))
        by_delay: dict[int, list[str]] = defaultdict(list)
        for n, rule in enumerate(escalation.get("rules", []), 1):
            where = f"escalation {name} rule {n}"
            if rule.get("condition", "if-not-acked") != "if-not-acked":
                out.lost.append(f"{where}: condition {rule['condition']}; Tocsin stops at ack")
            recipient = rule.get("recipient") or {}
            kind, ref = recipient.get("type"), recipient.get("name") or recipient.get("username")
            if rule.get("notifyType", "default") != "default":
                out.lost.append(f"{where}: notifyType {rule['notifyType']}; paged as default")
            if kind == "schedule" and slug(str(ref)) in schedules:
                by_delay[_minutes(rule.get("delay"))].append(f"schedule:{slug(str(ref))}")
            elif kind == "user" and ref:
                by_delay[_minutes(rule.get("delay"))].append(f"user:{ref}")
            else:
                out.lost.append(f"{where}: a {kind} recipient left out")
        delays = sorted(by_delay)
        if not delays:
            out.lost.append(f"escalation {name}: no rule with a recipient; left out")
            continue
        repeat = escalation.get("repeat") or {}
        last_wait = int(repeat.get("waitInterval") or 5)
        steps = [
            {
                "notify": list(dict.fromkeys(by_delay[d])),
                "wait": f"{max(1, (delays[i + 1] - d) if i + 1 < len(delays) else last_wait)}m",
            }
            for i, d in enumerate(delays)
        ]
        if delays[0]:
            out.lost.append(
                f"escalation {name}: the first rule waits {delays[0]}m; Tocsin pages at once"
            )
        count = int(repeat.get("count") or 0)
        if count > MAX_REPEAT:
            out.lost.append(f"escalation {name}: repeats {count} times; Tocsin at most 9")
        team = (escalation.get("ownerTeam") or {}).get("name")
        out.files[f"{name}.yaml"] = {
            "name": name,
            "services": [slug(str(team or name))],
            "steps": steps,
            "repeat": min(count, MAX_REPEAT),
        }


def convert(escalations: Any, schedule_data: Any) -> Imported:
    out = Imported()
    _schedules(schedule_data, out)
    known = set((out.files.get("schedules.yaml") or {}).get("schedules", {}))
    _escalations(escalations, known, out)
    out.files["severities.yaml"] = SEVERITIES
    out.lost.append(
        "severities: Opsgenie priorities are not imported; Tocsin's sev1-sev3 are written"
    )
    return out
