"""The loaded configuration: policies, schedules and severity tiers, and how a route is chosen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.domain.alerts.sources import AlertSource
from bot.domain.drills import ScheduledDrill, SelfTest
from bot.domain.notify import People
from bot.domain.policy import Policy
from bot.domain.schedule import Schedule
from bot.domain.severity import Tier

DEFAULT_SERVICE = "*"


@dataclass(frozen=True)
class Catalog:
    """Everything the config directory defines; read-only once built.

    `tiers` are ordered most severe first.
    """

    policies: Mapping[str, Policy] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    tiers: tuple[Tier, ...] = ()
    alert_sources: Mapping[str, AlertSource] = field(default_factory=dict)
    drills: tuple[ScheduledDrill, ...] = ()  # fired on their cron (bot.drills.schedule)
    self_test: SelfTest | None = None  # a page to each on-call person (bot.drills.selftest)
    people: People = field(default_factory=People)  # how each person is paged (people.yaml)

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", MappingProxyType(dict(self.policies)))
        object.__setattr__(self, "schedules", MappingProxyType(dict(self.schedules)))
        object.__setattr__(self, "tiers", tuple(self.tiers))
        object.__setattr__(self, "alert_sources", MappingProxyType(dict(self.alert_sources)))

    def tier(self, name: str) -> Tier:
        """The tier called `name`; KeyError naming the known tiers otherwise."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        known = ", ".join(t.name for t in self.tiers) or "none"
        raise KeyError(f"unknown severity {name!r} (known: {known})")

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    def policy_for(self, service: str, severity: str) -> Policy | None:
        """The policy that routes `service` at `severity`, or None.

        Preference: a policy naming the service and the severity; then one naming the
        service for every severity; then the same two for the default service `"*"`.
        Ties (which the loader rejects) go to the policy whose name sorts first.
        """
        for wanted in (service, DEFAULT_SERVICE):
            explicit, general = None, None
            for name in sorted(self.policies):
                policy = self.policies[name]
                if wanted not in policy.services:
                    continue
                if severity in policy.severities and explicit is None:
                    explicit = policy
                elif not policy.severities and general is None:
                    general = policy
            if explicit or general:
                return explicit or general
        return None
