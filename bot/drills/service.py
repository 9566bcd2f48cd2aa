"""Starting a drill: a real incident of a chosen policy and severity, flagged `drill`.

The engine does the rest as for any incident (the `drill-…` channel, the pages by the real
pager, acknowledgement, updates, resolve); the flag keeps it out of the stakeholder and
fallback channels and out of every figure, and delivery marks all it says DRILL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from bot.config.problems import ConfigError
from bot.domain.catalog import DEFAULT_SERVICE, Catalog
from bot.domain.drills import Scenario
from bot.domain.incident import Incident
from bot.domain.policy import Policy
from bot.incident.commands import Engine
from bot.incident.spec import UserError
from bot.state.drill_timers import DrillTimers, inject_member

log = structlog.get_logger(__name__)


class Scenarios(Protocol):
    """Where scenarios are read from (`runbooks/drills/`, see `bot.config.scenarios`)."""

    def load(self, name: str) -> Scenario | None: ...

    def names(self) -> list[str]: ...


def drill_route(catalog: Catalog, policy: str | None, severity: str | None) -> tuple[Policy, str]:
    """The policy and severity a drill runs: `severity` or the least severe level, `policy`
    by name or the one routing every other service (`*`) at that severity."""
    if not catalog.tiers:
        raise UserError("no severity levels are configured: a drill needs one")
    level = severity or catalog.tiers[-1].name
    catalog.tier(level)  # KeyError naming the known levels
    known = ", ".join(f"`{name}`" for name in sorted(catalog.policies)) or "none"
    if policy is None:
        route = catalog.policy_for(DEFAULT_SERVICE, level)
        if route is None:
            raise UserError(f"no policy routes every service at {level}: name one ({known})")
        return route, level
    found = catalog.policies.get(policy)
    if found is None:
        raise UserError(f"`{policy}` is not an escalation policy (known: {known})")
    return found, level


def drill_service(policy: Policy) -> str:
    """The service a drill of `policy` is about: the first it names, `*` standing for all."""
    named = [s for s in policy.services if s != DEFAULT_SERVICE]
    return named[0] if named else DEFAULT_SERVICE


class Drills:
    def __init__(
        self,
        engine: Engine,
        catalog: Callable[[], Catalog],
        scenarios: Scenarios,
        timers: DrillTimers,
    ) -> None:
        self.engine, self.catalog = engine, catalog
        self.scenarios, self.timers = scenarios, timers

    def start(
        self,
        by: str,
        policy: str | None = None,
        severity: str | None = None,
        scenario: str | None = None,
    ) -> Incident:
        """Declare a drill of `policy` at `severity` for `by`; UserError for a bad name."""
        try:
            route, level = drill_route(self.catalog(), policy, severity)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None
        script = self._scenario(scenario) if scenario else None
        what = script.title if script else f"{route.name} paging"
        incident = self.engine.declare(
            title=f"Drill: {what}",
            service=drill_service(route),
            severity=level,
            declared_by=by,
            drill=True,
            route=route,
            description=f"A drill of the {route.name} policy: acknowledge the page, "
            "post an update, resolve when done.",
        )
        log.info("drill_started", incident_id=incident.id, policy=route.name, severity=level)
        if script:  # its events, each at its offset from the declaration
            start = incident.declared_at.timestamp()
            self.timers.arm_injects(
                {
                    inject_member(incident.id, script.name, n): start + event.at_s
                    for n, event in enumerate(script.events)
                }
            )
        return incident

    def _scenario(self, name: str) -> Scenario:
        try:
            found = self.scenarios.load(name)
        except ConfigError as exc:
            first = exc.problems[0]  # named by its file alone: a Slack user sees no host paths
            where = f"runbooks/drills/{name}.md:{first.line}"
            raise UserError(f"scenario `{name}` is broken: {where}: {first.message}") from None
        if found is None:
            known = ", ".join(f"`{n}`" for n in self.scenarios.names()) or "none"
            raise UserError(f"no scenario `{name}` in runbooks/drills/ (known: {known})")
        return found
