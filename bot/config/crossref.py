"""Checks across files: names defined twice, references to names never defined, ambiguous routes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.alerts import AlertsFile, RouteModel, SourceModel
from bot.config.drills import DrillsFile
from bot.config.models import PolicyFile
from bot.config.people import PeopleFile, address_problems
from bot.config.problems import KeyPath, Problem, at
from bot.config.validate import Checked, Kind
from bot.domain.policy import Target, TargetKind


@dataclass(frozen=True)
class _Place:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


_Route = tuple[str, str | None]  # (service, severity or None for every severity)
_Owner = tuple[str, _Place, int]  # (policy name, where, index in services)


def _names(checked: Checked, top: str) -> dict[str, _Place]:
    """Names defined under a top-level mapping, read from the raw data so that they are
    known even when the file's shape is wrong (no noise about unknown names then)."""
    data = checked.loaded.data
    block = data.get(top) if isinstance(data, Mapping) else None
    if not isinstance(block, Mapping):
        return {}
    lines = checked.loaded.lines
    return {k: _Place(checked.path, lines.line((top, k), key=True)) for k in block if str(k) == k}


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) if known else "none defined"
    return f"unknown {kind} {name!r} (known: {listed}){hint}"


def cross_check(files: list[Checked]) -> list[Problem]:
    """Problems that only show when all files are read together."""
    schedules, problems = _defined_once([f for f in files if f.kind is Kind.SCHEDULES], "schedules")
    severity_files = [f for f in files if f.kind is Kind.SEVERITIES]
    for extra in severity_files[1:]:
        first = severity_files[0].path
        msg = f"severities are already defined in {first}; keep them in one file, most severe first"
        line = extra.loaded.lines.line(("severities",), key=True)
        problems.append(Problem(extra.path, line, msg))
    severities = _names(severity_files[0], "severities") if severity_files else {}
    policies = [f for f in files if f.kind is Kind.POLICY]
    services = [f for f in files if f.kind is Kind.SERVICES]
    pagerduty, twice = _defined_once(services, "pagerduty")
    webhooks, again = _defined_once(services, "webhooks")
    problems += twice + again
    defined = {
        TargetKind.SCHEDULE: set(schedules),
        TargetKind.PAGERDUTY: set(pagerduty),
        TargetKind.WEBHOOK: set(webhooks),
    }
    problems += _check_policies(policies, defined, set(severities))
    problems += _check_alert_sources([f for f in files if f.kind is Kind.ALERTS], set(severities))
    known = {str(f.loaded.data.get("name")) for f in policies if isinstance(f.loaded.data, Mapping)}
    drills = [f for f in files if f.kind is Kind.DRILLS]
    problems += _check_drills(drills, known, set(severities))
    problems += _check_self_test(drills, set(schedules))
    problems += _check_people([f for f in files if f.kind is Kind.PEOPLE])
    return problems


def _check_people(files: list[Checked]) -> list[Problem]:
    """One people file, and every rule of a person names a method they have an address for."""
    problems = []
    for extra in files[1:]:
        msg = f"people are already defined in {files[0].path}; keep them in one file"
        problems.append(Problem(extra.path, 1, msg))
    for f in files:
        if isinstance(f.model, PeopleFile):
            problems += address_problems(f.path, f.loaded.lines, f.model)
    return problems


def _check_drills(files: list[Checked], policies: set[str], severities: set[str]) -> list[Problem]:
    """Each scheduled drill names a policy and a severity defined in the other files."""
    problems = []
    for f in files:
        if not isinstance(f.model, DrillsFile):
            continue
        for n, drill in enumerate(f.model.drills):
            for field, name, known, kind in (
                ("policy", drill.policy, policies, "policy"),
                ("severity", drill.severity, severities, "severity"),
            ):
                if name not in known:
                    where = ("drills", n, field)
                    line = f.loaded.lines.line(where)
                    problems.append(at(f.path, line, where, _unknown(kind, name, known)))
    return problems


def _check_self_test(files: list[Checked], schedules: set[str]) -> list[Problem]:
    """The self-test is configured once, and pages only schedules that exist."""
    problems = []
    first: str | None = None
    for f in files:
        if not isinstance(f.model, DrillsFile) or f.model.self_test is None:
            continue
        if first is not None:
            line = f.loaded.lines.line(("self_test",), key=True)
            problems.append(Problem(f.path, line, f"self_test is already configured in {first}"))
            continue
        first = str(f.path)
        for n, name in enumerate(f.model.self_test.schedules or ()):
            if name not in schedules:
                where = ("self_test", "schedules", n)
                line = f.loaded.lines.line(where)
                problems.append(at(f.path, line, where, _unknown("schedule", name, schedules)))
    return problems


