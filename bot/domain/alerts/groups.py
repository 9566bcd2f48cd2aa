"""How a notification's alerts fall into groups, and what a notification changes in a group.

A group is what becomes one incident. Its state is the last status seen of each alert
(by fingerprint); a notification changes the group only by alerts whose status differs,
which makes a resent notification (Alertmanager resends whole groups, resolved alerts
more than once) change nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.alerts.payloads import FIRING, RESOLVED, Alert, Notification
from bot.domain.alerts.sources import FINGERPRINT, GROUP_KEY

KEY_LABELS = ("service", "job", "instance", "cluster", "namespace")  # shown in a title
TITLE_MAX = 150


def group_id(text: str) -> str:
    """A short id for a group's key text (keys may be long and hold any character)."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def split(group_by: str | tuple[str, ...], note: Notification) -> dict[str, list[Alert]]:
    """The notification's alerts by group id, in the order they came."""
    groups: dict[str, list[Alert]] = {}
    for alert in note.alerts:
        if isinstance(group_by, tuple):
            text = ",".join(f"{name}={alert.labels.get(name, '')}" for name in group_by)
        elif group_by == FINGERPRINT or (group_by == GROUP_KEY and not note.group_key):
            text = f"fp:{alert.fingerprint}"
        else:
            text = f"gk:{note.group_key}"
        groups.setdefault(group_id(text), []).append(alert)
    return groups


@dataclass(frozen=True)
class Change:
    fresh: tuple[Alert, ...]  # alerts new to the group, or whose status changed
    statuses: Mapping[str, str]  # every alert's status after the notification
    was_firing: bool
    firing: bool

    @property
    def nothing(self) -> bool:
        return not self.fresh

    @property
    def cleared(self) -> bool:
        """Every alert of the group has now resolved (and this notification did it)."""
        return self.was_firing and not self.firing and bool(self.fresh)

    @property
    def refired(self) -> bool:
        """The group fires again after having cleared."""
        return self.firing and not self.was_firing and bool(self.statuses)


def change(known: Mapping[str, str], alerts: Sequence[Alert]) -> Change:
    """What `alerts` change in a group whose alerts last had the statuses `known`."""
    statuses = dict(known)
    fresh = []
    for alert in alerts:
        if statuses.get(alert.fingerprint) == alert.status:
            continue
        if alert.status == RESOLVED and alert.fingerprint not in statuses and not known:
            continue  # a resolved alert of a group never seen firing opens nothing
        statuses[alert.fingerprint] = alert.status
        fresh.append(alert)
    was = FIRING in known.values()
    return Change(tuple(fresh), statuses, was, FIRING in statuses.values())


def title(alerts: Sequence[Alert]) -> str:
    """The `summary` annotation of the first firing alert, else its alertname and key labels."""
    first = next((a for a in alerts if a.status == FIRING), alerts[0])
    summary = first.annotations.get("summary", "").strip()
    if summary:
        return summary[:TITLE_MAX]
    name = first.labels.get("alertname") or "alert"
    keys = [f"{k}={first.labels[k]}" for k in KEY_LABELS if first.labels.get(k)]
    return (f"{name} ({', '.join(keys)})" if keys else name)[:TITLE_MAX]


def more_severe(tiers: Sequence[str], a: str, b: str) -> bool:
    """True when severity `a` ranks above `b` (tiers are ordered most severe first)."""
    rank = {name: i for i, name in enumerate(tiers)}
    return rank.get(a, len(tiers)) < rank.get(b, len(tiers))
