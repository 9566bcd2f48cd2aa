"""An alert source as `escalation_policies/alerts.yaml` defines it, and how it routes alerts.

Matchers read like Alertmanager's: a label equals a value, or with a leading `=~` matches a
regular expression anchored at both ends. The first route whose matchers all hold wins;
else the source's default applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class SourceKind(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    GENERIC = "generic"


class OnClear(StrEnum):
    NOTIFY = "notify"  # post in the thread, with a Resolve button
    MITIGATE = "mitigate"
    RESOLVE = "resolve"


GROUP_KEY = "group_key"
FINGERPRINT = "fingerprint"
ACTOR_PREFIX = "alerts:"
# The actor behind scheduled drills (bot.drills.schedule): a source of no alerts, read as such.
DRILL_SCHEDULE = "drill schedule"


def actor(source: str) -> str:
    """Who an incident names as its declarer when `source` opened it."""
    return f"{ACTOR_PREFIX}{source}"


def source_of(who: str) -> str | None:
    """The alert source behind an actor id, or None for a person."""
    return who.removeprefix(ACTOR_PREFIX) if who.startswith(ACTOR_PREFIX) else None


def source_may_act(declared_by: str, who: str) -> tuple[bool, str]:
    """An alert source may mitigate, resolve, reopen or re-rate only incidents it declared."""
    if declared_by == who:
        return True, "the alert source that declared it"
    return False, "an alert source acts only on the incidents it declared"


@dataclass(frozen=True)
class Matcher:
    label: str
    value: str  # exact, or a regex after a leading "=~"

    def holds(self, labels: Mapping[str, str]) -> bool:
        given = labels.get(self.label, "")
        if self.value.startswith("=~"):
            return re.fullmatch(self.value[2:], given) is not None
        return given == self.value


@dataclass(frozen=True)
class SeverityFrom:
    label: str
    map: Mapping[str, str]
    default: str

    def pick(self, labels: Mapping[str, str]) -> str:
        return self.map.get(labels.get(self.label, ""), self.default)


@dataclass(frozen=True)
class Route:
    matchers: tuple[Matcher, ...] = ()
    service: str = "*"
    severity: str | None = None
    severity_from: SeverityFrom | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.holds(labels) for m in self.matchers)

    def severity_for(self, labels: Mapping[str, str], fallback: str) -> str:
        if self.severity_from is not None:
            return self.severity_from.pick(labels)
        return self.severity or fallback


@dataclass(frozen=True)
class Storm:
    new_groups: int = 10
    within_s: int = 60


@dataclass(frozen=True)
class Heartbeat:
    alertname: str
    every_s: int


@dataclass(frozen=True)
class AlertSource:
    name: str
    kind: SourceKind
    token_env: str | None = None
    hmac_secret_env: str | None = None
    signature_header: str = "X-Grafana-Alerting-Signature"
    timestamp_header: str | None = None
    group_by: str | tuple[str, ...] = GROUP_KEY
    routes: tuple[Route, ...] = ()
    default: Route = field(default_factory=lambda: Route(severity="sev3"))
    on_clear: OnClear = OnClear.NOTIFY
    reopen_within_s: int = 1800
    storm: Storm = field(default_factory=Storm)
    heartbeat: Heartbeat | None = None

    def route(self, labels: Mapping[str, str], fallback_severity: str) -> tuple[str, str]:
        """(service, severity) for alerts with these labels."""
        chosen = next((r for r in self.routes if r.matches(labels)), self.default)
        fallback = self.default.severity or fallback_severity
        return chosen.service, chosen.severity_for(labels, fallback)

    def severities(self) -> list[str]:
        """Every severity the source can route to (checked against the severities file)."""
        found: list[str] = []
        for r in (*self.routes, self.default):
            found += [r.severity] if r.severity else []
            if r.severity_from is not None:
                found += [*r.severity_from.map.values(), r.severity_from.default]
        return found