def _check_alert_sources(files: list[Checked], severities: set[str]) -> list[Problem]:
    """Each source is defined once and routes only to severities that exist."""
    problems: list[Problem] = []
    seen: dict[str, _Place] = {}
    for f in files:
        for name, place in _names(f, "alert_sources").items():
            if name in seen:
                msg = f"already defined at {seen[name]}"
                problems.append(at(f.path, place.line, ("alert_sources", name), msg))
            seen.setdefault(name, place)
        if not isinstance(f.model, AlertsFile) or not severities:
            continue
        for name, source in f.model.alert_sources.items():
            for keys, severity in _route_severities(source):
                if severity not in severities:
                    where = ("alert_sources", name, *keys)
                    msg = _unknown("severity", severity, severities)
                    problems.append(at(f.path, f.loaded.lines.line(where), where, msg))
    return problems


def _route_severities(source: SourceModel) -> list[tuple[KeyPath, str]]:
    found: list[tuple[KeyPath, str]] = []
    named: list[tuple[KeyPath, RouteModel]] = [(("default",), source.default)]
    named += [(("routes", i), r) for i, r in enumerate(source.routes)]
    for keys, route in named:
        if route.severity:
            found.append(((*keys, "severity"), route.severity))
        if route.severity_from is not None:
            sf = route.severity_from
            found += [((*keys, "severity_from", "map", k), v) for k, v in sf.map.items()]
            found.append(((*keys, "severity_from", "default"), sf.default))
    return found


def _texts(data: Mapping[Any, Any], key: str) -> list[tuple[int, str]]:
    """(index, text) of the text items of list `key` in raw data; others are skipped."""
    items = data.get(key)
    return (
        [(i, v) for i, v in enumerate(items) if isinstance(v, str)]
        if isinstance(items, list)
        else []
    )


def _target_refs(data: Mapping[Any, Any]) -> list[tuple[KeyPath, Target]]:
    """Targets named by a policy's steps, read leniently from raw data."""
    steps = data.get("steps")
    found: list[tuple[KeyPath, Target]] = []
    for s, step in enumerate(steps if isinstance(steps, list) else []):
        for t, text in _texts(step, "notify") if isinstance(step, Mapping) else []:
            try:
                target = Target.parse(text)
            except ValueError:
                continue  # reported by shape validation
            found.append((("steps", s, "notify", t), target))
    return found


# The targets a policy names that must be defined in another file, and the word for each.
_DEFINED = {
    TargetKind.SCHEDULE: "schedule",
    TargetKind.PAGERDUTY: "PagerDuty service",
    TargetKind.WEBHOOK: "webhook",
}


def _defined_once(files: list[Checked], top: str) -> tuple[dict[str, _Place], list[Problem]]:
    """Names under `top` across `files`; a name defined twice is a problem at the second."""
    seen: dict[str, _Place] = {}
    problems = []
    for f in files:
        for name, place in _names(f, top).items():
            if name in seen:
                msg = f"already defined at {seen[name]}"
                problems.append(at(f.path, place.line, (top, name), msg))
            seen.setdefault(name, place)
    return seen, problems


def _check_policies(
    files: list[Checked], defined: Mapping[TargetKind, set[str]], severities: set[str]
) -> list[Problem]:
    """Names and references are checked even in a policy whose shape is wrong; routes only in
    valid ones."""
    problems: list[Problem] = []
    names: dict[str, _Place] = {}
    routes: dict[_Route, _Owner] = {}
    for f in files:
        data, line = f.loaded.data, f.loaded.lines.line
        name = data.get("name")
        if isinstance(name, str) and name in names:
            msg = f"policy name {name!r} is already used at {names[name]}"
            problems.append(at(f.path, line(("name",)), ("name",), msg))
        elif isinstance(name, str):
            names[name] = _Place(f.path, line(("name",)))
        for keys, target in _target_refs(data):
            known = defined.get(target.kind)
            if known is not None and target.ref not in known:
                msg = _unknown(_DEFINED[target.kind], target.ref, known)
                problems.append(at(f.path, line(keys), keys, msg))
        for i, severity in _texts(data, "severities"):
            if severity not in severities:
                msg = _unknown("severity", severity, severities)
                problems.append(at(f.path, line(("severities", i)), ("severities", i), msg))
        if isinstance(f.model, PolicyFile):
            problems += _claim_routes(f, f.model, routes)
    return problems


def _claim_routes(f: Checked, policy: PolicyFile, routes: dict[_Route, _Owner]) -> list[Problem]:
    """Record (service, severity) pairs; a pair claimed twice makes routing ambiguous."""
    problems = []
    for i, service in enumerate(policy.services):
        place = _Place(f.path, f.loaded.lines.line(("services", i)))
        serves: list[str | None] = [*policy.severities] if policy.severities else [None]
        for severity in serves:
            name, first, first_index = routes.setdefault(
                (service, severity), (policy.name, place, i)
            )
            if first == place and first_index == i:
                continue
            if first.path == f.path:
                msg = f"service {service!r} is listed twice in this policy"
            else:
                msg = (
                    f"service {service!r} for {severity or 'every severity'} is also routed by "
                    f"policy {name!r} at {first}; routing would be ambiguous"
                )
            problems.append(at(f.path, place.line, ("services", i), msg))
            break
    return problems
