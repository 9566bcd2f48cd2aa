"""The model of `drills.yaml` (top-level `drills:`): drills fired on a cron schedule.

A cron expression is checked by croniter, the library that fires them
(`bot.drills.schedule`); the policy and severity are checked against the other files in
`bot.config.crossref`.
"""

from __future__ import annotations

from typing import Annotated

from croniter import croniter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.config.fields import TimezoneName
from bot.domain.drills import ScheduledDrill


def _cron(value: object) -> str:
    if not isinstance(value, str) or not croniter.is_valid(value) or len(value.split()) != 5:
        raise ValueError(
            f"{value!r} is not a cron expression of five fields "
            '(minute hour day month weekday, e.g. "0 15 * * 2")'
        )
    return value


Cron = Annotated[
    str,
    BeforeValidator(_cron),
    Field(description='Five cron fields: minute hour day month weekday, e.g. "0 15 * * 2".'),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DrillModel(_Model):
    """One scheduled drill."""

    policy: str = Field(min_length=1, description="The escalation policy drilled.")
    severity: str = Field(min_length=1, description="The severity level of the drill.")
    cron: Cron
    timezone: TimezoneName = "UTC"
    scenario: str | None = Field(
        default=None, min_length=1, description="A scenario in runbooks/drills/ (its name)."
    )

    def to_drill(self) -> ScheduledDrill:
        return ScheduledDrill(self.policy, self.severity, self.cron, self.timezone, self.scenario)


class DrillsFile(_Model):
    """`drills.yaml`: drills fired on a schedule."""

    drills: list[DrillModel] = Field(default_factory=list)
