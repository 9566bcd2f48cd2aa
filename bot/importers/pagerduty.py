"""PagerDuty's exported JSON (REST API shapes) as Tocsin YAML.

Schedules: each `schedule_layers` entry becomes rotations (one per restriction window)
with `combine: top`, as PagerDuty's higher layers win: a higher `rendering_index` is
higher; without one, the first layer listed is taken as the top one.
`rotation_virtual_start` (in the schedule's zone) is the rotation's start,
`rotation_turn_length_seconds` its turn, members are the layer's users in order.
`overrides_subschedule` entries become overrides. Policies: each escalation rule is a step
(`escalation_delay_in_minutes` its wait), `num_loops` the repeat; services are the
policy's services by name. Users are written as their email when `--users` gives it.

What cannot be carried over is said in `Imported.lost`, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.importers.equivalence import Entry
from bot.importers.restrictions import turn, windows

Json = Mapping[str, Any]
MAX_REPEAT = 9


@dataclass
class Imported:
    files: dict[str, Any] = field(default_factory=dict)  # file name -> YAML document
    lost: list[str] = field(default_factory=list)
    rendered: dict[str, list[Entry]] = field(default_factory=dict)  # schedule -> entries


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unnamed"


def items(data: Any, key: str) -> list[Json]:
    """The objects of an export: `{key: [...]}`, `{singular: {...}}`, a list, or one object."""
    if isinstance(data, Mapping):
        if isinstance(data.get(key), list):
            return list(data[key])
        single = key.removesuffix("s")
        if isinstance(data.get(single), Mapping):
            return [data[single]]
        return [data]
    if isinstance(data, list):
        return [d for d in data if isinstance(d, Mapping)]
    raise ValueError(f"expected an object or a list of {key}")


class People:
    def __init__(self, users: Sequence[Json], imported: Imported) -> None:
        self.emails = {str(u["id"]): str(u["email"]) for u in users if u.get("email")}
        self.imported = imported
        self.missing: set[str] = set()

    def ref(self, user: Json) -> str:
        uid = str(user.get("id", ""))
        if uid in self.emails:
            return self.emails[uid]
        if uid not in self.missing:
            self.missing.add(uid)
            name = user.get("summary") or user.get("name") or uid
            self.imported.lost.append(
                f"user {name} ({uid}): no email known (from --users); written as its "
                "PagerDuty id, which Tocsin cannot page: replace it with a Slack id or email"
            )
        return uid


def wall_clock(text: str, zone: ZoneInfo) -> str:
    """An instant (or a naive time) as naive wall-clock text in `zone`."""
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    local = moment.astimezone(zone) if moment.tzinfo else moment
    return local.replace(tzinfo=None).isoformat(timespec="seconds")


def _layer(layer: Json, zone: ZoneInfo, people: People, where: str, out: Imported) -> list[Any]:
    users = [people.ref(u.get("user", u)) for u in layer.get("users", [])]
    if not users:
        out.lost.append(f"{where}: no users; left out")
        return []
    if layer.get("end"):
        out.lost.append(
            f"{where}: ends at {layer['end']}; Tocsin rotations do not end, so it runs on"
        )
    start = str(layer.get("rotation_virtual_start") or layer.get("start") or "")
    if not start:
        out.lost.append(f"{where}: no rotation_virtual_start; left out")
        return []
    if layer.get("start") and wall_clock(layer["start"], zone) > wall_clock(start, zone):
        out.lost.append(
            f"{where}: takes effect at {layer['start']}, after its rotation's virtual start; "
            "Tocsin starts it at the virtual start"
        )
    rotation = {
        "members": users,
        "start": wall_clock(start, zone),
        "turn": turn(int(layer["rotation_turn_length_seconds"])),
    }
    try:
        restricted = windows(layer.get("restrictions") or [])
    except ValueError as exc:
        out.lost.append(f"{where}: {exc} cannot be carried over; the layer is unrestricted")
        restricted = None
    if restricted is None:
        return [rotation]
    return [{**rotation, "restrict": window} for window in restricted]


def _entries(rendered: Any, people: People) -> list[Entry]:
    found = []
    for entry in rendered or []:
        user = entry.get("user") or {}
        start = datetime.fromisoformat(str(entry["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(entry["end"]).replace("Z", "+00:00"))
        found.append(Entry(start, end, people.ref(user)))
    return found


def schedules(data: Any, people: People, out: Imported) -> dict[str, str]:
    """Convert the schedules; their Tocsin names by PagerDuty id."""
    names: dict[str, str] = {}
    converted: dict[str, Any] = {}
    for schedule in items(data, "schedules"):
        name = slug(str(schedule.get("name") or schedule.get("id")))
        names[str(schedule.get("id"))] = name
        zone = ZoneInfo(str(schedule.get("time_zone", "UTC")))
        ranked = []
        for n, layer in enumerate(schedule.get("schedule_layers", [])):
            where = f"schedule {name} layer {layer.get('name') or n + 1}"
            # A higher `rendering_index` is on top; without one, the API lists the top first.
            rank = layer.get("rendering_index", -n)
            ranked.append((rank, _layer(layer, zone, people, where, out)))
        # Tocsin's `combine: top` takes the last-listed rotation: lowest layer first.
        rotations = [r for _, pieces in sorted(ranked, key=lambda p: p[0]) for r in pieces]
        if not rotations:
            out.lost.append(f"schedule {name}: no layer with users; left out")
            continue
        body: dict[str, Any] = {"timezone": str(zone), "combine": "top", "rotations": rotations}
        overrides = _entries(
            (schedule.get("overrides_subschedule") or {}).get("rendered_schedule_entries"), people
        )
        if overrides:
            body["overrides"] = [
                {
                    "user": o.user,
                    "start": wall_clock(o.start.isoformat(), zone),
                    "end": wall_clock(o.end.isoformat(), zone),
                }
                for o in overrides
            ]
        converted[name] = body
        final = (schedule.get("final_schedule") or {}).get("rendered_schedule_entries")
        if final:
            out.rendered[name] = _entries(final, people)
    if converted:
        out.files["schedules.yaml"] = {"schedules": converted}
    return names


def policies(data: Any, names: Mapping[str, str], people: People, out: Imported) -> None:
    for policy in items(data, "escalation_policies"):
        name = slug(str(policy.get("name") or policy.get("id")))
        steps = []
        for n, rule in enumerate(policy.get("escalation_rules", []), 1):
            where = f"policy {name} rule {n}"
            strategy = (rule.get("escalation_rule_assignment_strategy") or {}).get("type")
            if strategy == "round_robin":
                out.lost.append(
                    f"{where}: round-robin assignment; Tocsin pages every target of a step"
                )
            targets = []
            for target in rule.get("targets", []):
                kind = str(target.get("type", "")).removesuffix("_reference")
                if kind == "schedule" and str(target.get("id")) in names:
                    targets.append(f"schedule:{names[str(target['id'])]}")
                elif kind == "user":
                    targets.append(f"user:{people.ref(target)}")
                else:
                    out.lost.append(f"{where}: target {target.get('id')} ({kind}) left out")
            if targets:
                wait = int(rule.get("escalation_delay_in_minutes", 30))
                steps.append({"notify": targets, "wait": f"{max(1, wait)}m"})
        if not steps:
            out.lost.append(f"policy {name}: no step with a target; left out")
            continue
        loops = int(policy.get("num_loops") or 0)
        if loops > MAX_REPEAT:
            out.lost.append(f"policy {name}: num_loops {loops}; Tocsin repeats at most 9 times")
        services = [
            slug(str(s.get("summary") or s.get("name") or s.get("id")))
            for s in policy.get("services", [])
        ]
        if not services:
            services = [name]
            out.lost.append(f"policy {name}: no services; it routes a service called {name}")
        out.files[f"{name}.yaml"] = {
            "name": name,
            "services": services,
            "steps": steps,
            "repeat": min(loops, MAX_REPEAT),
        }


SEVERITIES = {
    "severities": {
        "sev1": {"label": "Critical", "update_every": "30m"},
        "sev2": {"label": "Major", "update_every": "1h"},
        "sev3": {"label": "Minor", "update_every": "4h"},
    }
}


def convert(escalation_policies: Any, schedule_data: Any, users: Any | None) -> Imported:
    out = Imported()
    people = People(items(users, "users") if users is not None else [], out)
    names = schedules(schedule_data, people, out)
    policies(escalation_policies, names, people, out)
    out.files["severities.yaml"] = SEVERITIES
    out.lost.append("severities: PagerDuty has none to import; Tocsin's sev1-sev3 are written")
    return out
