"""Runbooks as the bot reads them: front matter, a triage decision tree, the Markdown body.

Pure: `bot.config.runbooks` loads and validates the files into these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from bot.domain.catalog import DEFAULT_SERVICE
from bot.domain.containment import ContainmentAction


class ActionKind(StrEnum):
    """The kinds of first containment action a triage branch may name."""

    REDUCE_TRAFFIC = "reduce traffic"
    ROLL_BACK = "roll back"
    DEGRADED_MODE = "degraded mode"
    ESCALATE = "escalate"
    INVESTIGATE = "investigate"


@dataclass(frozen=True)
class Branch:
    """`If <symptom> → <action_kind>: <action_text>`, refined by `children`."""

    symptom: str
    action_kind: ActionKind
    action_text: str
    children: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class Runbook:
    path: str
    title: str
    services: tuple[str, ...]
    alerts: tuple[str, ...]
    triage: tuple[Branch, ...]
    body: str  # the Markdown after the front matter
    severity_hint: str | None = None
    actions: tuple[ContainmentAction, ...] = ()  # buttons under the runbook's post

    def action(self, action_id: str) -> ContainmentAction | None:
        return next((a for a in self.actions if a.id == action_id), None)


@dataclass(frozen=True)
class RunbookIndex:
    """The loaded runbooks in path order, with lookups by service and alert."""

    runbooks: tuple[Runbook, ...] = ()

    def all(self) -> tuple[Runbook, ...]:
        return self.runbooks

    def for_service(self, service: str) -> Runbook | None:
        """The first runbook naming `service`, else the first one for every service (`*`)."""
        for wanted in (service, DEFAULT_SERVICE):
            for runbook in self.runbooks:
                if wanted in runbook.services:
                    return runbook
        return None

    def for_alert(self, name: str) -> Runbook | None:
        """The runbook for alert `name`: an exact listing beats an fnmatch pattern (`Edge*`),
        which beats the catch-all `*`; ties go to the first runbook in path order."""
        ranked: list[tuple[int, int, Runbook]] = []
        for order, runbook in enumerate(self.runbooks):
            for pattern in runbook.alerts:
                if pattern == name:
                    ranked.append((0, order, runbook))
                elif fnmatchcase(name, pattern):
                    ranked.append((2 if pattern == DEFAULT_SERVICE else 1, order, runbook))
        return min(ranked, key=lambda item: item[:2])[2] if ranked else None
