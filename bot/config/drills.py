"""The model of `drills.yaml`: drills fired on a cron schedule (`drills:`), and the weekly
self-test (`self_test:`), a drill-marked page to each schedule's on-call person.

A cron expression is checked by croniter, the library that fires them
(`bot.drills.schedule`); the policy and severity are checked against the other files in
`bot.config.crossref`, as are the self-test's schedules.
"""

from __future__ import annotations

from typing import Annotated

from croniter import croniter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.config.fields import ChannelId, Duration, TimezoneName
from bot.domain.drills import ScheduledDrill, SelfTest
from bot.domain.durations import parse_duration


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


class SelfTestModel(_Model):
    """The self-test: at each time `cron` names, a drill-marked page (a Slack DM with an
    Acknowledge button) to whoever is on call for each schedule; no incident, no channel.
    After `answer_within` its result joins the drill figures (who acknowledged, who was
    never reached) and, with `report_channel`, its report is posted there."""

    cron: Cron
    timezone: TimezoneName = "UTC"
    answer_within: Duration = "30m"
    schedules: list[str] | None = Field(
        default=None, min_length=1, description="The schedules paged (default: every one)."
    )
    report_channel: ChannelId | None = None

    def to_self_test(self) -> SelfTest:
        return SelfTest(
            self.cron,
            self.timezone,
            parse_duration(self.answer_within).total_seconds(),
            tuple(self.schedules) if self.schedules else None,
            self.report_channel,
        )


class DrillsFile(_Model):
    """`drills.yaml`: drills fired on a schedule, and the self-test."""

    drills: list[DrillModel] = Field(default_factory=list)
    self_test: SelfTestModel | None = None
